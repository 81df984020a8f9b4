//! An executor's polled filters (`eth_newFilter`, `eth_newBlockFilter`,
//! `eth_newPendingTransactionFilter`, `eth_getFilterChanges`, `eth_getFilterLogs`,
//! `eth_uninstallFilter`) and WebSocket subscriptions (`eth_subscribe` to `newHeads`, `logs`,
//! `newPendingTransactions` and lazychain's `lazyClaims`), against one validator and one
//! executor: a token deploy (with its mint event) is seen by every filter and subscription
//! that should see it; a filter not polled for its timeout (shortened here) is gone.

mod common;

use std::time::{Duration, Instant};

use alloy_primitives::{keccak256, Address, U256};
use common::*;
use jsonrpsee::core::client::{Subscription, SubscriptionClientT};
use jsonrpsee::rpc_params;
use jsonrpsee::ws_client::{WsClient, WsClientBuilder};
use serde_json::{json, Value};

const TOKEN_HEX: &str = include_str!("../exec-layer/contracts/build/LazyToken.bytecode.hex");
const GWEI: u128 = 1_000_000_000;
/// The executor's filter timeout here (`rpc.filter_timeout_secs`): long enough for the
/// flow's filters, polled every 200 ms, short enough to wait out.
const FILTER_TIMEOUT_SECS: u64 = 10;

/// Node 0 is the validator.
const EXECUTOR: usize = 1;

/// One validator, and one executor started after its filter timeout is shortened.
async fn start() -> TestNet {
    let mut net = TestNet::start_spec(&NetSpec {
        validators: 1,
        executors: 1,
        // No execution budget: the base fee stays at its floor, whatever the timing.
        gas_per_second: Some(0),
        deferred: &[EXECUTOR],
        ..NetSpec::default()
    });
    let path = net.manifest.nodes[EXECUTOR]
        .home
        .join(lazychain_config::CONFIG_FILE);
    let config = lazychain_config::NodeConfig::load(
        &path,
        std::iter::empty(),
        &[(
            "rpc.filter_timeout_secs".to_owned(),
            FILTER_TIMEOUT_SECS.to_string(),
        )],
    )
    .expect("executor config");
    config.save(&path, true).expect("save executor config");
    net.restart(EXECUTOR);
    net.wait_answer(
        EXECUTOR,
        "executing and gossiping",
        "lazy_status",
        || rpc_params![],
        |s| s["executedHeight"].as_u64() >= Some(2) && s["gossipPeers"].as_u64() >= Some(1),
    )
    .await;
    net
}

async fn call(net: &TestNet, method: &str, params: jsonrpsee::core::params::ArrayParams) -> Value {
    net.call(EXECUTOR, method, params)
        .await
        .unwrap_or_else(|e| panic!("{method}: {e:?}"))
}

/// Polls filter `id` until the changes gathered so far satisfy `done`; returns them all.
async fn changes_until(
    net: &TestNet,
    id: &str,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let mut gathered = Vec::new();
    let start = Instant::now();
    loop {
        let changes = call(net, "eth_getFilterChanges", rpc_params![id]).await;
        gathered.extend(changes.as_array().cloned().expect("changes are an array"));
        if done(&gathered) {
            return gathered;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "{what}: filter {id} gathered {gathered:?}; log tail:\n{}",
            net.log_tail(EXECUTOR)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn subscribe(
    ws: &WsClient,
    params: jsonrpsee::core::params::ArrayParams,
) -> Subscription<Value> {
    ws.subscribe("eth_subscribe", params, "eth_unsubscribe")
        .await
        .expect("eth_subscribe")
}

/// Reads notifications until one satisfies `found`; returns it.
async fn next_until(
    sub: &mut Subscription<Value>,
    what: &str,
    found: impl Fn(&Value) -> bool,
) -> Value {
    let start = Instant::now();
    loop {
        let left = DEADLINE.saturating_sub(start.elapsed());
        let item = tokio::time::timeout(left, sub.next())
            .await
            .unwrap_or_else(|_| panic!("{what}: no matching notification"))
            .unwrap_or_else(|| panic!("{what}: subscription closed"))
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        if found(&item) {
            return item;
        }
    }
}

fn hash_in(items: &[Value], hash: &str) -> bool {
    items.iter().any(|h| h.as_str() == Some(hash))
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_and_subscriptions_see_what_the_executor_does() {
    let net = start().await;
    let ws_url = net.manifest.nodes[EXECUTOR]
        .rpc_url
        .replacen("http://", "ws://", 1);
    let ws = WsClientBuilder::default()
        .build(&ws_url)
        .await
        .expect("WebSocket");
    let transfer_topic = format!("{}", keccak256("Transfer(address,address,uint256)"));

    // Subscriptions and filters first, then the transaction they should all see.
    let mut heads = subscribe(&ws, rpc_params!["newHeads"]).await;
    let mut logs = subscribe(
        &ws,
        rpc_params!["logs", json!({"topics": [transfer_topic]})],
    )
    .await;
    let mut pending = subscribe(&ws, rpc_params!["newPendingTransactions"]).await;
    let mut claims = subscribe(&ws, rpc_params!["lazyClaims"]).await;
    // geth's subscription ids: hex quantities.
    match heads.kind() {
        jsonrpsee::core::client::SubscriptionKind::Subscription(
            jsonrpsee::types::SubscriptionId::Str(id),
        ) => assert!(id.starts_with("0x"), "{id}"),
        other => panic!("subscription id {other:?}"),
    }
    let log_filter = call(
        &net,
        "eth_newFilter",
        rpc_params![json!({"fromBlock": "0x1", "topics": [transfer_topic]})],
    )
    .await;
    let log_filter = log_filter.as_str().expect("filter id").to_owned();
    let block_filter = call(&net, "eth_newBlockFilter", rpc_params![]).await;
    let block_filter = block_filter.as_str().expect("filter id").to_owned();
    let pending_filter = call(&net, "eth_newPendingTransactionFilter", rpc_params![]).await;
    let pending_filter = pending_filter.as_str().expect("filter id").to_owned();
    // geth's ids: distinct hex quantities.
    for id in [&log_filter, &block_filter, &pending_filter] {
        assert!(
            id.starts_with("0x") && u128::from_str_radix(&id[2..], 16).is_ok(),
            "{id}"
        );
    }
    assert_ne!(log_filter, block_filter);

    // A token deploy: its constructor mints (a Transfer event).
    let alice = dev_account_key(0);
    let mut deploy = hex::decode(TOKEN_HEX.trim()).expect("fixture hex");
    deploy.extend_from_slice(&U256::from(1_000_000u64).to_be_bytes::<32>());
    let deploy = sign_tx(&alice, 0, None, 0, 1_500_000, 2 * GWEI, deploy);
    let tx_hash = call(&net, "eth_sendRawTransaction", rpc_params![hex0x(&deploy)]).await;
    let tx_hash = tx_hash.as_str().expect("tx hash").to_owned();

    // The pending filter and subscription see it as the mempool takes it.
    changes_until(&net, &pending_filter, "pending filter", |items| {
        hash_in(items, &tx_hash)
    })
    .await;
    next_until(&mut pending, "newPendingTransactions", |h| {
        h.as_str() == Some(tx_hash.as_str())
    })
    .await;

    let receipt = net
        .wait_answer(
            EXECUTOR,
            "deploy receipt",
            "eth_getTransactionReceipt",
            || rpc_params![tx_hash.clone()],
            |r| !r.is_null(),
        )
        .await;
    let token: Address = receipt["contractAddress"]
        .as_str()
        .expect("contract address")
        .parse()
        .expect("address");
    let block_hash = receipt["blockHash"]
        .as_str()
        .expect("block hash")
        .to_owned();
    let block_number = receipt["blockNumber"].clone();
    let is_mint = |log: &Value| {
        log["address"]
            .as_str()
            .and_then(|a| a.parse::<Address>().ok())
            == Some(token)
            && log["transactionHash"].as_str() == Some(tx_hash.as_str())
            && log["topics"][0].as_str() == Some(transfer_topic.as_str())
    };

    // The block filter sees its block; the log filter its event.
    changes_until(&net, &block_filter, "block filter", |items| {
        hash_in(items, &block_hash)
    })
    .await;
    let gathered = changes_until(&net, &log_filter, "log filter", |items| {
        items.iter().any(is_mint)
    })
    .await;
    assert!(gathered
        .iter()
        .all(|l| l["topics"][0].as_str() == Some(transfer_topic.as_str())));
    // eth_getFilterLogs answers the filter's whole range, as eth_getLogs would.
    let all = call(&net, "eth_getFilterLogs", rpc_params![log_filter.clone()]).await;
    let by_get_logs = call(
        &net,
        "eth_getLogs",
        rpc_params![
            json!({"fromBlock": "0x1", "toBlock": block_number, "topics": [transfer_topic]})
        ],
    )
    .await;
    assert!(all.as_array().expect("logs").iter().any(is_mint), "{all}");
    assert!(by_get_logs
        .as_array()
        .expect("logs")
        .iter()
        .all(|l| all.as_array().expect("logs").contains(l)));

    // Only log filters have logs (geth's answer for the others).
    let refused = net
        .call(
            EXECUTOR,
            "eth_getFilterLogs",
            rpc_params![block_filter.clone()],
        )
        .await
        .expect_err("a block filter has no logs");
    assert_eq!(
        (refused.code, refused.message.as_str()),
        (-32000, "filter not found")
    );

    // Subscriptions: the head of the deploy's block, its mint log, claim statuses.
    let head = next_until(&mut heads, "newHeads", |h| {
        h["hash"].as_str() == Some(block_hash.as_str())
    })
    .await;
    assert_eq!(head["number"], block_number);
    assert!(head.get("transactions").is_none(), "{head}");
    assert!(
        head["stateRoot"].is_string() && head["parentHash"].is_string(),
        "{head}"
    );
    let log = next_until(&mut logs, "logs", is_mint).await;
    assert_eq!(log["blockHash"].as_str(), Some(block_hash.as_str()));
    let status = next_until(&mut claims, "lazyClaims", |c| c["status"].is_string()).await;
    assert!(
        status["height"].is_string() && status["stateRoot"].is_string(),
        "{status}"
    );
    // The executor is bonded: its claims make its heights safe.
    let safe = next_until(&mut claims, "lazyClaims safe", |c| c["status"] == "safe").await;
    assert!(safe["hash"].is_string(), "{safe}");

    // Uninstalling: true once, then false; the filter is gone.
    for (id, _) in [(&block_filter, ()), (&pending_filter, ())] {
        assert_eq!(
            call(&net, "eth_uninstallFilter", rpc_params![id.clone()]).await,
            json!(true)
        );
        assert_eq!(
            call(&net, "eth_uninstallFilter", rpc_params![id.clone()]).await,
            json!(false)
        );
        let gone = net
            .call(EXECUTOR, "eth_getFilterChanges", rpc_params![id.clone()])
            .await
            .expect_err("uninstalled");
        assert_eq!(
            (gone.code, gone.message.as_str()),
            (-32000, "filter not found")
        );
    }

    // A filter not polled for its timeout is removed.
    let idle = call(&net, "eth_newBlockFilter", rpc_params![]).await;
    let idle = idle.as_str().expect("filter id").to_owned();
    tokio::time::sleep(Duration::from_secs(FILTER_TIMEOUT_SECS + 2)).await;
    let expired = net
        .call(EXECUTOR, "eth_getFilterChanges", rpc_params![idle.clone()])
        .await
        .expect_err("expired");
    assert_eq!(
        (expired.code, expired.message.as_str()),
        (-32000, "filter not found")
    );

    // Unsubscribing ends a subscription.
    heads.unsubscribe().await.expect("eth_unsubscribe");

    // Subscriptions need a WebSocket: over HTTP, geth's answer.
    let http = net
        .call(EXECUTOR, "eth_subscribe", rpc_params!["newHeads"])
        .await
        .expect_err("no subscriptions over HTTP");
    assert_eq!(
        (http.code, http.message.as_str()),
        (-32601, "notifications not supported")
    );
    // An unknown kind, over a WebSocket: geth's answer.
    let unknown = ws
        .subscribe::<Value, _>("eth_subscribe", rpc_params!["newBlocks"], "eth_unsubscribe")
        .await
        .expect_err("unknown kind");
    match unknown {
        jsonrpsee::core::ClientError::Call(e) => assert_eq!(
            (e.code(), e.message()),
            (-32601, "no \"newBlocks\" subscription in eth namespace")
        ),
        other => panic!("unknown kind: {other}"),
    }
}
