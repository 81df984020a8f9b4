//! Node hashing, bit for bit the scheme of `nomt_core::hasher::Sha2Hasher`.
//!
//! - leaf: `sha256(key_path ‖ value_hash)` with the most significant bit set;
//! - internal: `sha256(left ‖ right)` with the most significant bit cleared;
//! - empty subtree ([`TERMINATOR`]): 32 zero bytes, at any height.
//!
//! The tag bit is NOMT's domain separation between leaves and internal nodes; a verifier reads
//! it to know whether an unopened sibling is a single leaf (which moves up when its sibling
//! subtree becomes empty). Both preimages are exactly 64 bytes, so a hash is two SHA-256
//! compressions: the data block and a constant padding block, run directly on
//! `sha2::compress256` to skip the streaming buffer.

// sha2 0.10's `compress256` takes generic-array 0.14 blocks, which that crate now marks
// deprecated in favour of 1.x; sha2 0.10 offers no other block type.
#[allow(deprecated)]
use sha2::digest::{consts::U64, generic_array::GenericArray};

/// A node hash (the NOMT `Node`): the hash of a leaf or an internal node, or [`TERMINATOR`].
pub type Node = [u8; 32];

/// The hash of an empty subtree, at any height (NOMT's terminator).
pub const TERMINATOR: Node = [0u8; 32];

/// SHA-256 initial state.
const IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// The SHA-256 padding block of a 64-byte message: `0x80`, zeros, bit length 512 (big-endian).
const PAD_64: [u8; 64] = {
    let mut b = [0u8; 64];
    b[0] = 0x80;
    b[62] = 0x02;
    b
};

/// SHA-256 of `left ‖ right` (64 bytes).
#[inline]
#[allow(deprecated)]
fn sha256_64(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(left);
    block[32..].copy_from_slice(right);
    let blocks: [GenericArray<u8, U64>; 2] = [block.into(), PAD_64.into()];
    let mut state = IV;
    sha2::compress256(&mut state, &blocks);
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// The hash of a leaf holding `value_hash` under `key_path` (MSB set).
#[inline]
pub fn hash_leaf(key_path: &[u8; 32], value_hash: &[u8; 32]) -> Node {
    let mut h = sha256_64(key_path, value_hash);
    h[0] |= 0x80;
    h
}

/// The hash of an internal node with these children (MSB cleared).
#[inline]
pub fn hash_internal(left: &Node, right: &Node) -> Node {
    let mut h = sha256_64(left, right);
    h[0] &= 0x7f;
    h
}

/// Whether a node hash is a leaf's (NOMT's MSB tag).
#[inline]
pub fn is_leaf(node: &Node) -> bool {
    node[0] & 0x80 != 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use nomt_core::hasher::{NodeHasher, Sha2Hasher};
    use nomt_core::trie::{InternalData, LeafData};
    use rand::{Rng, SeedableRng};
    use sha2::{Digest, Sha256};

    #[test]
    fn hashes_equal_nomt_sha2_hasher() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..1000 {
            let a: [u8; 32] = rng.gen();
            let b: [u8; 32] = rng.gen();
            let mut plain: [u8; 32] = Sha256::new()
                .chain_update(a)
                .chain_update(b)
                .finalize()
                .into();
            assert_eq!(sha256_64(&a, &b), plain);
            plain[0] |= 0x80;
            let leaf = LeafData {
                key_path: a,
                value_hash: b,
            };
            assert_eq!(hash_leaf(&a, &b), Sha2Hasher::hash_leaf(&leaf));
            assert_eq!(hash_leaf(&a, &b), plain);
            let internal = InternalData { left: a, right: b };
            assert_eq!(hash_internal(&a, &b), Sha2Hasher::hash_internal(&internal));
            assert!(is_leaf(&hash_leaf(&a, &b)));
            assert!(!is_leaf(&hash_internal(&a, &b)));
        }
    }
}
