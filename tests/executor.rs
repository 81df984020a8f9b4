//! Lazy executors beside four validators, all real processes: transactions sent to an
//! executor's JSON-RPC are ordered by the validators, executed by both executors, and served
//! back as receipts, balances, logs and calls; both executors agree on every root; an executor
//! killed with SIGKILL and restarted re-executes to the same roots.

mod common;

use alloy_primitives::{keccak256, Address, B256, U256};
use common::*;
use jsonrpsee::rpc_params;
use lazychain_test_utils::abi::{balance_of_call, erc20_transfer};
use lazychain_test_utils::net::quantity_u256;
use serde_json::Value;

const TOKEN_HEX: &str = include_str!("../exec-layer/contracts/build/LazyToken.bytecode.hex");
const GWEI: u128 = 1_000_000_000;
const ETH: u128 = 1_000_000_000_000_000_000;

fn u256(v: &Value) -> U256 {
    quantity_u256(v).unwrap_or_else(|| panic!("not a quantity: {v}"))
}

async fn executed_height(net: &TestNet, node: usize) -> u64 {
    net.call(node, "lazy_status", rpc_params![])
        .await
        .map(|s| s["executedHeight"].as_u64().unwrap_or(0))
        .unwrap_or(0)
}

async fn wait_executed(net: &TestNet, node: usize, height: u64) {
    net.wait_on(node, &format!("height {height} executed"), || async {
        (executed_height(net, node).await >= height).then_some(())
    })
    .await
}

/// Both executors report identical roots and traces at every height up to `to`.
async fn assert_same_roots(net: &TestNet, a: usize, b: usize, to: u64) {
    wait_executed(net, a, to).await;
    wait_executed(net, b, to).await;
    for h in 0..=to {
        let x = net
            .call(a, "lazy_getExecution", rpc_params![h])
            .await
            .expect("execution");
        let y = net
            .call(b, "lazy_getExecution", rpc_params![h])
            .await
            .expect("execution");
        assert!(!x.is_null(), "height {h} not executed on {a}");
        assert_eq!(x, y, "executors {a} and {b} differ at height {h}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn executors_execute_serve_wallet_calls_agree_and_recover_from_kill9() {
    let mut net = TestNet::start_full(4, 0, 2);
    let (e0, e1) = (4, 5);
    wait_executed(&net, e0, 2).await;
    wait_executed(&net, e1, 2).await;

    let alice_key = dev_account_key(0);
    let alice = address_of(&alice_key);
    let bob = Address::repeat_byte(0xb0);
    let chain_id = net
        .call(e0, "eth_chainId", rpc_params![])
        .await
        .expect("chain id");
    assert_eq!(chain_id, Value::from(format!("0x{CHAIN_ID:x}")));
    let start_balance = u256(
        &net.call(
            e0,
            "eth_getBalance",
            rpc_params![alice.to_string(), "latest"],
        )
        .await
        .expect("balance"),
    );
    assert!(
        start_balance > U256::ZERO,
        "dev account 0 is funded at genesis"
    );

    // A transfer: receipt, balances, the block with baseFeePerGas.
    let receipt = send_and_wait(
        &net,
        e0,
        sign_tx(&alice_key, 0, Some(bob), ETH, 21_000, 2 * GWEI, vec![]),
    )
    .await;
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    assert_eq!(receipt["type"], "0x2");
    assert!(receipt["effectiveGasPrice"].is_string());
    let height = u256(&receipt["blockNumber"]).to::<u64>();
    wait_executed(&net, e1, height).await;
    for node in [e0, e1] {
        let balance = net
            .call(
                node,
                "eth_getBalance",
                rpc_params![bob.to_string(), "latest"],
            )
            .await
            .expect("balance");
        assert_eq!(u256(&balance), U256::from(ETH), "bob on executor {node}");
    }
    let block = net
        .call(
            e0,
            "eth_getBlockByNumber",
            rpc_params![format!("0x{height:x}"), true],
        )
        .await
        .expect("block");
    assert!(block["baseFeePerGas"].is_string(), "{block}");
    assert!(block["logsBloom"].is_string());
    assert_eq!(
        block["transactions"][0]["from"]
            .as_str()
            .map(str::to_lowercase),
        Some(alice.to_string().to_lowercase())
    );

    // Deploy the ERC-20, call it, transfer with a log, find the log.
    let mut deploy = hex::decode(TOKEN_HEX.trim()).expect("fixture hex");
    deploy.extend_from_slice(&U256::from(1_000_000u64).to_be_bytes::<32>());
    let receipt = send_and_wait(
        &net,
        e0,
        sign_tx(&alice_key, 1, None, 0, 1_500_000, 2 * GWEI, deploy),
    )
    .await;
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    let token: Address = receipt["contractAddress"]
        .as_str()
        .expect("address")
        .parse()
        .expect("address");
    let code = net
        .call(e0, "eth_getCode", rpc_params![token.to_string(), "latest"])
        .await
        .expect("code");
    assert!(code.as_str().expect("hex").len() > 100);

    let receipt = send_and_wait(
        &net,
        e1,
        sign_tx(
            &alice_key,
            2,
            Some(token),
            0,
            100_000,
            2 * GWEI,
            erc20_transfer(bob, 1234),
        ),
    )
    .await;
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    let logs = receipt["logs"].as_array().expect("logs");
    assert_eq!(logs.len(), 1);
    assert_eq!(
        logs[0]["topics"][0],
        hex0x(keccak256("Transfer(address,address,uint256)").as_slice())
    );
    let found = net
        .call(e0, "eth_getLogs", rpc_params![serde_json::json!({"fromBlock": "0x0", "toBlock": "latest", "address": token.to_string()})])
        .await
        .expect("logs");
    // The deployment's mint and the transfer.
    assert_eq!(found.as_array().map(Vec::len), Some(2), "{found}");

    let balance_of = balance_of_call(bob);
    let out = net
        .call(
            e0,
            "eth_call",
            rpc_params![
                serde_json::json!({"to": token.to_string(), "data": hex0x(&balance_of)}),
                "latest"
            ],
        )
        .await
        .expect("call");
    assert_eq!(u256(&out), U256::from(1234));

    // A reverting call answers code 3 with the reason; sent anyway, it fails on chain.
    let too_much = erc20_transfer(bob, 10_000_000);
    let failure = net
        .call(e0, "eth_estimateGas", rpc_params![serde_json::json!({"from": alice.to_string(), "to": token.to_string(), "input": hex0x(&too_much)})])
        .await
        .expect_err("estimate of a revert fails");
    assert_eq!(failure.code, 3, "{failure:?}");
    assert!(
        failure.message.contains("insufficient balance"),
        "{failure:?}"
    );
    let receipt = send_and_wait(
        &net,
        e0,
        sign_tx(&alice_key, 3, Some(token), 0, 100_000, 2 * GWEI, too_much),
    )
    .await;
    assert_eq!(receipt["status"], "0x0", "{receipt}");

    // A nonce far ahead is ordered (validators are stateless) and skipped by executors.
    let receipt = send_and_wait(
        &net,
        e0,
        sign_tx(&alice_key, 50, Some(bob), 1, 21_000, 2 * GWEI, vec![]),
    )
    .await;
    assert_eq!(receipt["status"], "0x0");
    assert_eq!(receipt["lazyStatus"], "skipped", "{receipt}");
    let nonce = net
        .call(
            e0,
            "eth_getTransactionCount",
            rpc_params![alice.to_string(), "latest"],
        )
        .await
        .expect("nonce");
    assert_eq!(nonce, "0x4");

    let tip = u256(&receipt["blockNumber"]).to::<u64>();
    assert_same_roots(&net, e0, e1, tip).await;

    // SIGKILL executor 1 while transactions keep coming, restart it: same roots.
    net.kill9(e1);
    let mut last = String::new();
    for nonce in 4..14u64 {
        let raw = sign_tx(&alice_key, nonce, Some(bob), 1, 21_000, 2 * GWEI, vec![]);
        last = net
            .call(e0, "eth_sendRawTransaction", rpc_params![hex0x(&raw)])
            .await
            .expect("accepted")
            .as_str()
            .expect("hash")
            .to_string();
    }
    let receipt = wait_receipt(&net, e0, &last).await;
    let tip = u256(&receipt["blockNumber"]).to::<u64>();
    net.restart(e1);
    assert_same_roots(&net, e0, e1, tip).await;
    let nonce = net
        .call(
            e1,
            "eth_getTransactionCount",
            rpc_params![alice.to_string(), "latest"],
        )
        .await
        .expect("nonce");
    assert_eq!(nonce, "0xe");
}

#[tokio::test(flavor = "multi_thread")]
async fn executor_rpc_rejects_bad_input_and_stays_up() {
    let net = TestNet::start_full(1, 0, 1);
    let e = 1;
    wait_executed(&net, e, 1).await;
    let cases: Vec<(&str, jsonrpsee::core::params::ArrayParams)> = vec![
        ("eth_getBalance", rpc_params!["0x1234", "latest"]),
        ("eth_getBalance", rpc_params![42, "latest"]),
        (
            "eth_getBalance",
            rpc_params![Address::ZERO.to_string(), "0x1000000"],
        ),
        ("eth_call", rpc_params!["not an object"]),
        (
            "eth_getLogs",
            rpc_params![serde_json::json!({"topics": [1, 2, 3, 4, 5]})],
        ),
        ("eth_getBlockByHash", rpc_params!["0x00"]),
        (
            "eth_getStorageAt",
            rpc_params![Address::ZERO.to_string(), "zz"],
        ),
        ("eth_frobnicate", rpc_params![]),
    ];
    for (method, params) in cases {
        let failure = net.call(e, method, params).await.expect_err(method);
        assert!(
            [-32602, -32601, -32000].contains(&failure.code),
            "{method}: unexpected error {failure:?}"
        );
    }
    // Still serving.
    let height = net
        .call(e, "eth_blockNumber", rpc_params![])
        .await
        .expect("alive");
    assert!(height.as_str().is_some());
    let syncing = net
        .call(e, "eth_syncing", rpc_params![])
        .await
        .expect("syncing");
    assert!(syncing.is_boolean() || syncing.is_object());
    let fees = net
        .call(
            e,
            "eth_feeHistory",
            rpc_params!["0x4", "latest", [25.0, 75.0]],
        )
        .await
        .expect("fee history");
    assert!(
        fees["baseFeePerGas"]
            .as_array()
            .is_some_and(|a| !a.is_empty()),
        "{fees}"
    );
}

/// The dev genesis holds the deterministic CREATE2 deployer: a deployment through it lands at
/// the address CREATE2 predicts from the deployer, the salt and the init code (what
/// `forge script` relies on), and the deployer answers that address to an `eth_call` first.
#[tokio::test(flavor = "multi_thread")]
async fn the_create2_deployer_deploys_at_its_predicted_address() {
    let net = TestNet::start_full(1, 0, 1);
    let e = 1;
    wait_executed(&net, e, 1).await;
    let deployer = lazychain_config::CREATE2_DEPLOYER;
    let code = net
        .call(
            e,
            "eth_getCode",
            rpc_params![deployer.to_string(), "latest"],
        )
        .await
        .expect("code");
    assert_eq!(
        code.as_str(),
        Some(hex0x(&lazychain_config::CREATE2_DEPLOYER_CODE).as_str())
    );

    // Runtime `PUSH1 42 PUSH0 MSTORE PUSH1 32 PUSH0 RETURN`; the init code returns it:
    // `PUSH8 <runtime> PUSH0 MSTORE PUSH1 8 PUSH1 24 RETURN`.
    let runtime = hex::decode("602a5f5260205ff3").expect("hex");
    let init = hex::decode(format!("67{}5f5260086018f3", hex::encode(&runtime))).expect("hex");
    let salt = B256::repeat_byte(0x5a);
    let mut input = salt.to_vec();
    input.extend_from_slice(&init);
    let predicted = deployer.create2_from_code(salt, &init);

    let answered = net
        .call(
            e,
            "eth_call",
            rpc_params![
                serde_json::json!({"to": deployer.to_string(), "input": hex0x(&input)}),
                "latest"
            ],
        )
        .await
        .expect("call");
    assert_eq!(
        answered.as_str(),
        Some(hex0x(predicted.as_slice()).as_str())
    );

    let key = dev_account_key(0);
    let deploy = sign_tx(&key, 0, Some(deployer), 0, 200_000, 2 * GWEI, input);
    let receipt = send_and_wait(&net, e, deploy).await;
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    let deployed = net
        .call(
            e,
            "eth_getCode",
            rpc_params![predicted.to_string(), "latest"],
        )
        .await
        .expect("code");
    assert_eq!(deployed.as_str(), Some(hex0x(&runtime).as_str()));
    let answer = net
        .call(
            e,
            "eth_call",
            rpc_params![serde_json::json!({"to": predicted.to_string()}), "latest"],
        )
        .await
        .expect("call");
    assert_eq!(u256(&answer), U256::from(42));
}
