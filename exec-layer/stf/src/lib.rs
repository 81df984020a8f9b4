//! The pure state transition of lazychain's execution layer.
//!
//! Given the state before a decided data block and the block's transactions, this crate
//! computes everything an executor claims about the block: each transaction run in order
//! with revm (a transaction that fails a state check is skipped by a deterministic rule),
//! the flat-state writes, the state root after every `trace_period` transactions, the trace
//! root, the receipts and their root. It also defines how EVM state maps onto the
//! authenticated flat map ([`keys`]). For the executor's tracers it runs a call, or one
//! transaction of a block after the block's earlier ones, with a revm inspector attached
//! ([`trace`]); consensus execution runs without one.
//!
//! Executors and fraud-proof verifiers must run this same code, so it owns no I/O: state is
//! read through [`StateReader`], which the executor backs with its database and a verifier
//! with a witness. No clock, no network, no database here.

#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod call;
pub mod env;
pub mod execute;
pub mod genesis;
pub mod keys;
pub mod overrides;
pub mod receipt;
pub mod state;
pub mod trace;
pub mod txlog;
pub mod witness;

pub use call::{call, create_access_list, estimate_gas, CallError, CallOutcome, CallRequest};
pub use env::{hardfork, BlockContext, ChainParams, HARDFORKS};
pub use execute::{
    execute_block, execute_block_logged, execute_prefix, prepare, prepare_with, trace_root,
    BlockExecution, Commitment, CommitmentError, ExecError, PrepareError, PreparedTx,
};
pub use keys::{AccountValue, StateKey};
pub use overrides::{AccountOverride, BlockOverrides, Overridden, StateOverrides, StorageOverride};
pub use receipt::{receipts_root, Receipt, TxStatus};
pub use state::{MemoryState, Overlay, ReadError, StateReader, StateRef, StateWrites};
pub use trace::{trace_block_tx, trace_call, EvmContext, TraceError, TracedCall, TracedTx};
pub use txlog::{TxWrite, TxWriteLog};

/// revm, re-exported so callers use the exact version the transition runs.
pub use revm;
