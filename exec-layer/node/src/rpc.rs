//! The Ethereum JSON-RPC an executor serves to wallets and tools, on the node's RPC port
//! beside the data-chain methods (`eth_chainId`, `net_version`, `web3_clientVersion`,
//! `eth_sendRawTransaction` forwards to validators through the node's mempool and gossip).
//!
//! State is the latest executed state only: `latest` and `pending` read it, and so does a
//! number equal to the executed height; any other height is refused (no historical state is
//! kept). For blocks, `safe` is the highest executed height whose state root some executor
//! claimed and no fraud proof reverted, `finalized` the highest whose root is final in state
//! consensus (see [`ExecShared::tags`]). Reverts answer code 3 with the revert
//! data, as geth does.

use std::sync::Arc;

use alloy_consensus::{Transaction as _, TxEnvelope};
use alloy_primitives::{Address, Bytes, B256, U256};
use jsonrpsee::types::{ErrorObjectOwned, Params};
use jsonrpsee::RpcModule;
use lazychain_data_chain_node::shared::NodeShared;
use lazychain_data_chain_types::tx::{decode_canonical, tx_hash};
use lazychain_exec_stf::call::CallRequest;
use lazychain_exec_stf::{call, estimate_gas, CallError, CallOutcome, Receipt, StateReader};
use serde_json::{json, Map, Value};

use crate::executor::{ExecShared, Tags};
use crate::store::{ExecutedBlock, StateSnapshot};

const INVALID_PARAMS: i32 = -32602;
const INTERNAL: i32 = -32603;
const SERVER: i32 = -32000;
const REVERTED: i32 = 3;
/// The tip `eth_maxPriorityFeePerGas` suggests (what anvil suggests).
const SUGGESTED_TIP: u64 = 1_000_000_000;
/// Most blocks one `eth_getLogs` may scan, and most `eth_feeHistory` blocks.
const MAX_LOG_RANGE: u64 = 10_000;
const MAX_FEE_HISTORY: u64 = 1_024;

fn err(code: i32, msg: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, msg.into(), None::<()>)
}

fn bad(msg: impl Into<String>) -> ErrorObjectOwned {
    err(INVALID_PARAMS, msg)
}

fn internal(e: impl std::fmt::Display) -> ErrorObjectOwned {
    err(INTERNAL, e.to_string())
}

fn qty(n: impl Into<U256>) -> String {
    format!("0x{:x}", n.into())
}

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// The positional parameters as JSON values (missing `params` is an empty list).
fn args(params: &Params) -> Result<Vec<Value>, ErrorObjectOwned> {
    if params.as_str().is_none() {
        return Ok(Vec::new());
    }
    params.parse::<Vec<Value>>()
}

fn parse_bytes(v: &Value, what: &str) -> Result<Vec<u8>, ErrorObjectOwned> {
    let s = v
        .as_str()
        .ok_or_else(|| bad(format!("{what}: expected a hex string, got {v}")))?;
    let s = s
        .strip_prefix("0x")
        .ok_or_else(|| bad(format!("{what}: hex string must start with 0x")))?;
    hex::decode(s).map_err(|e| bad(format!("{what}: invalid hex ({e})")))
}

fn parse_fixed<const N: usize>(v: &Value, what: &str) -> Result<[u8; N], ErrorObjectOwned> {
    let bytes = parse_bytes(v, what)?;
    let len = bytes.len();
    bytes
        .try_into()
        .map_err(|_| bad(format!("{what}: expected {N} bytes, got {len}")))
}

fn parse_address(v: &Value, what: &str) -> Result<Address, ErrorObjectOwned> {
    parse_fixed::<20>(v, what).map(Address::from)
}

fn parse_b256(v: &Value, what: &str) -> Result<B256, ErrorObjectOwned> {
    parse_fixed::<32>(v, what).map(B256::from)
}

fn parse_u256(v: &Value, what: &str) -> Result<U256, ErrorObjectOwned> {
    match v {
        Value::String(s) => {
            let digits = s
                .strip_prefix("0x")
                .ok_or_else(|| bad(format!("{what}: a quantity is 0x-prefixed hex, got {s:?}")))?;
            U256::from_str_radix(digits, 16).map_err(|e| bad(format!("{what}: {e}")))
        }
        Value::Number(n) => n
            .as_u64()
            .map(U256::from)
            .ok_or_else(|| bad(format!("{what}: not a non-negative integer"))),
        other => Err(bad(format!("{what}: expected a quantity, got {other}"))),
    }
}

fn parse_u64(v: &Value, what: &str) -> Result<u64, ErrorObjectOwned> {
    u64::try_from(parse_u256(v, what)?).map_err(|_| bad(format!("{what}: too large")))
}

fn parse_u128(v: &Value, what: &str) -> Result<u128, ErrorObjectOwned> {
    u128::try_from(parse_u256(v, what)?).map_err(|_| bad(format!("{what}: too large")))
}

/// A block tag or number resolved to a height (clamped to what exists is the caller's job).
fn block_height(v: Option<&Value>, tags: &Tags) -> Result<u64, ErrorObjectOwned> {
    let latest = tags.latest;
    match v {
        None | Some(Value::Null) => Ok(latest),
        Some(Value::String(s)) => match s.as_str() {
            "latest" | "pending" => Ok(latest),
            "safe" | "finalized" if tags.alarm => Err(err(
                SERVER,
                format!("SAFETY ALARM: this executor's state disagrees with a root state consensus finalized; it does not serve the {s:?} tag (see lazy_status.safetyAlarm)"),
            )),
            "safe" => Ok(tags.safe),
            "finalized" => Ok(tags.finalized),
            "earliest" => Ok(0),
            _ => parse_u64(&Value::String(s.clone()), "block"),
        },
        Some(Value::Object(o)) => match o.get("blockNumber") {
            Some(n) => parse_u64(n, "blockNumber"),
            None => Err(bad(
                "block hash selectors are not supported; pass a number or tag",
            )),
        },
        Some(other) => parse_u64(other, "block"),
    }
}

/// State reads are served at the latest executed height only.
fn state_at(shared: &ExecShared, tag: Option<&Value>) -> Result<(), ErrorObjectOwned> {
    let tags = shared.tags();
    let latest = tags.latest;
    let height = block_height(tag, &tags)?;
    if height != latest {
        return Err(err(
            SERVER,
            format!("historical state is not available: this executor keeps the latest executed height ({latest}) only"),
        ));
    }
    Ok(())
}

fn call_request(v: Option<&Value>) -> Result<CallRequest, ErrorObjectOwned> {
    let obj = match v {
        Some(Value::Object(o)) => o,
        Some(other) => return Err(bad(format!("call: expected an object, got {other}"))),
        None => return Err(bad("missing the call object")),
    };
    let get = |k: &str| obj.get(k).filter(|v| !v.is_null());
    // cast sends both `data` and `input`; `input` wins, as in geth.
    let input = match get("input").or(get("data")) {
        Some(v) => Bytes::from(parse_bytes(v, "input")?),
        None => Bytes::new(),
    };
    Ok(CallRequest {
        from: get("from").map(|v| parse_address(v, "from")).transpose()?,
        to: get("to").map(|v| parse_address(v, "to")).transpose()?,
        gas: get("gas").map(|v| parse_u64(v, "gas")).transpose()?,
        gas_price: get("gasPrice")
            .map(|v| parse_u128(v, "gasPrice"))
            .transpose()?,
        max_fee_per_gas: get("maxFeePerGas")
            .map(|v| parse_u128(v, "maxFeePerGas"))
            .transpose()?,
        max_priority_fee_per_gas: get("maxPriorityFeePerGas")
            .map(|v| parse_u128(v, "maxPriorityFeePerGas"))
            .transpose()?,
        value: get("value").map(|v| parse_u256(v, "value")).transpose()?,
        input,
    })
}

/// geth's answer to a failed call: code 3 with the revert data for a revert.
fn call_failure(outcome: CallOutcome) -> ErrorObjectOwned {
    match outcome {
        CallOutcome::Revert { output, .. } => {
            let reason = revert_reason(&output)
                .map(|r| format!("execution reverted: {r}"))
                .unwrap_or_else(|| "execution reverted".to_owned());
            ErrorObjectOwned::owned(REVERTED, reason, Some(hex0x(&output)))
        }
        CallOutcome::Halt { reason, .. } => err(SERVER, format!("execution halted: {reason}")),
        CallOutcome::Success { .. } => err(INTERNAL, "call succeeded"),
    }
}

/// The message of a Solidity `Error(string)` revert.
fn revert_reason(output: &[u8]) -> Option<String> {
    const ERROR_SELECTOR: [u8; 4] = [0x08, 0xc3, 0x79, 0xa0];
    if output.len() < 4 + 64 || output[..4] != ERROR_SELECTOR {
        return None;
    }
    let body = &output[4..];
    let len = usize::try_from(U256::from_be_slice(&body[32..64])).ok()?;
    let text = body.get(64..64usize.checked_add(len)?)?;
    String::from_utf8(text.to_vec()).ok()
}

fn call_error(e: CallError) -> ErrorObjectOwned {
    match e {
        CallError::Invalid(msg) => err(SERVER, msg),
        CallError::Read(e) => internal(e),
    }
}

/// What `eth_call` and `eth_estimateGas` run: the call, the next block's context, the state.
fn call_inputs(
    exec: &ExecShared,
    a: &[Value],
) -> Result<(CallRequest, lazychain_exec_stf::BlockContext, StateSnapshot), ErrorObjectOwned> {
    let request = call_request(a.first())?;
    state_at(exec, a.get(1))?;
    let block = latest_context(exec)?;
    let snap = exec.state.snapshot().map_err(internal)?;
    Ok((request, block, snap))
}

fn latest_context(
    shared: &ExecShared,
) -> Result<lazychain_exec_stf::BlockContext, ErrorObjectOwned> {
    let height = shared.status().executed_height;
    let block = shared
        .state
        .executed_block(height)
        .map_err(internal)?
        .ok_or_else(|| internal("latest executed block missing"))?;
    // Calls run as if in the next block, on top of the latest state.
    Ok(lazychain_exec_stf::BlockContext {
        height: height + 1,
        hash: B256::ZERO,
        parent_hash: block.hash,
        timestamp: block.timestamp,
        beneficiary: block.beneficiary,
        base_fee: block.base_fee,
    })
}

fn tx_json(
    envelope: &TxEnvelope,
    from: Address,
    block: Option<(&ExecutedBlock, u32)>,
    base_fee: u64,
) -> Value {
    let sig = envelope.signature();
    let mut v = json!({
        "hash": hex0x(envelope.tx_hash().as_slice()),
        "type": qty(U256::from(envelope.tx_type() as u8)),
        "nonce": qty(U256::from(envelope.nonce())),
        "from": from.to_checksum(None),
        "to": envelope.to().map(|a| a.to_checksum(None)),
        "value": qty(envelope.value()),
        "gas": qty(U256::from(envelope.gas_limit())),
        "input": hex0x(envelope.input()),
        "r": qty(sig.r()),
        "s": qty(sig.s()),
        "v": qty(U256::from(match envelope {
            TxEnvelope::Legacy(t) => t.tx().chain_id.map_or(27 + u64::from(sig.v()), |id| 35 + 2 * id + u64::from(sig.v())),
            _ => u64::from(sig.v()),
        })),
        "blockHash": Value::Null,
        "blockNumber": Value::Null,
        "transactionIndex": Value::Null,
    });
    if let Some(id) = envelope.chain_id() {
        v["chainId"] = json!(qty(U256::from(id)));
    }
    match envelope {
        TxEnvelope::Legacy(_) | TxEnvelope::Eip2930(_) => {
            v["gasPrice"] = json!(qty(U256::from(envelope.max_fee_per_gas())));
        }
        _ => {
            v["maxFeePerGas"] = json!(qty(U256::from(envelope.max_fee_per_gas())));
            v["maxPriorityFeePerGas"] = json!(qty(U256::from(
                envelope.max_priority_fee_per_gas().unwrap_or(0)
            )));
            v["gasPrice"] = json!(qty(U256::from(
                envelope.effective_gas_price(Some(base_fee))
            )));
        }
    }
    if !matches!(envelope, TxEnvelope::Legacy(_)) {
        v["yParity"] = json!(qty(U256::from(u8::from(sig.v()))));
        let list: Vec<Value> = envelope
            .access_list()
            .map(|l| {
                l.iter()
                    .map(|item| {
                        json!({
                            "address": item.address.to_checksum(None),
                            "storageKeys": item.storage_keys.iter().map(|k| hex0x(k.as_slice())).collect::<Vec<_>>(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        v["accessList"] = json!(list);
    }
    if let Some((b, index)) = block {
        v["blockHash"] = json!(hex0x(b.hash.as_slice()));
        v["blockNumber"] = json!(qty(U256::from(b.height)));
        v["transactionIndex"] = json!(qty(U256::from(index)));
    }
    v
}

fn log_json(
    log: &alloy_primitives::Log,
    block: &ExecutedBlock,
    receipt: &Receipt,
    tx_index: u32,
    log_index: usize,
) -> Value {
    json!({
        "address": log.address.to_checksum(None),
        "topics": log.topics().iter().map(|t| hex0x(t.as_slice())).collect::<Vec<_>>(),
        "data": hex0x(&log.data.data),
        "blockNumber": qty(U256::from(block.height)),
        "blockHash": hex0x(block.hash.as_slice()),
        "transactionHash": hex0x(receipt.tx_hash.as_slice()),
        "transactionIndex": qty(U256::from(tx_index)),
        "logIndex": qty(U256::from(log_index)),
        "removed": false,
    })
}

fn receipt_json(
    receipt: &Receipt,
    block: &ExecutedBlock,
    index: u32,
    first_log_index: usize,
) -> Value {
    let logs: Vec<Value> = receipt
        .logs
        .iter()
        .enumerate()
        .map(|(i, l)| log_json(l, block, receipt, index, first_log_index + i))
        .collect();
    json!({
        "transactionHash": hex0x(receipt.tx_hash.as_slice()),
        "transactionIndex": qty(U256::from(index)),
        "blockHash": hex0x(block.hash.as_slice()),
        "blockNumber": qty(U256::from(block.height)),
        "from": receipt.from.to_checksum(None),
        "to": receipt.to.map(|a| a.to_checksum(None)),
        "cumulativeGasUsed": qty(U256::from(receipt.cumulative_gas_used)),
        "gasUsed": qty(U256::from(receipt.gas_used)),
        "effectiveGasPrice": qty(U256::from(receipt.effective_gas_price)),
        "contractAddress": receipt.contract_address.map(|a| a.to_checksum(None)),
        "logs": logs,
        "logsBloom": hex0x(receipt.logs_bloom().as_slice()),
        "type": qty(U256::from(receipt.tx_type)),
        "status": qty(U256::from(receipt.eth_status())),
        // lazychain's own fields: why a transaction failed or was skipped.
        "lazyStatus": format!("{:?}", receipt.status).to_lowercase(),
        "lazyReason": (!receipt.reason.is_empty()).then(|| receipt.reason.clone()),
        "inclusionCharge": (receipt.status == lazychain_exec_stf::TxStatus::Skipped).then(|| qty(receipt.inclusion_charge)),
        "chargeShortfall": (receipt.status == lazychain_exec_stf::TxStatus::Skipped).then(|| qty(receipt.charge_shortfall)),
        // The base fee on the declared but unused gas, burned (ADR 007).
        "unusedGasCharge": qty(receipt.unused_gas_charge),
    })
}

const EMPTY_UNCLES: &str = "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347";

fn block_json(
    shared: &ExecShared,
    block: &ExecutedBlock,
    full: bool,
) -> Result<Value, ErrorObjectOwned> {
    let mut transactions = Vec::new();
    if block.height > 0 {
        let decided = shared
            .blocks
            .decided(block.height)
            .map_err(internal)?
            .ok_or_else(|| internal(format!("data block {} missing", block.height)))?;
        if full {
            let receipts = shared.state.receipts(block.height).map_err(internal)?;
            for (i, raw) in decided.block.body.transactions().enumerate() {
                let from = receipts.get(i).map(|r| r.from).unwrap_or_default();
                match decode_canonical(raw) {
                    Ok(env) => transactions.push(tx_json(
                        &env,
                        from,
                        Some((block, i as u32)),
                        block.base_fee,
                    )),
                    Err(_) => transactions.push(json!(hex0x(tx_hash(raw).as_slice()))),
                }
            }
        } else {
            for raw in decided.block.body.transactions() {
                transactions.push(json!(hex0x(tx_hash(raw).as_slice())));
            }
        }
    }
    Ok(json!({
        "number": qty(U256::from(block.height)),
        "hash": hex0x(block.hash.as_slice()),
        "parentHash": hex0x(block.parent_hash.as_slice()),
        "timestamp": qty(U256::from(block.timestamp)),
        "miner": block.beneficiary.to_checksum(None),
        "stateRoot": hex0x(block.state_root.as_slice()),
        "transactionsRoot": hex0x(block.tx_root.as_slice()),
        "receiptsRoot": hex0x(block.receipts_root.as_slice()),
        "logsBloom": hex0x(block.logs_bloom.as_slice()),
        "gasLimit": qty(U256::from(block.gas_limit)),
        "gasUsed": qty(U256::from(block.gas_used)),
        "baseFeePerGas": qty(U256::from(block.base_fee)),
        "difficulty": "0x0",
        "totalDifficulty": "0x0",
        "mixHash": hex0x(block.hash.as_slice()),
        "nonce": "0x0000000000000000",
        "extraData": "0x",
        "sha3Uncles": EMPTY_UNCLES,
        "uncles": [],
        "size": qty(U256::from(block.body_bytes)),
        "transactions": transactions,
        // lazychain's own fields: the trace this executor computed.
        "traceRoot": hex0x(block.trace_root.as_slice()),
        "preStateRoot": hex0x(block.pre_state_root.as_slice()),
    }))
}

fn executed(shared: &ExecShared, height: u64) -> Result<Option<ExecutedBlock>, ErrorObjectOwned> {
    shared.state.executed_block(height).map_err(internal)
}

/// A transaction's receipt and executed block, if it was executed here.
fn located(
    shared: &ExecShared,
    hash: &B256,
) -> Result<Option<(ExecutedBlock, u32, Receipt)>, ErrorObjectOwned> {
    let Some((height, index)) = shared.state.tx_location(hash).map_err(internal)? else {
        return Ok(None);
    };
    let block = executed(shared, height)?.ok_or_else(|| internal("executed block missing"))?;
    let receipt = shared
        .state
        .receipt(height, index)
        .map_err(internal)?
        .ok_or_else(|| internal("receipt missing"))?;
    Ok(Some((block, index, receipt)))
}

struct LogFilter {
    from: u64,
    to: u64,
    addresses: Vec<Address>,
    topics: Vec<Option<Vec<B256>>>,
}

fn log_filter(shared: &ExecShared, v: Option<&Value>) -> Result<LogFilter, ErrorObjectOwned> {
    let obj = match v {
        Some(Value::Object(o)) => o.clone(),
        None | Some(Value::Null) => Map::new(),
        Some(other) => return Err(bad(format!("filter: expected an object, got {other}"))),
    };
    let latest = shared.status().executed_height;
    let (from, to) = if let Some(hash) = obj.get("blockHash").filter(|v| !v.is_null()) {
        let hash = parse_b256(hash, "blockHash")?;
        let h = shared
            .state
            .height_of_hash(&hash)
            .map_err(internal)?
            .ok_or_else(|| err(SERVER, "unknown block"))?;
        (h, h)
    } else {
        (
            block_height(obj.get("fromBlock"), &shared.tags())?,
            block_height(obj.get("toBlock"), &shared.tags())?.min(latest),
        )
    };
    if to >= from && to - from >= MAX_LOG_RANGE {
        return Err(err(
            SERVER,
            format!("block range too large: at most {MAX_LOG_RANGE} blocks per query"),
        ));
    }
    let addresses = match obj.get("address") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| parse_address(v, "address"))
            .collect::<Result<_, _>>()?,
        Some(v) => vec![parse_address(v, "address")?],
    };
    let mut topics = Vec::new();
    if let Some(Value::Array(list)) = obj.get("topics") {
        if list.len() > 4 {
            return Err(bad("at most 4 topic positions"));
        }
        for t in list {
            topics.push(match t {
                Value::Null => None,
                Value::Array(any) => Some(
                    any.iter()
                        .map(|v| parse_b256(v, "topic"))
                        .collect::<Result<_, _>>()?,
                ),
                v => Some(vec![parse_b256(v, "topic")?]),
            });
        }
    }
    Ok(LogFilter {
        from,
        to,
        addresses,
        topics,
    })
}

impl LogFilter {
    fn matches(&self, log: &alloy_primitives::Log) -> bool {
        if !self.addresses.is_empty() && !self.addresses.contains(&log.address) {
            return false;
        }
        self.topics.iter().enumerate().all(|(i, want)| match want {
            None => true,
            Some(any) => log.topics().get(i).is_some_and(|t| any.contains(t)),
        })
    }

    fn may_match(&self, bloom: &alloy_primitives::Bloom) -> bool {
        use alloy_primitives::BloomInput;
        let address_ok = self.addresses.is_empty()
            || self
                .addresses
                .iter()
                .any(|a| bloom.contains_input(BloomInput::Raw(a.as_slice())));
        address_ok
            && self.topics.iter().all(|want| match want {
                None => true,
                Some(any) => any
                    .iter()
                    .any(|t| bloom.contains_input(BloomInput::Raw(t.as_slice()))),
            })
    }
}

fn get_logs(shared: &ExecShared, filter: &LogFilter) -> Result<Value, ErrorObjectOwned> {
    let mut out = Vec::new();
    for height in filter.from..=filter.to {
        let Some(block) = executed(shared, height)? else {
            break;
        };
        if !filter.may_match(&block.logs_bloom) {
            continue;
        }
        let mut log_index = 0usize;
        for (i, receipt) in shared
            .state
            .receipts(height)
            .map_err(internal)?
            .iter()
            .enumerate()
        {
            for log in &receipt.logs {
                if filter.matches(log) {
                    out.push(log_json(log, &block, receipt, i as u32, log_index));
                }
                log_index += 1;
            }
        }
    }
    Ok(Value::Array(out))
}

fn fee_history(
    shared: &ExecShared,
    a: &[Value],
    next_base_fee: u64,
) -> Result<Value, ErrorObjectOwned> {
    let count = a
        .first()
        .map(|v| parse_u64(v, "blockCount"))
        .transpose()?
        .unwrap_or(1)
        .clamp(1, MAX_FEE_HISTORY);
    let latest = shared.status().executed_height;
    let newest = block_height(a.get(1), &shared.tags())?.min(latest);
    let percentiles: Vec<f64> = match a.get(2) {
        Some(Value::Array(p)) => p
            .iter()
            .map(|v| v.as_f64().ok_or_else(|| bad("rewardPercentiles: numbers")))
            .collect::<Result<_, _>>()?,
        _ => Vec::new(),
    };
    let oldest = newest.saturating_sub(count - 1);
    let mut base_fees = Vec::new();
    let mut ratios = Vec::new();
    let mut rewards = Vec::new();
    for h in oldest..=newest {
        let Some(b) = executed(shared, h)? else { break };
        base_fees.push(qty(U256::from(b.base_fee)));
        ratios.push(if b.gas_limit == 0 {
            0.0
        } else {
            b.gas_used as f64 / b.gas_limit as f64
        });
        if !percentiles.is_empty() {
            rewards.push(
                percentiles
                    .iter()
                    .map(|_| qty(U256::from(SUGGESTED_TIP)))
                    .collect::<Vec<_>>(),
            );
        }
    }
    // The next block's base fee, as the execution budget sets it from the latest decided
    // header (protocol §10.1).
    base_fees.push(qty(U256::from(next_base_fee)));
    let mut v = json!({
        "oldestBlock": qty(U256::from(oldest)),
        "baseFeePerGas": base_fees,
        "gasUsedRatio": ratios,
    });
    if !percentiles.is_empty() {
        v["reward"] = json!(rewards);
    }
    Ok(v)
}

/// The executor's fields of the node's `lazy_status` (its role among them).
pub fn status_fields(exec: &ExecShared, v: &mut Map<String, Value>) {
    let s = exec.status();
    v.insert("role".into(), json!("executor"));
    v.insert("dataHeight".into(), json!(s.data_height));
    v.insert("executedHeight".into(), json!(s.executed_height));
    v.insert(
        "lag".into(),
        json!(s.data_height.saturating_sub(s.executed_height)),
    );
    v.insert("stateRoot".into(), json!(hex0x(s.state_root.as_slice())));
    v.insert("safetyAlarm".into(), json!(exec.safety_alarm()));
    let own = exec.own_claims();
    v.insert(
        "claims".into(),
        json!({
            "executor": hex0x(&own.executor),
            "bonded": own.bonded,
            "latestHeight": own.latest.map(|(h, _)| h),
            "latestStatus": own.latest.map(|(_, status)| status),
            "slashed": own.slashed,
            "openDisputes": own.open_disputes,
            "unprovenDisputes": own.unproven_disputes,
            "disputes": own.disputes.iter().map(|d| json!({
                "claim": d.claim.to_string(),
                "height": d.height,
                "txIndex": d.tx_index,
                "attempts": d.attempts,
                "proofSubmitted": d.proof_submitted,
                "lastError": d.last_error,
            })).collect::<Vec<_>>(),
        }),
    );
}

/// The executor's methods, served beside the node's.
pub fn register(
    exec: Arc<ExecShared>,
    node: Arc<NodeShared>,
) -> Result<jsonrpsee::Methods, jsonrpsee::core::RegisterMethodError> {
    let mut m = RpcModule::new((exec, node));

    m.register_blocking_method("lazy_getExecution", |p, ctx, _| {
        let (exec, _) = &*ctx;
        let a = args(&p)?;
        let height = block_height(a.first(), &exec.tags())?;
        let Some(b) = executed(exec, height)? else {
            return Ok::<Value, ErrorObjectOwned>(Value::Null);
        };
        let trace = exec
            .state
            .trace(height)
            .map_err(internal)?
            .unwrap_or_default();
        Ok(json!({
            "height": b.height,
            "hash": hex0x(b.hash.as_slice()),
            "preStateRoot": hex0x(b.pre_state_root.as_slice()),
            "stateRoot": hex0x(b.state_root.as_slice()),
            "traceRoot": hex0x(b.trace_root.as_slice()),
            "receiptsRoot": hex0x(b.receipts_root.as_slice()),
            "txCount": b.tx_count,
            "gasUsed": b.gas_used,
            "trace": trace.iter().map(|r| hex0x(r.as_slice())).collect::<Vec<_>>(),
        }))
    })?;
    m.register_method("eth_blockNumber", |_, ctx, _| {
        qty(U256::from(ctx.0.status().executed_height))
    })?;
    m.register_blocking_method("eth_gasPrice", |_, ctx, _| {
        qty(U256::from(ctx.1.next_base_fee()) + U256::from(SUGGESTED_TIP))
    })?;
    m.register_method("eth_maxPriorityFeePerGas", |_, _, _| {
        qty(U256::from(SUGGESTED_TIP))
    })?;
    m.register_method("eth_syncing", |_, ctx, _| {
        let s = ctx.0.status();
        if s.executed_height >= s.data_height {
            json!(false)
        } else {
            json!({
                "startingBlock": qty(U256::from(0u64)),
                "currentBlock": qty(U256::from(s.executed_height)),
                "highestBlock": qty(U256::from(s.data_height)),
            })
        }
    })?;
    m.register_blocking_method("eth_getBalance", |p, ctx, _| {
        let a = args(&p)?;
        let exec = &ctx.0;
        let address = parse_address(a.first().unwrap_or(&Value::Null), "address")?;
        state_at(exec, a.get(1))?;
        let snap = exec.state.snapshot().map_err(internal)?;
        let account = snap.account(&address).map_err(internal)?;
        Ok::<String, ErrorObjectOwned>(qty(account.map(|a| a.balance).unwrap_or_default()))
    })?;
    m.register_blocking_method("eth_getTransactionCount", |p, ctx, _| {
        let a = args(&p)?;
        let (exec, node) = &*ctx;
        let address = parse_address(a.first().unwrap_or(&Value::Null), "address")?;
        let pending = matches!(a.get(1), Some(Value::String(s)) if s == "pending");
        if !pending {
            state_at(exec, a.get(1))?;
        }
        let snap = exec.state.snapshot().map_err(internal)?;
        let mut nonce = snap
            .account(&address)
            .map_err(internal)?
            .map(|a| a.nonce)
            .unwrap_or(0);
        if pending {
            // Ordered but not executed, and pooled: clients send back to back.
            if let Some(next) = exec.decided_next_nonce(&address) {
                nonce = nonce.max(next);
            }
            if let Some(highest) = node.mempool_highest_nonce(&address) {
                nonce = nonce.max(highest.saturating_add(1));
            }
        }
        Ok::<String, ErrorObjectOwned>(qty(U256::from(nonce)))
    })?;
    m.register_blocking_method("eth_getCode", |p, ctx, _| {
        let a = args(&p)?;
        let exec = &ctx.0;
        let address = parse_address(a.first().unwrap_or(&Value::Null), "address")?;
        state_at(exec, a.get(1))?;
        let snap = exec.state.snapshot().map_err(internal)?;
        let code = match snap.account(&address).map_err(internal)? {
            Some(acc) if acc.code_hash != lazychain_exec_stf::revm::primitives::KECCAK_EMPTY => {
                snap.code(&acc.code_hash)
                    .map_err(internal)?
                    .unwrap_or_default()
            }
            _ => Bytes::new(),
        };
        Ok::<String, ErrorObjectOwned>(hex0x(&code))
    })?;
    m.register_blocking_method("eth_getStorageAt", |p, ctx, _| {
        let a = args(&p)?;
        let exec = &ctx.0;
        let address = parse_address(a.first().unwrap_or(&Value::Null), "address")?;
        let slot = parse_u256(a.get(1).unwrap_or(&Value::Null), "slot")?;
        state_at(exec, a.get(2))?;
        let snap = exec.state.snapshot().map_err(internal)?;
        let value = snap.storage(&address, &slot).map_err(internal)?;
        Ok::<String, ErrorObjectOwned>(hex0x(&value.to_be_bytes::<32>()))
    })?;
    m.register_blocking_method("eth_call", |p, ctx, _| {
        let a = args(&p)?;
        let exec = &ctx.0;
        let (request, block, snap) = call_inputs(exec, &a)?;
        match call(&exec.params, &block, &request, &snap).map_err(call_error)? {
            CallOutcome::Success { output, .. } => Ok(hex0x(&output)),
            failed => Err(call_failure(failed)),
        }
    })?;
    m.register_blocking_method("eth_estimateGas", |p, ctx, _| {
        let a = args(&p)?;
        let exec = &ctx.0;
        let (request, block, snap) = call_inputs(exec, &a)?;
        match estimate_gas(&exec.params, &block, &request, &snap).map_err(call_error)? {
            Ok(gas) => Ok(qty(U256::from(gas))),
            Err(failed) => Err(call_failure(failed)),
        }
    })?;
    m.register_blocking_method("eth_feeHistory", |p, ctx, _| {
        fee_history(&ctx.0, &args(&p)?, ctx.1.next_base_fee())
    })?;
    m.register_blocking_method("eth_getBlockByNumber", |p, ctx, _| {
        let a = args(&p)?;
        let exec = &ctx.0;
        let height = block_height(a.first(), &exec.tags())?;
        let full = a.get(1).and_then(Value::as_bool).unwrap_or(false);
        match executed(exec, height)? {
            Some(b) => block_json(exec, &b, full),
            None => Ok(Value::Null),
        }
    })?;
    m.register_blocking_method("eth_getBlockByHash", |p, ctx, _| {
        let a = args(&p)?;
        let exec = &ctx.0;
        let hash = parse_b256(a.first().unwrap_or(&Value::Null), "block hash")?;
        let full = a.get(1).and_then(Value::as_bool).unwrap_or(false);
        let Some(height) = exec.state.height_of_hash(&hash).map_err(internal)? else {
            return Ok(Value::Null);
        };
        match executed(exec, height)? {
            Some(b) => block_json(exec, &b, full),
            None => Ok(Value::Null),
        }
    })?;
    m.register_blocking_method("eth_getTransactionByHash", |p, ctx, _| {
        let a = args(&p)?;
        let (exec, node) = &*ctx;
        let hash = parse_b256(a.first().unwrap_or(&Value::Null), "transaction hash")?;
        if let Some((block, index, receipt)) = located(exec, &hash)? {
            let decided = exec
                .blocks
                .decided(block.height)
                .map_err(internal)?
                .ok_or_else(|| internal("data block missing"))?;
            let raw = decided
                .block
                .body
                .transactions()
                .nth(index as usize)
                .ok_or_else(|| internal("transaction missing"))?;
            let env = decode_canonical(raw).map_err(internal)?;
            return Ok::<Value, ErrorObjectOwned>(tx_json(
                &env,
                receipt.from,
                Some((&block, index)),
                block.base_fee,
            ));
        }
        // Ordered or pooled, not executed yet: no block fields (as geth's pending transactions).
        let raw = match node.store.tx_location(&hash.0).map_err(internal)? {
            Some((height, index)) => node.store.decided(height).map_err(internal)?.and_then(|d| {
                d.block
                    .body
                    .transactions()
                    .nth(index as usize)
                    .map(|t| t.to_vec())
            }),
            None => node.mempool_raw(&hash),
        };
        let Some(raw) = raw else {
            return Ok(Value::Null);
        };
        let env = decode_canonical(&raw).map_err(internal)?;
        let from = lazychain_data_chain_types::tx::recover_sender(&env).unwrap_or_default();
        Ok(tx_json(&env, from, None, ctx.1.next_base_fee()))
    })?;
    m.register_blocking_method("eth_getTransactionReceipt", |p, ctx, _| {
        let a = args(&p)?;
        let exec = &ctx.0;
        let hash = parse_b256(a.first().unwrap_or(&Value::Null), "transaction hash")?;
        let Some((block, index, receipt)) = located(exec, &hash)? else {
            return Ok::<Value, ErrorObjectOwned>(Value::Null);
        };
        let receipts = exec.state.receipts(block.height).map_err(internal)?;
        let first_log: usize = receipts
            .iter()
            .take(index as usize)
            .map(|r| r.logs.len())
            .sum();
        Ok(receipt_json(&receipt, &block, index, first_log))
    })?;
    m.register_blocking_method("eth_getLogs", |p, ctx, _| {
        let a = args(&p)?;
        let filter = log_filter(&ctx.0, a.first())?;
        get_logs(&ctx.0, &filter)
    })?;
    m.register_blocking_method("eth_getBlockTransactionCountByNumber", |p, ctx, _| {
        let a = args(&p)?;
        let exec = &ctx.0;
        let height = block_height(a.first(), &exec.tags())?;
        Ok::<Option<String>, ErrorObjectOwned>(
            executed(exec, height)?.map(|b| qty(U256::from(b.tx_count))),
        )
    })?;
    Ok(m.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revert_reasons_decode() {
        // Error("insufficient balance")
        let mut data = vec![0x08, 0xc3, 0x79, 0xa0];
        data.extend_from_slice(&U256::from(32).to_be_bytes::<32>());
        data.extend_from_slice(&U256::from(20).to_be_bytes::<32>());
        let mut text = b"insufficient balance".to_vec();
        text.resize(32, 0);
        data.extend_from_slice(&text);
        assert_eq!(
            revert_reason(&data).as_deref(),
            Some("insufficient balance")
        );
        assert_eq!(revert_reason(&data[..40]), None);
        // A length beyond the data.
        let mut long = data.clone();
        long[4 + 32 + 31] = 200;
        assert_eq!(revert_reason(&long), None);
    }

    #[test]
    fn block_tags_resolve() {
        let mut tags = Tags {
            latest: 7,
            safe: 5,
            finalized: 2,
            alarm: false,
        };
        assert_eq!(block_height(None, &tags), Ok(7));
        assert_eq!(block_height(Some(&json!("pending")), &tags), Ok(7));
        assert_eq!(block_height(Some(&json!("safe")), &tags), Ok(5));
        assert_eq!(block_height(Some(&json!("finalized")), &tags), Ok(2));
        assert_eq!(block_height(Some(&json!("0x3")), &tags), Ok(3));
        assert_eq!(block_height(Some(&json!("earliest")), &tags), Ok(0));
        assert!(block_height(Some(&json!("yesterday")), &tags).is_err());
        assert!(block_height(Some(&json!(true)), &tags).is_err());
        // Under a safety alarm the executor refuses the tags that name consensus roots.
        tags.alarm = true;
        assert!(block_height(Some(&json!("finalized")), &tags).is_err());
        assert!(block_height(Some(&json!("safe")), &tags).is_err());
        assert_eq!(block_height(Some(&json!("latest")), &tags), Ok(7));
    }
}
