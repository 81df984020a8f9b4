//! The pool of state-consensus items waiting for a block: executors' claims and fraud items
//! (fraud proofs and equivocation evidence) that passed this node's checks (see
//! `StateNode::submit_claim` and `StateNode::submit_fraud_proof`). A proposer takes fraud
//! items first, then claims in data height order, each only once its parent claim is
//! recorded or goes in the same block; an item that cannot go (no parent yet, too large)
//! never holds back the ones after it.
//!
//! The pool cannot be clogged, by a hostile executor or by an honest one whose chain of
//! claims broke:
//! - an *orphan* claim (its parent neither recorded nor pooled with a known ancestry) is held
//!   for [`ORPHAN_HOLD_BLOCKS`] decided blocks, then evicted;
//! - each executor holds at most its share of the claim room ([`ItemPool::executor_share`]);
//!   a newcomer over its share evicts that executor's least useful claim (or is refused if
//!   it is itself the least useful);
//! - a full pool evicts its least useful claim (orphans first, then an executor's older claim
//!   for a height it claimed again, then the highest data heights) rather than refusing
//!   every newcomer;
//! - fraud items are bounded per target ([`MAX_PROOFS_PER_TARGET`]) and per submitter
//!   ([`MAX_PROOFS_PER_SUBMITTER`]); items about a settled (final or reverted) claim leave
//!   at the next sweep; a full pool evicts duplicates of a target first, then the items about
//!   the highest data heights.
//!
//! Every eviction and refusal comes back as a [`Dropped`] record, which the node logs and
//! counts in `/metrics`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use lazychain_fraud::{Address, ClaimId, GENESIS_PARENT};

/// Claims kept at most.
pub const MAX_POOLED_CLAIMS: usize = 4096;
/// Fraud items (proofs and equivocation evidence) kept at most.
pub const MAX_POOLED_PROOFS: usize = 256;
/// The smallest share of [`MAX_POOLED_CLAIMS`] an executor may hold, however many executors
/// are bonded: enough for a window of claims in flight (executors claim every height, and
/// a claim may wait up to `CLAIM_LOOKAHEAD` heights for its header).
pub const MIN_EXECUTOR_SHARE: usize = 256;
/// Decided blocks an orphan claim is held for its parent. An executor re-sends a claim no
/// block recorded within a few blocks, parents before children, so a parent that was merely
/// late or lost once arrives well inside this; a claim still an orphan after it has a
/// parent that is gone for good (its executor re-parents onto the canonical claim, and
/// re-sends the children it still wants), or one that never existed. Blocks, not
/// milliseconds: re-sending is paced in blocks too, so the two stay in step however fast
/// blocks come.
pub const ORPHAN_HOLD_BLOCKS: u64 = 64;
/// Fraud items kept per target claim: one included proof settles the claim; a second
/// guards against one the network could not carry in time.
pub const MAX_PROOFS_PER_TARGET: usize = 2;
/// Fraud items kept per submitter (the address credited with the reward). The submitter is
/// not signed, so this bounds a careless submitter, not an attacker: what bounds an attacker
/// is that every pooled item proves a registered executor's misbehaviour.
pub const MAX_PROOFS_PER_SUBMITTER: usize = MAX_POOLED_PROOFS / 4;

/// Gossip message kinds on the state topic: one kind byte, then the item.
pub const GOSSIP_CLAIM: u8 = 1;
pub const GOSSIP_FRAUD_PROOF: u8 = 2;

/// Why an item left the pool, or was not taken in, other than being recorded by a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// The pool was full and this was the least useful item.
    PoolFull,
    /// Its executor (or submitter, or target) held its whole share, and this was the least
    /// useful of its items.
    ShareExceeded,
    /// An orphan held for [`ORPHAN_HOLD_BLOCKS`] without its parent.
    OrphanExpired,
    /// It failed a check (for a claim that waited for its header: against that header).
    Invalid,
    /// Its executor claimed the same height again since.
    Superseded,
    /// Its executor was slashed: state consensus ignores its claims.
    Slashed,
    /// The claim a fraud proof is about was settled (final or reverted) without it.
    TargetSettled,
}

impl DropReason {
    /// The label value in `/metrics` and logs.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::PoolFull => "pool_full",
            Self::ShareExceeded => "share_exceeded",
            Self::OrphanExpired => "orphan_expired",
            Self::Invalid => "invalid",
            Self::Superseded => "superseded",
            Self::Slashed => "slashed",
            Self::TargetSettled => "target_settled",
        }
    }
}

/// What a claim is, as far as the pool needs to know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClaimMeta {
    pub id: ClaimId,
    pub executor: Address,
    pub data_height: u64,
    pub parent: ClaimId,
}

/// What a fraud item is, as far as the pool needs to know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProofMeta {
    pub id: [u8; 32],
    pub submitter: Address,
    /// The claim it is against (for equivocation evidence, the first of the two claims).
    pub target: ClaimId,
    /// The data height of the target claim (`u64::MAX` when unknown).
    pub target_height: u64,
    /// Equivocation evidence: it slashes whoever signed both claims, whatever became of them.
    pub evidence: bool,
}

/// An item that left the pool or was refused, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dropped {
    Claim {
        claim: ClaimMeta,
        reason: DropReason,
    },
    Proof {
        proof: ProofMeta,
        reason: DropReason,
    },
}

impl Dropped {
    pub fn reason(&self) -> DropReason {
        match self {
            Self::Claim { reason, .. } | Self::Proof { reason, .. } => *reason,
        }
    }
}

/// Why an item was not taken into the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("already pooled")]
    AlreadyPooled,
    #[error("the item pool is full of more useful items")]
    PoolFull,
    #[error("its executor, submitter or target holds its whole share of the item pool")]
    ShareExceeded,
}

impl Refused {
    /// The drop reason a refusal counts as (`None`: the item is pooled already).
    pub fn reason(&self) -> Option<DropReason> {
        match self {
            Self::AlreadyPooled => None,
            Self::PoolFull => Some(DropReason::PoolFull),
            Self::ShareExceeded => Some(DropReason::ShareExceeded),
        }
    }
}

/// Pooled counts, for status and metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolCounts {
    pub claims: usize,
    /// Claims among `claims` whose parent is neither recorded nor pooled with known ancestry.
    pub orphan_claims: usize,
    /// Claims among `claims` still waiting for their height's decided header.
    pub unchecked_claims: usize,
    /// Fraud items, equivocation evidence included.
    pub proofs: usize,
    /// Equivocation evidence among `proofs`.
    pub evidence: usize,
}

#[derive(Clone, Debug)]
struct PooledClaim {
    meta: ClaimMeta,
    bytes: Vec<u8>,
    arrival: u64,
    /// Checked against the decided header of its height. A claim may arrive before this node
    /// has decided that height (executors and validators learn a decision at about the same
    /// time); it waits, unselectable, until the header is here.
    checked: bool,
    /// The decided height since which its parent is neither recorded nor pooled with a known
    /// ancestry (`None`: it is not an orphan).
    orphan_since: Option<u64>,
    /// How little use it is: [`CLASS_ORPHAN`], [`CLASS_SUPERSEDED`] or [`CLASS_NORMAL`].
    class: u8,
}

impl PooledClaim {
    fn uselessness(&self) -> Uselessness {
        (self.class, self.meta.data_height, self.arrival)
    }
}

#[derive(Clone, Debug)]
struct PooledProof {
    meta: ProofMeta,
    bytes: Vec<u8>,
    arrival: u64,
}

/// How little use an item is (class, data height, arrival): the greatest goes first when
/// room is needed.
type Uselessness = (u8, u64, u64);
/// Uselessness classes of a claim.
const CLASS_ORPHAN: u8 = 2;
const CLASS_SUPERSEDED: u8 = 1;
const CLASS_NORMAL: u8 = 0;

/// What a fraud item's sweep decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProofFate {
    Keep,
    /// Included, or otherwise done with: it leaves silently.
    Done,
    Drop(DropReason),
}

/// The pool. Claims are indexed so that taking one in, or evicting one, costs a logarithm of
/// the pool's size, not a scan: a flood must cost the flooder more than the pool.
pub struct ItemPool {
    claims: BTreeMap<ClaimId, PooledClaim>,
    /// Every claim by how little use it is: eviction takes the last.
    by_uselessness: BTreeSet<(Uselessness, ClaimId)>,
    /// The same, per executor: share enforcement takes the executor's last.
    by_executor: HashMap<Address, BTreeSet<(Uselessness, ClaimId)>>,
    /// Claims per (executor, data height), by arrival: all but the latest are superseded.
    slots: HashMap<(Address, u64), BTreeMap<u64, ClaimId>>,
    /// Pooled claims by the parent they name, to root an orphan's descendants when the
    /// parent arrives.
    children: HashMap<ClaimId, BTreeSet<ClaimId>>,
    orphans: usize,
    unchecked: usize,
    proofs: BTreeMap<[u8; 32], PooledProof>,
    arrivals: u64,
    /// The latest decided height the pool was told of: the clock orphans are held by.
    decided: u64,
    /// Bonded executors, among whom the claim room is shared (0: unknown, no share limit).
    executors: usize,
}

impl Default for ItemPool {
    fn default() -> Self {
        Self::new(0)
    }
}

impl ItemPool {
    /// An empty pool whose claim room is shared among `executors` bonded executors.
    pub fn new(executors: usize) -> Self {
        Self {
            claims: BTreeMap::new(),
            by_uselessness: BTreeSet::new(),
            by_executor: HashMap::new(),
            slots: HashMap::new(),
            children: HashMap::new(),
            orphans: 0,
            unchecked: 0,
            proofs: BTreeMap::new(),
            arrivals: 0,
            decided: 0,
            executors,
        }
    }

    /// The most claims one executor may hold: an equal part of the room, at least
    /// [`MIN_EXECUTOR_SHARE`].
    pub fn executor_share(&self) -> usize {
        if self.executors == 0 {
            return MAX_POOLED_CLAIMS;
        }
        (MAX_POOLED_CLAIMS / self.executors).clamp(MIN_EXECUTOR_SHARE, MAX_POOLED_CLAIMS)
    }

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

    /// Claims pooled for `executor`.
    pub fn claims_of(&self, executor: &Address) -> usize {
        self.by_executor.get(executor).map_or(0, BTreeSet::len)
    }

    pub fn counts(&self) -> PoolCounts {
        PoolCounts {
            claims: self.claims.len(),
            orphan_claims: self.orphans,
            unchecked_claims: self.unchecked,
            proofs: self.proofs.len(),
            evidence: self.proofs.values().filter(|p| p.meta.evidence).count(),
        }
    }

    /// Whether a claim for `data_height` naming `parent` has a known ancestry: the parent is
    /// the genesis parent, recorded, or pooled (for a height below: heights without
    /// transactions take no claim) and not an orphan.
    fn rooted(
        &self,
        parent: &ClaimId,
        data_height: u64,
        recorded: &impl Fn(&ClaimId) -> bool,
    ) -> bool {
        *parent == GENESIS_PARENT
            || recorded(parent)
            || self
                .claims
                .get(parent)
                .is_some_and(|p| p.orphan_since.is_none() && p.meta.data_height < data_height)
    }

    /// The class a pooled claim has now.
    fn class_of(&self, c: &PooledClaim) -> u8 {
        let latest = self
            .slots
            .get(&(c.meta.executor, c.meta.data_height))
            .and_then(|slot| slot.last_key_value())
            .map(|(arrival, _)| *arrival);
        if c.orphan_since.is_some() {
            CLASS_ORPHAN
        } else if latest.is_some_and(|a| a != c.arrival) {
            CLASS_SUPERSEDED
        } else {
            CLASS_NORMAL
        }
    }

    fn index_add(&mut self, id: ClaimId, c: &PooledClaim) {
        let key = (c.uselessness(), id);
        self.by_uselessness.insert(key);
        self.by_executor
            .entry(c.meta.executor)
            .or_default()
            .insert(key);
        if c.class == CLASS_ORPHAN {
            self.orphans += 1;
        }
    }

    fn index_remove(&mut self, id: ClaimId, c: &PooledClaim) {
        let key = (c.uselessness(), id);
        self.by_uselessness.remove(&key);
        if let Some(set) = self.by_executor.get_mut(&c.meta.executor) {
            set.remove(&key);
            if set.is_empty() {
                self.by_executor.remove(&c.meta.executor);
            }
        }
        if c.class == CLASS_ORPHAN {
            self.orphans -= 1;
        }
    }

    /// Re-files a claim whose orphan mark or slot changed under its current class.
    fn reclassify(&mut self, id: &ClaimId) {
        let Some(c) = self.claims.get(id) else {
            return;
        };
        let class = self.class_of(c);
        if class == c.class {
            return;
        }
        let old = c.clone();
        self.index_remove(*id, &old);
        let mut new = old;
        new.class = class;
        self.index_add(*id, &new);
        self.claims.insert(*id, new);
    }

    /// Marks a claim an orphan (since now) or not, and re-files it.
    fn set_orphan(&mut self, id: &ClaimId, orphan: bool) {
        let decided = self.decided;
        let Some(c) = self.claims.get_mut(id) else {
            return;
        };
        match (orphan, c.orphan_since) {
            (true, None) => c.orphan_since = Some(decided),
            (false, Some(_)) => c.orphan_since = None,
            _ => return,
        }
        self.reclassify(id);
    }

    fn remove_claim(&mut self, id: &ClaimId) -> Option<PooledClaim> {
        let removed = self.claims.remove(id)?;
        self.index_remove(*id, &removed);
        if !removed.checked {
            self.unchecked -= 1;
        }
        let slot_key = (removed.meta.executor, removed.meta.data_height);
        if let Some(slot) = self.slots.get_mut(&slot_key) {
            slot.remove(&removed.arrival);
            match slot.last_key_value().map(|(_, id)| *id) {
                // The latest claim of the slot is superseded no more.
                Some(latest) => self.reclassify(&latest),
                None => {
                    self.slots.remove(&slot_key);
                }
            }
        }
        if let Some(siblings) = self.children.get_mut(&removed.meta.parent) {
            siblings.remove(id);
            if siblings.is_empty() {
                self.children.remove(&removed.meta.parent);
            }
        }
        Some(removed)
    }

    /// Evicts the least useful claim (of `executor` only, if given) to make room for
    /// `newcomer`, or refuses the newcomer with `refusal` if it is itself the least useful.
    fn make_claim_room(
        &mut self,
        executor: Option<&Address>,
        newcomer: &ClaimMeta,
        newcomer_uselessness: Uselessness,
        refusal: Refused,
    ) -> Result<Dropped, Refused> {
        let indexed = match executor {
            Some(e) => self.by_executor.get(e).and_then(|s| s.last()),
            None => self.by_uselessness.last(),
        }
        .copied();
        // The newcomer supersedes its executor's latest claim for its height, if any.
        let superseded = self
            .slots
            .get(&(newcomer.executor, newcomer.data_height))
            .and_then(|slot| slot.last_key_value())
            .and_then(|(_, id)| self.claims.get(id).map(|c| (id, c)))
            .filter(|(_, c)| c.class == CLASS_NORMAL)
            .map(|(id, c)| ((CLASS_SUPERSEDED, c.meta.data_height, c.arrival), *id));
        match indexed.max(superseded) {
            Some((uselessness, victim)) if uselessness > newcomer_uselessness => {
                let evicted = self.remove_claim(&victim).ok_or(refusal)?;
                let reason = match (uselessness.0, refusal.reason()) {
                    (CLASS_SUPERSEDED, _) => DropReason::Superseded,
                    (_, Some(reason)) => reason,
                    (_, None) => DropReason::PoolFull,
                };
                Ok(Dropped::Claim {
                    claim: evicted.meta,
                    reason,
                })
            }
            _ => Err(refusal),
        }
    }

    /// Adds a claim (`checked`: against its height's decided header; else it waits for
    /// [`ItemPool::awaiting_header`]); `recorded` tells which claims state consensus has
    /// recorded. Returns the claims evicted to make room, or why the newcomer was refused.
    pub fn insert_claim(
        &mut self,
        claim: ClaimMeta,
        bytes: Vec<u8>,
        checked: bool,
        recorded: impl Fn(&ClaimId) -> bool,
    ) -> Result<Vec<Dropped>, Refused> {
        if self.claims.contains_key(&claim.id) {
            return Err(Refused::AlreadyPooled);
        }
        let orphan = !self.rooted(&claim.parent, claim.data_height, &recorded);
        let arrival = self.arrivals + 1;
        let class = if orphan { CLASS_ORPHAN } else { CLASS_NORMAL };
        let uselessness = (class, claim.data_height, arrival);
        let mut dropped = Vec::new();
        if self.executors > 0 && self.claims_of(&claim.executor) >= self.executor_share() {
            dropped.push(self.make_claim_room(
                Some(&claim.executor),
                &claim,
                uselessness,
                Refused::ShareExceeded,
            )?);
        }
        if self.claims.len() >= MAX_POOLED_CLAIMS {
            dropped.push(self.make_claim_room(None, &claim, uselessness, Refused::PoolFull)?);
        }
        self.arrivals = arrival;
        let pooled = PooledClaim {
            meta: claim,
            bytes,
            arrival,
            checked,
            orphan_since: orphan.then_some(self.decided),
            class,
        };
        if !checked {
            self.unchecked += 1;
        }
        self.index_add(claim.id, &pooled);
        self.claims.insert(claim.id, pooled);
        let slot = self
            .slots
            .entry((claim.executor, claim.data_height))
            .or_default();
        let previous = slot.last_key_value().map(|(_, id)| *id);
        slot.insert(arrival, claim.id);
        if let Some(previous) = previous {
            self.reclassify(&previous);
        }
        self.children
            .entry(claim.parent)
            .or_default()
            .insert(claim.id);
        // The newcomer may be the missing parent of pooled orphans: they are orphans no more.
        if !orphan {
            self.root_descendants(claim.id);
        }
        Ok(dropped)
    }

    /// Un-orphans the pooled descendants of `root`, a claim with a known ancestry.
    fn root_descendants(&mut self, root: ClaimId) {
        let mut stack = vec![root];
        while let Some(parent) = stack.pop() {
            let Some(parent_height) = self.claims.get(&parent).map(|c| c.meta.data_height) else {
                continue;
            };
            let children: Vec<ClaimId> = self
                .children
                .get(&parent)
                .into_iter()
                .flatten()
                .copied()
                .collect();
            for child in children {
                let is_orphan = self.claims.get(&child).is_some_and(|c| {
                    c.orphan_since.is_some()
                        && c.meta.data_height == parent_height.saturating_add(1)
                });
                if is_orphan {
                    self.set_orphan(&child, false);
                    stack.push(child);
                }
            }
        }
    }

    /// Marks every pooled claim an orphan or not, starting the hold of new orphans now.
    fn refresh_orphans(&mut self, recorded: &impl Fn(&ClaimId) -> bool) {
        // A recorded parent is for the height below its child, so one pass in height order
        // settles every ancestry in the pool.
        let mut order: Vec<(u64, ClaimId, ClaimId)> = self
            .claims
            .iter()
            .map(|(id, c)| (c.meta.data_height, *id, c.meta.parent))
            .collect();
        order.sort_unstable();
        let mut rooted: HashMap<ClaimId, u64> = HashMap::new();
        for (height, id, parent) in order {
            let is_rooted = parent == GENESIS_PARENT
                || recorded(&parent)
                || rooted
                    .get(&parent)
                    .is_some_and(|h| h.saturating_add(1) == height);
            if is_rooted {
                rooted.insert(id, height);
            }
            self.set_orphan(&id, !is_rooted);
        }
    }

    /// Advances the pool's clock to `decided` and evicts the orphans held for
    /// [`ORPHAN_HOLD_BLOCKS`]; call it once the decided blocks are applied to state
    /// consensus (`recorded` tells which claims it has recorded).
    pub fn sweep(&mut self, decided: u64, recorded: impl Fn(&ClaimId) -> bool) -> Vec<Dropped> {
        self.decided = self.decided.max(decided);
        self.refresh_orphans(&recorded);
        let expired: Vec<ClaimId> = self
            .claims
            .iter()
            .filter(|(_, c)| {
                c.orphan_since
                    .is_some_and(|since| self.decided.saturating_sub(since) >= ORPHAN_HOLD_BLOCKS)
            })
            .map(|(id, _)| *id)
            .collect();
        let dropped: Vec<Dropped> = expired
            .iter()
            .filter_map(|id| self.remove_claim(id))
            .map(|c| Dropped::Claim {
                claim: c.meta,
                reason: DropReason::OrphanExpired,
            })
            .collect();
        if !dropped.is_empty() {
            // Their children are orphans now.
            self.refresh_orphans(&recorded);
        }
        dropped
    }

    /// Unchecked claims for heights up to `decided`, to check now that their headers exist.
    pub fn awaiting_header(&self, decided: u64) -> Vec<(ClaimId, Vec<u8>)> {
        self.claims
            .iter()
            .filter(|(_, c)| !c.checked && c.meta.data_height <= decided)
            .map(|(id, c)| (*id, c.bytes.clone()))
            .collect()
    }

    /// Records the outcome of checking a claim that waited for its header; an invalid one
    /// leaves the pool.
    pub fn set_checked(&mut self, id: &ClaimId, valid: bool) -> Option<Dropped> {
        if valid {
            if let Some(c) = self.claims.get_mut(id) {
                if !c.checked {
                    c.checked = true;
                    self.unchecked -= 1;
                }
            }
            return None;
        }
        self.remove_claim(id).map(|c| Dropped::Claim {
            claim: c.meta,
            reason: DropReason::Invalid,
        })
    }

    /// The least useful pooled fraud item (of `submitter` only, if given), counting
    /// `newcomer` (arriving as `arrival`): a second item about a target goes before the
    /// first, then items about higher data heights (the lowest bad claim matters most: its
    /// revert takes every claim built on it), then later arrivals.
    fn least_useful_proof(
        &self,
        submitter: Option<&Address>,
        newcomer: &ProofMeta,
        arrival: u64,
    ) -> Option<(Uselessness, [u8; 32])> {
        let mut first_per_target: HashMap<ClaimId, u64> = HashMap::new();
        for p in self.proofs.values() {
            let first = first_per_target.entry(p.meta.target).or_insert(u64::MAX);
            *first = (*first).min(p.arrival);
        }
        first_per_target.entry(newcomer.target).or_insert(arrival);
        self.proofs
            .iter()
            .filter(|(_, p)| submitter.is_none_or(|s| p.meta.submitter == *s))
            .map(|(id, p)| {
                let duplicate = first_per_target[&p.meta.target] < p.arrival;
                ((u8::from(duplicate), p.meta.target_height, p.arrival), *id)
            })
            .max()
    }

    fn make_proof_room(
        &mut self,
        submitter: Option<&Address>,
        newcomer: &ProofMeta,
        newcomer_uselessness: Uselessness,
        refusal: Refused,
    ) -> Result<Dropped, Refused> {
        let arrival = newcomer_uselessness.2;
        match self.least_useful_proof(submitter, newcomer, arrival) {
            Some((uselessness, victim)) if uselessness > newcomer_uselessness => {
                let evicted = self.proofs.remove(&victim).ok_or(refusal)?;
                Ok(Dropped::Proof {
                    proof: evicted.meta,
                    reason: refusal.reason().unwrap_or(DropReason::PoolFull),
                })
            }
            _ => Err(refusal),
        }
    }

    /// Adds a verified fraud item. Returns the items evicted to make room, or why it was
    /// refused: already pooled, [`MAX_PROOFS_PER_TARGET`] items about its target pooled
    /// already, or it is the least useful of its submitter's share or of a full pool.
    pub fn insert_proof(
        &mut self,
        proof: ProofMeta,
        bytes: Vec<u8>,
    ) -> Result<Vec<Dropped>, Refused> {
        if self.proofs.contains_key(&proof.id) {
            return Err(Refused::AlreadyPooled);
        }
        let about_target = self
            .proofs
            .values()
            .filter(|p| p.meta.target == proof.target)
            .count();
        if about_target >= MAX_PROOFS_PER_TARGET {
            return Err(Refused::ShareExceeded);
        }
        let arrival = self.arrivals + 1;
        let uselessness = (u8::from(about_target > 0), proof.target_height, arrival);
        let mut dropped = Vec::new();
        let from_submitter = self
            .proofs
            .values()
            .filter(|p| p.meta.submitter == proof.submitter)
            .count();
        if from_submitter >= MAX_PROOFS_PER_SUBMITTER {
            dropped.push(self.make_proof_room(
                Some(&proof.submitter),
                &proof,
                uselessness,
                Refused::ShareExceeded,
            )?);
        }
        if self.proofs.len() >= MAX_POOLED_PROOFS {
            dropped.push(self.make_proof_room(None, &proof, uselessness, Refused::PoolFull)?);
        }
        self.arrivals = arrival;
        self.proofs.insert(
            proof.id,
            PooledProof {
                meta: proof,
                bytes,
                arrival,
            },
        );
        Ok(dropped)
    }

    /// Items for the block at `height`, within `max_bytes`: fraud items (about the lowest
    /// data heights first) that fit, then claims for decided heights whose parent is recorded
    /// (`recorded`) or selected before them. Claims go in data height order; within a height,
    /// each executor's first claim before any executor's second, so no executor's many claims
    /// for one height crowd out another's. An item that cannot go is skipped, never waited
    /// on.
    pub fn select(
        &self,
        height: u64,
        max_bytes: usize,
        recorded: impl Fn(&ClaimId) -> bool,
    ) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let mut budget = max_bytes;
        let mut proof_order: Vec<&PooledProof> = self.proofs.values().collect();
        proof_order.sort_by_key(|p| (p.meta.target_height, p.arrival));
        let mut proofs = Vec::new();
        for p in proof_order {
            if p.bytes.len() <= budget {
                budget -= p.bytes.len();
                proofs.push(p.bytes.clone());
            }
        }
        let mut order: Vec<(&ClaimId, &PooledClaim)> = self
            .claims
            .iter()
            .filter(|(_, c)| c.meta.data_height < height && c.checked)
            .collect();
        order.sort_by_key(|(_, c)| (c.meta.data_height, c.meta.executor, c.arrival));
        // The rank of each claim among its executor's claims for its height.
        let mut keyed: Vec<((u64, usize, u64), &ClaimId, &PooledClaim)> =
            Vec::with_capacity(order.len());
        let mut previous: Option<(u64, Address)> = None;
        let mut rank = 0;
        for (id, c) in order {
            let group = (c.meta.data_height, c.meta.executor);
            rank = if previous == Some(group) { rank + 1 } else { 0 };
            previous = Some(group);
            keyed.push(((c.meta.data_height, rank, c.arrival), id, c));
        }
        keyed.sort_by_key(|(key, _, _)| *key);
        let mut chosen: BTreeSet<ClaimId> = BTreeSet::new();
        let mut claims = Vec::new();
        for (_, id, c) in keyed {
            let parent = &c.meta.parent;
            let parent_ok =
                *parent == GENESIS_PARENT || recorded(parent) || chosen.contains(parent);
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
            self.remove_claim(id);
        }
        for id in proofs {
            self.proofs.remove(id);
        }
    }

    /// Checks that the indexes agree with the claims (tests only).
    #[cfg(test)]
    fn assert_consistent(&self) {
        assert_eq!(self.by_uselessness.len(), self.claims.len());
        let per_executor: usize = self.by_executor.values().map(BTreeSet::len).sum();
        assert_eq!(per_executor, self.claims.len());
        let in_slots: usize = self.slots.values().map(BTreeMap::len).sum();
        assert_eq!(in_slots, self.claims.len());
        let with_parent: usize = self.children.values().map(BTreeSet::len).sum();
        assert_eq!(with_parent, self.claims.len());
        for (id, c) in &self.claims {
            assert_eq!(c.class, self.class_of(c), "class of {id}");
            assert!(self.by_uselessness.contains(&(c.uselessness(), *id)));
        }
        let orphans = self
            .claims
            .values()
            .filter(|c| c.orphan_since.is_some())
            .count();
        assert_eq!(orphans, self.orphans);
        let unchecked = self.claims.values().filter(|c| !c.checked).count();
        assert_eq!(unchecked, self.unchecked);
    }

    /// Drops the claims of executors `slashed` names: state consensus ignores them.
    pub fn drop_claims_of(&mut self, slashed: impl Fn(&Address) -> bool) -> Vec<Dropped> {
        let gone: Vec<ClaimId> = self
            .claims
            .iter()
            .filter(|(_, c)| slashed(&c.meta.executor))
            .map(|(id, _)| *id)
            .collect();
        gone.iter()
            .filter_map(|id| self.remove_claim(id))
            .map(|c| Dropped::Claim {
                claim: c.meta,
                reason: DropReason::Slashed,
            })
            .collect()
    }

    /// Forgets claims state consensus recorded some other way (`recorded`), and settles each
    /// fraud item as `fate` says; returns the items dropped.
    pub fn retain(
        &mut self,
        recorded: impl Fn(&ClaimId) -> bool,
        fate: impl Fn(&ProofMeta) -> ProofFate,
    ) -> Vec<Dropped> {
        let done: Vec<ClaimId> = self
            .claims
            .keys()
            .filter(|id| recorded(id))
            .copied()
            .collect();
        for id in &done {
            self.remove_claim(id);
        }
        let mut dropped = Vec::new();
        self.proofs.retain(|_, p| match fate(&p.meta) {
            ProofFate::Keep => true,
            ProofFate::Done => false,
            ProofFate::Drop(reason) => {
                dropped.push(Dropped::Proof {
                    proof: p.meta,
                    reason,
                });
                false
            }
        });
        dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HONEST: Address = [0x11; 20];
    const HOSTILE: Address = [0x66; 20];

    fn id(b: u8) -> ClaimId {
        ClaimId([b; 32])
    }

    /// A distinct claim id from a number and a tag.
    fn nid(tag: u8, n: u64) -> ClaimId {
        let mut id = [tag; 32];
        id[..8].copy_from_slice(&n.to_le_bytes());
        ClaimId(id)
    }

    fn meta(id: ClaimId, data_height: u64, parent: ClaimId) -> ClaimMeta {
        ClaimMeta {
            id,
            executor: HONEST,
            data_height,
            parent,
        }
    }

    fn of(executor: Address, id: ClaimId, data_height: u64, parent: ClaimId) -> ClaimMeta {
        ClaimMeta {
            id,
            executor,
            data_height,
            parent,
        }
    }

    fn none(_: &ClaimId) -> bool {
        false
    }

    fn proof(n: u8, submitter: u8, target: u8, target_height: u64) -> ProofMeta {
        ProofMeta {
            id: [n; 32],
            submitter: [submitter; 20],
            target: id(target),
            target_height,
            evidence: false,
        }
    }

    #[test]
    fn claims_wait_for_their_parent_and_decided_heights() {
        let mut pool = ItemPool::default();
        let ins = |pool: &mut ItemPool, m: ClaimMeta, b: u8| {
            pool.insert_claim(m, vec![b; 10], true, none)
        };
        assert_eq!(ins(&mut pool, meta(id(2), 2, id(1)), 2), Ok(vec![]));
        assert_eq!(
            ins(&mut pool, meta(id(1), 1, GENESIS_PARENT), 1),
            Ok(vec![])
        );
        assert_eq!(ins(&mut pool, meta(id(3), 3, id(2)), 3), Ok(vec![]));
        assert_eq!(ins(&mut pool, meta(id(9), 2, id(8)), 9), Ok(vec![]));
        assert_eq!(
            ins(&mut pool, meta(id(1), 1, GENESIS_PARENT), 1),
            Err(Refused::AlreadyPooled)
        );
        // Claim 2 arrived before its parent, which rooted it on arrival; 9 is an orphan.
        assert_eq!(pool.counts().orphan_claims, 1);

        // Block 3: heights 1 and 2 are decided; 1 then its child 2; 9's parent is unknown.
        let (claims, proofs) = pool.select(3, 1 << 20, none);
        assert_eq!(claims, vec![vec![1; 10], vec![2; 10]]);
        assert!(proofs.is_empty());
        // With the parent recorded, the orphan goes too.
        let (claims, _) = pool.select(4, 1 << 20, |c| *c == id(8));
        assert_eq!(claims.len(), 4);
        // The byte budget stops selection.
        let (claims, _) = pool.select(4, 15, none);
        assert_eq!(claims, vec![vec![1; 10]]);

        pool.remove_included(&[id(1), id(2)], &[]);
        let (claims, _) = pool.select(4, 1 << 20, |c| *c == id(2));
        assert_eq!(claims, vec![vec![3; 10]]);
        assert_eq!(pool.claims_of(&HONEST), 2);
        pool.assert_consistent();
    }

    #[test]
    fn a_hostile_flood_of_orphans_and_junk_never_keeps_out_an_honest_claim() {
        // Two bonded executors: each may hold half the room.
        let mut pool = ItemPool::new(2);
        pool.sweep(1000, none);
        let honest_parent = id(0xa0);
        let recorded = |c: &ClaimId| *c == honest_parent;
        // Thousands of orphans (parents nobody knows) at every height...
        for n in 0..6000u64 {
            let claim = of(HOSTILE, nid(0xee, n), 1 + n % 1000, nid(0xef, n));
            let _ = pool.insert_claim(claim, vec![0xee; 40], true, recorded);
        }
        // ...and junk: many claims per height on the honest executor's recorded parent.
        for n in 0..3000u64 {
            let claim = of(HOSTILE, nid(0xdd, n), 1000, honest_parent);
            let _ = pool.insert_claim(claim, vec![0xdd; 40], true, recorded);
        }
        assert!(pool.claims_of(&HOSTILE) <= pool.executor_share());
        assert!(pool.claims_len() <= MAX_POOLED_CLAIMS);
        // The rooted junk pushed the hostile orphans out of its own share first.
        assert_eq!(pool.counts().orphan_claims, 0);

        // The honest executor's claim for the next height is taken and selected.
        let honest = of(HONEST, id(0xa1), 1000, honest_parent);
        assert!(pool
            .insert_claim(honest, vec![0xa1; 40], true, recorded)
            .is_ok());
        // Even in a block with room for a few claims only.
        let (claims, _) = pool.select(1001, 40 * 3, recorded);
        assert!(claims.contains(&vec![0xa1; 40]), "honest claim selected");

        // A flood that fills the whole pool (no share known yet) is evicted orphans first.
        let mut pool = ItemPool::default();
        for n in 0..MAX_POOLED_CLAIMS as u64 + 100 {
            let claim = of(HOSTILE, nid(0xee, n), 5, nid(0xef, n));
            let _ = pool.insert_claim(claim, vec![0xee; 40], true, none);
        }
        assert_eq!(pool.claims_len(), MAX_POOLED_CLAIMS);
        let honest = of(HONEST, id(0xa1), 50, GENESIS_PARENT);
        let dropped = pool
            .insert_claim(honest, vec![0xa1; 40], true, none)
            .expect("an orphan makes room");
        assert!(matches!(
            dropped.as_slice(),
            [Dropped::Claim { claim, reason: DropReason::PoolFull }] if claim.executor == HOSTILE
        ));
        pool.assert_consistent();
    }

    #[test]
    fn orphans_are_held_for_a_while_then_evicted() {
        let mut pool = ItemPool::default();
        pool.sweep(10, none);
        // 2 and its child 3 wait for 1; 7 waits for a parent that never comes.
        pool.insert_claim(meta(id(2), 2, id(1)), vec![2], true, none)
            .expect("pooled");
        pool.insert_claim(meta(id(3), 3, id(2)), vec![3], true, none)
            .expect("pooled");
        pool.insert_claim(meta(id(7), 7, id(6)), vec![7], true, none)
            .expect("pooled");
        assert_eq!(pool.counts().orphan_claims, 3);
        assert!(pool.sweep(10 + ORPHAN_HOLD_BLOCKS - 1, none).is_empty());
        // The lost parent is re-sent in time: its descendants are orphans no more.
        pool.insert_claim(meta(id(1), 1, GENESIS_PARENT), vec![1], true, none)
            .expect("pooled");
        assert_eq!(pool.counts().orphan_claims, 1);
        let dropped = pool.sweep(10 + ORPHAN_HOLD_BLOCKS, none);
        assert_eq!(
            dropped,
            vec![Dropped::Claim {
                claim: meta(id(7), 7, id(6)),
                reason: DropReason::OrphanExpired
            }]
        );
        assert_eq!(pool.claims_len(), 3);
        assert_eq!(pool.counts().orphan_claims, 0);

        // Once the root is recorded and leaves the pool, its children stay rooted.
        pool.remove_included(&[id(1)], &[]);
        assert!(pool.sweep(1000, |c| *c == id(1)).is_empty());
        // A claim that became an orphan later (its parent was evicted) is held from then on.
        pool.remove_included(&[id(2)], &[]);
        assert!(pool.sweep(1001, |c| *c == id(1)).is_empty());
        assert_eq!(pool.counts().orphan_claims, 1);
        assert!(pool.sweep(1000 + ORPHAN_HOLD_BLOCKS, none).is_empty());
        assert_eq!(pool.sweep(1001 + ORPHAN_HOLD_BLOCKS, none).len(), 1);
        assert_eq!(pool.claims_len(), 0);
        pool.assert_consistent();
    }

    #[test]
    fn an_executor_over_its_share_loses_its_own_least_useful_claim() {
        // 16 executors: each holds at most MAX_POOLED_CLAIMS / 16 = 256.
        let mut pool = ItemPool::new(16);
        let share = pool.executor_share();
        assert_eq!(share, MAX_POOLED_CLAIMS / 16);
        assert_eq!(ItemPool::new(1000).executor_share(), MIN_EXECUTOR_SHARE);
        assert_eq!(ItemPool::new(1).executor_share(), MAX_POOLED_CLAIMS);
        for n in 0..share as u64 {
            let claim = of(HOSTILE, nid(1, n), 100 + n, GENESIS_PARENT);
            assert_eq!(pool.insert_claim(claim, vec![1], true, none), Ok(vec![]));
        }
        // A claim for a higher height than all its pooled ones is the least useful: refused.
        let high = of(HOSTILE, id(0xf0), 10_000, GENESIS_PARENT);
        assert_eq!(
            pool.insert_claim(high, vec![1], true, none),
            Err(Refused::ShareExceeded)
        );
        // A lower one evicts its highest.
        let low = of(HOSTILE, id(0xf1), 1, GENESIS_PARENT);
        let dropped = pool.insert_claim(low, vec![1], true, none).expect("pooled");
        assert_eq!(
            dropped,
            vec![Dropped::Claim {
                claim: of(
                    HOSTILE,
                    nid(1, share as u64 - 1),
                    100 + share as u64 - 1,
                    GENESIS_PARENT
                ),
                reason: DropReason::ShareExceeded
            }]
        );
        assert_eq!(pool.claims_of(&HOSTILE), share);
        // A second claim for a height it claimed already supersedes the first.
        let again = of(HOSTILE, id(0xf2), 100, GENESIS_PARENT);
        let dropped = pool
            .insert_claim(again, vec![1], true, none)
            .expect("pooled");
        assert!(matches!(
            dropped.as_slice(),
            [Dropped::Claim { claim, reason: DropReason::Superseded }] if claim.id == nid(1, 0)
        ));
        // An orphan newcomer never evicts a claim with a known ancestry.
        let orphan = of(HOSTILE, id(0xf3), 1, id(0xf4));
        assert_eq!(
            pool.insert_claim(orphan, vec![1], true, none),
            Err(Refused::ShareExceeded)
        );
        // Other executors are untouched by all this.
        let honest = of(HONEST, id(0xa1), 100_000, GENESIS_PARENT);
        assert_eq!(pool.insert_claim(honest, vec![1], true, none), Ok(vec![]));
        pool.assert_consistent();
    }

    #[test]
    fn a_full_pool_evicts_the_least_useful_claim() {
        let mut pool = ItemPool::default();
        for i in 0..MAX_POOLED_CLAIMS as u64 {
            let claim = meta(nid(0, i), 10 + i, GENESIS_PARENT);
            assert!(pool.insert_claim(claim, vec![1], true, none).is_ok());
        }
        // A claim for a lower height than the highest pooled one evicts that one...
        let dropped = pool
            .insert_claim(meta(id(0xaa), 5, GENESIS_PARENT), vec![2], true, none)
            .expect("pooled");
        assert!(matches!(
            dropped.as_slice(),
            [Dropped::Claim { claim, reason: DropReason::PoolFull }]
                if claim.data_height == 10 + MAX_POOLED_CLAIMS as u64 - 1
        ));
        assert_eq!(pool.claims_len(), MAX_POOLED_CLAIMS);
        // ...one for a higher height is refused, and so is an orphan.
        assert_eq!(
            pool.insert_claim(meta(id(0xbb), 1 << 40, GENESIS_PARENT), vec![3], true, none),
            Err(Refused::PoolFull)
        );
        assert_eq!(
            pool.insert_claim(meta(id(0xbc), 1, id(0xbd)), vec![3], true, none),
            Err(Refused::PoolFull)
        );
        assert!(pool.contains_claim(&id(0xaa)));
        assert!(!pool.contains_claim(&id(0xbb)));
        pool.assert_consistent();
    }

    #[test]
    fn the_proof_pool_is_bounded_per_target_and_submitter_and_evicts_the_least_useful() {
        let mut pool = ItemPool::default();
        // Two items per target at most.
        assert_eq!(pool.insert_proof(proof(1, 1, 1, 10), vec![1]), Ok(vec![]));
        assert_eq!(pool.insert_proof(proof(2, 2, 1, 10), vec![2]), Ok(vec![]));
        assert_eq!(
            pool.insert_proof(proof(3, 3, 1, 10), vec![3]),
            Err(Refused::ShareExceeded)
        );
        assert_eq!(
            pool.insert_proof(proof(1, 1, 1, 10), vec![1]),
            Err(Refused::AlreadyPooled)
        );
        // One submitter holds at most its share; its newest item about the highest target
        // goes first.
        let mut pool = ItemPool::default();
        for n in 0..MAX_PROOFS_PER_SUBMITTER {
            let mut p = proof(0, 9, 0, 100 + n as u64);
            p.id[0] = n as u8;
            p.target = nid(9, n as u64);
            assert!(pool.insert_proof(p, vec![0]).is_ok());
        }
        let mut late = proof(0xff, 9, 0xff, 1);
        late.target = nid(8, 0);
        let dropped = pool.insert_proof(late, vec![0]).expect("pooled");
        assert!(matches!(
            dropped.as_slice(),
            [Dropped::Proof { proof, reason: DropReason::ShareExceeded }]
                if proof.target_height == 100 + MAX_PROOFS_PER_SUBMITTER as u64 - 1
        ));
        let mut higher = proof(0xfe, 9, 0xfe, 1 << 30);
        higher.target = nid(8, 1);
        assert_eq!(
            pool.insert_proof(higher, vec![0]),
            Err(Refused::ShareExceeded)
        );

        // A full pool evicts a second item about a target before any first one.
        let mut pool = ItemPool::default();
        for n in 0..MAX_POOLED_PROOFS as u64 {
            let p = ProofMeta {
                id: nid(1, n).0,
                submitter: [(n % 200) as u8; 20],
                target: nid(2, n / 2),
                target_height: 10,
                evidence: false,
            };
            assert!(pool.insert_proof(p, vec![0]).is_ok());
        }
        let newcomer = ProofMeta {
            id: [0xcc; 32],
            submitter: [0xcc; 20],
            target: id(0xcc),
            target_height: 1000,
            evidence: true,
        };
        let dropped = pool.insert_proof(newcomer, vec![0]).expect("pooled");
        assert!(matches!(
            dropped.as_slice(),
            [Dropped::Proof { proof, reason: DropReason::PoolFull }] if proof.id == nid(1, 255).0
        ));
        assert_eq!(pool.counts().evidence, 1);
        // Items about settled claims leave at the sweep; included ones leave silently.
        let dropped = pool.retain(none, |p| {
            if p.target == nid(2, 0) {
                ProofFate::Drop(DropReason::TargetSettled)
            } else if p.target == nid(2, 1) {
                ProofFate::Done
            } else {
                ProofFate::Keep
            }
        });
        assert_eq!(dropped.len(), 2);
        assert!(dropped
            .iter()
            .all(|d| d.reason() == DropReason::TargetSettled));
        assert_eq!(pool.proofs_len(), MAX_POOLED_PROOFS - 4);
    }

    #[test]
    fn proofs_go_first_lowest_target_first() {
        let mut pool = ItemPool::default();
        pool.insert_claim(meta(id(1), 1, GENESIS_PARENT), vec![1; 10], true, none)
            .expect("pooled");
        assert!(pool.insert_proof(proof(7, 1, 7, 50), vec![7; 10]).is_ok());
        assert!(pool.insert_proof(proof(8, 1, 8, 5), vec![8; 10]).is_ok());
        let (claims, proofs) = pool.select(2, 10, none);
        assert_eq!(proofs, vec![vec![8; 10]]);
        assert!(claims.is_empty());
    }

    #[test]
    fn selection_skips_what_cannot_go_and_takes_what_can() {
        let mut pool = ItemPool::default();
        // Ahead of the honest claim, by data height: an orphan, a claim too large for the
        // block, a claim still waiting for its header, and a claim for an undecided height.
        pool.insert_claim(of(HOSTILE, id(1), 1, id(0x50)), vec![1; 10], true, none)
            .expect("pooled");
        pool.insert_claim(
            of(HOSTILE, id(2), 1, GENESIS_PARENT),
            vec![2; 500],
            true,
            none,
        )
        .expect("pooled");
        pool.insert_claim(
            of(HOSTILE, id(3), 1, GENESIS_PARENT),
            vec![3; 10],
            false,
            none,
        )
        .expect("pooled");
        pool.insert_claim(
            of(HONEST, id(4), 1, GENESIS_PARENT),
            vec![4; 10],
            true,
            none,
        )
        .expect("pooled");
        pool.insert_claim(
            of(HOSTILE, id(5), 9, GENESIS_PARENT),
            vec![5; 10],
            true,
            none,
        )
        .expect("pooled");
        let (claims, _) = pool.select(2, 100, none);
        assert_eq!(claims, vec![vec![4; 10]]);

        // Within a height, each executor's first claim goes before anyone's second.
        let mut pool = ItemPool::default();
        for n in 0..10 {
            let claim = of(HOSTILE, nid(7, n), 3, GENESIS_PARENT);
            pool.insert_claim(claim, vec![7; 10], true, none)
                .expect("pooled");
        }
        pool.insert_claim(
            of(HONEST, id(4), 3, GENESIS_PARENT),
            vec![4; 10],
            true,
            none,
        )
        .expect("pooled");
        let (claims, _) = pool.select(4, 20, none);
        assert_eq!(claims, vec![vec![7; 10], vec![4; 10]]);
    }

    #[test]
    fn a_claim_that_arrived_before_its_height_was_decided_waits_for_its_check() {
        let mut pool = ItemPool::default();
        pool.insert_claim(meta(id(1), 1, GENESIS_PARENT), vec![1; 10], false, none)
            .expect("pooled");
        pool.insert_claim(meta(id(2), 2, id(1)), vec![2; 10], false, none)
            .expect("pooled");
        // Not selectable before its check, even once its height is decided.
        let (claims, _) = pool.select(3, 1 << 20, none);
        assert!(claims.is_empty());
        // Only heights decided here are handed out for checking.
        let awaiting: Vec<ClaimId> = pool
            .awaiting_header(1)
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        assert_eq!(awaiting, vec![id(1)]);
        assert_eq!(pool.set_checked(&id(1), true), None);
        let (claims, _) = pool.select(3, 1 << 20, none);
        assert_eq!(claims, vec![vec![1; 10]]);
        // A claim that fails its check leaves the pool.
        assert_eq!(
            pool.set_checked(&id(2), false),
            Some(Dropped::Claim {
                claim: meta(id(2), 2, id(1)),
                reason: DropReason::Invalid
            })
        );
        assert!(!pool.contains_claim(&id(2)));
        assert!(pool.awaiting_header(10).is_empty());
        pool.assert_consistent();
    }

    #[test]
    fn slashed_executors_claims_are_dropped() {
        let mut pool = ItemPool::default();
        pool.insert_claim(of(HOSTILE, id(1), 1, GENESIS_PARENT), vec![1], true, none)
            .expect("pooled");
        pool.insert_claim(of(HONEST, id(2), 1, GENESIS_PARENT), vec![2], true, none)
            .expect("pooled");
        let dropped = pool.drop_claims_of(|e| *e == HOSTILE);
        assert_eq!(dropped.len(), 1);
        assert_eq!(dropped[0].reason(), DropReason::Slashed);
        assert_eq!(pool.claims_of(&HOSTILE), 0);
        assert_eq!(pool.claims_len(), 1);
        pool.assert_consistent();
    }
}
