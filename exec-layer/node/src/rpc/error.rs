//! Why an `eth_*` call failed, and the JSON-RPC error object each reason answers with (the
//! codes geth uses, so wallets recognise them).

use alloy_primitives::{Bytes, U256};
use jsonrpsee::types::ErrorObjectOwned;
use lazychain_exec_stf::{CallError, CallOutcome};

use super::params::ParamError;
use super::MAX_LOG_RANGE;

/// geth's "server error": the request was understood and cannot be served.
const SERVER: i32 = -32000;
const INVALID_PARAMS: i32 = -32602;
const INTERNAL: i32 = -32603;
/// geth answers an unknown subscription kind as an unknown method.
const METHOD_NOT_FOUND: i32 = -32601;
/// geth's code for a reverted call; the revert data rides in the error's `data`.
const REVERTED: i32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum EthRpcError {
    /// A parameter that does not decode; the message names it.
    #[error(transparent)]
    InvalidParams(#[from] ParamError),
    #[error("state at block {height} is not available: this executor keeps the state of blocks {oldest} to {latest} (executor.state_history_blocks)")]
    StateOutOfWindow {
        height: u64,
        oldest: u64,
        latest: u64,
    },
    /// A block number beyond the executed height (geth's words).
    #[error("header not found")]
    HeaderNotFound,
    /// An EIP-1898 block hash of no executed block (geth's words).
    #[error("header for hash not found")]
    HeaderForHashNotFound,
    #[error("SAFETY ALARM: this executor's state disagrees with a root state consensus finalized; it does not serve the {tag:?} tag (see lazy_status.safetyAlarm)")]
    SafetyAlarm { tag: &'static str },
    #[error("unknown block")]
    UnknownBlock,
    #[error("block range too large: at most {MAX_LOG_RANGE} blocks per query")]
    RangeTooLarge,
    #[error("{}", revert_message(.0))]
    Reverted(Bytes),
    #[error("execution halted: {0}")]
    Halted(String),
    /// The call itself is invalid (gas, funds, nonce): geth's "server error".
    #[error("{0}")]
    InvalidCall(String),
    /// No such filter: never installed, uninstalled, or expired (geth's words).
    #[error("filter not found")]
    FilterNotFound,
    #[error(
        "too many filters: at most {max} are installed at once; uninstall some or let them expire"
    )]
    TooManyFilters { max: usize },
    /// `eth_subscribe` of a kind not served (geth's words).
    #[error("no {kind:?} subscription in eth namespace")]
    UnknownSubscription { kind: String },
    /// A store read failed or a record the indexes promise is missing.
    #[error("{0}")]
    Internal(String),
}

impl EthRpcError {
    pub fn internal(e: impl std::fmt::Display) -> Self {
        Self::Internal(e.to_string())
    }

    /// geth's answer to a call that did not succeed.
    pub fn from_outcome(outcome: CallOutcome) -> Self {
        match outcome {
            CallOutcome::Revert { output, .. } => Self::Reverted(output),
            CallOutcome::Halt { reason, .. } => Self::Halted(reason.to_string()),
            CallOutcome::Success { .. } => Self::internal("call succeeded"),
        }
    }

    fn code(&self) -> i32 {
        match self {
            Self::InvalidParams(_) => INVALID_PARAMS,
            Self::Reverted(_) => REVERTED,
            Self::Internal(_) => INTERNAL,
            Self::UnknownSubscription { .. } => METHOD_NOT_FOUND,
            Self::StateOutOfWindow { .. }
            | Self::HeaderNotFound
            | Self::HeaderForHashNotFound
            | Self::SafetyAlarm { .. }
            | Self::UnknownBlock
            | Self::RangeTooLarge
            | Self::FilterNotFound
            | Self::TooManyFilters { .. }
            | Self::Halted(_)
            | Self::InvalidCall(_) => SERVER,
        }
    }
}

impl From<CallError> for EthRpcError {
    fn from(e: CallError) -> Self {
        match e {
            CallError::Invalid(msg) => Self::InvalidCall(msg),
            CallError::Read(e) => Self::internal(e),
        }
    }
}

impl From<EthRpcError> for ErrorObjectOwned {
    fn from(e: EthRpcError) -> Self {
        let code = e.code();
        match &e {
            EthRpcError::Reverted(output) => {
                ErrorObjectOwned::owned(code, e.to_string(), Some(output.clone()))
            }
            _ => ErrorObjectOwned::owned(code, e.to_string(), None::<()>),
        }
    }
}

fn revert_message(output: &[u8]) -> String {
    match revert_reason(output) {
        Some(reason) => format!("execution reverted: {reason}"),
        None => "execution reverted".to_owned(),
    }
}

/// The message of a Solidity `Error(string)` revert.
fn revert_reason(output: &[u8]) -> Option<String> {
    const ERROR_SELECTOR: [u8; 4] = [0x08, 0xc3, 0x79, 0xa0];
    if output.len() < 4 + 64 || output[..4] != ERROR_SELECTOR {
        return None;
    }
    let body = &output[4..];
    let len = usize::try_from(U256::from_be_slice(&body[32..64])).ok()?;
    let text = body.get(64..64usize.checked_add(len)?)?;
    String::from_utf8(text.to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revert_reasons_decode() {
        // Error("insufficient balance")
        let mut data = vec![0x08, 0xc3, 0x79, 0xa0];
        data.extend_from_slice(&U256::from(32).to_be_bytes::<32>());
        data.extend_from_slice(&U256::from(20).to_be_bytes::<32>());
        let mut text = b"insufficient balance".to_vec();
        text.resize(32, 0);
        data.extend_from_slice(&text);
        assert_eq!(
            revert_reason(&data).as_deref(),
            Some("insufficient balance")
        );
        assert_eq!(revert_reason(&data[..40]), None);
        // A length beyond the data.
        let mut long = data.clone();
        long[4 + 32 + 31] = 200;
        assert_eq!(revert_reason(&long), None);
    }

    #[test]
    fn reverts_answer_code_3_with_their_data() {
        let e = ErrorObjectOwned::from(EthRpcError::Reverted(Bytes::from_static(&[1, 2])));
        assert_eq!(e.code(), 3);
        assert_eq!(e.message(), "execution reverted");
        assert_eq!(e.data().map(|d| d.get()), Some("\"0x0102\""));
        let e = ErrorObjectOwned::from(EthRpcError::StateOutOfWindow {
            height: 1,
            oldest: 3,
            latest: 7,
        });
        assert_eq!(e.code(), -32000);
        assert_eq!(
            e.message(),
            "state at block 1 is not available: this executor keeps the state of blocks 3 to 7 (executor.state_history_blocks)"
        );
        assert!(e.data().is_none());
    }

    #[test]
    fn bad_parameters_answer_invalid_params_with_their_reason() {
        let e =
            ErrorObjectOwned::from(EthRpcError::from(ParamError::HexPrefix { what: "address" }));
        assert_eq!(e.code(), -32602);
        assert_eq!(e.message(), "address: hex string must start with 0x");
        assert!(e.data().is_none());
    }
}
