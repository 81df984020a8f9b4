//! State claims: what an executor asserts about one data block, and its signature.
//!
//! A [`StateClaim`] is an SSZ container; its id is its `hash_tree_root`. Claims form chains:
//! each names the id of the claim it builds on (its parent): the claim for the previous height
//! with transactions (blocks without transactions leave the state as it was and take no
//! claim), or [`GENESIS_PARENT`] for the first height with transactions. A [`SignedClaim`] adds the executor's ed25519
//! signature over `"LAZYCHAIN_STATE_CLAIM" ‖ id`.

use std::fmt;

use malachitebft_signing_ed25519::{PrivateKey, PublicKey, Signature};
use sha2::{Digest, Sha256};
use ssz_rs::prelude::*;

use crate::{executor_address, hex0x, Address};

/// Domain tag in front of the claim id in the signed preimage.
pub const CLAIM_SIGNATURE_TAG: &[u8] = b"LAZYCHAIN_STATE_CLAIM";

/// The parent named by a claim for data height 1: the genesis state, which has no claim.
pub const GENESIS_PARENT: ClaimId = ClaimId([0; 32]);

/// Bytes of an encoded [`StateClaim`] (fixed size).
pub const STATE_CLAIM_BYTES: usize = 8 + 8 + 5 * 32 + 8 + 20;

/// Bytes of an encoded [`SignedClaim`] (fixed size): the claim and a 64-byte signature. It is
/// also the decoder's size limit: any other length is refused before decoding.
pub const SIGNED_CLAIM_BYTES: usize = STATE_CLAIM_BYTES + 64;

/// A claim's id: the SSZ `hash_tree_root` of the [`StateClaim`].
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClaimId(pub [u8; 32]);

impl ClaimId {
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for ClaimId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex0x(&self.0))
    }
}

impl fmt::Debug for ClaimId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClaimId({})", hex0x(&self.0))
    }
}

impl From<[u8; 32]> for ClaimId {
    fn from(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

/// Why a claim's bytes, signature or contents were refused. Messages name the values.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClaimError {
    #[error("encoded signed claim of {size} bytes; a signed claim is exactly {expected} bytes")]
    WrongSize { size: usize, expected: usize },
    #[error("invalid SSZ encoding: {0}")]
    Ssz(String),
    #[error("non-canonical SSZ encoding (re-encoding differs)")]
    NonCanonical,
    #[error("executor {} is not registered in genesis", hex0x(.executor))]
    UnknownExecutor { executor: Address },
    #[error(
        "the claim names executor {}, but the key's executor address is {}",
        hex0x(.claimed),
        hex0x(.key_address)
    )]
    ExecutorMismatch {
        claimed: Address,
        key_address: Address,
    },
    #[error("bad signature: not the executor's signature over this claim")]
    BadSignature,
    #[error("claim for chain {got}, this chain is {expected}")]
    WrongChain { expected: u64, got: u64 },
    #[error("claim for data height 0: the genesis state is not claimed")]
    ZeroHeight,
    #[error("claim for data height {data_height}, above the decided height {decided_height}")]
    FutureHeight {
        data_height: u64,
        decided_height: u64,
    },
    #[error("a claim for data height 1 must name the genesis parent (zero), not {parent}")]
    GenesisParentRequired { parent: ClaimId },
}

/// What an executor asserts about data block `data_height`: executing it on top of the state
/// of claim `parent_claim` (whose post-state root is `pre_state_root`) gives
/// `post_state_root`, with this trace, these receipts and `tx_count` transactions.
#[derive(Clone, Debug, Default, PartialEq, Eq, SimpleSerialize)]
pub struct StateClaim {
    pub chain_id: u64,
    pub data_height: u64,
    /// Id of the claim this one builds on: the claim for the previous data height with
    /// transactions; [`GENESIS_PARENT`] if there is none (always at height 1).
    pub parent_claim: [u8; 32],
    pub pre_state_root: [u8; 32],
    pub post_state_root: [u8; 32],
    /// SSZ root of the intermediate state roots (protocol §10.4).
    pub trace_root: [u8; 32],
    /// SSZ root of the receipts (protocol §10.4).
    pub receipts_root: [u8; 32],
    pub tx_count: u64,
    /// The signer's executor address.
    pub executor: [u8; 20],
}

/// SHA-256 of two 32-byte chunks, SSZ's inner node hash.
fn hash_pair(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(left);
    h.update(right);
    h.finalize().into()
}

fn u64_chunk(value: u64) -> [u8; 32] {
    let mut chunk = [0u8; 32];
    chunk[..8].copy_from_slice(&value.to_le_bytes());
    chunk
}

impl StateClaim {
    /// The claim id: SSZ `hash_tree_root`, computed directly (nine field roots, padded to 16
    /// leaves, hashed pairwise), which cannot fail. A test checks it against `ssz_rs`.
    pub fn id(&self) -> ClaimId {
        let mut executor = [0u8; 32];
        executor[..20].copy_from_slice(&self.executor);
        let mut layer: Vec<[u8; 32]> = vec![
            u64_chunk(self.chain_id),
            u64_chunk(self.data_height),
            self.parent_claim,
            self.pre_state_root,
            self.post_state_root,
            self.trace_root,
            self.receipts_root,
            u64_chunk(self.tx_count),
            executor,
        ];
        layer.resize(16, [0u8; 32]);
        while layer.len() > 1 {
            layer = layer
                .chunks_exact(2)
                .map(|pair| hash_pair(&pair[0], &pair[1]))
                .collect();
        }
        ClaimId(layer[0])
    }

    /// The id of the parent claim.
    pub fn parent(&self) -> ClaimId {
        ClaimId(self.parent_claim)
    }

    /// The bytes an executor signs: `"LAZYCHAIN_STATE_CLAIM" ‖ id`.
    pub fn signing_bytes(&self) -> Vec<u8> {
        let mut preimage = Vec::with_capacity(CLAIM_SIGNATURE_TAG.len() + 32);
        preimage.extend_from_slice(CLAIM_SIGNATURE_TAG);
        preimage.extend_from_slice(&self.id().0);
        preimage
    }

    /// Checks what a claim must satisfy on its own: height at least 1, and the genesis
    /// parent exactly at height 1.
    pub fn check_well_formed(&self) -> Result<(), ClaimError> {
        if self.data_height == 0 {
            return Err(ClaimError::ZeroHeight);
        }
        let genesis_parent = self.parent() == GENESIS_PARENT;
        if self.data_height == 1 && !genesis_parent {
            return Err(ClaimError::GenesisParentRequired {
                parent: self.parent(),
            });
        }
        Ok(())
    }
}

/// A state claim with its executor's ed25519 signature over
/// [`StateClaim::signing_bytes`]. This is the item carried in a data block's claim list.
#[derive(Clone, Debug, Default, PartialEq, Eq, SimpleSerialize)]
pub struct SignedClaim {
    pub claim: StateClaim,
    pub signature: Vector<u8, 64>,
}

impl SignedClaim {
    /// Signs `claim` with `key`. The claim's `executor` should be the key's
    /// [`executor_address`]; otherwise [`SignedClaim::verify`] refuses it.
    pub fn sign(claim: StateClaim, key: &PrivateKey) -> Self {
        let signature = key.sign(&claim.signing_bytes()).to_bytes();
        Self::from_parts(claim, signature)
    }

    /// A signed claim from its parts (the signature is not checked).
    pub fn from_parts(claim: StateClaim, signature: [u8; 64]) -> Self {
        let mut vector = Vector::<u8, 64>::default();
        for (slot, byte) in vector.iter_mut().zip(signature) {
            *slot = byte;
        }
        Self {
            claim,
            signature: vector,
        }
    }

    /// The claim id (the signature is not part of it).
    pub fn id(&self) -> ClaimId {
        self.claim.id()
    }

    /// The 64 signature bytes.
    pub fn signature_bytes(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out.copy_from_slice(self.signature.as_ref());
        out
    }

    /// Checks that `public_key` signed this claim and that the claim names that key's
    /// executor address.
    pub fn verify(&self, public_key: &PublicKey) -> Result<(), ClaimError> {
        let key_address = executor_address(public_key.as_bytes());
        if self.claim.executor != key_address {
            return Err(ClaimError::ExecutorMismatch {
                claimed: self.claim.executor,
                key_address,
            });
        }
        let signature = Signature::from_bytes(self.signature_bytes());
        public_key
            .verify(&self.claim.signing_bytes(), &signature)
            .map_err(|_| ClaimError::BadSignature)
    }

    /// SSZ bytes ([`SIGNED_CLAIM_BYTES`] long).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(SIGNED_CLAIM_BYTES);
        // A fixed-size container of basic fields always serializes.
        if self.serialize(&mut out).is_err() {
            out.clear();
        }
        out
    }

    /// Decodes SSZ bytes: anything but exactly [`SIGNED_CLAIM_BYTES`] bytes is refused
    /// before decoding, and the value must re-encode to the same bytes. The signature and
    /// contents are not checked (see [`crate::check_claim`]).
    pub fn decode(bytes: &[u8]) -> Result<Self, ClaimError> {
        if bytes.len() != SIGNED_CLAIM_BYTES {
            return Err(ClaimError::WrongSize {
                size: bytes.len(),
                expected: SIGNED_CLAIM_BYTES,
            });
        }
        let value = Self::deserialize(bytes).map_err(|e| ClaimError::Ssz(e.to_string()))?;
        if value.encode() != bytes {
            return Err(ClaimError::NonCanonical);
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> PrivateKey {
        PrivateKey::from([seed; 32])
    }

    fn claim_of(key: &PrivateKey) -> StateClaim {
        StateClaim {
            chain_id: 1337,
            data_height: 7,
            parent_claim: [0x11; 32],
            pre_state_root: [0x22; 32],
            post_state_root: [0x33; 32],
            trace_root: [0x44; 32],
            receipts_root: [0x55; 32],
            tx_count: 3,
            executor: executor_address(key.public_key().as_bytes()),
        }
    }

    #[test]
    fn id_is_the_ssz_hash_tree_root() {
        let mut c = claim_of(&key(1));
        for tweak in 0..4u64 {
            c.tx_count = tweak;
            c.data_height = tweak.wrapping_mul(0x0102_0304_0506_0708);
            c.executor[19] = tweak as u8;
            let id = c.id();
            let mut copy = c.clone();
            let root = copy.hash_tree_root().expect("merkleizes");
            assert_eq!(id.0.as_slice(), root.as_ref());
        }
        // Every field changes the id.
        let base = claim_of(&key(1));
        let mutations: Vec<fn(&mut StateClaim)> = vec![
            |c| c.chain_id += 1,
            |c| c.data_height += 1,
            |c| c.parent_claim[0] ^= 1,
            |c| c.pre_state_root[31] ^= 1,
            |c| c.post_state_root[0] ^= 1,
            |c| c.trace_root[0] ^= 1,
            |c| c.receipts_root[0] ^= 1,
            |c| c.tx_count += 1,
            |c| c.executor[0] ^= 1,
        ];
        for m in mutations {
            let mut c = base.clone();
            m(&mut c);
            assert_ne!(c.id(), base.id());
        }
    }

    /// Golden fixture: the encoding and id of a fixed claim must never change silently.
    #[test]
    fn golden_claim_bytes_and_id() {
        let k = key(1);
        let signed = SignedClaim::sign(claim_of(&k), &k);
        let bytes = signed.encode();
        assert_eq!(bytes.len(), SIGNED_CLAIM_BYTES);
        assert_eq!(&bytes[..8], &1337u64.to_le_bytes());
        assert_eq!(&bytes[8..16], &7u64.to_le_bytes());
        assert_eq!(&bytes[16..48], &[0x11; 32]);
        assert_eq!(&bytes[176..184], &3u64.to_le_bytes());
        assert_eq!(&bytes[184..204], &signed.claim.executor);
        assert_eq!(&bytes[204..], &signed.signature_bytes());
        assert_eq!(
            signed.id().to_string(),
            "0x5a2491d7fda2126c1476763cd148fba5e69348690b68e2e65034163d75986557",
            "the id of the fixed claim changed"
        );
    }

    #[test]
    fn sign_verify_round_trip() {
        let k = key(1);
        let signed = SignedClaim::sign(claim_of(&k), &k);
        signed.verify(&k.public_key()).expect("verifies");
        let back = SignedClaim::decode(&signed.encode()).expect("decodes");
        assert_eq!(back, signed);
        back.verify(&k.public_key()).expect("still verifies");
        // Signatures are over the tag and the id.
        let mut preimage = b"LAZYCHAIN_STATE_CLAIM".to_vec();
        preimage.extend_from_slice(&signed.id().0);
        assert_eq!(signed.claim.signing_bytes(), preimage);
        let sig = Signature::from_bytes(signed.signature_bytes());
        k.public_key().verify(&preimage, &sig).expect("raw verify");
    }

    #[test]
    fn tampering_and_wrong_keys_fail() {
        let k = key(1);
        let other = key(2);
        let signed = SignedClaim::sign(claim_of(&k), &k);
        let mut tampered = signed.clone();
        tampered.claim.post_state_root[0] ^= 1;
        assert_eq!(
            tampered.verify(&k.public_key()),
            Err(ClaimError::BadSignature)
        );
        let mut bad_sig = signed.clone();
        bad_sig.signature[5] ^= 1;
        assert_eq!(
            bad_sig.verify(&k.public_key()),
            Err(ClaimError::BadSignature)
        );
        // Another key: its address differs from the one the claim names.
        assert!(matches!(
            signed.verify(&other.public_key()),
            Err(ClaimError::ExecutorMismatch { .. })
        ));
        // Another key that signs a claim naming the first executor.
        let forged = SignedClaim::sign(claim_of(&k), &other);
        assert!(matches!(
            forged.verify(&other.public_key()),
            Err(ClaimError::ExecutorMismatch { .. })
        ));
        assert_eq!(
            forged.verify(&k.public_key()),
            Err(ClaimError::BadSignature)
        );
    }

    #[test]
    fn decode_refuses_wrong_sizes() {
        let k = key(1);
        let bytes = SignedClaim::sign(claim_of(&k), &k).encode();
        for len in [0, 1, SIGNED_CLAIM_BYTES - 1, SIGNED_CLAIM_BYTES + 1, 4096] {
            let mut b = bytes.clone();
            b.resize(len, 0);
            assert_eq!(
                SignedClaim::decode(&b),
                Err(ClaimError::WrongSize {
                    size: len,
                    expected: SIGNED_CLAIM_BYTES
                })
            );
        }
        let err = SignedClaim::decode(&bytes[..10]).expect_err("short");
        assert_eq!(
            err.to_string(),
            "encoded signed claim of 10 bytes; a signed claim is exactly 268 bytes"
        );
    }

    #[test]
    fn well_formedness() {
        let k = key(1);
        let mut c = claim_of(&k);
        c.check_well_formed().expect("height 7 with a parent");
        c.data_height = 0;
        assert_eq!(c.check_well_formed(), Err(ClaimError::ZeroHeight));
        c.data_height = 1;
        assert!(matches!(
            c.check_well_formed(),
            Err(ClaimError::GenesisParentRequired { .. })
        ));
        c.parent_claim = GENESIS_PARENT.0;
        c.check_well_formed().expect("height 1 on genesis");
        // Above height 1 when every block below is empty (state consensus checks that).
        c.data_height = 2;
        c.check_well_formed().expect("height 2 on genesis");
    }
}
