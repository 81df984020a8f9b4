//! Validators that crash (`kill -9`) or stop come back with every decided block intact and
//! catch up through value sync; with two of four down no height decides, and the chain
//! resumes without a fork when they return.

mod common;

use common::*;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn one_of_four_killed_then_restarted_catches_up() {
    let mut net = TestNet::start(4);
    net.wait_all(&[0, 1, 2, 3], 3).await;
    let before = net.height(3).await.expect("height");
    let hash_before = net.block_hash(3, before).await.expect("block");

    net.kill9(3);
    let h = net.height(0).await.expect("height");
    net.wait_all(&[0, 1, 2], h + 5).await;

    net.restart(3);
    let target = net.height(0).await.expect("height") + 2;
    net.wait_height(3, target).await;
    // Nothing decided before the crash was lost or changed.
    assert_eq!(
        net.block_hash(3, before).await.as_deref(),
        Some(hash_before.as_str())
    );
    net.assert_same_chain(&[0, 1, 2, 3], target).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_of_four_down_halts_then_resumes_without_fork() {
    let mut net = TestNet::start(4);
    net.wait_all(&[0, 1, 2, 3], 3).await;
    net.stop(2);
    net.stop(3);
    // Let any height that was in flight finish, then watch for progress.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let halted = net.height(0).await.expect("height");
    tokio::time::sleep(Duration::from_secs(8)).await;
    let later = net.height(0).await.expect("height");
    assert!(
        later <= halted + 1,
        "two of four validators cannot decide: height moved from {halted} to {later}"
    );
    // Readiness says why: the reachable voting power is not a quorum.
    let start = std::time::Instant::now();
    loop {
        let status = net
            .call(0, "lazy_status", jsonrpsee::rpc_params![])
            .await
            .expect("status");
        if status["ready"] == false {
            let reason = status["notReadyReason"].as_str().unwrap_or_default();
            assert!(reason.contains("voting power"), "{reason}");
            break;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "validator 0 still claims to be ready"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    net.restart(2);
    net.restart(3);
    net.wait_all(&[0, 1, 2, 3], later + 3).await;
    net.assert_same_chain(&[0, 1, 2, 3], later + 3).await;
}

/// `kill -9` of a validator while transactions flow: after its restart every submitted
/// transaction is decided exactly where every other validator has it, and the chains agree.
#[tokio::test(flavor = "multi_thread")]
async fn kill9_under_transaction_load_loses_nothing() {
    let mut net = TestNet::start(4);
    net.wait_all(&[0, 1, 2, 3], 2).await;
    let mut hashes = Vec::new();
    for i in 0..120u8 {
        if i == 60 {
            net.kill9(3);
        }
        let raw = transfer(&dev_key(i.wrapping_add(10)), CHAIN_ID, 0, 2_000_000_000);
        let node = (i as usize) % 3;
        let hash = net
            .call(
                node,
                "eth_sendRawTransaction",
                jsonrpsee::rpc_params![hex0x(&raw)],
            )
            .await
            .expect("accepted");
        hashes.push(hash.as_str().expect("hash").to_string());
    }
    net.restart(3);
    let mut top = 0;
    for hash in &hashes {
        let mut first = None;
        for node in 0..4 {
            let start = std::time::Instant::now();
            // The restarted validator's RPC may not be up yet: retry until the deadline.
            let loc = loop {
                let answer = net
                    .call(
                        node,
                        "lazy_getTransactionLocation",
                        jsonrpsee::rpc_params![hash.clone()],
                    )
                    .await;
                if let Ok(loc) = answer {
                    if !loc.is_null() {
                        break loc;
                    }
                }
                assert!(
                    start.elapsed() < DEADLINE,
                    "{hash} never decided on validator {node}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            };
            top = top.max(loc["height"].as_u64().expect("height"));
            match &first {
                None => first = Some(loc),
                Some(f) => assert_eq!(f, &loc, "{hash} placed differently on validator {node}"),
            }
        }
    }
    net.assert_same_chain(&[0, 1, 2, 3], top).await;
}
