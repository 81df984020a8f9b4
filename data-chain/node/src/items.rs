//! The pool of state-consensus items waiting for a block: executors' claims and fraud proofs
//! that passed this node's checks (see `NodeShared::submit_claim` and
//! `NodeShared::submit_fraud_proof`). A proposer takes fraud proofs first, then claims in data
//! height order, each only once its parent claim is recorded or goes in the same block.

use std::collections::BTreeMap;

use lazychain_fraud::{ClaimId, GENESIS_PARENT};

/// Claims kept at most; the oldest data heights go first when full.
pub const MAX_POOLED_CLAIMS: usize = 4096;
/// Fraud proofs kept at most.
pub const MAX_POOLED_PROOFS: usize = 256;

/// Gossip message kinds on the state topic: one kind byte, then the item.
pub const GOSSIP_CLAIM: u8 = 1;
pub const GOSSIP_FRAUD_PROOF: u8 = 2;

#[derive(Clone, Debug)]
struct PooledClaim {
    bytes: Vec<u8>,
    data_height: u64,
    parent: ClaimId,
    arrival: u64,
    /// Checked against the decided header of its height. A claim may arrive before this node
    /// has decided that height (executors and validators learn a decision at about the same
    /// time); it waits, unselectable, until the header is here.
    checked: bool,
}

#[derive(Default)]
pub struct ItemPool {
    claims: BTreeMap<ClaimId, PooledClaim>,
    proofs: BTreeMap<[u8; 32], Vec<u8>>,
    arrivals: u64,
}

impl ItemPool {
    pub fn contains_claim(&self, id: &ClaimId) -> bool {
        self.claims.contains_key(id)
    }

    pub fn contains_proof(&self, id: &[u8; 32]) -> bool {
        self.proofs.contains_key(id)
    }

    pub fn claims_len(&self) -> usize {
        self.claims.len()
    }

    pub fn proofs_len(&self) -> usize {
        self.proofs.len()
    }

    /// Adds a claim (`checked`: against its height's decided header; else it waits for
    /// [`ItemPool::awaiting_header`]); false if it was already pooled or the pool is full of
    /// claims for lower heights.
    pub fn insert_claim(
        &mut self,
        id: ClaimId,
        data_height: u64,
        parent: ClaimId,
        bytes: Vec<u8>,
        checked: bool,
    ) -> bool {
        if self.claims.contains_key(&id) {
            return false;
        }
        if self.claims.len() >= MAX_POOLED_CLAIMS {
            let highest = self
                .claims
                .iter()
                .max_by_key(|(_, c)| (c.data_height, c.arrival))
                .map(|(id, c)| (*id, c.data_height));
            match highest {
                Some((evict, h)) if h > data_height => {
                    self.claims.remove(&evict);
                }
                _ => return false,
            }
        }
        self.arrivals += 1;
        self.claims.insert(
            id,
            PooledClaim {
                bytes,
                data_height,
                parent,
                arrival: self.arrivals,
                checked,
            },
        );
        true
    }

    /// Unchecked claims for heights up to `decided`, to check now that their headers exist.
    pub fn awaiting_header(&self, decided: u64) -> Vec<(ClaimId, Vec<u8>)> {
        self.claims
            .iter()
            .filter(|(_, c)| !c.checked && c.data_height <= decided)
            .map(|(id, c)| (*id, c.bytes.clone()))
            .collect()
    }

    /// Records the outcome of checking a claim that waited for its header.
    pub fn set_checked(&mut self, id: &ClaimId, valid: bool) {
        if valid {
            if let Some(c) = self.claims.get_mut(id) {
                c.checked = true;
            }
        } else {
            self.claims.remove(id);
        }
    }

    /// Adds a verified fraud proof; false if already pooled or full.
    pub fn insert_proof(&mut self, id: [u8; 32], bytes: Vec<u8>) -> bool {
        if self.proofs.contains_key(&id) || self.proofs.len() >= MAX_POOLED_PROOFS {
            return false;
        }
        self.proofs.insert(id, bytes);
        true
    }

    /// Items for the block at `height`, within `max_bytes`: every pooled proof that fits, then
    /// claims for decided heights in (data height, arrival) order whose parent is recorded
    /// (`recorded`) or selected before them.
    pub fn select(
        &self,
        height: u64,
        max_bytes: usize,
        recorded: impl Fn(&ClaimId) -> bool,
    ) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let mut budget = max_bytes;
        let mut proofs = Vec::new();
        for bytes in self.proofs.values() {
            if bytes.len() <= budget {
                budget -= bytes.len();
                proofs.push(bytes.clone());
            }
        }
        let mut order: Vec<(&ClaimId, &PooledClaim)> = self
            .claims
            .iter()
            .filter(|(_, c)| c.data_height < height && c.checked)
            .collect();
        order.sort_by_key(|(_, c)| (c.data_height, c.arrival));
        let mut chosen: std::collections::BTreeSet<ClaimId> = Default::default();
        let mut claims = Vec::new();
        for (id, c) in order {
            let parent_ok =
                c.parent == GENESIS_PARENT || recorded(&c.parent) || chosen.contains(&c.parent);
            if !parent_ok || c.bytes.len() > budget {
                continue;
            }
            budget -= c.bytes.len();
            chosen.insert(*id);
            claims.push(c.bytes.clone());
        }
        (claims, proofs)
    }

    /// Forgets items a decided block carried.
    pub fn remove_included(&mut self, claims: &[ClaimId], proofs: &[[u8; 32]]) {
        for id in claims {
            self.claims.remove(id);
        }
        for id in proofs {
            self.proofs.remove(id);
        }
    }

    /// Keeps only the claims whose item bytes `keep` accepts.
    pub fn retain_claims(&mut self, keep: impl Fn(&[u8]) -> bool) {
        self.claims.retain(|_, c| keep(&c.bytes));
    }

    /// Drops claims state consensus recorded some other way, and proofs it no longer needs.
    pub fn retain(
        &mut self,
        keep_claim: impl Fn(&ClaimId) -> bool,
        keep_proof: impl Fn(&[u8; 32]) -> bool,
    ) {
        self.claims.retain(|id, _| keep_claim(id));
        self.proofs.retain(|id, _| keep_proof(id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(b: u8) -> ClaimId {
        ClaimId([b; 32])
    }

    #[test]
    fn claims_wait_for_their_parent_and_decided_heights() {
        let mut pool = ItemPool::default();
        assert!(pool.insert_claim(id(2), 2, id(1), vec![2; 10], true));
        assert!(pool.insert_claim(id(1), 1, GENESIS_PARENT, vec![1; 10], true));
        assert!(pool.insert_claim(id(3), 3, id(2), vec![3; 10], true));
        assert!(pool.insert_claim(id(9), 2, id(8), vec![9; 10], true));
        assert!(!pool.insert_claim(id(1), 1, GENESIS_PARENT, vec![1; 10], true));

        // Block 3: heights 1 and 2 are decided; 1 then its child 2; 9's parent is unknown.
        let (claims, proofs) = pool.select(3, 1 << 20, |_| false);
        assert_eq!(claims, vec![vec![1; 10], vec![2; 10]]);
        assert!(proofs.is_empty());
        // With the parent recorded, the orphan goes too.
        let (claims, _) = pool.select(4, 1 << 20, |c| *c == id(8));
        assert_eq!(claims.len(), 4);
        // The byte budget stops selection.
        let (claims, _) = pool.select(4, 15, |_| false);
        assert_eq!(claims, vec![vec![1; 10]]);

        pool.remove_included(&[id(1), id(2)], &[]);
        let (claims, _) = pool.select(4, 1 << 20, |c| *c == id(2));
        assert_eq!(claims, vec![vec![3; 10]]);
    }

    #[test]
    fn a_full_pool_keeps_the_lowest_heights() {
        let mut pool = ItemPool::default();
        for i in 0..MAX_POOLED_CLAIMS as u64 {
            let mut id = [0u8; 32];
            id[..8].copy_from_slice(&i.to_le_bytes());
            assert!(pool.insert_claim(ClaimId(id), 10 + i, GENESIS_PARENT, vec![1], true));
        }
        // A claim for a lower height than the highest pooled one evicts that one...
        assert!(pool.insert_claim(id(0xaa), 5, GENESIS_PARENT, vec![2], true));
        assert_eq!(pool.claims_len(), MAX_POOLED_CLAIMS);
        // ...one for a higher height is refused.
        assert!(!pool.insert_claim(id(0xbb), 1 << 40, GENESIS_PARENT, vec![3], true));
        assert!(pool.contains_claim(&id(0xaa)));
        assert!(!pool.contains_claim(&id(0xbb)));
        for i in 0..MAX_POOLED_PROOFS as u16 {
            let mut proof_id = [0u8; 32];
            proof_id[..2].copy_from_slice(&i.to_le_bytes());
            assert!(pool.insert_proof(proof_id, vec![1]));
        }
        assert!(
            !pool.insert_proof([0xff; 32], vec![0]),
            "proof pool bounded"
        );
    }

    #[test]
    fn proofs_go_first() {
        let mut pool = ItemPool::default();
        pool.insert_claim(id(1), 1, GENESIS_PARENT, vec![1; 10], true);
        assert!(pool.insert_proof([7; 32], vec![7; 10]));
        assert!(!pool.insert_proof([7; 32], vec![7; 10]));
        let (claims, proofs) = pool.select(2, 10, |_| false);
        assert_eq!(proofs, vec![vec![7; 10]]);
        assert!(claims.is_empty());
    }

    #[test]
    fn a_claim_that_arrived_before_its_height_was_decided_waits_for_its_check() {
        let mut pool = ItemPool::default();
        assert!(pool.insert_claim(id(1), 1, GENESIS_PARENT, vec![1; 10], false));
        assert!(pool.insert_claim(id(2), 2, id(1), vec![2; 10], false));
        // Not selectable before its check, even once its height is decided.
        let (claims, _) = pool.select(3, 1 << 20, |_| false);
        assert!(claims.is_empty());
        // Only heights decided here are handed out for checking.
        let awaiting: Vec<ClaimId> = pool
            .awaiting_header(1)
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        assert_eq!(awaiting, vec![id(1)]);
        pool.set_checked(&id(1), true);
        let (claims, _) = pool.select(3, 1 << 20, |_| false);
        assert_eq!(claims, vec![vec![1; 10]]);
        // A claim that fails its check leaves the pool.
        pool.set_checked(&id(2), false);
        assert!(!pool.contains_claim(&id(2)));
        assert!(pool.awaiting_header(10).is_empty());
    }
}
