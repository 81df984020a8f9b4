//! [`StateNode`]: state consensus as a service of a data-chain node. It follows the decided
//! blocks in order (`follow_state`), keeps the item pool, checks and takes claims and fraud
//! proofs from RPC, gossip and an embedded executor, hands a proposer the items for its block
//! and checks those of a received proposal, all through the validator's
//! [`StateService`] seam.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use lazychain_chainspec::Genesis;
use lazychain_data_chain_node::state_service::{GossipVerdict, StateLink, StateService};
use lazychain_data_chain_node::store::{BlockStore, StoreError};
use lazychain_data_chain_node::ExtensionError;
use lazychain_data_chain_types::validity::ItemRefused;
use lazychain_data_chain_types::{Block, BlockHeader};
use lazychain_fraud::{check_claim_item, ClaimId, ClaimItem, FraudItem, ItemError};

use crate::fault::{FaultState, ValidatorFault};
use crate::items::{
    ClaimMeta, DropReason, Dropped, ItemPool, PoolCounts, ProofFate, ProofMeta, Refused,
    GOSSIP_CLAIM, GOSSIP_FRAUD_PROOF,
};
use crate::metrics::StateMetrics;
use crate::state::{ProofRefused, StateError, StateFollower};

/// How far above its decided height a node pools claims whose header it has not decided yet.
pub const CLAIM_LOOKAHEAD: u64 = 32;

/// Why a claim or fraud proof was not taken into the item pool.
#[derive(Debug, thiserror::Error)]
pub enum ItemSubmitError {
    #[error("invalid: {0}")]
    Invalid(#[source] InvalidItem),
    #[error(transparent)]
    Proof(#[from] ProofRefused),
    #[error("already known")]
    AlreadyKnown,
    #[error("the item pool is full")]
    PoolFull,
    #[error("the item pool holds its executor's, submitter's or target's whole share")]
    ShareExceeded,
    #[error("executor {0} is slashed: its claims are ignored")]
    ExecutorSlashed(String),
}

/// Why a claim or fraud-proof item fails the stateless checks (its encoding, signer, signature,
/// heights and trace against the decided header), or may no longer be taken.
#[derive(Debug, thiserror::Error)]
pub enum InvalidItem {
    /// The item does not decode, or the claim fails [`check_claim_item`].
    #[error(transparent)]
    Item(#[from] ItemError),
    /// A claim for a decided height whose header this node does not store.
    #[error("decided header {height} is not stored here")]
    HeaderMissing { height: u64 },
    /// A claim for a height state consensus has pruned (rule 7).
    #[error("data height {data_height} is pruned: state consensus no longer takes claims for heights up to {pruned_through}")]
    Pruned {
        data_height: u64,
        pruned_through: u64,
    },
    /// A fraud item whose proof does not decode.
    #[error("undecodable proof")]
    UndecodableProof,
}

/// Why state consensus could not follow the decided chain ([`StateNode::follow_state`]).
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The store's latest height is above a block it does not hold.
    #[error("decided block {height} is missing")]
    BlockMissing { height: u64 },
    /// State consensus could not apply a decided block.
    #[error(transparent)]
    Apply(#[from] StateError),
    /// The node has not started this service yet.
    #[error("state consensus is not attached to a node yet")]
    NotStarted,
}

/// State consensus over a node's decided blocks, its item pool and its faults on purpose.
pub struct StateNode {
    chain_id: u64,
    state: RwLock<StateFollower>,
    items: Mutex<ItemPool>,
    metrics: StateMetrics,
    /// The node's block store and state gossip, once the node has started it.
    link: OnceLock<StateLink>,
    /// Slashed executors when the item pool was last cleaned of their claims.
    slashed_seen: AtomicUsize,
    /// A deliberate fault (`lazychain validator --fault`, tests only); unset normally.
    fault: OnceLock<FaultState>,
}

impl StateNode {
    /// State consensus from the genesis, before any block is applied.
    pub fn new(genesis: &Genesis) -> Result<Self, StateError> {
        let state = StateFollower::new(genesis)?;
        let items = ItemPool::new(state.consensus().registry().len());
        Ok(Self {
            chain_id: genesis.chain_id,
            state: RwLock::new(state),
            items: Mutex::new(items),
            metrics: StateMetrics::default(),
            link: OnceLock::new(),
            slashed_seen: AtomicUsize::new(0),
            fault: OnceLock::new(),
        })
    }

    /// Turns on a deliberate fault (tests and demos only); once, before items arrive.
    pub fn set_fault(&self, fault: ValidatorFault) {
        let _ = self.fault.set(FaultState::new(fault));
    }

    fn link(&self) -> Option<&StateLink> {
        self.link.get()
    }

    /// The node's block store; an error before the node started this service.
    fn store(&self) -> Result<&Arc<BlockStore>, FollowError> {
        self.link().map(|l| &l.store).ok_or(FollowError::NotStarted)
    }

    /// The node's latest decided height (0 before it started this service, or on a store
    /// read error).
    pub fn decided_height(&self) -> u64 {
        self.link()
            .and_then(|l| l.store.latest_height().ok())
            .unwrap_or(0)
    }
}

impl StateNode {
    fn item_pool(&self) -> std::sync::MutexGuard<'_, ItemPool> {
        self.items.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A read view of state consensus.
    pub fn state(&self) -> std::sync::RwLockReadGuard<'_, StateFollower> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn state_mut(&self) -> std::sync::RwLockWriteGuard<'_, StateFollower> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The decided header at `height`, if stored here.
    pub fn header_at(&self, height: u64) -> Option<BlockHeader> {
        self.link()?.store.decided_header(height).ok().flatten()
    }

    /// The hash of the decided block at `height`, if stored here.
    pub fn hash_at(&self, height: u64) -> Option<[u8; 32]> {
        self.header_at(height)?.hash().ok().map(|h| h.0)
    }

    /// The stateless check of a claim item for a block at `height`.
    fn check_claim_bytes(&self, bytes: &[u8], height: u64) -> Result<ClaimItem, InvalidItem> {
        let item = ClaimItem::decode(bytes)?;
        let data_height = item.signed.claim.data_height;
        let decided = height.saturating_sub(1);
        let header = if data_height <= decided {
            self.header_at(data_height)
                .ok_or(InvalidItem::HeaderMissing {
                    height: data_height,
                })?
        } else {
            // check_claim_item reports the future height.
            BlockHeader {
                height: data_height,
                ..BlockHeader::default()
            }
        };
        let state = self.state();
        check_claim_item(&item, self.chain_id, decided, state.registry(), &header)?;
        Ok(item)
    }

    /// Everything [`Self::check_claim_bytes`] checks except what needs the decided header of
    /// the claim's height (its transaction count).
    fn check_claim_early(&self, bytes: &[u8]) -> Result<ClaimItem, InvalidItem> {
        let item = ClaimItem::decode(bytes)?;
        let claim = &item.signed.claim;
        let header = BlockHeader {
            height: claim.data_height,
            tx_count: claim.tx_count,
            ..BlockHeader::default()
        };
        let state = self.state();
        check_claim_item(
            &item,
            self.chain_id,
            claim.data_height,
            state.registry(),
            &header,
        )?;
        Ok(item)
    }

    /// Pools (again, if it was dropped) and gossips again a claim of this node's executor that
    /// no block has recorded yet: the first message may have been lost, or ignored by a peer
    /// that had not decided the claim's height yet.
    pub fn republish_claim(&self, bytes: &[u8]) -> Result<(), ItemSubmitError> {
        match self.submit_claim(bytes, true) {
            Ok(_) => Ok(()),
            Err(ItemSubmitError::AlreadyKnown) => {
                let id = ClaimItem::decode(bytes)
                    .map_err(|e| ItemSubmitError::Invalid(e.into()))?
                    .id();
                if self.state().consensus().status(&id).is_some() {
                    return Err(ItemSubmitError::AlreadyKnown);
                }
                self.publish_item(GOSSIP_CLAIM, bytes);
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Takes an executor's claim (with its trace) into the item pool after the stateless
    /// checks; `gossip` republishes it to peers. A claim for a height this node has not
    /// decided yet (at most [`CLAIM_LOOKAHEAD`] ahead: the executor learnt the decision
    /// first) is checked as far as it can be without the header and waits in the pool until
    /// the header is here (`follow_state` finishes the check).
    pub fn submit_claim(&self, bytes: &[u8], gossip: bool) -> Result<ClaimId, ItemSubmitError> {
        // `--fault drop-claims-at=H` and `drop-gossip-claims-at=H`: as a lost message, the
        // sender hears nothing.
        if let Some(id) = self.fault.get().and_then(|f| {
            f.drops_claim(bytes, !gossip, |h| {
                self.header_at(h).map(|header| header.tx_count > 0)
            })
        }) {
            return Ok(id);
        }
        let latest = self.decided_height();
        let early = ClaimItem::decode(bytes)
            .ok()
            .map(|i| i.signed.claim.data_height)
            .is_some_and(|h| h > latest && h <= latest.saturating_add(CLAIM_LOOKAHEAD));
        let item = if early {
            self.check_claim_early(bytes)
        } else {
            self.check_claim_bytes(bytes, latest.saturating_add(1))
        }
        .map_err(|e| {
            // Gossip carries anyone's bytes: not worth a warning each, but counted.
            self.metrics
                .item_dropped("claim", DropReason::Invalid.as_str());
            match ClaimItem::decode(bytes) {
                Ok(item) => tracing::debug!(
                    executor = %hex::encode(item.signed.claim.executor),
                    claim = %item.id(),
                    data_height = item.signed.claim.data_height,
                    error = %e,
                    "claim refused: invalid"
                ),
                Err(_) => tracing::debug!(error = %e, "claim refused: invalid"),
            }
            ItemSubmitError::Invalid(e)
        })?;
        let id = item.id();
        let claim = &item.signed.claim;
        let meta = ClaimMeta {
            id,
            executor: claim.executor,
            data_height: claim.data_height,
            parent: claim.parent(),
        };
        let inserted = {
            let state = self.state();
            let consensus = state.consensus();
            if consensus.status(&id).is_some() {
                return Err(ItemSubmitError::AlreadyKnown);
            }
            // State consensus would ignore it: it must not take room in the pool.
            if consensus.is_slashed(&claim.executor) {
                self.note_refused(
                    &Dropped::Claim {
                        claim: meta,
                        reason: DropReason::Slashed,
                    },
                    tracing::Level::DEBUG,
                );
                return Err(ItemSubmitError::ExecutorSlashed(hex::encode(
                    claim.executor,
                )));
            }
            // Nor would it record a claim for a height it has pruned (rule 7).
            let pruned_through = consensus.pruned_through();
            if claim.data_height <= pruned_through {
                self.note_refused(
                    &Dropped::Claim {
                        claim: meta,
                        reason: DropReason::Invalid,
                    },
                    tracing::Level::DEBUG,
                );
                return Err(ItemSubmitError::Invalid(InvalidItem::Pruned {
                    data_height: claim.data_height,
                    pruned_through,
                }));
            }
            let mut pool = self.item_pool();
            let inserted = pool.insert_claim(meta, bytes.to_vec(), !early, |c| {
                consensus.status(c).is_some()
            });
            self.metrics.item_pool_counts(&pool.counts());
            inserted
        };
        match inserted {
            Ok(evicted) => self.note_evicted(&evicted),
            Err(Refused::AlreadyPooled) => return Err(ItemSubmitError::AlreadyKnown),
            Err(refused) => {
                let reason = refused.reason().unwrap_or(DropReason::PoolFull);
                self.note_refused(
                    &Dropped::Claim {
                        claim: meta,
                        reason,
                    },
                    tracing::Level::WARN,
                );
                return Err(match refused {
                    Refused::ShareExceeded => ItemSubmitError::ShareExceeded,
                    _ => ItemSubmitError::PoolFull,
                });
            }
        }
        if gossip {
            self.publish_item(GOSSIP_CLAIM, bytes);
        }
        Ok(id)
    }

    /// Verifies a fraud proof against the pending claim it targets; if it proves fraud, raises
    /// the local alarm, pools it for inclusion and (with `gossip`) republishes it. Returns the
    /// target claim and the proof id.
    pub fn submit_fraud_proof(
        &self,
        item_bytes: &[u8],
        gossip: bool,
    ) -> Result<(ClaimId, [u8; 32]), ItemSubmitError> {
        let item = FraudItem::decode(item_bytes).map_err(|e| ItemSubmitError::Invalid(e.into()))?;
        let (target, proof_id) = {
            let state = self.state();
            state.check_proof(&item, &|h| self.header_at(h), &|h| self.hash_at(h))?
        };
        let meta = self
            .proof_meta(&item, proof_id)
            .ok_or(ItemSubmitError::Invalid(InvalidItem::UndecodableProof))?;
        let inserted = self.pool_proof(meta, item_bytes);
        // Equivocation evidence raises no alarm: it reverts nothing a verified re-execution
        // found wrong, and its consequences wait for inclusion.
        let alarmed = !meta.evidence && self.state_mut().raise_alarm(target, proof_id);
        let fresh = match inserted {
            Ok(()) => true,
            Err(_) if alarmed => false,
            Err(Refused::AlreadyPooled) => return Err(ItemSubmitError::AlreadyKnown),
            Err(Refused::ShareExceeded) => return Err(ItemSubmitError::ShareExceeded),
            Err(Refused::PoolFull) => return Err(ItemSubmitError::PoolFull),
        };
        if gossip && fresh {
            self.publish_item(GOSSIP_FRAUD_PROOF, item_bytes);
        }
        Ok((target, proof_id))
    }

    /// Pools (again, if a full pool had dropped it) and gossips again a fraud item this node
    /// already verified, for a submitter whose proof has not been included yet.
    pub fn regossip_fraud_proof(&self, item_bytes: &[u8]) {
        let Ok(item) = FraudItem::decode(item_bytes) else {
            return;
        };
        let id = lazychain_fraud::proof_id(&item.proof);
        let Some(meta) = self.proof_meta(&item, id) else {
            return;
        };
        let pooled =
            self.item_pool().contains_proof(&id) || self.pool_proof(meta, item_bytes).is_ok();
        if pooled {
            self.publish_item(GOSSIP_FRAUD_PROOF, item_bytes);
        }
    }

    /// What the item pool needs to know of a fraud item (`None` if its proof does not
    /// decode).
    fn proof_meta(&self, item: &FraudItem, id: [u8; 32]) -> Option<ProofMeta> {
        let proof = item.decode_proof().ok()?;
        let target = proof.target();
        let (evidence, target_height) = match &proof {
            lazychain_fraud::FraudProof::Equivocation(e) => (true, e.a.claim.data_height),
            _ => (
                false,
                self.state()
                    .consensus()
                    .claim(&target)
                    .map_or(u64::MAX, |c| c.claim.claim.data_height),
            ),
        };
        Some(ProofMeta {
            id,
            submitter: item.submitter,
            target,
            target_height,
            evidence,
        })
    }

    /// Pools a verified fraud item, logging and counting what it evicted, or its refusal.
    fn pool_proof(&self, meta: ProofMeta, bytes: &[u8]) -> Result<(), Refused> {
        let inserted = {
            let mut pool = self.item_pool();
            let inserted = pool.insert_proof(meta, bytes.to_vec());
            self.metrics.item_pool_counts(&pool.counts());
            inserted
        };
        match inserted {
            Ok(evicted) => {
                self.note_evicted(&evicted);
                Ok(())
            }
            Err(refused) => {
                if let Some(reason) = refused.reason() {
                    self.note_refused(
                        &Dropped::Proof {
                            proof: meta,
                            reason,
                        },
                        tracing::Level::WARN,
                    );
                }
                Err(refused)
            }
        }
    }

    /// Logs (at DEBUG: evicting is the pool's routine) and counts items the pool evicted.
    fn note_evicted(&self, dropped: &[Dropped]) {
        for d in dropped {
            self.note_drop(d, tracing::Level::DEBUG, "evicted from the item pool");
        }
    }

    /// Logs and counts a new item the pool did not take.
    fn note_refused(&self, dropped: &Dropped, level: tracing::Level) {
        self.note_drop(dropped, level, "not taken into the item pool");
    }

    fn note_drop(&self, dropped: &Dropped, level: tracing::Level, what: &str) {
        let reason = dropped.reason().as_str();
        match dropped {
            Dropped::Claim { claim, .. } => {
                self.metrics.item_dropped("claim", reason);
                let executor = hex::encode(claim.executor);
                if level == tracing::Level::WARN {
                    tracing::warn!(%executor, claim = %claim.id, data_height = claim.data_height, reason, "claim {what}");
                } else {
                    tracing::debug!(%executor, claim = %claim.id, data_height = claim.data_height, reason, "claim {what}");
                }
            }
            Dropped::Proof { proof, .. } => {
                let kind = if proof.evidence {
                    "evidence"
                } else {
                    "fraud_proof"
                };
                self.metrics.item_dropped(kind, reason);
                let (id, submitter) = (hex::encode(proof.id), hex::encode(proof.submitter));
                if level == tracing::Level::WARN {
                    tracing::warn!(proof = %id, %submitter, target = %proof.target, target_height = proof.target_height, reason, "{kind} {what}");
                } else {
                    tracing::debug!(proof = %id, %submitter, target = %proof.target, target_height = proof.target_height, reason, "{kind} {what}");
                }
            }
        }
    }

    fn publish_item(&self, kind: u8, bytes: &[u8]) {
        let mut msg = Vec::with_capacity(bytes.len() + 1);
        msg.push(kind);
        msg.extend_from_slice(bytes);
        if !self.link().is_some_and(|l| l.gossip.publish(msg)) {
            tracing::warn!("state gossip queue is full; item kept locally only");
        }
    }

    /// Claims and fraud proofs for the block at `height`, within `max_bytes`.
    pub fn select_items(&self, height: u64, max_bytes: usize) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        // The state follower applies decided blocks on its own task: a block decided a moment
        // ago may not be applied yet, and its items are still pooled here. Including them again
        // would waste the block's room (state consensus ignores the copy), so they leave the
        // pool now, and count as recorded parents.
        let (claims_in_flight, proofs_in_flight) = self.items_decided_not_applied();
        let state = self.state();
        let consensus = state.consensus();
        let mut pool = self.item_pool();
        if !claims_in_flight.is_empty() || !proofs_in_flight.is_empty() {
            pool.remove_included(&claims_in_flight, &proofs_in_flight);
        }
        pool.select(height, max_bytes, |id| {
            consensus.status(id).is_some() || claims_in_flight.contains(id)
        })
    }

    /// Claim and fraud-proof ids of decided blocks the state follower has not applied yet.
    fn items_decided_not_applied(&self) -> (Vec<ClaimId>, Vec<[u8; 32]>) {
        let applied = self.state().applied_height();
        let Some(store) = self.link().map(|l| &l.store) else {
            return (Vec::new(), Vec::new());
        };
        let latest = store.latest_height().unwrap_or(applied);
        let mut claims = Vec::new();
        let mut proofs = Vec::new();
        for height in applied.saturating_add(1)..=latest {
            // A block the store cannot give back now is left to the follower, which reports it.
            let Ok(Some(decided)) = store.decided(height) else {
                break;
            };
            let (c, p) = item_ids(&decided.block);
            claims.extend(c);
            proofs.extend(p);
        }
        (claims, proofs)
    }

    /// Pooled items, for status: (claims, fraud proofs).
    pub fn pooled_items(&self) -> (usize, usize) {
        let pool = self.item_pool();
        (pool.claims_len(), pool.proofs_len())
    }

    /// Pooled items by kind, orphan claims included, for status.
    pub fn pool_counts(&self) -> PoolCounts {
        self.item_pool().counts()
    }

    /// Feeds every decided block not yet applied to state consensus, then drops pooled items
    /// that are recorded or no longer useful. Returns the height applied up to.
    pub fn follow_state(&self) -> Result<u64, FollowError> {
        let store = self.store()?;
        let latest = store.latest_height()?;
        // Claims that arrived before their height was decided here: check them now.
        let awaiting = self.item_pool().awaiting_header(latest);
        for (id, bytes) in awaiting {
            let valid = self.check_claim_bytes(&bytes, latest.saturating_add(1));
            let dropped = self.item_pool().set_checked(&id, valid.is_ok());
            if let (Err(e), Some(Dropped::Claim { claim, reason })) = (&valid, dropped) {
                self.metrics.item_dropped("claim", reason.as_str());
                tracing::warn!(executor = %hex::encode(claim.executor), claim = %id, data_height = claim.data_height, reason = reason.as_str(), error = %e, "pooled claim dropped: invalid against its decided header");
            }
        }
        loop {
            let next = self.state().applied_height() + 1;
            if next > latest {
                break;
            }
            let decided = store
                .decided(next)?
                .ok_or(FollowError::BlockMissing { height: next })?;
            let block = decided.block;
            let mut state = self.state_mut();
            state.apply_block(&block, &|h| self.header_at(h), &|h| self.hash_at(h))?;
            drop(state);
            let (claim_ids, proof_ids) = item_ids(&block);
            self.item_pool().remove_included(&claim_ids, &proof_ids);
        }
        let state = self.state();
        let consensus = state.consensus();
        let slashed = consensus.ledger().slashed.len();
        let mut dropped = Vec::new();
        if slashed != self.slashed_seen.swap(slashed, Ordering::Relaxed) {
            // Claims of an executor slashed since would never be recorded: drop them.
            dropped.extend(
                self.item_pool()
                    .drop_claims_of(|executor| consensus.is_slashed(executor)),
            );
        }
        self.metrics
            .final_height
            .set(consensus.latest_final_height() as i64);
        self.metrics.held_claims.set(consensus.held_claims() as i64);
        self.metrics.disputes.set(state.disputes().len() as i64);
        let recorded = |id: &ClaimId| consensus.status(id).is_some();
        let counts = {
            let mut pool = self.item_pool();
            dropped.extend(pool.retain(recorded, |proof| {
                if consensus.proof_accepted(&proof.id) {
                    return ProofFate::Done;
                }
                // Evidence slashes whoever signed both claims, whatever became of them; a
                // proof is of no more use once its target is final or reverted.
                match consensus.status(&proof.target) {
                    Some(status) if !proof.evidence && !status.is_pending() => {
                        ProofFate::Drop(DropReason::TargetSettled)
                    }
                    _ => ProofFate::Keep,
                }
            }));
            dropped.extend(pool.sweep(state.applied_height(), recorded));
            pool.counts()
        };
        self.metrics.item_pool_counts(&counts);
        self.note_evicted(&dropped);
        let expired = dropped
            .iter()
            .filter(|d| d.reason() == DropReason::OrphanExpired)
            .count();
        if expired > 0 {
            tracing::info!(
                expired,
                orphans_left = counts.orphan_claims,
                "orphan claims evicted: their parents were not recorded within {} blocks",
                crate::items::ORPHAN_HOLD_BLOCKS
            );
        }
        Ok(state.applied_height())
    }
}

impl StateService for StateNode {
    fn attach(&self, link: StateLink) -> Result<(), ExtensionError> {
        self.metrics.register(&link.moniker);
        self.link
            .set(link)
            .map_err(|_| ExtensionError::from("state consensus is already attached to a node"))
    }

    fn max_item_bytes(&self) -> usize {
        lazychain_fraud::MAX_FRAUD_ITEM_BYTES
    }

    fn select_items(&self, height: u64, max_bytes: usize) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        StateNode::select_items(self, height, max_bytes)
    }

    fn check_claim(&self, item: &[u8], height: u64) -> Result<(), ItemRefused> {
        self.check_claim_bytes(item, height)
            .map(|_| ())
            .map_err(ItemRefused::invalid)
    }

    /// Encoding and size only: whether the proof proves anything, and about which claim, is
    /// state consensus's question, answered identically on every node when the block is
    /// applied (a proof about an unknown or settled claim is recorded there as rejected).
    fn check_fraud_proof(&self, item: &[u8], _height: u64) -> Result<(), ItemRefused> {
        let item = FraudItem::decode(item).map_err(ItemRefused::invalid)?;
        item.decode_proof().map_err(ItemRefused::invalid)?;
        Ok(())
    }

    fn follow(&self) -> Result<u64, ExtensionError> {
        Ok(self.follow_state()?)
    }

    /// Checks a received claim or fraud proof like an RPC submission (a proof is verified and,
    /// if it proves fraud, raises the local alarm). Invalid items are not forwarded; items
    /// that are merely known or unplaceable yet are not forwarded either, without penalty.
    fn receive_gossip(&self, message: &[u8]) -> GossipVerdict {
        let Some((&kind, item)) = message.split_first() else {
            return GossipVerdict::Reject;
        };
        let outcome = match kind {
            GOSSIP_CLAIM => self.submit_claim(item, false).map(|_| ()),
            GOSSIP_FRAUD_PROOF => self.submit_fraud_proof(item, false).map(|_| ()),
            _ => return GossipVerdict::Reject,
        };
        match outcome {
            Ok(()) => GossipVerdict::Accept,
            Err(ItemSubmitError::Invalid(e)) => {
                tracing::debug!(error = %e, "invalid state item in gossip");
                GossipVerdict::Reject
            }
            Err(e) => {
                tracing::debug!(error = %e, "state item from gossip not taken");
                GossipVerdict::Ignore
            }
        }
    }

    fn status(&self) -> serde_json::Value {
        crate::rpc::state_json(self)
    }

    fn rpc_methods(self: Arc<Self>) -> Result<jsonrpsee::Methods, ExtensionError> {
        Ok(crate::rpc::module(self)?.into())
    }
}

/// The ids of the claims and fraud proofs a block carries.
fn item_ids(block: &Block) -> (Vec<ClaimId>, Vec<[u8; 32]>) {
    let claims = block
        .body
        .claims
        .iter()
        .filter_map(|raw| ClaimItem::decode(raw.as_ref()).ok().map(|c| c.id()))
        .collect();
    let proofs = block
        .body
        .fraud_proofs
        .iter()
        .filter_map(|raw| FraudItem::decode(raw.as_ref()).ok())
        .filter(|f| f.decode_proof().is_ok())
        .map(|f| lazychain_fraud::proof_id(&f.proof))
        .collect();
    (claims, proofs)
}

#[cfg(test)]
mod tests {
    use alloy_primitives::Address;
    use lazychain_config::{
        dev_execution, BlockLimits, GenesisExecutor, GenesisValidator, StateGenesis,
    };
    use lazychain_data_chain_node::state_service::{GossipVerdict, StateService};
    use malachitebft_signing_ed25519::PrivateKey;

    use super::*;

    fn genesis() -> Genesis {
        Genesis {
            chain_id: 4242,
            genesis_time_ms: 1_700_000_000_000,
            validators: vec![GenesisValidator {
                name: "v".into(),
                public_key: *PrivateKey::from([9; 32]).public_key().as_bytes(),
                voting_power: 1,
                fee_recipient: Address::repeat_byte(0xfe),
            }],
            limits: BlockLimits {
                gas_per_second: 0,
                ..BlockLimits::default()
            },
            execution: dev_execution(0),
            state: StateGenesis {
                challenge_window_ms: 3_000,
                min_window_blocks: 3,
                max_executor_stall_ms: 1,
                min_corroboration: 1,
                slash_reward_percent: 50,
                executors: vec![GenesisExecutor {
                    name: "e".into(),
                    public_key: *PrivateKey::from([7; 32]).public_key().as_bytes(),
                    bond: 1_000,
                }],
            },
        }
    }

    /// Until its node attaches it, the service has nothing to propose and says why it cannot
    /// follow the chain, rather than reading a store it does not have.
    #[test]
    fn before_its_node_attaches_it_proposes_nothing_and_cannot_follow() {
        let node = StateNode::new(&genesis()).expect("genesis");
        assert_eq!(
            StateService::select_items(&node, 1, 1 << 20),
            (Vec::new(), Vec::new())
        );
        assert!(matches!(node.follow_state(), Err(FollowError::NotStarted)));
        assert!(node.follow().is_err());
        assert_eq!(node.decided_height(), 0);
        assert!(node.header_at(1).is_none());
    }

    /// Gossip that is not a well-formed item is not forwarded, and counts against its sender.
    #[test]
    fn gossip_that_is_not_an_item_is_rejected() {
        let node = StateNode::new(&genesis()).expect("genesis");
        assert_eq!(node.receive_gossip(&[]), GossipVerdict::Reject);
        assert_eq!(node.receive_gossip(&[0xee, 1, 2, 3]), GossipVerdict::Reject);
        assert_eq!(
            node.receive_gossip(&[GOSSIP_CLAIM, 1, 2, 3]),
            GossipVerdict::Reject
        );
        assert_eq!(
            node.receive_gossip(&[GOSSIP_FRAUD_PROOF, 1, 2, 3]),
            GossipVerdict::Reject
        );
    }
}
