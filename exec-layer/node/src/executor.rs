//! The execution loop: take the next decided data block from the embedded full node's block
//! store (blocks arrive there only with a commit certificate verified against the validator
//! set), execute it, commit the result, repeat. Runs on its own OS thread: execution is
//! CPU-bound and must not stall the consensus or RPC tasks.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use alloy_consensus::Transaction as _;
use alloy_primitives::{Address, B256};
use lazychain_config::Genesis;
use lazychain_data_chain_node::store::BlockStore;
use lazychain_exec_state_tree::StateTree;
use lazychain_exec_stf::genesis::{genesis_writes, tree_of};
use lazychain_exec_stf::witness::TxWitness;
use lazychain_exec_stf::{
    execute_block_logged, prepare, prepare_with, BlockContext, ChainParams, ExecError, TxWriteLog,
};
use tokio::sync::broadcast;
use tracing::{info, warn};

use crate::metrics::ExecMetrics;
use crate::store::{ExecutedBlock, StateStore, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ExecutorError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("block store: {0}")]
    Blocks(String),
    #[error("executing height {height}: {source}")]
    Execute { height: u64, source: ExecError },
    #[error("genesis: {0}")]
    Genesis(String),
}

/// The execution parameters of a genesis file.
pub fn chain_params(genesis: &Genesis) -> Result<ChainParams, ExecutorError> {
    lazychain_fraud::chain_params(genesis).map_err(|e| ExecutorError::Genesis(e.to_string()))
}

/// The executor's progress, for RPC and logs.
#[derive(Clone, Debug, Default)]
pub struct ExecStatus {
    pub data_height: u64,
    pub executed_height: u64,
    pub state_root: B256,
}

/// The heights the block tags name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tags {
    /// The executed height (`latest`, `pending`).
    pub latest: u64,
    /// The highest executed height with a claimed, unreverted root (`safe`).
    pub safe: u64,
    /// The highest executed height whose root is final in state consensus (`finalized`).
    pub finalized: u64,
    /// A safety alarm is raised: this executor's roots disagree with what state consensus
    /// finalized, so it serves neither `safe` nor `finalized`.
    pub alarm: bool,
}

/// This executor's own standing in state consensus, for status output.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OwnClaims {
    pub executor: [u8; 20],
    /// Whether the executor's key is bonded in genesis (only then does it post claims).
    pub bonded: bool,
    /// The highest data height of its claims recorded by state consensus, and that claim's
    /// status (`pending`, `final`, `reverted`).
    pub latest: Option<(u64, &'static str)>,
    pub slashed: bool,
    /// Claims of others this executor disagrees with that are not reverted yet.
    pub open_disputes: usize,
    /// Of those, the ones it could not build a proof for yet (it keeps trying).
    pub unproven_disputes: usize,
    /// The first few open disputes.
    pub disputes: Vec<DisputeView>,
}

/// One claim this executor disagrees with, as `lazy_status` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisputeView {
    pub claim: lazychain_fraud::ClaimId,
    pub height: u64,
    /// The first transaction whose root differs.
    pub tx_index: usize,
    /// Proofs built or tried so far.
    pub attempts: u32,
    /// Whether the latest attempt produced a proof (submitted, awaiting inclusion).
    pub proof_submitted: bool,
    /// Why the latest attempt failed.
    pub last_error: Option<String>,
}

/// Executed heights the feed keeps for a slow receiver before it lags (it then skips ahead).
const EXECUTED_FEED_CAPACITY: usize = 1024;

/// A height executed and committed, as announced to the RPC's filters and subscriptions.
#[derive(Clone, Debug)]
pub struct ExecutedEvent {
    /// The committed summary: height, hash, roots, bloom.
    pub block: ExecutedBlock,
}

/// State shared between the execution thread and RPC handlers.
pub struct ExecShared {
    pub params: ChainParams,
    pub state: Arc<StateStore>,
    pub blocks: Arc<BlockStore>,
    status: RwLock<ExecStatus>,
    /// Sender -> (next nonce, height) for transactions decided but not yet executed, so a
    /// "pending" nonce counts them.
    pending_nonces: Mutex<HashMap<Address, (u64, u64)>>,
    /// (safe, finalized) heights from state consensus, set by the claims task.
    consensus_heights: RwLock<(u64, u64)>,
    own_claims: RwLock<OwnClaims>,
    /// Why this executor disagrees with a final root, once it does (the first reason stays).
    safety_alarm: RwLock<Option<String>>,
    /// Every height once committed; sending never waits, a lagging receiver skips.
    executed: broadcast::Sender<ExecutedEvent>,
}

impl ExecShared {
    /// The heights of `latest`, `safe` and `finalized` (never above the executed height).
    pub fn tags(&self) -> Tags {
        let latest = self.status().executed_height;
        let (safe, finalized) = self
            .consensus_heights
            .read()
            .map(|h| *h)
            .unwrap_or_default();
        Tags {
            latest,
            safe: safe.min(latest),
            finalized: finalized.min(latest),
            alarm: self.safety_alarm().is_some(),
        }
    }

    /// The safety alarm, if raised: this executor disagrees with a final root.
    pub fn safety_alarm(&self) -> Option<String> {
        self.safety_alarm.read().ok().and_then(|a| a.clone())
    }

    /// Raises the safety alarm (the first reason is kept). Returns whether it was new.
    pub fn raise_safety_alarm(&self, reason: String) -> bool {
        match self.safety_alarm.write() {
            Ok(mut a) if a.is_none() => {
                *a = Some(reason);
                true
            }
            _ => false,
        }
    }

    pub fn own_claims(&self) -> OwnClaims {
        self.own_claims
            .read()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    pub fn set_own_claims(&self, claims: OwnClaims) {
        if let Ok(mut c) = self.own_claims.write() {
            *c = claims;
        }
    }

    /// Records the safe and finalized heights state consensus reports.
    pub fn set_consensus_heights(&self, safe: u64, finalized: u64) {
        if let Ok(mut h) = self.consensus_heights.write() {
            *h = (safe, finalized);
        }
    }

    pub fn status(&self) -> ExecStatus {
        self.status.read().map(|s| s.clone()).unwrap_or_default()
    }

    fn update_status(&self, f: impl FnOnce(&mut ExecStatus)) {
        if let Ok(mut s) = self.status.write() {
            f(&mut s);
        }
    }

    /// Heights as they are executed and committed, from now on.
    pub fn subscribe_executed(&self) -> broadcast::Receiver<ExecutedEvent> {
        self.executed.subscribe()
    }

    /// The next nonce of `sender` counting decided transactions not yet executed.
    pub fn decided_next_nonce(&self, sender: &Address) -> Option<u64> {
        self.pending_nonces
            .lock()
            .ok()
            .and_then(|m| m.get(sender).map(|(n, _)| *n))
    }
}

/// Undo logs (and state history) kept by default: `executor.state_history_blocks`.
pub const DEFAULT_UNDO_WINDOW_BLOCKS: u64 = lazychain_config::DEFAULT_STATE_HISTORY_BLOCKS;

/// How the execution loop runs.
#[derive(Clone, Copy, Debug)]
pub struct ExecutorOptions {
    /// Fsync the state database every this many blocks (1: every block).
    pub durable_every_blocks: u64,
    /// Keep undo logs and state history for this many recent heights (0: none), to rebuild
    /// the state before a recent transaction when proving fraud and to serve state at recent
    /// blocks over RPC (`executor.state_history_blocks`).
    pub undo_window_blocks: u64,
    /// A deliberate fault (tests and demos only; never on by default).
    pub fault: Option<crate::claims::Fault>,
}

/// A watcher's request for the witness of transaction `index` of executed block `height`,
/// answered by the execution thread (which owns the state tree) between blocks.
pub struct WitnessRequest {
    pub height: u64,
    pub index: usize,
    pub reply: tokio::sync::oneshot::Sender<Result<WitnessReply, ExecutorError>>,
}

/// The witness of one transaction, with the state root before it and the block's raw
/// transactions (for the inclusion branch).
pub struct WitnessReply {
    pub witness: TxWitness,
    pub root_before: B256,
    pub txs: Vec<Vec<u8>>,
}

/// Where the executor may find senders already recovered (its own node's admission cache).
pub type SenderHints = Arc<dyn Fn(&B256) -> Option<Address> + Send + Sync>;

pub struct Executor {
    shared: Arc<ExecShared>,
    tree: StateTree,
    options: ExecutorOptions,
    metrics: Option<ExecMetrics>,
    sender_hints: Option<SenderHints>,
    witness_requests: Option<Receiver<WitnessRequest>>,
    /// The write logs of the last blocks executed since start, newest last: a witness for
    /// them is a rollback, not a re-execution.
    recent_logs: VecDeque<(u64, TxWriteLog)>,
}

/// Blocks whose write logs are kept in memory (a 10,000-transfer block's is ~3 MB).
const RECENT_WRITE_LOGS: usize = 16;

impl Executor {
    /// Opens the state database (writing the genesis state on first start) and rebuilds the
    /// state tree from the flat state.
    pub fn open(
        genesis: &Genesis,
        state: Arc<StateStore>,
        blocks: Arc<BlockStore>,
        options: ExecutorOptions,
    ) -> Result<Self, ExecutorError> {
        let params = chain_params(genesis)?;
        let writes = genesis_writes(&lazychain_fraud::alloc(genesis));
        let genesis_root = B256::from(tree_of(&writes).root());
        match state.genesis_root()? {
            None => {
                let block = ExecutedBlock::genesis(
                    genesis_root,
                    genesis.genesis_time_ms / 1000,
                    &params,
                );
                state.init_genesis(&writes, &block)?;
            }
            Some(root) if root != genesis_root => {
                return Err(ExecutorError::Genesis(format!(
                    "the state database was created for another genesis (state root {root}, this genesis {genesis_root}); reset the executor's data directory"
                )))
            }
            Some(_) => {}
        }
        let executed = state.executed_height()?.unwrap_or(0);
        let started = Instant::now();
        let tree = state.load_tree()?;
        let root = B256::from(tree.root());
        let expected = state
            .executed_block(executed)?
            .map(|b| b.state_root)
            .ok_or_else(|| {
                StoreError::Corrupt(format!("no summary for executed height {executed}"))
            })?;
        if root != expected {
            return Err(StoreError::Corrupt(format!(
                "flat state at height {executed} has root {root}, the block summary says {expected}"
            ))
            .into());
        }
        info!(
            executed,
            keys = tree.len(),
            root = %root,
            rebuild_ms = started.elapsed().as_millis() as u64,
            "state tree rebuilt from the flat state"
        );
        let shared = Arc::new(ExecShared {
            params,
            state,
            blocks,
            status: RwLock::new(ExecStatus {
                data_height: 0,
                executed_height: executed,
                state_root: root,
            }),
            pending_nonces: Mutex::new(HashMap::new()),
            consensus_heights: RwLock::new((0, 0)),
            own_claims: RwLock::new(OwnClaims::default()),
            safety_alarm: RwLock::new(None),
            executed: broadcast::channel(EXECUTED_FEED_CAPACITY).0,
        });
        Ok(Executor {
            shared,
            tree,
            options,
            metrics: None,
            sender_hints: None,
            witness_requests: None,
            recent_logs: VecDeque::new(),
        })
    }

    /// Takes senders from `hints` where it has them instead of recovering them again.
    pub fn with_sender_hints(mut self, hints: SenderHints) -> Self {
        self.sender_hints = Some(hints);
        self
    }

    /// Answers witness requests from `requests` between blocks.
    pub fn with_witness_requests(mut self, requests: Receiver<WitnessRequest>) -> Self {
        self.witness_requests = Some(requests);
        self
    }

    fn serve_witness_requests(&self) {
        let Some(requests) = &self.witness_requests else {
            return;
        };
        while let Ok(request) = requests.try_recv() {
            let answer = self.witness(request.height, request.index);
            let _ = request.reply.send(answer);
        }
    }

    fn witness(&self, height: u64, index: usize) -> Result<WitnessReply, ExecutorError> {
        let decided = self
            .shared
            .blocks
            .decided(height)
            .map_err(|e| ExecutorError::Blocks(e.to_string()))?
            .ok_or_else(|| ExecutorError::Blocks(format!("decided block {height} is missing")))?;
        let raw: Vec<Vec<u8>> = decided
            .block
            .body
            .transactions()
            .map(<[u8]>::to_vec)
            .collect();
        // Only the transactions up to `index` run; their senders come from the node's
        // admission cache where it still has them.
        let prefix = raw.iter().take(index.saturating_add(1)).map(Vec::as_slice);
        let txs = match &self.sender_hints {
            Some(hints) => prepare_with(prefix, hints.as_ref()),
            None => prepare(prefix),
        };
        let params = &self.shared.params;
        let block = params.block_context(&decided.block.header, B256::from(decided.hash.0));
        if let Some((_, log)) = self.recent_logs.iter().find(|(h, _)| *h == height) {
            let one = raw.get(index).map(Vec::as_slice);
            let tx = match &self.sender_hints {
                Some(hints) => prepare_with(one, hints.as_ref()),
                None => prepare(one),
            };
            let tx = tx.first().ok_or_else(|| {
                ExecutorError::Blocks(format!(
                    "transaction {index} is not in block {height} ({} transactions)",
                    raw.len()
                ))
            })?;
            let (witness, root_before) = crate::prover::tx_witness_from_log(
                &self.shared.state,
                &self.tree,
                params,
                &block,
                tx,
                log,
                index,
            )
            .map_err(|e| {
                ExecutorError::Blocks(format!("witness of tx {index} at {height}: {e}"))
            })?;
            return Ok(WitnessReply {
                witness,
                root_before,
                txs: raw,
            });
        }
        let (witness, root_before) = crate::prover::tx_witness_at(
            &self.shared.state,
            &self.tree,
            params,
            &block,
            &txs,
            index,
        )
        .map_err(|e| ExecutorError::Blocks(format!("witness of tx {index} at {height}: {e}")))?;
        Ok(WitnessReply {
            witness,
            root_before,
            txs: raw,
        })
    }

    /// Reports progress to Prometheus from now on.
    pub fn with_metrics(mut self, metrics: ExecMetrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    pub fn shared(&self) -> Arc<ExecShared> {
        self.shared.clone()
    }

    /// Executes decided blocks as they come until `stop` is set. `wake` is signalled when a
    /// block is decided (the loop also polls, so a missed signal only delays).
    pub fn run(mut self, wake: Receiver<()>, stop: Arc<AtomicBool>) -> Result<(), ExecutorError> {
        let mut progress = Progress::new(self.shared.status().executed_height);
        while !stop.load(Ordering::Relaxed) {
            self.serve_witness_requests();
            let data_height = self
                .shared
                .blocks
                .latest_height()
                .map_err(|e| ExecutorError::Blocks(e.to_string()))?;
            self.shared.update_status(|s| s.data_height = data_height);
            let executed = self.shared.status().executed_height;
            if let Some(m) = &self.metrics {
                m.lag_blocks
                    .set(data_height.saturating_sub(executed) as i64);
            }
            if executed < data_height {
                self.execute_height(executed + 1)?;
                progress.maybe_log(&self.shared.status());
                continue;
            }
            match wake.recv_timeout(Duration::from_millis(500)) {
                Ok(()) | Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        Ok(())
    }

    /// Executes and commits one decided height.
    pub fn execute_height(&mut self, height: u64) -> Result<(), ExecutorError> {
        let started = Instant::now();
        let decided = self
            .shared
            .blocks
            .decided(height)
            .map_err(|e| ExecutorError::Blocks(e.to_string()))?
            .ok_or_else(|| ExecutorError::Blocks(format!("decided block {height} is missing")))?;
        let header = &decided.block.header;
        let hash = B256::from(decided.hash.0);
        let txs = match &self.sender_hints {
            Some(hints) => prepare_with(decided.block.body.transactions(), hints.as_ref()),
            None => prepare(decided.block.body.transactions()),
        };
        self.note_pending(height, &txs);
        let params = &self.shared.params;
        let block: BlockContext = params.block_context(header, hash);
        let snapshot = self.shared.state.snapshot()?;
        let (execution, log) =
            execute_block_logged(params, &block, &txs, &snapshot, &mut self.tree)
                .map_err(|source| ExecutorError::Execute { height, source })?;
        drop(snapshot);
        let summary = ExecutedBlock::executed(
            &block,
            params,
            B256::from_slice(header.tx_root.as_ref()),
            header.body_bytes,
            &execution,
        );
        let durable = height.is_multiple_of(self.options.durable_every_blocks.max(1));
        self.shared.state.commit_block(
            &summary,
            &execution,
            durable,
            self.options.undo_window_blocks,
        )?;
        // Proving needs the undo logs too: without them a write log is of no use.
        if self.options.undo_window_blocks > 0 {
            self.recent_logs.push_back((height, log));
            while self.recent_logs.len() > RECENT_WRITE_LOGS {
                self.recent_logs.pop_front();
            }
        }
        self.shared.update_status(|s| {
            s.executed_height = height;
            s.state_root = execution.post_state_root;
        });
        if let Ok(mut pending) = self.shared.pending_nonces.lock() {
            pending.retain(|_, (_, h)| *h > height);
        }
        // After the commit and status update: a receiver reads this height from the store.
        // No receiver is not an error.
        let _ = self.shared.executed.send(ExecutedEvent { block: summary });
        if let Some(m) = &self.metrics {
            m.executed_height.set(height as i64);
            m.executed_txs.inc_by(txs.len() as u64);
            m.skipped_txs.inc_by(
                execution
                    .receipts
                    .iter()
                    .filter(|r| r.status == lazychain_exec_stf::TxStatus::Skipped)
                    .count() as u64,
            );
            m.gas_used.inc_by(execution.gas_used);
            m.block_seconds.observe(started.elapsed().as_secs_f64());
        }
        Ok(())
    }

    fn note_pending(&self, height: u64, txs: &[lazychain_exec_stf::PreparedTx]) {
        let Ok(mut pending) = self.shared.pending_nonces.lock() else {
            return;
        };
        for tx in txs {
            if let Ok((envelope, sender)) = &tx.decoded {
                let next = envelope.nonce().saturating_add(1);
                let entry = pending.entry(*sender).or_insert((next, height));
                if next >= entry.0 {
                    *entry = (next, height);
                }
            }
        }
    }
}

/// A progress line every few seconds: height, lag and rate.
struct Progress {
    last_log: Instant,
    last_height: u64,
}

impl Progress {
    const EVERY: Duration = Duration::from_secs(5);

    fn new(height: u64) -> Self {
        Progress {
            last_log: Instant::now(),
            last_height: height,
        }
    }

    fn maybe_log(&mut self, s: &ExecStatus) {
        let elapsed = self.last_log.elapsed();
        if elapsed < Self::EVERY {
            return;
        }
        let rate =
            s.executed_height.saturating_sub(self.last_height) as f64 / elapsed.as_secs_f64();
        let lag = s.data_height.saturating_sub(s.executed_height);
        if lag > 0 {
            info!(executed = s.executed_height, data_height = s.data_height, lag, blocks_per_s = format!("{rate:.1}"), root = %s.state_root, "catching up");
        } else {
            info!(executed = s.executed_height, lag, blocks_per_s = format!("{rate:.1}"), root = %s.state_root, "executed");
        }
        self.last_log = Instant::now();
        self.last_height = s.executed_height;
    }
}

/// Logs that the loop ended with an error (the node then stops).
pub fn report(result: &Result<(), ExecutorError>) {
    if let Err(e) = result {
        warn!(error = %e, "execution stopped");
    }
}
