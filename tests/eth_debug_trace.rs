//! geth's tracers on a real executor: `debug_traceTransaction` and `debug_traceCall` with the
//! struct logger, `callTracer` and `prestateTracer`, after one validator and one executor ran a
//! token deployment, a token transfer, a reverting transfer and a block of several
//! transactions of one sender. Each trace agrees with the receipt the block recorded.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use alloy_primitives::{keccak256, Address, U256};
use common::*;
use jsonrpsee::rpc_params;
use lazychain_test_utils::abi::{balance_of_call, erc20_transfer};
use lazychain_test_utils::net::{quantity, quantity_u256};
use serde_json::{json, Value};

const TOKEN_HEX: &str = include_str!("../exec-layer/contracts/build/LazyToken.bytecode.hex");
const GWEI: u128 = 1_000_000_000;
const ETH: u128 = 1_000_000_000_000_000_000;

/// An address as geth's tracers write it: lowercase hex.
fn lower(a: Address) -> String {
    hex0x(a.as_slice())
}

async fn status(net: &TestNet, node: usize) -> Value {
    net.call(node, "lazy_status", rpc_params![])
        .await
        .unwrap_or(Value::Null)
}

async fn send(net: &TestNet, node: usize, raw: &[u8]) -> String {
    let hash = net
        .call(node, "eth_sendRawTransaction", rpc_params![hex0x(raw)])
        .await
        .expect("transaction accepted");
    hash.as_str().expect("hash").to_string()
}

async fn receipt(net: &TestNet, node: usize, hash: &str) -> Value {
    net.wait_answer(
        node,
        &format!("receipt of {hash}"),
        "eth_getTransactionReceipt",
        || rpc_params![hash],
        |r| !r.is_null(),
    )
    .await
}

async fn trace(net: &TestNet, node: usize, hash: &str, options: Value) -> Value {
    net.call(node, "debug_traceTransaction", rpc_params![hash, options])
        .await
        .unwrap_or_else(|e| panic!("trace of {hash}: {e:?}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn tracers_answer_as_geth_and_agree_with_receipts() {
    let net = TestNet::start_spec(&NetSpec {
        validators: 1,
        executors: 1,
        // No execution budget: the base fee stays at its floor, whatever the timing.
        gas_per_second: Some(0),
        ..NetSpec::default()
    });
    let executor = 1;
    let start = Instant::now();
    loop {
        let s = status(&net, executor).await;
        if s["executedHeight"].as_u64() >= Some(2) && s["gossipPeers"].as_u64() >= Some(1) {
            break;
        }
        assert!(start.elapsed() < DEADLINE, "executor not ready: {s}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let alice_key = dev_account_key(0);
    let alice = address_of(&alice_key);
    let bob = Address::repeat_byte(0xb0);
    let mut deploy = hex::decode(TOKEN_HEX.trim()).expect("fixture hex");
    deploy.extend_from_slice(&U256::from(1_000_000u64).to_be_bytes::<32>());
    let deploy = sign_tx(&alice_key, 0, None, 0, 1_500_000, 2 * GWEI, deploy);
    let deployed = receipt(&net, executor, &send(&net, executor, &deploy).await).await;
    let token: Address = deployed["contractAddress"]
        .as_str()
        .expect("contract address")
        .parse()
        .expect("address");

    let transfer_input = erc20_transfer(bob, 1234);
    let transfer = sign_tx(
        &alice_key,
        1,
        Some(token),
        0,
        100_000,
        2 * GWEI,
        transfer_input.clone(),
    );
    let transfer_hash = send(&net, executor, &transfer).await;
    let transferred = receipt(&net, executor, &transfer_hash).await;
    assert_eq!(transferred["status"], "0x1");
    let transfer_gas = quantity(&transferred["gasUsed"]).expect("gas used");

    // callTracer with logs: the top CALL frame of the transfer, its gas and its Transfer log.
    let call = trace(
        &net,
        executor,
        &transfer_hash,
        json!({ "tracer": "callTracer", "tracerConfig": { "withLog": true } }),
    )
    .await;
    assert_eq!(call["type"], "CALL", "{call}");
    assert_eq!(call["from"], lower(alice));
    assert_eq!(call["to"], lower(token));
    assert_eq!(call["input"], hex0x(&transfer_input));
    assert_eq!(call["output"], hex0x(&U256::from(1).to_be_bytes::<32>()));
    assert_eq!(quantity(&call["gasUsed"]), Some(transfer_gas));
    assert!(call.get("error").is_none(), "{call}");
    let log = &call["logs"][0];
    assert_eq!(log["address"], lower(token));
    let transfer_topic = keccak256("Transfer(address,address,uint256)");
    assert_eq!(log["topics"][0], hex0x(transfer_topic.as_slice()));
    assert_eq!(call["logs"].as_array().map(Vec::len), Some(1));
    // onlyTopCall and no withLog: the frame alone.
    let top = trace(
        &net,
        executor,
        &transfer_hash,
        json!({ "tracer": "callTracer", "tracerConfig": { "onlyTopCall": true } }),
    )
    .await;
    assert!(
        top.get("logs").is_none() && top.get("calls").is_none(),
        "{top}"
    );
    assert_eq!(top["gasUsed"], call["gasUsed"]);

    // The struct logger: every opcode, the receipt's gas, a successful end.
    let logged = trace(&net, executor, &transfer_hash, json!({})).await;
    assert_eq!(
        logged["gas"].as_u64(),
        Some(transfer_gas),
        "{}",
        logged["gas"]
    );
    assert_eq!(logged["failed"], false);
    let steps = logged["structLogs"].as_array().expect("struct logs");
    assert!(steps.len() > 50, "{} steps", steps.len());
    assert_eq!(steps[0]["pc"], 0);
    assert_eq!(steps[0]["depth"], 1);
    assert_eq!(steps.last().map(|s| s["op"].clone()), Some(json!("RETURN")));
    assert!(steps.iter().any(|s| s["op"] == "SSTORE"));
    // geth's limit answers the first entries only.
    let limited = trace(&net, executor, &transfer_hash, json!({ "limit": 5 })).await;
    assert_eq!(limited["structLogs"].as_array().map(Vec::len), Some(5));

    // prestateTracer: the sender, the token with its code and the slots it touched.
    let pre = trace(
        &net,
        executor,
        &transfer_hash,
        json!({ "tracer": "prestateTracer" }),
    )
    .await;
    let sender = &pre[lower(alice)];
    assert!(
        quantity_u256(&sender["balance"]).is_some_and(|b| b > U256::ZERO),
        "{pre}"
    );
    assert_eq!(sender["nonce"], 1);
    let token_pre = &pre[lower(token)];
    assert!(
        token_pre["code"].as_str().is_some_and(|c| c.len() > 100),
        "{pre}"
    );
    // alice's and bob's balance slots.
    assert_eq!(
        token_pre["storage"].as_object().map(|s| s.len()),
        Some(2),
        "{pre}"
    );

    // diffMode: alice paid gas and her nonce moved; the token's slots changed.
    let diff = trace(
        &net,
        executor,
        &transfer_hash,
        json!({ "tracer": "prestateTracer", "tracerConfig": { "diffMode": true } }),
    )
    .await;
    let balance = |side: &str| quantity_u256(&diff[side][lower(alice)]["balance"]);
    let (before, after) = (balance("pre"), balance("post"));
    assert!(
        before.zip(after).is_some_and(|(b, a)| b > a),
        "balances: {diff}"
    );
    assert_eq!(diff["post"][lower(alice)]["nonce"], 2, "{diff}");
    let slots = |side: &str| {
        diff[side][lower(token)]["storage"]
            .as_object()
            .map(|s| s.len())
    };
    assert_eq!(slots("post"), Some(2), "{diff}");

    // A reverting transfer: the frame carries geth's error and the decoded reason.
    let reverting = sign_tx(
        &alice_key,
        2,
        Some(token),
        0,
        100_000,
        2 * GWEI,
        erc20_transfer(bob, 10_000_000),
    );
    let revert_hash = send(&net, executor, &reverting).await;
    let reverted = receipt(&net, executor, &revert_hash).await;
    assert_eq!(reverted["status"], "0x0");
    let frame = trace(
        &net,
        executor,
        &revert_hash,
        json!({ "tracer": "callTracer" }),
    )
    .await;
    assert_eq!(frame["error"], "execution reverted", "{frame}");
    assert_eq!(frame["revertReason"], "insufficient balance", "{frame}");
    assert_eq!(frame["gasUsed"], reverted["gasUsed"]);
    let logged = trace(&net, executor, &revert_hash, json!({})).await;
    assert_eq!(logged["failed"], true);
    assert_eq!(logged["gas"].as_u64(), quantity(&reverted["gasUsed"]));

    // Several transactions of one sender in one block: the later ones run on the state the
    // earlier ones left (their nonces would be too high otherwise).
    let mut nonce = 3;
    let (later_hash, later_receipt) = 'found: {
        for _ in 0..5 {
            let mut hashes = Vec::new();
            for _ in 0..4 {
                let raw = sign_tx(
                    &alice_key,
                    nonce,
                    Some(token),
                    0,
                    100_000,
                    2 * GWEI,
                    erc20_transfer(bob, 1),
                );
                hashes.push(send(&net, executor, &raw).await);
                nonce += 1;
            }
            let mut by_block: BTreeMap<u64, Vec<(String, Value)>> = BTreeMap::new();
            for hash in hashes {
                let r = receipt(&net, executor, &hash).await;
                let height = quantity(&r["blockNumber"]).expect("block number");
                by_block.entry(height).or_default().push((hash, r));
            }
            if let Some(mut txs) = by_block.into_values().find(|txs| txs.len() >= 2) {
                break 'found txs.swap_remove(1);
            }
        }
        panic!("no block held two of the sender's transactions");
    };
    assert_eq!(later_receipt["status"], "0x1");
    assert!(quantity(&later_receipt["transactionIndex"]) >= Some(1));
    let frame = trace(
        &net,
        executor,
        &later_hash,
        json!({ "tracer": "callTracer" }),
    )
    .await;
    assert_eq!(frame["gasUsed"], later_receipt["gasUsed"], "{frame}");
    assert!(frame.get("error").is_none(), "{frame}");
    let logged = trace(&net, executor, &later_hash, json!({})).await;
    assert_eq!(logged["gas"].as_u64(), quantity(&later_receipt["gasUsed"]));

    // debug_traceCall of a view: balanceOf(bob) at the latest block.
    let view =
        json!({ "from": lower(alice), "to": lower(token), "data": hex0x(&balance_of_call(bob)) });
    let frame = net
        .call(
            executor,
            "debug_traceCall",
            rpc_params![view.clone(), "latest", json!({ "tracer": "callTracer" })],
        )
        .await
        .expect("traceCall answers");
    let bob_tokens = 1234 + (nonce - 3);
    assert_eq!(frame["type"], "CALL");
    assert_eq!(
        frame["output"],
        hex0x(&U256::from(bob_tokens).to_be_bytes::<32>()),
        "{frame}"
    );
    let logged = net
        .call(executor, "debug_traceCall", rpc_params![view.clone()])
        .await
        .expect("traceCall answers");
    assert_eq!(logged["failed"], false);
    assert!(logged["structLogs"]
        .as_array()
        .is_some_and(|s| s.iter().any(|s| s["op"] == "SLOAD")));
    // With a state override, as eth_call takes it.
    let rich = Address::repeat_byte(0xcc);
    let pay = json!({ "from": lower(rich), "to": lower(bob), "value": "0x1" });
    let pre = net
        .call(
            executor,
            "debug_traceCall",
            rpc_params![
                pay,
                "latest",
                json!({
                    "tracer": "prestateTracer",
                    "stateOverrides": { lower(rich): { "balance": format!("0x{:x}", ETH) } }
                })
            ],
        )
        .await
        .expect("traceCall answers");
    assert_eq!(
        quantity_u256(&pre[lower(rich)]["balance"]),
        Some(U256::from(ETH)),
        "{pre}"
    );

    // What is not served: an unknown hash, a JavaScript tracer, an unknown tracer.
    let unknown = format!("0x{}", "ab".repeat(32));
    let refused = net
        .call(executor, "debug_traceTransaction", rpc_params![unknown])
        .await
        .expect_err("no such transaction");
    assert_eq!(
        (refused.code, refused.message.as_str()),
        (-32000, "transaction not found")
    );
    let js = net
        .call(
            executor,
            "debug_traceTransaction",
            rpc_params![
                transfer_hash.clone(),
                json!({ "tracer": "{ data: [], step: function(log) {}, result: function() { return this.data; } }" })
            ],
        )
        .await
        .expect_err("no JavaScript tracers");
    assert_eq!(js.code, -32000);
    assert!(js.message.contains("JavaScript"), "{}", js.message);
    let nope = net
        .call(
            executor,
            "debug_traceTransaction",
            rpc_params![transfer_hash.clone(), json!({ "tracer": "nopeTracer" })],
        )
        .await
        .expect_err("unknown tracer");
    assert_eq!(
        (nope.code, nope.message.as_str()),
        (-32000, "tracer not found")
    );
    let bad = net
        .call(
            executor,
            "debug_traceTransaction",
            rpc_params![transfer_hash.clone(), json!({ "timeout": "soon" })],
        )
        .await
        .expect_err("bad timeout");
    assert_eq!(bad.code, -32602, "{}", bad.message);
}
