//! The crate's one error type.

use nomt_core::proof::MultiProofVerificationError;

/// Why a proof, its encoding or a stateless update was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The proof is well formed but does not hash to the expected root.
    #[error("proof does not hash to the expected root {expected}")]
    RootMismatch {
        /// The root the proof was checked against (hex).
        expected: String,
    },
    /// A path proof carries more siblings than a 256-bit key path has levels.
    #[error("path proof has {siblings} siblings, more than the 256 levels of a key path")]
    TooManySiblings {
        /// Siblings found.
        siblings: usize,
    },
    /// The multiproof is structurally invalid (it could not have come from any tree).
    #[error("malformed multiproof: {reason}")]
    MalformedProof {
        /// What is wrong, naming the offending path or count.
        reason: String,
    },
    /// A multiproof proves more paths than the caller allows.
    #[error("multiproof has {paths} paths, limit {limit}")]
    TooManyPaths {
        /// Paths found.
        paths: usize,
        /// The caller's limit.
        limit: usize,
    },
    /// A key read or written is not covered by any path of the proof.
    #[error("key {key} is not covered by the proof")]
    KeyOutOfScope {
        /// The key path (hex).
        key: String,
    },
    /// The bytes are not a borsh-encoded multiproof (or have trailing bytes).
    #[error("multiproof encoding: {reason}")]
    Decode {
        /// The decoder's message.
        reason: String,
    },
    /// The bytes decode, but are not the canonical encoding of the proof they hold.
    #[error("multiproof encoding is not canonical: {reason}")]
    NonCanonical {
        /// Which field is not in canonical form.
        reason: String,
    },
    /// nomt-core rejected the stateless update (it names the cause).
    #[error("stateless update rejected by nomt-core: {reason}")]
    Update {
        /// nomt-core's error, as debug text.
        reason: String,
    },
}

impl Error {
    pub(crate) fn root_mismatch(expected: &[u8; 32]) -> Self {
        Error::RootMismatch {
            expected: hex::encode(expected),
        }
    }

    pub(crate) fn malformed(reason: impl Into<String>) -> Self {
        Error::MalformedProof {
            reason: reason.into(),
        }
    }

    pub(crate) fn from_multi(err: MultiProofVerificationError, expected: &[u8; 32]) -> Self {
        match err {
            MultiProofVerificationError::RootMismatch => Error::root_mismatch(expected),
            MultiProofVerificationError::PathsOutOfOrder => {
                Error::malformed("paths are not in strictly ascending order")
            }
            MultiProofVerificationError::TooManySiblings => {
                Error::malformed("more siblings than the paths use")
            }
        }
    }
}
