//! Prometheus metrics of a data-chain node, registered in Malachite's registry so that one
//! `/metrics` page shows the engine's and ours.

use lazychain_data_chain_consensus::malachite::app::metrics::SharedRegistry;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::{
    counter::Counter, family::Family, gauge::Gauge, histogram::Histogram,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: Reason,
}

/// Why a transaction was refused at admission.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
pub enum Reason {
    Decode,
    ChainId,
    Signature,
    Limits,
    Fee,
    Duplicate,
    PoolFull,
    /// Refused by an embedded executor's state check (nonce, funds, fee).
    State,
}

#[derive(Clone)]
pub struct NodeMetrics {
    pub decided_height: Gauge,
    pub block_bytes: Histogram,
    pub block_txs: Histogram,
    pub decided_txs: Counter,
    pub mempool_size: Gauge,
    pub mempool_bytes: Gauge,
    pub tx_rejections: Family<ReasonLabel, Counter>,
    pub rejected_parts: Counter,
    pub invalid_blocks: Counter,
    pub gossip_peers: Gauge,
    pub equivocations: Counter,
}

impl NodeMetrics {
    /// Registers the metrics under the `lazychain_` prefix for this node's moniker.
    pub fn register(moniker: &str) -> Self {
        let m = Self {
            decided_height: Gauge::default(),
            block_bytes: Histogram::new([1024.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0]),
            block_txs: Histogram::new([1.0, 10.0, 100.0, 1000.0, 5000.0, 20000.0]),
            decided_txs: Counter::default(),
            mempool_size: Gauge::default(),
            mempool_bytes: Gauge::default(),
            tx_rejections: Family::default(),
            rejected_parts: Counter::default(),
            invalid_blocks: Counter::default(),
            gossip_peers: Gauge::default(),
            equivocations: Counter::default(),
        };
        SharedRegistry::global()
            .with_moniker(moniker)
            .with_prefix("lazychain", |r| {
                r.register(
                    "decided_height",
                    "Highest decided data height",
                    m.decided_height.clone(),
                );
                r.register(
                    "block_bytes",
                    "Body bytes per decided block",
                    m.block_bytes.clone(),
                );
                r.register(
                    "block_txs",
                    "Transactions per decided block",
                    m.block_txs.clone(),
                );
                r.register(
                    "decided_txs",
                    "Transactions in decided blocks",
                    m.decided_txs.clone(),
                );
                r.register(
                    "mempool_size",
                    "Transactions in the mempool",
                    m.mempool_size.clone(),
                );
                r.register(
                    "mempool_bytes",
                    "Bytes in the mempool",
                    m.mempool_bytes.clone(),
                );
                r.register(
                    "tx_rejections",
                    "Transactions refused at admission",
                    m.tx_rejections.clone(),
                );
                r.register(
                    "rejected_part_streams",
                    "Proposal part streams rejected",
                    m.rejected_parts.clone(),
                );
                r.register(
                    "invalid_blocks",
                    "Proposed or synced blocks that failed validation",
                    m.invalid_blocks.clone(),
                );
                r.register(
                    "equivocations",
                    "Heights whose finalization carried misbehaviour evidence",
                    m.equivocations.clone(),
                );
                r.register(
                    "gossip_peers",
                    "Peers on the transaction gossip network",
                    m.gossip_peers.clone(),
                );
            });
        m
    }

    pub fn reject(&self, reason: Reason) {
        self.tx_rejections
            .get_or_create(&ReasonLabel { reason })
            .inc();
    }
}

/// The Prometheus text of every registered metric (Malachite's and ours).
pub fn export() -> String {
    let mut out = String::new();
    lazychain_data_chain_consensus::malachite::app::metrics::export(&mut out);
    out
}

/// Registers more metrics (an embedding process's) under the `lazychain_` prefix, on the same
/// `/metrics` page.
pub fn register_more(moniker: &str, f: impl FnOnce(&mut prometheus_client::registry::Registry)) {
    SharedRegistry::global()
        .with_moniker(moniker)
        .with_prefix("lazychain", f);
}
