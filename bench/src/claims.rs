//! How claims ride the data chain under load, read from a validator's RPC like any client:
//! claim items per block, bytes per claim item (the signed claim and its trace, as a block
//! carries it), and inclusion delay from the block a claim is for to the block that includes
//! it, in blocks and in milliseconds of the two blocks' timestamps.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use alloy_primitives::B256;
use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::params::BatchRequestBuilder;
use jsonrpsee::http_client::HttpClient;
use jsonrpsee::rpc_params;
use lazychain_fraud::{ClaimItem, SignedClaim};
use serde_json::Value;

use crate::data_chain::BenchError;

/// Claims of this many data heights before the measured blocks are read too: a block includes
/// claims of earlier heights, usually the one or two before it.
const LOOKBACK_HEIGHTS: u64 = 16;
/// Heights asked for in one JSON-RPC batch.
const BATCH: u64 = 50;

/// One claim as `lazy_getClaims` lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClaimRecord {
    pub data_height: u64,
    /// The block that included it; `None` if no decided block has yet.
    pub included_at: Option<u64>,
    pub tx_count: u64,
}

/// Claims over a range of blocks.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClaimInclusion {
    /// The blocks measured (items per block), and the data heights whose claims' delay is.
    pub from: u64,
    pub to: u64,
    /// Claim items included in those blocks.
    pub items: usize,
    pub items_per_block_mean: f64,
    pub items_per_block_max: u64,
    pub bytes_per_claim_mean: f64,
    pub bytes_per_claim_max: u64,
    /// Claims for data heights `from..=to` with a known inclusion.
    pub delayed: usize,
    /// Claims for data heights `from..=to` that no block had included when read.
    pub not_included: usize,
    pub delay_blocks_p50: Option<u64>,
    pub delay_blocks_p99: Option<u64>,
    pub delay_blocks_max: Option<u64>,
    pub delay_ms_p50: Option<u64>,
    pub delay_ms_p99: Option<u64>,
    pub delay_ms_max: Option<u64>,
}

/// Bytes of a claim item for a block of `tx_count` transactions: the signed claim and one
/// trace root per transaction, measured with the item's own encoder.
pub fn claim_item_bytes(tx_count: u64) -> u64 {
    let item = ClaimItem {
        signed: SignedClaim::default(),
        trace: vec![B256::ZERO; tx_count as usize],
    };
    item.encode().len() as u64
}

/// Nearest-rank quantile of a sorted sample.
fn nearest_rank(sorted: &[u64], q: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// Summarizes `claims` (every claim of data heights `from - LOOKBACK_HEIGHTS ..= to`) over the
/// blocks `from..=to`, with `timestamps_ms` of decided blocks by height.
pub fn summarize(
    claims: &[ClaimRecord],
    timestamps_ms: &BTreeMap<u64, u64>,
    blocks: RangeInclusive<u64>,
) -> ClaimInclusion {
    let (from, to) = (*blocks.start(), *blocks.end());
    let mut per_block: BTreeMap<u64, u64> = blocks.clone().map(|h| (h, 0)).collect();
    let mut bytes = Vec::new();
    for c in claims {
        let Some(at) = c.included_at.filter(|at| blocks.contains(at)) else {
            continue;
        };
        *per_block.entry(at).or_default() += 1;
        bytes.push(claim_item_bytes(c.tx_count));
    }
    let mut delay_blocks = Vec::new();
    let mut delay_ms = Vec::new();
    let mut not_included = 0;
    for c in claims.iter().filter(|c| blocks.contains(&c.data_height)) {
        let Some(at) = c.included_at else {
            not_included += 1;
            continue;
        };
        delay_blocks.push(at.saturating_sub(c.data_height));
        if let (Some(made), Some(included)) =
            (timestamps_ms.get(&c.data_height), timestamps_ms.get(&at))
        {
            delay_ms.push(included.saturating_sub(*made));
        }
    }
    delay_blocks.sort_unstable();
    delay_ms.sort_unstable();
    let block_count = per_block.len().max(1) as f64;
    let items: u64 = per_block.values().sum();
    ClaimInclusion {
        from,
        to,
        items: items as usize,
        items_per_block_mean: items as f64 / block_count,
        items_per_block_max: per_block.values().copied().max().unwrap_or(0),
        bytes_per_claim_mean: if bytes.is_empty() {
            0.0
        } else {
            bytes.iter().sum::<u64>() as f64 / bytes.len() as f64
        },
        bytes_per_claim_max: bytes.iter().copied().max().unwrap_or(0),
        delayed: delay_blocks.len(),
        not_included,
        delay_blocks_p50: nearest_rank(&delay_blocks, 0.5),
        delay_blocks_p99: nearest_rank(&delay_blocks, 0.99),
        delay_blocks_max: delay_blocks.last().copied(),
        delay_ms_p50: nearest_rank(&delay_ms, 0.5),
        delay_ms_p99: nearest_rank(&delay_ms, 0.99),
        delay_ms_max: delay_ms.last().copied(),
    }
}

/// A number served either as JSON number or as a `0x` quantity.
pub(crate) fn num(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| {
        v.as_str()
            .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
    })
}

/// The claims of one `lazy_getClaims` answer.
pub fn parse_claims(answer: &Value) -> Vec<ClaimRecord> {
    answer["claims"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| {
            Some(ClaimRecord {
                data_height: num(&c["dataHeight"])?,
                included_at: num(&c["includedAt"]),
                tx_count: num(&c["txCount"]).unwrap_or(0),
            })
        })
        .collect()
}

/// `method(h)` for every height of `heights`, in batches; a height whose answer is missing or
/// an error is left out.
async fn batched(
    client: &HttpClient,
    method: &str,
    heights: RangeInclusive<u64>,
) -> Result<Vec<(u64, Value)>, BenchError> {
    let mut out = Vec::new();
    let (mut from, to) = (*heights.start(), *heights.end());
    while from <= to {
        let end = from.saturating_add(BATCH - 1).min(to);
        let mut batch = BatchRequestBuilder::new();
        for h in from..=end {
            batch
                .insert(method, rpc_params![h])
                .map_err(|e| BenchError::Rpc(e.to_string()))?;
        }
        let answers = client
            .batch_request::<Value>(batch)
            .await
            .map_err(|e| BenchError::Rpc(format!("{method}: {e}")))?;
        for (h, answer) in (from..=end).zip(answers) {
            if let Ok(v) = answer {
                out.push((h, v));
            }
        }
        from = end + 1;
    }
    Ok(out)
}

/// Reads the claims around the blocks `blocks` and the timestamps of the blocks they name
/// from one node (a validator), and summarizes them.
pub async fn measure(
    client: &HttpClient,
    blocks: RangeInclusive<u64>,
) -> Result<ClaimInclusion, BenchError> {
    let (from, to) = (*blocks.start(), *blocks.end());
    let first = from.saturating_sub(LOOKBACK_HEIGHTS).max(1);
    let claims: Vec<ClaimRecord> = batched(client, "lazy_getClaims", first..=to)
        .await?
        .iter()
        .flat_map(|(_, answer)| parse_claims(answer))
        .collect();
    let last = claims
        .iter()
        .filter_map(|c| c.included_at)
        .max()
        .unwrap_or(to)
        .max(to);
    let timestamps_ms: BTreeMap<u64, u64> = batched(client, "lazy_getDataBlock", first..=last)
        .await?
        .into_iter()
        .filter_map(|(h, block)| Some((h, num(&block["timestampMs"])?)))
        .collect();
    Ok(summarize(&claims, &timestamps_ms, blocks))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_claim_item_is_the_signed_claim_and_a_root_per_transaction() {
        let empty = claim_item_bytes(0);
        assert_eq!(
            empty,
            lazychain_fraud::SIGNED_CLAIM_BYTES as u64 + 4,
            "the SSZ offset of the trace"
        );
        assert_eq!(claim_item_bytes(100), empty + 3_200);
    }

    #[test]
    fn items_per_block_and_delay_count_only_the_measured_range() {
        let claim = |data_height, included_at, tx_count| ClaimRecord {
            data_height,
            included_at,
            tx_count,
        };
        let claims = vec![
            // A claim of a height before the range, included in its first block: counted per
            // block, not for delay.
            claim(9, Some(10), 0),
            claim(10, Some(11), 10),
            claim(10, Some(12), 10),
            claim(11, Some(12), 0),
            // Included after the range: a delay, but not an item of the range's blocks.
            claim(12, Some(15), 1),
            claim(12, None, 1),
        ];
        let timestamps: BTreeMap<u64, u64> = (9..=15).map(|h| (h, 1_000 + 100 * h)).collect();
        let s = summarize(&claims, &timestamps, 10..=12);
        assert_eq!(s.items, 4);
        assert_eq!(s.items_per_block_max, 2);
        assert!((s.items_per_block_mean - 4.0 / 3.0).abs() < 1e-9);
        assert_eq!(s.bytes_per_claim_max, claim_item_bytes(10));
        assert_eq!(s.delayed, 4);
        assert_eq!(s.not_included, 1);
        // Delays 1, 2, 1, 3 blocks.
        assert_eq!(s.delay_blocks_p50, Some(1));
        assert_eq!(s.delay_blocks_max, Some(3));
        assert_eq!(s.delay_ms_max, Some(300));
    }

    #[test]
    fn claims_are_read_from_the_rpc_answer_whether_numbers_or_quantities() {
        let answer = json!({
            "height": 7,
            "claims": [
                { "dataHeight": 7, "includedAt": 8, "txCount": 3 },
                { "dataHeight": "0x7", "includedAt": null, "txCount": "0x0" },
                { "includedAt": 9 },
            ],
        });
        assert_eq!(
            parse_claims(&answer),
            vec![
                ClaimRecord {
                    data_height: 7,
                    included_at: Some(8),
                    tx_count: 3
                },
                ClaimRecord {
                    data_height: 7,
                    included_at: None,
                    tx_count: 0
                },
            ]
        );
    }
}
