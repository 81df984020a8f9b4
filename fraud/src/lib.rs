//! State claims and state consensus for lazychain.
//!
//! This crate owns the wire types executors sign ([`StateClaim`], [`SignedClaim`]: SSZ,
//! ed25519 over `"LAZYCHAIN_STATE_CLAIM" ‖ claim id`), the executor registry built from the
//! genesis bonds, the stateless check validators run before including a claim
//! ([`check_claim`]), and [`StateConsensus`]: the deterministic state machine that turns the
//! claims, fraud proofs and equivocation evidence of decided data blocks into pending, final
//! and reverted claims, canonical state roots and a bond ledger. It does no I/O: no clock,
//! no network, no disk, no randomness, so every node fed the same decided blocks reaches the
//! same state. Fraud-proof verification (re-executing one transaction) lives beside it and
//! hands this module proofs it has already checked.
//!
//! The rules are specified in `docs/protocol.md` §11.

pub mod chain;
pub mod claim;
pub mod consensus;
pub mod item;
pub mod proof;
mod proof_codec;
pub mod registry;
mod witness_value;

pub use chain::{alloc, chain_params, genesis_state_root, GenesisError};
pub use claim::{
    ClaimError, ClaimId, SignedClaim, StateClaim, CLAIM_SIGNATURE_TAG, GENESIS_PARENT,
    SIGNED_CLAIM_BYTES, STATE_CLAIM_BYTES,
};
pub use consensus::{
    ApplyError, ClaimStatus, ClaimView, Dispute, Inclusion, Ledger, Outcome, Rejection,
    RevertReason, Slash, StateConsensus, StateParams, RETAINED_FINAL_HEIGHTS,
};
pub use item::{check_claim_item, ClaimItem, FraudItem, ItemError, MAX_FRAUD_ITEM_BYTES};
/// The transition's chain parameters, for crates that need their type without executing.
pub use lazychain_exec_stf::ChainParams;
pub use proof::{
    build_bad_trace, build_bad_transition, proof_id, verify, BlockHashLookup, FraudProof,
    ProofError, Verdict,
};
pub use registry::{check_claim, ExecutorRegistry, RegisteredExecutor, RegistryError};

/// A 20-byte executor or submitter address (see [`lazychain_chainspec::executor_address`]).
pub type Address = [u8; 20];

pub use lazychain_chainspec::executor_address;

/// `0x` hex of a byte string, for messages.
pub(crate) fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}
