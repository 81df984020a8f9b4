//! Proofs in nomt-core's format, and the stateless verifier built on nomt-core.
//!
//! The tree emits [`PathProof`]s (one key: inclusion or non-inclusion) and [`MultiProof`]s
//! (several keys, shared siblings sent once). Verification is nomt-core's own code: an
//! independent implementation of the same commitment, so a proof that passes here would pass
//! any NOMT verifier, and a bug in our tree cannot hide in a verifier that shares its code.
//!
//! Before a [`MultiProof`] reaches nomt-core, [`check_multi_proof`] checks its shape (depths,
//! ordering, sibling counts): nomt-core trusts that shape and would index out of bounds on a
//! malformed proof, and a fraud-proof verifier takes its input from anyone.
//!
//! Wire form: borsh, the encoding nomt-core derives. [`decode_multi_proof`] bounds the number
//! of paths, consumes the whole input and accepts only the canonical bytes our prover emits.

use crate::error::Error;
use crate::hash::Node;
use crate::tree::{bit, normalize, KeyPath, Kind, NodeRef, Op, StateTree, ValueHash};
use bitvec::{order::Msb0, slice::BitSlice, view::BitView};
use nomt_core::hasher::Sha2Hasher;
use nomt_core::proof::{MultiPathProof, MultiProof, PathProof, PathProofTerminal};
use nomt_core::trie::LeafData;
use nomt_core::trie_pos::TriePosition;

/// The most levels a key path has; no proof path can be deeper.
pub const MAX_DEPTH: usize = 256;

/// The terminator position at `depth` on `key`'s path, bits past `depth` cleared (canonical).
pub(crate) fn terminator_at(key: &KeyPath, depth: usize) -> TriePosition {
    if depth == 0 {
        return TriePosition::new();
    }
    let mut path = [0u8; 32];
    path.view_bits_mut::<Msb0>()[..depth].copy_from_bitslice(&key.view_bits::<Msb0>()[..depth]);
    TriePosition::from_path_and_depth(path, depth as u16)
}

fn key_bits(key: &KeyPath) -> &BitSlice<u8, Msb0> {
    key.view_bits::<Msb0>()
}

impl StateTree {
    /// A proof of `key`'s value (inclusion) or of its absence (non-inclusion) against
    /// [`StateTree::root`], in nomt-core's format: the terminal node met on `key`'s path (the
    /// leaf there, or the empty subtree) and the sibling hashes from the root down.
    pub fn prove(&self, key: &KeyPath) -> PathProof {
        let mut siblings = Vec::new();
        let mut node = self.root;
        loop {
            match node.kind() {
                Kind::Empty => {
                    return PathProof {
                        terminal: PathProofTerminal::Terminator(terminator_at(key, siblings.len())),
                        siblings,
                    }
                }
                Kind::Leaf(i) => {
                    let leaf = &self.leaves[i];
                    return PathProof {
                        terminal: PathProofTerminal::Leaf(LeafData {
                            key_path: leaf.key,
                            value_hash: leaf.value,
                        }),
                        siblings,
                    };
                }
                Kind::Internal(i) => {
                    let b = bit(key, siblings.len());
                    siblings.push(self.child(i, !b).1);
                    node = self.child(i, b).0;
                }
            }
        }
    }

    /// One proof for several keys (any order, repeats ignored), present or absent: nomt-core's
    /// [`MultiProof`], equal to `MultiProof::from_path_proofs` over the keys' distinct path
    /// proofs but built in one descent. Verify it with [`verify_multi_proof`] or
    /// [`verify_update`].
    pub fn prove_multi(&self, keys: &[KeyPath]) -> MultiProof {
        let mut keys = keys.to_vec();
        keys.sort_unstable();
        keys.dedup();
        let mut proof = MultiProof {
            paths: Vec::new(),
            siblings: Vec::new(),
        };
        if !keys.is_empty() {
            self.prove_multi_at(self.root, 0, &keys, &mut proof);
        }
        proof
    }

    /// Layout (nomt-core's): for each range of paths, the siblings they all share, then the
    /// left range's, then the right range's; a range of one path carries all its remaining
    /// siblings.
    fn prove_multi_at(&self, node: NodeRef, depth: usize, keys: &[KeyPath], out: &mut MultiProof) {
        match node.kind() {
            Kind::Empty => out.paths.push(MultiPathProof {
                terminal: PathProofTerminal::Terminator(terminator_at(&keys[0], depth)),
                depth,
            }),
            Kind::Leaf(i) => {
                let leaf = &self.leaves[i];
                out.paths.push(MultiPathProof {
                    terminal: PathProofTerminal::Leaf(LeafData {
                        key_path: leaf.key,
                        value_hash: leaf.value,
                    }),
                    depth,
                })
            }
            Kind::Internal(i) => {
                let split = keys.partition_point(|k| !bit(k, depth));
                if split == 0 || split == keys.len() {
                    let side = split == 0;
                    out.siblings.push(self.child(i, !side).1);
                    self.prove_multi_at(self.child(i, side).0, depth + 1, keys, out);
                } else {
                    self.prove_multi_at(self.child(i, false).0, depth + 1, &keys[..split], out);
                    self.prove_multi_at(self.child(i, true).0, depth + 1, &keys[split..], out);
                }
            }
        }
    }
}

/// Verifies a single-key proof against `root` with nomt-core; returns the key's value hash
/// (`Some`, inclusion) or `None` (the proof shows the key is absent).
pub fn verify_path(
    root: &Node,
    key: &KeyPath,
    proof: &PathProof,
) -> Result<Option<ValueHash>, Error> {
    if proof.siblings.len() > MAX_DEPTH {
        return Err(Error::TooManySiblings {
            siblings: proof.siblings.len(),
        });
    }
    let verified = proof
        .verify::<Sha2Hasher>(key_bits(key), *root)
        .map_err(|_| Error::root_mismatch(root))?;
    if verified
        .confirm_nonexistence(key)
        .map_err(|_| key_out_of_scope(key))?
    {
        Ok(None)
    } else {
        Ok(verified.terminal().map(|leaf| leaf.value_hash))
    }
}

fn key_out_of_scope(key: &KeyPath) -> Error {
    Error::KeyOutOfScope {
        key: hex::encode(key),
    }
}

fn terminal_path(terminal: &PathProofTerminal) -> &BitSlice<u8, Msb0> {
    terminal.path()
}

/// Checks that a multiproof has a shape some tree could have produced, so that nomt-core's
/// verifier (which indexes by the proof's own depths and counts) cannot go out of bounds:
///
/// - every path's depth is at most 256, and a terminator's position is exactly at its depth;
/// - paths are strictly ascending and none is a prefix of the next;
/// - each path lies at or below the point where its range splits from its neighbours, and
///   there are enough siblings for every range (nomt-core itself rejects extra siblings).
pub fn check_multi_proof(proof: &MultiProof) -> Result<(), Error> {
    for (i, path) in proof.paths.iter().enumerate() {
        if path.depth > MAX_DEPTH {
            return Err(Error::malformed(format!(
                "path {i} has depth {}, more than {MAX_DEPTH}",
                path.depth
            )));
        }
        if let PathProofTerminal::Terminator(pos) = &path.terminal {
            if pos.depth() as usize != path.depth {
                return Err(Error::malformed(format!(
                    "path {i}: terminator position at depth {}, path depth {}",
                    pos.depth(),
                    path.depth
                )));
            }
        }
    }
    for (i, pair) in proof.paths.windows(2).enumerate() {
        let (a, b) = (
            terminal_path(&pair[0].terminal),
            terminal_path(&pair[1].terminal),
        );
        if a >= b {
            return Err(Error::malformed(format!(
                "paths {i} and {} are not in strictly ascending order",
                i + 1
            )));
        }
        if b.starts_with(a) {
            return Err(Error::malformed(format!(
                "path {i} is a prefix of path {}",
                i + 1
            )));
        }
    }
    if !proof.paths.is_empty() {
        check_range(0, 0, &proof.paths, proof.siblings.len())?;
    }
    Ok(())
}

/// Mirrors nomt-core's recursive verification without hashing: returns the siblings the range
/// `paths` (first index `first`, all sharing their first `start_depth` bits) consumes, or an
/// error where nomt-core would index out of bounds.
fn check_range(
    first: usize,
    start_depth: usize,
    paths: &[MultiPathProof],
    available: usize,
) -> Result<usize, Error> {
    if let [path] = paths {
        if path.depth < start_depth {
            return Err(Error::malformed(format!(
                "path {first} at depth {} lies above its branch point at depth {start_depth}",
                path.depth
            )));
        }
        let unique = path.depth - start_depth;
        if unique > available {
            return Err(Error::malformed(format!(
                "path {first} needs {unique} siblings, {available} left"
            )));
        }
        return Ok(unique);
    }
    let (Some(lo), Some(hi)) = (paths.first(), paths.last()) else {
        return Err(Error::malformed("empty path range"));
    };
    let (lo, hi) = (terminal_path(&lo.terminal), terminal_path(&hi.terminal));
    if lo.len() < start_depth || hi.len() < start_depth {
        return Err(Error::malformed(format!(
            "path {first}: terminal path shorter than its range depth {start_depth}"
        )));
    }
    let common_bits = lo[start_depth..]
        .iter()
        .zip(hi[start_depth..].iter())
        .take_while(|(a, b)| a == b)
        .count();
    let common_len = start_depth + common_bits;
    if common_bits > available {
        return Err(Error::malformed(format!(
            "paths {first}..{}: {common_bits} shared siblings, {available} left",
            first + paths.len()
        )));
    }
    if paths
        .iter()
        .any(|p| terminal_path(&p.terminal).len() <= common_len)
    {
        return Err(Error::malformed(format!(
            "paths {first}..{} end at or above their branch point at depth {common_len}",
            first + paths.len()
        )));
    }
    let split = paths.partition_point(|p| !terminal_path(&p.terminal)[common_len]);
    if split == 0 || split == paths.len() {
        return Err(Error::malformed(format!(
            "paths {first}..{} do not branch at depth {common_len}",
            first + paths.len()
        )));
    }
    let left = check_range(
        first,
        common_len + 1,
        &paths[..split],
        available - common_bits,
    )?;
    let right = check_range(
        first + split,
        common_len + 1,
        &paths[split..],
        available - common_bits - left,
    )?;
    Ok(common_bits + left + right)
}

/// A multiproof checked against a root: the value or absence of every key in its scope is
/// known, and the root after writes to those keys can be computed.
#[derive(Debug, Clone)]
pub struct VerifiedMultiProof {
    inner: nomt_core::proof::VerifiedMultiProof,
    /// The terminals in path order (the order of `inner`'s paths).
    terminals: Vec<PathProofTerminal>,
    root: Node,
}

/// Verifies `proof` against `root` with nomt-core (after [`check_multi_proof`]).
pub fn verify_multi_proof(root: &Node, proof: &MultiProof) -> Result<VerifiedMultiProof, Error> {
    check_multi_proof(proof)?;
    let inner = nomt_core::proof::verify_multi_proof::<Sha2Hasher>(proof, *root)
        .map_err(|e| Error::from_multi(e, root))?;
    let terminals = if proof.paths.is_empty() {
        // nomt-core reads an empty multiproof as the empty tree: one terminator at the root.
        vec![PathProofTerminal::Terminator(TriePosition::new())]
    } else {
        proof.paths.iter().map(|p| p.terminal.clone()).collect()
    };
    Ok(VerifiedMultiProof {
        inner,
        terminals,
        root: *root,
    })
}

impl VerifiedMultiProof {
    /// The root the proof was verified against.
    pub fn root(&self) -> Node {
        self.root
    }

    /// The value hash of `key` (`None`: proven absent); an error if the proof does not cover
    /// `key`.
    pub fn get(&self, key: &KeyPath) -> Result<Option<ValueHash>, Error> {
        let index = self
            .inner
            .find_index_for(key)
            .map_err(|_| key_out_of_scope(key))?;
        Ok(match self.terminals.get(index) {
            Some(PathProofTerminal::Leaf(leaf)) if leaf.key_path == *key => Some(leaf.value_hash),
            Some(_) => None,
            None => return Err(key_out_of_scope(key)),
        })
    }

    /// The root after applying `ops` (same semantics as [`StateTree::update`]: any order, last
    /// op on a key wins, `None` deletes) to the proven tree, computed by nomt-core's
    /// `verify_multi_proof_update`. Every key written must be covered by the proof.
    pub fn update(&self, ops: &[Op]) -> Result<Node, Error> {
        let ops = normalize(ops).into_owned();
        for (key, _) in &ops {
            self.inner
                .find_index_for(key)
                .map_err(|_| key_out_of_scope(key))?;
        }
        nomt_core::proof::verify_multi_proof_update::<Sha2Hasher>(&self.inner, ops).map_err(|e| {
            Error::Update {
                reason: format!("{e:?}"),
            }
        })
    }
}

/// The stateless transition: checks `proof` against `prev_root` and returns the root after
/// `ops` (keys covered by the proof; inserts, replacements and deletes), using nomt-core's
/// `verify_multi_proof` then `verify_multi_proof_update`. Equals the root [`StateTree::update`]
/// returns for the same ops on the tree that produced the proof.
pub fn verify_update(prev_root: &Node, proof: &MultiProof, ops: &[Op]) -> Result<Node, Error> {
    verify_multi_proof(prev_root, proof)?.update(ops)
}

/// The borsh encoding of a multiproof (nomt-core's derive), as [`decode_multi_proof`] reads it.
pub fn encode_multi_proof(proof: &MultiProof) -> Vec<u8> {
    // Serialising into a Vec cannot fail (no I/O); the empty fallback is unreachable.
    borsh::to_vec(proof).unwrap_or_default()
}

/// Decodes a borsh multiproof with at most `max_paths` paths: the whole input must be
/// consumed, the shape must pass [`check_multi_proof`], and the bytes must be canonical (a
/// terminator position carries no bits past its depth and its derived index field is the one
/// its path implies), so one proof has exactly one encoding.
pub fn decode_multi_proof(bytes: &[u8], max_paths: usize) -> Result<MultiProof, Error> {
    let proof: MultiProof = borsh::from_slice(bytes).map_err(|e| Error::Decode {
        reason: e.to_string(),
    })?;
    if proof.paths.len() > max_paths {
        return Err(Error::TooManyPaths {
            paths: proof.paths.len(),
            limit: max_paths,
        });
    }
    check_multi_proof(&proof)?;
    let canonical = MultiProof {
        paths: proof
            .paths
            .iter()
            .map(|p| MultiPathProof {
                terminal: match &p.terminal {
                    PathProofTerminal::Terminator(pos) => {
                        PathProofTerminal::Terminator(terminator_at(&pos.raw_path(), p.depth))
                    }
                    leaf => leaf.clone(),
                },
                depth: p.depth,
            })
            .collect(),
        siblings: proof.siblings.clone(),
    };
    if encode_multi_proof(&canonical) != bytes {
        return Err(Error::NonCanonical {
            reason: "terminator position has bits past its depth or a wrong index".into(),
        });
    }
    Ok(proof)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::TERMINATOR;
    use rand::{rngs::StdRng, Rng, SeedableRng};
    use std::collections::BTreeMap;

    use crate::test_seed::seed;

    fn random_tree(rng: &mut StdRng, n: usize) -> (StateTree, BTreeMap<KeyPath, ValueHash>) {
        let map: BTreeMap<KeyPath, ValueHash> = (0..n).map(|_| (rng.gen(), rng.gen())).collect();
        (
            StateTree::from_leaves(map.iter().map(|(k, v)| (*k, *v))),
            map,
        )
    }

    fn absent_key(rng: &mut StdRng, map: &BTreeMap<KeyPath, ValueHash>) -> KeyPath {
        loop {
            let k: KeyPath = rng.gen();
            if !map.contains_key(&k) {
                return k;
            }
        }
    }

    #[test]
    fn every_key_of_a_5000_key_tree_proves_with_nomt_core() {
        let seed = seed();
        let mut rng = StdRng::seed_from_u64(seed);
        let (tree, map) = random_tree(&mut rng, 5000);
        let root = tree.root();
        for (k, v) in &map {
            let proof = tree.prove(k);
            let verified = proof
                .verify::<Sha2Hasher>(key_bits(k), root)
                .expect("nomt-core accepts the inclusion proof");
            let leaf = LeafData {
                key_path: *k,
                value_hash: *v,
            };
            assert_eq!(verified.confirm_value(&leaf).ok(), Some(true));
            assert_eq!(verified.confirm_nonexistence(k).ok(), Some(false));
            assert_eq!(verify_path(&root, k, &proof), Ok(Some(*v)));
        }
        for _ in 0..5000 {
            let k = absent_key(&mut rng, &map);
            let proof = tree.prove(&k);
            let verified = proof
                .verify::<Sha2Hasher>(key_bits(&k), root)
                .expect("nomt-core accepts the non-inclusion proof");
            assert_eq!(verified.confirm_nonexistence(&k).ok(), Some(true));
            assert_eq!(verify_path(&root, &k, &proof), Ok(None));
        }
    }

    #[test]
    fn empty_and_single_leaf_trees_prove() {
        let tree = StateTree::new();
        let proof = tree.prove(&[1; 32]);
        assert!(proof.siblings.is_empty());
        assert_eq!(verify_path(&tree.root(), &[1; 32], &proof), Ok(None));
        let multi = tree.prove_multi(&[[1; 32], [2; 32]]);
        let ops = [([1; 32], Some([3; 32])), ([2; 32], Some([4; 32]))];
        let mut tree = tree;
        let expected = tree.update(&ops);
        assert_eq!(verify_update(&TERMINATOR, &multi, &ops), Ok(expected));
        // One leaf: proofs of it and of a neighbour; delete it statelessly.
        let proof = tree.prove(&[1; 32]);
        assert_eq!(
            verify_path(&tree.root(), &[1; 32], &proof),
            Ok(Some([3; 32]))
        );
        let single = StateTree::from_leaves([([7; 32], [8; 32])]);
        let multi = single.prove_multi(&[[7; 32], [9; 32]]);
        assert_eq!(multi.paths.len(), 1);
        assert_eq!(
            verify_update(&single.root(), &multi, &[([7; 32], None)]),
            Ok(TERMINATOR)
        );
        // The empty multiproof is the empty tree's.
        let empty = MultiProof {
            paths: vec![],
            siblings: vec![],
        };
        assert_eq!(
            verify_update(&TERMINATOR, &empty, &[([5; 32], Some([6; 32]))]),
            Ok(StateTree::from_leaves([([5; 32], [6; 32])]).root())
        );
        assert!(verify_multi_proof(&single.root(), &empty).is_err());
    }

    /// 2 updates + 1 insert + 1 delete through a multiproof give exactly the tree's new root.
    #[test]
    fn multiproof_verify_update_equals_tree_update() {
        let seed = seed();
        let mut rng = StdRng::seed_from_u64(seed);
        let (mut tree, mut map) = random_tree(&mut rng, 5000);
        for trial in 0..200 {
            let present: Vec<KeyPath> = map.keys().copied().collect();
            let a = present[rng.gen_range(0..present.len())];
            let b = present[rng.gen_range(0..present.len())];
            let d = present[rng.gen_range(0..present.len())];
            let new = absent_key(&mut rng, &map);
            let keys = [a, b, new, d];
            let proof = tree.prove_multi(&keys);

            // Same bytes as nomt-core's own assembly from single path proofs.
            let mut singles: Vec<PathProof> = Vec::new();
            let mut sorted = keys.to_vec();
            sorted.sort();
            for k in sorted {
                let p = tree.prove(&k);
                if singles
                    .last()
                    .is_none_or(|l: &PathProof| l.terminal.path() != p.terminal.path())
                {
                    singles.push(p);
                }
            }
            assert_eq!(
                proof,
                MultiProof::from_path_proofs(singles),
                "trial {trial}"
            );

            let bytes = encode_multi_proof(&proof);
            let decoded = decode_multi_proof(&bytes, 16).expect("own proof decodes");
            assert_eq!(decoded, proof);

            let prev = tree.root();
            let verified = verify_multi_proof(&prev, &decoded).expect("verifies");
            assert_eq!(verified.get(&a).expect("in scope"), map.get(&a).copied());
            assert_eq!(verified.get(&new).expect("in scope"), None);

            let ops: Vec<Op> = vec![
                (a, Some(rng.gen())),
                (b, Some(rng.gen())),
                (new, Some(rng.gen())),
                (d, None),
            ];
            let stateless = verify_update(&prev, &decoded, &ops).expect("stateless update");
            let stateful = tree.update(&ops);
            assert_eq!(stateless, stateful, "trial {trial}");
            for (k, v) in &ops {
                match v {
                    Some(v) => map.insert(*k, *v),
                    None => map.remove(k),
                };
            }
        }
    }

    #[test]
    fn tampered_proofs_and_wrong_roots_are_rejected() {
        let mut rng = StdRng::seed_from_u64(5);
        let (tree, map) = random_tree(&mut rng, 3000);
        let root = tree.root();
        let present: Vec<KeyPath> = map.keys().copied().collect();
        let new = absent_key(&mut rng, &map);
        let keys = [present[10], present[2000], new];
        let ops: Vec<Op> = vec![
            (present[10], Some([1; 32])),
            (present[2000], None),
            (new, Some([2; 32])),
        ];
        let proof = tree.prove_multi(&keys);
        assert!(verify_update(&root, &proof, &ops).is_ok());

        // Wrong previous root.
        let mut wrong = root;
        wrong[5] ^= 1;
        assert!(matches!(
            verify_update(&wrong, &proof, &ops),
            Err(Error::RootMismatch { .. })
        ));
        // A flipped sibling.
        let mut t = proof.clone();
        t.siblings[3][31] ^= 1;
        assert!(matches!(
            verify_update(&root, &t, &ops),
            Err(Error::RootMismatch { .. })
        ));
        // A forged leaf value.
        let mut t = proof.clone();
        for p in &mut t.paths {
            if let PathProofTerminal::Leaf(leaf) = &mut p.terminal {
                leaf.value_hash[0] ^= 1;
                break;
            }
        }
        assert!(verify_update(&root, &t, &ops).is_err());
        // A missing sibling, an extra sibling, a dropped path, a wrong depth.
        let mut t = proof.clone();
        t.siblings.pop();
        assert!(verify_update(&root, &t, &ops).is_err());
        let mut t = proof.clone();
        t.siblings.push([7; 32]);
        assert!(verify_update(&root, &t, &ops).is_err());
        let mut t = proof.clone();
        t.paths.remove(1);
        assert!(verify_update(&root, &t, &ops).is_err());
        for delta in [-1i64, 1, 300] {
            let mut t = proof.clone();
            t.paths[0].depth = (t.paths[0].depth as i64 + delta) as usize;
            assert!(verify_update(&root, &t, &ops).is_err(), "depth {delta}");
        }
        // A key the proof does not cover (another leaf's key is outside every path's scope).
        let mut more = ops.clone();
        more.push((present[1000], Some([3; 32])));
        assert!(matches!(
            verify_update(&root, &proof, &more),
            Err(Error::KeyOutOfScope { .. })
        ));
        let verified = verify_multi_proof(&root, &proof).expect("verifies");
        assert!(verified.get(&present[1000]).is_err());
        // A single-key proof against the wrong root, or with too many siblings.
        let single = tree.prove(&present[7]);
        assert!(verify_path(&wrong, &present[7], &single).is_err());
        let mut long = single.clone();
        long.siblings = vec![[0; 32]; 257];
        assert!(matches!(
            verify_path(&root, &present[7], &long),
            Err(Error::TooManySiblings { siblings: 257 })
        ));
    }

    /// Every single-byte change to an encoded proof is rejected by decoding or by
    /// verification, and never panics.
    #[test]
    fn mutated_encodings_never_verify_or_panic() {
        let seed = seed();
        let mut rng = StdRng::seed_from_u64(seed);
        let (tree, map) = random_tree(&mut rng, 2000);
        let root = tree.root();
        let present: Vec<KeyPath> = map.keys().copied().collect();
        for _ in 0..4 {
            let new = absent_key(&mut rng, &map);
            let a = present[rng.gen_range(0..present.len())];
            let b = present[rng.gen_range(0..present.len())];
            let proof = tree.prove_multi(&[a, b, new]);
            let ops: Vec<Op> = vec![(a, Some([1; 32])), (b, None), (new, Some([2; 32]))];
            let bytes = encode_multi_proof(&proof);
            for i in 0..bytes.len() {
                for flip in [0x01u8, 0x80, 0xff] {
                    let mut m = bytes.clone();
                    m[i] ^= flip;
                    let outcome =
                        decode_multi_proof(&m, 16).and_then(|p| verify_update(&root, &p, &ops));
                    assert!(outcome.is_err(), "byte {i} ^ {flip:#x} still verifies");
                }
            }
            assert!(decode_multi_proof(&bytes[..bytes.len() - 1], 16).is_err());
            let mut longer = bytes.clone();
            longer.push(0);
            assert!(decode_multi_proof(&longer, 16).is_err());
            assert!(matches!(
                decode_multi_proof(&bytes, 1),
                Err(Error::TooManyPaths { limit: 1, .. })
            ));
        }
    }

    /// Hand-made malformed shapes are rejected before nomt-core sees them.
    #[test]
    fn malformed_shapes_are_rejected_without_panicking() {
        let mut rng = StdRng::seed_from_u64(9);
        let (tree, map) = random_tree(&mut rng, 500);
        let root = tree.root();
        let present: Vec<KeyPath> = map.keys().copied().collect();
        let proof = tree.prove_multi(&[present[0], present[250], present[499]]);
        let ops: Vec<Op> = vec![(present[0], None)];

        let mut shapes: Vec<MultiProof> = Vec::new();
        // Duplicate path; reversed order.
        let mut t = proof.clone();
        t.paths.insert(1, t.paths[1].clone());
        shapes.push(t);
        let mut t = proof.clone();
        t.paths.reverse();
        shapes.push(t);
        // A terminator whose path is a prefix of the next path, and one that is too short.
        for depth in [0usize, 1, 3, 256] {
            let mut t = proof.clone();
            let pos = if depth == 0 {
                TriePosition::new()
            } else {
                TriePosition::from_path_and_depth(present[250], depth as u16)
            };
            t.paths[1] = MultiPathProof {
                terminal: PathProofTerminal::Terminator(pos),
                depth: depth.saturating_sub(1),
            };
            shapes.push(t.clone());
            t.paths[1].depth = depth;
            shapes.push(t.clone());
            t.paths[1].depth = depth + 5;
            shapes.push(t);
        }
        // Huge depth, no siblings, all siblings gone.
        let mut t = proof.clone();
        t.paths[2].depth = usize::MAX;
        shapes.push(t);
        let mut t = proof.clone();
        t.siblings.clear();
        shapes.push(t);
        let mut t = proof.clone();
        for p in &mut t.paths {
            p.depth = 256;
        }
        shapes.push(t);
        let mut t = proof.clone();
        for p in &mut t.paths {
            p.depth = 0;
        }
        shapes.push(t);
        for (i, shape) in shapes.iter().enumerate() {
            assert!(
                verify_update(&root, shape, &ops).is_err(),
                "shape {i} accepted"
            );
        }
    }

    /// Golden fixture: the root of a fixed tree and the bytes of one of its multiproofs. A
    /// change to the hashing, the tree shape or nomt-core's borsh layout breaks this test; such
    /// a change alters consensus (state roots) and the fraud-proof wire format.
    #[test]
    fn golden_root_and_multiproof_bytes() {
        use sha2::{Digest, Sha256};
        let key = |i: u8| -> KeyPath { Sha256::digest([b'k', i]).into() };
        let value = |i: u8| -> ValueHash { Sha256::digest([b'v', i]).into() };
        let tree = StateTree::from_leaves((0..8).map(|i| (key(i), value(i))));
        let proof = tree.prove_multi(&[key(1), key(5), key(200)]);
        let bytes = encode_multi_proof(&proof);
        println!("root {}", hex::encode(tree.root()));
        println!("proof {}", hex::encode(&bytes));
        assert_eq!(hex::encode(tree.root()), GOLDEN_ROOT);
        assert_eq!(hex::encode(&bytes), GOLDEN_PROOF);
        assert_eq!(decode_multi_proof(&bytes, 3).as_ref(), Ok(&proof));
    }

    const GOLDEN_ROOT: &str = "4c9513d2637cce99be17a99f3b15146728a2b6cafe2959128c190eec6a68a53e";
    const GOLDEN_PROOF: &str = concat!(
        "03000000012000000000000000000000000000000000000000000000000000000000000000040010",
        "000000000000000400000000000000008f158c2bb5c5d345977dfce597b656244ca464b4c278101b",
        "1d56f9cf868accb830d11eeebedc2eeb1e9b6b21b03af9be37f4ed3f229ab0a2367ff1c36f05b9f5",
        "030000000000000000f5238e126f202f7dfecc5871ee0d13b9a4feeda6db673ca759ca8cdf529187",
        "6ab2e5b4d6c3c7cd213aa8742ebffbbc64c87547c1ff3da6e00b1ac4c3c1deca1d02000000000000",
        "000400000037f3193510914b4d573a5f60d7ae1ad1e0742cbfa52749fa3a640324d6de32cea032f0",
        "58e71324e6df99179ae8f1af753a4fbef4ce92fbc86298c973e8a1bdf668ba82fb95d116c1baa9dc",
        "df6707b54ad25284e90c6af23b4f4ab6576ac3d045fee483a7209886a44253f5035ff8a30fe91467",
        "7e2db12371e6f5692520e0220c",
    );

    // ----- adversarial but self-consistent proofs -----

    fn set_bit(key: &mut KeyPath, depth: usize, value: bool) {
        key.view_bits_mut::<Msb0>().set(depth, value);
    }

    fn random_sibling(rng: &mut StdRng) -> Node {
        let mut n: Node = rng.gen();
        match rng.gen_range(0..4) {
            0 => TERMINATOR,
            1 => {
                n[0] |= 0x80; // looks like a leaf
                n
            }
            _ => {
                n[0] &= 0x7f; // looks like an internal node
                n
            }
        }
    }

    /// A random multiproof shape (in prove_multi's layout), with arbitrary sibling hashes:
    /// terminals (leaves or terminators), shared siblings, bisections; `chain` makes long
    /// shared prefixes (down to depth 256) likely.
    fn gen_range(
        rng: &mut StdRng,
        depth: usize,
        prefix: KeyPath,
        chain: u32,
        out: &mut MultiProof,
    ) {
        let r = rng.gen_range(0..100);
        let terminal = depth == 256 || out.paths.len() >= 8 || (r < 25 && chain < 95);
        if terminal {
            let terminal = if rng.gen_bool(0.5) {
                let mut key: KeyPath = rng.gen();
                key.view_bits_mut::<Msb0>()[..depth]
                    .copy_from_bitslice(&prefix.view_bits::<Msb0>()[..depth]);
                PathProofTerminal::Leaf(LeafData {
                    key_path: key,
                    value_hash: rng.gen(),
                })
            } else {
                PathProofTerminal::Terminator(terminator_at(&prefix, depth))
            };
            out.paths.push(MultiPathProof { terminal, depth });
        } else if r < chain.max(60) {
            out.siblings.push(random_sibling(rng));
            let mut p = prefix;
            set_bit(&mut p, depth, rng.gen());
            gen_range(rng, depth + 1, p, chain, out);
        } else {
            let (mut l, mut r) = (prefix, prefix);
            set_bit(&mut l, depth, false);
            set_bit(&mut r, depth, true);
            gen_range(rng, depth + 1, l, chain, out);
            gen_range(rng, depth + 1, r, chain, out);
        }
    }

    /// The root a multiproof hashes to (nomt-core's recursion, written again for the test).
    fn proof_root(paths: &[MultiPathProof], siblings: &[Node], start: usize) -> (Node, usize) {
        let hash_up = |mut node: Node, path: &BitSlice<u8, Msb0>, sibs: &[Node]| {
            for (b, s) in path.iter().by_vals().rev().zip(sibs.iter().rev()) {
                node = if b {
                    crate::hash::hash_internal(s, &node)
                } else {
                    crate::hash::hash_internal(&node, s)
                };
            }
            node
        };
        let node_of = |t: &PathProofTerminal| match t {
            PathProofTerminal::Leaf(l) => crate::hash::hash_leaf(&l.key_path, &l.value_hash),
            PathProofTerminal::Terminator(_) => TERMINATOR,
        };
        if let [p] = paths {
            let unique = p.depth - start;
            let path = &p.terminal.path()[start..p.depth];
            return (
                hash_up(node_of(&p.terminal), path, &siblings[..unique]),
                unique,
            );
        }
        let (lo, hi) = (
            paths[0].terminal.path(),
            paths[paths.len() - 1].terminal.path(),
        );
        let common = lo[start..]
            .iter()
            .zip(hi[start..].iter())
            .take_while(|(a, b)| a == b)
            .count();
        let split = paths.partition_point(|p| !p.terminal.path()[start + common]);
        let rest = &siblings[common..];
        let (l, lu) = proof_root(&paths[..split], rest, start + common + 1);
        let (r, ru) = proof_root(&paths[split..], &rest[lu..], start + common + 1);
        let node = hash_up(
            crate::hash::hash_internal(&l, &r),
            &lo[start..start + common],
            &siblings[..common],
        );
        (node, common + lu + ru)
    }

    /// A prover may publish a root built from any proof it likes (a bad claim), so the
    /// verifier must survive every self-consistent proof: shape-checked, verified against its
    /// own root, then updated with random ops in scope, without panicking.
    #[test]
    fn self_consistent_adversarial_proofs_never_panic() {
        let seed = seed();
        let mut rng = StdRng::seed_from_u64(seed);
        let mut updated = 0;
        for case in 0..1000 {
            let chain = if case % 5 == 0 { 99 } else { 0 };
            let mut proof = MultiProof {
                paths: vec![],
                siblings: vec![],
            };
            gen_range(&mut rng, 0, [0; 32], chain, &mut proof);
            let (root, used) = proof_root(&proof.paths, &proof.siblings, 0);
            assert_eq!(used, proof.siblings.len());
            let verified = verify_multi_proof(&root, &proof)
                .unwrap_or_else(|e| panic!("case {case}: generated proof rejected: {e}"));
            let mut ops: Vec<Op> = Vec::new();
            for _ in 0..rng.gen_range(0..6) {
                let p = &proof.paths[rng.gen_range(0..proof.paths.len())];
                let key = match (&p.terminal, rng.gen_bool(0.5)) {
                    (PathProofTerminal::Leaf(l), true) => l.key_path,
                    (t, _) => {
                        let mut k: KeyPath = rng.gen();
                        k.view_bits_mut::<Msb0>()[..p.depth]
                            .copy_from_bitslice(&t.path()[..p.depth]);
                        k
                    }
                };
                ops.push((key, rng.gen_bool(0.7).then(|| rng.gen())));
            }
            let outcome = std::panic::catch_unwind(|| verified.update(&ops));
            let outcome = outcome.unwrap_or_else(|_| panic!("case {case} panicked"));
            if outcome.is_ok() {
                updated += 1;
            }
            let bytes = encode_multi_proof(&proof);
            assert_eq!(decode_multi_proof(&bytes, 64).as_ref(), Ok(&proof));
        }
        println!("{updated} of 1000 stateless updates succeeded");
        assert!(updated > 500, "only {updated} updates succeeded");
    }
}
