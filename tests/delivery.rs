//! Claims are delivered until recorded. Every validator discards, on purpose, the first copy
//! of every claim for one data height (`lazychain validator --fault drop-claims-at=H`: the
//! first height at or above H with transactions; the claim is truly lost the first time), and
//! the executors must send it again. A claim is
//! final here only once both executors agree (`min_corroboration` 2), so state finality
//! passing that height shows that both executors' lost claims were re-sent and recorded.
//!
//! Nodes: validators 0-3 (all with the fault), executors 4 and 5.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use jsonrpsee::rpc_params;
use serde_json::Value;

const VALIDATORS: [usize; 4] = [0, 1, 2, 3];
const EXECUTORS: [usize; 2] = [4, 5];
const WINDOW_MS: u64 = 2_000;
const MIN_BLOCKS: u64 = 4;

/// Four validators that all drop the first copy of every claim for `drop_at`, two executors,
/// and claims final only once both executors agree.
fn start(drop_at: u64) -> TestNet {
    let fault = format!("drop-claims-at={drop_at}");
    let faults: Vec<(usize, &str)> = VALIDATORS.iter().map(|&i| (i, fault.as_str())).collect();
    TestNet::start_corroborated(4, 0, 2, &faults, WINDOW_MS, MIN_BLOCKS, 2)
}

/// The claims recorded for `height` on validator 0.
async fn claims_at(net: &TestNet, height: u64) -> Vec<Value> {
    net.call(0, "lazy_getClaims", rpc_params![height])
        .await
        .ok()
        .and_then(|c| c["claims"].as_array().cloned())
        .unwrap_or_default()
}

/// The claim of `executor` recorded for `height` on validator 0, if any.
async fn claim_of(net: &TestNet, height: u64, executor: &str) -> Option<Value> {
    claims_at(net, height)
        .await
        .into_iter()
        .find(|c| c["executor"] == executor)
}

async fn finalized_height(net: &TestNet) -> u64 {
    net.call(0, "lazy_getStateConsensus", rpc_params![])
        .await
        .ok()
        .and_then(|s| s["finalizedHeight"].as_u64())
        .unwrap_or(0)
}

fn log_of(net: &TestNet, node: usize) -> String {
    std::fs::read_to_string(&net.manifest.nodes[node].log).unwrap_or_default()
}

/// The data height at which validator `node` discarded, on purpose, a claim of `executor`
/// (any if `None`), if it did.
fn discarded(net: &TestNet, node: usize, executor: Option<&str>) -> Option<u64> {
    log_of(net, node).lines().find_map(|l| {
        if !l.contains("FAULT INJECTION: claim discarded")
            || !executor.is_none_or(|e| l.contains(e.trim_start_matches("0x")))
        {
            return None;
        }
        let (_, rest) = l.split_once("height=")?;
        rest.split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    })
}

/// Whether decided block `height` has transactions on validator 0 (blocks without take no
/// claim).
async fn has_txs(net: &TestNet, height: u64) -> bool {
    net.has_txs(0, height).await == Some(true)
}

/// The highest height at or below `height` whose block has transactions (0 if none).
async fn last_with_txs(net: &TestNet, height: u64) -> u64 {
    let mut h = height;
    while h > 0 && !has_txs(net, h).await {
        h -= 1;
    }
    h
}

/// Waits (generously) until `done` holds, polling; panics with `what` and node logs after.
async fn wait_for<F, Fut>(net: &TestNet, what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = DEADLINE * 2;
    let reached =
        lazychain_test_utils::net::poll_until(deadline, Duration::from_millis(200), || {
            let done = done();
            async move { done.await.then_some(()) }
        })
        .await;
    assert!(
        reached.is_some(),
        "{what} within {deadline:?}\nvalidator 0 log tail:\n{}\nexecutor 4 log tail:\n{}\nexecutor 5 log tail:\n{}",
        net.log_tail(0),
        net.log_tail(4),
        net.log_tail(5)
    );
}

/// Waits until state finality reaches `height` on validator 0.
async fn wait_final(net: &TestNet, height: u64) {
    wait_for(net, &format!("finality did not reach {height}"), || async {
        finalized_height(net).await >= height
    })
    .await;
}

/// Waits until every executor in `executors` has a final claim at every height of `range`
/// that has transactions. (State finality at a height needs only one final claim there,
/// corroborated by the others' recorded claims; each of those is final only once its own
/// window has passed.)
async fn wait_final_claims(
    net: &TestNet,
    executors: &[String],
    range: std::ops::RangeInclusive<u64>,
) {
    // Heights already seen final stay final; resume from the first that was not.
    let next = std::cell::Cell::new(*range.start());
    let end = *range.end();
    wait_for(net, "not every claim in range became final", || {
        let next = &next;
        async move {
            while next.get() <= end {
                if !has_txs(net, next.get()).await {
                    next.set(next.get() + 1);
                    continue;
                }
                for e in executors {
                    let claim = claim_of(net, next.get(), e).await;
                    if !claim.as_ref().is_some_and(|c| c["status"] == "final") {
                        eprintln!("waiting for {e}'s claim at {}: {claim:?}", next.get());
                        return false;
                    }
                }
                next.set(next.get() + 1);
            }
            true
        }
    })
    .await;
}

/// Waits until every executor in `executors` has a claim recorded for `height`.
async fn wait_recorded_by_all(net: &TestNet, executors: &[String], height: u64, what: &str) {
    wait_for(net, what, || async {
        let claims = claims_at(net, height).await;
        executors
            .iter()
            .all(|e| claims.iter().any(|c| &c["executor"] == e))
    })
    .await;
}

/// Waits until finality reaches the current tip, then stops the load: returns that tip.
async fn stop_at_final_tip(
    net: &TestNet,
    stop: &AtomicBool,
    load: tokio::task::JoinHandle<()>,
) -> u64 {
    let tip = net.height(0).await.expect("height");
    wait_final(net, tip).await;
    stop.store(true, Ordering::Relaxed);
    let _ = load.await;
    tip
}

/// Asserts that executor node `node` counts at least one `name` on its `/metrics` page.
fn assert_counted(net: &TestNet, node: usize, name: &str) {
    let (status, metrics) = http_get(&metrics_host(net, node), "/metrics");
    assert_eq!(status, 200);
    assert!(
        counter(&metrics, name) >= 1.0,
        "executor node {node} counts no {name}:\n{}",
        metrics
            .lines()
            .filter(|l| l.contains("claims_"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Sum of a counter over the lines of a `/metrics` page that start with `name`.
fn counter(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(name))
        .filter_map(|l| l.split_whitespace().last()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_every_validator_lost_is_re_sent_recorded_and_finality_reaches_the_tip() {
    const DROP_FROM: u64 = 20;
    let net = start(DROP_FROM);
    let executors: Vec<String> = EXECUTORS.iter().map(|&i| executor_of(&net, i)).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let load = net.spawn_transfer_load(&VALIDATORS, stop.clone());

    // Every validator lost the first copy of each executor's claim for the first height at
    // or above DROP_FROM with transactions.
    wait_for(
        &net,
        "not every validator discarded both executors' claims",
        || async {
            VALIDATORS.iter().all(|&v| {
                executors
                    .iter()
                    .all(|e| discarded(&net, v, Some(e.as_str())).is_some())
            })
        },
    )
    .await;
    let drop_at = discarded(&net, 0, None).expect("a discarded claim");
    assert!(drop_at >= DROP_FROM);

    // Both claims are recorded after all (re-sent), and finality passes the dropped height,
    // which it can only do with both executors' claims (corroboration 2).
    wait_recorded_by_all(
        &net,
        &executors,
        drop_at,
        "not both claims for the dropped height were recorded",
    )
    .await;
    let tip = stop_at_final_tip(&net, &stop, load).await;
    wait_final_claims(&net, &executors, DROP_FROM - 2..=tip).await;

    // Each executor sent its claim for the dropped height again, and counts its re-posts.
    for &node in &EXECUTORS {
        let resent = log_of(&net, node)
            .lines()
            .any(|l| l.contains("re-posted") && l.contains(&format!("height={drop_at} ")));
        assert!(
            resent,
            "executor node {node} never logged re-posting its claim for {drop_at}:\n{}",
            net.log_tail(node)
        );
        assert_counted(&net, node, "lazychain_claims_reposted_total");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_executor_whose_last_claims_were_lost_resumes_claiming() {
    const DROP_FROM: u64 = 25;
    const RESTARTED: usize = 4;
    let mut net = start(DROP_FROM);
    let executors: Vec<String> = EXECUTORS.iter().map(|&i| executor_of(&net, i)).collect();
    let restarted = executor_of(&net, RESTARTED);
    let stop = Arc::new(AtomicBool::new(false));
    let load = net.spawn_transfer_load(&VALIDATORS, stop.clone());

    // The moment validator 0 discards the executor's claim for the dropped height (every
    // validator does), the executor dies: its claim was lost, and so is everything it held in
    // memory. A re-post cannot get through that quickly (gossip drops a repeat for seconds).
    wait_for(
        &net,
        "validator 0 never discarded the executor's claim",
        || async { discarded(&net, 0, Some(restarted.as_str())).is_some() },
    )
    .await;
    net.kill9(RESTARTED);
    let drop_at = discarded(&net, 0, None).expect("a discarded claim");
    let lost = claim_of(&net, drop_at, &restarted).await.is_none();
    eprintln!(
        "executor killed; its claim for {drop_at} recorded at the kill: {}",
        !lost
    );

    // While it is down the chain goes on; finality (which needs both executors) cannot pass
    // the dropped height.
    let down_at = net.height(0).await.expect("height");
    net.wait_height(0, down_at + 10).await;
    assert!(
        finalized_height(&net).await < drop_at || !lost,
        "finality passed the lost claim's height without it"
    );

    net.restart(RESTARTED);
    let restarted_at = net.height(0).await.expect("height");
    // It claims again: its claims for the dropped height and for heights after its restart
    // are recorded, final, and finality reaches the tip.
    wait_for(
        &net,
        "the restarted executor's claims were not recorded",
        || async {
            if claim_of(&net, drop_at, &restarted).await.is_none() {
                return false;
            }
            let tip = net.height(0).await.unwrap_or(0);
            for h in restarted_at + 5..=tip {
                if claim_of(&net, h, &restarted).await.is_some() {
                    return true;
                }
            }
            false
        },
    )
    .await;
    let tip = stop_at_final_tip(&net, &stop, load).await;
    wait_final_claims(&net, &executors, DROP_FROM - 2..=tip).await;
    let canonical_own = {
        let mut n = 0;
        for h in drop_at..=tip {
            if claim_of(&net, h, &restarted)
                .await
                .is_some_and(|c| c["canonical"] == true)
            {
                n += 1;
            }
        }
        n
    };
    eprintln!(
        "the restarted executor's claims are canonical at {canonical_own} of {} heights",
        tip - drop_at + 1
    );
    // The executor itself sees its claims recorded up to there (the last height with
    // transactions: the blocks after it take no claim).
    let last_claimed = last_with_txs(&net, tip).await;
    wait_for(
        &net,
        "the restarted executor does not see its own claims recorded",
        || async {
            net.call(RESTARTED, "lazy_status", rpc_params![])
                .await
                .ok()
                .and_then(|s| s["claims"]["latestHeight"].as_u64())
                .unwrap_or(0)
                >= last_claimed
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_gossip_keeps_losing_is_submitted_to_validators_directly() {
    const DROP_FROM: u64 = 20;
    // Every validator discards every gossiped copy of the claims for one height: only the
    // executors' direct submissions (`executor.submit_urls`, which `localnet` fills with the
    // validators' RPC endpoints) can get them in.
    let fault = format!("drop-gossip-claims-at={DROP_FROM}");
    let faults: Vec<(usize, &str)> = VALIDATORS.iter().map(|&i| (i, fault.as_str())).collect();
    let net = TestNet::start_corroborated(4, 0, 2, &faults, WINDOW_MS, MIN_BLOCKS, 2);
    let executors: Vec<String> = EXECUTORS.iter().map(|&i| executor_of(&net, i)).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let load = net.spawn_transfer_load(&VALIDATORS, stop.clone());

    wait_for(&net, "no validator discarded a gossiped claim", || async {
        discarded(&net, 0, None).is_some()
    })
    .await;
    let drop_at = discarded(&net, 0, None).expect("a discarded claim");
    // Both claims are recorded, and finality (corroboration 2) passes the height.
    wait_recorded_by_all(
        &net,
        &executors,
        drop_at,
        "not both claims for the height gossip loses were recorded",
    )
    .await;
    stop_at_final_tip(&net, &stop, load).await;
    for &node in &EXECUTORS {
        assert_counted(&net, node, "lazychain_claims_submitted_direct_total");
    }
}
