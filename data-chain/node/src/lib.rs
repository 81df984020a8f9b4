//! The validator node of lazychain's data chain: the Malachite application loop (proposal
//! building, streaming and checking, decision commits, sync), the mempool, the redb block
//! store, transaction gossip on our own libp2p network, JSON-RPC, and the operator HTTP
//! endpoints.
//!
//! It also runs state consensus over the decided blocks (`state`): the claims and fraud proofs
//! they carry, the item pool and the state gossip topic, and the RPC that serves them.
//!
//! A validator orders and stores data only: nothing here reads EVM state or executes a block.
//! The one exception is bounded and stateless: checking a fraud proof re-executes its single
//! transaction over the witness the proof carries (`lazychain-fraud`). The benchmark-only
//! coupled mode (off by default) executes every block on the consensus path, to measure what
//! the split saves; the execution is wired in from outside through `coupled`, and this crate
//! knows none of its types. Wire formats and
//! validity rules live in `lazychain-data-chain-types`, the engine's types in
//! `lazychain-data-chain-consensus`.

#![forbid(unsafe_code)]

pub mod app;
pub mod coupled;
pub mod fault;
pub mod gossip;
pub mod http;
pub mod items;
pub mod mempool;
pub mod metrics;
pub mod node;
pub mod rpc;
pub mod senders;
pub mod shared;
pub mod state;
pub mod state_rpc;
pub mod store;
pub mod tables;

pub use node::{
    run_node, run_node_with, run_validator, ExtensionError, NodeAddOns, NodeError, NodeExtension,
    NodeHandles, Role,
};
