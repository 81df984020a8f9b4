//! The Malachite application loop of a data-chain node. It answers every `AppMsg` the engine
//! sends: builds and streams proposals from the mempool, reassembles and checks received ones,
//! persists decisions before acknowledging them, and serves decided blocks to syncing peers.
//! It never executes a transaction; in the benchmark-only coupled mode it calls the execution
//! wired in through [`crate::coupled`] on each proposal before proposing or voting, and on
//! each decided block before the next height. CPU-heavy checks run on the blocking pool, awaited in
//! order, so the engine sees the same sequence of replies as with inline work.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use lazychain_data_chain_consensus::codec::{decode_certificate, encode_certificate};
use lazychain_data_chain_consensus::engine::Timing;
use lazychain_data_chain_consensus::malachite::app::engine::host::{Next, SyncedValueOutcome};
use lazychain_data_chain_consensus::malachite::app::types::core::{
    CommitCertificate, ExtendedCommitCertificate, Round, Validity, VoteExtensions,
};
use lazychain_data_chain_consensus::malachite::app::types::sync::RawDecidedValue;
use lazychain_data_chain_consensus::malachite::app::types::{
    LocallyProposedValue, PeerId, ProposedValue,
};
use lazychain_data_chain_consensus::malachite::{AppMsg, Channels, NetworkMsg};
use lazychain_data_chain_consensus::parts::{
    sign_parts, stream_block, AssembledProposal, AssemblyLimits, PartsAssembler,
};
use lazychain_data_chain_consensus::{
    Address, BlockValue, Height, LazyContext, LazySigner, Signature, ValidatorSet,
};
use lazychain_data_chain_types::block::{BlockBody, BlockTemplate};
use lazychain_data_chain_types::validity::validate_block;
use lazychain_data_chain_types::{Block, BlockHash};
use tracing::{debug, error, info, warn};

use crate::coupled::{CoupledExecution, KnownSender};
use crate::extension::ExtensionError;
use crate::shared::{now_ms, DecidedEvent, NodeShared};
use crate::store::{StoreError, StoredProposal};
use alloy_primitives::B256;

/// How many decided heights one sync response may carry at most.
const MAX_SYNC_BATCH: u64 = 20;
/// How often an idle validator whose mempool holds only transactions that cannot pay the base
/// fee looks again whether one can.
const STUCK_TX_RECHECK: Duration = Duration::from_millis(500);
/// Proposals for future heights kept until their parent is decided.
const MAX_PENDING_PROPOSALS: usize = 32;
/// How far ahead of the last decided height a kept proposal may be.
const MAX_PENDING_HEIGHTS: u64 = 2;

pub struct App {
    shared: Arc<NodeShared>,
    validators: ValidatorSet,
    timing: Timing,
    address: Address,
    signer: Option<LazySigner>,
    assembler: PartsAssembler<PeerId>,
    /// How long a proposer waits for a first transaction before proposing an empty block.
    max_block_wait: Duration,
    /// While no transaction waits, a validator starts the next height only this long after
    /// the last block's timestamp; zero starts it at once.
    empty_block_interval: Duration,
    /// The highest height of which a complete, authenticated proposal has arrived: another
    /// validator has started it, so an idle wait for it ends.
    proposal_seen: tokio::sync::watch::Sender<u64>,
    height: Height,
    round: Round,
    /// Complete proposals for heights whose parent was not decided yet when they arrived.
    pending: Vec<AssembledProposal>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("background task failed: {0}")]
    Join(String),
}

impl App {
    pub fn new(
        shared: Arc<NodeShared>,
        validators: ValidatorSet,
        timing: Timing,
        address: Address,
        signer: Option<LazySigner>,
        max_block_wait: Duration,
        empty_block_interval: Duration,
    ) -> Self {
        let limits = AssemblyLimits {
            max_stream_bytes: shared.rules.max_block_bytes as usize * 2 + (64 << 10),
            max_stream_parts: 4096,
            max_streams_per_peer: 16,
        };
        Self {
            shared,
            validators,
            timing,
            address,
            signer,
            assembler: PartsAssembler::new(limits),
            max_block_wait,
            empty_block_interval,
            proposal_seen: tokio::sync::watch::Sender::new(0),
            height: Height(0),
            round: Round::Nil,
            pending: Vec::new(),
        }
    }

    /// Runs until the engine closes its channel.
    pub async fn run(mut self, mut channels: Channels<LazyContext>) -> Result<(), AppError> {
        while let Some(msg) = channels.consensus.recv().await {
            if let Err(e) = self.handle(msg, &channels).await {
                // Storage failures are not recoverable here: stop rather than reply wrongly.
                error!(error = %e, "application failed; stopping");
                return Err(e);
            }
        }
        Ok(())
    }

    async fn handle(
        &mut self,
        msg: AppMsg<LazyContext>,
        channels: &Channels<LazyContext>,
    ) -> Result<(), AppError> {
        match msg {
            AppMsg::ConsensusReady { reply } => {
                let next = Height(self.shared.store.latest_height()? + 1);
                info!(height = %next, "consensus ready");
                let _ = reply.send((next, self.timing.height_params(&self.validators)));
            }
            AppMsg::StartedRound {
                height,
                round,
                proposer,
                role,
                reply_value,
            } => {
                debug!(%height, %round, %proposer, ?role, "started round");
                self.height = height;
                self.round = round;
                self.shared.set_round(height.0, round.as_i64());
                self.settle_pending(height).await?;
                let values = match round.as_u32() {
                    Some(r) => self
                        .shared
                        .store
                        .proposals_at(height.0, r)?
                        .into_iter()
                        .filter_map(|p| proposed_value(&p))
                        .collect(),
                    None => Vec::new(),
                };
                let _ = reply_value.send(values);
            }
            AppMsg::GetValue {
                height,
                round,
                timeout,
                reply,
            } => {
                if let Some(value) = self.get_value(height, round, timeout, channels).await? {
                    let _ = reply.send(value);
                }
            }
            AppMsg::ExtendVote { reply, .. } => {
                let _ = reply.send(None);
            }
            AppMsg::VerifyVoteExtensions {
                extensions, reply, ..
            } => {
                // lazychain does not use vote extensions; any that appear are accepted unread.
                let _ = reply.send(extensions.into_iter().map(|(a, _)| (a, Ok(()))).collect());
            }
            AppMsg::RestreamProposal {
                height,
                round,
                valid_round,
                address,
                value_id,
            } => {
                self.restream(
                    height,
                    round,
                    valid_round,
                    address,
                    BlockHash::from(value_id),
                    channels,
                )
                .await?;
            }
            AppMsg::GetHistoryMinHeight { reply } => {
                let _ = reply.send(Height(1));
            }
            AppMsg::ReceivedProposalPart {
                from,
                published_by,
                part,
                reply,
            } => {
                let publisher = published_by.unwrap_or(from);
                let value = self.received_part(from, publisher, part).await?;
                let _ = reply.send(value);
            }
            AppMsg::Decided {
                certificate,
                extensions,
                reply,
            } => {
                if self.decided(certificate, extensions).await? {
                    let _ = reply.send(());
                }
            }
            AppMsg::Finalized {
                certificate,
                evidence,
                reply,
                ..
            } => {
                if !evidence.is_empty() {
                    // Equivocation is not slashed yet; operators must at least see it.
                    warn!(height = %certificate.height, ?evidence, "misbehaviour evidence: a validator signed conflicting messages");
                    self.shared.metrics.equivocations.inc();
                }
                let next = Height(certificate.height.0 + 1);
                let start = Next::Start(next, self.timing.height_params(&self.validators));
                match self.idle_deadline(next)? {
                    None => {
                        let _ = reply.send(start);
                    }
                    // The engine's connector awaits this reply in a task of its own, so the
                    // engine keeps receiving (and queueing) messages while we wait.
                    Some(deadline_ms) => {
                        let idle = IdleWait {
                            shared: self.shared.clone(),
                            proposal_seen: self.proposal_seen.subscribe(),
                            next: next.0,
                            deadline_ms,
                        };
                        tokio::spawn(async move {
                            idle.until_due().await;
                            let _ = reply.send(start);
                        });
                    }
                }
            }
            AppMsg::GetDecidedValues { range, reply } => {
                let values = self.decided_values(range.start().0, range.end().0).await?;
                let _ = reply.send(values);
            }
            AppMsg::ProcessSyncedValue {
                height,
                round,
                proposer,
                value_bytes,
                reply,
            } => {
                let outcome = self
                    .synced_value(height, round, proposer, value_bytes)
                    .await?;
                let _ = reply.send(outcome);
            }
        }
        Ok(())
    }

    async fn get_value(
        &mut self,
        height: Height,
        round: Round,
        timeout: Duration,
        channels: &Channels<LazyContext>,
    ) -> Result<Option<LocallyProposedValue<LazyContext>>, AppError> {
        let Some(signer) = self.signer.clone() else {
            warn!(%height, %round, "asked to propose without a signing key");
            return Ok(None);
        };
        let Some(r) = round.as_u32() else {
            return Ok(None);
        };
        // After a restart the same (height, round) must yield the same value.
        let existing = self
            .shared
            .store
            .proposals_at(height.0, r)?
            .into_iter()
            .find(|p| p.own);
        let (block, signature) = match existing {
            Some(p) => {
                let block = p.block()?;
                let value = BlockValue::new(block.header.clone()).map_err(store_corrupt)?;
                (
                    block,
                    sign_parts(&signer, height, round, Round::Nil, self.address, &value),
                )
            }
            None => {
                let started = Instant::now();
                let wait = self.max_block_wait.min(timeout / 2);
                self.shared.wait_for_txs(wait).await;
                let Some(block) = self.build_block(height)? else {
                    return Ok(None);
                };
                let value = BlockValue::new(block.header.clone()).map_err(store_corrupt)?;
                let signature =
                    sign_parts(&signer, height, round, Round::Nil, self.address, &value);
                self.shared.store.put_proposal(
                    &StoredProposal {
                        height: height.0,
                        round: r,
                        pol_round: -1,
                        proposer: self.address.0,
                        valid: true,
                        own: true,
                        parts_signature: Some(signature.0),
                        block_ssz: block.to_ssz(),
                    },
                    &value.hash,
                )?;
                debug!(%height, %round, txs = block.header.tx_count, elapsed = ?started.elapsed(), "built block");
                (block, signature)
            }
        };
        // Coupled mode (benchmarks only): the proposer executes its block before proposing.
        self.execute_coupled(&block).await?;
        let value = BlockValue::new(block.header.clone()).map_err(store_corrupt)?;
        for msg in stream_block(&block, round, Round::Nil, self.address, signature) {
            if channels
                .network
                .send(NetworkMsg::PublishProposalPart(msg))
                .await
                .is_err()
            {
                warn!("network channel closed while streaming a proposal");
            }
        }
        Ok(Some(LocallyProposedValue::new(height, round, value)))
    }

    /// When a validator may start height `next` (ms since the epoch) if it stays idle: the
    /// last block's timestamp plus the empty-block interval. `None` to start at once: not a
    /// validator (full nodes and executors just follow), no interval configured, or the
    /// parent unknown here.
    fn idle_deadline(&self, next: Height) -> Result<Option<u64>, AppError> {
        if self.signer.is_none() || self.empty_block_interval.is_zero() {
            return Ok(None);
        }
        let Some(parent) = self.shared.store.parent_of(next.0)? else {
            return Ok(None);
        };
        let interval_ms = u64::try_from(self.empty_block_interval.as_millis()).unwrap_or(u64::MAX);
        Ok(Some(parent.timestamp_ms.saturating_add(interval_ms)))
    }

    fn build_block(&self, height: Height) -> Result<Option<Block>, AppError> {
        let Some(parent) = self.shared.store.parent_of(height.0)? else {
            warn!(%height, "cannot propose: parent block is not decided here");
            return Ok(None);
        };
        let rules = &self.shared.rules;
        // State-consensus items first: they are few and time-critical (a fraud proof must land
        // inside the challenge window); at most half the block's bytes, but always room for
        // the largest fraud proof.
        let state = self.shared.state_service();
        let item_budget = (rules.max_block_bytes as usize / 2)
            .max(state.max_item_bytes())
            .min(rules.max_block_bytes as usize);
        let (claims, proofs) = state.select_items(height.0, item_budget);
        let item_bytes: usize = claims.iter().chain(&proofs).map(Vec::len).sum();
        let timestamp_ms = now_ms().max(parent.timestamp_ms + 1);
        // The execution budget: declared gas within what the bucket holds now, and only
        // transactions that can pay the block's base fee.
        let budget = &rules.budget;
        let base_fee = budget.base_fee(&parent, timestamp_ms);
        let txs = self.shared.select_txs(
            rules.max_txs_per_block as usize,
            (rules.max_block_bytes as usize).saturating_sub(item_bytes),
            budget.block_gas_cap(&parent, timestamp_ms, rules.max_block_gas),
            u128::from(base_fee),
        );
        let gas: u64 = txs.iter().map(|t| t.gas_limit).sum();
        let body = BlockBody::from_transactions(txs.iter().map(|t| t.raw.as_ref()))
            .and_then(|b| b.with_items(&claims, &proofs))
            .map_err(store_corrupt)?;
        let template = BlockTemplate {
            chain_id: rules.chain_id,
            height: height.0,
            parent: parent.hash,
            proposer: self.address.0,
            timestamp_ms,
            gas_available: budget.available(&parent, timestamp_ms),
            base_fee_per_gas: base_fee,
        };
        Ok(Some(
            Block::build(&template, body, gas).map_err(store_corrupt)?,
        ))
    }

    /// Re-publishes the parts of a proposal Malachite holds. For our own re-proposal in a new
    /// round we sign; for another validator's proposal (re-streamed after locking on it) we
    /// forward the proposer's original signature.
    async fn restream(
        &self,
        height: Height,
        round: Round,
        valid_round: Round,
        proposer: Address,
        hash: BlockHash,
        channels: &Channels<LazyContext>,
    ) -> Result<(), AppError> {
        let Some(r) = round.as_u32() else {
            return Ok(());
        };
        let Some(stored) = self.shared.store.proposal_by_hash(height.0, &hash)? else {
            warn!(%height, %round, %hash, "asked to re-stream a proposal this node does not have");
            return Ok(());
        };
        let block = stored.block()?;
        let value = BlockValue::new(block.header.clone()).map_err(store_corrupt)?;
        let (signature, pol_round) = if proposer == self.address {
            match &self.signer {
                Some(signer) => (
                    sign_parts(signer, height, round, valid_round, proposer, &value),
                    valid_round,
                ),
                None => return Ok(()),
            }
        } else {
            let original = self.shared.store.proposal_at(height.0, r, &hash)?;
            match original.and_then(|p| p.parts_signature.map(|s| (s, p.pol_round))) {
                Some((sig, pol)) => (Signature(sig), Round::from(pol)),
                None => {
                    debug!(%height, %round, %hash, "no proposer signature to re-stream with");
                    return Ok(());
                }
            }
        };
        for msg in stream_block(&block, round, pol_round, proposer, signature) {
            let _ = channels
                .network
                .send(NetworkMsg::PublishProposalPart(msg))
                .await;
        }
        Ok(())
    }

    async fn received_part(
        &mut self,
        from: PeerId,
        publisher: PeerId,
        part: lazychain_data_chain_consensus::malachite::app::types::streaming::StreamMessage<
            lazychain_data_chain_consensus::ProposalPart,
        >,
    ) -> Result<Option<ProposedValue<LazyContext>>, AppError> {
        let assembled = match self.assembler.add(publisher, part, &self.validators) {
            Ok(Some(p)) => p,
            Ok(None) => return Ok(None),
            Err(e) => {
                self.shared.metrics.rejected_parts.inc();
                warn!(%from, %publisher, error = %e, "rejected proposal part stream");
                return Ok(None);
            }
        };
        let latest = self.shared.store.latest_height()?;
        if assembled.height.0 <= latest {
            return Ok(None);
        }
        // Its proposer started that height: so do we, if we were idle-waiting for it.
        self.proposal_seen.send_if_modified(|seen| {
            let newer = assembled.height.0 > *seen;
            if newer {
                *seen = assembled.height.0;
            }
            newer
        });
        if self.shared.store.parent_of(assembled.height.0)?.is_none() {
            // A proposal for a height whose parent is not decided here yet (we lag by a block
            // or two): keep it and check it when that height starts.
            if assembled.height.0 <= latest + MAX_PENDING_HEIGHTS {
                if self.pending.len() >= MAX_PENDING_PROPOSALS {
                    self.pending.remove(0);
                }
                self.pending.push(assembled);
            }
            return Ok(None);
        }
        self.check_and_store(assembled).await
    }

    /// Validates a complete proposal statelessly, stores it with its verdict, and returns it
    /// as Malachite expects. `None` if its parent is still unknown.
    async fn check_and_store(
        &self,
        assembled: AssembledProposal,
    ) -> Result<Option<ProposedValue<LazyContext>>, AppError> {
        let Some(round) = assembled.round.as_u32() else {
            return Ok(None);
        };
        let Some(parent) = self.shared.store.parent_of(assembled.height.0)? else {
            return Ok(None);
        };
        let shared = self.shared.clone();
        let block = assembled.block.clone();
        let verdict = tokio::task::spawn_blocking(move || {
            validate_block(&block, &parent, &shared.rules, now_ms(), shared.as_ref())
        })
        .await
        .map_err(|e| AppError::Join(e.to_string()))?;
        let valid = match verdict {
            Ok(_) => true,
            Err(e) => {
                self.shared.metrics.invalid_blocks.inc();
                warn!(height = %assembled.height, round = %assembled.round, proposer = %assembled.proposer, error = %e, "invalid proposal");
                false
            }
        };
        if valid {
            // Coupled mode (benchmarks only): execute before the engine may vote on it.
            self.execute_coupled(&assembled.block).await?;
        }
        let stored = StoredProposal {
            height: assembled.height.0,
            round,
            pol_round: assembled.pol_round.as_i64(),
            proposer: assembled.proposer.0,
            valid,
            own: false,
            parts_signature: Some(assembled.signature.0),
            block_ssz: assembled.block.to_ssz(),
        };
        self.shared
            .store
            .put_proposal(&stored, &assembled.value.hash)?;
        Ok(Some(ProposedValue {
            height: assembled.height,
            round: assembled.round,
            valid_round: assembled.pol_round,
            proposer: assembled.proposer,
            value: assembled.value,
            validity: Validity::from_bool(valid),
        }))
    }

    /// Checks and stores the proposals that arrived before their height could be checked.
    async fn settle_pending(&mut self, height: Height) -> Result<(), AppError> {
        let (ready, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|p| p.height == height);
        self.pending = rest.into_iter().filter(|p| p.height > height).collect();
        for p in ready {
            self.check_and_store(p).await?;
        }
        Ok(())
    }

    /// Persists a decision. Returns false (and does not acknowledge) if the decided block is
    /// unknown here, which would be a bug: acknowledging it would claim a commit that did not
    /// happen.
    async fn decided(
        &mut self,
        certificate: CommitCertificate<LazyContext>,
        extensions: VoteExtensions<LazyContext>,
    ) -> Result<bool, AppError> {
        let height = certificate.height;
        let hash = BlockHash::from(certificate.value_id);
        let Some(stored) = self.shared.store.proposal_by_hash(height.0, &hash)? else {
            if self.shared.store.height_of(&hash)? == Some(height.0) {
                return Ok(true); // already committed (replayed decision)
            }
            error!(%height, %hash, "decided a block this node does not hold; not acknowledging");
            return Ok(false);
        };
        let block = stored.block()?;
        let ext_cert = ExtendedCommitCertificate::from_commit_certificate_and_extensions(
            certificate,
            extensions,
        );
        let cert_bytes = encode_certificate(&ext_cert);
        let tx_hashes: Vec<[u8; 32]> = block
            .body
            .transactions()
            .map(|raw| lazychain_data_chain_types::tx::tx_hash(raw).0)
            .collect();
        let shared = self.shared.clone();
        let committed = block.clone();
        let hashes = tx_hashes.clone();
        tokio::task::spawn_blocking(move || {
            shared
                .store
                .commit_decided(&committed, &hash, &hashes, &cert_bytes)
        })
        .await
        .map_err(|e| AppError::Join(e.to_string()))??;
        self.commit_coupled(&block).await?;
        self.shared.on_decided(DecidedEvent {
            height: height.0,
            hash,
            round: ext_cert.round.as_i64(),
            tx_hashes,
            header: block.header.clone(),
        });
        Ok(true)
    }

    async fn decided_values(
        &self,
        from: u64,
        to: u64,
    ) -> Result<Vec<RawDecidedValue<LazyContext>>, AppError> {
        let to = to.min(from.saturating_add(MAX_SYNC_BATCH - 1));
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            for h in from..=to {
                let Some(d) = shared.store.decided(h)? else {
                    break;
                };
                let cert = decode_certificate(&d.certificate).map_err(|e| StoreError::Corrupt {
                    what: format!("certificate {h}"),
                    reason: e.to_string(),
                })?;
                out.push(RawDecidedValue::new(Bytes::from(d.block.to_ssz()), cert));
            }
            Ok::<_, StoreError>(out)
        })
        .await
        .map_err(|e| AppError::Join(e.to_string()))?
        .map_err(AppError::from)
    }

    async fn synced_value(
        &self,
        height: Height,
        round: Round,
        proposer: Address,
        value_bytes: Bytes,
    ) -> Result<SyncedValueOutcome<LazyContext>, AppError> {
        let Ok(block) = Block::from_ssz(&value_bytes) else {
            warn!(%height, "synced value does not decode");
            return Ok(SyncedValueOutcome::PeerFault);
        };
        if block.header.height != height.0 {
            return Ok(SyncedValueOutcome::PeerFault);
        }
        let Some(parent) = self.shared.store.parent_of(height.0)? else {
            return Ok(SyncedValueOutcome::LocalTransientError);
        };
        let value = match BlockValue::new(block.header.clone()) {
            Ok(v) => v,
            Err(_) => return Ok(SyncedValueOutcome::PeerFault),
        };
        let shared = self.shared.clone();
        let checked = block.clone();
        let verdict = tokio::task::spawn_blocking(move || {
            validate_block(&checked, &parent, &shared.rules, now_ms(), shared.as_ref())
        })
        .await
        .map_err(|e| AppError::Join(e.to_string()))?;
        let valid = match verdict {
            Ok(_) => true,
            Err(e) => {
                warn!(%height, error = %e, "synced block is invalid");
                false
            }
        };
        let stored = StoredProposal {
            height: height.0,
            round: round.as_u32().unwrap_or(0),
            pol_round: -1,
            proposer: proposer.0,
            valid,
            own: false,
            parts_signature: None,
            block_ssz: value_bytes.to_vec(),
        };
        self.shared.store.put_proposal(&stored, &value.hash)?;
        Ok(SyncedValueOutcome::Verdict(ProposedValue {
            height,
            round,
            valid_round: Round::Nil,
            proposer,
            value,
            validity: Validity::from_bool(valid),
        }))
    }
}

impl App {
    /// Coupled mode only: executes a proposal for the next height on the blocking pool and
    /// waits for it. The result does not change the block's validity.
    async fn execute_coupled(&self, block: &Block) -> Result<(), AppError> {
        if let Some(Err(e)) = self.on_coupled(block, |c, b, k| c.execute(b, k)).await? {
            warn!(height = block.header.height, error = %e, "coupled execution of a proposal failed");
        }
        Ok(())
    }

    /// Coupled mode only: makes a decided block the executed state (executing it if no
    /// proposal of it was executed here).
    async fn commit_coupled(&self, block: &Block) -> Result<(), AppError> {
        let height = block.header.height;
        match self.on_coupled(block, |c, b, k| c.commit(b, k)).await? {
            Some(Ok(root)) => debug!(height, %root, "coupled execution committed"),
            Some(Err(e)) => {
                error!(height, error = %e, "coupled execution of a decided block failed")
            }
            None => {}
        }
        Ok(())
    }

    /// Runs `op` on the coupled state for `block` on the blocking pool; `None` when this node
    /// is not in the coupled mode.
    async fn on_coupled(
        &self,
        block: &Block,
        op: CoupledOp,
    ) -> Result<Option<Result<B256, ExtensionError>>, AppError> {
        let Some(coupled) = self.shared.coupled().cloned() else {
            return Ok(None);
        };
        let shared = self.shared.clone();
        let block = block.clone();
        tokio::task::spawn_blocking(move || {
            op(coupled.as_ref(), &block, &|hash| shared.known_sender(hash))
        })
        .await
        .map(Some)
        .map_err(|e| AppError::Join(e.to_string()))
    }
}

/// An idle validator's wait before it starts the next height (the empty-block interval).
///
/// Every validator waits the same way, from the same decided timestamp, on transactions that
/// gossip brings to all of them: so they start the height together and nobody's propose
/// timeout runs out while the proposer waits. Pending state-consensus items (claims, proofs)
/// do not end the wait: claims about a block would otherwise make the next block, forever.
/// They ride in the next block, which the interval guarantees.
struct IdleWait {
    shared: Arc<NodeShared>,
    proposal_seen: tokio::sync::watch::Receiver<u64>,
    next: u64,
    deadline_ms: u64,
}

impl IdleWait {
    /// Returns once a transaction that can go into the next block is waiting, another
    /// validator has proposed for `next` (it saw a transaction first, or its clock is ahead),
    /// or the deadline has passed. Returns at once when any already holds, as when catching
    /// up with old blocks.
    async fn until_due(mut self) {
        loop {
            if self.has_includable_tx() || *self.proposal_seen.borrow() >= self.next {
                return;
            }
            let remaining = self.deadline_ms.saturating_sub(now_ms());
            if remaining == 0 {
                return;
            }
            let remaining = Duration::from_millis(remaining);
            // `wait_for_txs` returns at once while the pool holds any transaction; with only
            // ones that cannot pay the base fee yet, look again now and then instead.
            let stuck_only = self.shared.mempool_len() > 0;
            tokio::select! {
                _ = self.shared.wait_for_txs(remaining), if !stuck_only => {}
                _ = tokio::time::sleep(remaining.min(STUCK_TX_RECHECK)), if stuck_only => {}
                changed = self.proposal_seen.changed() => {
                    if changed.is_err() {
                        return; // the app stopped
                    }
                }
            }
        }
    }

    /// Whether the mempool holds a transaction that could pay the next block's base fee (one
    /// that cannot would only make empty blocks come faster).
    fn has_includable_tx(&self) -> bool {
        self.shared.mempool_len() > 0
            && !self
                .shared
                .select_txs(
                    1,
                    usize::MAX,
                    u64::MAX,
                    u128::from(self.shared.next_base_fee()),
                )
                .is_empty()
    }
}

/// [`CoupledHandle::execute`] or [`CoupledHandle::commit`].
type CoupledOp = fn(&dyn CoupledExecution, &Block, &KnownSender) -> Result<B256, ExtensionError>;
fn store_corrupt(e: impl std::fmt::Display) -> AppError {
    AppError::Store(StoreError::Corrupt {
        what: "block".into(),
        reason: e.to_string(),
    })
}

fn proposed_value(p: &StoredProposal) -> Option<ProposedValue<LazyContext>> {
    let value = BlockValue::new(p.header().ok()?).ok()?;
    Some(ProposedValue {
        height: Height(p.height),
        round: Round::new(p.round),
        valid_round: if p.pol_round < 0 {
            Round::Nil
        } else {
            Round::new(p.pol_round as u32)
        },
        proposer: Address(p.proposer),
        value,
        validity: Validity::from_bool(p.valid),
    })
}
