//! geth's WebSocket subscriptions, `eth_subscribe` / `eth_unsubscribe`, notified as
//! `eth_subscription` with `{subscription, result}`:
//!
//! - `newHeads`: each executed block's header, as `eth_getBlockByNumber` answers it without
//!   transactions (no `transactions`, `uncles`, `size` or `totalDifficulty`, as geth's heads);
//! - `logs` (optional `{address, topics}`): one notification per matching log of each
//!   executed block;
//! - `newPendingTransactions` (optional `true`: whole transactions): each transaction this
//!   node's mempool takes;
//! - `lazyClaims` (lazychain's own): the claim status of each executed height as it changes,
//!   `{height, hash, stateRoot, status}` with status `pending` (executed here, no claimed root
//!   recorded yet), `safe` (a claimed root no fraud proof reverted is recorded for it: the
//!   `safe` tag reached it), `final` (the `finalized` tag reached it) or `reverted` (it was
//!   safe and the claim that made it so was reverted: it is pending again until another
//!   claim). Each notification is the height's status when checked (every 250 ms and at each
//!   executed block), so a height may go from `pending` straight to `final`; only changes
//!   after subscribing are notified. Under a safety alarm no height is notified safe or final.
//!
//! Heads, logs and claim statuses follow the executed heights from the state store, so a
//! slow subscriber misses nothing unless it falls more than [`MAX_CATCHUP`] heights behind
//! (then the older heights are skipped, and with them their logs). Pending transactions come
//! from the node's feed, which keeps the last `POOLED_FEED_CAPACITY` hashes for a slow
//! subscriber. Execution never waits for a subscriber.

use std::sync::Arc;
use std::time::Duration;

use alloy_primitives::{B256, U64};
use alloy_rpc_types_eth::{Filter, FilterBlockOption};
use jsonrpsee::core::{async_trait, SubscriptionError};
use jsonrpsee::proc_macros::rpc;
use jsonrpsee::server::{
    IntoSubscriptionCloseResponse, PendingSubscriptionSink, SubscriptionCloseResponse,
    SubscriptionSink,
};
use lazychain_data_chain_node::shared::NodeShared;
use lazychain_data_chain_types::tx::{decode_canonical, recover_sender};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

use super::error::EthRpcError;
use super::eth::EthRpc;
use super::params::{FilterParam, FromParam, FullParam};
use super::types::rpc_transaction;
use crate::executor::ExecShared;

type EthResult<T> = Result<T, EthRpcError>;

/// Most heights one catch-up notifies; a subscriber further behind skips the older ones.
pub const MAX_CATCHUP: u64 = 1_024;
/// How often `lazyClaims` looks at the block tags (state consensus moves them between
/// executed blocks).
const CLAIMS_EVERY: Duration = Duration::from_millis(250);

/// A subscription ends without a closing message, as geth's do.
pub struct Ended;

impl IntoSubscriptionCloseResponse for Ended {
    fn into_response(self) -> SubscriptionCloseResponse {
        SubscriptionCloseResponse::None
    }
}

#[rpc(server)]
pub trait SubscriptionApi {
    /// `kind` is `newHeads`, `logs`, `newPendingTransactions` or `lazyClaims`; `options` the
    /// log filter or the full-transactions flag.
    #[subscription(name = "eth_subscribe" => "eth_subscription", unsubscribe = "eth_unsubscribe", item = Value)]
    async fn subscribe(&self, kind: Option<Value>, options: Option<Value>) -> Ended;
}

enum Kind {
    NewHeads,
    Logs(Box<Filter>),
    Pending { full: bool },
    Claims,
}

fn kind_of(kind: Option<Value>, options: Option<Value>) -> EthResult<Kind> {
    let name = match &kind {
        Some(Value::String(s)) => s.as_str(),
        other => {
            return Err(EthRpcError::UnknownSubscription {
                kind: other.as_ref().map_or("null".into(), Value::to_string),
            })
        }
    };
    let options = options.unwrap_or(Value::Null);
    Ok(match name {
        "newHeads" => Kind::NewHeads,
        "logs" => {
            let FilterParam(filter) = FilterParam::from_param(&options)?;
            // New logs only: a block range means nothing here.
            Kind::Logs(Box::new(Filter {
                block_option: FilterBlockOption::default(),
                ..filter
            }))
        }
        "newPendingTransactions" => Kind::Pending {
            full: match options {
                Value::Null => false,
                v => FullParam::from_param(&v)?.0,
            },
        },
        "lazyClaims" => Kind::Claims,
        other => {
            return Err(EthRpcError::UnknownSubscription {
                kind: other.to_owned(),
            })
        }
    })
}

/// The executor's subscriptions; each runs as its own task while its connection lasts.
pub struct SubscriptionRpc {
    eth: Arc<EthRpc>,
    exec: Arc<ExecShared>,
    node: Arc<NodeShared>,
}

impl SubscriptionRpc {
    pub fn new(exec: Arc<ExecShared>, node: Arc<NodeShared>) -> Self {
        SubscriptionRpc {
            eth: Arc::new(EthRpc::new(exec.clone(), node.clone())),
            exec,
            node,
        }
    }
}

#[async_trait]
impl SubscriptionApiServer for SubscriptionRpc {
    async fn subscribe(
        &self,
        pending: PendingSubscriptionSink,
        kind: Option<Value>,
        options: Option<Value>,
    ) -> Ended {
        let kind = match kind_of(kind, options) {
            Ok(kind) => kind,
            Err(e) => {
                pending.reject(e).await;
                return Ended;
            }
        };
        let result = match kind {
            Kind::NewHeads => self.follow(pending, heads).await,
            Kind::Logs(filter) => {
                self.follow(pending, move |eth, from, to| logs(eth, &filter, from, to))
                    .await
            }
            Kind::Pending { full } => self.pending(pending, full).await,
            Kind::Claims => self.claims(pending).await,
        };
        if let Err(e) = result {
            tracing::debug!(error = ?e, "subscription ended");
        }
        Ended
    }
}

/// Sends each item as one notification; `Err` once the subscriber is gone.
async fn send_all(sink: &SubscriptionSink, items: Vec<Value>) -> Result<(), SubscriptionError> {
    for item in items {
        let msg = serde_json::value::to_raw_value(&item)
            .map_err(|e| SubscriptionError::from(e.to_string()))?;
        sink.send(msg)
            .await
            .map_err(|_| SubscriptionError::from("subscriber gone"))?;
    }
    Ok(())
}

fn json(value: impl Serialize) -> EthResult<Value> {
    serde_json::to_value(value).map_err(EthRpcError::internal)
}

/// The heights of `next..=latest` to notify: at most the newest [`MAX_CATCHUP`].
fn catch_up(next: u64, latest: u64) -> Option<(u64, u64)> {
    (next <= latest).then(|| (next.max(latest.saturating_sub(MAX_CATCHUP - 1)), latest))
}

/// geth's head: the block without its transactions, uncles and the fields a header lacks.
fn heads(eth: &EthRpc, from: u64, to: u64) -> EthResult<Vec<Value>> {
    let mut out = Vec::new();
    for height in from..=to {
        let Some(block) = eth.executed(height)? else {
            break;
        };
        let mut head = json(eth.block_answer(&block, false)?)?;
        if let Value::Object(fields) = &mut head {
            for key in [
                "transactions",
                "uncles",
                "size",
                "totalDifficulty",
                "withdrawals",
            ] {
                fields.remove(key);
            }
        }
        out.push(head);
    }
    Ok(out)
}

fn logs(eth: &EthRpc, filter: &Filter, from: u64, to: u64) -> EthResult<Vec<Value>> {
    eth.logs_between(filter, from, to)?
        .into_iter()
        .map(json)
        .collect()
}

impl SubscriptionRpc {
    /// Notifies what `items` makes of each newly executed height, in order.
    async fn follow<F>(
        &self,
        pending: PendingSubscriptionSink,
        items: F,
    ) -> Result<(), SubscriptionError>
    where
        F: Fn(&EthRpc, u64, u64) -> EthResult<Vec<Value>> + Send + Sync + 'static,
    {
        // Subscribe before reading the height: no height falls between.
        let mut executed = self.exec.subscribe_executed();
        let mut next = self.exec.status().executed_height.saturating_add(1);
        let sink = pending.accept().await?;
        let items = Arc::new(items);
        loop {
            tokio::select! {
                _ = sink.closed() => return Ok(()),
                event = executed.recv() => match event {
                    // A lagged receiver reads the missed heights from the store.
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return Ok(()),
                },
            }
            let latest = self.exec.status().executed_height;
            let Some((from, to)) = catch_up(next, latest) else {
                continue;
            };
            next = to + 1;
            let (eth, items) = (self.eth.clone(), items.clone());
            let batch = tokio::task::spawn_blocking(move || items(&eth, from, to))
                .await
                .map_err(|e| SubscriptionError::from(e.to_string()))?
                .map_err(|e| SubscriptionError::from(e.to_string()))?;
            send_all(&sink, batch).await?;
        }
    }

    async fn pending(
        &self,
        pending: PendingSubscriptionSink,
        full: bool,
    ) -> Result<(), SubscriptionError> {
        let mut pooled = self.node.subscribe_pooled();
        let sink = pending.accept().await?;
        loop {
            let hash = tokio::select! {
                _ = sink.closed() => return Ok(()),
                event = pooled.recv() => match event {
                    Ok(hash) => hash,
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return Ok(()),
                },
            };
            let item = if full {
                // Gone from the pool already (decided): nothing to show.
                match self.pooled_transaction(&hash) {
                    Some(tx) => tx,
                    None => continue,
                }
            } else {
                Value::from(hash.to_string())
            };
            send_all(&sink, vec![item]).await?;
        }
    }

    /// A pooled transaction as `eth_getTransactionByHash` shows it.
    fn pooled_transaction(&self, hash: &B256) -> Option<Value> {
        let raw = self.node.mempool_raw(hash)?;
        let envelope = decode_canonical(&raw).ok()?;
        let from = match self.node.known_sender(hash) {
            Some(from) => from,
            None => recover_sender(&envelope).ok()?,
        };
        let tx = rpc_transaction(envelope, from, None, self.node.next_base_fee());
        json(tx).ok()
    }

    async fn claims(&self, pending: PendingSubscriptionSink) -> Result<(), SubscriptionError> {
        let mut executed = self.exec.subscribe_executed();
        let mut seen = ClaimMarks::new(self.exec.tags());
        let sink = pending.accept().await?;
        let mut tick = tokio::time::interval(CLAIMS_EVERY);
        loop {
            tokio::select! {
                _ = sink.closed() => return Ok(()),
                _ = tick.tick() => {}
                event = executed.recv() => match event {
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return Ok(()),
                },
            }
            let changes = seen.advance(self.exec.tags());
            if changes.is_empty() {
                continue;
            }
            let eth = self.eth.clone();
            let batch = tokio::task::spawn_blocking(move || claim_items(&eth, changes))
                .await
                .map_err(|e| SubscriptionError::from(e.to_string()))?
                .map_err(|e| SubscriptionError::from(e.to_string()))?;
            send_all(&sink, batch).await?;
        }
    }
}

/// A height's claim status, as `lazyClaims` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimStatus {
    Pending,
    Safe,
    Final,
    Reverted,
}

impl ClaimStatus {
    fn name(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Safe => "safe",
            Self::Final => "final",
            Self::Reverted => "reverted",
        }
    }
}

/// The block tags a `lazyClaims` subscriber has been told about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ClaimMarks {
    latest: u64,
    safe: u64,
    finalized: u64,
}

impl ClaimMarks {
    fn new(tags: crate::executor::Tags) -> Self {
        ClaimMarks {
            latest: tags.latest,
            safe: tags.safe,
            finalized: tags.finalized,
        }
    }

    /// The status changes from these marks to `tags`, each height's newest status, in
    /// height order within each status; the marks move to `tags`.
    fn advance(&mut self, tags: crate::executor::Tags) -> Vec<(u64, ClaimStatus)> {
        let mut out = Vec::new();
        // Under an alarm, safe and final are not vouched for: only new executions.
        let (safe, finalized) = if tags.alarm {
            (self.safe.min(tags.latest), self.finalized.min(tags.latest))
        } else {
            (tags.safe, tags.finalized)
        };
        if safe < self.safe {
            if let Some((from, to)) = catch_up(safe.max(self.finalized) + 1, self.safe) {
                out.extend((from..=to).map(|h| (h, ClaimStatus::Reverted)));
            }
        }
        // Heights already reported (executed) move up; new ones are reported as they stand.
        let status = |h: u64| {
            if h <= finalized {
                ClaimStatus::Final
            } else if h <= safe {
                ClaimStatus::Safe
            } else {
                ClaimStatus::Pending
            }
        };
        let reported = self.latest;
        if let Some((from, to)) = catch_up(self.finalized + 1, finalized.min(reported)) {
            out.extend((from..=to).map(|h| (h, ClaimStatus::Final)));
        }
        let safe_from = self.safe.max(finalized) + 1;
        if let Some((from, to)) = catch_up(safe_from, safe.min(reported)) {
            out.extend((from..=to).map(|h| (h, ClaimStatus::Safe)));
        }
        if let Some((from, to)) = catch_up(reported + 1, tags.latest) {
            out.extend((from..=to).map(|h| (h, status(h))));
        }
        *self = ClaimMarks {
            latest: tags.latest.max(self.latest),
            safe,
            finalized: finalized.max(self.finalized),
        };
        out
    }
}

/// `{height, hash, stateRoot, status}` of each change (heights not executed are skipped).
fn claim_items(eth: &EthRpc, changes: Vec<(u64, ClaimStatus)>) -> EthResult<Vec<Value>> {
    let mut out = Vec::with_capacity(changes.len());
    for (height, status) in changes {
        if height == 0 {
            continue;
        }
        let Some(block) = eth.executed(height)? else {
            continue;
        };
        out.push(serde_json::json!({
            "height": U64::from(height),
            "hash": block.hash,
            "stateRoot": block.state_root,
            "status": status.name(),
        }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::executor::Tags;

    fn tags(latest: u64, safe: u64, finalized: u64) -> Tags {
        Tags {
            latest,
            safe,
            finalized,
            alarm: false,
        }
    }

    #[test]
    fn claim_statuses_follow_the_tags() {
        use ClaimStatus::*;
        let mut marks = ClaimMarks::new(tags(5, 3, 1));
        assert!(marks.advance(tags(5, 3, 1)).is_empty());
        // Two new heights; one more safe.
        assert_eq!(
            marks.advance(tags(7, 4, 1)),
            vec![(4, Safe), (6, Pending), (7, Pending)]
        );
        // Finality overtakes safety: each height's newest status once.
        assert_eq!(
            marks.advance(tags(7, 6, 4)),
            vec![(2, Final), (3, Final), (4, Final), (5, Safe), (6, Safe)]
        );
        // A revert takes safe back down.
        assert_eq!(
            marks.advance(tags(7, 4, 4)),
            vec![(5, Reverted), (6, Reverted)]
        );
        assert_eq!(
            marks.advance(tags(8, 8, 4)),
            vec![(5, Safe), (6, Safe), (7, Safe), (8, Safe)]
        );
        // Under an alarm only new executions.
        let alarmed = Tags {
            alarm: true,
            ..tags(9, 9, 9)
        };
        assert_eq!(marks.advance(alarmed), vec![(9, Pending)]);
    }

    #[test]
    fn kinds_decode_like_geth() {
        assert!(matches!(
            kind_of(Some("newHeads".into()), None),
            Ok(Kind::NewHeads)
        ));
        assert!(matches!(
            kind_of(
                Some("newPendingTransactions".into()),
                Some(Value::Bool(true))
            ),
            Ok(Kind::Pending { full: true })
        ));
        let e = kind_of(Some("syncing".into()), None)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("no \"syncing\" subscription in eth namespace")
        );
        assert!(kind_of(Some("logs".into()), Some(serde_json::json!({"topics": 3}))).is_err());
    }
}
