//! State consensus: a deterministic function of the decided data chain that decides which
//! state claims are pending, final or reverted, which state root is canonical at each height,
//! and where slashed bonds go.
//!
//! [`StateConsensus`] is fed the state-consensus items of every decided data block, in height
//! order, with the block's timestamp ([`StateConsensus::apply_block`]). It has no clock of its
//! own (time is the decided blocks' timestamps), no I/O and no randomness, and iterates only
//! ordered maps: the same block sequence always gives an equal state (it implements
//! `PartialEq` so that this can be tested).
//!
//! # Rules (protocol §11)
//!
//! Let `W` be the genesis `state.challenge_window_ms`, `B` its `state.min_window_blocks`,
//! `K` its `state.min_corroboration`, and `d` the height of the block being applied, `t_d`
//! its timestamp. Items are processed in block order, then finality. Timestamps never
//! decrease from one block to the next (a decided chain's strictly increase).
//!
//! 1. **Recording a claim.** A claim included at `d` is recorded if all hold, else ignored
//!    with a [`Rejection`] (and nothing changes):
//!    - it is not already recorded (a duplicate is ignored; the first copy stays);
//!    - its executor is not slashed;
//!    - [`check_claim`] with decided height `d - 1`: same chain, well formed, registered
//!      executor, valid signature, and `data_height < d`;
//!    - its parent is known: [`GENESIS_PARENT`] at height 1, otherwise a recorded claim whose
//!      `data_height` is one less;
//!    - its `pre_state_root` equals the parent's `post_state_root` (the genesis state root
//!      at height 1). This check needs no execution, so a claim that breaks the chain of
//!      roots never needs a fraud proof.
//!
//!    A recorded claim is pending, or reverted at once if its parent is reverted.
//! 2. **Equivocation.** Two different claims by one executor with the same `data_height`
//!    and parent are equivocation, shown either by an [`Inclusion::Equivocation`] item (both
//!    claims validly signed and for decided heights; neither needs to be recorded) or when
//!    the second of them is included (it is then recorded as reverted). The executor is
//!    slashed and both claims, if recorded and pending, are reverted with all their
//!    descendants. A claim that is already final stays final. Evidence against an executor
//!    that is already slashed is rejected.
//! 3. **Finality.** A claim included in block `d` is *ripe* once a block at height at least
//!    `d + B` whose timestamp is at least `t_d + W` is applied (after that block's items),
//!    unless reverted by then. The window is time, measured by decided blocks' timestamps,
//!    and never fewer than `B` blocks: a halted chain cannot eat it (after a halt, `B` blocks
//!    still pass before anything included before it is final). A ripe claim becomes final,
//!    in that block or the first later block where all hold: its parent is final (or it is a
//!    height-1 claim); it is not *disputed*; and it is *corroborated*. A claim is disputed
//!    while another recorded claim that is not reverted has the same `data_height` and
//!    `pre_state_root` but a different `post_state_root` or `trace_root` (the commitments a
//!    fraud proof settles). So two disagreeing claims on one state never both become final,
//!    and neither does while both stand: a dispute ends only when a fraud proof (or
//!    equivocation evidence) reverts one side, and if none ever comes, state finality stops
//!    at that height (see [`StateConsensus::disputes`]) rather than choosing a side. A claim
//!    recorded against an already final rival can never become final. A claim is
//!    corroborated when at least `K_eff = min(K, registered executors not slashed)` (never
//!    below 1) distinct executors that are not slashed have recorded, unreverted claims at
//!    its `data_height` with the same pre-state, post-state and trace roots; its own
//!    executor counts. Ripe claims are examined in order of data height, then inclusion, so
//!    a parent finalizes before its children in the same block, and they are examined again
//!    in every block where something that can release one happened: a claim ripened, was
//!    recorded (corroboration) or was reverted (the end of a dispute), or an executor was
//!    slashed (`K_eff` may drop). A final claim never changes status again.
//! 4. **Fraud.** An [`Inclusion::Fraud`] item (a proof the caller verified) against a
//!    pending claim `C` reverts `C` and every recorded descendant of `C`, in this block, and
//!    slashes `C`'s executor. Against a final, reverted or unknown claim, or repeating the
//!    id of an accepted proof, it is rejected and nothing changes.
//! 5. **Slashing.** The executor's whole remaining bond is removed:
//!    `floor(bond * slash_reward_percent / 100)` is credited to the submitter of the
//!    evidence, the rest burned (all of it when equivocation is detected on inclusion: there
//!    is no submitter). Every claim of the executor that is still pending is reverted with
//!    its descendants ([`RevertReason::ExecutorSlashed`]): a proven liar's other claims carry
//!    no weight, so one proof ends every dispute it started. Later claims by a slashed
//!    executor are ignored; its final claims stay final. A slashed executor no longer counts
//!    towards `K_eff` nor corroborates.
//! 6. **Canonical chain.** The canonical claim at height `h` is the first-included final claim
//!    at `h` whose pre-state root is the canonical root at `h - 1` (the genesis root at 0);
//!    the canonical root is its post-state root. By rule 3 every final claim on that pre-state
//!    root has the same post-state root, so the canonical *root* never depends on the order
//!    of inclusion (only which of several agreeing claims is named does). Roots, not parent
//!    links, are followed, so the chain keeps growing when the executor whose claims it took
//!    so far is slashed later and another executor's claims (same roots, other parent ids)
//!    carry on. The **safe** chain continues the canonical one above its tip: at each
//!    height, the first-included claim that is not reverted and whose pre-state root is the
//!    previous safe root, provided every such claim agrees with it (a dispute ends the safe
//!    chain too).
//! 7. **Pruning.** After finality in each block, let `F` be the latest final height and
//!    `P = max(0, F - R)` the *pruned height*, `R` = [`RETAINED_FINAL_HEIGHTS`]. Every data
//!    height `h <= P` whose recorded claims are all settled (final or reverted) is forgotten:
//!    its claims, their equivocation slots and the canonical claim ids up to `P` (the
//!    canonical root at `P` is kept as the anchor). A height that still has a pending claim
//!    is kept whole until it has none, so nothing that can still change is forgotten and
//!    every retained claim is judged exactly as without pruning. From then on, items about
//!    forgotten heights change nothing ([`Rejection::Pruned`]): a claim for a height `<= P`;
//!    a claim for `P + 1` whose parent is no longer recorded
//!    ([`Rejection::PrunedParent`]); equivocation evidence for a height `<= P`; a fraud
//!    proof against a forgotten claim (an unknown target). Like CometBFT's `MaxAgeNumBlocks`
//!    for evidence, this bounds memory by `R` heights instead of the chain's length. It is a
//!    pure function of the decided chain, so every node forgets the same things at the
//!    same block.
//!
//! [`check_claim`]: crate::check_claim
//! [`GENESIS_PARENT`]: crate::GENESIS_PARENT

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use alloy_primitives::B256;
use lazychain_chainspec::Genesis;

use crate::claim::{ClaimError, ClaimId, SignedClaim, GENESIS_PARENT};
use crate::registry::{check_claim, ExecutorRegistry};
use crate::{hex0x, Address};

#[cfg(test)]
mod tests;

/// `R` of rule 7: state consensus keeps every height within this many heights below the
/// finalized height (and every height that still has a pending claim); older settled heights
/// are forgotten. Part of the rules (it decides which late items are refused), so every node
/// of a chain must use the same value. 4,096 heights is ~5 minutes at 14 blocks/s and ~5.7
/// hours at one idle block per 5 s: far beyond the challenge window, so only claims and
/// evidence about heights long final are refused, while memory stays flat (~12 MB with two
/// executors at 14 blocks/s: `R` plus the window's heights at ~2.2 KB each,
/// `fraud/tests/memory.rs`) instead of growing with the chain. An executor whose chain of claims stops
/// more than this below the finalized height cannot continue it (its next claim's parent is
/// forgotten): it re-parents onto the canonical claim above the pruned height.
pub const RETAINED_FINAL_HEIGHTS: u64 = 4_096;

/// The genesis parameters state consensus runs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateParams {
    /// Claims for another chain are ignored.
    pub chain_id: u64,
    /// `W`, in milliseconds: a claim included in a block with timestamp `t` ripens no earlier
    /// than a block whose timestamp is at least `t + W` (rule 3).
    pub challenge_window_ms: u64,
    /// `B`: ... and no earlier than `B` blocks after the one that included it; at least 1.
    pub min_window_blocks: u64,
    /// `K`: a ripe claim finalizes only once `min(K, registered executors not slashed)`
    /// distinct unslashed executors have recorded unreverted claims that agree with it
    /// (rule 3); at least 1.
    pub min_corroboration: u64,
    /// Share of a slashed bond credited to the submitter of the evidence; 0 to 100.
    pub slash_reward_percent: u8,
}

impl StateParams {
    /// The parameters of a (validated) genesis.
    pub fn from_genesis(genesis: &Genesis) -> Self {
        Self {
            chain_id: genesis.chain_id,
            challenge_window_ms: genesis.state.challenge_window_ms,
            min_window_blocks: genesis.state.min_window_blocks,
            min_corroboration: genesis.state.min_corroboration,
            slash_reward_percent: genesis.state.slash_reward_percent,
        }
    }
}

/// An item of a decided data block that state consensus acts on, in block order.
// A block carries few of these: boxing the two claims of the largest variant would only make
// construction clumsier.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inclusion {
    /// A signed state claim.
    Claim(SignedClaim),
    /// A fraud proof against `target` that the caller has verified with the pure verifier.
    /// `proof_id` identifies the proof (a hash of its bytes); `submitter` receives the
    /// reward.
    Fraud {
        target: ClaimId,
        submitter: Address,
        proof_id: [u8; 32],
    },
    /// Two claims that together prove an executor equivocated.
    Equivocation {
        a: SignedClaim,
        b: SignedClaim,
        submitter: Address,
    },
}

/// Why a claim was reverted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RevertReason {
    /// An accepted fraud proof targeted this claim.
    Fraud { proof_id: [u8; 32] },
    /// Its executor equivocated on this claim's height and parent.
    Equivocation,
    /// An ancestor was reverted: `claim` is the claim the fraud proof or equivocation hit
    /// (or the reverted parent, for a claim recorded on top of it).
    Ancestor { claim: ClaimId },
    /// Its executor was slashed (for another claim) while this one was pending.
    ExecutorSlashed,
}

/// Where a recorded claim stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimStatus {
    /// Not final yet: inside its challenge window (rule 3: `B` blocks and `W` milliseconds
    /// after block `included_at`), or past it (ripe) and waiting for its parent, for a
    /// dispute to end or for corroboration.
    Pending { included_at: u64 },
    /// Final since block `at`: it never changes again.
    Final { at: u64 },
    /// Reverted in block `at`.
    Reverted { at: u64, reason: RevertReason },
}

impl ClaimStatus {
    pub fn is_pending(&self) -> bool {
        matches!(self, Self::Pending { .. })
    }

    pub fn is_final(&self) -> bool {
        matches!(self, Self::Final { .. })
    }

    pub fn is_reverted(&self) -> bool {
        matches!(self, Self::Reverted { .. })
    }

    /// `"pending"`, `"final"` or `"reverted"`, as the RPC shows it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Pending { .. } => "pending",
            Self::Final { .. } => "final",
            Self::Reverted { .. } => "reverted",
        }
    }
}

/// One recorded claim, as queries return it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClaimView<'a> {
    pub id: ClaimId,
    pub claim: &'a SignedClaim,
    /// The data height of the block that included it.
    pub included_at: u64,
    /// That block's timestamp (ms).
    pub included_ms: u64,
    pub status: ClaimStatus,
}

/// Claims that disagree about one state (rule 3), held back from finality until a proof
/// reverts all but one side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dispute {
    pub data_height: u64,
    pub pre_state_root: B256,
    /// The block from which it holds finality back: where the first of its claims ripened
    /// (and would otherwise have been final).
    pub since_height: u64,
    /// That block's timestamp (ms).
    pub since_ms: u64,
    /// Every unreverted claim on `pre_state_root` at `data_height`, in inclusion order.
    pub claims: Vec<ClaimId>,
}

/// Why an item changed nothing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("{0}")]
    Claim(#[from] ClaimError),
    #[error("already recorded")]
    Duplicate,
    #[error("executor {} is slashed", hex0x(.executor))]
    ExecutorSlashed { executor: Address },
    #[error("unknown parent claim {parent}")]
    UnknownParent { parent: ClaimId },
    #[error("the parent claim is for data height {parent_height} (0: the genesis state), but the previous height with transactions below {data_height} is {expected} (0: none)")]
    ParentHeight {
        parent_height: u64,
        expected: u64,
        data_height: u64,
    },
    #[error("data height {data_height} has no transactions: its state is its parent's, and it takes no claim")]
    EmptyHeight { data_height: u64 },
    #[error("pre-state root {got} differs from the parent's post-state root {expected}")]
    PreStateMismatch { expected: B256, got: B256 },
    #[error("fraud proof {} was already accepted", hex0x(.proof_id))]
    ProofReplayed { proof_id: [u8; 32] },
    #[error("unknown target claim {target}")]
    UnknownTarget { target: ClaimId },
    #[error("target claim {target} is final since block {at}")]
    TargetFinal { target: ClaimId, at: u64 },
    #[error("target claim {target} was already reverted in block {at}")]
    TargetReverted { target: ClaimId, at: u64 },
    #[error("not equivocation: {0}")]
    NotEquivocation(&'static str),
    #[error("data height {data_height} is pruned: heights up to {pruned_through} are settled and no longer kept (rule 7)")]
    Pruned {
        data_height: u64,
        pruned_through: u64,
    },
    #[error("parent claim {parent} is not recorded and its height {} is pruned (heights up to {pruned_through} are no longer kept, rule 7)", .pruned_through)]
    PrunedParent {
        parent: ClaimId,
        pruned_through: u64,
    },
}

/// A slashing: the executor's whole remaining bond, split between a reward and a burn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slash {
    pub executor: Address,
    /// The bond removed (0 if the executor was already slashed).
    pub amount: u128,
    /// Who is credited `reward`; `None` when equivocation was detected on inclusion.
    pub beneficiary: Option<Address>,
    pub reward: u128,
    pub burned: u128,
}

/// What [`StateConsensus::apply_block`] did with one item, for logs and for executors that
/// must re-submit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The claim was recorded: pending, or reverted at once because its parent is.
    Recorded { id: ClaimId, status: ClaimStatus },
    /// The claim was not recorded.
    ClaimIgnored { id: ClaimId, reason: Rejection },
    /// Equivocation by `executor` on `claims` (the second is the included claim when it was
    /// detected on inclusion): `reverted` lists every claim reverted, in order.
    Equivocation {
        executor: Address,
        claims: [ClaimId; 2],
        reverted: Vec<ClaimId>,
        slash: Slash,
    },
    /// The evidence of an [`Inclusion::Equivocation`] was refused.
    EquivocationRejected { reason: Rejection },
    /// The fraud proof reverted `reverted` (its target first, then the descendants).
    FraudAccepted {
        target: ClaimId,
        proof_id: [u8; 32],
        reverted: Vec<ClaimId>,
        slash: Slash,
    },
    /// The fraud proof changed nothing.
    FraudRejected {
        target: ClaimId,
        proof_id: [u8; 32],
        reason: Rejection,
    },
}

/// Bonds and where slashed bonds went. `sum(bonds) + sum(rewards) + burned` always equals
/// the total genesis bond.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    /// The remaining bond of every registered executor (0 once slashed).
    pub bonds: BTreeMap<Address, u128>,
    /// The bond removed from each slashed executor.
    pub slashed: BTreeMap<Address, u128>,
    /// Rewards credited to submitters of evidence.
    pub rewards: BTreeMap<Address, u128>,
    /// Slashed amounts not paid out.
    pub burned: u128,
}

impl Ledger {
    /// `sum(bonds) + sum(rewards) + burned`.
    pub fn total(&self) -> u128 {
        self.bonds
            .values()
            .chain(self.rewards.values())
            .fold(self.burned, |sum, v| sum.saturating_add(*v))
    }
}

/// Errors of the state machine's inputs (not of the items: those have [`Outcome`]s).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error("block {got} applied out of order: the next block is {expected}")]
    OutOfOrder { expected: u64, got: u64 },
    #[error("block {height} has timestamp {timestamp_ms} ms, before the previous block's {previous_ms} ms")]
    TimestampDecreased {
        height: u64,
        timestamp_ms: u64,
        previous_ms: u64,
    },
    #[error("state.min_window_blocks must be at least 1")]
    ZeroWindowBlocks,
    #[error("state.min_corroboration must be at least 1")]
    ZeroCorroboration,
    #[error("state.slash_reward_percent {0} is above 100")]
    RewardAbove100(u8),
    #[error("the retained final heights (rule 7) must be at least 1")]
    ZeroRetention,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Record {
    claim: SignedClaim,
    included_at: u64,
    /// The timestamp (ms) of block `included_at`.
    included_ms: u64,
    /// The block (height, timestamp) where it ripened (rule 3), once it has.
    ripened: Option<(u64, u64)>,
    /// Inclusion order across all claims (0 for the first recorded).
    seq: u64,
    status: ClaimStatus,
    /// Recorded claims naming this one as parent, in inclusion order.
    children: Vec<ClaimId>,
    /// Its parent was final when it was pruned (rule 7): the parent-is-final condition of
    /// rule 3 holds without the parent's record.
    parent_pruned_final: bool,
}

/// The state-consensus state machine. See the module documentation for the rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateConsensus {
    params: StateParams,
    genesis_root: B256,
    registry: ExecutorRegistry,
    applied_height: u64,
    /// The timestamp (ms) of block `applied_height` (0 before any).
    applied_ms: u64,
    claims: BTreeMap<ClaimId, Record>,
    /// Recorded claims per data height, in inclusion order.
    by_height: BTreeMap<u64, Vec<ClaimId>>,
    /// Claims recorded pending and not ripe yet, in inclusion order: since heights and
    /// timestamps of blocks never decrease, they ripen in this order.
    windows: VecDeque<ClaimId>,
    /// Pending claims past their window (rule 3), by (data height, inclusion order): each
    /// waits for its parent to be final, for a dispute to end or for corroboration.
    ripe: BTreeMap<(u64, u64), ClaimId>,
    /// Something that can release a held claim happened since the ripe claims were last
    /// examined: a claim was recorded or reverted, or an executor slashed.
    examine: bool,
    /// The first recorded claim per (executor, data height, parent): the equivocation index.
    slots: BTreeMap<(Address, u64, ClaimId), ClaimId>,
    /// The canonical claim at each final height with transactions above `pruned_through`
    /// (rule 6; empty heights have none).
    canonical: BTreeMap<u64, ClaimId>,
    /// The latest final height (rule 6): the canonical chain's tip, extended over the decided
    /// empty blocks after it.
    final_height: u64,
    /// Decided heights whose block has transactions, above `pruned_through` (rule 1: a
    /// claim's parent is the claim of the previous one).
    with_txs: BTreeSet<u64>,
    /// The highest height with transactions at or below `pruned_through`, once pruned from
    /// `with_txs`.
    pruned_with_txs: Option<u64>,
    /// `seq` of the next recorded claim (records are pruned, so not `claims.len()`).
    next_seq: u64,
    /// `R` of rule 7.
    retained_final_heights: u64,
    /// `P` of rule 7: settled heights up to it are forgotten (0: nothing is).
    pruned_through: u64,
    /// The canonical root at `pruned_through` (the genesis root at 0): the anchor the
    /// canonical chain continues from.
    pruned_root: B256,
    /// Ids of accepted fraud proofs.
    proofs: BTreeSet<[u8; 32]>,
    ledger: Ledger,
}

impl StateConsensus {
    /// A state machine at height 0 over the genesis state root `genesis_root`, keeping
    /// [`RETAINED_FINAL_HEIGHTS`] final heights (rule 7).
    pub fn new(
        genesis_root: B256,
        params: &StateParams,
        registry: ExecutorRegistry,
    ) -> Result<Self, ApplyError> {
        Self::with_retention(genesis_root, params, registry, RETAINED_FINAL_HEIGHTS)
    }

    /// [`Self::new`] keeping `retained_final_heights` final heights (rule 7's `R`; at least 1),
    /// for tests and measurements: a chain's nodes must all use [`RETAINED_FINAL_HEIGHTS`].
    pub fn with_retention(
        genesis_root: B256,
        params: &StateParams,
        registry: ExecutorRegistry,
        retained_final_heights: u64,
    ) -> Result<Self, ApplyError> {
        if retained_final_heights == 0 {
            return Err(ApplyError::ZeroRetention);
        }
        if params.min_window_blocks == 0 {
            return Err(ApplyError::ZeroWindowBlocks);
        }
        if params.min_corroboration == 0 {
            return Err(ApplyError::ZeroCorroboration);
        }
        if params.slash_reward_percent > 100 {
            return Err(ApplyError::RewardAbove100(params.slash_reward_percent));
        }
        let ledger = Ledger {
            bonds: registry.iter().map(|(a, e)| (*a, e.bond)).collect(),
            ..Ledger::default()
        };
        Ok(Self {
            params: *params,
            genesis_root,
            registry,
            applied_height: 0,
            applied_ms: 0,
            claims: BTreeMap::new(),
            by_height: BTreeMap::new(),
            windows: VecDeque::new(),
            ripe: BTreeMap::new(),
            examine: false,
            slots: BTreeMap::new(),
            canonical: BTreeMap::new(),
            final_height: 0,
            with_txs: BTreeSet::new(),
            pruned_with_txs: None,
            next_seq: 0,
            retained_final_heights,
            pruned_through: 0,
            pruned_root: genesis_root,
            proofs: BTreeSet::new(),
            ledger,
        })
    }

    /// Applies the state-consensus items of decided block `height`, whose timestamp is
    /// `timestamp_ms` and which carries `tx_count` transactions: every item in order, then
    /// finality (rule 3) for the claims whose window this block closes and for the held ones.
    /// Returns one outcome per item. `height` must be `applied_height() + 1` and
    /// `timestamp_ms` at least the previous block's (a decided chain's timestamps strictly
    /// increase); otherwise it is an error and nothing changes.
    pub fn apply_block(
        &mut self,
        height: u64,
        timestamp_ms: u64,
        tx_count: u64,
        items: &[Inclusion],
    ) -> Result<Vec<Outcome>, ApplyError> {
        let expected = self.applied_height.saturating_add(1);
        if height != expected {
            return Err(ApplyError::OutOfOrder {
                expected,
                got: height,
            });
        }
        if timestamp_ms < self.applied_ms {
            return Err(ApplyError::TimestampDecreased {
                height,
                timestamp_ms,
                previous_ms: self.applied_ms,
            });
        }

        // Claims in this block are for earlier heights (rule 1): this block's own emptiness
        // matters from finality on.
        let outcomes = items
            .iter()
            .map(|item| match item {
                Inclusion::Claim(claim) => self.include_claim(height, timestamp_ms, claim),
                Inclusion::Fraud {
                    target,
                    submitter,
                    proof_id,
                } => self.fraud(height, *target, *submitter, *proof_id),
                Inclusion::Equivocation { a, b, submitter } => {
                    self.equivocation_evidence(height, a, b, *submitter)
                }
            })
            .collect();
        if tx_count > 0 {
            self.with_txs.insert(height);
        }
        self.finalize(height, timestamp_ms);
        self.prune();
        self.applied_height = height;
        self.applied_ms = timestamp_ms;
        Ok(outcomes)
    }

    /// Rule 1 and equivocation detected on inclusion (rule 2), in block `d` with timestamp
    /// `t`.
    fn include_claim(&mut self, d: u64, t: u64, signed: &SignedClaim) -> Outcome {
        let id = signed.id();
        let claim = &signed.claim;
        let ignore = |reason: Rejection| Outcome::ClaimIgnored { id, reason };
        if self.claims.contains_key(&id) {
            return ignore(Rejection::Duplicate);
        }
        if self.is_slashed(&claim.executor) {
            return ignore(Rejection::ExecutorSlashed {
                executor: claim.executor,
            });
        }
        if let Err(e) = check_claim(
            signed,
            self.params.chain_id,
            d.saturating_sub(1),
            &self.registry,
        ) {
            return ignore(e.into());
        }
        // Rule 7: the height's settled claims may be forgotten, so its disputes and
        // corroboration can no longer be judged.
        if claim.data_height <= self.pruned_through {
            return ignore(Rejection::Pruned {
                data_height: claim.data_height,
                pruned_through: self.pruned_through,
            });
        }
        // An empty block leaves the state as it was: there is nothing to claim.
        if !self.with_txs.contains(&claim.data_height) {
            return ignore(Rejection::EmptyHeight {
                data_height: claim.data_height,
            });
        }
        // The parent is the claim of the previous height with transactions, or the genesis
        // state if there is none.
        let parent = claim.parent();
        let previous = self.previous_with_txs(claim.data_height);
        let (expected_pre, parent_status) = if parent == GENESIS_PARENT {
            if let Some(expected) = previous {
                return ignore(Rejection::ParentHeight {
                    parent_height: 0,
                    expected,
                    data_height: claim.data_height,
                });
            }
            (self.genesis_root, None)
        } else {
            let Some(p) = self.claims.get(&parent) else {
                if previous.is_some_and(|h| h <= self.pruned_through) {
                    return ignore(Rejection::PrunedParent {
                        parent,
                        pruned_through: self.pruned_through,
                    });
                }
                return ignore(Rejection::UnknownParent { parent });
            };
            if Some(p.claim.claim.data_height) != previous {
                return ignore(Rejection::ParentHeight {
                    parent_height: p.claim.claim.data_height,
                    expected: previous.unwrap_or(0),
                    data_height: claim.data_height,
                });
            }
            (B256::from(p.claim.claim.post_state_root), Some(p.status))
        };
        if B256::from(claim.pre_state_root) != expected_pre {
            return ignore(Rejection::PreStateMismatch {
                expected: expected_pre,
                got: B256::from(claim.pre_state_root),
            });
        }

        let slot = (claim.executor, claim.data_height, parent);
        if let Some(&first) = self.slots.get(&slot) {
            // Rule 2: the second claim of a slot. Record it as reverted, revert the first.
            let reason = RevertReason::Equivocation;
            self.record(
                d,
                t,
                signed.clone(),
                ClaimStatus::Reverted { at: d, reason },
            );
            let mut reverted = vec![id];
            reverted.extend(self.revert_tree(first, d, reason));
            let slash = self.slash(claim.executor, None);
            reverted.extend(self.revert_executor(claim.executor, d));
            return Outcome::Equivocation {
                executor: claim.executor,
                claims: [first, id],
                reverted,
                slash,
            };
        }
        self.slots.insert(slot, id);
        let status = match parent_status {
            Some(ClaimStatus::Reverted { .. }) => ClaimStatus::Reverted {
                at: d,
                reason: RevertReason::Ancestor { claim: parent },
            },
            _ => {
                self.windows.push_back(id);
                // It may corroborate a held claim.
                self.examine = true;
                ClaimStatus::Pending { included_at: d }
            }
        };
        self.record(d, t, signed.clone(), status);
        Outcome::Recorded { id, status }
    }

    fn record(&mut self, d: u64, t: u64, signed: SignedClaim, status: ClaimStatus) {
        let id = signed.id();
        let parent = signed.claim.parent();
        self.by_height
            .entry(signed.claim.data_height)
            .or_default()
            .push(id);
        if let Some(p) = self.claims.get_mut(&parent) {
            p.children.push(id);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.claims.insert(
            id,
            Record {
                claim: signed,
                included_at: d,
                included_ms: t,
                ripened: None,
                seq,
                status,
                children: Vec::new(),
                parent_pruned_final: false,
            },
        );
    }

    /// Rule 4.
    fn fraud(
        &mut self,
        d: u64,
        target: ClaimId,
        submitter: Address,
        proof_id: [u8; 32],
    ) -> Outcome {
        let reject = |reason: Rejection| Outcome::FraudRejected {
            target,
            proof_id,
            reason,
        };
        if self.proofs.contains(&proof_id) {
            return reject(Rejection::ProofReplayed { proof_id });
        }
        let Some(record) = self.claims.get(&target) else {
            return reject(Rejection::UnknownTarget { target });
        };
        let executor = record.claim.claim.executor;
        match record.status {
            ClaimStatus::Final { at } => return reject(Rejection::TargetFinal { target, at }),
            ClaimStatus::Reverted { at, .. } => {
                return reject(Rejection::TargetReverted { target, at })
            }
            ClaimStatus::Pending { .. } => {}
        }
        self.proofs.insert(proof_id);
        let mut reverted = self.revert_tree(target, d, RevertReason::Fraud { proof_id });
        let slash = self.slash(executor, Some(submitter));
        reverted.extend(self.revert_executor(executor, d));
        Outcome::FraudAccepted {
            target,
            proof_id,
            reverted,
            slash,
        }
    }

    /// Whether `a` and `b` prove equivocation if included in block `d` (rule 2): two different
    /// claims for one data height and parent, both validly signed by the same registered
    /// executor, which is not slashed yet. Changes nothing; the node runs it before pooling
    /// evidence, and inclusion runs it again.
    pub fn check_equivocation(
        &self,
        d: u64,
        a: &SignedClaim,
        b: &SignedClaim,
    ) -> Result<(), Rejection> {
        let (ca, cb) = (&a.claim, &b.claim);
        if ca.executor != cb.executor {
            return Err(Rejection::NotEquivocation(
                "the claims are by different executors",
            ));
        }
        if ca.data_height != cb.data_height {
            return Err(Rejection::NotEquivocation(
                "the claims are for different heights",
            ));
        }
        if ca.parent_claim != cb.parent_claim {
            return Err(Rejection::NotEquivocation(
                "the claims have different parents",
            ));
        }
        if a.id() == b.id() {
            return Err(Rejection::NotEquivocation(
                "the two claims are the same claim",
            ));
        }
        if self.is_slashed(&ca.executor) {
            return Err(Rejection::ExecutorSlashed {
                executor: ca.executor,
            });
        }
        if ca.data_height <= self.pruned_through {
            return Err(Rejection::Pruned {
                data_height: ca.data_height,
                pruned_through: self.pruned_through,
            });
        }
        for signed in [a, b] {
            check_claim(
                signed,
                self.params.chain_id,
                d.saturating_sub(1),
                &self.registry,
            )?;
        }
        Ok(())
    }

    /// Rule 2, shown by evidence.
    fn equivocation_evidence(
        &mut self,
        d: u64,
        a: &SignedClaim,
        b: &SignedClaim,
        submitter: Address,
    ) -> Outcome {
        if let Err(reason) = self.check_equivocation(d, a, b) {
            return Outcome::EquivocationRejected { reason };
        }
        let (ida, idb) = (a.id(), b.id());
        let executor = a.claim.executor;
        let mut reverted = Vec::new();
        for id in [ida, idb] {
            if self.claims.contains_key(&id) {
                reverted.extend(self.revert_tree(id, d, RevertReason::Equivocation));
            }
        }
        let slash = self.slash(executor, Some(submitter));
        reverted.extend(self.revert_executor(executor, d));
        Outcome::Equivocation {
            executor,
            claims: [ida, idb],
            reverted,
            slash,
        }
    }

    /// Reverts `root` (if pending) with `reason` and every pending descendant with
    /// [`RevertReason::Ancestor`], breadth first in inclusion order. A descendant that is
    /// already reverted is skipped: its own descendants are reverted already. Returns the
    /// claims whose status changed.
    fn revert_tree(&mut self, root: ClaimId, at: u64, reason: RevertReason) -> Vec<ClaimId> {
        let mut changed = Vec::new();
        let mut queue = std::collections::VecDeque::from([(root, reason)]);
        while let Some((id, reason)) = queue.pop_front() {
            let Some(record) = self.claims.get_mut(&id) else {
                continue;
            };
            // A final claim has only final or pending descendants finalizing later, and is
            // never reverted; a reverted one has only reverted descendants.
            if !record.status.is_pending() {
                continue;
            }
            record.status = ClaimStatus::Reverted { at, reason };
            self.examine = true;
            changed.push(id);
            queue.extend(
                record
                    .children
                    .iter()
                    .map(|child| (*child, RevertReason::Ancestor { claim: root })),
            );
        }
        changed
    }

    /// Rule 5: reverts every pending claim of a slashed `executor`, with its descendants, in
    /// inclusion order. Returns the claims whose status changed.
    fn revert_executor(&mut self, executor: Address, at: u64) -> Vec<ClaimId> {
        let mut pending: Vec<(u64, ClaimId)> = self
            .claims
            .iter()
            .filter(|(_, r)| r.claim.claim.executor == executor && r.status.is_pending())
            .map(|(id, r)| (r.seq, *id))
            .collect();
        pending.sort_unstable();
        let mut changed = Vec::new();
        for (_, id) in pending {
            changed.extend(self.revert_tree(id, at, RevertReason::ExecutorSlashed));
        }
        changed
    }

    /// Rule 5: removes the executor's remaining bond, credits the reward to `beneficiary`
    /// (if any) and burns the rest.
    fn slash(&mut self, executor: Address, beneficiary: Option<Address>) -> Slash {
        let amount = self
            .ledger
            .bonds
            .get_mut(&executor)
            .map(std::mem::take)
            .unwrap_or(0);
        let reward = match beneficiary {
            Some(_) => percent_of(amount, self.params.slash_reward_percent),
            None => 0,
        };
        let burned = amount - reward;
        // K_eff may drop (rule 3).
        self.examine = true;
        let slashed = self.ledger.slashed.entry(executor).or_insert(0);
        *slashed = slashed.saturating_add(amount);
        if let (Some(to), true) = (beneficiary, reward > 0) {
            let credit = self.ledger.rewards.entry(to).or_insert(0);
            *credit = credit.saturating_add(reward);
        }
        self.ledger.burned = self.ledger.burned.saturating_add(burned);
        Slash {
            executor,
            amount,
            beneficiary,
            reward,
            burned,
        }
    }

    /// Rule 3 and the canonical chain (rule 6), after the items of block `height` (timestamp
    /// `t`).
    fn finalize(&mut self, height: u64, t: u64) {
        // Claims ripen in inclusion order: a block that closes one claim's window closes the
        // window of every claim included before it.
        while let Some(&id) = self.windows.front() {
            let Some(record) = self.claims.get_mut(&id) else {
                self.windows.pop_front();
                continue;
            };
            let blocks_passed = height
                >= record
                    .included_at
                    .saturating_add(self.params.min_window_blocks);
            let time_passed = t
                >= record
                    .included_ms
                    .saturating_add(self.params.challenge_window_ms);
            if !(blocks_passed && time_passed) {
                break;
            }
            self.windows.pop_front();
            if record.status.is_pending() {
                record.ripened = Some((height, t));
                self.ripe
                    .insert((record.claim.claim.data_height, record.seq), id);
                self.examine = true;
            }
        }
        // Held claims can only move when something ripened, was recorded or reverted, or an
        // executor was slashed; otherwise the examination would change nothing.
        if std::mem::take(&mut self.examine) {
            self.examine_ripe(height);
        }
        self.extend_canonical(height);
    }

    /// Rule 3 for the ripe claims, in block `height`.
    fn examine_ripe(&mut self, height: u64) {
        let required = self.required_corroboration();
        let ripe: Vec<((u64, u64), ClaimId)> = self.ripe.iter().map(|(k, id)| (*k, *id)).collect();
        for (key, id) in ripe {
            let Some(record) = self.claims.get(&id) else {
                self.ripe.remove(&key);
                continue;
            };
            if !record.status.is_pending() {
                self.ripe.remove(&key);
                continue;
            }
            if !self.parent_final(record)
                || self.is_disputed(&id)
                || self.corroboration(&id) < required
            {
                continue;
            }
            if let Some(record) = self.claims.get_mut(&id) {
                record.status = ClaimStatus::Final { at: height };
            }
            self.ripe.remove(&key);
        }
    }

    /// Whether the claim's parent is final (rule 3), also once the parent is pruned (rule 7);
    /// true for a claim on the genesis state.
    fn parent_final(&self, record: &Record) -> bool {
        record.claim.claim.parent() == GENESIS_PARENT
            || record.parent_pruned_final
            || self
                .claims
                .get(&record.claim.claim.parent())
                .is_some_and(|p| p.status.is_final())
    }

    /// Rule 7, after finality in each block: moves the pruned height up to `R` below the
    /// finalized height and forgets every height at or below it whose claims are all settled
    /// (including heights passed earlier whose last pending claim has settled since).
    fn prune(&mut self) {
        let mut horizon = self
            .latest_final_height()
            .saturating_sub(self.retained_final_heights);
        // The latest canonical claim is never forgotten: after a long run of empty blocks it
        // is still the parent of every executor's next claim.
        if let Some((&last, _)) = self.canonical.last_key_value() {
            horizon = horizon.min(last - 1);
        }
        if horizon > self.pruned_through {
            // The anchor: every final height has a canonical root (rule 6).
            let Some(anchor) = self.canonical_root(horizon) else {
                return;
            };
            self.canonical = self.canonical.split_off(&(horizon + 1));
            self.pruned_through = horizon;
            self.pruned_root = anchor;
            let kept = self.with_txs.split_off(&(horizon + 1));
            let dropped = std::mem::replace(&mut self.with_txs, kept);
            if let Some(&last) = dropped.last() {
                self.pruned_with_txs = Some(last);
            }
        }
        let settled_heights: Vec<u64> = self
            .by_height
            .range(..=self.pruned_through)
            .filter(|(_, ids)| {
                ids.iter()
                    .all(|id| self.claims.get(id).is_none_or(|r| !r.status.is_pending()))
            })
            .map(|(height, _)| *height)
            .collect();
        for height in settled_heights {
            for id in self.by_height.remove(&height).unwrap_or_default() {
                self.forget(&id);
            }
        }
    }

    /// Removes a settled claim's record and its slot; its children, if kept, remember whether
    /// it was final, and its parent, if kept, stops listing it.
    fn forget(&mut self, id: &ClaimId) {
        let Some(record) = self.claims.remove(id) else {
            return;
        };
        let c = &record.claim.claim;
        let slot = (c.executor, c.data_height, c.parent());
        if self.slots.get(&slot) == Some(id) {
            self.slots.remove(&slot);
        }
        if let Some(parent) = self.claims.get_mut(&c.parent()) {
            parent.children.retain(|child| child != id);
        }
        if record.status.is_final() {
            for child in &record.children {
                if let Some(child) = self.claims.get_mut(child) {
                    child.parent_pruned_final = true;
                }
            }
        }
    }

    /// `K_eff` (rule 3): `min(K, registered executors not slashed)`, at least 1.
    pub fn required_corroboration(&self) -> u64 {
        let live = self
            .registry
            .iter()
            .filter(|(address, _)| !self.is_slashed(address))
            .count() as u64;
        self.params.min_corroboration.min(live).max(1)
    }

    /// How many distinct executors that are not slashed have recorded, unreverted claims
    /// that agree with `id` (same data height, pre-state, post-state and trace roots), its own
    /// executor included (rule 3). 0 for an unknown claim.
    pub fn corroboration(&self, id: &ClaimId) -> u64 {
        let Some(record) = self.claims.get(id) else {
            return 0;
        };
        let c = &record.claim.claim;
        let agreeing: BTreeSet<Address> = self
            .by_height
            .get(&c.data_height)
            .into_iter()
            .flatten()
            .filter_map(|other| self.claims.get(other))
            .filter(|r| {
                let o = &r.claim.claim;
                !r.status.is_reverted()
                    && !self.is_slashed(&o.executor)
                    && o.pre_state_root == c.pre_state_root
                    && o.post_state_root == c.post_state_root
                    && o.trace_root == c.trace_root
            })
            .map(|r| r.claim.claim.executor)
            .collect();
        agreeing.len() as u64
    }

    /// Whether another recorded, unreverted claim for the same height and pre-state root
    /// disagrees with `id` on the post-state or trace root (rule 3).
    fn is_disputed(&self, id: &ClaimId) -> bool {
        let Some(record) = self.claims.get(id) else {
            return false;
        };
        let c = &record.claim.claim;
        self.by_height
            .get(&c.data_height)
            .into_iter()
            .flatten()
            .filter(|other| *other != id)
            .filter_map(|other| self.claims.get(other))
            .any(|r| {
                let o = &r.claim.claim;
                !r.status.is_reverted()
                    && o.pre_state_root == c.pre_state_root
                    && (o.post_state_root != c.post_state_root || o.trace_root != c.trace_root)
            })
    }

    /// Grows the canonical chain, up to decided block `height`: over an empty block (its state
    /// is its parent's), and over a height whose block has transactions while it has a final
    /// claim starting from the canonical root. Following roots rather than one executor's
    /// parent links keeps the chain growing when the executor it has followed so far is later
    /// slashed.
    fn extend_canonical(&mut self, height: u64) {
        while self.final_height < height {
            let next = self.final_height + 1;
            if !self.with_txs.contains(&next) {
                self.final_height = next;
                continue;
            }
            let Some(tip_root) = self.canonical_root(self.final_height) else {
                return;
            };
            let found = self.by_height.get(&next).and_then(|ids| {
                ids.iter().copied().find(|id| {
                    self.claims.get(id).is_some_and(|r| {
                        r.status.is_final() && B256::from(r.claim.claim.pre_state_root) == tip_root
                    })
                })
            });
            match found {
                Some(id) => {
                    self.canonical.insert(next, id);
                    self.final_height = next;
                }
                None => return,
            }
        }
    }

    /// The highest decided height below `height` whose block has transactions (rule 1), if
    /// any. Exact for every `height` above [`Self::pruned_through`].
    fn previous_with_txs(&self, height: u64) -> Option<u64> {
        self.with_txs
            .range(..height)
            .next_back()
            .copied()
            .or(self.pruned_with_txs)
    }

    /// Whether decided block `height` (at most [`Self::applied_height`], above
    /// [`Self::pruned_through`]) has transactions.
    pub fn has_transactions(&self, height: u64) -> bool {
        self.with_txs.contains(&height)
    }

    // ----- queries -----

    /// The parameters this machine runs with.
    pub fn params(&self) -> &StateParams {
        &self.params
    }

    pub fn registry(&self) -> &ExecutorRegistry {
        &self.registry
    }

    /// The state root before block 1.
    pub fn genesis_root(&self) -> B256 {
        self.genesis_root
    }

    /// The last block applied (0 before any).
    pub fn applied_height(&self) -> u64 {
        self.applied_height
    }

    /// The timestamp (ms) of the last block applied (0 before any).
    pub fn applied_ms(&self) -> u64 {
        self.applied_ms
    }

    /// Every recorded claim for data height `height`, in inclusion order, with its status.
    pub fn claims_at(&self, height: u64) -> Vec<(ClaimId, &SignedClaim, ClaimStatus)> {
        self.by_height
            .get(&height)
            .into_iter()
            .flatten()
            .filter_map(|id| self.claims.get(id).map(|r| (*id, &r.claim, r.status)))
            .collect()
    }

    /// A recorded claim.
    pub fn claim(&self, id: &ClaimId) -> Option<ClaimView<'_>> {
        self.claims.get(id).map(|r| ClaimView {
            id: *id,
            claim: &r.claim,
            included_at: r.included_at,
            included_ms: r.included_ms,
            status: r.status,
        })
    }

    /// The status of a recorded claim.
    pub fn status(&self, id: &ClaimId) -> Option<ClaimStatus> {
        self.claims.get(id).map(|r| r.status)
    }

    /// The canonical claim at `height` (rule 6); `None` at 0, at heights without transactions
    /// (they take no claim), at pruned heights (up to [`Self::pruned_through`], rule 7) and
    /// above [`Self::latest_final_height`].
    pub fn canonical_claim(&self, height: u64) -> Option<ClaimId> {
        self.canonical.get(&height).copied()
    }

    /// The canonical claim whose post-state is the canonical state at `height`: the one at the
    /// highest height with transactions at or below `height`, with that height; `None` if it
    /// is pruned, or `height` is above [`Self::latest_final_height`] or has no claim below it
    /// (the genesis state).
    pub fn canonical_claim_at_or_below(&self, height: u64) -> Option<(u64, ClaimId)> {
        if height > self.final_height {
            return None;
        }
        self.canonical
            .range(..=height)
            .next_back()
            .map(|(h, id)| (*h, *id))
    }

    /// The canonical state root at `height`: the genesis root at 0, then the post-state root
    /// of the canonical claim at the highest height with transactions at or below `height`;
    /// `None` below [`Self::pruned_through`] (rule 7; the root at it is kept as the anchor)
    /// and above [`Self::latest_final_height`].
    pub fn canonical_root(&self, height: u64) -> Option<B256> {
        if height == 0 {
            return Some(self.genesis_root);
        }
        if height < self.pruned_through || height > self.final_height {
            return None;
        }
        match self.canonical.range(..=height).next_back() {
            Some((_, id)) => self.post_root(id),
            None => Some(self.pruned_root),
        }
    }

    /// The highest height with a canonical root (0 when nothing is final yet): every height
    /// from [`Self::pruned_through`] up to it has one. Empty blocks right after a final claim
    /// are final with it (their state is its post-state).
    pub fn latest_final_height(&self) -> u64 {
        self.final_height
    }

    /// `P` of rule 7: heights up to it whose claims are all settled are forgotten, and items
    /// about heights up to it are refused (0 while nothing is pruned).
    pub fn pruned_through(&self) -> u64 {
        self.pruned_through
    }

    /// `R` of rule 7 this machine runs with.
    pub fn retained_final_heights(&self) -> u64 {
        self.retained_final_heights
    }

    /// How many claims are recorded (pruned ones are not counted), for measurements.
    pub fn recorded_claims(&self) -> usize {
        self.claims.len()
    }

    /// The safe claim whose post-state is the safe state at `height` (rule 6): the canonical
    /// one up to the final tip, then the first-included non-reverted claim on top of the
    /// previous safe claim, at the highest height with transactions at or below `height`.
    /// `None` at 0, where only the genesis state is safe, and where the safe chain stops
    /// below `height`.
    pub fn safe_claim(&self, height: u64) -> Option<ClaimId> {
        if height == 0 {
            return None;
        }
        if height <= self.final_height {
            return self.canonical_claim_at_or_below(height).map(|(_, id)| id);
        }
        let (reached, _, claim) = self.safe_walk(height);
        (reached == height).then_some(claim?)
    }

    /// Walks the safe chain up from the final tip to at most `up_to` (never above the applied
    /// height): returns the height reached, the safe root there, and the last safe claim on
    /// the way (the canonical claim at or below the final tip if the walk found none above).
    fn safe_walk(&self, up_to: u64) -> (u64, B256, Option<ClaimId>) {
        let mut height = self.final_height;
        let mut claim = self.canonical_claim_at_or_below(height).map(|(_, id)| id);
        let Some(mut root) = self.canonical_root(height) else {
            return (height, B256::ZERO, None);
        };
        let up_to = up_to.min(self.applied_height);
        while height < up_to {
            let next = height + 1;
            if self.with_txs.contains(&next) {
                let Some(id) = self.safe_child(next, root) else {
                    break;
                };
                let Some(post) = self.post_root(&id) else {
                    break;
                };
                root = post;
                claim = Some(id);
            }
            height = next;
        }
        (height, root, claim)
    }

    /// The first-included unreverted claim at `height` that starts from `root`, if every such
    /// claim agrees with it (a dispute has no safe side).
    fn safe_child(&self, height: u64, root: B256) -> Option<ClaimId> {
        let mut candidates = self.by_height.get(&height)?.iter().copied().filter(|id| {
            self.claims.get(id).is_some_and(|r| {
                !r.status.is_reverted() && B256::from(r.claim.claim.pre_state_root) == root
            })
        });
        let first = candidates.next()?;
        let c = &self.claims.get(&first)?.claim.claim;
        let agree = candidates.all(|id| {
            self.claims.get(&id).is_some_and(|r| {
                r.claim.claim.post_state_root == c.post_state_root
                    && r.claim.claim.trace_root == c.trace_root
            })
        });
        agree.then_some(first)
    }

    /// The safe state root at `height` (the genesis root at 0): the canonical root up to
    /// the final tip (so `None` below [`Self::pruned_through`]), then the safe chain's.
    pub fn safe_root(&self, height: u64) -> Option<B256> {
        if height <= self.final_height {
            return self.canonical_root(height);
        }
        let (reached, root, _) = self.safe_walk(height);
        (reached == height).then_some(root)
    }

    /// The highest height with a safe root (at least [`Self::latest_final_height`]).
    pub fn latest_safe_height(&self) -> u64 {
        self.safe_walk(u64::MAX).0
    }

    fn post_root(&self, id: &ClaimId) -> Option<B256> {
        self.claims
            .get(id)
            .map(|r| B256::from(r.claim.claim.post_state_root))
    }

    /// Unresolved disputes that hold back finality: for each (data height, pre-state root)
    /// where a claim past its window is disputed (rule 3), every unreverted claim on that
    /// pre-state root, in inclusion order. Empty while nothing is held by a dispute. A dispute
    /// that lasts means no fraud proof has settled it: state finality stops there.
    pub fn disputes(&self) -> Vec<Dispute> {
        let mut out: Vec<Dispute> = Vec::new();
        for id in self.ripe.values() {
            if !self.is_disputed(id) {
                continue;
            }
            let Some(record) = self.claims.get(id) else {
                continue;
            };
            let c = &record.claim.claim;
            let pre = B256::from(c.pre_state_root);
            if out
                .iter()
                .any(|d| d.data_height == c.data_height && d.pre_state_root == pre)
            {
                continue;
            }
            let claims = self
                .by_height
                .get(&c.data_height)
                .into_iter()
                .flatten()
                .filter(|other| {
                    self.claims.get(other).is_some_and(|r| {
                        !r.status.is_reverted() && r.claim.claim.pre_state_root == c.pre_state_root
                    })
                })
                .copied()
                .collect();
            let (since_height, since_ms) = record.ripened.unwrap_or((0, 0));
            out.push(Dispute {
                data_height: c.data_height,
                pre_state_root: pre,
                since_height,
                since_ms,
                claims,
            });
        }
        out
    }

    /// Pending claims past their window (held by their parent, by a dispute or for want of
    /// corroboration).
    pub fn held_claims(&self) -> usize {
        self.ripe.len()
    }

    /// Ripe claims held only for want of corroboration (rule 3): their parent is final (or
    /// they are for height 1) and they are not disputed, but fewer than
    /// [`Self::required_corroboration`] executors agree with them.
    pub fn uncorroborated_claims(&self) -> usize {
        let required = self.required_corroboration();
        self.ripe
            .values()
            .filter(|id| {
                self.claims.get(id).is_some_and(|r| {
                    r.status.is_pending()
                        && self.parent_final(r)
                        && !self.is_disputed(id)
                        && self.corroboration(id) < required
                })
            })
            .count()
    }

    /// Bonds, slashed amounts, rewards and burned total.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Whether `executor` has been slashed.
    pub fn is_slashed(&self, executor: &Address) -> bool {
        self.ledger.slashed.contains_key(executor)
    }

    /// Whether a fraud proof with this id has been accepted.
    pub fn proof_accepted(&self, proof_id: &[u8; 32]) -> bool {
        self.proofs.contains(proof_id)
    }
}

/// `floor(amount * percent / 100)` without overflow, for `percent <= 100`.
fn percent_of(amount: u128, percent: u8) -> u128 {
    let p = u128::from(percent.min(100));
    amount / 100 * p + amount % 100 * p / 100
}
