//! An idle network is quiet: with no transactions, four validators and an executor make one
//! block per `consensus.empty_block_interval_ms`, not one per consensus round trip, and carry
//! no state claims (blocks without transactions take none), while state finality follows the
//! tip; a transaction sent meanwhile is still decided at once, without waiting for the
//! interval, its block is claimed, and the claim becomes final on an idle chain.

mod common;

use common::*;
use jsonrpsee::rpc_params;
use std::time::{Duration, Instant};

const INTERVAL_MS: u64 = 3_000;
const WINDOW_MS: u64 = 6_000;

async fn state(net: &TestNet) -> serde_json::Value {
    net.call(0, "lazy_getStateConsensus", rpc_params![])
        .await
        .expect("state consensus")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_chain_makes_one_block_per_interval_and_a_transaction_one_at_once() {
    let net = TestNet::start_spec(&NetSpec {
        validators: 4,
        executors: 1,
        empty_block_interval_ms: INTERVAL_MS,
        // A short window (2 blocks, 6 s), so that a claim finalizes within the test: below
        // the execution budget's floor, so without a budget.
        window_ms: WINDOW_MS,
        min_blocks: 2,
        gas_per_second: Some(0),
        ..NetSpec::default()
    });
    let all = [0, 1, 2, 3];
    net.wait_all(&all, 2).await;

    // Idle: no blocks beyond one per interval, and no claims.
    let from = net.height(0).await.expect("height");
    let watched = Duration::from_millis(INTERVAL_MS * 6);
    tokio::time::sleep(watched).await;
    let to = net.height(0).await.expect("height");
    let made = to - from;
    assert!(
        (3..=7).contains(&made),
        "idle for {watched:?} with a {INTERVAL_MS} ms interval: {made} blocks ({from}..{to})"
    );
    // Consecutive idle blocks are at least the interval apart, by their timestamps.
    let timestamp = |h: u64| {
        let net = &net;
        async move {
            net.call(0, "lazy_getDataBlock", rpc_params![h])
                .await
                .expect("block")["timestampMs"]
                .as_u64()
                .expect("timestampMs")
        }
    };
    for h in from + 1..to {
        let gap = timestamp(h + 1).await - timestamp(h).await;
        assert!(
            gap >= INTERVAL_MS,
            "idle blocks {h} and {} are {gap} ms apart",
            h + 1
        );
    }
    // Nothing to claim, nothing recorded, and every decided block is final (at the genesis
    // state).
    let s = state(&net).await;
    assert_eq!(s["recordedClaims"], 0, "{s}");
    assert!(
        s["finalizedHeight"].as_u64().unwrap_or(0) >= to,
        "finality follows an idle tip: {s}"
    );

    // A transaction does not wait for the interval: sent just after a block, when the idle
    // wait for the next one has just begun.
    let before = net.height(0).await.expect("height");
    while net.height(0).await.expect("height") == before {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let raw = transfer(&dev_key(1), CHAIN_ID, 0, 2_000_000_000);
    let sent = Instant::now();
    let hash = net
        .call(2, "eth_sendRawTransaction", rpc_params![hex0x(&raw)])
        .await
        .expect("transaction accepted");
    let decided_in = loop {
        let location = net
            .call(0, "lazy_getTransactionLocation", rpc_params![hash.clone()])
            .await
            .expect("rpc answers");
        if !location.is_null() {
            break sent.elapsed();
        }
        assert!(sent.elapsed() < DEADLINE, "transaction never decided");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    eprintln!("idle: {made} blocks in {watched:?}; a transaction decided {decided_in:?} after it was sent");
    assert!(
        decided_in < Duration::from_millis(INTERVAL_MS - 500),
        "a transaction on an idle chain took {decided_in:?}, as long as the empty-block interval"
    );

    // Its block is claimed, and the claim becomes final on the idle chain (the window passes
    // by idle blocks' timestamps); from then on finality follows the tip again, and the idle
    // blocks carry no claims: the one claim stays the only one.
    let location = net
        .call(0, "lazy_getTransactionLocation", rpc_params![hash])
        .await
        .expect("location");
    let tx_height = location["height"].as_u64().expect("height");
    let start = Instant::now();
    loop {
        let claims = net
            .call(0, "lazy_getClaims", rpc_params![tx_height])
            .await
            .expect("claims");
        let list = claims["claims"].as_array().cloned().unwrap_or_default();
        if list.iter().any(|c| c["status"] == "final") {
            assert_eq!(list.len(), 1, "{claims}");
            break;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "the transaction's block {tx_height} has no final claim: {claims}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let tip = net.height(0).await.expect("height");
    net.wait_height(0, tip + 2).await;
    let s = state(&net).await;
    assert_eq!(s["recordedClaims"], 1, "{s}");
    assert!(
        s["finalizedHeight"].as_u64().unwrap_or(0) > tip,
        "finality follows the idle tip past the claim: {s}"
    );
}
