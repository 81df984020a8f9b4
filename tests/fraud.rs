//! State consensus with real processes: four validators and bonded executors. Honest claims
//! become final after the challenge window and `finalized` follows; a faulty executor's
//! wrong root is proven by an honest executor, the proof is gossiped and included, and on every
//! node the bad claim and all its descendants are reverted, the honest claims become final and
//! the faulty bond is slashed, with the reward credited to the prover.

mod common;

use std::time::{Duration, Instant};

use common::*;
use jsonrpsee::rpc_params;
use lazychain_test_utils::net::quantity;
use serde_json::Value;

const GWEI: u128 = 1_000_000_000;
const BOND_WEI: u128 = 1_000 * 1_000_000_000_000_000_000;

/// The first accepted fraud proof validator 0 lists, if any.
async fn accepted_proof(net: &TestNet) -> Option<Value> {
    let proofs = net
        .call(0, "lazy_getFraudProofs", rpc_params![1])
        .await
        .ok()?;
    proofs
        .as_array()?
        .iter()
        .find(|p| p["outcome"] == "accepted")
        .cloned()
}

/// Sends one transfer per call from dev account 0 through validator 0, with nonce `nonce`.
async fn send_transfer(net: &TestNet, nonce: u64) {
    let raw = sign_tx(
        &dev_account_key(0),
        nonce,
        Some(alloy_primitives::Address::repeat_byte(0x42)),
        1_000,
        21_000,
        10 * GWEI,
        Vec::new(),
    );
    net.call(0, "eth_sendRawTransaction", rpc_params![hex0x(&raw)])
        .await
        .expect("transfer accepted");
}

/// The challenge window, in time, of the tests with a liar (with a few blocks as its
/// minimum): long enough for the honest executor's claim to be recorded before the liar's
/// could be final even on a loaded machine, where executing and posting can take seconds.
/// (On a real chain the genesis floor on the window does this.) With a 1 ms window the liar
/// won whenever the honest claim came more than the window's few blocks (~0.5 s) late.
const LIAR_WINDOW_MS: u64 = 5_000;

/// The timestamp of decided block `height` on node `node`.
async fn block_ms(net: &TestNet, node: usize, height: u64) -> u64 {
    let block = net
        .call(node, "lazy_getDataBlock", rpc_params![height, false])
        .await
        .expect("decided block");
    block["timestampMs"].as_u64().expect("timestampMs")
}

/// The first block at least `min_blocks` after `included` whose timestamp is at least
/// `window_ms` after `included`'s: where a claim included there ripens (protocol §11.3 rule 3).
async fn ripe_block(
    net: &TestNet,
    node: usize,
    included: u64,
    window_ms: u64,
    min_blocks: u64,
) -> u64 {
    let start = block_ms(net, node, included).await;
    let mut h = included + min_blocks;
    while block_ms(net, node, h).await < start + window_ms {
        h += 1;
    }
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn honest_claims_finalize_after_the_window_and_finalized_follows() {
    // A window of time and blocks, each of which can bind depending on the block rate, and
    // both executors must agree before a claim is final.
    const WINDOW_MS: u64 = 2_000;
    const MIN_BLOCKS: u64 = 4;
    let net = TestNet::start_corroborated(4, 0, 2, &[], WINDOW_MS, MIN_BLOCKS, 2);
    let (e0, e1) = (4, 5);
    net.wait_all(&[0, 1, 2, 3], 2).await;
    for nonce in 0..3 {
        send_transfer(&net, nonce).await;
    }
    // The first height with transactions (the blocks before it take no claim, and are final
    // at once): one claim per executor, both final on a validator, which never executed
    // anything; same roots, the canonical one first.
    let first = net.first_height_with_txs(0, 1).await;
    let claims = net
        .wait_answer(
            0,
            "both claims final at the first height with transactions",
            "lazy_getClaims",
            || rpc_params![first],
            |c| {
                c["claims"]
                    .as_array()
                    .is_some_and(|l| l.len() == 2 && l.iter().all(|c| c["status"] == "final"))
            },
        )
        .await;
    let s = state(&net, 0).await;
    assert!(s["finalizedHeight"].as_u64().unwrap_or(0) >= first, "{s}");
    assert_eq!(
        s["slashed"],
        serde_json::json!({}),
        "nobody is slashed: {s}"
    );
    assert_eq!(s["challengeWindowMs"], WINDOW_MS, "{s}");
    assert_eq!(s["minWindowBlocks"], MIN_BLOCKS, "{s}");
    assert_eq!(s["minCorroboration"], 2, "{s}");
    assert_eq!(s["requiredCorroboration"], 2, "{s}");

    let list = claims["claims"].as_array().expect("claims list");
    assert_eq!(list.len(), 2, "{claims}");
    let executors: Vec<&str> = list.iter().filter_map(|c| c["executor"].as_str()).collect();
    assert!(
        executors.contains(&executor_of(&net, e0).as_str()),
        "{claims}"
    );
    assert!(
        executors.contains(&executor_of(&net, e1).as_str()),
        "{claims}"
    );
    // Each is final in the block where it ripened, or, if the other executor's agreeing
    // claim came later, in the block that recorded it.
    let included: Vec<u64> = list
        .iter()
        .map(|c| c["includedAt"].as_u64().expect("includedAt"))
        .collect();
    for (i, c) in list.iter().enumerate() {
        assert_eq!(c["status"], "final", "{claims}");
        assert_eq!(c["postStateRoot"], list[0]["postStateRoot"], "{claims}");
        let final_at = c["finalAt"].as_u64().expect("finalAt");
        let ripe = ripe_block(&net, 0, included[i], WINDOW_MS, MIN_BLOCKS).await;
        assert_eq!(final_at, ripe.max(included[1 - i]), "{claims}");
    }
    assert_eq!(claims["canonicalRoot"], list[0]["postStateRoot"]);

    // Every node answers the same about that height.
    for node in [1, 2, 3, e0, e1] {
        let other = net
            .call(node, "lazy_getClaims", rpc_params![first])
            .await
            .expect("claims");
        assert_eq!(
            other["canonicalRoot"], claims["canonicalRoot"],
            "node {node}"
        );
    }

    // The executors' `finalized` block is a final height, with the canonical root.
    let block = net
        .wait_answer(
            e0,
            "finalized block",
            "eth_getBlockByNumber",
            || rpc_params!["finalized", false],
            |b| quantity(&b["number"]).is_some_and(|n| n >= 3),
        )
        .await;
    let number = quantity(&block["number"]).expect("number");
    let at = net
        .call(0, "lazy_getClaims", rpc_params![number])
        .await
        .expect("claims");
    assert_eq!(block["stateRoot"], at["canonicalRoot"], "{block} vs {at}");
    let safe = net
        .call(e0, "eth_getBlockByNumber", rpc_params!["safe", false])
        .await
        .expect("safe block");
    assert!(!safe.is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_root_is_proven_reverted_with_its_descendants_and_slashed_everywhere() {
    const WINDOW: u64 = 20;
    const FAULT_AT: u64 = 3;
    // Validators 0-3; executors 4 and 5 are honest, 6 lies from height 3 on.
    let fault = format!("wrong-root-at={FAULT_AT}");
    let mut net = TestNet::start_faulty(4, 0, 3, &[(6, fault.as_str())], LIAR_WINDOW_MS, WINDOW);
    let (honest, liar) = (4, 6);
    let liar_address = executor_of(&net, liar);
    let honest_addresses = [executor_of(&net, 4), executor_of(&net, 5)];
    net.wait_all(&[0, 1, 2, 3], 1).await;
    let (_ws, mut reverted) = lazychain_test_utils::net::subscribe(
        &net.manifest.nodes[1].ws_url,
        "lazy_subscribeReverted",
        "lazy_unsubscribeReverted",
    )
    .await;
    // Transactions in several blocks, so the faulty executor has a transaction to lie about.
    for nonce in 0..6 {
        send_transfer(&net, nonce).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // In the middle of the dispute (the liar's first claims are in), kill a validator, an
    // honest executor and the liar with SIGKILL, and bring them back: they replay the decided
    // blocks and reach the same statuses as everyone else. The liar lies from the first
    // height at or above FAULT_AT with transactions (the others take no claim).
    let fault_height = net.first_height_with_txs(0, FAULT_AT).await;
    net.wait_answer(
        0,
        "the liar's claim at the fault height",
        "lazy_getClaims",
        || rpc_params![fault_height],
        |c| {
            c["claims"]
                .as_array()
                .is_some_and(|l| l.iter().any(|c| c["executor"] == liar_address.as_str()))
        },
    )
    .await;
    for node in [3, 5, liar] {
        net.kill9(node);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    for node in [3, 5, liar] {
        net.restart(node);
    }

    // Every node includes and accepts the honest executor's proof.
    let proofs = net
        .wait_answer(
            0,
            "accepted fraud proof",
            "lazy_getFraudProofs",
            || rpc_params![1],
            |p| {
                p.as_array()
                    .is_some_and(|l| l.iter().any(|p| p["outcome"] == "accepted"))
            },
        )
        .await;
    let accepted = proofs
        .as_array()
        .and_then(|l| l.iter().find(|p| p["outcome"] == "accepted"))
        .expect("accepted proof")
        .clone();
    assert_eq!(accepted["kind"], "bad-transition", "{accepted}");
    let bad_height = accepted["targetHeight"].as_u64().expect("target height");
    assert!(bad_height >= FAULT_AT, "{accepted}");
    let prover = accepted["submitter"]
        .as_str()
        .expect("submitter")
        .to_owned();
    assert_ne!(prover, liar_address, "the liar does not prove itself");
    let target = accepted["target"].as_str().expect("target").to_owned();
    let included_at = accepted["includedAt"].as_u64().unwrap_or(0);

    // The WebSocket subscriber hears about it (an alarm first, or the inclusion).
    let start = Instant::now();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(30), reverted.next())
            .await
            .expect("a reverted event within 30 s")
            .expect("subscription open")
            .expect("event decodes");
        if event["claim"] == target.as_str() {
            assert_eq!(event["height"].as_u64(), Some(bad_height), "{event}");
            break;
        }
        assert!(start.elapsed() < DEADLINE, "no event for {target}");
    }

    // Wait until the honest claim at the bad height is final on every node, then compare.
    let mut reference: Option<Value> = None;
    for node in 0..net.len() {
        let claims = net
            .wait_answer(
                node,
                "honest claim final",
                "lazy_getClaims",
                || rpc_params![bad_height],
                |c| {
                    c["claims"].as_array().is_some_and(|l| {
                        let final_of = |e: &str| {
                            l.iter()
                                .any(|c| c["executor"] == e && c["status"] == "final")
                        };
                        l.iter()
                            .filter(|c| c["executor"] != liar_address.as_str())
                            .all(|c| c["status"] == "final")
                            && honest_addresses.iter().all(|e| final_of(e))
                            && l.iter().any(|c| c["executor"] == liar_address.as_str())
                            && !c["canonicalRoot"].is_null()
                    })
                },
            )
            .await;
        for c in claims["claims"].as_array().expect("list") {
            if c["executor"] == liar_address.as_str() {
                assert_eq!(c["status"], "reverted", "node {node}: {claims}");
                assert_eq!(c["reason"]["kind"], "fraud", "node {node}: {c}");
            } else {
                assert_eq!(c["status"], "final", "node {node}: {claims}");
            }
        }
        match &reference {
            None => reference = Some(claims),
            Some(r) => assert_eq!(&claims, r, "node {node} disagrees"),
        }
    }

    // The liar's later claims built on its wrong root are reverted too, as descendants. (On a
    // loaded machine the restarted liar may post its next claim only after the proof slashed
    // it: a slashed executor's claims are ignored, so there may be none at this height.)
    let later = net.first_height_with_txs(honest, bad_height + 1).await;
    let claims = net
        .wait_answer(
            honest,
            "liar's descendant claim",
            "lazy_getClaims",
            || rpc_params![later],
            |c| {
                c["claims"].as_array().is_some_and(|l| {
                    let honest: Vec<&Value> = l
                        .iter()
                        .filter(|c| c["executor"] != liar_address.as_str())
                        .collect();
                    honest.len() == 2 && honest.iter().all(|c| c["status"] == "final")
                })
            },
        )
        .await;
    for c in claims["claims"].as_array().expect("list") {
        if c["executor"] != liar_address.as_str() {
            assert_eq!(c["status"], "final", "{claims}");
        } else if c["parent"] == target.as_str() {
            assert_eq!(c["status"], "reverted", "{claims}");
            assert_eq!(c["reason"]["kind"], "ancestor", "{claims}");
        }
    }

    // Slashed on every node: the whole bond, half of it to the prover.
    for node in 0..net.len() {
        let s = state(&net, node).await;
        assert_eq!(
            s["slashed"][&liar_address],
            BOND_WEI.to_string(),
            "node {node}: {s}"
        );
        assert_eq!(s["bonds"][&liar_address], "0", "node {node}: {s}");
        assert_eq!(
            s["rewards"][&prover],
            (BOND_WEI / 2).to_string(),
            "node {node}: {s}"
        );
        assert_eq!(s["burned"], (BOND_WEI / 2).to_string(), "node {node}: {s}");
    }

    // Bad proofs through RPC are refused and change nothing.
    let before = state(&net, 2).await;
    for bad in ["0x1234", "not hex", "0x"] {
        let e = net
            .call(2, "lazy_submitFraudProof", rpc_params![bad])
            .await
            .expect_err("refused");
        assert_eq!(e.code, -32602, "{bad}: {e:?}");
    }
    let oversized = hex0x(&vec![0u8; (2 << 20) + 1]);
    let e = net
        .call(2, "lazy_submitFraudProof", rpc_params![oversized])
        .await
        .expect_err("refused");
    assert!(e.code == -32602 || e.code < -32000, "{e:?}");
    let after = state(&net, 2).await;
    for key in ["bonds", "slashed", "rewards", "burned"] {
        assert_eq!(before[key], after[key], "{key}");
    }
    eprintln!("fraud proof against height {bad_height} included in block {included_at}");

    // The honest executors keep serving, and their `safe` block carries the canonical root.
    let safe = net
        .call(
            honest,
            "eth_getBlockByNumber",
            rpc_params!["finalized", false],
        )
        .await
        .expect("finalized block");
    let number = quantity(&safe["number"]).expect("number");
    let at = net
        .call(0, "lazy_getClaims", rpc_params![number])
        .await
        .expect("claims");
    assert_eq!(safe["stateRoot"], at["canonicalRoot"]);
}

/// The reported case: the first transaction of the chain deploys a contract this project never
/// saw (a loop of keccak256 over its argument), and a faulty executor lies from that block on.
/// The honest executor proves the lie about the deployment; the bad claim and its descendants
/// are reverted and the liar slashed on every node, and at no point is any of the liar's
/// made-up roots final, whatever order the proposers included the two executors' claims in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lie_about_a_contract_deployment_is_proven_and_never_final() {
    const WINDOW: u64 = 8;
    // Validators 0-3; executor 4 is honest, 5 lies from the first block with a transaction.
    let mut net = TestNet::start_faulty(4, 0, 2, &[(5, "wrong-root-at=1")], LIAR_WINDOW_MS, WINDOW);
    let (honest, liar) = (4, 5);
    let liar_address = executor_of(&net, liar);
    net.wait_all(&[0, 1, 2, 3], 1).await;

    // Runtime: keccak256 applied 64 times to the first calldata word, stored in slot 0; the
    // init code returns it.
    let runtime = concat!(
        "5f356040",
        "5b8015601957",
        "905f52",
        "60205f20",
        "9060019003",
        "600456",
        "5b505f5500"
    );
    let runtime = hex::decode(runtime).expect("hex");
    let mut deploy = hex::decode(format!("61{:04x}80600a5f395ff3", runtime.len())).expect("hex");
    deploy.extend_from_slice(&runtime);
    let raw = sign_tx(&dev_account_key(0), 0, None, 0, 300_000, 10 * GWEI, deploy);
    net.call(0, "eth_sendRawTransaction", rpc_params![hex0x(&raw)])
        .await
        .expect("deployment accepted");
    let receipt = net
        .wait_answer(
            honest,
            "deployment receipt",
            "eth_getTransactionReceipt",
            || rpc_params![hex0x(&lazychain_data_chain_types::tx::tx_hash(&raw).0)],
            |r| !r.is_null(),
        )
        .await;
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    let deploy_height = quantity(&receipt["blockNumber"]).expect("block number");

    // Until the proof is in and well after, no claim of the liar is ever final anywhere.
    let start = Instant::now();
    let mut accepted: Option<Value> = None;
    while start.elapsed() < DEADLINE {
        let top = net.height(0).await.unwrap_or(0);
        for h in deploy_height..=top.min(deploy_height + 12) {
            let Ok(claims) = net.call(0, "lazy_getClaims", rpc_params![h]).await else {
                continue;
            };
            for c in claims["claims"].as_array().into_iter().flatten() {
                if c["executor"] == liar_address.as_str() {
                    assert_ne!(c["status"], "final", "a made-up root is final: {claims}");
                }
            }
        }
        if accepted.is_none() {
            accepted = accepted_proof(&net).await;
        }
        // Done once the proof is in and the window has passed twice over since.
        if let Some(p) = &accepted {
            if top > p["includedAt"].as_u64().unwrap_or(u64::MAX) + 2 * WINDOW {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let accepted = accepted.unwrap_or_else(|| {
        panic!(
            "no fraud proof accepted within {DEADLINE:?}\nhonest executor log:\n{}",
            net.log_tail(honest)
        )
    });
    assert_eq!(accepted["kind"], "bad-transition", "{accepted}");
    assert_eq!(
        accepted["targetHeight"].as_u64(),
        Some(deploy_height),
        "the proof is about the deployment's block: {accepted}"
    );

    // On every node: the honest claim at the deployment height is final and canonical, the
    // liar's reverted; the liar is slashed; the honest executor has no open dispute left.
    for node in 0..net.len() {
        let claims = net
            .wait_answer(
                node,
                "honest claim final at the deployment height",
                "lazy_getClaims",
                || rpc_params![deploy_height],
                |c| !c["canonicalRoot"].is_null(),
            )
            .await;
        for c in claims["claims"].as_array().expect("list") {
            if c["executor"] == liar_address.as_str() {
                assert_eq!(c["status"], "reverted", "node {node}: {claims}");
            } else {
                assert_eq!(c["status"], "final", "node {node}: {claims}");
                assert_eq!(c["postStateRoot"], claims["canonicalRoot"], "node {node}");
            }
        }
        let s = state(&net, node).await;
        assert_eq!(
            s["slashed"][&liar_address],
            BOND_WEI.to_string(),
            "node {node}: {s}"
        );
        assert_eq!(s["unresolvedDisputes"], 0, "node {node}: {s}");
        // The slashed liar's claims are dropped from the pools (and it posts no more): they
        // could never be recorded.
        let pooled = s["pooledClaims"].as_u64().unwrap_or(u64::MAX);
        assert!(pooled <= 8, "node {node} pools {pooled} claims: {s}");
    }
    let status = net
        .call(honest, "lazy_status", rpc_params![])
        .await
        .expect("status");
    assert_eq!(status["claims"]["unprovenDisputes"], 0, "{status}");
    net.kill9(liar);
}

/// The honest executor's first three attempts to build its proof fail (`--fault
/// fail-proofs=3`): it does not give up. The dispute is visible while it lasts (the executor
/// lists it as unproven, state consensus holds both claims back, no side finalizes), each
/// failure is counted, and the fourth attempt proves the lie: reverted and slashed, never final.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_proof_is_retried_and_the_dispute_holds_finality_meanwhile() {
    const WINDOW: u64 = 6;
    // Validators 0-3; executor 4 is honest but fails its first proofs, 5 lies.
    let mut net = TestNet::start_faulty(
        4,
        0,
        2,
        &[(4, "fail-proofs=3"), (5, "wrong-root-at=1")],
        LIAR_WINDOW_MS,
        WINDOW,
    );
    let (honest, liar) = (4, 5);
    let liar_address = executor_of(&net, liar);
    net.wait_all(&[0, 1, 2, 3], 1).await;
    send_transfer(&net, 0).await;

    let mut saw_unproven = false;
    let mut saw_held = false;
    let start = Instant::now();
    let mut accepted = None;
    while start.elapsed() < DEADLINE {
        if let Ok(s) = net.call(honest, "lazy_status", rpc_params![]).await {
            saw_unproven |= s["claims"]["unprovenDisputes"].as_u64().unwrap_or(0) > 0;
        }
        let sc = state(&net, 0).await;
        saw_held |= sc["unresolvedDisputes"].as_u64().unwrap_or(0) > 0;
        let top = net.height(0).await.unwrap_or(0);
        for h in 1..=top.min(40) {
            let Ok(claims) = net.call(0, "lazy_getClaims", rpc_params![h]).await else {
                continue;
            };
            let lying = claims["claims"].as_array().into_iter().flatten().any(|c| {
                c["executor"] == liar_address.as_str()
                    && c["status"] == "final"
                    && claims["claims"]
                        .as_array()
                        .is_some_and(|l| l.iter().any(|o| o["postStateRoot"] != c["postStateRoot"]))
            });
            assert!(!lying, "a made-up root is final: {claims}");
        }
        if accepted.is_none() {
            accepted = accepted_proof(&net).await;
        }
        if accepted.is_some() && state(&net, 0).await["unresolvedDisputes"] == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        accepted.is_some(),
        "no proof accepted within {DEADLINE:?}\n{}",
        net.log_tail(honest)
    );
    assert!(
        saw_unproven,
        "the failing executor never listed an unproven dispute"
    );
    assert!(saw_held, "state consensus never held the disputed claims");
    let s = state(&net, 0).await;
    assert_eq!(s["slashed"][&liar_address], BOND_WEI.to_string(), "{s}");
    let (status, metrics) = http_get(&metrics_host(&net, honest), "/metrics");
    assert_eq!(status, 200);
    let failures: u64 = metrics
        .lines()
        .find(|l| l.starts_with("lazychain_fraud_proof_failures_total"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert_eq!(failures, 3, "metrics:\n{metrics}");
    net.kill9(liar);
}
