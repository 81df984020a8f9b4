//! Authenticated state: a binary sparse Merkle tree with NOMT-compatible hashing.
//!
//! The executor's state commitment. [`StateTree`] maps 256-bit key paths (already hashed by
//! the caller) to value hashes, in RAM, and gives a root after every batch, cheap enough for a
//! root after every transaction. Its shape and hashing are NOMT's (SHA-256, leaf/internal
//! tagged by the top bit, single-leaf subtrees collapsed, empty subtrees as 32 zero bytes), so
//! its root is the root NOMT computes for the same set, and proofs are `nomt-core`'s types,
//! verified by `nomt-core`'s code:
//!
//! - [`StateTree::prove`] -> [`PathProof`] (inclusion or non-inclusion), checked by
//!   [`verify_path`];
//! - [`StateTree::prove_multi`] -> [`MultiProof`], checked by [`verify_multi_proof`]; and the
//!   stateless transition [`verify_update`]: old root + multiproof + ops -> new root, what a
//!   fraud-proof verifier runs;
//! - two wire forms of a multiproof: nomt-core's borsh ([`encode_multi_proof`]) and a compact
//!   one for a verifier that already knows the keys and values ([`encode_multi_proof_compact`],
//!   what fraud proofs carry).
//!
//! This crate is pure: no I/O, no database, no clock (except in [`bench()`]). Persistence is the
//! caller's: keep the leaves as flat state in the database and rebuild with
//! [`StateTree::from_leaves`] at start-up. The design and the measurements behind it are in
//! `docs/adr/003-state-tree.md`.

#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod arena;
pub mod bench;
mod compact;
mod error;
pub mod hash;
mod proof;
mod tree;

pub use bench::{bench, BenchReport};
pub use compact::{decode_multi_proof_compact, encode_multi_proof_compact, KnownKey};
pub use error::Error;
pub use hash::{Node, TERMINATOR};
pub use proof::{
    check_multi_proof, decode_multi_proof, encode_multi_proof, verify_multi_proof, verify_path,
    verify_update, VerifiedMultiProof, MAX_DEPTH,
};
pub use tree::{KeyPath, MemoryUsage, Op, StateTree, ValueHash, MAX_NODES};

/// nomt-core's proof types, re-exported so callers need not depend on nomt-core directly.
pub use nomt_core::proof::{MultiPathProof, MultiProof, PathProof, PathProofTerminal};
/// nomt-core's leaf preimage (key path and value hash) and terminator position types.
pub use nomt_core::{trie::LeafData, trie_pos::TriePosition};

/// The seed of a randomized test: `STATE_TREE_SEED` if set, else random; printed so that a
/// failing run can be repeated.
#[cfg(test)]
pub(crate) mod test_seed {
    use rand::Rng;

    pub(crate) fn seed() -> u64 {
        let seed = std::env::var("STATE_TREE_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| rand::thread_rng().gen());
        println!("seed {seed} (rerun with STATE_TREE_SEED={seed})");
        seed
    }
}
