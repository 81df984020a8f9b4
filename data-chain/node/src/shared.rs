//! State shared by the application loop, the RPC server and the gossip task: the block store,
//! the mempool, the node's status, and the decided-block feed.

use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use alloy_primitives::{Address, B256};
use lazychain_data_chain_types::tx::{admit, admit_hashed, AdmittedTx, TxError};
use lazychain_data_chain_types::validity::BlockRules;
use lazychain_data_chain_types::{Block, BlockHash, BlockHeader};
use tokio::sync::{broadcast, mpsc, Notify};

use crate::coupled::CoupledExecution;
use crate::items::{
    ClaimMeta, DropReason, Dropped, ItemPool, PoolCounts, ProofFate, ProofMeta, Refused,
    GOSSIP_CLAIM, GOSSIP_FRAUD_PROOF,
};
use crate::mempool::{Mempool, MempoolError};
use crate::senders::SenderCache;
use crate::state::{ProofRefused, StateError, StateFollower};
use lazychain_data_chain_types::validity::ItemRefused;
use lazychain_fraud::{check_claim_item, ClaimId, ClaimItem, FraudItem, ItemError};

/// How far above its decided height a node pools claims whose header it has not decided yet.
pub const CLAIM_LOOKAHEAD: u64 = 32;

/// Recently admitted senders remembered for an embedded executor (~64 bytes each).
const SENDER_CACHE_ENTRIES: usize = 1 << 18;
use crate::metrics::{NodeMetrics, Reason};
use crate::store::{BlockStore, StoreError};

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

/// Why state consensus could not follow the decided chain ([`NodeShared::follow_state`]).
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
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error(transparent)]
    Invalid(#[from] TxError),
    #[error(transparent)]
    Pool(#[from] MempoolError),
}

pub struct NodeShared {
    pub role: &'static str,
    pub moniker: String,
    pub rules: BlockRules,
    pub store: Arc<BlockStore>,
    pub metrics: NodeMetrics,
    /// Voting power of every validator, by address, from genesis.
    pub powers: std::collections::HashMap<[u8; 20], u64>,
    /// This node's own voting power (0 for a full node).
    pub own_power: u64,
    mempool: Mutex<Mempool>,
    senders: Mutex<SenderCache>,
    tx_arrived: Notify,
    status: RwLock<NodeStatus>,
    decided: broadcast::Sender<DecidedEvent>,
    gossip_out: mpsc::Sender<Vec<u8>>,
    /// State consensus over the decided blocks (claims, fraud proofs, bonds).
    pub state: RwLock<StateFollower>,
    items: Mutex<ItemPool>,
    items_out: mpsc::Sender<Vec<u8>>,
    /// Benchmark-only coupled execution (`consensus.coupled_execution`); unset in the lazy
    /// design.
    coupled: OnceLock<Arc<dyn CoupledExecution>>,
    /// Slashed executors when the item pool was last cleaned of their claims.
    slashed_seen: std::sync::atomic::AtomicUsize,
    /// A reason an embedding process (an executor) declares this node not ready.
    not_ready: RwLock<Option<String>>,
    /// A deliberate fault (`lazychain validator --fault`, tests only); unset normally.
    fault: OnceLock<crate::fault::FaultState>,
}

impl NodeShared {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        role: &'static str,
        moniker: String,
        rules: BlockRules,
        store: Arc<BlockStore>,
        mempool: Mempool,
        metrics: NodeMetrics,
        powers: std::collections::HashMap<[u8; 20], u64>,
        own_power: u64,
        gossip_out: mpsc::Sender<Vec<u8>>,
        state: StateFollower,
        items_out: mpsc::Sender<Vec<u8>>,
    ) -> Self {
        let (decided, _) = broadcast::channel(256);
        let items = ItemPool::new(state.consensus().registry().len());
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
            state: RwLock::new(state),
            items: Mutex::new(items),
            items_out,
            coupled: OnceLock::new(),
            slashed_seen: std::sync::atomic::AtomicUsize::new(0),
            not_ready: RwLock::new(None),
            fault: OnceLock::new(),
        }
    }

    /// Turns on a deliberate fault (tests and demos only); once, before items arrive.
    pub fn set_fault(&self, fault: crate::fault::ValidatorFault) {
        let _ = self.fault.set(crate::fault::FaultState::new(fault));
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

    /// Admits a transaction from a user (RPC): stateless checks, mempool, then gossip.
    pub fn submit_local(&self, raw: &[u8]) -> Result<B256, SubmitError> {
        let tx = self.admit(raw)?;
        let hash = tx.hash;
        self.insert(tx)?;
        if self.gossip_out.try_send(raw.to_vec()).is_err() {
            tracing::warn!(%hash, "transaction gossip queue is full; kept locally only");
        }
        Ok(hash)
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

// ----- state-consensus items -----
impl NodeShared {
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
        self.store.decided_header(height).ok().flatten()
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
        check_claim_item(
            &item,
            self.rules.chain_id,
            decided,
            state.registry(),
            &header,
        )?;
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
            self.rules.chain_id,
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
        let latest = self.status().height;
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
        if self.items_out.try_send(msg).is_err() {
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
        let latest = self.store.latest_height().unwrap_or(applied);
        let mut claims = Vec::new();
        let mut proofs = Vec::new();
        for height in applied.saturating_add(1)..=latest {
            // A block the store cannot give back now is left to the follower, which reports it.
            let Ok(Some(decided)) = self.store.decided(height) else {
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
        let latest = self.store.latest_height()?;
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
            let decided = self
                .store
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
        if slashed
            != self
                .slashed_seen
                .swap(slashed, std::sync::atomic::Ordering::Relaxed)
        {
            // Claims of an executor slashed since would never be recorded: drop them.
            dropped.extend(
                self.item_pool()
                    .drop_claims_of(|executor| consensus.is_slashed(executor)),
            );
        }
        self.metrics
            .state_final_height
            .set(consensus.latest_final_height() as i64);
        self.metrics
            .state_held_claims
            .set(consensus.held_claims() as i64);
        self.metrics
            .state_disputes
            .set(state.disputes().len() as i64);
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
