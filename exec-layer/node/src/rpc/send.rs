//! `eth_sendRawTransactionSync` (EIP-7966): submits a transaction as `eth_sendRawTransaction`
//! does and answers its receipt once executed here, or an error at the timeout.
//!
//! - Parameters: the raw transaction (hex), and optionally the most milliseconds to wait (a
//!   JSON integer or a hex quantity); a missing, zero or too large timeout uses the default.
//! - A nonce above the sender's pending nonce is not held (EIP-7966): code 6, `data` the
//!   expected nonce.
//! - Refused by the checks of `eth_sendRawTransaction`: its error (-32000, geth's message).
//! - No receipt within the timeout: code 4, `data` the transaction hash; the transaction stays
//!   pooled.

use std::sync::Arc;
use std::time::Duration;

use alloy_consensus::Transaction as _;
use alloy_primitives::B256;
use jsonrpsee::types::{ErrorObjectOwned, Params};
use jsonrpsee::RpcModule;
use lazychain_data_chain_node::shared::NodeShared;
use lazychain_data_chain_types::tx::{decode_canonical, recover_sender};
use serde::Deserialize;
use serde_json::Value;

use super::eth::EthRpc;
use crate::admission::Admission;

/// The wait when the caller names none (EIP-7966 recommends 2 s; a block here is decided and
/// then executed, which takes a little longer).
pub const DEFAULT_SYNC_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest wait a caller may ask for; a longer one uses the default (EIP-7966).
pub const MAX_SYNC_TIMEOUT: Duration = Duration::from_secs(60);
/// How often the receipt is looked for while waiting.
const RECEIPT_POLL: Duration = Duration::from_millis(50);

const TX_REJECTED: i32 = -32000;
const INVALID_PARAMS: i32 = -32602;
const INTERNAL: i32 = -32603;
/// EIP-7966's codes.
const SYNC_TIMEOUT: i32 = 4;
const SYNC_NONCE_GAP: i32 = 6;

/// What the method reads: the node it submits through, the receipts, the pending nonce.
pub struct SendSync {
    pub node: Arc<NodeShared>,
    pub rpc: Arc<EthRpc>,
    pub admission: Option<Arc<Admission>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum TimeoutParam {
    Millis(u64),
    Quantity(String),
}

fn err(code: i32, message: impl Into<String>, data: Option<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, message.into(), data)
}

/// The wait asked for, or the default when it is missing or out of range.
fn timeout_of(param: Option<TimeoutParam>) -> Duration {
    let millis = match param {
        Some(TimeoutParam::Millis(ms)) => Some(ms),
        Some(TimeoutParam::Quantity(q)) => q
            .strip_prefix("0x")
            .and_then(|h| u64::from_str_radix(h, 16).ok()),
        None => None,
    };
    match millis.map(Duration::from_millis) {
        Some(t) if !t.is_zero() && t <= MAX_SYNC_TIMEOUT => t,
        _ => DEFAULT_SYNC_TIMEOUT,
    }
}

impl SendSync {
    /// Error 6 when `raw` has a nonce past the sender's pending nonce (it would be held).
    fn refuse_gap(&self, raw: &[u8]) -> Result<(), ErrorObjectOwned> {
        let Some(admission) = &self.admission else {
            return Ok(());
        };
        // What does not decode is refused with its reason by the submission below.
        let Ok(envelope) = decode_canonical(raw) else {
            return Ok(());
        };
        let Ok(sender) = recover_sender(&envelope) else {
            return Ok(());
        };
        let Ok(view) = admission.sender_view(&self.node, &sender) else {
            return Ok(());
        };
        if envelope.nonce() > view.pending_nonce {
            return Err(err(
                SYNC_NONCE_GAP,
                "The transaction was rejected due to a nonce gap. Please resubmit with the next on-chain nonce.",
                Some(format!("0x{:x}", view.pending_nonce)),
            ));
        }
        Ok(())
    }

    async fn send(self: Arc<Self>, params: Params<'static>) -> Result<Value, ErrorObjectOwned> {
        let mut seq = params.sequence();
        let data: String = seq.next()?;
        let timeout = timeout_of(seq.optional_next().unwrap_or(None));
        let raw = hex::decode(data.strip_prefix("0x").unwrap_or(&data))
            .map_err(|e| err(INVALID_PARAMS, format!("invalid hex data: {e}"), None))?;
        let hash = {
            let this = self.clone();
            let raw = raw.clone();
            tokio::task::spawn_blocking(move || {
                this.refuse_gap(&raw)?;
                this.node
                    .submit_local(&raw)
                    .map_err(|e| err(TX_REJECTED, e.to_string(), None))
            })
            .await
            .map_err(|e| err(INTERNAL, e.to_string(), None))??
        };
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(receipt) = self.receipt(hash).await? {
                return Ok(receipt);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(err(
                    SYNC_TIMEOUT,
                    "The transaction was added to the mempool but wasn't processed within the designated timeout interval.",
                    Some(hash.to_string()),
                ));
            }
            tokio::time::sleep(RECEIPT_POLL).await;
        }
    }

    async fn receipt(self: &Arc<Self>, hash: B256) -> Result<Option<Value>, ErrorObjectOwned> {
        let rpc = self.rpc.clone();
        let found = tokio::task::spawn_blocking(move || rpc.find_receipt(hash))
            .await
            .map_err(|e| err(INTERNAL, e.to_string(), None))?
            .map_err(ErrorObjectOwned::from)?;
        found
            .map(serde_json::to_value)
            .transpose()
            .map_err(|e| err(INTERNAL, e.to_string(), None))
    }
}

/// The module serving `eth_sendRawTransactionSync`.
pub fn module(send: SendSync) -> Result<RpcModule<SendSync>, jsonrpsee::core::RegisterMethodError> {
    let mut m = RpcModule::new(send);
    m.register_async_method("eth_sendRawTransactionSync", |params, send, _| {
        send.send(params)
    })?;
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_default_when_missing_zero_or_too_long() {
        assert_eq!(timeout_of(None), DEFAULT_SYNC_TIMEOUT);
        assert_eq!(
            timeout_of(Some(TimeoutParam::Millis(1500))),
            Duration::from_millis(1500)
        );
        assert_eq!(
            timeout_of(Some(TimeoutParam::Quantity("0x3e8".into()))),
            Duration::from_secs(1)
        );
        assert_eq!(
            timeout_of(Some(TimeoutParam::Millis(0))),
            DEFAULT_SYNC_TIMEOUT
        );
        assert_eq!(
            timeout_of(Some(TimeoutParam::Millis(3_600_000))),
            DEFAULT_SYNC_TIMEOUT
        );
        assert_eq!(
            timeout_of(Some(TimeoutParam::Quantity("soon".into()))),
            DEFAULT_SYNC_TIMEOUT
        );
    }
}
