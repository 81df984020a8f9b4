//! The lazy executor node: a keyless full node of the data chain (it verifies every commit
//! certificate against the validator set and never votes) with an execution loop beside it.
//! Decided blocks are executed in order with the pure transition of `lazychain-exec-stf`;
//! state, receipts, intermediate roots and traces are kept in redb; the Ethereum JSON-RPC
//! that wallets use is served from there. It signs and posts a state claim for every
//! executed height (when its key is bonded) and proves other executors' wrong roots.
//!
//! It must not take part in data consensus, and it must not compute state any other way than
//! through `lazychain-exec-stf` (a second implementation would diverge from the verifiers').

#![forbid(unsafe_code)]

pub mod admission;
pub mod claims;
pub mod direct;
pub mod executor;
pub mod metrics;
pub mod node;
pub mod prover;
pub mod rpc;
pub mod store;
pub mod tables;

pub use claims::Fault;
pub use executor::{
    chain_params, ExecShared, ExecStatus, Executor, ExecutorError, ExecutorOptions,
};
pub use node::{run_executor, ExecNodeError, StartError};
pub use store::{ExecutedBlock, StateStore, StoreError};
