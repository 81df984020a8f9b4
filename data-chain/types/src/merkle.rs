//! SSZ `hash_tree_root` of lists of byte strings, computed directly with SHA-256. `ssz_rs`
//! packs byte lists one element at a time (the single largest cost of checking a block of
//! 1 KiB transactions); this computes the same roots from slices. The tests compare every
//! root with `ssz_rs` on random inputs, and `ssz_rs` remains the definition.

use sha2::{Digest, Sha256};

const CHUNK: usize = 32;
/// Deep enough for every list bound in this crate (2^20 transactions of up to 2^22 bytes).
const MAX_DEPTH: usize = 40;

fn hash_pair(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(a);
    h.update(b);
    h.finalize().into()
}

fn zero_hashes() -> &'static [[u8; 32]; MAX_DEPTH + 1] {
    static ZERO: std::sync::OnceLock<[[u8; 32]; MAX_DEPTH + 1]> = std::sync::OnceLock::new();
    ZERO.get_or_init(|| {
        let mut z = [[0u8; 32]; MAX_DEPTH + 1];
        let mut below = [0u8; 32];
        for slot in z.iter_mut().skip(1) {
            *slot = hash_pair(&below, &below);
            below = *slot;
        }
        z
    })
}

fn depth_for(limit_chunks: usize) -> usize {
    limit_chunks.max(1).next_power_of_two().trailing_zeros() as usize
}

/// Merkleizes `leaves` into a tree of `2^depth` leaves, the missing ones zero.
fn merkleize(mut layer: Vec<[u8; 32]>, depth: usize) -> [u8; 32] {
    let zero = zero_hashes();
    if layer.is_empty() {
        return zero[depth];
    }
    for zero_at_level in zero.iter().take(depth) {
        let mut next = Vec::with_capacity(layer.len().div_ceil(2));
        for pair in layer.chunks(2) {
            let right = pair.get(1).unwrap_or(zero_at_level);
            next.push(hash_pair(&pair[0], right));
        }
        layer = next;
    }
    layer[0]
}

fn mix_in_length(root: &[u8; 32], len: usize) -> [u8; 32] {
    let mut length = [0u8; 32];
    length[..8].copy_from_slice(&(len as u64).to_le_bytes());
    hash_pair(root, &length)
}

/// `hash_tree_root` of an SSZ `List<u8, max_bytes>`.
pub fn bytes_root(bytes: &[u8], max_bytes: usize) -> [u8; 32] {
    let leaves: Vec<[u8; 32]> = bytes
        .chunks(CHUNK)
        .map(|c| {
            let mut leaf = [0u8; 32];
            leaf[..c.len()].copy_from_slice(c);
            leaf
        })
        .collect();
    let root = merkleize(leaves, depth_for(max_bytes.div_ceil(CHUNK)));
    mix_in_length(&root, bytes.len())
}

/// `hash_tree_root` of an SSZ `List<List<u8, max_item_bytes>, max_items>`.
pub fn byte_lists_root<'a>(
    items: impl Iterator<Item = &'a [u8]>,
    max_item_bytes: usize,
    max_items: usize,
) -> [u8; 32] {
    let roots: Vec<[u8; 32]> = items.map(|i| bytes_root(i, max_item_bytes)).collect();
    let len = roots.len();
    let root = merkleize(roots, depth_for(max_items));
    mix_in_length(&root, len)
}

/// `hash_tree_root` of an SSZ `List<Bytes32, max_items>`: each 32-byte item is its own chunk.
/// Used for lists of roots, such as an executor's per-transaction state roots.
pub fn roots_list_root(items: &[[u8; 32]], max_items: usize) -> [u8; 32] {
    let root = merkleize(items.to_vec(), depth_for(max_items));
    mix_in_length(&root, items.len())
}

/// A Merkle branch proving one item of an SSZ list: the siblings from the item's chunk up to
/// the list's subtree root (`depth_for(max_items)` of them); the length is mixed in last.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListBranch {
    pub index: u64,
    pub len: u64,
    pub siblings: Vec<[u8; 32]>,
}

/// The branch of item `index` of a list whose item roots are `leaves`, bounded by `max_items`.
/// `None` if `index` is out of range.
pub fn list_branch(leaves: &[[u8; 32]], index: usize, max_items: usize) -> Option<ListBranch> {
    if index >= leaves.len() {
        return None;
    }
    let zero = zero_hashes();
    let depth = depth_for(max_items);
    let mut layer = leaves.to_vec();
    let mut at = index;
    let mut siblings = Vec::with_capacity(depth);
    for zero_at_level in zero.iter().take(depth) {
        siblings.push(layer.get(at ^ 1).copied().unwrap_or(*zero_at_level));
        let mut next = Vec::with_capacity(layer.len().div_ceil(2));
        for pair in layer.chunks(2) {
            next.push(hash_pair(&pair[0], pair.get(1).unwrap_or(zero_at_level)));
        }
        layer = next;
        at /= 2;
    }
    Some(ListBranch {
        index: index as u64,
        len: leaves.len() as u64,
        siblings,
    })
}

/// Whether `branch` proves that `leaf` is item `branch.index` of the list with root `root`
/// (bounded by `max_items`). Rejects a wrong sibling count and an index at or past the length.
pub fn verify_list_branch(
    leaf: &[u8; 32],
    branch: &ListBranch,
    max_items: usize,
    root: &[u8; 32],
) -> bool {
    let depth = depth_for(max_items);
    if branch.siblings.len() != depth || branch.index >= branch.len || branch.len > max_items as u64
    {
        return false;
    }
    let mut node = *leaf;
    let mut at = branch.index;
    for sibling in &branch.siblings {
        node = if at & 1 == 0 {
            hash_pair(&node, sibling)
        } else {
            hash_pair(sibling, &node)
        };
        at >>= 1;
    }
    mix_in_length(&node, branch.len as usize) == *root
}

/// How many of a list branch's siblings can be non-zero: `ceil(log2(len))`. Above that level
/// the path runs along index 0 and every sibling covers indices at or past `len`, so it is
/// the hash of an all-zero subtree.
pub fn occupied_depth(len: u64) -> usize {
    depth_for(usize::try_from(len).unwrap_or(usize::MAX))
}

/// Drops the siblings above [`occupied_depth`]: a verifier restores them
/// ([`verify_trimmed_list_branch`]). Proofs about a 10,000-item list carry 14 siblings, not 20.
pub fn trim_branch(branch: &mut ListBranch) {
    branch.siblings.truncate(occupied_depth(branch.len));
}

/// [`verify_list_branch`] for a branch trimmed by [`trim_branch`]: it must hold exactly
/// `occupied_depth(len)` siblings; the zero-subtree hashes above are filled in.
pub fn verify_trimmed_list_branch(
    leaf: &[u8; 32],
    branch: &ListBranch,
    max_items: usize,
    root: &[u8; 32],
) -> bool {
    let depth = depth_for(max_items);
    let kept = branch.siblings.len();
    if branch.len > max_items as u64 || kept != occupied_depth(branch.len) || kept > depth {
        return false;
    }
    let mut full = branch.clone();
    full.siblings.extend_from_slice(&zero_hashes()[kept..depth]);
    verify_list_branch(leaf, &full, max_items, root)
}

/// How many of its own siblings the branch of item `index` (> 0) needs when the branch of item
/// `index - 1` is known: the levels below the one where the two paths meet.
pub fn adjacent_lower_siblings(index: u64) -> usize {
    let meet = 64 - ((index.wrapping_sub(1)) ^ index).leading_zeros() as usize;
    meet.saturating_sub(1)
}

/// Rebuilds the (trimmed) branch of item `prev.index + 1` from the branch of item
/// `prev.index`, its leaf, and the [`adjacent_lower_siblings`] lowest siblings of the new
/// branch. At the level where the paths meet, the new branch's sibling is the node above the
/// previous item; above it both branches share their siblings. `None` if the pieces do not fit
/// together (wrong lengths).
pub fn adjacent_branch(
    prev_leaf: &[u8; 32],
    prev: &ListBranch,
    lower: &[[u8; 32]],
) -> Option<ListBranch> {
    let index = prev.index.checked_add(1)?;
    let below = adjacent_lower_siblings(index);
    if lower.len() != below || prev.siblings.len() <= below {
        return None;
    }
    // The node of the previous item at level `below` (where the new path has it as sibling).
    let mut node = *prev_leaf;
    let mut at = prev.index;
    for sibling in &prev.siblings[..below] {
        node = if at & 1 == 0 {
            hash_pair(&node, sibling)
        } else {
            hash_pair(sibling, &node)
        };
        at >>= 1;
    }
    let mut siblings = lower.to_vec();
    siblings.push(node);
    siblings.extend_from_slice(&prev.siblings[below + 1..]);
    Some(ListBranch {
        index,
        len: prev.len,
        siblings,
    })
}

/// The root of one byte-list item (the leaf of [`byte_lists_root`]'s list).
pub fn byte_list_leaf(item: &[u8], max_item_bytes: usize) -> [u8; 32] {
    bytes_root(item, max_item_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::{MAX_ITEMS_BOUND, MAX_ITEM_BYTES_BOUND, MAX_TXS_BOUND, MAX_TX_BYTES_BOUND};
    use ssz_rs::prelude::*;

    fn lengths() -> Vec<Vec<usize>> {
        vec![
            vec![],
            vec![0],
            vec![1],
            vec![31, 32, 33],
            vec![64, 0, 65, 1000],
            (0..70).map(|i| (i * 37) % 300).collect(),
        ]
    }

    /// `byte_lists_root` of `items` under the bounds `BYTES` and `COUNT` is ssz_rs's root of
    /// the same items as a `List<List<u8, BYTES>, COUNT>`.
    fn assert_byte_lists_root_matches_ssz_rs<const BYTES: usize, const COUNT: usize>(
        items: &[Vec<u8>],
        what: &str,
    ) {
        let mut list = List::<List<u8, BYTES>, COUNT>::default();
        for i in items {
            list.push(List::try_from(i.clone()).expect("fits"));
        }
        let expected = list.hash_tree_root().expect("root");
        let ours = byte_lists_root(items.iter().map(|i| i.as_slice()), BYTES, COUNT);
        assert_eq!(ours.as_slice(), expected.as_ref(), "{what}");
    }

    #[test]
    fn tx_list_roots_match_ssz_rs() {
        for lens in lengths() {
            let items: Vec<Vec<u8>> = lens
                .iter()
                .enumerate()
                .map(|(i, n)| (0..*n).map(|j| (i * 7 + j) as u8).collect())
                .collect();
            // The transaction list (`TxList`) and the item lists (`ItemList`) of a block.
            assert_byte_lists_root_matches_ssz_rs::<MAX_TX_BYTES_BOUND, MAX_TXS_BOUND>(
                &items,
                &format!("lengths {lens:?}"),
            );
            assert_byte_lists_root_matches_ssz_rs::<MAX_ITEM_BYTES_BOUND, MAX_ITEMS_BOUND>(
                &items,
                &format!("claims lengths {lens:?}"),
            );
        }
    }

    #[test]
    fn roots_list_roots_match_ssz_rs() {
        type Roots = List<Vector<u8, 32>, 1024>;
        for n in [0usize, 1, 2, 3, 17, 64, 100] {
            let items: Vec<[u8; 32]> = (0..n).map(|i| [(i * 13 % 251) as u8; 32]).collect();
            let mut list = Roots::default();
            for item in &items {
                list.push(Vector::try_from(item.to_vec()).expect("32 bytes"));
            }
            let expected = list.hash_tree_root().expect("root");
            assert_eq!(roots_list_root(&items, 1024), expected.as_ref(), "n = {n}");
        }
    }

    #[test]
    fn list_branches_prove_exactly_their_item() {
        for n in [1usize, 2, 3, 5, 8, 33] {
            let items: Vec<Vec<u8>> = (0..n).map(|i| vec![i as u8; i * 7 % 50]).collect();
            let leaves: Vec<[u8; 32]> = items.iter().map(|i| byte_list_leaf(i, 1 << 20)).collect();
            let root = byte_lists_root(items.iter().map(|i| i.as_slice()), 1 << 20, 1 << 10);
            for index in 0..n {
                let branch = list_branch(&leaves, index, 1 << 10).expect("in range");
                assert!(verify_list_branch(&leaves[index], &branch, 1 << 10, &root));
                // Another item, index, length or bound does not verify.
                let other = leaves[(index + 1) % n];
                assert_eq!(
                    verify_list_branch(&other, &branch, 1 << 10, &root),
                    other == leaves[index]
                );
                let mut wrong = branch.clone();
                wrong.len += 1;
                assert!(!verify_list_branch(&leaves[index], &wrong, 1 << 10, &root));
                let mut wrong = branch.clone();
                wrong.siblings.pop();
                assert!(!verify_list_branch(&leaves[index], &wrong, 1 << 10, &root));
                assert!(!verify_list_branch(&leaves[index], &branch, 1 << 11, &root));
            }
            assert!(list_branch(&leaves, n, 1 << 10).is_none());
        }
        let roots: Vec<[u8; 32]> = (0..9u8).map(|i| [i; 32]).collect();
        let root = roots_list_root(&roots, 1 << 20);
        let branch = list_branch(&roots, 8, 1 << 20).expect("in range");
        assert!(verify_list_branch(&roots[8], &branch, 1 << 20, &root));
    }

    /// `n` distinct non-zero leaves.
    fn leaves(n: usize) -> Vec<[u8; 32]> {
        (0..n).map(|i| [(i % 251) as u8 + 1; 32]).collect()
    }

    #[test]
    fn adjacent_branches_rebuild_from_their_neighbour() {
        for n in [2usize, 3, 7, 8, 9, 100, 1025] {
            let leaves = leaves(n);
            let root = roots_list_root(&leaves, 1 << 20);
            let verifies = |leaf: &[u8; 32], branch: &ListBranch| {
                verify_trimmed_list_branch(leaf, branch, 1 << 20, &root)
            };
            for index in 1..n {
                let mut prev = list_branch(&leaves, index - 1, 1 << 20).expect("prev");
                let mut own = list_branch(&leaves, index, 1 << 20).expect("own");
                trim_branch(&mut prev);
                trim_branch(&mut own);
                let below = adjacent_lower_siblings(index as u64);
                let rebuilt = adjacent_branch(&leaves[index - 1], &prev, &own.siblings[..below])
                    .expect("fits");
                assert_eq!(rebuilt, own, "n {n} index {index}");
                assert!(verifies(&leaves[index], &rebuilt));
                // One sibling too many does not fit.
                assert!(
                    adjacent_branch(&leaves[index - 1], &prev, &own.siblings[..below + 1])
                        .is_none()
                );
            }
        }
    }

    #[test]
    fn trimmed_branches_verify_exactly_like_full_ones() {
        for n in [1usize, 2, 3, 4, 5, 8, 9, 100, 1024, 1025] {
            let leaves = leaves(n);
            let root = roots_list_root(&leaves, 1 << 20);
            let verifies = |leaf: &[u8; 32], branch: &ListBranch| {
                verify_trimmed_list_branch(leaf, branch, 1 << 20, &root)
            };
            for index in [0, n / 2, n - 1] {
                let full = list_branch(&leaves, index, 1 << 20).expect("in range");
                let mut trimmed = full.clone();
                trim_branch(&mut trimmed);
                assert_eq!(trimmed.siblings.len(), occupied_depth(n as u64));
                assert_eq!(
                    full.siblings[..trimmed.siblings.len()],
                    trimmed.siblings[..]
                );
                assert!(verifies(&leaves[index], &trimmed));
                // The untrimmed branch is not the canonical form; a wrong item never verifies.
                assert!(!verifies(&leaves[index], &full) || n == 1 << 20);
                assert!(!verifies(&[0xee; 32], &trimmed));
                let mut longer = trimmed.clone();
                longer.len += 1;
                assert!(!verifies(&leaves[index], &longer));
            }
        }
    }
}
