//! The in-memory tree: arenas of leaves and internal nodes, batched updates, bulk build.
//!
//! # Shape
//!
//! A binary trie over 256-bit key paths in which every subtree holding a single leaf *is* that
//! leaf (it sits at the depth where its path first differs from every other key), and every
//! empty subtree is the [`TERMINATOR`]. An internal node therefore always has at least two
//! leaves below it; one of its children may still be empty (a "chain" node, where all the keys
//! below share the next bit). This is NOMT's shape, so with NOMT's hashing
//! ([`crate::hash`]) the root equals the root NOMT computes for the same key/value-hash set.
//!
//! # Layout
//!
//! Nodes live in chunked arenas ([`Arena`]: growth never copies) indexed by 32-bit references
//! ([`NodeRef`]):
//!
//! - `leaves`: key path and value hash, 64 bytes, one cache line;
//! - `children`: the two child references of each internal node, 8 bytes, dense, so a descent
//!   mostly hits the cache;
//! - `child_hashes`: the two child hashes of each internal node, 64 bytes, one cache line.
//!
//! A node's own hash lives in its parent (the root's in the tree), so rehashing a node on the
//! way up reads its sibling's hash from the line it already touched on the way down: one
//! cache line per level. Freed slots are recycled through free lists.

use crate::arena::Arena;
use crate::hash::{hash_internal, hash_leaf, Node, TERMINATOR};
use std::borrow::Cow;

/// A 256-bit key path. Callers hash their keys first (the tree's balance assumes uniformly
/// distributed paths).
pub type KeyPath = [u8; 32];

/// The hash of a stored value; the tree stores key path -> value hash.
pub type ValueHash = [u8; 32];

/// One write in an update batch: `Some(value_hash)` inserts or replaces, `None` deletes.
pub type Op = (KeyPath, Option<ValueHash>);

/// The most leaves (and, separately, internal nodes) a tree can hold: 2^31 - 1, far beyond
/// what fits in RAM (that many keys need about 360 GB of arenas).
pub const MAX_NODES: usize = (1 << 31) - 1;

const LEAF_BIT: u32 = 1 << 31;

/// A reference into one of the arenas: empty, a leaf index (top bit set) or an internal index.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct NodeRef(u32);

pub(crate) const EMPTY: NodeRef = NodeRef(u32::MAX);

pub(crate) enum Kind {
    Empty,
    Leaf(usize),
    Internal(usize),
}

impl NodeRef {
    #[inline]
    pub(crate) fn kind(self) -> Kind {
        if self == EMPTY {
            Kind::Empty
        } else if self.0 & LEAF_BIT != 0 {
            Kind::Leaf((self.0 & !LEAF_BIT) as usize)
        } else {
            Kind::Internal(self.0 as usize)
        }
    }
}

#[repr(C, align(64))]
#[derive(Clone, Copy, Debug)]
pub(crate) struct Leaf {
    pub(crate) key: KeyPath,
    pub(crate) value: ValueHash,
}

#[repr(C, align(64))]
#[derive(Clone, Copy, Debug)]
pub(crate) struct ChildHashes(pub(crate) [Node; 2]);

/// Bit `depth` of a key path, most significant bit first (NOMT's `Msb0` order).
#[inline]
pub(crate) fn bit(key: &KeyPath, depth: usize) -> bool {
    (key[depth >> 3] >> (7 - (depth & 7))) & 1 == 1
}

/// Whether `ops` is strictly ascending by key (sorted, no key twice).
fn strictly_sorted<T>(ops: &[(KeyPath, T)]) -> bool {
    ops.windows(2).all(|w| w[0].0 < w[1].0)
}

/// Sorts by key, keeping for each key the **last** entry given (later writes win). Borrows
/// when the input is already strictly ascending, which is the common case.
pub(crate) fn normalize<T: Clone>(ops: &[(KeyPath, T)]) -> Cow<'_, [(KeyPath, T)]> {
    if strictly_sorted(ops) {
        return Cow::Borrowed(ops);
    }
    let mut sorted = ops.to_vec();
    sorted.sort_by_key(|op| op.0); // stable: equal keys keep their input order
    let mut out: Vec<(KeyPath, T)> = Vec::with_capacity(sorted.len());
    for op in sorted {
        match out.last_mut() {
            Some(last) if last.0 == op.0 => *last = op,
            _ => out.push(op),
        }
    }
    Cow::Owned(out)
}

/// Authenticated state: key path -> value hash, with a NOMT-compatible root.
///
/// All operations are in memory and deterministic. Persistence belongs to the caller: keep the
/// leaves (the flat state) in a database and rebuild with [`StateTree::from_leaves`] at
/// start-up.
#[derive(Clone)]
pub struct StateTree {
    pub(crate) root: NodeRef,
    pub(crate) root_hash: Node,
    pub(crate) leaves: Arena<Leaf>,
    pub(crate) children: Arena<[NodeRef; 2]>,
    pub(crate) child_hashes: Arena<ChildHashes>,
    free_leaves: Vec<u32>,
    free_internals: Vec<u32>,
}

impl Default for StateTree {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for StateTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateTree")
            .field("root", &hex::encode(self.root_hash))
            .field("len", &self.len())
            .field("internal_nodes", &self.internal_count())
            .finish()
    }
}

/// Memory held by a tree's arenas, in bytes (allocated capacity, not only what is in use).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryUsage {
    /// Leaf arena (64 bytes per slot).
    pub leaves: usize,
    /// Internal-node arenas: child references (8 bytes) and child hashes (64 bytes) per slot.
    pub internals: usize,
    /// Free lists.
    pub free_lists: usize,
}

impl MemoryUsage {
    /// The sum of all parts.
    pub fn total(&self) -> usize {
        self.leaves + self.internals + self.free_lists
    }
}

impl StateTree {
    /// An empty tree; its root is NOMT's empty root, the [`TERMINATOR`] (32 zero bytes).
    pub fn new() -> Self {
        StateTree {
            root: EMPTY,
            root_hash: TERMINATOR,
            leaves: Arena::new(),
            children: Arena::new(),
            child_hashes: Arena::new(),
            free_leaves: Vec::new(),
            free_internals: Vec::new(),
        }
    }

    /// Builds a tree from `(key path, value hash)` pairs in any order; when a key appears more
    /// than once the last pair wins. Sorts, then builds depth-first (each subtree laid out
    /// contiguously), hashing every node once.
    ///
    /// # Panics
    ///
    /// If there are more than [`MAX_NODES`] distinct keys.
    pub fn from_leaves(leaves: impl IntoIterator<Item = (KeyPath, ValueHash)>) -> Self {
        let mut leaves: Vec<(KeyPath, ValueHash)> = leaves.into_iter().collect();
        if !strictly_sorted(&leaves) {
            // In place (no second copy of a large input): stable sort, then keep the last of
            // each run of equal keys.
            leaves.sort_by_key(|leaf| leaf.0);
            leaves.dedup_by(|later, kept| {
                let same = later.0 == kept.0;
                if same {
                    std::mem::swap(later, kept);
                }
                same
            });
        }
        let mut tree = StateTree::new();
        let (root, root_hash) = tree.build(0, &leaves, None);
        tree.root = root;
        tree.root_hash = root_hash;
        tree
    }

    /// The root: NOMT's root of the same key path -> value hash set.
    pub fn root(&self) -> Node {
        self.root_hash
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.leaves.len() - self.free_leaves.len()
    }

    /// Whether the tree holds no key.
    pub fn is_empty(&self) -> bool {
        self.root == EMPTY
    }

    /// The number of internal nodes (about 1.44 per key for uniformly random keys).
    pub fn internal_count(&self) -> usize {
        self.children.len() - self.free_internals.len()
    }

    /// The value hash stored under `key`, if any.
    pub fn get(&self, key: &KeyPath) -> Option<ValueHash> {
        let mut node = self.root;
        let mut depth = 0;
        loop {
            match node.kind() {
                Kind::Empty => return None,
                Kind::Leaf(i) => {
                    let leaf = &self.leaves[i];
                    return (leaf.key == *key).then_some(leaf.value);
                }
                Kind::Internal(i) => {
                    node = self.children[i][bit(key, depth) as usize];
                    depth += 1;
                }
            }
        }
    }

    /// Applies a batch of writes and returns the new root.
    ///
    /// `Some(value_hash)` inserts or replaces, `None` deletes (deleting an absent key is a
    /// no-op). Ops may come in any order; a key given twice takes its last op. The batch is
    /// applied in one descent from the root, splitting it at every level, so nodes on shared
    /// prefixes are rehashed once per batch; a node whose children did not change is not
    /// rehashed. Cheap enough to call once per transaction and read the root after each.
    ///
    /// # Panics
    ///
    /// If the tree would hold more than [`MAX_NODES`] leaves or internal nodes.
    pub fn update(&mut self, ops: &[Op]) -> Node {
        if ops.is_empty() {
            return self.root_hash;
        }
        let ops = normalize(ops);
        let (root, root_hash) = self.update_at(self.root, self.root_hash, 0, &ops);
        self.root = root;
        self.root_hash = root_hash;
        root_hash
    }

    /// Every `(key path, value hash)`, in ascending key order.
    pub fn iter(&self) -> impl Iterator<Item = (KeyPath, ValueHash)> + '_ {
        let mut stack = vec![self.root];
        std::iter::from_fn(move || loop {
            let node = stack.pop()?;
            match node.kind() {
                Kind::Empty => {}
                Kind::Leaf(i) => {
                    let leaf = &self.leaves[i];
                    return Some((leaf.key, leaf.value));
                }
                Kind::Internal(i) => {
                    let [l, r] = self.children[i];
                    stack.push(r);
                    stack.push(l);
                }
            }
        })
    }

    /// Bytes allocated by the arenas (capacity, so it includes growth slack).
    pub fn memory_usage(&self) -> MemoryUsage {
        use std::mem::size_of;
        MemoryUsage {
            leaves: self.leaves.capacity() * size_of::<Leaf>(),
            internals: self.children.capacity() * size_of::<[NodeRef; 2]>()
                + self.child_hashes.capacity() * size_of::<ChildHashes>(),
            free_lists: (self.free_leaves.capacity() + self.free_internals.capacity())
                * size_of::<u32>(),
        }
    }

    /// The hash of `node`'s child on side `side` and its reference (for proofs).
    #[inline]
    pub(crate) fn child(&self, internal: usize, side: bool) -> (NodeRef, Node) {
        (
            self.children[internal][side as usize],
            self.child_hashes[internal].0[side as usize],
        )
    }

    // ----- updates -----

    /// Applies `ops` (non-empty, strictly ascending, all sharing the first `depth` bits of the
    /// path to `node`) to the subtree `node` whose hash is `hash`; returns the new subtree and
    /// its hash.
    fn update_at(
        &mut self,
        node: NodeRef,
        hash: Node,
        depth: usize,
        ops: &[Op],
    ) -> (NodeRef, Node) {
        match node.kind() {
            Kind::Empty => {
                if let [(key, value)] = ops {
                    return match value {
                        Some(value) => (self.alloc_leaf(*key, *value), hash_leaf(key, value)),
                        None => (EMPTY, TERMINATOR),
                    };
                }
                let inserts: Vec<(KeyPath, ValueHash)> =
                    ops.iter().filter_map(|(k, v)| v.map(|v| (*k, v))).collect();
                self.build(depth, &inserts, None)
            }
            Kind::Leaf(i) => {
                let leaf = self.leaves[i];
                if let [(key, value)] = ops {
                    if *key == leaf.key {
                        return match value {
                            Some(value) => {
                                self.leaves[i].value = *value;
                                (node, hash_leaf(key, value))
                            }
                            None => {
                                self.free_leaf(i);
                                (EMPTY, TERMINATOR)
                            }
                        };
                    }
                }
                let inserts = ops.iter().filter_map(|(k, v)| v.map(|v| (*k, v)));
                match ops.binary_search_by(|(k, _)| k.cmp(&leaf.key)) {
                    Ok(_) => {
                        // The batch overrides the existing leaf.
                        self.free_leaf(i);
                        let merged: Vec<_> = inserts.collect();
                        self.build(depth, &merged, None)
                    }
                    Err(pos) => {
                        // The existing leaf stays, unchanged: splice it in and reuse it.
                        let mut merged = Vec::with_capacity(ops.len() + 1);
                        merged.extend(ops[..pos].iter().filter_map(|(k, v)| v.map(|v| (*k, v))));
                        merged.push((leaf.key, leaf.value));
                        merged.extend(ops[pos..].iter().filter_map(|(k, v)| v.map(|v| (*k, v))));
                        self.build(depth, &merged, Some((leaf.key, node, hash)))
                    }
                }
            }
            Kind::Internal(i) => {
                let split = ops.partition_point(|(k, _)| !bit(k, depth));
                let [l, r] = self.children[i];
                let [hl, hr] = self.child_hashes[i].0;
                let (nl, nhl) = if split > 0 {
                    self.update_at(l, hl, depth + 1, &ops[..split])
                } else {
                    (l, hl)
                };
                let (nr, nhr) = if split < ops.len() {
                    self.update_at(r, hr, depth + 1, &ops[split..])
                } else {
                    (r, hr)
                };
                match (nl.kind(), nr.kind()) {
                    (Kind::Empty, Kind::Empty) => {
                        self.free_internal(i);
                        (EMPTY, TERMINATOR)
                    }
                    // A lone leaf moves up: single-leaf subtrees are collapsed.
                    (Kind::Leaf(_), Kind::Empty) => {
                        self.free_internal(i);
                        (nl, nhl)
                    }
                    (Kind::Empty, Kind::Leaf(_)) => {
                        self.free_internal(i);
                        (nr, nhr)
                    }
                    _ if nl == l && nr == r && nhl == hl && nhr == hr => (node, hash),
                    _ => {
                        self.children[i] = [nl, nr];
                        self.child_hashes[i] = ChildHashes([nhl, nhr]);
                        (node, hash_internal(&nhl, &nhr))
                    }
                }
            }
        }
    }

    /// Builds the subtree at `depth` holding exactly `leaves` (strictly ascending, sharing
    /// their first `depth` bits). `keep` is an existing leaf (key, reference, hash) to reuse
    /// instead of allocating and hashing it again.
    fn build(
        &mut self,
        depth: usize,
        leaves: &[(KeyPath, ValueHash)],
        keep: Option<(KeyPath, NodeRef, Node)>,
    ) -> (NodeRef, Node) {
        match leaves {
            [] => (EMPTY, TERMINATOR),
            [(key, value)] => match keep {
                Some((k, node, hash)) if k == *key => (node, hash),
                _ => (self.alloc_leaf(*key, *value), hash_leaf(key, value)),
            },
            _ => {
                // Pre-order allocation: a fresh build lays each subtree out contiguously.
                let i = self.alloc_internal();
                let split = leaves.partition_point(|(k, _)| !bit(k, depth));
                let (l, hl) = self.build(depth + 1, &leaves[..split], keep);
                let (r, hr) = self.build(depth + 1, &leaves[split..], keep);
                self.children[i] = [l, r];
                self.child_hashes[i] = ChildHashes([hl, hr]);
                (NodeRef(i as u32), hash_internal(&hl, &hr))
            }
        }
    }

    fn alloc_leaf(&mut self, key: KeyPath, value: ValueHash) -> NodeRef {
        let leaf = Leaf { key, value };
        let i = match self.free_leaves.pop() {
            Some(i) => {
                self.leaves[i as usize] = leaf;
                i
            }
            None => {
                assert!(self.leaves.len() < MAX_NODES, "state tree: leaf arena full");
                self.leaves.push(leaf) as u32
            }
        };
        NodeRef(i | LEAF_BIT)
    }

    fn alloc_internal(&mut self) -> usize {
        match self.free_internals.pop() {
            Some(i) => i as usize,
            None => {
                assert!(
                    self.children.len() < MAX_NODES,
                    "state tree: internal arena full"
                );
                self.child_hashes.push(ChildHashes([TERMINATOR; 2]));
                self.children.push([EMPTY, EMPTY])
            }
        }
    }

    fn free_leaf(&mut self, i: usize) {
        self.free_leaves.push(i as u32);
    }

    fn free_internal(&mut self, i: usize) {
        self.free_internals.push(i as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nomt_core::hasher::Sha2Hasher;
    use rand::{rngs::StdRng, Rng, SeedableRng};
    use std::collections::BTreeMap;

    use crate::test_seed::seed;

    /// nomt-core's own root for a key -> value-hash set: `update::build_trie` over the sorted
    /// leaves, an independent implementation of the same commitment.
    pub(crate) fn nomt_root(map: &BTreeMap<KeyPath, ValueHash>) -> Node {
        nomt_core::update::build_trie::<Sha2Hasher>(0, map.iter().map(|(k, v)| (*k, *v)), |_| {})
    }

    fn key_with_prefix(rng: &mut StdRng, prefix: &[u8]) -> KeyPath {
        let mut k: KeyPath = rng.gen();
        k[..prefix.len()].copy_from_slice(prefix);
        k
    }

    /// Random keys, some of them clustered so that long shared prefixes (chain nodes) appear.
    fn random_key(rng: &mut StdRng) -> KeyPath {
        match rng.gen_range(0..4) {
            0 => key_with_prefix(rng, &[0xab, 0xcd, 0xef]),
            1 => key_with_prefix(rng, &[0x00; 31]),
            _ => rng.gen(),
        }
    }

    #[test]
    fn empty_root_is_nomts() {
        let tree = StateTree::new();
        let nomt_empty = nomt_core::update::build_trie::<Sha2Hasher>(0, std::iter::empty(), |_| {});
        assert_eq!(tree.root(), nomt_empty);
        assert_eq!(tree.root(), nomt_core::trie::TERMINATOR);
        assert_eq!(StateTree::from_leaves([]).root(), nomt_empty);
        assert!(tree.is_empty());
        assert_eq!(tree.get(&[1; 32]), None);
    }

    #[test]
    fn single_leaf_root_is_the_leaf_hash() {
        let mut tree = StateTree::new();
        let root = tree.update(&[([5; 32], Some([6; 32]))]);
        assert_eq!(root, hash_leaf(&[5; 32], &[6; 32]));
        assert_eq!(tree.update(&[([5; 32], None)]), TERMINATOR);
        assert_eq!(tree.len(), 0);
    }

    #[test]
    fn root_matches_nomt_core_build_trie() {
        let seed = seed();
        let mut rng = StdRng::seed_from_u64(seed);
        for round in 0..20 {
            let n = rng.gen_range(0..400);
            let map: BTreeMap<KeyPath, ValueHash> =
                (0..n).map(|_| (random_key(&mut rng), rng.gen())).collect();
            let tree = StateTree::from_leaves(map.iter().map(|(k, v)| (*k, *v)));
            assert_eq!(tree.root(), nomt_root(&map), "round {round}, {n} keys");
            assert_eq!(tree.len(), map.len());
            assert_eq!(
                tree.internal_count(),
                tree.children.len(),
                "exact arena sizing"
            );
            assert!(tree.iter().eq(map.iter().map(|(k, v)| (*k, *v))));
        }
    }

    /// Random batches of inserts, replacements and deletes (of present and absent keys, in
    /// any order, with repeated keys) give the root of a fresh build over the final set, and
    /// that root is nomt-core's.
    #[test]
    fn random_batches_equal_fresh_build() {
        let seed = seed();
        let mut rng = StdRng::seed_from_u64(seed);
        let mut tree = StateTree::new();
        let mut model: BTreeMap<KeyPath, ValueHash> = BTreeMap::new();
        let mut known: Vec<KeyPath> = Vec::new();
        for batch in 0..300 {
            let size = match rng.gen_range(0..10) {
                0 => rng.gen_range(100..600),
                1..=4 => rng.gen_range(0..4),
                _ => rng.gen_range(1..40),
            };
            let delete_bias = if batch % 50 > 40 { 80 } else { 30 };
            let mut ops = Vec::with_capacity(size);
            for _ in 0..size {
                let key = if !known.is_empty() && rng.gen_range(0..100) < 60 {
                    known[rng.gen_range(0..known.len())]
                } else {
                    let k = random_key(&mut rng);
                    known.push(k);
                    k
                };
                let op = if rng.gen_range(0..100) < delete_bias {
                    None
                } else {
                    Some(rng.gen())
                };
                ops.push((key, op));
            }
            for (k, v) in &ops {
                match v {
                    Some(v) => model.insert(*k, *v),
                    None => model.remove(k),
                };
            }
            let root = tree.update(&ops);
            assert_eq!(root, tree.root());
            assert_eq!(tree.len(), model.len(), "batch {batch}");
            let fresh = StateTree::from_leaves(model.iter().map(|(k, v)| (*k, *v)));
            assert_eq!(root, fresh.root(), "batch {batch} of size {size}");
            if batch % 25 == 0 {
                assert_eq!(root, nomt_root(&model), "batch {batch}");
            }
        }
        for (k, v) in &model {
            assert_eq!(tree.get(k), Some(*v));
        }
        assert!(tree.iter().eq(model.iter().map(|(k, v)| (*k, *v))));
        // Delete everything: back to the empty root, and every slot is free.
        let ops: Vec<Op> = model.keys().map(|k| (*k, None)).collect();
        assert_eq!(tree.update(&ops), TERMINATOR);
        assert_eq!(tree.len(), 0);
        assert_eq!(tree.internal_count(), 0);
    }

    #[test]
    fn from_leaves_takes_the_last_pair_of_a_key() {
        let k = [4; 32];
        let tree = StateTree::from_leaves([
            (k, [1; 32]),
            ([9; 32], [9; 32]),
            (k, [2; 32]),
            ([0; 32], [0; 32]),
            (k, [3; 32]),
        ]);
        assert_eq!(tree.len(), 3);
        assert_eq!(tree.get(&k), Some([3; 32]));
        let sorted = StateTree::from_leaves([([0; 32], [0; 32]), (k, [3; 32]), ([9; 32], [9; 32])]);
        assert_eq!(tree.root(), sorted.root());
    }

    #[test]
    fn later_op_on_same_key_wins() {
        let mut tree = StateTree::new();
        let k = [9; 32];
        tree.update(&[
            (k, Some([1; 32])),
            ([3; 32], Some([3; 32])),
            (k, Some([2; 32])),
        ]);
        assert_eq!(tree.get(&k), Some([2; 32]));
        tree.update(&[(k, Some([4; 32])), (k, None)]);
        assert_eq!(tree.get(&k), None);
        assert_eq!(tree.len(), 1);
    }

    #[test]
    fn delete_then_reinsert_restores_root_and_noops_keep_it() {
        let mut rng = StdRng::seed_from_u64(11);
        let map: BTreeMap<KeyPath, ValueHash> = (0..2000)
            .map(|_| (random_key(&mut rng), rng.gen()))
            .collect();
        let leaves: Vec<(KeyPath, ValueHash)> = map.into_iter().collect();
        let mut tree = StateTree::from_leaves(leaves.clone());
        let root = tree.root();
        let victims: Vec<(KeyPath, ValueHash)> = leaves[..50].to_vec();
        let deletes: Vec<Op> = victims.iter().map(|(k, _)| (*k, None)).collect();
        assert_ne!(tree.update(&deletes), root);
        let inserts: Vec<Op> = victims.iter().map(|(k, v)| (*k, Some(*v))).collect();
        assert_eq!(tree.update(&inserts), root);
        // Rewriting the same value and deleting absent keys changes nothing.
        assert_eq!(tree.update(&inserts[..3]), root);
        let absent = [[0xee; 32], [0x00; 32], [0xab; 32]];
        let deletes: Vec<Op> = absent
            .iter()
            .filter(|k| tree.get(k).is_none())
            .map(|k| (*k, None))
            .collect();
        assert!(!deletes.is_empty());
        assert_eq!(tree.update(&deletes), root);
    }
}
