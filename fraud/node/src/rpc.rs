//! The state-consensus methods every node serves: submit a claim or a fraud proof, read claims
//! with their statuses, included fraud proofs, the bond ledger, and a subscription to reverted
//! claims.

use std::sync::Arc;

use jsonrpsee::core::SubscriptionError;
use jsonrpsee::types::{ErrorObjectOwned, Params};
use jsonrpsee::RpcModule;
use lazychain_fraud::{ClaimStatus, FraudItem, RevertReason};
use serde_json::{json, Value};

use crate::service::{ItemSubmitError, StateNode};
use crate::state::{ProofRecord, ProofRefused, RevertedEvent};

const REJECTED: i32 = -32000;
const INVALID_PARAMS: i32 = -32602;
/// Disputes listed in `lazy_getStateConsensus` at most (the count is always exact).
const MAX_DISPUTES_SHOWN: usize = 16;
/// Most heights one `lazy_getFraudProofs` call may span.
const MAX_PROOF_RANGE: u64 = 10_000;

fn err(code: i32, msg: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, msg.into(), None::<()>)
}

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

fn parse_hex(s: &str) -> Result<Vec<u8>, ErrorObjectOwned> {
    let s = s.strip_prefix("0x").unwrap_or(s);
    hex::decode(s).map_err(|e| err(INVALID_PARAMS, format!("invalid hex data: {e}")))
}

/// A height as a JSON number or a hex quantity string.
fn parse_height(v: &Value) -> Result<u64, ErrorObjectOwned> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| err(INVALID_PARAMS, "height must be a non-negative integer")),
        Value::String(s) => {
            let digits = s.strip_prefix("0x").ok_or_else(|| {
                err(
                    INVALID_PARAMS,
                    format!("height must be a number or hex quantity, got {s:?}"),
                )
            })?;
            u64::from_str_radix(digits, 16)
                .map_err(|e| err(INVALID_PARAMS, format!("bad height {s:?}: {e}")))
        }
        _ => Err(err(
            INVALID_PARAMS,
            "height must be a number or hex quantity",
        )),
    }
}

fn submit_error(e: ItemSubmitError) -> ErrorObjectOwned {
    // Bytes that are not a well-formed item or proof are bad params; a well-formed proof that
    // proves nothing (refuted, unknown or settled target) is refused like a bad transaction.
    let code = match e {
        ItemSubmitError::Invalid(_) | ItemSubmitError::Proof(ProofRefused::Invalid(_)) => {
            INVALID_PARAMS
        }
        _ => REJECTED,
    };
    err(code, e.to_string())
}

pub fn status_json(status: &ClaimStatus) -> Value {
    match status {
        ClaimStatus::Pending { included_at } => {
            json!({ "status": "pending", "includedAt": included_at })
        }
        ClaimStatus::Final { at } => json!({ "status": "final", "finalAt": at }),
        ClaimStatus::Reverted { at, reason } => {
            let reason = match reason {
                RevertReason::Fraud { proof_id } => {
                    json!({ "kind": "fraud", "proofId": hex0x(proof_id) })
                }
                RevertReason::Equivocation => json!({ "kind": "equivocation" }),
                RevertReason::Ancestor { claim } => {
                    json!({ "kind": "ancestor", "claim": claim.to_string() })
                }
                RevertReason::ExecutorSlashed => json!({ "kind": "executor-slashed" }),
            };
            json!({ "status": "reverted", "revertedAt": at, "reason": reason })
        }
    }
}

fn claims_at(shared: &StateNode, height: u64) -> Value {
    let state = shared.state();
    let consensus = state.consensus();
    let canonical = consensus.canonical_claim(height);
    let safe = consensus.safe_claim(height);
    let claims: Vec<Value> = consensus
        .claims_at(height)
        .into_iter()
        .map(|(id, signed, status)| {
            let c = &signed.claim;
            let mut v = status_json(&status);
            let alarmed = state.local_status(&id).is_some_and(|(_, alarm)| alarm);
            v["id"] = json!(id.to_string());
            v["dataHeight"] = json!(c.data_height);
            v["executor"] = json!(hex0x(&c.executor));
            v["parent"] = json!(hex0x(&c.parent_claim));
            v["preStateRoot"] = json!(hex0x(&c.pre_state_root));
            v["postStateRoot"] = json!(hex0x(&c.post_state_root));
            v["traceRoot"] = json!(hex0x(&c.trace_root));
            v["receiptsRoot"] = json!(hex0x(&c.receipts_root));
            v["txCount"] = json!(c.tx_count);
            v["includedAt"] = json!(consensus.claim(&id).map(|view| view.included_at));
            v["canonical"] = json!(canonical == Some(id));
            v["safe"] = json!(safe == Some(id) && !alarmed);
            // Reverted locally by a verified fraud proof that no block has included yet.
            v["alarm"] = json!(alarmed);
            v
        })
        .collect();
    let pruned_through = consensus.pruned_through();
    let mut out = json!({
        "height": height,
        "canonicalRoot": consensus.canonical_root(height).map(|r| r.to_string()),
        "safeRoot": consensus.safe_root(height).map(|r| r.to_string()),
        "claims": claims,
        "prunedThrough": pruned_through,
    });
    if height <= pruned_through && height > 0 {
        // Rule 7: settled heights this far below the finalized height are forgotten; only
        // claims still pending there are listed, and the canonical root only at the horizon.
        out["pruned"] = json!(true);
        out["note"] = json!(format!(
            "heights up to {pruned_through} are pruned (state consensus keeps {} heights below the finalized height): their settled claims are no longer kept",
            consensus.retained_final_heights()
        ));
    }
    out
}

fn proof_json(p: &ProofRecord) -> Value {
    json!({
        "includedAt": p.included_at,
        "index": p.index,
        "id": hex0x(&p.proof_id),
        "kind": p.kind,
        "bytes": p.bytes,
        "target": p.target.map(|t| t.to_string()),
        "targetHeight": p.target_height,
        "submitter": hex0x(&p.submitter),
        "outcome": p.outcome,
    })
}

/// Heights, roots and the bond ledger of state consensus on this node.
pub fn state_json(shared: &StateNode) -> Value {
    let state = shared.state();
    let c = state.consensus();
    let ledger = c.ledger();
    let map = |m: &std::collections::BTreeMap<[u8; 20], u128>| -> Value {
        m.iter()
            .map(|(a, v)| (hex0x(a), json!(v.to_string())))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let final_height = c.latest_final_height();
    let safe_height = state.latest_safe_height();
    let pooled = shared.pool_counts();
    let disputes: Vec<Value> = state
        .disputes()
        .iter()
        .take(MAX_DISPUTES_SHOWN)
        .map(|d| {
            json!({
                "height": d.data_height,
                "preStateRoot": d.pre_state_root.to_string(),
                "since": d.since_height,
                "sinceMs": d.since_ms,
                "claims": d.claims.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "appliedHeight": c.applied_height(),
        "challengeWindowMs": c.params().challenge_window_ms,
        "minWindowBlocks": c.params().min_window_blocks,
        "minCorroboration": c.params().min_corroboration,
        "requiredCorroboration": c.required_corroboration(),
        "genesisRoot": c.genesis_root().to_string(),
        "finalizedHeight": final_height,
        "prunedThrough": c.pruned_through(),
        "retainedFinalHeights": c.retained_final_heights(),
        "recordedClaims": c.recorded_claims(),
        "finalizedRoot": c.canonical_root(final_height).map(|r| r.to_string()),
        "safeHeight": safe_height,
        "safeRoot": c.safe_root(safe_height).map(|r| r.to_string()),
        "bonds": map(&ledger.bonds),
        "slashed": map(&ledger.slashed),
        "rewards": map(&ledger.rewards),
        "burned": ledger.burned.to_string(),
        "pooledClaims": pooled.claims,
        "pooledOrphanClaims": pooled.orphan_claims,
        "pooledUncheckedClaims": pooled.unchecked_claims,
        "pooledFraudProofs": pooled.proofs,
        "pooledEvidence": pooled.evidence,
        "heldClaims": c.held_claims(),
        "uncorroboratedClaims": c.uncorroborated_claims(),
        "unresolvedDisputes": state.disputes().len(),
        "disputes": disputes,
    })
}

fn reverted_json(e: &RevertedEvent) -> Value {
    json!({
        "claim": e.claim.to_string(),
        "height": e.data_height,
        "revertedAt": e.at,
        "alarm": e.at.is_none(),
        "replacementRoot": e.replacement_root.map(|r| r.to_string()),
        "reason": e.reason,
    })
}

/// The state-consensus methods, which the node serves beside its own.
pub fn module(
    node: Arc<StateNode>,
) -> Result<RpcModule<Arc<StateNode>>, jsonrpsee::core::RegisterMethodError> {
    let mut m = RpcModule::new(node);
    m.register_blocking_method("lazy_submitClaim", |params, s, _| {
        let data: String = params.one()?;
        let bytes = parse_hex(&data)?;
        s.submit_claim(&bytes, true)
            .map(|id| id.to_string())
            .map_err(submit_error)
    })?;
    // Params: the encoded fraud proof, and optionally the address credited with the reward
    // (zero when absent).
    m.register_blocking_method("lazy_submitFraudProof", |params, s, _| {
        let mut seq = params.sequence();
        let data: String = seq.next()?;
        let submitter: Option<String> = seq.optional_next()?;
        let proof = parse_hex(&data)?;
        let submitter = match submitter {
            None => [0u8; 20],
            Some(a) => parse_hex(&a)?
                .try_into()
                .map_err(|_| err(INVALID_PARAMS, "submitter must be a 20-byte address"))?,
        };
        let item = FraudItem { submitter, proof };
        s.submit_fraud_proof(&item.encode(), true)
            .map(|(target, id)| json!({ "proofId": hex0x(&id), "target": target.to_string() }))
            .map_err(submit_error)
    })?;
    m.register_blocking_method("lazy_getClaims", |params: Params, s, _| {
        let v: Value = params.one()?;
        Ok::<_, ErrorObjectOwned>(claims_at(&s, parse_height(&v)?))
    })?;
    m.register_blocking_method("lazy_getFraudProofs", |params: Params, s, _| {
        let mut seq = params.sequence();
        let from: Value = seq.next()?;
        let to: Option<Value> = seq.optional_next()?;
        let from = parse_height(&from)?;
        let to = match to {
            Some(v) => parse_height(&v)?,
            None => s.state().applied_height(),
        };
        if to < from || to - from > MAX_PROOF_RANGE {
            return Err(err(
                INVALID_PARAMS,
                format!("range {from}..={to} must be ascending and span at most {MAX_PROOF_RANGE} heights"),
            ));
        }
        let proofs: Vec<Value> = s
            .state()
            .proofs_between(from, to)
            .iter()
            .map(proof_json)
            .collect();
        Ok(json!(proofs))
    })?;
    m.register_method("lazy_getStateConsensus", |_, s, _| state_json(s))?;
    m.register_subscription(
        "lazy_subscribeReverted",
        "lazy_reverted",
        "lazy_unsubscribeReverted",
        |_, pending, s, _| async move {
            let mut rx = s.state().subscribe_reverted();
            let sink = pending
                .accept()
                .await
                .map_err(|e| SubscriptionError::from(e.to_string()))?;
            loop {
                let event = match rx.recv().await {
                    Ok(e) => e,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => break,
                };
                let msg = serde_json::value::to_raw_value(&reverted_json(&event))
                    .map_err(|e| SubscriptionError::from(e.to_string()))?;
                if sink.send(msg).await.is_err() {
                    break;
                }
            }
            Ok::<(), SubscriptionError>(())
        },
    )?;
    Ok(m)
}
