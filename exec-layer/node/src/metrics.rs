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
    pub fraud_proofs_submitted: Counter,
    pub fraud_proof_failures: Counter,
    pub open_disputes: Gauge,
    pub unproven_disputes: Gauge,
    pub disputes_lost: Counter,
    pub safety_alarms: Counter,
    pub claims_posted: Counter,
    pub claims_reposted: Counter,
    pub claims_unrecorded: Gauge,
    pub claims_reparented: Counter,
    pub claims_submitted_direct: Counter,
    pub claims_direct_failures: Counter,
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
            fraud_proofs_submitted: Counter::default(),
            fraud_proof_failures: Counter::default(),
            open_disputes: Gauge::default(),
            unproven_disputes: Gauge::default(),
            disputes_lost: Counter::default(),
            safety_alarms: Counter::default(),
            claims_posted: Counter::default(),
            claims_reposted: Counter::default(),
            claims_unrecorded: Gauge::default(),
            claims_reparented: Counter::default(),
            claims_submitted_direct: Counter::default(),
            claims_direct_failures: Counter::default(),
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
            r.register(
                "fraud_proofs_submitted",
                "Fraud proofs this executor built, verified and broadcast (resubmissions included)",
                m.fraud_proofs_submitted.clone(),
            );
            r.register(
                "fraud_proof_failures",
                "Attempts to build a fraud proof that failed (each is retried)",
                m.fraud_proof_failures.clone(),
            );
            r.register(
                "open_disputes",
                "Claims of others this executor disagrees with and that are not reverted yet",
                m.open_disputes.clone(),
            );
            r.register(
                "unproven_disputes",
                "Open disputes for which no proof could be built yet",
                m.unproven_disputes.clone(),
            );
            r.register(
                "safety_alarms",
                "Safety alarms: this executor's root differs from a final canonical root, or a claim it disagreed with became final",
                m.safety_alarms.clone(),
            );
            r.register(
                "claims_posted",
                "Claims this executor signed and posted (first posts only)",
                m.claims_posted.clone(),
            );
            r.register(
                "claims_reposted",
                "Posts of this executor's claims again because no block had recorded them yet",
                m.claims_reposted.clone(),
            );
            r.register(
                "claims_unrecorded",
                "This executor's posted claims that state consensus has not recorded yet",
                m.claims_unrecorded.clone(),
            );
            r.register(
                "claims_reparented",
                "Times this executor's own chain of claims broke and it continued from the canonical claim",
                m.claims_reparented.clone(),
            );
            r.register(
                "claims_submitted_direct",
                "Late claims delivered to a validator's JSON-RPC directly (executor.submit_urls), or already known there",
                m.claims_submitted_direct.clone(),
            );
            r.register(
                "claims_direct_failures",
                "Direct submissions of a late claim that failed (the validator refused it or did not answer)",
                m.claims_direct_failures.clone(),
            );
            r.register(
                "disputes_lost",
                "Claims this executor disagreed with that became final (a safety alarm)",
                m.disputes_lost.clone(),
            );
        });
        m
    }
}
