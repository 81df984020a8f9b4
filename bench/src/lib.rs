//! Benchmarks of lazychain, as commands that print a table: load generators with pre-signed
//! transactions, measurement of what real node processes decide, and the result tables.
//!
//! Benchmarks talk to nodes through their public RPC only, like any client; the executor
//! benchmark (`exec`) and the fraud-proof benchmark (`fraud`) run the executor's and the
//! verifier's own code paths in-process, and so does the differential proof fuzzer
//! (`proofs`). The execution of the benchmark-only coupled mode (`coupled_execution`) runs
//! inside validators started with `consensus.coupled_execution`, wired in by the binary; no
//! node crate links this one, and no test asserts a timing from here.

#![forbid(unsafe_code)]

pub mod all;
pub mod claims;
pub mod coupled;
pub mod coupled_execution;
pub mod data_chain;
pub mod exec;
pub mod fraud;
pub mod fraud_net;
pub mod lag;
pub mod procs;
pub mod proofs;
pub mod soak;
pub mod stats;
pub mod txgen;
