//! A racing liar against the execution budget and the challenge window in time (ADR 007).
//!
//! The liar (`--fault race`) signs claims with made-up roots for every decided height as soon as
//! it is decided, without executing, building on the highest claim anyone has recorded. Under
//! the budget the honest executor keeps up with the chain, so it disputes and proves every lie
//! well inside the window and no made-up root is ever final. With the budget off and the old
//! 20-block window, the same liar wins while the honest executor lags: the first test proves
//! the attack is real, so that the others can fail.
//!
//! Nodes: validators 0-3, the honest executor 4, the liar 5.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy_primitives::{keccak256, Address, U256};
use common::*;
use jsonrpsee::rpc_params;
use serde_json::Value;

const HONEST: usize = 4;
const LIAR: usize = 5;
const GWEI: u128 = 1_000_000_000;
/// The test network's budget: small enough that a debug-build executor sharing two cores
/// with four validators keeps up with it.
const GAS_PER_SECOND: u64 = 10_000_000;
const BURST: u64 = 20_000_000;
const STALL_MS: u64 = 10_000;
/// Above the floor: 10 s stall + 0.6 x 20M / 10M s + 5 s = 16.2 s.
const WINDOW_MS: u64 = 20_000;
const BURNER: Address = Address::repeat_byte(0xb0);

fn burner_account() -> lazychain_config::GenesisAccount {
    let artifact: Value =
        serde_json::from_str(include_str!("../exec-layer/contracts/build/Burner.json"))
            .expect("Burner.json");
    let code = artifact["deployedBytecode"]
        .as_str()
        .and_then(|h| hex::decode(h.trim_start_matches("0x")).ok())
        .expect("deployed bytecode");
    lazychain_config::GenesisAccount {
        address: BURNER,
        balance: U256::ZERO,
        nonce: 1,
        code: code.into(),
        storage: Vec::new(),
    }
}

fn burn_call(rounds: u64) -> Vec<u8> {
    let mut input = keccak256("burn(uint256)")[..4].to_vec();
    input.extend_from_slice(&U256::from(rounds).to_be_bytes::<32>());
    input
}

/// Sends `Burner.burn(rounds)` calls with gas limit `gas` from dev accounts 1-8, `per_second`
/// of them, round robin over the validators, until `stop`. Returns how many were accepted.
fn spawn_load(
    net: &TestNet,
    rounds: u64,
    gas: u64,
    per_second: u64,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<u64> {
    let urls: Vec<String> = net.manifest.nodes[..4]
        .iter()
        .map(|n| n.rpc_url.clone())
        .collect();
    let accepted = Arc::new(AtomicU64::new(0));
    tokio::spawn(async move {
        let clients: Vec<_> = urls
            .iter()
            .map(|u| lazychain_test_utils::net::client(u, Duration::from_secs(10)))
            .collect();
        let keys: Vec<_> = (1..=8).map(dev_account_key).collect();
        let mut nonces = [0u64; 8];
        let input = burn_call(rounds);
        let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / per_second));
        let mut i = 0usize;
        while !stop.load(Ordering::Relaxed) {
            tick.tick().await;
            let k = i % keys.len();
            // A max fee far above the floor: the base fee climbs while the budget is contested.
            let raw = sign_tx(
                &keys[k],
                nonces[k],
                Some(BURNER),
                0,
                gas,
                10_000 * GWEI,
                input.clone(),
            );
            let client = &clients[i % clients.len()];
            let sent = lazychain_test_utils::net::call(
                client,
                "eth_sendRawTransaction",
                rpc_params![hex0x(&raw)],
            )
            .await;
            if sent.is_ok() {
                nonces[k] += 1;
                accepted.fetch_add(1, Ordering::Relaxed);
            }
            i += 1;
        }
        accepted.load(Ordering::Relaxed)
    })
}

/// The decided block at `height` as validator 0 serves it (header fields, no body).
async fn header(net: &TestNet, height: u64) -> Option<Value> {
    net.call(0, "lazy_getDataBlock", rpc_params![height])
        .await
        .ok()
        .filter(|b| !b.is_null())
}

fn num(v: &Value) -> u64 {
    v.as_u64()
        .or_else(|| lazychain_test_utils::net::quantity(v))
        .unwrap_or(0)
}

/// The liar's claims that are final among heights `from..=to` (on validator 0) with a root
/// the honest executor did not compute there (heights it has not executed yet are skipped: a
/// liar's claim on an empty block keeps the pre-state root and is true).
async fn final_lies(net: &TestNet, liar: &str, from: u64, to: u64) -> Vec<(u64, Value)> {
    let mut out = Vec::new();
    for h in from..=to {
        let Ok(claims) = net.call(0, "lazy_getClaims", rpc_params![h]).await else {
            continue;
        };
        let Ok(own) = net.call(HONEST, "lazy_getExecution", rpc_params![h]).await else {
            continue;
        };
        if own.is_null() {
            continue;
        }
        for c in claims["claims"].as_array().into_iter().flatten() {
            if c["executor"] == liar
                && c["status"] == "final"
                && c["postStateRoot"] != own["stateRoot"]
            {
                out.push((h, claims.clone()));
            }
        }
    }
    out
}

/// Time (ms, by decided block timestamps) by which the honest executor trails validator 0.
async fn lag_ms(net: &TestNet) -> Option<u64> {
    let status = net.call(HONEST, "lazy_status", rpc_params![]).await.ok()?;
    let executed = num(&status["executedHeight"]);
    let tip = net.height(0).await?;
    let tip_ts = num(&header(net, tip).await?["timestampMs"]);
    let exec_ts = if executed == 0 {
        0
    } else {
        num(&header(net, executed).await?["timestampMs"])
    };
    Some(tip_ts.saturating_sub(exec_ts))
}

fn budget_net(deferred: &[usize], faults: &[(usize, &'static str)]) -> TestNet {
    TestNet::start_spec(&NetSpec {
        validators: 4,
        executors: 2,
        faults,
        window_ms: WINDOW_MS,
        min_blocks: 10,
        max_executor_stall_ms: Some(STALL_MS),
        gas_per_second: Some(GAS_PER_SECOND),
        gas_burst: Some(BURST),
        max_block_gas: Some(BURST),
        extra_alloc: vec![burner_account()],
        deferred,
        ..NetSpec::default()
    })
}

/// Without the budget and with the old 20-block window, the honest executor frozen for 8 s
/// (SIGSTOP: a long pause, a disk stall) while a racing liar lies is enough: the liar's
/// made-up roots become final, and the honest executor, once it resumes and catches up, raises
/// the safety alarm, refuses `finalized` and is not ready. This is the attack the budget and the
/// window in time exist to stop; the tests below show they do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_budget_a_racing_liar_finalizes_made_up_roots() {
    let net = TestNet::start_spec(&NetSpec {
        validators: 4,
        executors: 2,
        faults: &[(LIAR, "race")],
        window_ms: 1,
        min_blocks: 20,
        gas_per_second: Some(0),
        extra_alloc: vec![burner_account()],
        ..NetSpec::default()
    });
    let liar = executor_of(&net, LIAR);
    let (paused_at, resumed_at, stop, load) = pause_honest_under_load(&net).await;
    let final_while_paused = num(&net
        .call(0, "lazy_getStateConsensus", rpc_params![])
        .await
        .unwrap_or(Value::Null)["finalizedHeight"]);
    net.resume(HONEST);
    stop.store(true, Ordering::Relaxed);
    let _ = load.await;
    eprintln!(
        "honest executor paused for 8 s: {} blocks; finalized height {final_while_paused} when it resumed",
        resumed_at - paused_at
    );
    // Once it has caught up, compare its roots with what was finalized while it was frozen.
    let executed = wait_until(&net, HONEST, "lazy_status", |s| {
        num(&s["executedHeight"]) >= final_while_paused
    })
    .await;
    eprintln!(
        "honest executor caught up to {}",
        executed["executedHeight"]
    );
    let won = final_lies(&net, &liar, paused_at, final_while_paused).await;
    let (height, claims) = won.first().cloned().unwrap_or_else(|| {
        panic!(
            "the attack did not succeed while the honest executor was paused; liar's log:\n{}",
            net.log_tail(LIAR)
        )
    });
    eprintln!("a made-up root is final at height {height}: {claims}");
    // Once caught up, the honest executor sees its own root differ from the final one.
    let status = wait_until(&net, HONEST, "lazy_status", |s| !s["safetyAlarm"].is_null()).await;
    eprintln!("honest executor: {}", status["safetyAlarm"]);
    let refused = net
        .call(
            HONEST,
            "eth_getBlockByNumber",
            rpc_params!["finalized", false],
        )
        .await;
    assert!(refused.is_err(), "finalized is still served: {refused:?}");
    let (code, _) = http_get(&metrics_host(&net, HONEST), "/ready");
    assert_eq!(code, 503, "an executor with a safety alarm is not ready");
}

/// Once every validator has a block or two, freezes the honest executor (SIGSTOP) and sends
/// `burn` calls for 8 s. Returns validator 0's height when the executor was frozen and 8 s
/// later, and the load's stop flag and task: the caller resumes the executor and stops the load.
async fn pause_honest_under_load(
    net: &TestNet,
) -> (u64, u64, Arc<AtomicBool>, tokio::task::JoinHandle<u64>) {
    net.wait_all(&[0, 1, 2, 3], 2).await;
    net.pause(HONEST);
    let paused_at = net.height(0).await.unwrap_or(0);
    let stop = Arc::new(AtomicBool::new(false));
    let load = spawn_load(net, 300, 200_000, 5, stop.clone());
    tokio::time::sleep(Duration::from_secs(8)).await;
    let resumed_at = net.height(0).await.unwrap_or(0);
    (paused_at, resumed_at, stop, load)
}

async fn wait_until(
    net: &TestNet,
    node: usize,
    method: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    net.wait_answer(node, method, method, || rpc_params![], check)
        .await
}

/// Under the budget, compute-heavy load that keeps the budget saturated for 60 s, and a racing
/// liar claiming every height as it is decided: every made-up claim is disputed and reverted, the
/// liar is slashed, none of its roots is ever final, the finalized chain is the honest
/// executor's, and the honest executor's lag stays within the bound ADR 007 derives (the
/// tolerated stall plus a burst's worth of execution).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_the_budget_a_racing_liar_is_always_caught() {
    let net = budget_net(&[], &[(LIAR, "race")]);
    let liar = executor_of(&net, LIAR);
    net.wait_all(&[0, 1, 2, 3], 2).await;
    let load_start_height = net.height(0).await.unwrap_or(0);
    // ~0.85M gas per call (gas limit 1M), 30 calls/s: 30M gas/s offered against 10M/s.
    let stop = Arc::new(AtomicBool::new(false));
    let load = spawn_load(&net, 3_000, 1_000_000, 30, stop.clone());
    let started = Instant::now();
    let mut max_lag = 0u64;
    let mut checked_to = load_start_height;
    while started.elapsed() < Duration::from_secs(65) {
        tokio::time::sleep(Duration::from_secs(2)).await;
        if let Some(lag) = lag_ms(&net).await {
            eprintln!("t={:?} lag {lag} ms", started.elapsed());
            max_lag = max_lag.max(lag);
        }
        let final_tip = num(&net
            .call(0, "lazy_getStateConsensus", rpc_params![])
            .await
            .unwrap_or(Value::Null)["finalizedHeight"]);
        if final_tip > checked_to {
            let lies = final_lies(&net, &liar, checked_to + 1, final_tip).await;
            assert!(
                lies.is_empty(),
                "a made-up root is final: {:?}",
                lies.first()
            );
            checked_to = final_tip;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let sent = load.await.unwrap_or(0);
    let load_end_height = net.height(0).await.unwrap_or(0);

    // The budget was saturated: the chain took on about what the budget allows, not less.
    let (t0, t1) = (
        num(&header(&net, load_start_height).await.expect("header")["timestampMs"]),
        num(&header(&net, load_end_height).await.expect("header")["timestampMs"]),
    );
    let mut declared = 0u64;
    for h in load_start_height + 1..=load_end_height {
        declared += num(&header(&net, h).await.expect("header")["gasLimitSum"]);
    }
    let allowed = BURST + GAS_PER_SECOND * (t1 - t0) / 1000;
    eprintln!(
        "{sent} calls sent; heights {load_start_height}..{load_end_height}; declared gas {declared} of {allowed} the budget allowed over {} ms; max lag {max_lag} ms",
        t1 - t0
    );
    assert!(
        declared <= allowed,
        "the chain took on more than its budget"
    );
    assert!(
        declared * 10 >= allowed * 8,
        "the load did not saturate the budget: {declared} of {allowed}"
    );
    // The lag bound of ADR 007: the tolerated stall plus a burst's worth of execution at the
    // reference rate (0.6 x burst / rate).
    let bound = STALL_MS + 600 * BURST / GAS_PER_SECOND;
    assert!(max_lag <= bound, "honest lag {max_lag} ms above {bound} ms");

    // The liar was proven wrong and slashed; its claims under the load are reverted.
    let s = wait_until(&net, 0, "lazy_getStateConsensus", |s| {
        s["slashed"].get(&liar).is_some()
    })
    .await;
    assert_eq!(s["unresolvedDisputes"], 0, "{s}");
    let final_tip = num(&s["finalizedHeight"]);
    assert!(
        final_tip > load_start_height,
        "finality went on past the liar: {s}"
    );
    for h in load_start_height..=final_tip.min(load_start_height + 30) {
        let claims = net
            .call(0, "lazy_getClaims", rpc_params![h])
            .await
            .expect("claims");
        for c in claims["claims"].as_array().into_iter().flatten() {
            if c["executor"] == liar.as_str() {
                assert_eq!(c["status"], "reverted", "{claims}");
            } else {
                assert_eq!(c["postStateRoot"], claims["canonicalRoot"], "{claims}");
            }
        }
    }
    let status = net
        .call(HONEST, "lazy_status", rpc_params![])
        .await
        .expect("status");
    assert!(status["safetyAlarm"].is_null(), "{status}");
}

/// The honest executor is frozen (SIGSTOP) for 8 s — longer than the old 20-block window at
/// this chain's block rate — while the liar races. The window in time (20 s here, sized to
/// tolerate a 10 s stall) still covers it: the lie is disputed when the executor thaws, proven,
/// and none of the liar's roots is ever final.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_honest_executor_still_catches_a_racing_liar() {
    let net = budget_net(&[], &[(LIAR, "race")]);
    let liar = executor_of(&net, LIAR);
    let (paused_at, resumed_at, stop, load) = pause_honest_under_load(&net).await;
    net.resume(HONEST);
    eprintln!(
        "honest executor paused for 8 s: {} blocks (the old window was 20)",
        resumed_at - paused_at
    );
    assert!(
        resumed_at - paused_at > 20,
        "the pause outlasted the old window"
    );
    let s = wait_until(&net, 0, "lazy_getStateConsensus", |s| {
        s["slashed"].get(&liar).is_some() && num(&s["finalizedHeight"]) > resumed_at
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    let _ = load.await;
    let lies = final_lies(&net, &liar, 1, num(&s["finalizedHeight"])).await;
    assert!(
        lies.is_empty(),
        "a made-up root is final: {:?}",
        lies.first()
    );
}
