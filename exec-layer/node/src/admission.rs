//! Admission of transactions sent to this executor's `eth_sendRawTransaction`, against the
//! state it holds, as geth's transaction pool admits them: the node's stateless checks run
//! first, then this module's ([`Admission`], plugged into the node as its
//! [`TxAdmission`]).
//!
//! - A nonce below the sender's next nonce (executed state, or decided and not executed yet)
//!   is refused: `nonce too low: next nonce N, tx nonce M`.
//! - A max fee per gas below the next block's base fee is refused: `max fee per gas less than
//!   block base fee: ...`.
//! - A cost (`gas_limit * max_fee_per_gas + value`) above the sender's executed balance is
//!   refused: `insufficient funds for gas * price + value: balance X, tx cost Y, overshot Z`;
//!   only while execution is at most [`MAX_FUNDS_CHECK_LAG`] blocks behind the decided ones
//!   (catching up, a balance may miss a deposit decided long ago).
//! - A nonce above the sender's pending nonce (see [`pending_nonce`]) by at most
//!   [`MAX_NONCE_GAP`] is held here, in a bounded per-sender queue ([`HeldQueue`]), and
//!   answered with its hash as geth answers a queued transaction. Held transactions are
//!   released in nonce order into the node's mempool (so they are gossiped) as soon as the gap
//!   closes: when the missing nonce is submitted here, and on every tick of [`run_releases`]
//!   (a gap can close by a transaction sent to another node, or by execution). Each is checked
//!   again (funds) when released; one that fails is dropped with a log line.
//! - A nonce further ahead goes to the mempool as validators take it (stateless), and is
//!   skipped at execution if the gap is still open then: a gap that large is a wallet's
//!   mistake rather than transactions overtaking each other.
//!
//! Replacement (same sender and nonce) is the mempool's: a newcomer must pay 10 % more max fee
//! per gas (`replacement transaction underpriced`), and an identical resend is `already
//! known`; the queue here applies the same rules to what it holds.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alloy_consensus::Transaction as _;
use alloy_primitives::{Address, Bytes, B256, U256};
use lazychain_data_chain_node::extension::{AdmissionVerdict, TxAdmission};
use lazychain_data_chain_node::shared::NodeShared;
use lazychain_data_chain_node::REPLACEMENT_BUMP_PERCENT;
use lazychain_data_chain_types::tx::{decode_canonical, AdmittedTx};
use lazychain_exec_stf::StateReader;
use tracing::{debug, info};

use crate::executor::ExecShared;

/// How far above the pending nonce a transaction is held (see the module docs).
pub const MAX_NONCE_GAP: u64 = 32;
/// Most transactions held for one sender.
pub const MAX_HELD_PER_SENDER: usize = 64;
/// Most transactions held in all.
pub const MAX_HELD_TOTAL: usize = 4_096;
/// How long a transaction is held before it is dropped (geth keeps queued ones 3 h; a gap
/// that stays open for minutes here is not transactions overtaking each other).
pub const HELD_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// Funds are checked only while execution is at most this many blocks behind the decided
/// ones: further behind (catching up), a balance may miss a deposit decided long ago.
pub const MAX_FUNDS_CHECK_LAG: u64 = 4;
/// How often held transactions are looked at (expiry, gaps closed elsewhere).
pub const RELEASE_TICK: Duration = Duration::from_millis(200);

/// Bounds of a [`HeldQueue`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueLimits {
    pub per_sender: usize,
    pub total: usize,
    pub lifetime: Duration,
}

impl Default for QueueLimits {
    fn default() -> Self {
        QueueLimits {
            per_sender: MAX_HELD_PER_SENDER,
            total: MAX_HELD_TOTAL,
            lifetime: HELD_LIFETIME,
        }
    }
}

/// A transaction held for a nonce gap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldTx {
    pub hash: B256,
    pub sender: Address,
    pub nonce: u64,
    pub max_fee_per_gas: u128,
    pub raw: Bytes,
    pub held_at: Instant,
}

impl HeldTx {
    pub fn of(tx: &AdmittedTx, now: Instant) -> Self {
        HeldTx {
            hash: tx.hash,
            sender: tx.sender,
            nonce: tx.nonce,
            max_fee_per_gas: tx.max_fee_per_gas,
            raw: tx.raw.clone(),
            held_at: now,
        }
    }
}

/// Why a transaction was not held. Messages are geth's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HoldError {
    #[error("already known")]
    AlreadyKnown,
    #[error("replacement transaction underpriced")]
    ReplacementUnderpriced,
    #[error("txpool is full: {held} transactions queued for nonce gaps from sender {sender}, limit {limit}")]
    SenderFull {
        sender: Address,
        held: usize,
        limit: usize,
    },
    #[error("txpool is full: {held} transactions queued for nonce gaps, limit {limit}")]
    Full { held: usize, limit: usize },
}

/// Transactions held for nonce gaps, per sender in nonce order. Pure bookkeeping: the caller
/// says what time it is and which nonce is pending.
#[derive(Debug, Default)]
pub struct HeldQueue {
    limits: QueueLimits,
    by_sender: HashMap<Address, BTreeMap<u64, HeldTx>>,
    /// Hash -> (sender, nonce) of every held transaction.
    by_hash: HashMap<B256, (Address, u64)>,
}

impl HeldQueue {
    pub fn new(limits: QueueLimits) -> Self {
        HeldQueue {
            limits,
            ..Default::default()
        }
    }

    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    pub fn contains(&self, hash: &B256) -> bool {
        self.by_hash.contains_key(hash)
    }

    /// The encoding of a held transaction.
    pub fn raw(&self, hash: &B256) -> Option<Bytes> {
        let (sender, nonce) = self.by_hash.get(hash)?;
        self.by_sender
            .get(sender)?
            .get(nonce)
            .map(|t| t.raw.clone())
    }

    /// Whether `sender` has held transactions.
    pub fn holds_for(&self, sender: &Address) -> bool {
        self.by_sender.contains_key(sender)
    }

    /// Senders with held transactions.
    pub fn senders(&self) -> Vec<Address> {
        self.by_sender.keys().copied().collect()
    }

    /// Holds `tx`; a transaction with the same sender and nonce is replaced when `tx` pays
    /// [`REPLACEMENT_BUMP_PERCENT`] more max fee per gas (returns the replaced one's hash).
    pub fn hold(&mut self, tx: HeldTx) -> Result<Option<B256>, HoldError> {
        if self.by_hash.contains_key(&tx.hash) {
            return Err(HoldError::AlreadyKnown);
        }
        let held_for_sender = self.by_sender.get(&tx.sender);
        if let Some(old) = held_for_sender.and_then(|m| m.get(&tx.nonce)) {
            // As the mempool: at least ceil(old * 110 / 100).
            let required = (U256::from(old.max_fee_per_gas)
                * U256::from(100 + REPLACEMENT_BUMP_PERCENT))
            .div_ceil(U256::from(100u64));
            if U256::from(tx.max_fee_per_gas) < required {
                return Err(HoldError::ReplacementUnderpriced);
            }
            let replaced = old.hash;
            self.by_hash.remove(&replaced);
            self.by_hash.insert(tx.hash, (tx.sender, tx.nonce));
            self.by_sender
                .entry(tx.sender)
                .or_default()
                .insert(tx.nonce, tx);
            return Ok(Some(replaced));
        }
        let for_sender = held_for_sender.map_or(0, BTreeMap::len);
        if for_sender >= self.limits.per_sender {
            return Err(HoldError::SenderFull {
                sender: tx.sender,
                held: for_sender,
                limit: self.limits.per_sender,
            });
        }
        if self.len() >= self.limits.total {
            return Err(HoldError::Full {
                held: self.len(),
                limit: self.limits.total,
            });
        }
        self.by_hash.insert(tx.hash, (tx.sender, tx.nonce));
        self.by_sender
            .entry(tx.sender)
            .or_default()
            .insert(tx.nonce, tx);
        Ok(None)
    }

    /// For `sender` whose pending nonce is `pending`: removes the held transactions with a
    /// lower nonce (stale: their nonce was used meanwhile), and takes the one with nonce
    /// `pending` if held.
    pub fn take_next(&mut self, sender: &Address, pending: u64) -> (Vec<HeldTx>, Option<HeldTx>) {
        let Some(held) = self.by_sender.get_mut(sender) else {
            return (Vec::new(), None);
        };
        let rest = held.split_off(&pending);
        let stale: Vec<HeldTx> = std::mem::replace(held, rest).into_values().collect();
        let next = held.remove(&pending);
        if held.is_empty() {
            self.by_sender.remove(sender);
        }
        for tx in stale.iter().chain(next.iter()) {
            self.by_hash.remove(&tx.hash);
        }
        (stale, next)
    }

    /// Removes and returns the transactions held longer than the lifetime.
    pub fn expire(&mut self, now: Instant) -> Vec<HeldTx> {
        let lifetime = self.limits.lifetime;
        let mut expired = Vec::new();
        self.by_sender.retain(|_, held| {
            held.retain(|_, tx| {
                let keep = now.saturating_duration_since(tx.held_at) < lifetime;
                if !keep {
                    expired.push(tx.clone());
                }
                keep
            });
            !held.is_empty()
        });
        for tx in &expired {
            self.by_hash.remove(&tx.hash);
        }
        expired
    }
}

/// The nonce a sender's next transaction should carry, as geth's "pending" nonce: the
/// executed nonce, past transactions decided and not executed yet, then past the sender's
/// contiguous run of pooled transactions (none after a gap counts, nor held ones).
pub fn pending_nonce(
    executed_nonce: u64,
    exec: &ExecShared,
    node: &NodeShared,
    sender: &Address,
) -> u64 {
    let base = exec
        .decided_next_nonce(sender)
        .map_or(executed_nonce, |decided| decided.max(executed_nonce));
    node.mempool_next_nonce(sender, base)
}

/// What [`Admission`] needs to know about a sender to decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SenderView {
    /// Next nonce after executed and decided transactions.
    pub next_nonce: u64,
    /// `next_nonce` past the sender's contiguous pooled transactions.
    pub pending_nonce: u64,
    /// Executed balance; `None` when it may be stale (execution behind the decided blocks).
    pub balance: Option<U256>,
}

/// What to do with a transaction, given its sender's view and the next base fee.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Pool,
    Hold,
    Refuse(String),
}

/// The transaction's fields the decision reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxFacts {
    pub sender: Address,
    pub nonce: u64,
    pub gas_limit: u64,
    pub max_fee_per_gas: u128,
    pub value: U256,
}

impl TxFacts {
    /// `gas_limit * max_fee_per_gas + value`, what geth checks the balance against.
    pub fn cost(&self) -> U256 {
        U256::from(self.gas_limit)
            .saturating_mul(U256::from(self.max_fee_per_gas))
            .saturating_add(self.value)
    }
}

/// geth's txpool checks, in geth's order, on a sender's view (pure).
pub fn decide(tx: &TxFacts, view: &SenderView, next_base_fee: u64) -> Decision {
    if tx.nonce < view.next_nonce {
        return Decision::Refuse(format!(
            "nonce too low: next nonce {}, tx nonce {}",
            view.next_nonce, tx.nonce
        ));
    }
    if tx.max_fee_per_gas < u128::from(next_base_fee) {
        return Decision::Refuse(format!(
            "max fee per gas less than block base fee: address {}, maxFeePerGas: {}, baseFee: {}",
            tx.sender, tx.max_fee_per_gas, next_base_fee
        ));
    }
    if let Some(refusal) = funds_refusal(tx, view.balance) {
        return Decision::Refuse(refusal);
    }
    if tx.nonce > view.pending_nonce && tx.nonce - view.pending_nonce <= MAX_NONCE_GAP {
        Decision::Hold
    } else {
        Decision::Pool
    }
}

fn funds_refusal(tx: &TxFacts, balance: Option<U256>) -> Option<String> {
    let balance = balance?;
    let cost = tx.cost();
    (balance < cost).then(|| {
        format!(
            "insufficient funds for gas * price + value: balance {balance}, tx cost {cost}, overshot {}",
            cost - balance
        )
    })
}

/// The executor's [`TxAdmission`]: its state, and the transactions it holds for nonce gaps.
pub struct Admission {
    exec: Arc<ExecShared>,
    queue: Mutex<HeldQueue>,
}

impl Admission {
    pub fn new(exec: Arc<ExecShared>) -> Self {
        Admission {
            exec,
            queue: Mutex::new(HeldQueue::new(QueueLimits::default())),
        }
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, HeldQueue> {
        // The queue holds no invariant a panic elsewhere could break halfway.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The encoding of a transaction held for a nonce gap.
    pub fn held_raw(&self, hash: &B256) -> Option<Bytes> {
        self.queue().raw(hash)
    }

    /// Transactions held for nonce gaps.
    pub fn held_len(&self) -> usize {
        self.queue().len()
    }

    /// `sender`'s view from the latest executed state, the decided blocks and the pool.
    pub fn sender_view(&self, node: &NodeShared, sender: &Address) -> Result<SenderView, String> {
        let snapshot = self.exec.state.snapshot().map_err(|e| e.to_string())?;
        let account = snapshot.account(sender).map_err(|e| e.to_string())?;
        let (executed_nonce, balance) = account.map_or((0, U256::ZERO), |a| (a.nonce, a.balance));
        let next_nonce = self
            .exec
            .decided_next_nonce(sender)
            .map_or(executed_nonce, |decided| decided.max(executed_nonce));
        let status = self.exec.status();
        let caught_up =
            status.data_height.saturating_sub(status.executed_height) <= MAX_FUNDS_CHECK_LAG;
        Ok(SenderView {
            next_nonce,
            pending_nonce: node.mempool_next_nonce(sender, next_nonce),
            balance: caught_up.then_some(balance),
        })
    }

    /// Drops expired held transactions, then releases every sender's whose gap closed.
    pub fn release_all(&self, node: &NodeShared) {
        let (expired, senders) = {
            let mut queue = self.queue();
            (queue.expire(Instant::now()), queue.senders())
        };
        for tx in expired {
            info!(hash = %tx.hash, sender = %tx.sender, nonce = tx.nonce, "held transaction expired: its nonce gap stayed open");
        }
        for sender in senders {
            self.release(node, sender);
        }
    }

    /// Pools `sender`'s held transactions that follow its pending nonce, in nonce order.
    fn release(&self, node: &NodeShared, sender: Address) {
        loop {
            let view = match self.sender_view(node, &sender) {
                Ok(view) => view,
                Err(e) => {
                    debug!(%sender, error = %e, "cannot read state to release held transactions");
                    return;
                }
            };
            let (stale, next) = self.queue().take_next(&sender, view.pending_nonce);
            for tx in stale {
                info!(hash = %tx.hash, %sender, nonce = tx.nonce, "held transaction dropped: its nonce was used meanwhile");
            }
            let Some(tx) = next else {
                return;
            };
            if let Some(refusal) =
                facts_of(&tx.raw, &sender).and_then(|f| funds_refusal(&f, view.balance))
            {
                info!(hash = %tx.hash, %sender, nonce = tx.nonce, reason = %refusal, "held transaction dropped at release");
                return;
            }
            match node.submit_released(&tx.raw) {
                Ok(_) => {
                    debug!(hash = %tx.hash, %sender, nonce = tx.nonce, "held transaction released")
                }
                Err(e) => {
                    info!(hash = %tx.hash, %sender, nonce = tx.nonce, reason = %e, "held transaction dropped at release");
                    return;
                }
            }
        }
    }
}

/// The decision's fields of a raw transaction (`None` if it no longer decodes, which a
/// transaction admitted once always does).
fn facts_of(raw: &[u8], sender: &Address) -> Option<TxFacts> {
    let envelope = decode_canonical(raw).ok()?;
    Some(TxFacts {
        sender: *sender,
        nonce: envelope.nonce(),
        gas_limit: envelope.gas_limit(),
        max_fee_per_gas: envelope.max_fee_per_gas(),
        value: envelope.value(),
    })
}

impl TxAdmission for Admission {
    fn check(&self, node: &NodeShared, tx: &AdmittedTx) -> AdmissionVerdict {
        let Some(facts) = facts_of(&tx.raw, &tx.sender) else {
            return AdmissionVerdict::Pool;
        };
        if self.queue().contains(&tx.hash) {
            return AdmissionVerdict::Refused(HoldError::AlreadyKnown.to_string());
        }
        let view = match self.sender_view(node, &tx.sender) {
            Ok(view) => view,
            // Without state the transaction is treated as before there was a state check.
            Err(e) => {
                debug!(error = %e, "cannot read state to admit a transaction");
                return AdmissionVerdict::Pool;
            }
        };
        match decide(&facts, &view, node.next_base_fee()) {
            Decision::Pool => AdmissionVerdict::Pool,
            Decision::Refuse(reason) => AdmissionVerdict::Refused(reason),
            Decision::Hold => match self.queue().hold(HeldTx::of(tx, Instant::now())) {
                Ok(_) => {
                    debug!(hash = %tx.hash, sender = %tx.sender, nonce = tx.nonce, pending = view.pending_nonce, "transaction held for a nonce gap");
                    AdmissionVerdict::Held
                }
                Err(e) => AdmissionVerdict::Refused(e.to_string()),
            },
        }
    }

    fn pooled(&self, node: &NodeShared, sender: Address) {
        if self.queue().holds_for(&sender) {
            self.release(node, sender);
        }
    }
}

/// Looks at held transactions every [`RELEASE_TICK`] until the task is aborted.
pub async fn run_releases(admission: Arc<Admission>, node: Arc<NodeShared>) {
    let mut tick = tokio::time::interval(RELEASE_TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if admission.held_len() == 0 {
            continue;
        }
        let (admission, node) = (admission.clone(), node.clone());
        // State reads and sender recovery: off the async workers.
        let _ = tokio::task::spawn_blocking(move || admission.release_all(&node)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GWEI: u128 = 1_000_000_000;

    fn held(sender: u8, nonce: u64, fee: u128, at: Instant) -> HeldTx {
        let mut hash = [0u8; 32];
        hash[0] = sender;
        hash[1..9].copy_from_slice(&nonce.to_be_bytes());
        hash[9..25].copy_from_slice(&fee.to_be_bytes());
        HeldTx {
            hash: B256::from(hash),
            sender: Address::repeat_byte(sender),
            nonce,
            max_fee_per_gas: fee,
            raw: Bytes::from(vec![sender, nonce as u8]),
            held_at: at,
        }
    }

    fn limits(per_sender: usize, total: usize) -> QueueLimits {
        QueueLimits {
            per_sender,
            total,
            lifetime: Duration::from_secs(60),
        }
    }

    #[test]
    fn releases_in_nonce_order_and_drops_stale_ones() {
        let now = Instant::now();
        let mut q = HeldQueue::new(QueueLimits::default());
        for nonce in [7, 5, 6, 3] {
            q.hold(held(1, nonce, GWEI, now)).expect("held");
        }
        let sender = Address::repeat_byte(1);
        // Pending nonce 4: nothing follows yet; nonce 3 is stale.
        let (stale, next) = q.take_next(&sender, 4);
        assert_eq!(stale.iter().map(|t| t.nonce).collect::<Vec<_>>(), [3]);
        assert_eq!(next, None);
        assert_eq!(q.len(), 3);
        let mut released = Vec::new();
        let mut pending = 5;
        while let (_, Some(tx)) = q.take_next(&sender, pending) {
            released.push(tx.nonce);
            pending += 1;
        }
        assert_eq!(released, [5, 6, 7]);
        assert!(q.is_empty());
        assert!(q.senders().is_empty());
    }

    #[test]
    fn bounds_per_sender_and_in_total() {
        let now = Instant::now();
        let mut q = HeldQueue::new(limits(2, 3));
        q.hold(held(1, 1, GWEI, now)).expect("held");
        q.hold(held(1, 2, GWEI, now)).expect("held");
        assert!(matches!(
            q.hold(held(1, 3, GWEI, now)),
            Err(HoldError::SenderFull {
                held: 2,
                limit: 2,
                ..
            })
        ));
        q.hold(held(2, 1, GWEI, now)).expect("held");
        let full = q.hold(held(3, 1, GWEI, now)).expect_err("full");
        assert_eq!(full, HoldError::Full { held: 3, limit: 3 });
        assert!(full.to_string().starts_with("txpool is full"));
        assert_eq!(q.len(), 3);
    }

    #[test]
    fn resends_and_replacements_follow_the_pool_rules() {
        let now = Instant::now();
        let mut q = HeldQueue::new(QueueLimits::default());
        let first = held(1, 4, 10 * GWEI, now);
        q.hold(first.clone()).expect("held");
        assert_eq!(q.hold(first.clone()), Err(HoldError::AlreadyKnown));
        assert_eq!(
            q.hold(held(1, 4, 10 * GWEI + 1, now)),
            Err(HoldError::ReplacementUnderpriced)
        );
        assert_eq!(
            HoldError::ReplacementUnderpriced.to_string(),
            "replacement transaction underpriced"
        );
        let bumped = held(1, 4, 11 * GWEI, now);
        assert_eq!(q.hold(bumped.clone()), Ok(Some(first.hash)));
        assert_eq!(q.len(), 1);
        assert!(!q.contains(&first.hash));
        assert_eq!(q.raw(&bumped.hash), Some(bumped.raw.clone()));
    }

    #[test]
    fn held_transactions_expire() {
        let start = Instant::now();
        let mut q = HeldQueue::new(limits(8, 8));
        q.hold(held(1, 2, GWEI, start)).expect("held");
        q.hold(held(1, 3, GWEI, start + Duration::from_secs(30)))
            .expect("held");
        assert!(q.expire(start + Duration::from_secs(59)).is_empty());
        let expired = q.expire(start + Duration::from_secs(60));
        assert_eq!(expired.iter().map(|t| t.nonce).collect::<Vec<_>>(), [2]);
        assert_eq!(q.len(), 1);
        assert_eq!(q.expire(start + Duration::from_secs(90)).len(), 1);
        assert!(q.is_empty() && q.senders().is_empty());
    }

    fn facts(nonce: u64, fee: u128, value: u64) -> TxFacts {
        TxFacts {
            sender: Address::repeat_byte(9),
            nonce,
            gas_limit: 21_000,
            max_fee_per_gas: fee,
            value: U256::from(value),
        }
    }

    fn view(next: u64, pending: u64, balance: Option<u64>) -> SenderView {
        SenderView {
            next_nonce: next,
            pending_nonce: pending,
            balance: balance.map(U256::from),
        }
    }

    #[test]
    fn decisions_answer_with_geths_messages() {
        let rich = Some(u64::MAX);
        let base = GWEI as u64;
        assert_eq!(
            decide(&facts(2, 2 * GWEI, 0), &view(3, 5, rich), base),
            Decision::Refuse("nonce too low: next nonce 3, tx nonce 2".into())
        );
        assert_eq!(
            decide(&facts(3, GWEI - 1, 0), &view(3, 3, rich), base),
            Decision::Refuse(format!(
                "max fee per gas less than block base fee: address {}, maxFeePerGas: 999999999, baseFee: 1000000000",
                Address::repeat_byte(9)
            ))
        );
        // 21,000 gas * 1 gwei + 5 wei against a balance of 1,000 wei.
        assert_eq!(
            decide(&facts(3, GWEI, 5), &view(3, 3, Some(1_000)), base),
            Decision::Refuse(
                "insufficient funds for gas * price + value: balance 1000, tx cost 21000000000005, overshot 20999999999005"
                    .into()
            )
        );
        // An unknown (stale) balance refuses nothing.
        assert_eq!(
            decide(&facts(3, GWEI, 5), &view(3, 3, None), base),
            Decision::Pool
        );
        // The next nonce, and a replacement of a pooled one, go to the pool.
        assert_eq!(
            decide(&facts(5, GWEI, 0), &view(3, 5, rich), base),
            Decision::Pool
        );
        assert_eq!(
            decide(&facts(4, GWEI, 0), &view(3, 5, rich), base),
            Decision::Pool
        );
        // A gap is held, up to the largest gap; beyond it goes to the pool as before.
        assert_eq!(
            decide(&facts(6, GWEI, 0), &view(3, 5, rich), base),
            Decision::Hold
        );
        assert_eq!(
            decide(&facts(5 + MAX_NONCE_GAP, GWEI, 0), &view(3, 5, rich), base),
            Decision::Hold
        );
        assert_eq!(
            decide(&facts(6 + MAX_NONCE_GAP, GWEI, 0), &view(3, 5, rich), base),
            Decision::Pool
        );
    }
}
