//! An idle network is quiet: with no transactions, four validators (and an executor posting a
//! claim per height) make one block per `consensus.empty_block_interval_ms`, not one per
//! consensus round trip; a transaction sent meanwhile is still decided at once, without
//! waiting for the interval.

mod common;

use common::*;
use jsonrpsee::rpc_params;
use std::time::{Duration, Instant};

const INTERVAL_MS: u64 = 3_000;

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_chain_makes_one_block_per_interval_and_a_transaction_one_at_once() {
    let net = TestNet::start_spec(&NetSpec {
        validators: 4,
        executors: 1,
        empty_block_interval_ms: INTERVAL_MS,
        ..NetSpec::default()
    });
    let all = [0, 1, 2, 3];
    net.wait_all(&all, 2).await;

    // Idle: claims keep arriving (one per height), but they do not make blocks.
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
}
