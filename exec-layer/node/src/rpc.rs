//! The Ethereum JSON-RPC an executor serves to wallets and tools, on the node's RPC port
//! beside the data-chain methods (`eth_chainId`, `net_version`, `web3_clientVersion`,
//! `eth_sendRawTransaction` forwards to validators through the node's mempool and gossip).
//!
//! State is the latest executed state only: `latest` and `pending` read it, and so does a
//! number equal to the executed height; any other height is refused (no historical state is
//! kept). For blocks, `safe` is the highest executed height whose state root some executor
//! claimed and no fraud proof reverted, `finalized` the highest whose root is final in state
//! consensus (see [`crate::ExecShared::tags`]). Reverts answer code 3 with the revert
//! data, as geth does.
//!
//! The methods are a jsonrpsee server trait ([`EthApiServer`]) over alloy's RPC types; this
//! file adds them, and the executor's `lazy_status`, to the node's module. Parameters decode
//! strictly, and one that does not is answered -32602 with a message naming it (`params`).

mod error;
mod eth;
mod params;
mod types;

use std::sync::Arc;

use jsonrpsee::RpcModule;
use lazychain_data_chain_node::rpc::status_json;
use lazychain_data_chain_node::shared::NodeShared;
use serde_json::json;

use crate::executor::ExecShared;

pub use error::EthRpcError;
pub use eth::{EthApiServer, EthRpc};

/// The tip `eth_maxPriorityFeePerGas` suggests (what anvil suggests).
const SUGGESTED_TIP: u64 = 1_000_000_000;
/// Most blocks one `eth_getLogs` may scan, and most `eth_feeHistory` blocks.
const MAX_LOG_RANGE: u64 = 10_000;
const MAX_FEE_HISTORY: u64 = 1_024;

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// Adds the executor's methods to the node's module (replacing its `lazy_status`).
pub fn register(
    module: &mut RpcModule<Arc<NodeShared>>,
    exec: Arc<ExecShared>,
    node: Arc<NodeShared>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    module.remove_method("lazy_status");
    let eth = EthRpc::new(exec.clone(), node.clone()).into_rpc();
    let mut m = RpcModule::new((exec, node));

    m.register_method("lazy_status", |_, ctx, _| {
        let s = ctx.0.status();
        let mut v = status_json(&ctx.1);
        v["role"] = json!("executor");
        v["dataHeight"] = json!(s.data_height);
        v["executedHeight"] = json!(s.executed_height);
        v["lag"] = json!(s.data_height.saturating_sub(s.executed_height));
        v["stateRoot"] = json!(hex0x(s.state_root.as_slice()));
        v["safetyAlarm"] = json!(ctx.0.safety_alarm());
        let own = ctx.0.own_claims();
        v["claims"] = json!({
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
        });
        v
    })?;
    m.merge(eth)?;
    module.merge(m)?;
    Ok(())
}
