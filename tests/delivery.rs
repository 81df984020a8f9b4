//! Claims are delivered until recorded. Every validator discards, on purpose, the first copy
//! of every claim for one data height (`lazychain validator --fault drop-claims-at=H`: the
//! claim is truly lost the first time), and the executors must send it again. A claim is
//! final here only once both executors agree (`min_corroboration` 2), so state finality
//! passing that height shows that both executors' lost claims were re-sent and recorded.
//!
//! Nodes: validators 0-3 (all with the fault), executors 4 and 5.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use jsonrpsee::rpc_params;
use serde_json::Value;

const VALIDATORS: [usize; 4] = [0, 1, 2, 3];
const EXECUTORS: [usize; 2] = [4, 5];
const WINDOW_MS: u64 = 2_000;
const MIN_BLOCKS: u64 = 4;
const GWEI: u128 = 1_000_000_000;

/// Four validators that all drop the first copy of every claim for `drop_at`, two executors,
/// and claims final only once both executors agree.
fn start(drop_at: u64) -> TestNet {
    let fault = format!("drop-claims-at={drop_at}");
    let faults: Vec<(usize, &str)> = VALIDATORS.iter().map(|&i| (i, fault.as_str())).collect();
    TestNet::start_corroborated(4, 0, 2, &faults, WINDOW_MS, MIN_BLOCKS, 2)
}

fn executor_of(net: &TestNet, node: usize) -> String {
    let key = lazychain_config::ValidatorKey::load(&lazychain_config::init::key_path(
        &net.manifest.nodes[node].home,
    ))
    .expect("node key");
    hex0x(&lazychain_config::executor_address(&key.public_key()))
}

/// A little transfer load (a few a second from dev accounts 1-3, round robin over the
/// validators) until `stop`.
fn spawn_load(net: &TestNet, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<()> {
    let urls: Vec<String> = VALIDATORS
        .iter()
        .map(|&i| net.manifest.nodes[i].rpc_url.clone())
        .collect();
    tokio::spawn(async move {
        let clients: Vec<_> = urls
            .iter()
            .filter_map(|u| {
                jsonrpsee::http_client::HttpClientBuilder::default()
                    .request_timeout(Duration::from_secs(10))
                    .build(u)
                    .ok()
            })
            .collect();
        let keys: Vec<_> = (1..=3).map(dev_account_key).collect();
        let mut nonces = [0u64; 3];
        let mut i = 0usize;
        while !stop.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let k = i % keys.len();
            let raw = transfer(&keys[k], CHAIN_ID, nonces[k], 100 * GWEI);
            let sent: Result<Value, _> = jsonrpsee::core::client::ClientT::request(
                &clients[i % clients.len()],
                "eth_sendRawTransaction",
                rpc_params![hex0x(&raw)],
            )
            .await;
            if sent.is_ok() {
                nonces[k] += 1;
            }
            i += 1;
        }
    })
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

/// Whether validator `node` discarded, on purpose, a claim of `executor` (any if `None`).
fn discarded(net: &TestNet, node: usize, executor: Option<&str>) -> bool {
    log_of(net, node).lines().any(|l| {
        l.contains("FAULT INJECTION: claim discarded")
            && executor.is_none_or(|e| l.contains(e.trim_start_matches("0x")))
    })
}

/// Waits (generously) until `done` holds, polling; panics with `what` and node logs after.
async fn wait_for<F, Fut>(net: &TestNet, what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = DEADLINE * 2;
    let start = Instant::now();
    while !done().await {
        assert!(
            start.elapsed() < deadline,
            "{what} within {deadline:?}\nvalidator 0 log tail:\n{}\nexecutor 4 log tail:\n{}\nexecutor 5 log tail:\n{}",
            net.log_tail(0),
            net.log_tail(4),
            net.log_tail(5)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until state finality reaches `height` on validator 0.
async fn wait_final(net: &TestNet, height: u64) {
    wait_for(net, &format!("finality did not reach {height}"), || async {
        finalized_height(net).await >= height
    })
    .await;
}

/// Waits until every executor in `executors` has a final claim at every height of `range`.
/// (State finality at a height needs only one final claim there, corroborated by the others'
/// recorded claims; each of those is final only once its own window has passed.)
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
    const DROP_AT: u64 = 20;
    let net = start(DROP_AT);
    let executors: Vec<String> = EXECUTORS.iter().map(|&i| executor_of(&net, i)).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let load = spawn_load(&net, stop.clone());

    // Every validator lost the first copy of each executor's claim for DROP_AT.
    wait_for(
        &net,
        "not every validator discarded both executors' claims",
        || async {
            VALIDATORS.iter().all(|&v| {
                executors
                    .iter()
                    .all(|e| discarded(&net, v, Some(e.as_str())))
            })
        },
    )
    .await;

    // Both claims are recorded after all (re-sent), and finality passes DROP_AT, which it can
    // only do with both executors' claims (corroboration 2).
    wait_for(
        &net,
        "not both claims for the dropped height were recorded",
        || async {
            let claims = claims_at(&net, DROP_AT).await;
            executors
                .iter()
                .all(|e| claims.iter().any(|c| &c["executor"] == e))
        },
    )
    .await;
    let tip = net.height(0).await.expect("height");
    wait_final(&net, tip).await;
    stop.store(true, Ordering::Relaxed);
    let _ = load.await;
    wait_final_claims(&net, &executors, DROP_AT - 2..=tip).await;

    // Each executor sent its claim for DROP_AT again, and counts its re-posts.
    for &node in &EXECUTORS {
        let resent = log_of(&net, node)
            .lines()
            .any(|l| l.contains("re-posted") && l.contains(&format!("height={DROP_AT} ")));
        assert!(
            resent,
            "executor node {node} never logged re-posting its claim for {DROP_AT}:\n{}",
            net.log_tail(node)
        );
        let (status, metrics) = http_get(&metrics_host(&net, node), "/metrics");
        assert_eq!(status, 200);
        assert!(
            counter(&metrics, "lazychain_claims_reposted_total") >= 1.0,
            "executor node {node} counts its re-posts:\n{}",
            metrics
                .lines()
                .filter(|l| l.contains("claims_"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_executor_whose_last_claims_were_lost_resumes_claiming() {
    const DROP_AT: u64 = 25;
    const RESTARTED: usize = 4;
    let mut net = start(DROP_AT);
    let executors: Vec<String> = EXECUTORS.iter().map(|&i| executor_of(&net, i)).collect();
    let restarted = executor_of(&net, RESTARTED);
    let stop = Arc::new(AtomicBool::new(false));
    let load = spawn_load(&net, stop.clone());

    // The moment validator 0 discards the executor's claim for DROP_AT (every validator does),
    // the executor dies: its claim was lost, and so is everything it held in memory. A
    // re-post cannot get through that quickly (gossip drops a repeat for seconds).
    wait_for(
        &net,
        "validator 0 never discarded the executor's claim",
        || async { discarded(&net, 0, Some(restarted.as_str())) },
    )
    .await;
    net.kill9(RESTARTED);
    let lost = claim_of(&net, DROP_AT, &restarted).await.is_none();
    eprintln!(
        "executor killed; its claim for {DROP_AT} recorded at the kill: {}",
        !lost
    );

    // While it is down the chain goes on; finality (which needs both executors) cannot pass
    // DROP_AT.
    let down_at = net.height(0).await.expect("height");
    net.wait_height(0, down_at + 10).await;
    assert!(
        finalized_height(&net).await < DROP_AT || !lost,
        "finality passed the lost claim's height without it"
    );

    net.restart(RESTARTED);
    let restarted_at = net.height(0).await.expect("height");
    // It claims again: its claims for DROP_AT and for heights after its restart are recorded,
    // final, and finality reaches the tip.
    wait_for(
        &net,
        "the restarted executor's claims were not recorded",
        || async {
            claim_of(&net, DROP_AT, &restarted).await.is_some()
                && claim_of(&net, restarted_at + 5, &restarted).await.is_some()
        },
    )
    .await;
    let tip = net.height(0).await.expect("height");
    wait_final(&net, tip).await;
    stop.store(true, Ordering::Relaxed);
    let _ = load.await;
    wait_final_claims(&net, &executors, DROP_AT - 2..=tip).await;
    let canonical_own = {
        let mut n = 0;
        for h in DROP_AT..=tip {
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
        tip - DROP_AT + 1
    );
    // The executor itself sees its claims recorded up to there.
    wait_for(
        &net,
        "the restarted executor does not see its own claims recorded",
        || async {
            net.call(RESTARTED, "lazy_status", rpc_params![])
                .await
                .ok()
                .and_then(|s| s["claims"]["latestHeight"].as_u64())
                .unwrap_or(0)
                >= tip
        },
    )
    .await;
}
