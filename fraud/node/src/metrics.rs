//! The Prometheus metrics of state consensus and the item pool, on the `/metrics` page of the
//! node that runs them (prefix `lazychain_`).

use lazychain_data_chain_node::metrics::register_more;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::{counter::Counter, family::Family, gauge::Gauge};

use crate::items::PoolCounts;

/// Labels of an item-pool drop: the item's kind (`claim`, `fraud_proof`, `evidence`) and why
/// (`crate::items::DropReason::as_str`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ItemDropLabels {
    pub kind: &'static str,
    pub reason: &'static str,
}

/// The kind of pooled items a size gauge counts.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ItemKindLabel {
    pub kind: &'static str,
}

#[derive(Clone, Default)]
pub struct StateMetrics {
    pub final_height: Gauge,
    pub held_claims: Gauge,
    pub disputes: Gauge,
    pub item_pool_drops: Family<ItemDropLabels, Counter>,
    pub item_pool_size: Family<ItemKindLabel, Gauge>,
}

impl StateMetrics {
    /// Registers the metrics on the `/metrics` page of the node named `moniker`.
    pub fn register(&self, moniker: &str) {
        let m = self.clone();
        register_more(moniker, |r| {
            r.register(
                "state_finalized_height",
                "Highest data height with a final canonical state root",
                m.final_height,
            );
            r.register(
                "state_held_claims",
                "Claims past their challenge window held back by a dispute, a parent or missing corroboration",
                m.held_claims,
            );
            r.register(
                "state_unresolved_disputes",
                "Disputes (disagreeing claims on one state) past their window with no proof yet: state finality stops at the lowest",
                m.disputes,
            );
            r.register(
                "item_pool_drops",
                "State-consensus items evicted from or refused by the item pool, by kind and reason",
                m.item_pool_drops,
            );
            r.register(
                "item_pool_items",
                "State-consensus items in the item pool, by kind (claims, orphan_claims and unchecked_claims among them, fraud_proofs, evidence among them)",
                m.item_pool_size,
            );
        });
    }

    /// Counts an item that left the item pool, or was refused, other than by inclusion.
    pub fn item_dropped(&self, kind: &'static str, reason: &'static str) {
        self.item_pool_drops
            .get_or_create(&ItemDropLabels { kind, reason })
            .inc();
    }

    /// Sets the item pool's size gauges.
    pub fn item_pool_counts(&self, counts: &PoolCounts) {
        for (kind, n) in [
            ("claims", counts.claims),
            ("orphan_claims", counts.orphan_claims),
            ("unchecked_claims", counts.unchecked_claims),
            ("fraud_proofs", counts.proofs),
            ("evidence", counts.evidence),
        ] {
            self.item_pool_size
                .get_or_create(&ItemKindLabel { kind })
                .set(n as i64);
        }
    }
}
