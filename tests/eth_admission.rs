//! An executor admits transactions sent to its `eth_sendRawTransaction` as geth's pool does,
//! against the state it holds: a stale nonce, a sender without the funds and a max fee below
//! the base fee are refused with geth's messages (-32000) and pool nothing; an identical
//! resend is `already known`; a nonce sent before the one it follows is held and lands after
//! it; `eth_sendRawTransactionSync` answers the receipt, or code 6 for a nonce gap.

mod common;

use std::time::Duration;

use alloy_primitives::Address;
use common::*;
use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::ClientError;
use jsonrpsee::rpc_params;
use lazychain_test_utils::net::{quantity, RpcFailure};
use serde_json::Value;

const GWEI: u128 = 1_000_000_000;

async fn send(net: &TestNet, node: usize, raw: &[u8]) -> Result<Value, RpcFailure> {
    net.call(node, "eth_sendRawTransaction", rpc_params![hex0x(raw)])
        .await
}

async fn sent_hash(net: &TestNet, node: usize, raw: &[u8]) -> String {
    send(net, node, raw)
        .await
        .unwrap_or_else(|e| panic!("transaction accepted: {e:?}"))
        .as_str()
        .expect("a hash")
        .to_string()
}

fn hash_of(raw: &[u8]) -> String {
    hex0x(alloy_primitives::keccak256(raw).as_slice())
}

async fn pending_nonce(net: &TestNet, node: usize, who: Address) -> u64 {
    let n = net
        .call(
            node,
            "eth_getTransactionCount",
            rpc_params![who.to_string(), "pending"],
        )
        .await
        .expect("nonce");
    quantity(&n).expect("a quantity")
}

async fn transaction(net: &TestNet, node: usize, hash: &str) -> Value {
    net.call(node, "eth_getTransactionByHash", rpc_params![hash])
        .await
        .expect("rpc answers")
}

fn refused(answer: Result<Value, RpcFailure>, what: &str) -> RpcFailure {
    let failure = answer.expect_err(what);
    assert_eq!(failure.code, -32000, "{what}: {failure:?}");
    failure
}

/// (height, index) of a receipt.
fn position(receipt: &Value) -> (u64, u64) {
    (
        quantity(&receipt["blockNumber"]).expect("block number"),
        quantity(&receipt["transactionIndex"]).expect("index"),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn executor_admits_against_state_and_holds_nonce_gaps() {
    let net = TestNet::start_full(1, 0, 1);
    let e = 1;
    net.wait_on(e, "height 1 executed", || async {
        let status = net.call(e, "lazy_status", rpc_params![]).await.ok()?;
        (status["executedHeight"].as_u64()? >= 1).then_some(())
    })
    .await;
    let alice_key = dev_account_key(0);
    let alice = address_of(&alice_key);
    let bob = Address::repeat_byte(0xb0);
    let to_bob = |nonce: u64, value: u128| {
        sign_tx(
            &alice_key,
            nonce,
            Some(bob),
            value,
            21_000,
            2 * GWEI,
            vec![],
        )
    };

    // Nonce 1 before nonce 0: held (answered with its hash, shown pending, not counted in the
    // pending nonce), then both land in nonce order.
    let second = to_bob(1, 2);
    let second_hash = sent_hash(&net, e, &second).await;
    assert_eq!(second_hash, hash_of(&second));
    assert_eq!(pending_nonce(&net, e, alice).await, 0);
    let held = transaction(&net, e, &second_hash).await;
    assert_eq!(held["nonce"], "0x1", "{held}");
    assert!(held["blockNumber"].is_null(), "{held}");
    let first = to_bob(0, 1);
    let first_hash = sent_hash(&net, e, &first).await;
    let first_receipt = wait_receipt(&net, e, &first_hash).await;
    let second_receipt = wait_receipt(&net, e, &second_hash).await;
    assert_eq!(first_receipt["status"], "0x1", "{first_receipt}");
    assert_eq!(second_receipt["status"], "0x1", "{second_receipt}");
    assert!(
        position(&first_receipt) < position(&second_receipt),
        "{first_receipt} {second_receipt}"
    );

    // A used nonce: geth's message, and nothing pooled.
    let stale = to_bob(0, 3);
    let failure = refused(send(&net, e, &stale).await, "a stale nonce is refused");
    assert_eq!(failure.message, "nonce too low: next nonce 2, tx nonce 0");
    assert!(transaction(&net, e, &hash_of(&stale)).await.is_null());

    // A sender without funds.
    let pauper_key = lazychain_test_utils::key(0x77);
    let broke = sign_tx(&pauper_key, 0, Some(bob), 1, 21_000, 2 * GWEI, vec![]);
    let failure = refused(send(&net, e, &broke).await, "a sender without funds");
    assert!(
        failure.message.starts_with(&format!(
            "insufficient funds for gas * price + value: balance 0, tx cost {}, overshot {}",
            21_000 * 2 * GWEI + 1,
            21_000 * 2 * GWEI + 1
        )),
        "{failure:?}"
    );
    assert!(transaction(&net, e, &hash_of(&broke)).await.is_null());

    // A max fee below the next base fee.
    let gas_price = net
        .call(e, "eth_gasPrice", rpc_params![])
        .await
        .expect("gas price");
    let base_fee = u128::from(quantity(&gas_price).expect("a quantity")) - GWEI;
    let cheap = sign_tx(&alice_key, 2, Some(bob), 1, 21_000, base_fee - 1, vec![]);
    let failure = refused(send(&net, e, &cheap).await, "an underpriced transaction");
    assert!(
        failure.message.contains("underpriced")
            || failure
                .message
                .starts_with("max fee per gas less than block base fee"),
        "{failure:?}"
    );
    assert!(transaction(&net, e, &hash_of(&cheap)).await.is_null());

    // An identical resend of a held transaction, and a replacement paying too little more.
    let fourth = to_bob(4, 4);
    let fourth_hash = sent_hash(&net, e, &fourth).await;
    let failure = refused(send(&net, e, &fourth).await, "an identical resend");
    assert_eq!(failure.message, "already known");
    let cheap_replacement = sign_tx(&alice_key, 4, Some(bob), 5, 21_000, 2 * GWEI + 1, vec![]);
    let failure = refused(
        send(&net, e, &cheap_replacement).await,
        "a replacement without the price bump",
    );
    assert!(
        failure
            .message
            .starts_with("replacement transaction underpriced"),
        "{failure:?}"
    );
    assert_eq!(pending_nonce(&net, e, alice).await, 2);

    // eth_sendRawTransactionSync answers the receipt.
    let sync_client =
        lazychain_test_utils::net::client(&net.manifest.nodes[e].rpc_url, Duration::from_secs(90));
    let third_sync = to_bob(2, 6);
    let receipt: Value = sync_client
        .request(
            "eth_sendRawTransactionSync",
            rpc_params![hex0x(&third_sync), 60_000],
        )
        .await
        .expect("a receipt");
    assert_eq!(
        receipt["transactionHash"],
        hash_of(&third_sync),
        "{receipt}"
    );
    assert_eq!(receipt["status"], "0x1", "{receipt}");

    // Nonce 3 closes the gap before the held nonce 4, which is then released.
    let third_hash = sent_hash(&net, e, &to_bob(3, 7)).await;
    let third_receipt = wait_receipt(&net, e, &third_hash).await;
    let fourth_receipt = wait_receipt(&net, e, &fourth_hash).await;
    assert_eq!(third_receipt["status"], "0x1", "{third_receipt}");
    assert_eq!(fourth_receipt["status"], "0x1", "{fourth_receipt}");
    assert!(position(&third_receipt) < position(&fourth_receipt));

    // The sync method does not hold a gap: code 6 with the expected nonce.
    let gapped = to_bob(9, 8);
    let answer = sync_client
        .request::<Value, _>("eth_sendRawTransactionSync", rpc_params![hex0x(&gapped)])
        .await;
    let Err(ClientError::Call(error)) = answer else {
        panic!("a nonce gap is refused: {answer:?}");
    };
    assert_eq!(error.code(), 6, "{error:?}");
    assert_eq!(error.data().map(|d| d.get()), Some("\"0x5\""), "{error:?}");
    assert!(transaction(&net, e, &hash_of(&gapped)).await.is_null());
}
