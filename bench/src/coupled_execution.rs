//! Coupled execution, for comparison benchmarks only (`consensus.coupled_execution`, never
//! the default): the proposer executes a block before proposing it and every validator
//! executes a received block before voting on it, as a classic chain does, so that the same
//! workloads can be measured through both designs on one machine (`lazychain bench coupled`).
//! The validator calls it through `lazychain_data_chain_node::coupled::CoupledExecution`,
//! the binary wires it in; the validator crate itself executes nothing.
//!
//! The state lives in memory (a [`MemoryState`] and its [`StateTree`]), which favours the
//! coupled mode: no disk write sits on its path. The execution result does not change a
//! block's validity (the header carries no state root), so the lazy protocol is untouched;
//! what the mode adds is the execution time on the consensus path. Each executed block's post
//! root is kept, and agrees with the lazy executors' roots for the same height.

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};

use alloy_primitives::B256;
use lazychain_config::Genesis;
use lazychain_data_chain_node::coupled::KnownSender;
use lazychain_data_chain_node::ExtensionError;
use lazychain_data_chain_types::{Block, BlockHash};
use lazychain_exec_state_tree::StateTree;
use lazychain_exec_stf::genesis::genesis_memory_state;
use lazychain_exec_stf::{
    execute_block, prepare_with, ChainParams, ExecError, MemoryState, StateWrites, TxStatus,
};
use prometheus_client::metrics::{counter::Counter, gauge::Gauge, histogram::Histogram};

/// Most executed-but-undecided blocks kept (one per proposal seen at the next height).
const MAX_SPECULATIVE: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum CoupledError {
    #[error("genesis: {0}")]
    Genesis(String),
    #[error("coupled execution of height {height}: {source}")]
    Execute {
        height: u64,
        #[source]
        source: ExecError,
    },
    #[error("coupled execution: block {height} does not follow the executed height {executed}")]
    OutOfOrder { height: u64, executed: u64 },
    #[error("coupled execution: block {height} has no hash: {reason}")]
    Hash { height: u64, reason: String },
}

/// The counters a coupled validator exports.
#[derive(Clone)]
pub struct CoupledMetrics {
    pub executed_height: Gauge,
    pub executed_txs: Counter,
    pub skipped_txs: Counter,
    pub gas_used: Counter,
    pub block_seconds: Histogram,
}

impl Default for CoupledMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl CoupledMetrics {
    pub fn new() -> Self {
        Self {
            executed_height: Gauge::default(),
            executed_txs: Counter::default(),
            skipped_txs: Counter::default(),
            gas_used: Counter::default(),
            block_seconds: Histogram::new([0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]),
        }
    }

    /// Registers the metrics under `lazychain_coupled_*` on this node's `/metrics` page.
    pub fn register(&self, moniker: &str) {
        let m = self.clone();
        lazychain_data_chain_node::metrics::register_more(moniker, |r| {
            r.register(
                "coupled_executed_height",
                "Highest data height executed on the consensus path (coupled mode)",
                m.executed_height,
            );
            r.register(
                "coupled_executed_txs",
                "Transactions executed in decided blocks, skipped included (coupled mode)",
                m.executed_txs,
            );
            r.register(
                "coupled_skipped_txs",
                "Transactions skipped for failing a state check (coupled mode)",
                m.skipped_txs,
            );
            r.register(
                "coupled_gas_used",
                "Gas used by decided blocks (coupled mode)",
                m.gas_used,
            );
            r.register(
                "coupled_block_seconds",
                "Time to execute one block before proposing or voting (coupled mode)",
                m.block_seconds,
            );
        });
    }
}

/// A block executed before its decision: its writes and the tree after it.
struct Speculative {
    height: u64,
    writes: StateWrites,
    tree: StateTree,
    root: B256,
    txs: u64,
    skipped: u64,
    gas: u64,
}

/// The state after the last decided height, and the executions of proposals for the next one.
pub struct CoupledExecution {
    params: ChainParams,
    height: u64,
    state: MemoryState,
    tree: StateTree,
    speculative: HashMap<BlockHash, Speculative>,
    metrics: CoupledMetrics,
}

impl CoupledExecution {
    /// The state at height 0 of `genesis`.
    pub fn from_genesis(genesis: &Genesis, metrics: CoupledMetrics) -> Result<Self, CoupledError> {
        let params = lazychain_fraud::chain::chain_params(genesis)
            .map_err(|e| CoupledError::Genesis(e.to_string()))?;
        let (state, tree) = genesis_memory_state(&lazychain_fraud::chain::alloc(genesis));
        Ok(Self {
            params,
            height: 0,
            state,
            tree,
            speculative: HashMap::new(),
            metrics,
        })
    }

    /// The last committed (decided) height and the state root after it.
    pub fn committed(&self) -> (u64, B256) {
        (self.height, B256::from(self.tree.root()))
    }

    /// Executes a proposal for the next height, before proposing or voting on it, and keeps
    /// the result for its decision. Returns its post-state root. Executing the same block
    /// twice (a re-proposal) costs nothing the second time.
    pub fn execute(
        &mut self,
        block: &Block,
        known_sender: &KnownSender,
    ) -> Result<B256, CoupledError> {
        let height = block.header.height;
        if height != self.height + 1 {
            return Err(CoupledError::OutOfOrder {
                height,
                executed: self.height,
            });
        }
        let hash = block_hash(block)?;
        if let Some(done) = self.speculative.get(&hash) {
            return Ok(done.root);
        }
        let started = std::time::Instant::now();
        let txs = prepare_with(block.body.transactions(), known_sender);
        let context = self.params.block_context(&block.header, B256::from(hash.0));
        let mut tree = self.tree.clone();
        let execution = execute_block(&self.params, &context, &txs, &self.state, &mut tree)
            .map_err(|source| CoupledError::Execute { height, source })?;
        self.metrics
            .block_seconds
            .observe(started.elapsed().as_secs_f64());
        if self.speculative.len() >= MAX_SPECULATIVE {
            self.speculative.clear();
        }
        let root = execution.post_state_root;
        self.speculative.insert(
            hash,
            Speculative {
                height,
                tree,
                root,
                txs: txs.len() as u64,
                skipped: execution
                    .receipts
                    .iter()
                    .filter(|r| r.status == TxStatus::Skipped)
                    .count() as u64,
                gas: execution.gas_used,
                writes: execution.writes,
            },
        );
        Ok(root)
    }

    /// Makes a decided block the committed state, executing it first if no proposal of it
    /// was executed here (a block learnt through sync, or after a restart). Returns the
    /// post-state root.
    pub fn commit(
        &mut self,
        block: &Block,
        known_sender: &KnownSender,
    ) -> Result<B256, CoupledError> {
        let height = block.header.height;
        if height <= self.height {
            return Ok(B256::from(self.tree.root()));
        }
        let hash = block_hash(block)?;
        if !self.speculative.contains_key(&hash) {
            self.execute(block, known_sender)?;
        }
        let Some(done) = self.speculative.remove(&hash) else {
            return Err(CoupledError::OutOfOrder {
                height,
                executed: self.height,
            });
        };
        debug_assert_eq!(done.height, height);
        self.state.apply(&done.writes);
        self.state.block_hashes.insert(height, B256::from(hash.0));
        self.tree = done.tree;
        self.height = height;
        self.speculative.retain(|_, s| s.height > height);
        self.metrics.executed_height.set(height as i64);
        self.metrics.executed_txs.inc_by(done.txs);
        self.metrics.skipped_txs.inc_by(done.skipped);
        self.metrics.gas_used.inc_by(done.gas);
        Ok(done.root)
    }
}

/// A node's coupled execution: the state behind a lock held for a whole block, and the
/// committed height and root readable without waiting for it.
pub struct CoupledHandle {
    execution: Mutex<CoupledExecution>,
    committed: RwLock<(u64, B256)>,
}

impl CoupledHandle {
    pub fn new(execution: CoupledExecution) -> Self {
        let committed = execution.committed();
        Self {
            execution: Mutex::new(execution),
            committed: RwLock::new(committed),
        }
    }

    /// The last committed height and its post-state root.
    pub fn committed(&self) -> (u64, B256) {
        *self.committed.read().unwrap_or_else(|e| e.into_inner())
    }

    /// [`CoupledExecution::execute`]; blocks for the execution.
    pub fn execute(&self, block: &Block, known_sender: &KnownSender) -> Result<B256, CoupledError> {
        self.lock().execute(block, known_sender)
    }

    /// [`CoupledExecution::commit`]; blocks for the execution if the block was not executed.
    pub fn commit(&self, block: &Block, known_sender: &KnownSender) -> Result<B256, CoupledError> {
        let mut execution = self.lock();
        let root = execution.commit(block, known_sender)?;
        *self.committed.write().unwrap_or_else(|e| e.into_inner()) = execution.committed();
        Ok(root)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CoupledExecution> {
        // A panic inside revm would have left the state as it was before the block: the
        // writes are applied only after a whole block ran.
        self.execution.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl lazychain_data_chain_node::coupled::CoupledExecution for CoupledHandle {
    fn execute(&self, block: &Block, known_sender: &KnownSender) -> Result<B256, ExtensionError> {
        Ok(CoupledHandle::execute(self, block, known_sender)?)
    }

    fn commit(&self, block: &Block, known_sender: &KnownSender) -> Result<B256, ExtensionError> {
        Ok(CoupledHandle::commit(self, block, known_sender)?)
    }

    fn committed(&self) -> (u64, B256) {
        CoupledHandle::committed(self)
    }
}

/// A validator's coupled execution from `genesis`, its metrics registered on the `/metrics`
/// page of the node named `moniker`: what the binary wires into a validator run with
/// `consensus.coupled_execution`.
pub fn for_validator(
    genesis: &Genesis,
    moniker: &str,
) -> Result<std::sync::Arc<CoupledHandle>, CoupledError> {
    let metrics = CoupledMetrics::new();
    metrics.register(moniker);
    Ok(std::sync::Arc::new(CoupledHandle::new(
        CoupledExecution::from_genesis(genesis, metrics)?,
    )))
}

fn block_hash(block: &Block) -> Result<BlockHash, CoupledError> {
    block.header.hash().map_err(|e| CoupledError::Hash {
        height: block.header.height,
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests;
