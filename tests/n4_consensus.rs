//! Four validator processes reach BFT agreement: identical blocks at every height, and a
//! transaction sent to one validator lands in a decided block on all four.

mod common;

use common::*;
use jsonrpsee::rpc_params;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread")]
async fn four_validators_decide_identical_blocks_with_a_transaction() {
    let net = TestNet::start(4);
    let all = [0, 1, 2, 3];
    net.wait_all(&all, 3).await;

    let raw = transfer(&dev_key(1), CHAIN_ID, 0, 2_000_000_000);
    let hash = net
        .call(1, "eth_sendRawTransaction", rpc_params![hex0x(&raw)])
        .await
        .expect("transaction accepted");
    let hash = hash.as_str().expect("hash string").to_string();

    let mut location = None;
    for i in all {
        let start = Instant::now();
        loop {
            let loc = net
                .call(i, "lazy_getTransactionLocation", rpc_params![hash.clone()])
                .await
                .expect("rpc answers");
            if !loc.is_null() {
                if let Some(prev) = &location {
                    assert_eq!(prev, &loc, "validator {i} placed the transaction elsewhere");
                }
                location = Some(loc);
                break;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "transaction never decided on validator {i}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let loc = location.expect("decided");
    let height = loc["height"].as_u64().expect("height");
    for i in all {
        let block = net
            .call(i, "lazy_getDataBlock", rpc_params![height, true])
            .await
            .expect("block");
        let raws: Vec<&str> = block["transactions"]
            .as_array()
            .expect("transactions")
            .iter()
            .filter_map(|t| t.as_str())
            .collect();
        assert!(
            raws.contains(&hex0x(&raw).as_str()),
            "validator {i}: block {height} lacks the tx"
        );
        assert_eq!(block["height"].as_u64(), Some(height));
    }
    net.assert_same_chain(&all, height).await;

    // The mempool drops decided transactions, and a resubmission is refused as known.
    let again = net
        .call(2, "eth_sendRawTransaction", rpc_params![hex0x(&raw)])
        .await;
    assert!(
        again.is_err(),
        "a decided transaction must not be accepted again"
    );
}

/// A keyless full node follows consensus, verifies certificates and holds the same chain; it
/// keeps following after a restart.
#[tokio::test(flavor = "multi_thread")]
async fn full_node_follows_the_validators() {
    let mut net = TestNet::start_with(4, 1);
    let full = 4;
    net.wait_all(&[0, 1, 2, 3, full], 3).await;
    let status = net
        .call(full, "lazy_status", rpc_params![])
        .await
        .expect("status");
    assert_eq!(status["role"], "fullnode");
    net.kill9(full);
    let h = net.height(0).await.expect("height");
    net.wait_height(0, h + 3).await;
    net.restart(full);
    net.wait_height(full, h + 3).await;
    net.assert_same_chain(&[0, 1, 2, 3, full], h + 3).await;
}
