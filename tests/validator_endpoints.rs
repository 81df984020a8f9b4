//! What a one-validator network serves to operators and clients: `/health`, `/ready` and
//! `/metrics` on the metrics port, decided blocks pushed over a WebSocket subscription that
//! agree with `lazy_getDataBlock`, and `lazy_getDataBlock`'s height parameter forms.

mod common;

use std::time::{Duration, Instant};

use common::*;
use jsonrpsee::core::client::Subscription;
use jsonrpsee::rpc_params;
use serde_json::Value;

/// The value of the first Prometheus sample of metric `name`, whatever its labels.
fn sample(page: &str, name: &str) -> Option<f64> {
    page.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (series, value) = l.rsplit_once(' ')?;
        let metric = series.split('{').next()?;
        (metric == name).then(|| value.trim().parse().ok())?
    })
}

async fn next_block(sub: &mut Subscription<Value>) -> Value {
    tokio::time::timeout(DEADLINE, sub.next())
        .await
        .unwrap_or_else(|_| panic!("no decided block notification within {DEADLINE:?}"))
        .expect("the subscription is open")
        .expect("the notification is JSON")
}

fn height_of(v: &Value) -> u64 {
    v["height"]
        .as_u64()
        .unwrap_or_else(|| panic!("no height in {v}"))
}

/// Asserts the notification names the block stored at its height.
async fn assert_matches_stored(net: &TestNet, block: &Value) {
    let height = height_of(block);
    let hash = block["hash"]
        .as_str()
        .unwrap_or_else(|| panic!("no hash in {block}"));
    assert!(hash.starts_with("0x") && hash.len() == 66, "{hash}");
    assert_eq!(
        net.block_hash(0, height).await.as_deref(),
        Some(hash),
        "notification for height {height} differs from lazy_getDataBlock"
    );
}

fn tx_hashes(block: &Value) -> Vec<String> {
    block["txHashes"]
        .as_array()
        .unwrap_or_else(|| panic!("no txHashes in {block}"))
        .iter()
        .map(|h| h.as_str().expect("hash is a string").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn health_ready_and_metrics_are_served() {
    let net = TestNet::start(1);
    net.wait_height(0, 2).await;
    let host = metrics_host(&net, 0);

    let (status, body) = http_get(&host, "/health");
    assert_eq!(status, 200, "{body}");
    let health: Value = serde_json::from_str(&body).expect("health is JSON");
    assert_eq!(health, serde_json::json!({ "status": "ok" }));

    // One validator needs no peers; readiness also wants a recent block, so allow the
    // deadline for a loaded machine.
    let start = Instant::now();
    let (status, body) = loop {
        let (status, body) = http_get(&host, "/ready");
        if status == 200 || start.elapsed() > DEADLINE {
            break (status, body);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(status, 200, "not ready: {body}");
    let ready: Value = serde_json::from_str(&body).expect("ready is JSON");
    assert_eq!(ready["ready"], true, "{body}");

    let (status, page) = http_get(&host, "/metrics");
    assert_eq!(status, 200, "{page}");
    let decided = sample(&page, "lazychain_decided_height")
        .unwrap_or_else(|| panic!("no lazychain_decided_height sample in:\n{page}"));
    assert!(decided >= 2.0, "decided height {decided} after height 2");
    // Malachite's own registry is exported on the same page.
    let malachite: Vec<&str> = page
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty() && !l.starts_with("lazychain_"))
        .collect();
    assert!(
        malachite.iter().any(|l| l.starts_with("malachitebft_")),
        "no Malachite metric in:\n{page}"
    );
    let consensus_height = sample(&page, "malachitebft_core_consensus_height")
        .unwrap_or_else(|| panic!("no malachitebft_core_consensus_height in:\n{page}"));
    assert!(consensus_height >= 2.0, "{consensus_height}");

    let (status, body) = http_get(&host, "/nope");
    assert_eq!(status, 404, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn decided_blocks_are_pushed_over_websocket() {
    let net = TestNet::start(1);
    net.wait_height(0, 2).await;
    let (_ws, mut sub) = lazychain_test_utils::net::subscribe(
        &net.manifest.nodes[0].ws_url,
        "lazy_subscribeDecidedBlocks",
        "lazy_unsubscribeDecidedBlocks",
    )
    .await;

    let mut last = next_block(&mut sub).await;
    assert!(height_of(&last) >= 2, "{last}");
    assert_matches_stored(&net, &last).await;
    for _ in 0..2 {
        let block = next_block(&mut sub).await;
        assert_eq!(
            height_of(&block),
            height_of(&last) + 1,
            "{last} then {block}"
        );
        assert_matches_stored(&net, &block).await;
        last = block;
    }

    // A submitted transaction shows up in a later notification.
    let raw = transfer(&dev_key(5), CHAIN_ID, 0, 2_000_000_000);
    let want = format!("{}", alloy_primitives::keccak256(&raw));
    let got = net
        .call(0, "eth_sendRawTransaction", rpc_params![hex0x(&raw)])
        .await
        .expect("transaction accepted");
    assert_eq!(got.as_str(), Some(want.as_str()), "returned hash");
    let start = Instant::now();
    let including = loop {
        assert!(
            start.elapsed() < DEADLINE,
            "transaction {want} not decided within {DEADLINE:?}"
        );
        let block = next_block(&mut sub).await;
        assert_eq!(
            height_of(&block),
            height_of(&last) + 1,
            "{last} then {block}"
        );
        last = block.clone();
        if tx_hashes(&block).contains(&want) {
            break block;
        }
    };
    assert_matches_stored(&net, &including).await;
    let stored = net
        .call(0, "lazy_getDataBlock", rpc_params![height_of(&including)])
        .await
        .expect("lazy_getDataBlock");
    assert_eq!(stored["txHashes"], including["txHashes"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn get_data_block_height_forms() {
    let net = TestNet::start(1);
    net.wait_height(0, 2).await;

    let before = net.height(0).await.expect("status");
    let latest = net
        .call(0, "lazy_getDataBlock", rpc_params!["latest"])
        .await
        .expect("latest");
    let after = net.height(0).await.expect("status");
    let h = height_of(&latest);
    assert!(
        (before..=after).contains(&h),
        "latest {h} outside [{before}, {after}]"
    );
    assert_eq!(
        net.block_hash(0, h).await.as_deref(),
        latest["hash"].as_str(),
        "\"latest\" is the block at its height"
    );

    // A hex quantity is a height too.
    let one = net
        .call(0, "lazy_getDataBlock", rpc_params!["0x1"])
        .await
        .expect("0x1");
    assert_eq!(height_of(&one), 1);
    assert_eq!(net.block_hash(0, 1).await.as_deref(), one["hash"].as_str());

    let beyond = after + 1_000_000;
    let none = net
        .call(0, "lazy_getDataBlock", rpc_params![beyond])
        .await
        .expect("a height beyond the tip is not an error");
    assert_eq!(none, Value::Null, "height {beyond}");

    for bad in ["0xzz", "pending"] {
        let err = net
            .call(0, "lazy_getDataBlock", rpc_params![bad])
            .await
            .expect_err("bad height");
        assert_eq!(err.code, -32602, "{bad}: {err:?}");
    }
}
