//! The node's view of state consensus: it feeds the claims and fraud proofs of every decided
//! block, in height order, to [`lazychain_fraud::StateConsensus`], verifying each fraud proof
//! with the pure verifier first (re-executing one transaction over its witness; no state is
//! read). Every node runs it — validators, full nodes and executors — so every node knows which
//! claims are pending, final or reverted, and the bond ledger.
//!
//! It also keeps the alarms: fraud proofs this node verified from gossip or RPC before any
//! block included them. An alarm marks the target and its descendants reverted in this node's
//! answers at once; canonical effect comes only with inclusion.
//!
//! The state is in memory and rebuilt at start by replaying the decided blocks. It is bounded:
//! state consensus forgets settled heights more than
//! [`lazychain_fraud::RETAINED_FINAL_HEIGHTS`] below the finalized height (its rule 7), and
//! this follower drops its log entries and proof records about those heights with it.

use std::collections::{BTreeMap, BTreeSet};

use alloy_primitives::B256;
use lazychain_chainspec::Genesis;
use lazychain_data_chain_types::{Block, BlockHeader};
use lazychain_fraud::ChainParams;
use lazychain_fraud::{
    proof_id, verify, ApplyError, ClaimId, ClaimItem, ClaimStatus, Dispute, ExecutorRegistry,
    FraudItem, FraudProof, Inclusion, Outcome, SignedClaim, StateConsensus, StateParams, Verdict,
};
use tokio::sync::broadcast;
use tracing::{error, info, warn};

/// Alarms kept at most (each is a verified proof awaiting inclusion).
const MAX_ALARMS: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("genesis: {0}")]
    Genesis(String),
    #[error(transparent)]
    Apply(#[from] ApplyError),
}

/// Why a submitted fraud proof is refused.
#[derive(Debug, thiserror::Error)]
pub enum ProofRefused {
    #[error("{0}")]
    Invalid(String),
    #[error("unknown target claim {0}: it is not (yet) in a decided block, or its height is pruned (settled heights far below the finalized height are forgotten)")]
    UnknownTarget(ClaimId),
    #[error("target claim {id} is {status}: only a pending claim can be proven fraudulent")]
    NotPending { id: ClaimId, status: &'static str },
    #[error("the proof does not prove fraud: re-execution agrees with the claim")]
    Refuted,
    #[error("decided header {0} is missing")]
    MissingHeader(u64),
}

/// A fraud proof found in a decided block, and what state consensus did with it.
#[derive(Clone, Debug)]
pub struct ProofRecord {
    pub included_at: u64,
    pub index: usize,
    pub proof_id: [u8; 32],
    pub kind: &'static str,
    pub bytes: usize,
    pub target: Option<ClaimId>,
    pub target_height: Option<u64>,
    pub submitter: [u8; 20],
    /// `accepted`, or why it changed nothing.
    pub outcome: String,
}

/// A claim recorded by state consensus, in recording order (for watchers).
#[derive(Clone, Copy, Debug)]
pub struct RecordedClaim {
    pub id: ClaimId,
    pub data_height: u64,
    pub included_at: u64,
}

/// A claim that became reverted on this node (by an included proof, or an alarm).
#[derive(Clone, Debug)]
pub struct RevertedEvent {
    pub claim: ClaimId,
    pub data_height: u64,
    /// The block that reverted it; `None` for an alarm (not yet included).
    pub at: Option<u64>,
    /// The safe root at that height once it is reverted, if some claim provides one.
    pub replacement_root: Option<B256>,
    pub reason: String,
}

/// The claims state consensus recorded, in recording order, at positions that count every claim
/// ever recorded: entries for pruned heights leave from the front, positions stay.
#[derive(Debug, Default)]
struct ClaimLog {
    /// The entries from position `start` on.
    entries: Vec<RecordedClaim>,
    start: usize,
}

impl ClaimLog {
    /// The entries from position `from` (from the first kept one if `from` is older).
    fn since(&self, from: usize) -> &[RecordedClaim] {
        self.entries
            .get(from.saturating_sub(self.start)..)
            .unwrap_or(&[])
    }

    /// The position after the last entry.
    fn end(&self) -> usize {
        self.start + self.entries.len()
    }

    /// Drops the leading entries for heights up to `pruned_through`, once they are half the
    /// log, so that the copy this costs is amortized constant per entry.
    fn prune_through(&mut self, pruned_through: u64) {
        let prunable = self
            .entries
            .iter()
            .take_while(|r| r.data_height <= pruned_through)
            .count();
        if prunable > 0 && prunable * 2 >= self.entries.len() {
            self.entries.drain(..prunable);
            self.start += prunable;
        }
    }
}

pub struct StateFollower {
    consensus: StateConsensus,
    params: ChainParams,
    proofs: Vec<ProofRecord>,
    alarms: BTreeMap<ClaimId, [u8; 32]>,
    log: ClaimLog,
    reverted: broadcast::Sender<RevertedEvent>,
    /// Unresolved disputes holding finality back, as of the last applied block.
    disputes: Vec<Dispute>,
}

impl StateFollower {
    pub fn new(genesis: &Genesis) -> Result<Self, StateError> {
        let params = lazychain_fraud::chain_params(genesis)
            .map_err(|e| StateError::Genesis(e.to_string()))?;
        let registry = ExecutorRegistry::from_genesis(&genesis.state)
            .map_err(|e| StateError::Genesis(e.to_string()))?;
        let state_params = StateParams::from_genesis(genesis);
        if genesis.limits.gas_per_second == 0 {
            warn!(
                challenge_window_ms = state_params.challenge_window_ms,
                min_window_blocks = state_params.min_window_blocks,
                "UNSAFE: no execution budget (genesis limits.gas_per_second is 0): nothing bounds how far an honest executor can fall behind the chain, so the challenge window may close before anyone can prove a lie and a wrong state root may become final"
            );
        }
        let consensus = StateConsensus::new(
            lazychain_fraud::genesis_state_root(genesis),
            &state_params,
            registry,
        )?;
        let (reverted, _) = broadcast::channel(1024);
        Ok(Self {
            consensus,
            params,
            proofs: Vec::new(),
            alarms: BTreeMap::new(),
            log: ClaimLog::default(),
            reverted,
            disputes: Vec::new(),
        })
    }

    pub fn consensus(&self) -> &StateConsensus {
        &self.consensus
    }

    /// Disputes that hold state finality back (claims past their window that disagree about
    /// one state and that no proof has settled yet), as of the last applied block.
    pub fn disputes(&self) -> &[Dispute] {
        &self.disputes
    }

    pub fn params(&self) -> &ChainParams {
        &self.params
    }

    pub fn registry(&self) -> &ExecutorRegistry {
        self.consensus.registry()
    }

    pub fn applied_height(&self) -> u64 {
        self.consensus.applied_height()
    }

    pub fn subscribe_reverted(&self) -> broadcast::Receiver<RevertedEvent> {
        self.reverted.subscribe()
    }

    /// Claims recorded so far, in recording order, from position `from` (positions count
    /// every claim ever recorded; claims for pruned heights are no longer listed, so this
    /// starts at [`Self::recorded_start`] if `from` is below it). Continue from
    /// [`Self::recorded_end`].
    pub fn recorded_since(&self, from: usize) -> &[RecordedClaim] {
        self.log.since(from)
    }

    /// The log position of the oldest claim still listed.
    pub fn recorded_start(&self) -> usize {
        self.log.start
    }

    /// The log position after the last recorded claim.
    pub fn recorded_end(&self) -> usize {
        self.log.end()
    }

    /// Drops log entries and proof records about heights state consensus has pruned (rule 7),
    /// in amortized constant time: the log is only compacted once half of it is prunable.
    fn prune(&mut self) {
        let pruned_through = self.consensus.pruned_through();
        self.log.prune_through(pruned_through);
        let old_proofs = self
            .proofs
            .iter()
            .take_while(|p| p.included_at <= pruned_through)
            .count();
        if old_proofs > 0 && old_proofs * 2 >= self.proofs.len() {
            self.proofs.drain(..old_proofs);
        }
    }

    /// Fraud proofs included in blocks `from..=to` (those included at or below the pruned
    /// height are no longer kept).
    pub fn proofs_between(&self, from: u64, to: u64) -> Vec<ProofRecord> {
        self.proofs
            .iter()
            .filter(|p| p.included_at >= from && p.included_at <= to)
            .cloned()
            .collect()
    }

    /// The status of a claim as this node answers it: state consensus, unless an alarm (a
    /// verified proof not yet included) reverts it or an ancestor locally.
    pub fn local_status(&self, id: &ClaimId) -> Option<(ClaimStatus, bool)> {
        let status = self.consensus.status(id)?;
        Some((status, status.is_pending() && self.alarmed(id)))
    }

    /// Whether an alarm hits this claim or one of its ancestors.
    fn alarmed(&self, id: &ClaimId) -> bool {
        if self.alarms.is_empty() {
            return false;
        }
        let mut at = *id;
        while let Some(view) = self.consensus.claim(&at) {
            if self.alarms.contains_key(&at) {
                return true;
            }
            at = view.claim.claim.parent();
        }
        false
    }

    /// The highest height with a safe root, skipping claims under an alarm.
    pub fn latest_safe_height(&self) -> u64 {
        let mut h = self.consensus.latest_safe_height();
        while h > self.consensus.latest_final_height() {
            match self.consensus.safe_claim(h) {
                Some(id) if self.alarmed(&id) => h -= 1,
                _ => break,
            }
        }
        h
    }

    /// Checks a fraud proof against the claim it targets, as recorded here: decodes it,
    /// requires a pending target, and verifies it. Returns the target and the proof id.
    pub fn check_proof(
        &self,
        item: &FraudItem,
        header_at: &dyn Fn(u64) -> Option<BlockHeader>,
        hash_at: &dyn Fn(u64) -> Option<[u8; 32]>,
    ) -> Result<(ClaimId, [u8; 32]), ProofRefused> {
        let proof = item
            .decode_proof()
            .map_err(|e| ProofRefused::Invalid(e.to_string()))?;
        self.check_decoded(&proof, &item.proof, &[], header_at, hash_at)
    }

    /// [`Self::check_proof`] of a decoded proof (`proof_bytes` its encoding), where the target
    /// may also be one of `same_block`: claims included before the proof in the block being
    /// applied.
    fn check_decoded(
        &self,
        proof: &FraudProof,
        proof_bytes: &[u8],
        same_block: &[SignedClaim],
        header_at: &dyn Fn(u64) -> Option<BlockHeader>,
        hash_at: &dyn Fn(u64) -> Option<[u8; 32]>,
    ) -> Result<(ClaimId, [u8; 32]), ProofRefused> {
        if let FraudProof::Equivocation(e) = proof {
            // Evidence against whoever signed both claims, recorded or not: the checks are
            // state consensus's own, for the next block.
            let next = self.consensus.applied_height().saturating_add(1);
            self.consensus
                .check_equivocation(next, &e.a, &e.b)
                .map_err(|r| ProofRefused::Invalid(format!("not equivocation evidence: {r}")))?;
            return Ok((e.a.id(), proof_id(proof_bytes)));
        }
        let target = proof.target();
        let claim = match self.consensus.claim(&target) {
            Some(view) if view.status.is_pending() => &view.claim.claim,
            Some(view) => {
                return Err(ProofRefused::NotPending {
                    id: target,
                    status: view.status.name(),
                })
            }
            None => match same_block.iter().find(|c| c.id() == target) {
                Some(c) => &c.claim,
                None => return Err(ProofRefused::UnknownTarget(target)),
            },
        };
        let height = claim.data_height;
        let header = header_at(height).ok_or(ProofRefused::MissingHeader(height))?;
        match verify(proof, claim, &header, &self.params, hash_at) {
            Ok(Verdict::Proven) => Ok((target, proof_id(proof_bytes))),
            Ok(Verdict::Refuted) => Err(ProofRefused::Refuted),
            Err(e) => Err(ProofRefused::Invalid(e.to_string())),
        }
    }

    /// Raises an alarm for a verified proof (see the module docs). Returns false if the
    /// target already had one.
    pub fn raise_alarm(&mut self, target: ClaimId, proof_id: [u8; 32]) -> bool {
        if self.alarms.contains_key(&target) || self.alarms.len() >= MAX_ALARMS {
            return false;
        }
        self.alarms.insert(target, proof_id);
        let data_height = self
            .consensus
            .claim(&target)
            .map(|v| v.claim.claim.data_height)
            .unwrap_or(0);
        warn!(claim = %target, data_height, "fraud proof verified: claim reverted locally until a block includes the proof");
        let _ = self.reverted.send(RevertedEvent {
            claim: target,
            data_height,
            at: None,
            replacement_root: self.replacement_root(data_height),
            reason: "alarm: verified fraud proof, not yet included".to_owned(),
        });
        true
    }

    fn replacement_root(&self, height: u64) -> Option<B256> {
        let id = self.consensus.safe_claim(height)?;
        if self.alarmed(&id) {
            return None;
        }
        self.consensus.safe_root(height)
    }

    /// Applies the items of decided block `block` (which must be the next height): decodes
    /// claims, verifies fraud proofs against the claims recorded so far (and those earlier in
    /// the block), and runs state consensus. Items that do not decode are skipped (a correct
    /// validator never includes them); a proof that does not verify is recorded as rejected.
    pub fn apply_block(
        &mut self,
        block: &Block,
        header_at: &dyn Fn(u64) -> Option<BlockHeader>,
        hash_at: &dyn Fn(u64) -> Option<[u8; 32]>,
    ) -> Result<Vec<Outcome>, StateError> {
        let height = block.header.height;
        let mut claims = Vec::new();
        for raw in block.body.claims.iter() {
            match ClaimItem::decode(raw.as_ref()) {
                Ok(item) => claims.push(item.signed),
                Err(e) => warn!(height, error = %e, "undecodable claim item in a decided block"),
            }
        }
        let mut records = Vec::new();
        let mut frauds = Vec::new();
        // Equivocation evidence goes to state consensus unchecked (it checks it itself); its
        // outcome is matched back to its record by position.
        let mut evidence_records = Vec::new();
        for (index, raw) in block.body.fraud_proofs.iter().enumerate() {
            let mut record = ProofRecord {
                included_at: height,
                index,
                proof_id: [0; 32],
                kind: "unknown",
                bytes: raw.len(),
                target: None,
                target_height: None,
                submitter: [0; 20],
                outcome: String::new(),
            };
            let item = match FraudItem::decode(raw.as_ref()) {
                Ok(item) => item,
                Err(e) => {
                    record.outcome = format!("rejected: {e}");
                    records.push(record);
                    continue;
                }
            };
            record.submitter = item.submitter;
            let proof = match item.decode_proof() {
                Ok(proof) => proof,
                Err(e) => {
                    record.outcome = format!("rejected: {e}");
                    records.push(record);
                    continue;
                }
            };
            record.kind = proof.kind_name();
            record.proof_id = proof_id(&item.proof);
            if let FraudProof::Equivocation(e) = proof {
                record.target = Some(e.a.id());
                record.target_height = Some(e.a.claim.data_height);
                evidence_records.push((frauds.len(), records.len()));
                frauds.push(Inclusion::Equivocation {
                    a: e.a,
                    b: e.b,
                    submitter: item.submitter,
                });
                records.push(record);
                continue;
            }
            let target = proof.target();
            record.target = Some(target);
            record.target_height = self
                .consensus
                .claim(&target)
                .map(|v| v.claim.claim.data_height)
                .or_else(|| {
                    claims
                        .iter()
                        .find(|c| c.id() == target)
                        .map(|c| c.claim.data_height)
                });
            match self.check_decoded(&proof, &item.proof, &claims, header_at, hash_at) {
                Ok((target, proof_id)) => frauds.push(Inclusion::Fraud {
                    target,
                    submitter: item.submitter,
                    proof_id,
                }),
                Err(e) => record.outcome = format!("rejected: {e}"),
            }
            records.push(record);
        }
        let claim_count = claims.len();
        let items: Vec<Inclusion> = claims
            .into_iter()
            .map(Inclusion::Claim)
            .chain(frauds)
            .collect();
        let outcomes = self.consensus.apply_block(
            height,
            block.header.timestamp_ms,
            block.header.tx_count,
            &items,
        )?;
        for (fraud_index, record_index) in evidence_records {
            let outcome = match outcomes.get(claim_count + fraud_index) {
                Some(Outcome::Equivocation { .. }) => "accepted".to_owned(),
                Some(Outcome::EquivocationRejected { reason }) => format!("rejected: {reason}"),
                _ => continue,
            };
            if let Some(record) = records.get_mut(record_index) {
                record.outcome = outcome;
            }
        }
        self.after_apply(height, &outcomes, records);
        Ok(outcomes)
    }

    fn after_apply(&mut self, height: u64, outcomes: &[Outcome], mut proofs: Vec<ProofRecord>) {
        let mut reverted_now: BTreeSet<ClaimId> = BTreeSet::new();
        for outcome in outcomes {
            match outcome {
                Outcome::Recorded { id, status } => {
                    if let Some(view) = self.consensus.claim(id) {
                        self.log.entries.push(RecordedClaim {
                            id: *id,
                            data_height: view.claim.claim.data_height,
                            included_at: height,
                        });
                    }
                    if status.is_reverted() {
                        reverted_now.insert(*id);
                    }
                }
                Outcome::FraudAccepted {
                    target,
                    proof_id,
                    reverted,
                    slash,
                } => {
                    info!(height, claim = %target, reverted = reverted.len(), slashed = slash.amount, executor = %hex::encode(slash.executor), "fraud proof accepted: claim and descendants reverted");
                    reverted_now.extend(reverted.iter().copied());
                    self.alarms.remove(target);
                    if let Some(r) = proofs.iter_mut().find(|r| r.proof_id == *proof_id) {
                        r.outcome = "accepted".to_owned();
                    }
                }
                Outcome::FraudRejected {
                    proof_id, reason, ..
                } => {
                    if let Some(r) = proofs.iter_mut().find(|r| r.proof_id == *proof_id) {
                        r.outcome = format!("rejected: {reason}");
                    }
                }
                Outcome::Equivocation {
                    executor, reverted, ..
                } => {
                    warn!(height, executor = %hex::encode(executor), reverted = reverted.len(), "equivocation: executor slashed");
                    reverted_now.extend(reverted.iter().copied());
                }
                Outcome::ClaimIgnored { id, reason } => {
                    warn!(height, claim = %id, %reason, "claim ignored by state consensus");
                }
                Outcome::EquivocationRejected { .. } => {}
            }
        }
        self.proofs.extend(proofs);
        self.proofs.sort_by_key(|p| (p.included_at, p.index));
        self.prune();
        self.track_disputes(height);
        // Alarms whose target is no longer pending (final, or reverted by inclusion) are done.
        let consensus = &self.consensus;
        self.alarms
            .retain(|id, _| consensus.status(id).is_some_and(|s| s.is_pending()));
        for id in reverted_now {
            let Some(view) = self.consensus.claim(&id) else {
                continue;
            };
            let data_height = view.claim.claim.data_height;
            let reason = match view.status {
                ClaimStatus::Reverted { reason, .. } => format!("{reason:?}"),
                _ => String::new(),
            };
            let _ = self.reverted.send(RevertedEvent {
                claim: id,
                data_height,
                at: Some(height),
                replacement_root: self.replacement_root(data_height),
                reason,
            });
        }
    }

    /// Logs, once each, a dispute that starts holding finality back (state finality stops
    /// there until a fraud proof settles it) and its end.
    fn track_disputes(&mut self, height: u64) {
        let now = self.consensus.disputes();
        let key = |d: &Dispute| (d.data_height, d.pre_state_root);
        for d in &now {
            if !self.disputes.iter().any(|old| key(old) == key(d)) {
                let claims: Vec<String> = d.claims.iter().map(|c| c.to_string()).collect();
                error!(height, data_height = d.data_height, pre_state_root = %d.pre_state_root, claims = ?claims, "UNRESOLVED DISPUTE: claims that disagree about one state are past their challenge window and no fraud proof has settled them; state finality stops at this height until one does");
            }
        }
        for old in &self.disputes {
            if !now.iter().any(|d| key(d) == key(old)) {
                info!(
                    height,
                    data_height = old.data_height,
                    "dispute settled: state finality resumes"
                );
            }
        }
        self.disputes = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(data_height: u64) -> RecordedClaim {
        RecordedClaim {
            id: ClaimId([data_height as u8; 32]),
            data_height,
            included_at: data_height + 1,
        }
    }

    #[test]
    fn the_claim_log_keeps_its_positions_when_pruned() {
        let mut log = ClaimLog::default();
        log.entries.extend((1..=10).map(entry));
        // Fewer than half prunable: kept for now.
        log.prune_through(4);
        assert_eq!((log.start, log.end()), (0, 10));
        log.prune_through(6);
        assert_eq!((log.start, log.end()), (6, 10));
        assert_eq!(
            log.since(0)[0].data_height,
            7,
            "an old cursor starts at the first kept"
        );
        assert_eq!(log.since(8).len(), 2);
        assert!(log.since(10).is_empty() && log.since(99).is_empty());
        // A reader that continues from `end` sees each entry once.
        let mut cursor = 3;
        let mut seen = log.since(cursor).len();
        cursor = log.end();
        log.entries.push(entry(11));
        seen += log.since(cursor).len();
        assert_eq!(seen, 5);
        // Recording order is kept: a late claim for an old height waits behind newer ones.
        log.entries.push(entry(2));
        log.prune_through(10);
        assert_eq!(log.start, 10);
        let heights: Vec<u64> = log.since(0).iter().map(|r| r.data_height).collect();
        assert_eq!(heights, vec![11, 2]);
    }
}
