//! The validator node of lazychain's data chain: the Malachite application loop (proposal
//! building, streaming and checking, decision commits, sync), the mempool, the redb block
//! store, transaction gossip on our own libp2p network, JSON-RPC, and the operator HTTP
//! endpoints.
//!
//! State consensus over the decided blocks (the claims and fraud proofs they carry, the item
//! pool, their RPC) is a service wired in through `state_service` (`lazychain-fraud-node`
//! implements it); the node carries its items in blocks and its messages on the state gossip
//! topic, and serves its RPC methods and status beside its own. An executor plugs in the same
//! way (`extension`): its RPC methods and status fields, and tasks the node stops in order.
//!
//! A validator orders and stores data only: nothing here reads EVM state, executes a block or
//! knows what a claim or a fraud proof is. The benchmark-only coupled mode (off by default)
//! executes every block on the consensus path, to measure what the split saves; the execution
//! is wired in from outside through `coupled`, and this crate knows none of its types. Wire
//! formats and validity rules live in `lazychain-data-chain-types`, the engine's types in
//! `lazychain-data-chain-consensus`.

#![forbid(unsafe_code)]

pub(crate) mod app;
pub mod coupled;
pub mod extension;
pub(crate) mod gossip;
pub(crate) mod http;
pub(crate) mod mempool;
pub mod metrics;
pub mod node;
pub(crate) mod rpc;
pub(crate) mod rpc_http;
pub(crate) mod senders;
pub mod shared;
pub mod state_service;
pub mod store;
pub(crate) mod tables;

pub use extension::{
    AdmissionVerdict, ExtensionError, NodeExtension, NodeHandles, Started, TxAdmission,
};
/// A replacement (same sender and nonce) must pay this many percent more max fee per gas.
pub use mempool::REPLACEMENT_BUMP_PERCENT;
pub use node::{run_node_with, NodeAddOns, NodeError, Role};
