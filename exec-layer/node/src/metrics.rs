//! The executor's Prometheus metrics, on the node's `/metrics` page.

use prometheus_client::metrics::{counter::Counter, gauge::Gauge, histogram::Histogram};

#[derive(Clone)]
pub struct ExecMetrics {
    pub executed_height: Gauge,
    pub lag_blocks: Gauge,
    pub executed_txs: Counter,
    pub skipped_txs: Counter,
    pub gas_used: Counter,
    pub block_seconds: Histogram,
}

impl ExecMetrics {
    pub fn register(moniker: &str) -> Self {
        let m = ExecMetrics {
            executed_height: Gauge::default(),
            lag_blocks: Gauge::default(),
            executed_txs: Counter::default(),
            skipped_txs: Counter::default(),
            gas_used: Counter::default(),
            block_seconds: Histogram::new([0.001, 0.005, 0.02, 0.1, 0.5, 1.0, 5.0]),
        };
        lazychain_data_chain_node::metrics::register_more(moniker, |r| {
            r.register(
                "executed_height",
                "Highest executed data height",
                m.executed_height.clone(),
            );
            r.register(
                "execution_lag_blocks",
                "Decided heights not yet executed",
                m.lag_blocks.clone(),
            );
            r.register(
                "executed_txs",
                "Transactions executed (including skipped)",
                m.executed_txs.clone(),
            );
            r.register(
                "skipped_txs",
                "Transactions skipped for failing a state check",
                m.skipped_txs.clone(),
            );
            r.register(
                "executed_gas",
                "Gas used by executed transactions",
                m.gas_used.clone(),
            );
            r.register(
                "execution_block_seconds",
                "Time from taking a decided block to its committed roots",
                m.block_seconds.clone(),
            );
        });
        m
    }
}
