//! State shared by the application loop, the RPC server and the gossip task: the block store,
//! the mempool, the node's status, the decided-block feed, and the state service wired in.

use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use alloy_primitives::{Address, B256};
use lazychain_data_chain_types::tx::{admit, admit_hashed, AdmittedTx, TxError};
use lazychain_data_chain_types::validity::BlockRules;
use lazychain_data_chain_types::{BlockHash, BlockHeader};
use tokio::sync::{broadcast, mpsc, Notify};

use crate::coupled::CoupledExecution;
use crate::extension::{AdmissionVerdict, StatusFields, TxAdmission};
use crate::mempool::{Mempool, MempoolError};
use crate::senders::SenderCache;
use crate::state_service::StateService;
use lazychain_data_chain_types::validity::ItemRefused;

/// Recently admitted senders remembered for an embedded executor (~64 bytes each).
const SENDER_CACHE_ENTRIES: usize = 1 << 18;
/// Pooled hashes kept for a slow receiver of [`NodeShared::subscribe_pooled`] (~1 MiB).
pub const POOLED_FEED_CAPACITY: usize = 16_384;
use crate::metrics::{NodeMetrics, Reason};
use crate::store::BlockStore;

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A decided block, as announced to subscribers.
#[derive(Clone, Debug)]
pub struct DecidedEvent {
    pub height: u64,
    pub hash: BlockHash,
    pub round: i64,
    pub tx_hashes: Vec<[u8; 32]>,
    pub header: BlockHeader,
}

#[derive(Clone, Debug, Default)]
pub struct NodeStatus {
    pub height: u64,
    pub latest_hash: BlockHash,
    pub latest_timestamp_ms: u64,
    pub round: i64,
    pub current_height: u64,
    pub consensus_peers: usize,
    /// Voting power of the validators this node is connected to (proof-verified peers).
    pub connected_power: u64,
    pub gossip_peers: usize,
}

/// Why the node is not ready to serve (`/ready` answers 503 with it, `lazy_status` reports it
/// as `notReadyReason`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotReady {
    /// The embedding process (an executor) declared it ([`NodeShared::set_not_ready`]).
    #[error("{0}")]
    Declared(String),
    /// Too little voting power is reachable for heights to be decided.
    #[error("connected validators hold {reachable} of {total} voting power, need more than 2/3")]
    NoQuorum { reachable: u64, total: u64 },
    #[error("no block decided yet")]
    NothingDecided,
    /// The latest decided block is older than 30 s.
    #[error("latest decided block is {} s old", age_ms / 1000)]
    Stale { age_ms: u64 },
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error(transparent)]
    Invalid(#[from] TxError),
    #[error(transparent)]
    Pool(#[from] MempoolError),
    /// Refused by the extension's state check ([`TxAdmission`]), with its message.
    #[error("{0}")]
    Refused(String),
}

pub struct NodeShared {
    pub(crate) role: &'static str,
    pub(crate) moniker: String,
    pub(crate) rules: BlockRules,
    /// The decided blocks ([`NodeShared::store`] outside this crate).
    pub(crate) store: Arc<BlockStore>,
    pub(crate) metrics: NodeMetrics,
    /// Voting power of every validator, by address, from genesis.
    powers: std::collections::HashMap<[u8; 20], u64>,
    /// This node's own voting power (0 for a full node).
    own_power: u64,
    mempool: Mutex<Mempool>,
    senders: Mutex<SenderCache>,
    tx_arrived: Notify,
    status: RwLock<NodeStatus>,
    decided: broadcast::Sender<DecidedEvent>,
    gossip_out: mpsc::Sender<Vec<u8>>,
    /// State consensus over the decided blocks (claims, fraud proofs, bonds), wired in.
    state: Arc<dyn StateService>,
    /// Benchmark-only coupled execution (`consensus.coupled_execution`); unset in the lazy
    /// design.
    coupled: OnceLock<Arc<dyn CoupledExecution>>,
    /// A reason an embedding process (an executor) declares this node not ready.
    not_ready: RwLock<Option<String>>,
    /// The `lazy_status` fields of the extension, if one is wired in.
    status_fields: OnceLock<StatusFields>,
    /// Hashes of transactions as the mempool takes them (an executor's pending-transaction
    /// filters and subscriptions); a lagging receiver skips.
    pooled: broadcast::Sender<B256>,
    /// The extension's state check of locally submitted transactions, if it has one.
    admission: OnceLock<Arc<dyn TxAdmission>>,
}

impl NodeShared {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        role: &'static str,
        moniker: String,
        rules: BlockRules,
        store: Arc<BlockStore>,
        mempool: Mempool,
        metrics: NodeMetrics,
        powers: std::collections::HashMap<[u8; 20], u64>,
        own_power: u64,
        gossip_out: mpsc::Sender<Vec<u8>>,
        state: Arc<dyn StateService>,
    ) -> Self {
        let (decided, _) = broadcast::channel(256);
        Self {
            role,
            moniker,
            rules,
            store,
            metrics,
            powers,
            own_power,
            mempool: Mutex::new(mempool),
            senders: Mutex::new(SenderCache::new(SENDER_CACHE_ENTRIES)),
            tx_arrived: Notify::new(),
            status: RwLock::new(NodeStatus::default()),
            decided,
            gossip_out,
            state,
            coupled: OnceLock::new(),
            not_ready: RwLock::new(None),
            status_fields: OnceLock::new(),
            pooled: broadcast::channel(POOLED_FEED_CAPACITY).0,
            admission: OnceLock::new(),
        }
    }

    /// This node's name (`node.moniker`).
    pub fn moniker(&self) -> &str {
        &self.moniker
    }

    /// The decided blocks.
    pub fn store(&self) -> &Arc<BlockStore> {
        &self.store
    }

    /// The chain id of the genesis.
    pub fn chain_id(&self) -> u64 {
        self.rules.chain_id
    }

    /// Sets the extension's `lazy_status` fields; once, before the RPC server starts.
    pub(crate) fn set_status_fields(&self, fields: StatusFields) {
        let _ = self.status_fields.set(fields);
    }

    /// Sets the extension's state check; once, before the RPC server starts.
    pub(crate) fn set_admission(&self, admission: Arc<dyn TxAdmission>) {
        let _ = self.admission.set(admission);
    }

    /// Adds the extension's fields to a `lazy_status` answer.
    pub(crate) fn extend_status(&self, status: &mut serde_json::Map<String, serde_json::Value>) {
        if let Some(fields) = self.status_fields.get() {
            fields(status);
        }
    }

    /// State consensus, as wired into this node.
    pub fn state_service(&self) -> &Arc<dyn StateService> {
        &self.state
    }

    /// Turns on coupled execution (benchmarks only); once, before the engine starts.
    pub fn set_coupled(&self, coupled: Arc<dyn CoupledExecution>) {
        let _ = self.coupled.set(coupled);
    }

    /// The coupled execution, when this node runs in the benchmark-only coupled mode.
    pub fn coupled(&self) -> Option<&Arc<dyn CoupledExecution>> {
        self.coupled.get()
    }

    fn pool(&self) -> std::sync::MutexGuard<'_, Mempool> {
        // A panic while holding the lock cannot leave the pool half-updated in a way that
        // matters more than stopping the node would, so recover the guard.
        self.mempool.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Admits a transaction from a user (RPC): stateless checks, the extension's state check
    /// if one is wired in, mempool, then gossip.
    pub fn submit_local(&self, raw: &[u8]) -> Result<B256, SubmitError> {
        let tx = self.admit(raw)?;
        let hash = tx.hash;
        let Some(admission) = self.admission.get() else {
            self.insert(tx)?;
            self.gossip(raw, hash);
            return Ok(hash);
        };
        match admission.check(self, &tx) {
            AdmissionVerdict::Pool => {}
            AdmissionVerdict::Held => return Ok(hash),
            AdmissionVerdict::Refused(reason) => {
                self.metrics.reject(Reason::State);
                return Err(SubmitError::Refused(reason));
            }
        }
        let sender = tx.sender;
        self.insert(tx)?;
        self.gossip(raw, hash);
        admission.pooled(self, sender);
        Ok(hash)
    }

    /// Admits a transaction the extension held and checked itself (it closes a nonce gap):
    /// stateless checks, mempool, then gossip, without consulting the extension again.
    pub fn submit_released(&self, raw: &[u8]) -> Result<B256, SubmitError> {
        let tx = self.admit(raw)?;
        let hash = tx.hash;
        self.insert(tx)?;
        self.gossip(raw, hash);
        Ok(hash)
    }

    fn gossip(&self, raw: &[u8], hash: B256) {
        if self.gossip_out.try_send(raw.to_vec()).is_err() {
            tracing::warn!(%hash, "transaction gossip queue is full; kept locally only");
        }
    }

    /// Admits a batch received from a peer, recovering senders on every core (recovery is the
    /// per-transaction floor); transactions this node already holds skip recovery.
    pub fn submit_remote_batch(&self, txs: &[Vec<u8>]) -> Vec<Result<B256, SubmitError>> {
        let hashes: Vec<B256> = txs
            .iter()
            .map(|raw| lazychain_data_chain_types::tx::tx_hash(raw))
            .collect();
        let decided = self.are_decided(&hashes);
        let items: Vec<(&Vec<u8>, (&B256, bool))> =
            txs.iter().zip(hashes.iter().zip(decided)).collect();
        let admitted = lazychain_data_chain_types::par::par_map(
            &items,
            |(raw, (hash, decided))| {
                // Known transactions skip recovery: gossip often delivers a transaction after
                // this node already admitted it, or saw it decided in a block.
                if *decided || self.mempool_contains(hash) {
                    return Err(SubmitError::Pool(MempoolError::AlreadyKnown));
                }
                self.admit_hashed(raw, **hash)
            },
            || Err(SubmitError::Pool(MempoolError::AlreadyKnown)),
        );
        admitted
            .into_iter()
            .map(|r| {
                let tx = r?;
                let hash = tx.hash;
                self.insert(tx)?;
                Ok(hash)
            })
            .collect()
    }

    fn admit_hashed(&self, raw: &[u8], hash: B256) -> Result<AdmittedTx, SubmitError> {
        admit_hashed(raw, hash, &self.rules.tx_rules()).map_err(|e| {
            self.metrics.reject(reason_of(&e));
            SubmitError::Invalid(e)
        })
    }

    fn admit(&self, raw: &[u8]) -> Result<AdmittedTx, SubmitError> {
        admit(raw, &self.rules.tx_rules()).map_err(|e| {
            self.metrics.reject(reason_of(&e));
            SubmitError::Invalid(e)
        })
    }

    /// The sender of a transaction this node admitted recently, if it is still remembered.
    pub fn known_sender(&self, hash: &B256) -> Option<Address> {
        self.senders
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(hash)
    }

    fn insert(&self, tx: AdmittedTx) -> Result<(), SubmitError> {
        let (hash, sender) = (tx.hash, tx.sender);
        // Check the decided index under the pool lock: a decision commits its index before
        // `on_decided` takes this lock, so a transaction is never re-pooled after its block.
        let mut pool = self.pool();
        if self.is_decided(&tx.hash) {
            self.metrics.reject(Reason::Duplicate);
            return Err(SubmitError::Pool(MempoolError::AlreadyKnown));
        }
        match pool.insert(tx) {
            Ok(_) => {
                self.metrics.mempool_size.set(pool.len() as i64);
                self.metrics.mempool_bytes.set(pool.bytes() as i64);
                drop(pool);
                self.senders
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(hash, sender);
                self.tx_arrived.notify_waiters();
                let _ = self.pooled.send(hash);
                Ok(())
            }
            Err(e) => {
                self.metrics.reject(match e {
                    MempoolError::AlreadyKnown => Reason::Duplicate,
                    _ => Reason::PoolFull,
                });
                Err(SubmitError::Pool(e))
            }
        }
    }

    /// Whether a transaction with this hash is in a decided block. A store read error counts
    /// as "decided": refusing a transaction is safe, including it twice is not.
    pub fn is_decided(&self, hash: &B256) -> bool {
        !matches!(self.store.tx_location(&hash.0), Ok(None))
    }

    /// `is_decided` for many hashes with one store read; read errors count as decided.
    pub fn are_decided(&self, hashes: &[B256]) -> Vec<bool> {
        let keys: Vec<[u8; 32]> = hashes.iter().map(|h| h.0).collect();
        self.store
            .decided_flags(&keys)
            .unwrap_or_else(|_| vec![true; hashes.len()])
    }

    pub fn mempool_contains(&self, hash: &B256) -> bool {
        self.pool().contains(hash)
    }

    /// The highest nonce of `sender`'s pooled transactions (for a "pending" nonce).
    pub fn mempool_highest_nonce(&self, sender: &Address) -> Option<u64> {
        self.pool().highest_nonce(sender)
    }

    /// The first nonce from `from` on that `sender` has no pooled transaction for: the end of
    /// its contiguous run in the pool (a "pending" nonce counts no transaction after a gap).
    pub fn mempool_next_nonce(&self, sender: &Address, from: u64) -> u64 {
        self.pool().next_free_nonce(sender, from)
    }

    /// The encoding of a pooled transaction.
    pub fn mempool_raw(&self, hash: &B256) -> Option<Vec<u8>> {
        self.pool().get(hash).map(|tx| tx.raw.to_vec())
    }

    pub fn mempool_len(&self) -> usize {
        self.pool().len()
    }

    /// Transactions for a new block, skipping any already decided (the pool may briefly hold
    /// one whose block was decided through sync).
    /// The base fee of the next block, were it proposed now (from the latest decided header
    /// and the execution budget): what a wallet should expect to pay.
    pub fn next_base_fee(&self) -> u64 {
        let latest = self.status().height;
        match self.store.parent_of(latest.saturating_add(1)) {
            Ok(Some(parent)) => self
                .rules
                .budget
                .base_fee(&parent, now_ms().max(parent.timestamp_ms + 1)),
            _ => self.rules.budget.base_fee_floor,
        }
    }

    /// Transactions for a block: within the limits, and each able to pay `min_fee` (the
    /// block's base fee) per gas.
    pub fn select_txs(
        &self,
        max_txs: usize,
        max_bytes: usize,
        max_gas: u64,
        min_fee: u128,
    ) -> Vec<AdmittedTx> {
        let selected = self.pool().select(max_txs, max_bytes, max_gas, min_fee);
        let hashes: Vec<B256> = selected.iter().map(|t| t.hash).collect();
        let decided = self.are_decided(&hashes);
        selected
            .into_iter()
            .zip(decided)
            .filter(|(_, d)| !d)
            .map(|(t, _)| t)
            .collect()
    }

    /// Waits until the mempool holds a transaction, or `max` has passed.
    pub async fn wait_for_txs(&self, max: Duration) {
        if max.is_zero() {
            return;
        }
        let notified = self.tx_arrived.notified();
        if self.mempool_len() > 0 {
            return;
        }
        let _ = tokio::time::timeout(max, notified).await;
    }

    pub fn on_decided(&self, event: DecidedEvent) {
        {
            let mut pool = self.pool();
            // Pooled copies also carry sender and nonce, which drops competing transactions
            // with the same nonce; transactions we never pooled are dropped by hash.
            let hashes: Vec<B256> = event.tx_hashes.iter().map(|h| B256::from(*h)).collect();
            let known: Vec<AdmittedTx> =
                hashes.iter().filter_map(|h| pool.get(h).cloned()).collect();
            pool.remove_included_txs(known.iter());
            pool.remove_included(hashes.iter());
            self.metrics.mempool_size.set(pool.len() as i64);
            self.metrics.mempool_bytes.set(pool.bytes() as i64);
        }
        self.metrics.decided_height.set(event.height as i64);
        self.metrics
            .decided_txs
            .inc_by(event.tx_hashes.len() as u64);
        self.metrics.block_txs.observe(event.tx_hashes.len() as f64);
        self.metrics
            .block_bytes
            .observe(event.header.body_bytes as f64);
        {
            let mut s = self.status.write().unwrap_or_else(|e| e.into_inner());
            s.height = event.height;
            s.latest_hash = event.hash;
            s.latest_timestamp_ms = event.header.timestamp_ms;
        }
        tracing::info!(height = event.height, hash = %event.hash, round = event.round, txs = event.tx_hashes.len(), "decided");
        let _ = self.decided.send(event);
    }

    /// Sets the status from the store at start-up, without counting a new decision.
    pub fn restore_status(&self, height: u64, hash: BlockHash, timestamp_ms: u64) {
        self.metrics.decided_height.set(height as i64);
        let mut s = self.status.write().unwrap_or_else(|e| e.into_inner());
        s.height = height;
        s.latest_hash = hash;
        s.latest_timestamp_ms = timestamp_ms;
    }

    /// Hashes of transactions the mempool takes from now on (from users and peers).
    pub fn subscribe_pooled(&self) -> broadcast::Receiver<B256> {
        self.pooled.subscribe()
    }

    pub fn subscribe_decided(&self) -> broadcast::Receiver<DecidedEvent> {
        self.decided.subscribe()
    }

    pub fn status(&self) -> NodeStatus {
        self.status
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn set_round(&self, height: u64, round: i64) {
        let mut s = self.status.write().unwrap_or_else(|e| e.into_inner());
        s.current_height = height;
        s.round = round;
    }

    /// Records connected peers: `consensus` is (peer count, validator addresses among them).
    pub fn set_peers(&self, consensus: Option<(usize, Vec<[u8; 20]>)>, gossip: Option<usize>) {
        let mut s = self.status.write().unwrap_or_else(|e| e.into_inner());
        if let Some((count, validators)) = consensus {
            s.consensus_peers = count;
            s.connected_power = validators.iter().filter_map(|a| self.powers.get(a)).sum();
        }
        if let Some(g) = gossip {
            s.gossip_peers = g;
            self.metrics.gossip_peers.set(g as i64);
        }
    }

    /// Whether the node is ready to serve: enough consensus peers for a quorum with us, and a
    /// recent decision. Returns the reason when it is not.
    /// Makes `/ready` answer 503 with `reason` (an executor's safety alarm), or clears it.
    pub fn set_not_ready(&self, reason: Option<String>) {
        if let Ok(mut r) = self.not_ready.write() {
            *r = reason;
        }
    }

    pub fn readiness(&self) -> Result<(), NotReady> {
        if let Some(reason) = self.not_ready.read().ok().and_then(|r| r.clone()) {
            return Err(NotReady::Declared(reason));
        }
        let s = self.status();
        // More than 2/3 of the voting power must be reachable (ours included) for heights to
        // be decided at all.
        let total: u64 = self.powers.values().sum();
        let reachable = s.connected_power + self.own_power;
        if reachable.saturating_mul(3) <= total.saturating_mul(2) {
            return Err(NotReady::NoQuorum { reachable, total });
        }
        if s.height == 0 {
            return Err(NotReady::NothingDecided);
        }
        let age = now_ms().saturating_sub(s.latest_timestamp_ms);
        if age > 30_000 {
            return Err(NotReady::Stale { age_ms: age });
        }
        Ok(())
    }
}

impl lazychain_data_chain_types::validity::ChainView for NodeShared {
    fn admitted(&self, hash: &B256) -> bool {
        self.mempool_contains(hash)
    }

    fn decided(&self, hash: &B256) -> bool {
        self.is_decided(hash)
    }

    fn decided_many(&self, hashes: &[B256]) -> Vec<bool> {
        self.are_decided(hashes)
    }

    fn check_claim(&self, item: &[u8], height: u64) -> Result<(), ItemRefused> {
        self.state.check_claim(item, height)
    }

    fn check_fraud_proof(&self, item: &[u8], height: u64) -> Result<(), ItemRefused> {
        self.state.check_fraud_proof(item, height)
    }
}

fn reason_of(e: &TxError) -> Reason {
    match e {
        TxError::WrongChainId { .. } | TxError::NotReplayProtected => Reason::ChainId,
        TxError::InvalidSender(_) => Reason::Signature,
        TxError::Underpriced { .. } | TxError::PriorityFeeAboveMaxFee { .. } => Reason::Fee,
        TxError::Oversized { .. }
        | TxError::InitcodeTooLarge { .. }
        | TxError::IntrinsicGasTooLow { .. }
        | TxError::GasLimitTooHigh { .. } => Reason::Limits,
        _ => Reason::Decode,
    }
}

#[cfg(test)]
mod tests {
    use super::NotReady;

    /// `/ready` and `lazy_status.notReadyReason` answer with these texts.
    #[test]
    fn not_ready_reasons() {
        assert_eq!(
            NotReady::Declared("SAFETY ALARM: height 3".into()).to_string(),
            "SAFETY ALARM: height 3"
        );
        assert_eq!(
            NotReady::NoQuorum {
                reachable: 1,
                total: 4
            }
            .to_string(),
            "connected validators hold 1 of 4 voting power, need more than 2/3"
        );
        assert_eq!(NotReady::NothingDecided.to_string(), "no block decided yet");
        assert_eq!(
            NotReady::Stale { age_ms: 31_999 }.to_string(),
            "latest decided block is 31 s old"
        );
    }
}
