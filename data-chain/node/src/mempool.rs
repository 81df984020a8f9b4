//! Bounded pool of admitted transactions waiting to be proposed.
//!
//! Validators never read state, so the pool cannot know which nonce is next for a sender. It
//! keeps every [`AdmittedTx`] (already checked statelessly by
//! [`lazychain_data_chain_types::tx::admit`]) per sender sorted by nonce, proposes in arrival
//! order across senders without ever putting a sender's nonce `n + 1` before `n`, and leaves
//! nonce gaps and balances to the executors (a transaction that fails at execution is skipped).
//!
//! Bounds: a total count, a total of raw bytes, and a count per sender. When the pool is full a
//! newcomer may evict transactions that pay a strictly lower max fee per gas. Only a sender's
//! highest-nonce transaction (its *tail*) is ever evicted, so eviction never opens a hole in a
//! sender's sequence, and the evicted transaction always pays less than the one admitted.
//!
//! Costs: `insert` and `remove_*` are O(log n) per transaction touched (an insert that evicts k
//! transactions is O((k + 1) log n)); `select` is O(s + k log s) for s senders and k selected
//! transactions.
//!
//! The pool is in memory only: after a restart it is empty and refills from RPC and gossip.

use std::{
    cmp::Reverse,
    collections::{btree_map, hash_map, BTreeMap, BTreeSet, BinaryHeap, HashMap},
};

use alloy_primitives::{Address, B256, U256};
use lazychain_data_chain_types::tx::AdmittedTx;

/// A replacement (same sender and nonce) must raise the max fee per gas by at least this many
/// percent (geth's default price bump).
pub const REPLACEMENT_BUMP_PERCENT: u64 = 10;

/// The pool's bounds, from node config.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MempoolLimits {
    /// Most transactions held.
    pub max_txs: usize,
    /// Most bytes held (sum of the raw encodings).
    pub max_bytes: usize,
    /// Most transactions held per sender.
    pub max_txs_per_sender: usize,
}

/// What [`Mempool::insert`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsertOutcome {
    /// The transaction was added (possibly evicting cheaper transactions of other senders).
    Added,
    /// The transaction replaced the pooled one with this hash (same sender and nonce).
    Replaced(B256),
}

/// Why [`Mempool::insert`] refused a transaction. The pool is unchanged after any error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MempoolError {
    /// A transaction with this hash is already pooled.
    #[error("already known")]
    AlreadyKnown,
    /// The sender already has [`MempoolLimits::max_txs_per_sender`] pooled transactions.
    #[error("too many pending transactions from sender {sender}: limit {limit}")]
    SenderFull {
        /// The sender.
        sender: Address,
        /// [`MempoolLimits::max_txs_per_sender`].
        limit: usize,
    },
    /// The pool is at a limit and holds nothing cheaper that could be evicted to make room.
    #[error("txpool is full: {txs} transactions, {bytes} bytes, nothing cheaper than max fee {max_fee} to evict")]
    PoolFull {
        /// Transactions pooled.
        txs: usize,
        /// Bytes pooled.
        bytes: usize,
        /// The refused transaction's max fee per gas.
        max_fee: u128,
    },
    /// Another transaction with the same sender and nonce is pooled and the newcomer does not
    /// pay [`REPLACEMENT_BUMP_PERCENT`] more.
    #[error("replacement transaction underpriced: max fee {offered}, need at least {required} to replace {existing}")]
    NonceTaken {
        /// The pooled transaction.
        existing: B256,
        /// The newcomer's max fee per gas.
        offered: u128,
        /// The lowest max fee per gas that would replace `existing`.
        required: U256,
    },
}

/// A pooled transaction and its arrival number.
#[derive(Clone, Debug)]
struct Pooled {
    tx: AdmittedTx,
    seq: u64,
}

/// Order of eviction candidates: cheapest first, and among equal fees the latest arrival first.
type TailKey = (u128, Reverse<u64>, B256);

fn tail_key(pooled: &Pooled) -> TailKey {
    (
        pooled.tx.max_fee_per_gas,
        Reverse(pooled.seq),
        pooled.tx.hash,
    )
}

/// The lowest max fee per gas that replaces a transaction paying `old`.
fn replacement_threshold(old: u128) -> U256 {
    let old = U256::from(old);
    let bump = U256::from(100 + REPLACEMENT_BUMP_PERCENT);
    // ceil(old * 110 / 100)
    (old * bump).div_ceil(U256::from(100u64))
}

/// Bounded pool of statelessly admitted transactions. See the module docs.
#[derive(Debug)]
pub struct Mempool {
    limits: MempoolLimits,
    by_hash: HashMap<B256, Pooled>,
    /// Per sender: nonce -> hash. Never holds an empty map.
    by_sender: HashMap<Address, BTreeMap<u64, B256>>,
    /// The tail (highest-nonce transaction) of every sender, as eviction candidates.
    tails: BTreeSet<TailKey>,
    bytes: usize,
    next_seq: u64,
}

impl Mempool {
    /// An empty pool with these bounds.
    pub fn new(limits: MempoolLimits) -> Self {
        Self {
            limits,
            by_hash: HashMap::new(),
            by_sender: HashMap::new(),
            tails: BTreeSet::new(),
            bytes: 0,
            next_seq: 0,
        }
    }

    /// Adds `tx`, or replaces the pooled transaction with the same sender and nonce when `tx`
    /// pays at least [`REPLACEMENT_BUMP_PERCENT`] more (the replacement keeps the arrival
    /// position of the one it replaces). When the pool is at a limit, evicts sender tails that
    /// pay strictly less than `tx`, cheapest first; if that cannot make room, refuses with
    /// [`MempoolError::PoolFull`]. Errors are checked in this order: `AlreadyKnown`,
    /// `NonceTaken`, `SenderFull`, `PoolFull`; on error nothing changes.
    pub fn insert(&mut self, tx: AdmittedTx) -> Result<InsertOutcome, MempoolError> {
        if self.by_hash.contains_key(&tx.hash) {
            return Err(MempoolError::AlreadyKnown);
        }

        let replaced = self
            .by_sender
            .get(&tx.sender)
            .and_then(|nonces| nonces.get(&tx.nonce))
            .and_then(|hash| self.by_hash.get(hash));
        if let Some(old) = replaced {
            let required = replacement_threshold(old.tx.max_fee_per_gas);
            if U256::from(tx.max_fee_per_gas) < required {
                return Err(MempoolError::NonceTaken {
                    existing: old.tx.hash,
                    offered: tx.max_fee_per_gas,
                    required,
                });
            }
        } else if self.pending_count(&tx.sender) >= self.limits.max_txs_per_sender {
            return Err(MempoolError::SenderFull {
                sender: tx.sender,
                limit: self.limits.max_txs_per_sender,
            });
        }
        let replaced = replaced.map(|old| (old.tx.hash, old.tx.raw.len(), old.seq));

        let full = MempoolError::PoolFull {
            txs: self.len(),
            bytes: self.bytes,
            max_fee: tx.max_fee_per_gas,
        };
        if tx.raw.len() > self.limits.max_bytes || self.limits.max_txs == 0 {
            return Err(full);
        }
        let (count_after, bytes_after) = match replaced {
            Some((_, old_len, _)) => (self.len(), self.bytes - old_len + tx.raw.len()),
            None => (self.len() + 1, self.bytes + tx.raw.len()),
        };
        let victims = self
            .plan_evictions(
                &tx,
                replaced.map(|(hash, _, _)| hash),
                count_after.saturating_sub(self.limits.max_txs),
                bytes_after.saturating_sub(self.limits.max_bytes),
            )
            .ok_or(full)?;

        let (outcome, seq) = match replaced {
            Some((old_hash, _, seq)) => {
                self.remove_tx(&old_hash);
                (InsertOutcome::Replaced(old_hash), seq)
            }
            None => {
                let seq = self.next_seq;
                self.next_seq += 1;
                (InsertOutcome::Added, seq)
            }
        };
        for victim in &victims {
            self.remove_tx(victim);
        }
        self.add_tx(Pooled { tx, seq });
        Ok(outcome)
    }

    /// Transactions to propose, without removing them: arrival order across senders, each
    /// sender's in nonce order (a sender's next transaction becomes eligible when its lower
    /// nonces have been taken, whatever their arrival; nonce gaps do not block, since
    /// validators do not know state). Stops at the first transaction that would take the
    /// selection past `max_txs`, `max_bytes` (sum of raw lengths) or `max_gas` (sum of gas
    /// limits).
    pub fn select(
        &self,
        max_txs: usize,
        max_bytes: usize,
        max_gas: u64,
        min_fee: u128,
    ) -> Vec<AdmittedTx> {
        let mut queues: Vec<btree_map::Values<'_, u64, B256>> =
            Vec::with_capacity(self.by_sender.len());
        let mut heads: Vec<Reverse<(u64, usize, B256)>> = Vec::with_capacity(self.by_sender.len());
        for nonces in self.by_sender.values() {
            let mut queue = nonces.values();
            if let Some(pooled) = queue.next().and_then(|hash| self.by_hash.get(hash)) {
                heads.push(Reverse((pooled.seq, queues.len(), pooled.tx.hash)));
                queues.push(queue);
            }
        }
        let mut heads = BinaryHeap::from(heads);

        let mut selected = Vec::new();
        let (mut bytes, mut gas) = (0usize, 0u64);
        while let Some(Reverse((_, sender, hash))) = heads.pop() {
            let Some(pooled) = self.by_hash.get(&hash) else {
                continue;
            };
            let tx = &pooled.tx;
            // Below the block's base fee it would be skipped at execution, and so would this
            // sender's later nonces: the sender waits for a cheaper block.
            if tx.max_fee_per_gas < min_fee {
                continue;
            }
            let next_bytes = bytes.saturating_add(tx.raw.len());
            let next_gas = gas.saturating_add(tx.gas_limit);
            if selected.len() >= max_txs || next_bytes > max_bytes || next_gas > max_gas {
                break;
            }
            selected.push(tx.clone());
            (bytes, gas) = (next_bytes, next_gas);
            let next = queues
                .get_mut(sender)
                .and_then(|queue| queue.next())
                .and_then(|hash| self.by_hash.get(hash));
            if let Some(next) = next {
                heads.push(Reverse((next.seq, sender, next.tx.hash)));
            }
        }
        selected
    }

    /// Drops the pooled transactions with these hashes (decided in a block). Hashes that are
    /// not pooled are ignored. A transaction with the same sender and nonce as a decided one
    /// can only be found from the decided transaction itself: use
    /// [`Mempool::remove_included_txs`] when the decided transactions are at hand.
    pub fn remove_included<'a>(&mut self, hashes: impl IntoIterator<Item = &'a B256>) {
        for hash in hashes {
            self.remove_tx(hash);
        }
    }

    /// Drops these decided transactions and any pooled transaction they supersede (same
    /// sender and nonce, different hash).
    pub fn remove_included_txs<'a>(&mut self, txs: impl IntoIterator<Item = &'a AdmittedTx>) {
        for tx in txs {
            if self.remove_tx(&tx.hash).is_some() {
                continue;
            }
            let superseded = self
                .by_sender
                .get(&tx.sender)
                .and_then(|nonces| nonces.get(&tx.nonce))
                .copied();
            if let Some(hash) = superseded {
                self.remove_tx(&hash);
            }
        }
    }

    /// Whether a transaction with this hash is pooled.
    pub fn contains(&self, hash: &B256) -> bool {
        self.by_hash.contains_key(hash)
    }

    /// The pooled transaction with this hash.
    pub fn get(&self, hash: &B256) -> Option<&AdmittedTx> {
        self.by_hash.get(hash).map(|pooled| &pooled.tx)
    }

    /// Number of pooled transactions.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether the pool is empty.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// Sum of the raw lengths of the pooled transactions.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The highest nonce pooled for `sender`.
    pub fn highest_nonce(&self, sender: &Address) -> Option<u64> {
        self.by_sender
            .get(sender)
            .and_then(|m| m.last_key_value())
            .map(|(n, _)| *n)
    }

    /// The first nonce `n >= from` such that `sender` has no pooled transaction with nonce `n`.
    pub fn next_free_nonce(&self, sender: &Address, from: u64) -> u64 {
        let mut next = from;
        if let Some(nonces) = self.by_sender.get(sender) {
            for nonce in nonces.range(from..).map(|(n, _)| *n) {
                if nonce != next {
                    break;
                }
                next = next.saturating_add(1);
            }
        }
        next
    }

    /// Number of pooled transactions from `sender`.
    pub fn pending_count(&self, sender: &Address) -> usize {
        self.by_sender.get(sender).map_or(0, BTreeMap::len)
    }

    /// The sender tails to evict, cheapest first, so that `excess_txs` transactions and
    /// `excess_bytes` bytes are freed for `incoming`; `None` when that needs evicting a
    /// transaction paying at least `incoming`'s max fee. Never picks `replaced`, nor a
    /// transaction of `incoming`'s sender with a lower nonce (that would open a hole before
    /// `incoming`). Reads only: a simulated eviction of a tail makes its sender's next lower
    /// nonce a candidate.
    fn plan_evictions(
        &self,
        incoming: &AdmittedTx,
        replaced: Option<B256>,
        mut excess_txs: usize,
        mut excess_bytes: usize,
    ) -> Option<Vec<B256>> {
        let mut victims = Vec::new();
        let mut tails = self.tails.iter().peekable();
        let mut promoted: BinaryHeap<Reverse<TailKey>> = BinaryHeap::new();
        while excess_txs > 0 || excess_bytes > 0 {
            let from_tails = tails.peek().map(|key| **key);
            let from_promoted = promoted.peek().map(|key| key.0);
            let candidate = match (from_tails, from_promoted) {
                (Some(a), Some(b)) if b < a => promoted.pop().map(|key| key.0),
                (Some(_), _) => tails.next().copied(),
                (None, Some(_)) => promoted.pop().map(|key| key.0),
                (None, None) => None,
            };
            let (max_fee, _, hash) = candidate?;
            if max_fee >= incoming.max_fee_per_gas {
                return None;
            }
            if Some(hash) == replaced {
                continue;
            }
            let Some(pooled) = self.by_hash.get(&hash) else {
                continue;
            };
            let tx = &pooled.tx;
            if tx.sender == incoming.sender && tx.nonce < incoming.nonce {
                continue;
            }
            victims.push(hash);
            excess_txs = excess_txs.saturating_sub(1);
            excess_bytes = excess_bytes.saturating_sub(tx.raw.len());
            let previous = self
                .by_sender
                .get(&tx.sender)
                .and_then(|nonces| nonces.range(..tx.nonce).next_back())
                .and_then(|(_, hash)| self.by_hash.get(hash));
            if let Some(previous) = previous {
                promoted.push(Reverse(tail_key(previous)));
            }
        }
        Some(victims)
    }

    fn add_tx(&mut self, pooled: Pooled) {
        let key = tail_key(&pooled);
        let nonces = self.by_sender.entry(pooled.tx.sender).or_default();
        let old_tail = nonces.last_key_value().map(|(nonce, hash)| (*nonce, *hash));
        nonces.insert(pooled.tx.nonce, pooled.tx.hash);
        match old_tail {
            Some((nonce, _)) if nonce > pooled.tx.nonce => {}
            Some((_, old_hash)) => {
                if let Some(old) = self.by_hash.get(&old_hash) {
                    self.tails.remove(&tail_key(old));
                }
                self.tails.insert(key);
            }
            None => {
                self.tails.insert(key);
            }
        }
        self.bytes += pooled.tx.raw.len();
        self.by_hash.insert(pooled.tx.hash, pooled);
    }

    fn remove_tx(&mut self, hash: &B256) -> Option<AdmittedTx> {
        let pooled = self.by_hash.remove(hash)?;
        self.bytes -= pooled.tx.raw.len();
        if let hash_map::Entry::Occupied(mut entry) = self.by_sender.entry(pooled.tx.sender) {
            let nonces = entry.get_mut();
            let was_tail =
                nonces.last_key_value().map(|(nonce, _)| *nonce) == Some(pooled.tx.nonce);
            nonces.remove(&pooled.tx.nonce);
            if was_tail {
                self.tails.remove(&tail_key(&pooled));
                let new_tail = nonces
                    .last_key_value()
                    .and_then(|(_, hash)| self.by_hash.get(hash));
                if let Some(new_tail) = new_tail {
                    self.tails.insert(tail_key(new_tail));
                }
            }
            if nonces.is_empty() {
                entry.remove();
            }
        }
        Some(pooled.tx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{keccak256, Bytes};

    const LIMITS: MempoolLimits = MempoolLimits {
        max_txs: 100,
        max_bytes: 100_000,
        max_txs_per_sender: 16,
    };

    fn sender(n: u8) -> Address {
        Address::with_last_byte(n)
    }

    /// A fake admitted transaction: the pool never decodes, it only needs consistent fields.
    fn tx_sized(from: u8, nonce: u64, max_fee: u128, len: usize) -> AdmittedTx {
        let mut raw = vec![0u8; len.max(10)];
        raw[0] = from;
        raw[1..9].copy_from_slice(&nonce.to_be_bytes());
        raw[9] = (max_fee % 251) as u8;
        let raw = Bytes::from(raw);
        AdmittedTx {
            hash: keccak256([&raw[..], &max_fee.to_be_bytes()].concat()),
            sender: sender(from),
            nonce,
            gas_limit: 21_000,
            max_fee_per_gas: max_fee,
            raw,
        }
    }

    fn tx(from: u8, nonce: u64, max_fee: u128) -> AdmittedTx {
        tx_sized(from, nonce, max_fee, 100)
    }

    fn ids(txs: &[AdmittedTx]) -> Vec<(u8, u64)> {
        txs.iter().map(|tx| (tx.sender.0[19], tx.nonce)).collect()
    }

    /// Recomputes every index from `by_hash` and compares.
    fn assert_consistent(pool: &Mempool) {
        let bytes: usize = pool.by_hash.values().map(|p| p.tx.raw.len()).sum();
        assert_eq!(pool.bytes(), bytes);
        let indexed: usize = pool.by_sender.values().map(BTreeMap::len).sum();
        assert_eq!(indexed, pool.len());
        let mut tails = BTreeSet::new();
        for (sender, nonces) in &pool.by_sender {
            assert!(!nonces.is_empty());
            for (nonce, hash) in nonces {
                let pooled = &pool.by_hash[hash];
                assert_eq!((&pooled.tx.sender, &pooled.tx.nonce), (sender, nonce));
            }
            let (_, tail) = nonces.last_key_value().expect("non-empty");
            tails.insert(tail_key(&pool.by_hash[tail]));
        }
        assert_eq!(pool.tails, tails);
        assert!(pool.len() <= pool.limits.max_txs);
        assert!(pool.bytes() <= pool.limits.max_bytes);
    }

    #[test]
    fn select_is_arrival_order_across_senders_and_nonce_order_within() {
        let mut pool = Mempool::new(LIMITS);
        // Sender 1's nonce 1 arrives before its nonce 0.
        for tx in [
            tx(1, 1, 10),
            tx(2, 0, 10),
            tx(1, 0, 10),
            tx(3, 5, 10),
            tx(2, 1, 10),
        ] {
            assert_eq!(pool.insert(tx), Ok(InsertOutcome::Added));
        }
        // Sender 2's nonce 0 is the earliest eligible head; sender 1 waits for its nonce 0
        // (arrival 3), so sender 2's nonce 1 (arrival 5) still comes after it; sender 3's gap
        // (nonce 5 with no 0..4) does not block it.
        let selected = pool.select(usize::MAX, usize::MAX, u64::MAX, 0);
        assert_eq!(ids(&selected), vec![(2, 0), (1, 0), (1, 1), (3, 5), (2, 1)]);
        // Never nonce n + 1 before n.
        for (i, a) in selected.iter().enumerate() {
            for b in &selected[i + 1..] {
                assert!(a.sender != b.sender || a.nonce < b.nonce);
            }
        }
        // Selection removes nothing.
        assert_eq!(pool.len(), 5);
        assert_consistent(&pool);
    }

    #[test]
    fn next_free_nonce_ends_the_contiguous_run() {
        let mut pool = Mempool::new(LIMITS);
        for t in [tx(1, 3, 10), tx(1, 4, 10), tx(1, 6, 10)] {
            pool.insert(t).expect("insert");
        }
        let sender = tx(1, 0, 10).sender;
        assert_eq!(
            pool.next_free_nonce(&sender, 3),
            5,
            "nonce 6 is after a gap"
        );
        assert_eq!(pool.next_free_nonce(&sender, 2), 2);
        assert_eq!(pool.next_free_nonce(&sender, 6), 7);
        assert_eq!(pool.next_free_nonce(&tx(2, 0, 10).sender, 9), 9);
    }

    #[test]
    fn select_leaves_out_senders_that_cannot_pay_the_base_fee() {
        let mut pool = Mempool::new(LIMITS);
        for t in [tx(1, 0, 5), tx(1, 1, 50), tx(2, 0, 10), tx(3, 0, 9)] {
            pool.insert(t).expect("insert");
        }
        // Base fee 10: sender 1's head pays 5, so its nonce 1 waits too (it would be skipped
        // for its nonce); sender 3 pays 9.
        assert_eq!(
            ids(&pool.select(10, usize::MAX, u64::MAX, 10)),
            vec![(2, 0)]
        );
        assert_eq!(pool.select(10, usize::MAX, u64::MAX, 5).len(), 4);
        assert_eq!(pool.len(), 4, "selection removes nothing");
    }

    #[test]
    fn select_stops_at_the_first_tx_over_a_limit() {
        let mut pool = Mempool::new(LIMITS);
        pool.insert(tx_sized(1, 0, 10, 100)).expect("insert");
        pool.insert(tx_sized(2, 0, 10, 300)).expect("insert");
        pool.insert(tx_sized(3, 0, 10, 50)).expect("insert");

        assert_eq!(
            ids(&pool.select(2, usize::MAX, u64::MAX, 0)),
            vec![(1, 0), (2, 0)]
        );
        assert_eq!(pool.select(0, usize::MAX, u64::MAX, 0), vec![]);
        // Bytes: 100 fits, 100 + 300 does not; selection stops there and does not skip ahead
        // to the 50-byte transaction.
        assert_eq!(ids(&pool.select(10, 399, u64::MAX, 0)), vec![(1, 0)]);
        assert_eq!(
            ids(&pool.select(10, 400, u64::MAX, 0)),
            vec![(1, 0), (2, 0)]
        );
        assert_eq!(ids(&pool.select(10, 450, u64::MAX, 0)).len(), 3);
        // Gas: 21000 each.
        assert_eq!(ids(&pool.select(10, usize::MAX, 41_999, 0)), vec![(1, 0)]);
        assert_eq!(pool.select(10, usize::MAX, 63_000, 0).len(), 3);
        assert_eq!(pool.select(10, usize::MAX, 20_999, 0), vec![]);
    }

    #[test]
    fn duplicate_is_already_known() {
        let mut pool = Mempool::new(LIMITS);
        let a = tx(1, 0, 10);
        assert_eq!(pool.insert(a.clone()), Ok(InsertOutcome::Added));
        assert_eq!(pool.insert(a.clone()), Err(MempoolError::AlreadyKnown));
        assert!(pool.contains(&a.hash));
        assert_eq!(pool.get(&a.hash), Some(&a));
        assert_eq!(pool.len(), 1);
        assert_eq!(MempoolError::AlreadyKnown.to_string(), "already known");
    }

    #[test]
    fn per_sender_cap() {
        let limits = MempoolLimits {
            max_txs_per_sender: 3,
            ..LIMITS
        };
        let mut pool = Mempool::new(limits);
        for nonce in 0..3 {
            pool.insert(tx(1, nonce, 10)).expect("insert");
        }
        assert_eq!(
            pool.insert(tx(1, 3, 10)),
            Err(MempoolError::SenderFull {
                sender: sender(1),
                limit: 3
            })
        );
        assert!(pool
            .insert(tx(1, 3, 10))
            .expect_err("refused")
            .to_string()
            .starts_with("too many pending transactions from sender"));
        // Another sender is unaffected; a replacement of a full sender is allowed.
        assert_eq!(pool.insert(tx(2, 0, 10)), Ok(InsertOutcome::Added));
        let old = pool.select(1, usize::MAX, u64::MAX, 0)[0].hash;
        assert_eq!(pool.insert(tx(1, 0, 11)), Ok(InsertOutcome::Replaced(old)));
        assert_eq!(pool.pending_count(&sender(1)), 3);
        assert_eq!(pool.pending_count(&sender(9)), 0);
        assert_consistent(&pool);
    }

    #[test]
    fn replacement_needs_a_ten_percent_bump() {
        let mut pool = Mempool::new(LIMITS);
        let old = tx(1, 0, 100);
        pool.insert(old.clone()).expect("insert");
        pool.insert(tx(2, 0, 100)).expect("insert");

        let err = pool.insert(tx(1, 0, 109)).expect_err("refused");
        assert_eq!(
            err,
            MempoolError::NonceTaken {
                existing: old.hash,
                offered: 109,
                required: U256::from(110u64)
            }
        );
        assert!(err
            .to_string()
            .starts_with("replacement transaction underpriced"));
        assert!(pool.contains(&old.hash));

        let new = tx_sized(1, 0, 110, 250);
        assert_eq!(
            pool.insert(new.clone()),
            Ok(InsertOutcome::Replaced(old.hash))
        );
        assert!(!pool.contains(&old.hash));
        assert!(pool.contains(&new.hash));
        assert_eq!(pool.len(), 2);
        assert_eq!(pool.bytes(), 100 + 250);
        // The replacement keeps the replaced transaction's place in arrival order.
        assert_eq!(
            ids(&pool.select(10, usize::MAX, u64::MAX, 0)),
            vec![(1, 0), (2, 0)]
        );
        assert_consistent(&pool);

        // Rounding up: 10% of 15 is 1.5, so 16 is too little and 17 is needed.
        let mut pool = Mempool::new(LIMITS);
        pool.insert(tx(1, 0, 15)).expect("insert");
        assert!(matches!(
            pool.insert(tx(1, 0, 16)),
            Err(MempoolError::NonceTaken { .. })
        ));
        assert!(matches!(
            pool.insert(tx(1, 0, 17)),
            Ok(InsertOutcome::Replaced(_))
        ));
        // No overflow at the top of the range.
        let mut pool = Mempool::new(LIMITS);
        pool.insert(tx(1, 0, u128::MAX)).expect("insert");
        assert!(matches!(
            pool.insert(tx(1, 0, u128::MAX - 1)),
            Err(MempoolError::NonceTaken { .. })
        ));
    }

    #[test]
    fn full_pool_evicts_the_cheapest_tail() {
        let limits = MempoolLimits {
            max_txs: 4,
            ..LIMITS
        };
        let mut pool = Mempool::new(limits);
        // Sender 1: nonce 0 is the cheapest tx in the pool, nonce 1 pays 5.
        pool.insert(tx(1, 0, 1)).expect("insert");
        pool.insert(tx(1, 1, 5)).expect("insert");
        pool.insert(tx(2, 0, 3)).expect("insert");
        pool.insert(tx(3, 0, 8)).expect("insert");

        // Paying no more than the cheapest tail (3) is refused, and nothing changes.
        let refused = pool.insert(tx(4, 0, 3));
        assert!(matches!(
            refused,
            Err(MempoolError::PoolFull { txs: 4, .. })
        ));
        assert!(refused
            .expect_err("refused")
            .to_string()
            .starts_with("txpool is full"));
        assert_eq!(pool.len(), 4);

        // Paying 4: sender 2's tail (3) goes. Sender 1's nonce 0 is cheaper but evicting it
        // would leave nonce 1 behind a hole, and its tail pays 5 > 4.
        assert_eq!(pool.insert(tx(4, 0, 4)), Ok(InsertOutcome::Added));
        assert_eq!(pool.pending_count(&sender(2)), 0);
        assert_eq!(pool.pending_count(&sender(1)), 2);
        assert_consistent(&pool);

        // Paying 6: the cheapest tail is now sender 4's (4).
        pool.insert(tx(5, 0, 6)).expect("insert");
        assert_eq!(pool.pending_count(&sender(4)), 0);
        // Paying 7: sender 1's tail (nonce 1, fee 5), never its nonce 0.
        pool.insert(tx(6, 0, 7)).expect("insert");
        assert_eq!(pool.pending_count(&sender(1)), 1);
        assert_eq!(
            ids(&pool.select(10, usize::MAX, u64::MAX, 0)),
            vec![(1, 0), (3, 0), (5, 0), (6, 0)]
        );
        assert_consistent(&pool);
    }

    #[test]
    fn eviction_for_bytes_takes_several_tails_or_nothing() {
        let limits = MempoolLimits {
            max_txs: 100,
            max_bytes: 1_000,
            max_txs_per_sender: 16,
        };
        let mut pool = Mempool::new(limits);
        // Sender 1 holds nonces 0..3 at fee 2 (100 bytes each); sender 2 one at fee 9.
        for nonce in 0..4 {
            pool.insert(tx_sized(1, nonce, 2, 100)).expect("insert");
        }
        pool.insert(tx_sized(2, 0, 9, 500)).expect("insert");
        assert_eq!(pool.bytes(), 900);

        // 350 bytes need 250 freed: three of sender 1's, from the top nonce down.
        assert_eq!(
            pool.insert(tx_sized(3, 0, 5, 350)),
            Ok(InsertOutcome::Added)
        );
        assert_eq!(
            ids(&pool.select(10, usize::MAX, u64::MAX, 0)),
            vec![(1, 0), (2, 0), (3, 0)]
        );
        assert_eq!(pool.bytes(), 950);
        assert_consistent(&pool);

        // 600 bytes would need sender 2's transaction (fee 9) gone too: refused, unchanged.
        let before = pool.select(10, usize::MAX, u64::MAX, 0);
        assert!(matches!(
            pool.insert(tx_sized(4, 0, 6, 600)),
            Err(MempoolError::PoolFull { .. })
        ));
        assert_eq!(pool.select(10, usize::MAX, u64::MAX, 0), before);
        // Larger than the whole pool: refused.
        assert!(matches!(
            pool.insert(tx_sized(4, 0, 1_000, 1_001)),
            Err(MempoolError::PoolFull { .. })
        ));
        assert_consistent(&pool);
    }

    #[test]
    fn replacement_in_a_full_pool_counts_the_freed_bytes() {
        let limits = MempoolLimits {
            max_txs: 100,
            max_bytes: 300,
            max_txs_per_sender: 16,
        };
        let mut pool = Mempool::new(limits);
        let a = tx_sized(1, 0, 10, 100);
        let b = tx_sized(2, 0, 5, 100);
        pool.insert(a.clone()).expect("insert");
        pool.insert(b.clone()).expect("insert");
        pool.insert(tx_sized(3, 0, 50, 100)).expect("insert");
        // Same size: the replaced transaction's bytes make room, nothing is evicted.
        assert_eq!(
            pool.insert(tx_sized(1, 0, 11, 100)),
            Ok(InsertOutcome::Replaced(a.hash))
        );
        assert_eq!(pool.len(), 3);
        assert!(pool.contains(&b.hash));
        assert_consistent(&pool);

        // The replaced transaction is never also counted as an eviction: here it is the
        // cheapest tail, the next one pays more than the newcomer, so a larger replacement
        // does not fit.
        let mut pool = Mempool::new(limits);
        pool.insert(tx_sized(1, 0, 1, 100)).expect("insert");
        pool.insert(tx_sized(2, 0, 5, 100)).expect("insert");
        pool.insert(tx_sized(3, 0, 50, 100)).expect("insert");
        assert!(matches!(
            pool.insert(tx_sized(1, 0, 2, 150)),
            Err(MempoolError::PoolFull { .. })
        ));
        assert_consistent(&pool);
        // Paying more than sender 2's tail, it evicts that instead.
        assert!(matches!(
            pool.insert(tx_sized(1, 0, 6, 150)),
            Ok(InsertOutcome::Replaced(_))
        ));
        assert_eq!(pool.pending_count(&sender(2)), 0);
        assert_eq!(pool.bytes(), 250);
        assert_consistent(&pool);
    }

    #[test]
    fn eviction_never_opens_a_hole_before_the_newcomer() {
        let limits = MempoolLimits {
            max_txs: 3,
            ..LIMITS
        };
        let mut pool = Mempool::new(limits);
        pool.insert(tx(1, 0, 1)).expect("insert");
        pool.insert(tx(1, 1, 1)).expect("insert");
        pool.insert(tx(2, 0, 9)).expect("insert");
        // Sender 1's nonce 2 pays more than its nonce 1, but evicting nonce 1 would leave
        // 0, _, 2; nothing else is cheaper, so it is refused.
        assert!(matches!(
            pool.insert(tx(1, 2, 5)),
            Err(MempoolError::PoolFull { .. })
        ));
        // A lower nonce of the same sender may push out its own cheaper tail.
        let mut pool = Mempool::new(limits);
        pool.insert(tx(1, 0, 1)).expect("insert");
        pool.insert(tx(1, 5, 1)).expect("insert");
        pool.insert(tx(2, 0, 9)).expect("insert");
        assert_eq!(pool.insert(tx(1, 1, 5)), Ok(InsertOutcome::Added));
        assert_eq!(
            ids(&pool.select(10, usize::MAX, u64::MAX, 0)),
            vec![(1, 0), (2, 0), (1, 1)]
        );
        assert_consistent(&pool);
    }

    #[test]
    fn remove_included_drops_by_hash_and_bytes_return_to_zero() {
        let mut pool = Mempool::new(LIMITS);
        let txs: Vec<AdmittedTx> = (0..3)
            .flat_map(|from| {
                (0..3).map(move |nonce| tx_sized(from, nonce, 10, 100 + nonce as usize))
            })
            .collect();
        for tx in &txs {
            pool.insert(tx.clone()).expect("insert");
        }
        assert_eq!(pool.bytes(), 3 * (100 + 101 + 102));

        let unknown = B256::repeat_byte(0xee);
        pool.remove_included([&txs[0].hash, &txs[4].hash, &unknown]);
        assert_eq!(pool.len(), 7);
        assert!(!pool.contains(&txs[0].hash) && !pool.contains(&txs[4].hash));
        assert_eq!(pool.pending_count(&sender(0)), 2);
        assert_consistent(&pool);

        // Decided elsewhere: a different transaction of sender 2 with nonce 1 supersedes ours.
        let rival = tx(2, 1, 99);
        assert!(!pool.contains(&rival.hash));
        pool.remove_included_txs([&rival, &txs[8]]);
        assert!(!pool.contains(&txs[7].hash));
        assert!(!pool.contains(&txs[8].hash));
        assert_eq!(pool.pending_count(&sender(2)), 1);
        assert_consistent(&pool);

        let rest: Vec<B256> = txs.iter().map(|tx| tx.hash).collect();
        pool.remove_included(&rest);
        assert!(pool.is_empty());
        assert_eq!(pool.len(), 0);
        assert_eq!(pool.bytes(), 0);
        assert!(pool.by_sender.is_empty());
        assert!(pool.tails.is_empty());
        assert_eq!(pool.select(10, usize::MAX, u64::MAX, 0), vec![]);
    }

    #[test]
    fn random_operations_keep_the_indexes_consistent() {
        // A fixed-seed xorshift drives inserts, replacements and removals on a small pool.
        let seed = 0x5eed_u64;
        println!("seed {seed:#x}");
        let mut state = seed;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let limits = MempoolLimits {
            max_txs: 20,
            max_bytes: 3_000,
            max_txs_per_sender: 5,
        };
        let mut pool = Mempool::new(limits);
        for _ in 0..5_000 {
            let r = next();
            if r % 4 == 0 {
                let selected = pool.select((r % 7) as usize, usize::MAX, u64::MAX, 0);
                let hashes: Vec<B256> = selected.iter().map(|tx| tx.hash).collect();
                pool.remove_included(&hashes);
            } else {
                let from = (r >> 8) as u8 % 6;
                let nonce = (r >> 16) % 8;
                let fee = u128::from((r >> 24) % 50);
                let len = 50 + ((r >> 32) % 300) as usize;
                let _ = pool.insert(tx_sized(from, nonce, fee, len));
            }
            assert_consistent(&pool);
            let selected = pool.select(usize::MAX, usize::MAX, u64::MAX, 0);
            assert_eq!(selected.len(), pool.len());
            for (i, a) in selected.iter().enumerate() {
                for b in &selected[i + 1..] {
                    assert!(a.sender != b.sender || a.nonce < b.nonce);
                }
            }
        }
    }
}
