//! State consensus as a node service. Every node (validator, full node, executor) runs one
//! [`StateNode`]: it feeds the claims and fraud proofs of every decided block, in height order,
//! to `lazychain-fraud`'s pure rules (`state`), keeps the pool of claims and fraud proofs
//! waiting for a block (`items`), checks and takes them from JSON-RPC, gossip and an embedded
//! executor, and serves the state-consensus RPC (`rpc`). It plugs into a data-chain node
//! through the validator's `StateService` trait, which the binary or the executor wires in.
//!
//! It must not execute anything except through `lazychain-fraud`'s verifier (the one
//! transaction a fraud proof carries, over its witness), and it must not link the consensus
//! engine or the executor, localnet or bench crates.

#![forbid(unsafe_code)]

pub mod fault;
pub mod items;
pub mod metrics;
pub mod rpc;
pub mod service;
pub mod state;

pub use fault::ValidatorFault;
pub use service::{FollowError, InvalidItem, ItemSubmitError, StateNode, CLAIM_LOOKAHEAD};
pub use state::{
    ProofRecord, ProofRefused, RecordedClaim, RevertedEvent, StateError, StateFollower,
};
