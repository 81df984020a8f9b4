//! geth's polled filters: `eth_newFilter`, `eth_newBlockFilter`,
//! `eth_newPendingTransactionFilter`, `eth_getFilterChanges`, `eth_getFilterLogs`,
//! `eth_uninstallFilter`.
//!
//! A log or block filter keeps only the next executed height to report: a poll reads the
//! heights executed since the last one from the state store (logs through the same matching
//! as `eth_getLogs`), so nothing is buffered and nothing is lost, and one poll answers at most
//! [`MAX_HEIGHTS_PER_POLL`] heights (the next poll goes on from there). A pending-transaction
//! filter reads the node's feed of pooled hashes, which keeps the last
//! `POOLED_FEED_CAPACITY` (16,384) hashes: a filter polled less often than that misses the older
//! ones (geth buffers without bound).
//!
//! A filter not polled for its timeout (geth's 5 minutes by default, `rpc.filter_timeout_secs`)
//! is removed, and then answers "filter not found", as geth does. At most [`MAX_FILTERS`] are
//! installed at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alloy_eips::BlockNumberOrTag;
use alloy_primitives::B256;
use alloy_rpc_types_eth::{Filter, FilterBlockOption, Log};
use jsonrpsee::proc_macros::rpc;
use lazychain_data_chain_node::shared::NodeShared;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::broadcast::{self, error::TryRecvError};

use super::error::EthRpcError;
use super::eth::EthRpc;
use super::params::{required, Arg, FilterParam, FromParam, ParamError};
use crate::executor::ExecShared;

type EthResult<T> = Result<T, EthRpcError>;

/// geth's default filter timeout (5 minutes).
pub const DEFAULT_FILTER_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// Most filters installed at once, over all clients.
pub const MAX_FILTERS: usize = 10_000;
/// Most executed heights one poll of a log or block filter reports; the next poll goes on.
pub const MAX_HEIGHTS_PER_POLL: u64 = 10_000;

/// A filter id as geth writes it: a random 128-bit hex quantity.
fn new_id() -> String {
    format!("{:#x}", rand::random::<u128>())
}

/// A filter id parameter: geth's ids are strings, matched exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterIdParam(pub String);

impl FromParam for FilterIdParam {
    fn from_param(v: &Value) -> Result<Self, ParamError> {
        v.as_str()
            .map(|s| FilterIdParam(s.to_owned()))
            .ok_or_else(|| ParamError::NotHex {
                what: "filter id",
                got: v.clone(),
            })
    }
}

/// What `eth_getFilterChanges` answers: logs, or hashes of blocks or transactions.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum FilterChanges {
    Logs(Vec<Log>),
    Hashes(Vec<B256>),
}

#[rpc(server)]
pub trait FilterApi {
    /// Installs a log filter; its changes are the matching logs of heights executed after.
    #[method(name = "eth_newFilter", blocking)]
    fn new_filter(&self, filter: Option<Arg<FilterParam>>) -> EthResult<String>;

    /// Installs a filter whose changes are the hashes of blocks executed after.
    #[method(name = "eth_newBlockFilter")]
    fn new_block_filter(&self) -> EthResult<String>;

    /// Installs a filter whose changes are the hashes of transactions this node's mempool
    /// takes after.
    #[method(name = "eth_newPendingTransactionFilter")]
    fn new_pending_transaction_filter(&self) -> EthResult<String>;

    #[method(name = "eth_getFilterChanges", blocking)]
    fn filter_changes(&self, id: Option<Arg<FilterIdParam>>) -> EthResult<FilterChanges>;

    /// Every log a log filter's criteria match, as `eth_getLogs` answers them.
    #[method(name = "eth_getFilterLogs", blocking)]
    fn filter_logs(&self, id: Option<Arg<FilterIdParam>>) -> EthResult<Vec<Log>>;

    #[method(name = "eth_uninstallFilter")]
    fn uninstall_filter(&self, id: Option<Arg<FilterIdParam>>) -> EthResult<bool>;
}

enum Kind {
    /// `next`: the first height not reported yet.
    Logs {
        filter: Box<Filter>,
        next: u64,
    },
    Blocks {
        next: u64,
    },
    Pending(broadcast::Receiver<B256>),
}

struct Installed {
    kind: Kind,
    polled: Instant,
}

/// The installed filters of one executor, shared by every connection.
pub struct FilterRpc {
    eth: EthRpc,
    exec: Arc<ExecShared>,
    node: Arc<NodeShared>,
    timeout: Duration,
    filters: Mutex<HashMap<String, Installed>>,
}

impl FilterRpc {
    pub fn new(exec: Arc<ExecShared>, node: Arc<NodeShared>, timeout: Duration) -> Self {
        FilterRpc {
            eth: EthRpc::new(exec.clone(), node.clone()),
            exec,
            node,
            timeout,
            filters: Mutex::new(HashMap::new()),
        }
    }

    /// The filters, expired ones removed (the lock is only poisoned by a panic elsewhere,
    /// which leaves the map whole).
    fn live(&self) -> std::sync::MutexGuard<'_, HashMap<String, Installed>> {
        let mut filters = self.filters.lock().unwrap_or_else(|e| e.into_inner());
        let timeout = self.timeout;
        filters.retain(|_, f| f.polled.elapsed() < timeout);
        filters
    }

    fn install(&self, kind: Kind) -> EthResult<String> {
        let mut filters = self.live();
        if filters.len() >= MAX_FILTERS {
            return Err(EthRpcError::TooManyFilters { max: MAX_FILTERS });
        }
        let id = new_id();
        filters.insert(
            id.clone(),
            Installed {
                kind,
                polled: Instant::now(),
            },
        );
        Ok(id)
    }

    /// The next height a new log or block filter reports.
    fn next_height(&self) -> u64 {
        self.exec.status().executed_height.saturating_add(1)
    }
}

/// The explicit height a range end names (a tag names no fixed height: new heights are
/// always at or above `latest`, and geth ignores tags here too).
fn fixed_height(end: Option<BlockNumberOrTag>) -> Option<u64> {
    match end {
        Some(BlockNumberOrTag::Number(n)) => Some(n),
        Some(BlockNumberOrTag::Earliest) => Some(0),
        _ => None,
    }
}

/// The heights of `next..=latest` a poll of `filter` scans: at most
/// [`MAX_HEIGHTS_PER_POLL`], within its fixed range ends. `None`: nothing to scan.
fn poll_range(filter: &Filter, next: u64, latest: u64) -> (Option<(u64, u64)>, u64) {
    let to = latest.min(next.saturating_add(MAX_HEIGHTS_PER_POLL - 1));
    if next > to {
        return (None, next);
    }
    let cursor = to + 1;
    let (lo, hi) = match filter.block_option {
        FilterBlockOption::Range {
            from_block,
            to_block,
        } => (
            fixed_height(from_block).unwrap_or(0).max(next),
            fixed_height(to_block).unwrap_or(u64::MAX).min(to),
        ),
        // A block by hash is past when the filter is installed: no new logs.
        FilterBlockOption::AtBlockHash(_) => return (None, cursor),
    };
    ((lo <= hi).then_some((lo, hi)), cursor)
}

impl FilterApiServer for FilterRpc {
    fn new_filter(&self, filter: Option<Arg<FilterParam>>) -> EthResult<String> {
        let FilterParam(filter) = required(filter)?;
        let next = self.next_height();
        self.install(Kind::Logs {
            filter: Box::new(filter),
            next,
        })
    }

    fn new_block_filter(&self) -> EthResult<String> {
        let next = self.next_height();
        self.install(Kind::Blocks { next })
    }

    fn new_pending_transaction_filter(&self) -> EthResult<String> {
        self.install(Kind::Pending(self.node.subscribe_pooled()))
    }

    fn filter_changes(&self, id: Option<Arg<FilterIdParam>>) -> EthResult<FilterChanges> {
        let FilterIdParam(id) = required(id)?;
        let latest = self.exec.status().executed_height;
        // Take what the poll needs under the lock; read the store without it.
        let (filter, next) = {
            let mut filters = self.live();
            let f = filters.get_mut(&id).ok_or(EthRpcError::FilterNotFound)?;
            f.polled = Instant::now();
            match &mut f.kind {
                Kind::Pending(rx) => return Ok(FilterChanges::Hashes(drain(rx))),
                Kind::Blocks { next } => (None, *next),
                Kind::Logs { filter, next } => (Some(filter.as_ref().clone()), *next),
            }
        };
        let (changes, cursor) = match &filter {
            Some(filter) => {
                let (range, cursor) = poll_range(filter, next, latest);
                let logs = match range {
                    Some((from, to)) => self.eth.logs_between(filter, from, to)?,
                    None => Vec::new(),
                };
                (FilterChanges::Logs(logs), cursor)
            }
            None => {
                let (range, cursor) = poll_range(&Filter::default(), next, latest);
                let mut hashes = Vec::new();
                if let Some((from, to)) = range {
                    for height in from..=to {
                        match self.eth.executed(height)? {
                            Some(block) => hashes.push(block.hash),
                            None => break,
                        }
                    }
                }
                (FilterChanges::Hashes(hashes), cursor)
            }
        };
        // Uninstalled meanwhile: its answer is still this poll's.
        if let Some(f) = self.live().get_mut(&id) {
            match &mut f.kind {
                Kind::Logs { next, .. } | Kind::Blocks { next } => *next = cursor.max(*next),
                Kind::Pending(_) => {}
            }
        }
        Ok(changes)
    }

    fn filter_logs(&self, id: Option<Arg<FilterIdParam>>) -> EthResult<Vec<Log>> {
        let FilterIdParam(id) = required(id)?;
        let filter = {
            let mut filters = self.live();
            match filters.get_mut(&id) {
                Some(Installed {
                    kind: Kind::Logs { filter, .. },
                    polled,
                }) => {
                    *polled = Instant::now();
                    filter.as_ref().clone()
                }
                // geth: only log filters have logs.
                _ => return Err(EthRpcError::FilterNotFound),
            }
        };
        self.eth.find_logs(filter)
    }

    fn uninstall_filter(&self, id: Option<Arg<FilterIdParam>>) -> EthResult<bool> {
        let FilterIdParam(id) = required(id)?;
        Ok(self.live().remove(&id).is_some())
    }
}

/// The hashes pooled since the last poll; a lagged receiver goes on from the oldest kept.
fn drain(rx: &mut broadcast::Receiver<B256>) -> Vec<B256> {
    let mut out = Vec::new();
    loop {
        match rx.try_recv() {
            Ok(hash) => out.push(hash),
            Err(TryRecvError::Lagged(_)) => continue,
            Err(TryRecvError::Empty | TryRecvError::Closed) => return out,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(from: Option<u64>, to: Option<u64>) -> Filter {
        Filter {
            block_option: FilterBlockOption::Range {
                from_block: from.map(BlockNumberOrTag::Number),
                to_block: to.map(BlockNumberOrTag::Number),
            },
            ..Filter::default()
        }
    }

    #[test]
    fn polls_scan_new_heights_within_the_filter_range() {
        let any = Filter::default();
        assert_eq!(poll_range(&any, 5, 4), (None, 5));
        assert_eq!(poll_range(&any, 5, 9), (Some((5, 9)), 10));
        assert_eq!(poll_range(&range(Some(7), None), 5, 9), (Some((7, 9)), 10));
        assert_eq!(poll_range(&range(None, Some(6)), 5, 9), (Some((5, 6)), 10));
        assert_eq!(poll_range(&range(None, Some(3)), 5, 9), (None, 10));
        // A long gap is reported in steps.
        let (scan, cursor) = poll_range(&any, 1, 50_000);
        assert_eq!(scan, Some((1, MAX_HEIGHTS_PER_POLL)));
        assert_eq!(cursor, MAX_HEIGHTS_PER_POLL + 1);
    }

    #[test]
    fn ids_are_hex_quantities() {
        let id = new_id();
        assert!(id.starts_with("0x"));
        assert!(!id[2..].starts_with('0') || id == "0x0");
        assert!(u128::from_str_radix(&id[2..], 16).is_ok());
    }
}
