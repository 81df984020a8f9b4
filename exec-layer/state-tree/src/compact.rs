//! A compact wire form of a [`MultiProof`] for a verifier that already knows the keys.
//!
//! A fraud proof carries its witness (every key a transaction touches, with the value) next to
//! the multiproof of those keys. In borsh every path repeats what the witness already says: a
//! leaf's key path and value hash (64 bytes), a terminator's full position, and an 8-byte
//! depth. Here a terminal that the witness implies is a 2-byte index into the caller's list of
//! [`KnownKey`]s, depths take 2 bytes, and empty siblings (the zero node) take one bit. At
//! ~17 levels of a 100,000-account tree that removes ~70 bytes per key.
//!
//! Layout (integers little-endian):
//!
//! ```text
//! u16 path count
//! per path:  u8 tag, u16 depth, then
//!            tag 0  u16 index   leaf of known key `index` with its known value hash
//!            tag 1  u16 index   terminator on known key `index`'s path at `depth`
//!            tag 2  32 key path ‖ 32 value hash   any other leaf
//!            tag 3  32 path bits                  any other terminator (bits past depth zero)
//! u32 sibling count, a bitmap of ceil(count / 8) bytes (bit k, LSB first: sibling k is the
//! zero node), then 32 bytes for each other sibling, in order
//! ```
//!
//! The encoder always takes the lowest matching index and tags 0/1 where they apply, so a proof
//! has exactly one encoding; [`decode_multi_proof_compact`] accepts that encoding only.

use crate::error::Error;
use crate::hash::{Node, TERMINATOR};
use crate::proof::{check_multi_proof, terminator_at};
use crate::tree::{KeyPath, ValueHash};
use bitvec::{order::Msb0, view::BitView};
use nomt_core::proof::{MultiPathProof, MultiProof, PathProofTerminal};
use nomt_core::trie::LeafData;

const LEAF_KNOWN: u8 = 0;
const TERMINATOR_KNOWN: u8 = 1;
const LEAF_OTHER: u8 = 2;
const TERMINATOR_OTHER: u8 = 3;

/// A key the decoder knows before reading the proof: its path, and its value hash if the
/// caller holds a value for it (`None`: the caller says it is absent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KnownKey {
    pub key_path: KeyPath,
    pub value_hash: Option<ValueHash>,
}

fn shares_prefix(a: &KeyPath, b: &KeyPath, depth: usize) -> bool {
    a.view_bits::<Msb0>()[..depth] == b.view_bits::<Msb0>()[..depth]
}

/// Encodes `proof` against `known` (see the module docs). Paths and siblings beyond the
/// format's counts (65,535 paths) cannot come from a witness the callers accept; the
/// function still encodes them faithfully only up to those counts, so callers bound paths
/// first.
pub fn encode_multi_proof_compact(proof: &MultiProof, known: &[KnownKey]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + proof.paths.len() * 5 + 4 + proof.siblings.len() * 32);
    out.extend_from_slice(&(proof.paths.len().min(u16::MAX as usize) as u16).to_le_bytes());
    for path in proof.paths.iter().take(u16::MAX as usize) {
        let depth = path.depth.min(u16::MAX as usize) as u16;
        match &path.terminal {
            PathProofTerminal::Leaf(leaf) => {
                let index = known.iter().position(|k| {
                    k.key_path == leaf.key_path && k.value_hash == Some(leaf.value_hash)
                });
                match index.filter(|&i| i <= u16::MAX as usize) {
                    Some(i) => {
                        out.push(LEAF_KNOWN);
                        out.extend_from_slice(&depth.to_le_bytes());
                        out.extend_from_slice(&(i as u16).to_le_bytes());
                    }
                    None => {
                        out.push(LEAF_OTHER);
                        out.extend_from_slice(&depth.to_le_bytes());
                        out.extend_from_slice(&leaf.key_path);
                        out.extend_from_slice(&leaf.value_hash);
                    }
                }
            }
            PathProofTerminal::Terminator(pos) => {
                let bits = pos.raw_path();
                let at = path.depth.min(crate::proof::MAX_DEPTH);
                let index = known
                    .iter()
                    .position(|k| shares_prefix(&k.key_path, &bits, at));
                match index.filter(|&i| i <= u16::MAX as usize) {
                    Some(i) => {
                        out.push(TERMINATOR_KNOWN);
                        out.extend_from_slice(&depth.to_le_bytes());
                        out.extend_from_slice(&(i as u16).to_le_bytes());
                    }
                    None => {
                        out.push(TERMINATOR_OTHER);
                        out.extend_from_slice(&depth.to_le_bytes());
                        out.extend_from_slice(&terminator_at(&bits, at).raw_path());
                    }
                }
            }
        }
    }
    let siblings = &proof.siblings[..proof.siblings.len().min(u32::MAX as usize)];
    out.extend_from_slice(&(siblings.len() as u32).to_le_bytes());
    let mut bitmap = vec![0u8; siblings.len().div_ceil(8)];
    for (k, s) in siblings.iter().enumerate() {
        if *s == TERMINATOR {
            bitmap[k / 8] |= 1 << (k % 8);
        }
    }
    out.extend_from_slice(&bitmap);
    for s in siblings.iter().filter(|s| **s != TERMINATOR) {
        out.extend_from_slice(s);
    }
    out
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if n > self.bytes.len() {
            return Err(decode_error("truncated"));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u16(&mut self) -> Result<usize, Error> {
        Ok(u16::from_le_bytes(self.array()?) as usize)
    }
}

fn decode_error(reason: &str) -> Error {
    Error::Decode {
        reason: reason.to_owned(),
    }
}

fn known_at(known: &[KnownKey], index: usize) -> Result<&KnownKey, Error> {
    known.get(index).ok_or_else(|| {
        decode_error(&format!(
            "known-key index {index} out of range ({})",
            known.len()
        ))
    })
}

/// Decodes a compact multiproof against the same `known` keys the encoder was given, with at
/// most `max_paths` paths: the whole input must be consumed, the shape must pass
/// [`check_multi_proof`], and the bytes must be exactly what [`encode_multi_proof_compact`]
/// emits for the decoded proof.
pub fn decode_multi_proof_compact(
    bytes: &[u8],
    known: &[KnownKey],
    max_paths: usize,
) -> Result<MultiProof, Error> {
    let mut r = Reader { bytes };
    let path_count = r.u16()?;
    if path_count > max_paths {
        return Err(Error::TooManyPaths {
            paths: path_count,
            limit: max_paths,
        });
    }
    let mut paths = Vec::with_capacity(path_count);
    for _ in 0..path_count {
        let tag = r.take(1)?[0];
        let depth = r.u16()?;
        if depth > crate::proof::MAX_DEPTH {
            return Err(Error::malformed(format!(
                "path depth {depth}, more than {}",
                crate::proof::MAX_DEPTH
            )));
        }
        let terminal = match tag {
            LEAF_KNOWN => {
                let key = known_at(known, r.u16()?)?;
                let value_hash = key
                    .value_hash
                    .ok_or_else(|| decode_error("a leaf of a key known to be absent"))?;
                PathProofTerminal::Leaf(LeafData {
                    key_path: key.key_path,
                    value_hash,
                })
            }
            TERMINATOR_KNOWN => PathProofTerminal::Terminator(terminator_at(
                &known_at(known, r.u16()?)?.key_path,
                depth,
            )),
            LEAF_OTHER => PathProofTerminal::Leaf(LeafData {
                key_path: r.array()?,
                value_hash: r.array()?,
            }),
            TERMINATOR_OTHER => PathProofTerminal::Terminator(terminator_at(&r.array()?, depth)),
            other => return Err(decode_error(&format!("unknown terminal tag {other}"))),
        };
        paths.push(MultiPathProof { terminal, depth });
    }
    let sibling_count = u32::from_le_bytes(r.array()?) as usize;
    // Bound the allocation by what the input can hold before reading further.
    if sibling_count.div_ceil(8) > r.bytes.len() {
        return Err(decode_error("sibling bitmap truncated"));
    }
    let bitmap = r.take(sibling_count.div_ceil(8))?;
    let zero = |k: usize| bitmap[k / 8] & (1 << (k % 8)) != 0;
    let present = (0..sibling_count).filter(|&k| !zero(k)).count();
    if present.checked_mul(32) != Some(r.bytes.len()) {
        return Err(decode_error(
            "sibling bytes do not match the bitmap, or trailing bytes",
        ));
    }
    let mut siblings: Vec<Node> = Vec::with_capacity(sibling_count);
    for k in 0..sibling_count {
        siblings.push(if zero(k) { TERMINATOR } else { r.array()? });
    }
    let proof = MultiProof { paths, siblings };
    check_multi_proof(&proof)?;
    if encode_multi_proof_compact(&proof, known) != bytes {
        return Err(Error::NonCanonical {
            reason: "not the encoding the prover emits (index, tag, bitmap or zero sibling)".into(),
        });
    }
    Ok(proof)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proof::{decode_multi_proof, encode_multi_proof, verify_multi_proof};
    use crate::test_seed::seed;
    use crate::tree::StateTree;
    use rand::{rngs::StdRng, Rng, SeedableRng};

    fn tree_and_keys(rng: &mut StdRng) -> (StateTree, Vec<KnownKey>, MultiProof) {
        let n = rng.gen_range(0..400);
        let mut leaves: Vec<(KeyPath, ValueHash)> =
            (0..n).map(|_| (rng.gen(), rng.gen())).collect();
        // `from_leaves` takes the leaves in key order.
        leaves.sort_unstable();
        let tree = StateTree::from_leaves(leaves.iter().copied());
        let mut known = Vec::new();
        // At least one key: an empty multiproof stands for the empty tree.
        for _ in 0..rng.gen_range(1..8) {
            match leaves.get(rng.gen_range(0..leaves.len().max(1))) {
                Some((k, v)) if rng.gen_bool(0.6) => known.push(KnownKey {
                    key_path: *k,
                    value_hash: Some(*v),
                }),
                _ => known.push(KnownKey {
                    key_path: rng.gen(),
                    value_hash: None,
                }),
            }
        }
        let keys: Vec<KeyPath> = known.iter().map(|k| k.key_path).collect();
        let proof = tree.prove_multi(&keys);
        (tree, known, proof)
    }

    #[test]
    fn round_trips_and_is_smaller_than_borsh() {
        let mut rng = StdRng::seed_from_u64(seed());
        for _ in 0..300 {
            let (tree, known, proof) = tree_and_keys(&mut rng);
            let bytes = encode_multi_proof_compact(&proof, &known);
            let decoded = decode_multi_proof_compact(&bytes, &known, 64).expect("decodes");
            assert_eq!(decoded, proof);
            verify_multi_proof(&tree.root(), &decoded).expect("verifies");
            let borsh = encode_multi_proof(&proof);
            assert_eq!(decode_multi_proof(&borsh, 64).expect("borsh"), proof);
            assert!(
                bytes.len() <= borsh.len(),
                "{} > {}",
                bytes.len(),
                borsh.len()
            );
        }
    }

    #[test]
    fn unknown_terminals_are_spelled_out() {
        let mut rng = StdRng::seed_from_u64(seed());
        for _ in 0..50 {
            let (_, known, proof) = tree_and_keys(&mut rng);
            // Nothing known: every terminal is tag 2 or 3, and still round-trips.
            let bytes = encode_multi_proof_compact(&proof, &[]);
            assert_eq!(
                decode_multi_proof_compact(&bytes, &[], 64),
                Ok(proof.clone())
            );
            // Known keys the decoder is not told about fail to decode.
            let with = encode_multi_proof_compact(&proof, &known);
            if with != bytes {
                assert!(decode_multi_proof_compact(&with, &[], 64).is_err());
            }
        }
    }

    #[test]
    fn mutations_never_panic_and_accepted_bytes_are_canonical() {
        let mut rng = StdRng::seed_from_u64(seed());
        for _ in 0..100 {
            let (_, known, proof) = tree_and_keys(&mut rng);
            let bytes = encode_multi_proof_compact(&proof, &known);
            for _ in 0..50 {
                let mut bad = bytes.clone();
                match rng.gen_range(0..3) {
                    0 => {
                        let i = rng.gen_range(0..bad.len());
                        bad[i] ^= 1 << rng.gen_range(0..8);
                    }
                    1 => bad.truncate(rng.gen_range(0..bad.len())),
                    _ => bad.push(rng.gen()),
                }
                if let Ok(p) = decode_multi_proof_compact(&bad, &known, 64) {
                    assert_eq!(encode_multi_proof_compact(&p, &known), bad);
                }
            }
        }
    }

    #[test]
    fn path_limit_and_zero_siblings() {
        let mut rng = StdRng::seed_from_u64(seed());
        // Two keys sharing 40 bits: the siblings above their split are all the zero node.
        let a: KeyPath = rng.gen();
        let mut b = a;
        b[5] ^= 0x80;
        let tree = StateTree::from_leaves([(a, [1; 32]), (b, [2; 32])]);
        let known = [
            KnownKey {
                key_path: a,
                value_hash: Some([1; 32]),
            },
            KnownKey {
                key_path: b,
                value_hash: Some([2; 32]),
            },
        ];
        let proof = tree.prove_multi(&[a, b]);
        assert!(proof.siblings.iter().all(|s| *s == TERMINATOR));
        let bytes = encode_multi_proof_compact(&proof, &known);
        // 2 + 2 paths of 5 + 4 + a 5-byte bitmap, no sibling bytes.
        assert_eq!(bytes.len(), 2 + 10 + 4 + proof.siblings.len().div_ceil(8));
        assert_eq!(decode_multi_proof_compact(&bytes, &known, 2), Ok(proof));
        assert!(matches!(
            decode_multi_proof_compact(&bytes, &known, 1),
            Err(Error::TooManyPaths { .. })
        ));
    }
}
