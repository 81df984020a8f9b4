//! The Malachite `Context` of lazychain's data chain: heights, validators, the value (a block
//! header), votes, proposals, proposal parts, ed25519 signing with domain-separated preimages,
//! the wire codec the engine needs, proposal streaming, and the single place that starts the
//! engine.
//!
//! It is kept apart from the node because every type here is monomorphised into the engine:
//! editing it recompiles Malachite's generic code, editing the node does not. It owns no state,
//! no storage and no RPC, and it never executes a transaction.

#![forbid(unsafe_code)]

pub mod codec;
pub mod context;
pub mod engine;
pub mod parts;
pub mod signing;

pub use context::{
    Address, BlockValue, Ed25519Scheme, Height, KeyDecodeError, LazyContext, Proposal,
    ProposalPart, Signature, Validator, ValidatorSet, Vote,
};
pub use signing::{LazySigner, LazyVerifier};

/// Re-exported so that the node does not depend on Malachite crates by name.
pub use malachitebft_app_channel as malachite;
