//! The Ethereum JSON-RPC an executor serves to wallets and tools, on the node's RPC port
//! beside the data-chain methods (`eth_chainId`, `net_version`, `web3_clientVersion`,
//! `eth_sendRawTransaction` forwards to validators through the node's mempool and gossip,
//! after the executor's state check, [`crate::admission`]); `eth_sendRawTransactionSync`
//! waits for the receipt too (`send.rs`).
//!
//! State is served at every block of a recent window (`executor.state_history_blocks`, 4,096
//! by default: the heights the store's history table reaches), named by number, tag or
//! EIP-1898 hash; `latest` and `pending` read the latest executed state. Older blocks are
//! refused with a message naming the window, blocks not yet executed with geth's "header not
//! found". `safe` is the highest executed height whose state root some executor claimed and no
//! fraud proof reverted, `finalized` the highest whose root is final in state consensus (see
//! [`crate::ExecShared::tags`]). Reverts answer code 3 with the revert data, as geth does.
//!
//! Filters (`eth_newFilter` and the rest, `filters.rs`) and WebSocket subscriptions
//! (`eth_subscribe` to `newHeads`, `logs`, `newPendingTransactions` and lazychain's
//! `lazyClaims`, `subscriptions.rs`) follow geth. They learn of new heights from the executor's
//! feed of executed blocks ([`ExecShared::subscribe_executed`]) and read them from the state
//! store, and of pooled transactions from the node's feed (`NodeShared::subscribe_pooled`);
//! neither feed ever makes execution or admission wait. Limits: a filter not polled for
//! `rpc.filter_timeout_secs` (5 minutes) is removed; at most [`MAX_FILTERS`] are installed; a
//! subscriber more than [`MAX_CATCHUP`] heights behind skips the older ones.
//!
//! The methods are jsonrpsee server traits ([`EthApiServer`], [`FilterApiServer`],
//! [`SubscriptionApiServer`]) over alloy's RPC types; this file hands them, and the executor's
//! fields of `lazy_status`, to the node (`node.rs`, through the node's `NodeExtension` trait).
//! Parameters decode strictly, and one that does not is answered -32602 with a message naming
//! it (`params`).
//! geth's `debug_traceTransaction` and `debug_traceCall` are a trait of their own (`debug`).

mod debug;
mod error;
mod eth;
mod filters;
mod params;
mod send;
mod subscriptions;
mod types;

use std::sync::Arc;
use std::time::Duration;

use lazychain_data_chain_node::shared::NodeShared;
use serde_json::{json, Map, Value};

use crate::admission::Admission;
use crate::executor::ExecShared;

pub use debug::{DebugApiServer, DebugRpc};
pub use error::EthRpcError;
pub use eth::{EthApiServer, EthRpc};
pub use filters::{
    FilterApiServer, FilterRpc, DEFAULT_FILTER_TIMEOUT, MAX_FILTERS, MAX_HEIGHTS_PER_POLL,
};
pub use subscriptions::{SubscriptionApiServer, SubscriptionRpc, MAX_CATCHUP};

/// The tip `eth_maxPriorityFeePerGas` suggests (what anvil suggests).
const SUGGESTED_TIP: u64 = 1_000_000_000;
/// Most blocks one `eth_getLogs` may scan, and most `eth_feeHistory` blocks.
const MAX_LOG_RANGE: u64 = 10_000;
const MAX_FEE_HISTORY: u64 = 1_024;

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// The executor's fields of the node's `lazy_status` (its role among them).
pub fn status_fields(exec: &ExecShared, v: &mut Map<String, Value>) {
    let s = exec.status();
    v.insert("role".into(), json!("executor"));
    v.insert("dataHeight".into(), json!(s.data_height));
    v.insert("executedHeight".into(), json!(s.executed_height));
    v.insert(
        "lag".into(),
        json!(s.data_height.saturating_sub(s.executed_height)),
    );
    v.insert("stateRoot".into(), json!(hex0x(s.state_root.as_slice())));
    if let Ok(window) = exec.state.state_window() {
        v.insert(
            "stateHistory".into(),
            json!({ "oldest": window.oldest, "latest": window.latest }),
        );
    }
    v.insert("safetyAlarm".into(), json!(exec.safety_alarm()));
    let own = exec.own_claims();
    v.insert(
        "claims".into(),
        json!({
            "executor": hex0x(&own.executor),
            "bonded": own.bonded,
            "latestHeight": own.latest.map(|(h, _)| h),
            "latestStatus": own.latest.map(|(_, status)| status),
            "slashed": own.slashed,
            "openDisputes": own.open_disputes,
            "unprovenDisputes": own.unproven_disputes,
            "disputes": own.disputes.iter().map(|d| json!({
                "claim": d.claim.to_string(),
                "height": d.height,
                "txIndex": d.tx_index,
                "attempts": d.attempts,
                "proofSubmitted": d.proof_submitted,
                "lastError": d.last_error,
            })).collect::<Vec<_>>(),
        }),
    );
}

/// How the executor's RPC serves filters.
#[derive(Clone, Copy, Debug)]
pub struct RpcOptions {
    /// A filter not polled for this long is removed (`rpc.filter_timeout_secs`).
    pub filter_timeout: Duration,
}

impl Default for RpcOptions {
    fn default() -> Self {
        RpcOptions {
            filter_timeout: DEFAULT_FILTER_TIMEOUT,
        }
    }
}

/// The executor's methods, served beside the node's: the `eth_*` calls (with `admission`,
/// transactions it holds for nonce gaps show as pending), `eth_sendRawTransactionSync`, the
/// polled filters and the WebSocket subscriptions.
pub fn register(
    exec: Arc<ExecShared>,
    node: Arc<NodeShared>,
    options: RpcOptions,
    admission: Option<Arc<Admission>>,
) -> Result<jsonrpsee::Methods, jsonrpsee::core::RegisterMethodError> {
    let eth = || {
        let rpc = EthRpc::new(exec.clone(), node.clone());
        match &admission {
            Some(admission) => rpc.with_admission(admission.clone()),
            None => rpc,
        }
    };
    let mut methods: jsonrpsee::Methods = eth().into_rpc().into();
    methods.merge(send::module(send::SendSync {
        node: node.clone(),
        rpc: Arc::new(eth()),
        admission: admission.clone(),
    })?)?;
    methods.merge(FilterRpc::new(exec.clone(), node.clone(), options.filter_timeout).into_rpc())?;
    methods.merge(DebugRpc::new(exec.clone(), node.clone()).into_rpc())?;
    methods.merge(SubscriptionRpc::new(exec, node).into_rpc())?;
    Ok(methods)
}
