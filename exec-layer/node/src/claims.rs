//! The executor's part in state consensus: it signs a claim for every height it executes and
//! posts it (with its trace) to its node's item pool and the state gossip topic, re-posting
//! until a block includes it; and it watches every other executor's claims, and when one
//! disagrees with its own trace, it proves it: it finds the first differing trace entry, asks
//! the execution thread for that transaction's witness, builds the single-transaction fraud
//! proof and submits it (verified locally, pooled, gossiped).
//!
//! The watcher never gives up on a claim it disagrees with: a dispute stays open until the
//! claim (or this executor's own claim for that height) is reverted. A proof that cannot be
//! built is retried with backoff and logged at ERROR with the claim id every time; a proof
//! submitted but not included is submitted again; open disputes are counted in `/metrics`
//! and listed in `lazy_status` (`claims.disputes`). A disputed claim that becomes final is a
//! safety alarm: logged at ERROR and counted.
//!
//! `--fault wrong-root-at=H` makes this executor lie on purpose, for tests and demos: from the
//! first height at or above `H` that has transactions, every root it claims is corrupted, and
//! it keeps building on the corrupted chain.

use std::collections::{BTreeMap, VecDeque};
use std::str::FromStr;
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy_primitives::B256;
use lazychain_data_chain_node::shared::{NodeShared, NodeStatus};
use lazychain_data_chain_types::BlockHeader;
use lazychain_fraud::{
    build_bad_transition, executor_address, ClaimId, ClaimItem, FraudItem, ProofError, SignedClaim,
    StateClaim, GENESIS_PARENT,
};
use lazychain_fraud_node::{ItemSubmitError, RecordedClaim, StateFollower, StateNode};
use malachitebft_signing_ed25519::PrivateKey;
use sha2::{Digest, Sha256};
use tracing::{debug, error, info, warn};

use crate::direct::DirectSubmitter;
use crate::executor::{DisputeView, ExecShared, ExecutorError, OwnClaims, WitnessRequest};
use crate::metrics::ExecMetrics;
use crate::store::StoreError;

/// Why this executor could not build its claim for a height.
#[derive(Debug, thiserror::Error)]
enum BuildError {
    /// The racing liar's node has not stored the decided header it claims for.
    #[error("no decided header {height}")]
    NoHeader { height: u64 },
    #[error(transparent)]
    State(#[from] StoreError),
    #[error("no executed block {height}")]
    NotExecuted { height: u64 },
    #[error("no trace for height {height}")]
    NoTrace { height: u64 },
}

/// Why the watcher could not compare another executor's claim with its own execution.
#[derive(Debug, thiserror::Error)]
enum CheckError {
    #[error(transparent)]
    State(#[from] StoreError),
    #[error("height {height} is not executed here")]
    NotExecuted { height: u64 },
    /// The node's block store could not be read.
    #[error(transparent)]
    Blocks(#[from] lazychain_data_chain_node::store::StoreError),
    /// The block that recorded the claim is not in the node's store.
    #[error("decided block {height} is missing")]
    BlockMissing { height: u64 },
    /// The block that recorded the claim does not carry it.
    #[error("claim {id} is not in block {height}")]
    NotInBlock { id: ClaimId, height: u64 },
}

/// Why a fraud proof could not be built or submitted (the dispute is retried).
#[derive(Debug, thiserror::Error)]
enum ProveError {
    #[error("the execution thread is gone")]
    ExecutorGone,
    #[error("the execution thread dropped the request")]
    RequestDropped,
    /// The execution thread could not produce the witness.
    #[error(transparent)]
    Witness(#[from] ExecutorError),
    #[error(transparent)]
    Build(#[from] ProofError),
    /// The node refused the proof.
    #[error(transparent)]
    Submit(ItemSubmitError),
    /// The blocking task building the proof failed.
    #[error(transparent)]
    Task(#[from] tokio::task::JoinError),
    /// `--fault fail-proofs`: an attempt failed on purpose.
    #[error("FAULT INJECTION: proof attempt failed on purpose")]
    FaultInjected,
}

/// How often the claims task looks for new executed heights, inclusions and claims to check.
const TICK: Duration = Duration::from_millis(200);
/// A posted claim not yet included is posted again after this long (it may have been dropped).
const REPOST_AFTER: Duration = Duration::from_secs(3);
/// A re-post is logged at INFO (not DEBUG) once at least this many blocks were decided since
/// the claim was last sent without recording it: it was most likely lost on the way, rather
/// than waiting for the next block of an idle chain.
const REPOST_LOUD_AFTER_BLOCKS: u64 = 3;
/// A failed proof is tried again after this long, doubling per failure up to the maximum.
const PROVE_RETRY: Duration = Duration::from_secs(1);
const PROVE_RETRY_MAX: Duration = Duration::from_secs(30);
/// A submitted proof whose target is still pending after this long is submitted again (a
/// pool may have dropped it).
const RESUBMIT_AFTER: Duration = Duration::from_secs(5);
/// A racing liar claims only once its node's latest decided block is at most this old.
const RACE_TIP_AGE_MS: u64 = 3_000;
/// Open disputes listed in `lazy_status` at most (the count is exact).
const DISPUTES_SHOWN: usize = 16;

/// A deliberate fault, for tests and demos only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Claim corrupted roots from the first height >= this one that has transactions.
    WrongRootAt(u64),
    /// The first this-many attempts to build a fraud proof fail on purpose (the watcher's
    /// retries are what is under test).
    FailProofs(u32),
    /// A racing liar: claim made-up roots for every decided height as soon as it is decided,
    /// without executing anything (what the execution budget and the challenge window in time
    /// must defeat).
    Race,
    /// A hostile executor that, besides its own claims, floods the pools with claims whose
    /// parents nobody knows ([`FLOOD_PER_TICK`] each tick, for decided heights): what the
    /// item pool's orphan hold and per-executor share must absorb.
    FloodOrphans,
}

/// Orphan claims a `--fault flood-orphans` executor posts per tick.
const FLOOD_PER_TICK: u64 = 100;
/// Orphan claims flooded so far (each one distinct).
static FLOOD_COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl FromStr for Fault {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "race" {
            return Ok(Fault::Race);
        }
        if s == "flood-orphans" {
            return Ok(Fault::FloodOrphans);
        }
        let (name, value) = s.split_once('=').ok_or_else(|| {
            format!(
                "expected wrong-root-at=HEIGHT, fail-proofs=COUNT, race or flood-orphans, got {s:?}"
            )
        })?;
        match name {
            "wrong-root-at" => {
                let height: u64 = value
                    .parse()
                    .map_err(|e| format!("wrong-root-at: bad height {value:?}: {e}"))?;
                if height == 0 {
                    return Err("wrong-root-at: height 0 is the genesis state".to_owned());
                }
                Ok(Fault::WrongRootAt(height))
            }
            "fail-proofs" => value
                .parse()
                .map(Fault::FailProofs)
                .map_err(|e| format!("fail-proofs: bad count {value:?}: {e}")),
            other => Err(format!(
                "unknown fault {other:?} (known: wrong-root-at=HEIGHT, fail-proofs=COUNT, race, flood-orphans)"
            )),
        }
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::WrongRootAt(h) => write!(f, "wrong-root-at={h}"),
            Fault::FailProofs(n) => write!(f, "fail-proofs={n}"),
            Fault::Race => write!(f, "race"),
            Fault::FloodOrphans => write!(f, "flood-orphans"),
        }
    }
}

/// Whether a fault makes this executor post wrong roots.
fn lies(fault: Option<Fault>) -> bool {
    matches!(fault, Some(Fault::WrongRootAt(_) | Fault::Race))
}

/// The root a faulty executor claims instead of `root`.
fn corrupt(root: B256) -> B256 {
    let mut h = Sha256::new();
    h.update(b"LAZYCHAIN_FAULT_INJECTION");
    h.update(root);
    B256::from(<[u8; 32]>::from(h.finalize()))
}

struct Posted {
    id: ClaimId,
    /// The claim it builds on.
    parent: ClaimId,
    bytes: Vec<u8>,
    sent: Instant,
    /// The node's latest decided height when the claim was last sent.
    sent_at_height: u64,
    reposts: u32,
}

/// Signs, posts and re-posts this executor's claims.
struct Publisher {
    key: PrivateKey,
    address: [u8; 20],
    chain_id: u64,
    fault: Option<Fault>,
    next_height: u64,
    parent: ClaimId,
    parent_post: B256,
    corrupting: bool,
    posted: BTreeMap<u64, Posted>,
    slashed: bool,
    metrics: Option<ExecMetrics>,
    /// The canonical claim this executor last re-parented onto: never twice onto the same
    /// one (that would rebuild the same claims every tick).
    reparented_onto: Option<ClaimId>,
    /// A broken chain that could not be healed yet was logged (once per broken parent).
    heal_blocked: Option<ClaimId>,
    /// Late claims (height, id, item bytes) to submit to validators directly, taken by the
    /// claims task after each tick.
    direct: Vec<(u64, ClaimId, Vec<u8>)>,
}

impl Publisher {
    /// Resumes after the last of this executor's claims that state consensus recorded and did
    /// not revert: a restarted executor whose claims were proven wrong recomputes from its last
    /// valid root. With a fault still configured, it resumes its own (corrupted) chain.
    fn resume(
        key: PrivateKey,
        fault: Option<Fault>,
        exec: &ExecShared,
        node: &NodeView,
        metrics: Option<ExecMetrics>,
    ) -> Self {
        let address = executor_address(key.public_key().as_bytes());
        let state = node.state();
        let consensus = state.consensus();
        let last_own = state
            .recorded_since(0)
            .iter()
            .filter_map(|r| consensus.claim(&r.id))
            .filter(|v| v.claim.claim.executor == address)
            .filter(|v| lies(fault) || !v.status.is_reverted())
            .max_by_key(|v| v.claim.claim.data_height)
            .map(|v| {
                (
                    v.id,
                    v.claim.claim.data_height,
                    B256::from(v.claim.claim.post_state_root),
                )
            });
        // A racing liar with no chain of its own builds on the highest claim anyone has
        // recorded: it joins at the tip and races ahead of whoever is executing.
        let start = match (last_own, fault) {
            (None, Some(Fault::Race)) => state
                .recorded_since(0)
                .iter()
                .filter_map(|r| consensus.claim(&r.id))
                .filter(|v| !v.status.is_reverted())
                .max_by_key(|v| v.claim.claim.data_height)
                .map(|v| {
                    (
                        v.id,
                        v.claim.claim.data_height,
                        B256::from(v.claim.claim.post_state_root),
                    )
                }),
            (own, _) => own,
        };
        let (next_height, parent, parent_post) = match start {
            Some((id, height, post)) => (height + 1, id, post),
            None => (1, GENESIS_PARENT, consensus.genesis_root()),
        };
        let own_root = exec
            .state
            .executed_block(next_height - 1)
            .ok()
            .flatten()
            .map(|b| b.state_root);
        Publisher {
            key,
            address,
            chain_id: exec.params.chain_id,
            fault,
            next_height,
            parent,
            parent_post,
            corrupting: own_root.is_some_and(|r| r != parent_post),
            posted: BTreeMap::new(),
            slashed: false,
            metrics,
            reparented_onto: None,
            heal_blocked: None,
            direct: Vec::new(),
        }
    }

    /// The racing liar's claim for decided height `height`: roots made up without executing;
    /// `None` for a block without transactions (it takes no claim).
    fn build_racing(
        &mut self,
        node: &NodeView,
        height: u64,
    ) -> Result<Option<ClaimItem>, BuildError> {
        let header = node
            .header_at(height)
            .ok_or(BuildError::NoHeader { height })?;
        if header.tx_count == 0 {
            return Ok(None);
        }
        let address = self.address;
        let made_up = |i: u64| {
            let mut seed = [0u8; 36];
            seed[..8].copy_from_slice(&height.to_be_bytes());
            seed[8..16].copy_from_slice(&i.to_be_bytes());
            seed[16..36].copy_from_slice(&address);
            corrupt(B256::from(<[u8; 32]>::from(Sha256::digest(seed))))
        };
        let trace: Vec<B256> = (0..header.tx_count).map(made_up).collect();
        let pre = self.parent_post;
        let post = trace.last().copied().unwrap_or(pre);
        Ok(Some(self.sign_next(
            height,
            (pre, post),
            trace,
            made_up(u64::MAX),
            header.tx_count,
        )))
    }

    /// Signs the claim for `height` on this executor's chain (parent: its previous claim)
    /// and makes it the chain's new tip.
    fn sign_next(
        &mut self,
        height: u64,
        (pre, post): (B256, B256),
        trace: Vec<B256>,
        receipts_root: B256,
        tx_count: u64,
    ) -> ClaimItem {
        let mut item = ClaimItem {
            signed: SignedClaim::default(),
            trace,
        };
        let claim = StateClaim {
            chain_id: self.chain_id,
            data_height: height,
            parent_claim: self.parent.0,
            pre_state_root: pre.0,
            post_state_root: post.0,
            trace_root: item.computed_trace_root().0,
            receipts_root: receipts_root.0,
            tx_count,
            executor: self.address,
        };
        item.signed = SignedClaim::sign(claim, &self.key);
        self.parent = item.id();
        self.parent_post = post;
        item
    }

    /// The racing liar skips heights another executor already claimed (it joined late, or
    /// its node was still syncing when it started): it races ahead of the recorded tip.
    fn join_at_tip(&mut self, node: &NodeView) {
        let state = node.state();
        let consensus = state.consensus();
        let mut joined = None;
        let mut height = self.next_height;
        loop {
            // Heights without transactions take no claim: look past them.
            if height <= consensus.applied_height() && !consensus.has_transactions(height) {
                height += 1;
                continue;
            }
            let other = consensus
                .claims_at(height)
                .into_iter()
                .rfind(|(_, c, status)| !status.is_reverted() && c.claim.executor != self.address);
            match other {
                Some((id, c, _)) => {
                    joined = Some((id, height, B256::from(c.claim.post_state_root)));
                    height += 1;
                }
                None => break,
            }
        }
        if let Some((id, height, post)) = joined {
            self.parent = id;
            self.parent_post = post;
            self.next_height = height + 1;
        }
    }

    /// The claim item for executed height `height`, continuing this executor's chain; `None`
    /// for a block without transactions (its state is its parent's: it takes no claim).
    fn build(&mut self, exec: &ExecShared, height: u64) -> Result<Option<ClaimItem>, BuildError> {
        let summary = exec
            .state
            .executed_block(height)?
            .ok_or(BuildError::NotExecuted { height })?;
        if summary.tx_count == 0 {
            return Ok(None);
        }
        let mut trace = exec
            .state
            .trace(height)?
            .ok_or(BuildError::NoTrace { height })?;
        if let Some(Fault::WrongRootAt(from)) = self.fault {
            if !self.corrupting && height >= from && summary.tx_count > 0 {
                warn!(
                    height,
                    "FAULT INJECTION: claiming corrupted state roots from this height on"
                );
                self.corrupting = true;
            }
        }
        let (pre, post) = if self.corrupting {
            trace = trace.into_iter().map(corrupt).collect();
            (
                self.parent_post,
                trace.last().copied().unwrap_or(self.parent_post),
            )
        } else {
            (summary.pre_state_root, summary.state_root)
        };
        Ok(Some(self.sign_next(
            height,
            (pre, post),
            trace,
            summary.receipts_root,
            summary.tx_count,
        )))
    }

    fn post(&self, node: &NodeView, height: u64, bytes: &[u8]) {
        match node.submit_claim(bytes, true) {
            Ok(id) => debug!(height, claim = %id, "claim posted"),
            Err(ItemSubmitError::AlreadyKnown) => {}
            Err(e) => warn!(height, error = %e, "claim not posted"),
        }
    }

    /// `--fault flood-orphans`: signs and posts [`FLOOD_PER_TICK`] claims for decided heights
    /// whose parents are made up.
    fn flood_orphans(&self, node: &NodeView) {
        let tip = node.status().height;
        if tip < 2 {
            return;
        }
        let started = FLOOD_COUNTER.fetch_add(FLOOD_PER_TICK, std::sync::atomic::Ordering::Relaxed);
        for n in started..started + FLOOD_PER_TICK {
            // Height 1 may only name the genesis parent: flood heights 2 and up, those with
            // transactions (a claim for any other height is refused at once).
            let mut height = 2 + n % (tip - 1);
            let header = loop {
                match node.header_at(height) {
                    Some(h) if h.tx_count > 0 => break Some(h),
                    Some(_) if height > 2 => height -= 1,
                    _ => break None,
                }
            };
            let Some(header) = header else {
                continue;
            };
            let made_up = |i: u64| {
                let mut seed = [0u8; 16];
                seed[..8].copy_from_slice(&n.to_be_bytes());
                seed[8..].copy_from_slice(&i.to_be_bytes());
                corrupt(B256::from(<[u8; 32]>::from(Sha256::digest(seed))))
            };
            let trace: Vec<B256> = (0..header.tx_count).map(made_up).collect();
            let pre = made_up(u64::MAX);
            let post = trace.last().copied().unwrap_or(pre);
            let mut item = ClaimItem {
                signed: SignedClaim::default(),
                trace,
            };
            let claim = StateClaim {
                chain_id: self.chain_id,
                data_height: height,
                parent_claim: made_up(u64::MAX - 1).0,
                pre_state_root: pre.0,
                post_state_root: post.0,
                trace_root: item.computed_trace_root().0,
                receipts_root: made_up(u64::MAX - 2).0,
                tx_count: header.tx_count,
                executor: self.address,
            };
            item.signed = SignedClaim::sign(claim, &self.key);
            if let Err(e) = node.submit_claim(&item.encode(), true) {
                debug!(height, error = %e, "orphan claim not posted");
            }
        }
    }

    fn tick(&mut self, exec: &ExecShared, node: &NodeView) {
        if self.fault == Some(Fault::FloodOrphans) {
            self.flood_orphans(node);
        }
        if node.state().consensus().is_slashed(&self.address) {
            // State consensus ignores a slashed executor's claims: posting more would only
            // fill pools.
            if !self.slashed {
                error!(executor = %hex::encode(self.address), "this executor is slashed: it posts no more claims");
                self.slashed = true;
                self.posted.clear();
            }
            return;
        }
        // A racing liar claims every decided height at once; everyone else what it executed.
        let racing = self.fault == Some(Fault::Race);
        if racing {
            // It races the chain's tip: while its own node is still catching up (replay or
            // sync after a start) it waits, then joins at the recorded tip.
            let tip = node.status().height;
            let fresh = node.header_at(tip).is_some_and(|h| {
                lazychain_data_chain_node::shared::now_ms().saturating_sub(h.timestamp_ms)
                    < RACE_TIP_AGE_MS
            });
            if !fresh {
                return;
            }
            self.join_at_tip(node);
        }
        if !racing {
            self.heal(exec, node);
        }
        let claimable = if racing {
            node.status().height
        } else {
            exec.status().executed_height
        };
        while self.next_height <= claimable {
            let height = self.next_height;
            let built = if racing {
                self.build_racing(node, height)
            } else {
                self.build(exec, height)
            };
            match built {
                Ok(None) => self.next_height += 1,
                Ok(Some(item)) => {
                    let bytes = item.encode();
                    self.post(node, height, &bytes);
                    if let Some(m) = &self.metrics {
                        m.claims_posted.inc();
                    }
                    self.posted.insert(
                        height,
                        Posted {
                            id: item.id(),
                            parent: ClaimId(item.signed.claim.parent_claim),
                            bytes,
                            sent: Instant::now(),
                            sent_at_height: node.status().height,
                            reposts: 0,
                        },
                    );
                    self.next_height += 1;
                }
                Err(e) => {
                    error!(height, error = %e, "cannot build a claim");
                    return;
                }
            }
        }
        let recorded: Vec<u64> = {
            let state = node.state();
            self.posted
                .iter()
                .filter(|(_, p)| state.consensus().status(&p.id).is_some())
                .map(|(h, _)| *h)
                .collect()
        };
        for h in recorded {
            self.posted.remove(&h);
        }
        // Parents before children: the map is in height order.
        let tip = node.status().height;
        for (height, posted) in self.posted.iter_mut() {
            if posted.sent.elapsed() < REPOST_AFTER {
                continue;
            }
            let missed_blocks = tip.saturating_sub(posted.sent_at_height);
            posted.sent = Instant::now();
            posted.sent_at_height = tip;
            // Gossip has not got it recorded for a few blocks: also straight to validators.
            if missed_blocks >= REPOST_LOUD_AFTER_BLOCKS {
                self.direct.push((*height, posted.id, posted.bytes.clone()));
            }
            match node.republish_claim(&posted.bytes) {
                Ok(()) => {
                    posted.reposts += 1;
                    if let Some(m) = &self.metrics {
                        m.claims_reposted.inc();
                    }
                    if missed_blocks >= REPOST_LOUD_AFTER_BLOCKS {
                        info!(height, claim = %posted.id, reposts = posted.reposts, missed_blocks, "claim not recorded yet: re-posted");
                    } else {
                        debug!(height, claim = %posted.id, reposts = posted.reposts, "claim re-posted");
                    }
                }
                Err(ItemSubmitError::AlreadyKnown) => {}
                Err(e) => warn!(height, claim = %posted.id, error = %e, "claim not re-posted"),
            }
        }
        if let Some(m) = &self.metrics {
            m.claims_unrecorded.set(self.posted.len() as i64);
        }
    }

    /// Re-parenting: when this executor's own chain of claims cannot be continued, because
    /// the claim its lowest unrecorded claim builds on was reverted (this executor is not
    /// slashed: e.g. it was another executor's claim it had built on, reverted with that
    /// executor's slashing) or is neither recorded nor held here to be sent again, it
    /// continues from the canonical claim at the highest final height below (so that
    /// finality, which may need this executor's corroboration, is not waiting on the broken
    /// chain) and signs its claims again from there. Only onto a root its own execution
    /// reached: a final root it disagrees with is the safety alarm's case, never a parent.
    fn heal(&mut self, exec: &ExecShared, node: &NodeView) {
        let (height, parent) = match self.posted.first_key_value() {
            Some((h, p)) => (*h, p.parent),
            None => (self.next_height, self.parent),
        };
        if parent == GENESIS_PARENT {
            return;
        }
        let plan = {
            let state = node.state();
            let consensus = state.consensus();
            let parent_state = match consensus.status(&parent) {
                Some(s) if s.is_reverted() => ParentState::Reverted,
                Some(_) => ParentState::Standing,
                // This executor holds (and re-sends) only claims from `height` up.
                None => ParentState::Lost,
            };
            plan_heal(
                parent_state,
                height,
                consensus.latest_final_height(),
                consensus.pruned_through(),
                |h| match consensus.canonical_claim_at_or_below(h) {
                    Some((at, id)) => consensus.canonical_root(at).map(|root| (at, id, root)),
                    // The genesis state, unless the claims below are forgotten (rule 7).
                    None => (consensus.pruned_through() == 0)
                        .then(|| (0, GENESIS_PARENT, consensus.genesis_root())),
                },
                |h| {
                    exec.state
                        .executed_block(h)
                        .ok()
                        .flatten()
                        .map(|b| b.state_root)
                },
            )
        };
        let (base, canonical, canonical_root) = match plan {
            HealPlan::Nothing => return,
            HealPlan::Refuse {
                base,
                canonical_root,
                own_root,
            } => {
                if self.heal_blocked != Some(parent) {
                    self.heal_blocked = Some(parent);
                    error!(height, broken_parent = %parent, base, canonical_root = %canonical_root, own_root = %own_root, "this executor's chain of claims is broken, and its own root differs from the canonical root it could continue from: not re-parenting");
                }
                return;
            }
            HealPlan::Reparent { base, onto, root } => (base, onto, root),
        };
        if self.reparented_onto == Some(canonical) {
            return;
        }
        warn!(height, broken_parent = %parent, base, canonical = %canonical, "this executor's chain of claims is broken (its parent was reverted or lost): continuing from the canonical claim");
        self.reparented_onto = Some(canonical);
        self.heal_blocked = None;
        // Every claim still held builds on the broken chain: none can be recorded now.
        self.posted.clear();
        self.parent = canonical;
        self.parent_post = canonical_root;
        self.next_height = base + 1;
        self.corrupting = false;
        if let Some(m) = &self.metrics {
            m.claims_reparented.inc();
        }
    }
}

/// Where the claim an executor's lowest unrecorded claim builds on stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ParentState {
    /// Recorded and not reverted: the chain goes on.
    Standing,
    /// Recorded as reverted: nothing built on it can ever be pending.
    Reverted,
    /// Not recorded, and not among the claims this executor still sends: nobody will send
    /// it again.
    Lost,
}

/// What an executor does about its own chain of claims (see `Publisher::heal`).
#[derive(Debug, PartialEq, Eq)]
enum HealPlan {
    /// The chain goes on, or there is nothing to continue from yet.
    Nothing,
    /// Continue from claim `onto` at height `base`, whose post-state root is `root`.
    Reparent {
        base: u64,
        onto: ClaimId,
        root: B256,
    },
    /// The executor's own root at `base` differs from the canonical root there: it never
    /// builds on a root it did not compute.
    Refuse {
        base: u64,
        canonical_root: B256,
        own_root: B256,
    },
}

/// Decides how an executor whose lowest unrecorded claim is for `height`, built on a parent
/// in `parent` state, continues, given the latest final height, the height state consensus
/// has pruned through, the canonical claim at or below a height (its height, id and
/// post-state root: the canonical state there; height 0, [`GENESIS_PARENT`] and the genesis
/// root for the genesis state), and its own executed root at a height.
fn plan_heal(
    parent: ParentState,
    height: u64,
    final_height: u64,
    pruned_through: u64,
    canonical: impl Fn(u64) -> Option<(u64, ClaimId, B256)>,
    own_root: impl Fn(u64) -> Option<B256>,
) -> HealPlan {
    let Some(base) = reparent_base(parent, height, final_height, pruned_through) else {
        return HealPlan::Nothing;
    };
    // Heights without transactions have no claim: the one to build on is the last below.
    let Some((base, onto, root)) = canonical(base) else {
        return HealPlan::Nothing;
    };
    if base == 0 {
        return HealPlan::Reparent { base, onto, root };
    }
    // Not executed here yet: nothing to compare, wait.
    let Some(own) = own_root(base) else {
        return HealPlan::Nothing;
    };
    if own != root {
        return HealPlan::Refuse {
            base,
            canonical_root: root,
            own_root: own,
        };
    }
    HealPlan::Reparent { base, onto, root }
}

/// The height of the canonical claim an executor re-parents onto, when its lowest unrecorded
/// claim is for `height` and builds on a parent in `parent` state, and claims are final up
/// to `final_height`; `None` while its chain can go on. Never above `height - 1` (the parent's
/// height), and never above the final height: claims above it may need this executor's own
/// claims to become final (corroboration), so it must not wait for them. But above the
/// pruned height (`pruned_through`, protocol §11.3 rule 7): a claim can only build on a
/// claim state consensus still holds, so an executor that was down for longer than the
/// retention skips the heights in between (other executors claimed them).
fn reparent_base(
    parent: ParentState,
    height: u64,
    final_height: u64,
    pruned_through: u64,
) -> Option<u64> {
    match parent {
        ParentState::Standing => None,
        ParentState::Reverted | ParentState::Lost => {
            let base = height.saturating_sub(1).min(final_height);
            Some(if pruned_through > 0 {
                base.max(pruned_through + 1)
            } else {
                base
            })
        }
    }
}

/// A claim this executor disagrees with, from detection until it (or this executor's own
/// claim for that height) is reverted.
struct Dispute {
    claim: StateClaim,
    /// The first trace entry that differs from this executor's.
    index: usize,
    claimed: Vec<B256>,
    attempts: u32,
    last_error: Option<String>,
    next_try: Instant,
    /// When a proof was last built and submitted.
    submitted: Option<Instant>,
}

impl Dispute {
    fn view(&self, id: ClaimId) -> DisputeView {
        DisputeView {
            claim: id,
            height: self.claim.data_height,
            tx_index: self.index,
            attempts: self.attempts,
            proof_submitted: self.submitted.is_some(),
            last_error: self.last_error.clone(),
        }
    }
}

/// Checks other executors' claims against this executor's own execution.
struct Watcher {
    address: [u8; 20],
    cursor: usize,
    waiting: VecDeque<RecordedClaim>,
    disputes: BTreeMap<ClaimId, Dispute>,
    witnesses: Sender<WitnessRequest>,
    wake: Sender<()>,
    metrics: Option<ExecMetrics>,
    /// Proof attempts still to fail on purpose (`--fault fail-proofs=N`).
    fail_proofs: u32,
    /// Safety alarms raised since the run loop last took them.
    alarms: Vec<String>,
}

/// What the watcher concluded about one claim.
enum Check {
    Agrees,
    /// Builds on a root this executor does not have: an ancestor is wrong and is proven (or
    /// was rejected) on its own.
    NotOnOurChain,
    /// Differs first at this trace entry.
    DiffersAt(usize, Vec<B256>),
}

/// Where a disputed claim stands in state consensus.
enum Standing {
    /// Still pending: keep proving.
    Open,
    /// Reverted: the dispute is won (or moot).
    Reverted,
    /// Final although this executor disagrees: a safety alarm.
    Final,
    /// This executor's own claim for the height was reverted: its execution was wrong.
    OwnReverted,
}

impl Watcher {
    fn compare(
        &self,
        exec: &ExecShared,
        node: &NodeView,
        rc: &RecordedClaim,
    ) -> Result<Option<(StateClaim, Check)>, CheckError> {
        let claim = {
            let state = node.state();
            let Some(view) = state.consensus().claim(&rc.id) else {
                return Ok(None);
            };
            if !view.status.is_pending() || view.claim.claim.executor == self.address {
                return Ok(None);
            }
            view.claim.claim.clone()
        };
        let own = exec
            .state
            .executed_block(rc.data_height)?
            .ok_or(CheckError::NotExecuted {
                height: rc.data_height,
            })?;
        if claim.pre_state_root != own.pre_state_root.0 {
            return Ok(Some((claim, Check::NotOnOurChain)));
        }
        if claim.post_state_root == own.state_root.0 && claim.trace_root == own.trace_root.0 {
            if claim.receipts_root != own.receipts_root.0 {
                warn!(claim = %rc.id, height = rc.data_height, "claim agrees on every state root but not on receipts: not provable by a state fraud proof");
            }
            return Ok(Some((claim, Check::Agrees)));
        }
        let claimed = claimed_trace(node, rc)?;
        let ours = exec.state.trace(rc.data_height)?.unwrap_or_default();
        let first = claimed
            .iter()
            .zip(&ours)
            .position(|(a, b)| a != b)
            .unwrap_or(claimed.len().min(ours.len()));
        Ok(Some((claim, Check::DiffersAt(first, claimed))))
    }

    async fn prove(
        &self,
        node: &NodeView,
        claim: StateClaim,
        index: usize,
        claimed: Vec<B256>,
    ) -> Result<(), ProveError> {
        let started = Instant::now();
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.witnesses
            .send(WitnessRequest {
                height: claim.data_height,
                index,
                reply,
            })
            .map_err(|_| ProveError::ExecutorGone)?;
        let _ = self.wake.send(());
        let w = answer.await.map_err(|_| ProveError::RequestDropped)??;
        let submitter = self.address;
        let node = node.clone();
        let id = claim.id();
        let height = claim.data_height;
        let (target, proof_id, bytes) = tokio::task::spawn_blocking(move || {
            let txs: Vec<&[u8]> = w.txs.iter().map(Vec::as_slice).collect();
            let proof = build_bad_transition(&claim, &claimed, &txs, index, &w.witness)?;
            let item = FraudItem {
                submitter,
                proof: proof.encode(),
            };
            let bytes = item.proof.len();
            let (target, proof_id) = match node.submit_fraud_proof(&item.encode(), true) {
                Ok(done) => done,
                // Already pooled here (an earlier submission): gossip it again.
                Err(ItemSubmitError::AlreadyKnown) => {
                    node.regossip_fraud_proof(&item.encode());
                    (claim.id(), lazychain_fraud::proof_id(&item.proof))
                }
                Err(e) => return Err(ProveError::Submit(e)),
            };
            Ok::<_, ProveError>((target, proof_id, bytes))
        })
        .await??;
        info!(claim = %id, height, tx_index = index, target = %target, proof = %hex::encode(proof_id), bytes, elapsed_ms = started.elapsed().as_millis() as u64, "fraud proof built, verified and broadcast");
        Ok(())
    }

    /// Where the disputed claim `id` (for `height`) stands.
    fn standing(&self, node: &NodeView, id: &ClaimId, height: u64) -> Standing {
        let state = node.state();
        let consensus = state.consensus();
        let own_reverted = consensus
            .claims_at(height)
            .iter()
            .any(|(_, c, status)| c.claim.executor == self.address && status.is_reverted());
        let own_standing = consensus
            .claims_at(height)
            .iter()
            .any(|(_, c, status)| c.claim.executor == self.address && !status.is_reverted());
        match consensus.status(id) {
            Some(s) if s.is_reverted() => Standing::Reverted,
            Some(s) if s.is_final() => Standing::Final,
            None => Standing::Reverted,
            _ if own_reverted && !own_standing => Standing::OwnReverted,
            _ => Standing::Open,
        }
    }

    async fn tick(&mut self, exec: &ExecShared, node: &NodeView) {
        let fresh: Vec<RecordedClaim> = {
            let state = node.state();
            let fresh = state.recorded_since(self.cursor).to_vec();
            // Not `+= len`: entries for pruned heights may have been skipped.
            self.cursor = state.recorded_end();
            fresh
        };
        self.waiting.extend(fresh);
        let executed = exec.status().executed_height;
        while let Some(rc) = self.waiting.front().copied() {
            if rc.data_height > executed {
                break;
            }
            self.waiting.pop_front();
            match self.compare(exec, node, &rc) {
                Ok(Some((claim, Check::DiffersAt(index, claimed)))) => {
                    warn!(claim = %rc.id, height = rc.data_height, executor = %hex::encode(claim.executor), tx_index = index, "claim disagrees with this executor's trace: proving fraud");
                    self.disputes.insert(
                        rc.id,
                        Dispute {
                            claim,
                            index,
                            claimed,
                            attempts: 0,
                            last_error: None,
                            next_try: Instant::now(),
                            submitted: None,
                        },
                    );
                }
                Ok(Some((_, Check::NotOnOurChain))) => {
                    debug!(claim = %rc.id, "claim builds on a root this executor does not have")
                }
                Ok(_) => {}
                Err(e) => warn!(claim = %rc.id, error = %e, "could not check a claim"),
            }
        }
        self.work_disputes(node).await;
    }

    /// Proves (again) every open dispute that is due, and closes the settled ones.
    async fn work_disputes(&mut self, node: &NodeView) {
        let ids: Vec<ClaimId> = self.disputes.keys().copied().collect();
        for id in ids {
            let Some(height) = self.disputes.get(&id).map(|d| d.claim.data_height) else {
                continue;
            };
            match self.standing(node, &id, height) {
                Standing::Open => {}
                Standing::Reverted => {
                    info!(claim = %id, height, "disputed claim reverted: dispute closed");
                    self.disputes.remove(&id);
                    continue;
                }
                Standing::Final => {
                    error!(claim = %id, height, "SAFETY ALARM: a claim this executor disagrees with became final");
                    if let Some(m) = &self.metrics {
                        m.disputes_lost.inc();
                    }
                    self.alarms.push(format!(
                        "claim {id} for height {height}, which this executor disagrees with, became final"
                    ));
                    self.disputes.remove(&id);
                    continue;
                }
                Standing::OwnReverted => {
                    error!(claim = %id, height, "this executor's own claim for the height was reverted: its execution disagrees with state consensus; dispute closed");
                    self.disputes.remove(&id);
                    continue;
                }
            }
            let Some(d) = self.disputes.get(&id) else {
                continue;
            };
            let now = Instant::now();
            let due = match d.submitted {
                Some(at) => now.duration_since(at) >= RESUBMIT_AFTER,
                None => now >= d.next_try,
            };
            if !due {
                continue;
            }
            let (claim, index, claimed) = (d.claim.clone(), d.index, d.claimed.clone());
            let result = if self.fail_proofs > 0 {
                self.fail_proofs -= 1;
                Err(ProveError::FaultInjected)
            } else {
                self.prove(node, claim, index, claimed).await
            };
            let Some(d) = self.disputes.get_mut(&id) else {
                continue;
            };
            d.attempts += 1;
            match result {
                Ok(()) => {
                    if d.submitted.is_some() {
                        warn!(claim = %id, height, attempts = d.attempts, "fraud proof not included yet: submitted again");
                    }
                    d.submitted = Some(Instant::now());
                    d.last_error = None;
                    if let Some(m) = &self.metrics {
                        m.fraud_proofs_submitted.inc();
                    }
                }
                Err(e) => {
                    let backoff = PROVE_RETRY
                        .saturating_mul(1u32 << d.attempts.min(5))
                        .min(PROVE_RETRY_MAX);
                    error!(claim = %id, height, tx_index = index, attempts = d.attempts, retry_in_ms = backoff.as_millis() as u64, error = %e, "could not prove fraud: will retry");
                    d.next_try = Instant::now() + backoff;
                    d.submitted = None;
                    d.last_error = Some(e.to_string());
                    if let Some(m) = &self.metrics {
                        m.fraud_proof_failures.inc();
                    }
                }
            }
        }
        if let Some(m) = &self.metrics {
            m.open_disputes.set(self.disputes.len() as i64);
            m.unproven_disputes.set(self.unproven().count() as i64);
        }
    }

    /// Open disputes for which no proof could be built yet.
    fn unproven(&self) -> impl Iterator<Item = &Dispute> {
        self.disputes
            .values()
            .filter(|d| d.submitted.is_none() && d.attempts > 0)
    }
}

/// Compares this executor's own roots with the canonical roots state consensus finalizes, as
/// they become final: a difference means that either this executor's execution or the final
/// root is wrong, and either way it must not serve `finalized` as if they agreed.
#[derive(Default)]
struct SafetyCheck {
    checked_up_to: u64,
    raised: bool,
}

impl SafetyCheck {
    fn check(&mut self, exec: &ExecShared, node: &NodeView) -> Option<String> {
        if self.raised {
            return None;
        }
        let executed = exec.status().executed_height;
        let state = node.state();
        let consensus = state.consensus();
        let up_to = consensus.latest_final_height().min(executed);
        // Below its pruned height state consensus keeps no canonical root (rule 7); the root at
        // that height is its anchor.
        self.checked_up_to = self
            .checked_up_to
            .max(consensus.pruned_through().saturating_sub(1));
        while self.checked_up_to < up_to {
            let height = self.checked_up_to + 1;
            let canonical = consensus.canonical_root(height);
            let own = match exec.state.executed_block(height) {
                Ok(Some(b)) => b.state_root,
                // Read again next tick.
                _ => return None,
            };
            if canonical != Some(own) {
                self.raised = true;
                let reason = format!(
                    "height {height}: state consensus finalized root {}, this executor computed {own}",
                    canonical.map(|r| r.to_string()).unwrap_or_default()
                );
                error!(height, %own, canonical = ?canonical, "SAFETY ALARM: this executor's root differs from the final canonical root");
                return Some(reason);
            }
            self.checked_up_to = height;
        }
        None
    }
}

/// The claimed trace of a recorded claim, from the block that included it.
fn claimed_trace(node: &NodeView, rc: &RecordedClaim) -> Result<Vec<B256>, CheckError> {
    let block = node
        .chain
        .store()
        .decided(rc.included_at)?
        .ok_or(CheckError::BlockMissing {
            height: rc.included_at,
        })?
        .block;
    block
        .body
        .claims
        .iter()
        .filter_map(|raw| ClaimItem::decode(raw.as_ref()).ok())
        .find(|item| item.id() == rc.id)
        .map(|item| item.trace)
        .ok_or(CheckError::NotInBlock {
            id: rc.id,
            height: rc.included_at,
        })
}

/// What the claims task runs with, besides the executor's and the node's shared state.
pub struct ClaimsOptions {
    /// The key that signs this executor's claims.
    pub key: PrivateKey,
    pub fault: Option<Fault>,
    pub metrics: Option<ExecMetrics>,
    /// `executor.submit_urls`: validators late claims are also submitted to directly.
    pub submit_urls: Vec<String>,
}

/// The running node as the claim tasks see it: the data chain's tip and readiness, and state
/// consensus.
#[derive(Clone)]
pub struct NodeView {
    chain: Arc<NodeShared>,
    state: Arc<StateNode>,
}

impl NodeView {
    pub fn new(chain: Arc<NodeShared>, state: Arc<StateNode>) -> Self {
        Self { chain, state }
    }

    fn status(&self) -> NodeStatus {
        self.chain.status()
    }

    fn set_not_ready(&self, reason: Option<String>) {
        self.chain.set_not_ready(reason);
    }

    fn header_at(&self, height: u64) -> Option<BlockHeader> {
        self.state.header_at(height)
    }

    fn state(&self) -> std::sync::RwLockReadGuard<'_, StateFollower> {
        self.state.state()
    }

    fn submit_claim(&self, bytes: &[u8], gossip: bool) -> Result<ClaimId, ItemSubmitError> {
        self.state.submit_claim(bytes, gossip)
    }

    fn republish_claim(&self, bytes: &[u8]) -> Result<(), ItemSubmitError> {
        self.state.republish_claim(bytes)
    }

    fn submit_fraud_proof(
        &self,
        bytes: &[u8],
        gossip: bool,
    ) -> Result<(ClaimId, [u8; 32]), ItemSubmitError> {
        self.state.submit_fraud_proof(bytes, gossip)
    }

    fn regossip_fraud_proof(&self, bytes: &[u8]) {
        self.state.regossip_fraud_proof(bytes);
    }
}

/// Runs the publisher (if this executor's key is registered) and the watcher until aborted.
pub async fn run(
    options: ClaimsOptions,
    exec: Arc<ExecShared>,
    node: NodeView,
    witnesses: Sender<WitnessRequest>,
    wake: Sender<()>,
) {
    let ClaimsOptions {
        key,
        fault,
        metrics,
        submit_urls,
    } = options;
    let address = executor_address(key.public_key().as_bytes());
    let mut direct = DirectSubmitter::new(&submit_urls, metrics.clone());
    let registered = node.state().registry().contains(&address);
    if !registered {
        info!(executor = %hex::encode(address), "this executor's key is not bonded in genesis: it checks claims but posts none");
    }
    match fault {
        Some(f @ Fault::WrongRootAt(_)) => {
            warn!(fault = %f, "FAULT INJECTION enabled: this executor will post wrong state roots")
        }
        Some(f @ Fault::FailProofs(_)) => {
            warn!(fault = %f, "FAULT INJECTION enabled: this executor's first fraud-proof attempts will fail")
        }
        Some(f @ Fault::Race) => {
            warn!(fault = %f, "FAULT INJECTION enabled: this executor claims made-up roots for every decided height without executing")
        }
        Some(f @ Fault::FloodOrphans) => {
            warn!(fault = %f, "FAULT INJECTION enabled: this executor floods the item pools with orphan claims")
        }
        None => {}
    }
    let mut publisher =
        registered.then(|| Publisher::resume(key, fault, &exec, &node, metrics.clone()));
    let mut watcher = Watcher {
        address,
        cursor: 0,
        waiting: VecDeque::new(),
        disputes: BTreeMap::new(),
        witnesses,
        wake,
        metrics,
        fail_proofs: match fault {
            Some(Fault::FailProofs(n)) => n,
            _ => 0,
        },
        alarms: Vec::new(),
    };
    let mut safety = SafetyCheck::default();
    let mut tick = tokio::time::interval(TICK);
    let mut own_cursor = 0usize;
    let mut latest_own: Option<(u64, ClaimId)> = None;
    loop {
        tick.tick().await;
        if let Some(mut p) = publisher.take() {
            let (exec, node) = (exec.clone(), node.clone());
            // Building a claim hashes its trace: keep it off the async workers.
            match tokio::task::spawn_blocking(move || {
                p.tick(&exec, &node);
                p
            })
            .await
            {
                Ok(mut p) => {
                    for (height, id, bytes) in p.direct.drain(..) {
                        direct.submit(height, id, &bytes);
                    }
                    publisher = Some(p);
                }
                Err(e) => error!(error = %e, "claim publisher failed; no more claims posted"),
            }
        }
        watcher.tick(&exec, &node).await;
        let mut alarms = std::mem::take(&mut watcher.alarms);
        alarms.extend(safety.check(&exec, &node));
        for reason in alarms {
            if exec.raise_safety_alarm(reason.clone()) {
                node.set_not_ready(Some(format!("SAFETY ALARM: {reason}")));
            }
            if let Some(m) = &watcher.metrics {
                m.safety_alarms.inc();
            }
        }
        let state = node.state();
        exec.set_consensus_heights(
            state.latest_safe_height(),
            state.consensus().latest_final_height(),
        );
        let consensus = state.consensus();
        let newest = state.recorded_since(own_cursor).to_vec();
        own_cursor = state.recorded_end();
        for r in newest {
            let mine = consensus
                .claim(&r.id)
                .is_some_and(|v| v.claim.claim.executor == address);
            if mine && latest_own.is_none_or(|(h, _)| r.data_height >= h) {
                latest_own = Some((r.data_height, r.id));
            }
        }
        exec.set_own_claims(OwnClaims {
            executor: address,
            bonded: registered,
            latest: latest_own.and_then(|(h, id)| consensus.status(&id).map(|s| (h, s.name()))),
            slashed: consensus.is_slashed(&address),
            open_disputes: watcher.disputes.len(),
            unproven_disputes: watcher.unproven().count(),
            disputes: watcher
                .disputes
                .iter()
                .take(DISPUTES_SHOWN)
                .map(|(id, d)| d.view(*id))
                .collect(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_goes_on_while_its_parent_stands() {
        assert_eq!(reparent_base(ParentState::Standing, 10, 3, 0), None);
        assert_eq!(reparent_base(ParentState::Standing, 10, 12, 0), None);
    }

    #[test]
    fn a_broken_chain_continues_from_the_canonical_claim_below_it() {
        // Finality reached the broken parent's height or beyond: continue right on top of
        // the canonical claim at the parent's height.
        assert_eq!(reparent_base(ParentState::Reverted, 10, 9, 0), Some(9));
        assert_eq!(reparent_base(ParentState::Lost, 10, 12, 0), Some(9));
        // Finality is behind (it may be waiting for this executor's corroboration): continue
        // from the highest final height, never waiting for the broken chain.
        assert_eq!(reparent_base(ParentState::Reverted, 10, 4, 0), Some(4));
        // Nothing final yet: from the genesis.
        assert_eq!(reparent_base(ParentState::Lost, 2, 0, 0), Some(0));
    }

    fn id(byte: u8) -> ClaimId {
        ClaimId([byte; 32])
    }

    fn root(byte: u8) -> B256 {
        B256::repeat_byte(byte)
    }

    /// Canonical claims `id(h)` with roots `root(h)` at every height up to 20, on the genesis
    /// state (root `0xee`).
    fn canonical(h: u64) -> Option<(u64, ClaimId, B256)> {
        match h {
            0 => Some((0, GENESIS_PARENT, root(0xee))),
            1..=20 => Some((h, id(h as u8), root(h as u8))),
            _ => None,
        }
    }

    #[test]
    fn a_broken_chain_is_re_parented_onto_the_canonical_claim_it_agrees_with() {
        let genesis = root(0xee);
        let agrees = |h: u64| Some(root(h as u8));
        assert_eq!(
            plan_heal(ParentState::Standing, 10, 9, 0, canonical, agrees),
            HealPlan::Nothing
        );
        assert_eq!(
            plan_heal(ParentState::Reverted, 10, 12, 0, canonical, agrees),
            HealPlan::Reparent {
                base: 9,
                onto: id(9),
                root: root(9)
            }
        );
        assert_eq!(
            plan_heal(ParentState::Lost, 10, 4, 0, canonical, agrees),
            HealPlan::Reparent {
                base: 4,
                onto: id(4),
                root: root(4)
            }
        );
        assert_eq!(
            plan_heal(ParentState::Reverted, 10, 0, 0, canonical, agrees),
            HealPlan::Reparent {
                base: 0,
                onto: GENESIS_PARENT,
                root: genesis
            }
        );
    }

    #[test]
    fn an_executor_down_past_the_pruned_height_continues_above_it() {
        let agrees = |h: u64| Some(root(h as u8));
        // Its lowest unrecorded claim is for height 3, its parent (height 2) pruned with
        // everything through 11: it continues from the canonical claim at 12.
        assert_eq!(
            plan_heal(ParentState::Lost, 3, 15, 11, canonical, agrees),
            HealPlan::Reparent {
                base: 12,
                onto: id(12),
                root: root(12)
            }
        );
        // Not executed that far yet: wait.
        let executed_to_11 = |h: u64| (h <= 11).then(|| root(h as u8));
        assert_eq!(
            plan_heal(ParentState::Lost, 3, 15, 11, canonical, executed_to_11),
            HealPlan::Nothing
        );
    }

    #[test]
    fn heights_without_transactions_are_skipped_down_to_the_claim_below() {
        // Canonical claims only at even heights: the odd ones had no transactions.
        let sparse = |h: u64| match h {
            0 | 1 => Some((0, GENESIS_PARENT, root(0xee))),
            _ => {
                let at = h - h % 2;
                Some((at, id(at as u8), root(at as u8)))
            }
        };
        let agrees = |h: u64| Some(root(h as u8));
        assert_eq!(
            plan_heal(ParentState::Lost, 10, 9, 0, sparse, agrees),
            HealPlan::Reparent {
                base: 8,
                onto: id(8),
                root: root(8)
            }
        );
        assert_eq!(
            plan_heal(ParentState::Reverted, 2, 9, 0, sparse, agrees),
            HealPlan::Reparent {
                base: 0,
                onto: GENESIS_PARENT,
                root: root(0xee)
            }
        );
    }

    #[test]
    fn never_onto_a_root_its_own_execution_did_not_reach() {
        let disagrees = |h: u64| Some(root(h as u8 + 100));
        assert_eq!(
            plan_heal(ParentState::Reverted, 10, 12, 0, canonical, disagrees),
            HealPlan::Refuse {
                base: 9,
                canonical_root: root(9),
                own_root: root(109)
            }
        );
        // Not executed yet, or no canonical claim: wait.
        assert_eq!(
            plan_heal(ParentState::Reverted, 10, 12, 0, canonical, |_| { None }),
            HealPlan::Nothing
        );
        assert_eq!(
            plan_heal(ParentState::Reverted, 30, 29, 0, canonical, |h| {
                Some(root(h as u8))
            }),
            HealPlan::Nothing
        );
    }

    #[test]
    fn faults_parse_and_print() {
        for text in ["wrong-root-at=3", "fail-proofs=2", "race", "flood-orphans"] {
            let fault: Fault = text.parse().expect("parses");
            assert_eq!(fault.to_string(), text);
        }
        assert!("wrong-root-at=0".parse::<Fault>().is_err());
        assert!("drop-claims-at=3".parse::<Fault>().is_err());
    }
}
