//! A hostile executor floods the validators' item pools with orphan claims (`--fault
//! flood-orphans`: claims for decided heights whose parents nobody knows, hundreds a second,
//! besides its own honest chain). The pools hold its orphans for a bounded number of blocks
//! and within its share of the room, so the honest executor's claims are still taken,
//! recorded within a few blocks, and state finality goes on; every eviction is counted.
//!
//! Nodes: validators 0-3, the honest executor 4, the flooder 5. A light transfer load runs
//! throughout (blocks without transactions take no claim).

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::*;
use jsonrpsee::rpc_params;

const HONEST: usize = 4;
const FLOODER: usize = 5;
const WINDOW_MS: u64 = 2_000;
const MIN_BLOCKS: u64 = 4;

/// Whether the claims recorded for `height` on validator 0 include one of `executor`.
async fn recorded_by(net: &TestNet, height: u64, executor: &str) -> bool {
    let Ok(claims) = net.call(0, "lazy_getClaims", rpc_params![height]).await else {
        return false;
    };
    claims["claims"]
        .as_array()
        .is_some_and(|list| list.iter().any(|c| c["executor"] == executor))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_orphan_flood_never_stops_the_honest_executors_claims_or_finality() {
    let net = TestNet::start_faulty(
        4,
        0,
        2,
        &[(FLOODER, "flood-orphans")],
        WINDOW_MS,
        MIN_BLOCKS,
    );
    let honest = executor_of(&net, HONEST);
    net.wait_all(&[0, 1, 2, 3], 2).await;
    let stop = Arc::new(AtomicBool::new(false));
    let load = net.spawn_transfer_load(&[0, 1, 2, 3], stop.clone());

    // The flood reaches the validators' pools.
    net.wait_on(FLOODER, "the flood reaching validator 0's pool", || async {
        let s = state(&net, 0).await;
        (s["pooledOrphanClaims"].as_u64().unwrap_or(0) >= 500).then_some(())
    })
    .await;

    // From here, under the flood, the honest executor's claims keep being recorded within a
    // few blocks of their height, and finality follows.
    let flood_height = net.height(0).await.expect("height");
    let target = flood_height + 40;
    net.wait_height(0, target + 4).await;
    let stalled =
        format!("finality reaching {target} under the flood (from height {flood_height})");
    net.wait_on(0, &stalled, || async {
        let s = state(&net, 0).await;
        (s["finalizedHeight"].as_u64().unwrap_or(0) >= target).then_some(())
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    let _ = load.await;
    let mut claimed = 0;
    for h in flood_height..=target {
        if net.has_txs(0, h).await != Some(true) {
            continue;
        }
        claimed += 1;
        // Finality may pass a height on the flooder's own (honest) claims first: the honest
        // executor's must be recorded too, if a little later.
        let what = format!("the honest executor's claim for height {h} recorded");
        net.wait_on(HONEST, &what, || async {
            recorded_by(&net, h, &honest).await.then_some(())
        })
        .await;
    }
    assert!(
        claimed > 0,
        "no height with transactions in {flood_height}..={target}"
    );

    // The pools stayed bounded, and the flood's evictions were counted.
    let s = state(&net, 0).await;
    let pooled = s["pooledClaims"].as_u64().unwrap_or(u64::MAX);
    assert!(pooled <= 4096, "pool bounded: {s}");
    let (status, metrics) = http_get(&metrics_host(&net, 0), "/metrics");
    assert_eq!(status, 200);
    let evicted: Vec<&str> = metrics
        .lines()
        .filter(|l| {
            l.starts_with("lazychain_item_pool_drops_total") && l.contains("kind=\"claim\"")
        })
        .collect();
    assert!(
        evicted
            .iter()
            .any(|l| l.contains("orphan_expired") || l.contains("share_exceeded")),
        "orphan evictions counted: {evicted:?}"
    );
    assert!(
        metrics.contains("lazychain_item_pool_items{"),
        "pool size gauges exported"
    );
}
