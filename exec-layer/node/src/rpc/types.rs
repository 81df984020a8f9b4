//! The executor's answers as alloy's RPC types, built from what the store keeps, and the few
//! shapes alloy has no type for: lazychain's own fields beside a block or receipt (flattened
//! next to alloy's), the sync status without warp-sync fields and `lazy_getExecution`.

use alloy_consensus::{
    Eip658Value, Receipt as ConsensusReceipt, ReceiptEnvelope, ReceiptWithBloom, Transaction as _,
    TxEnvelope, EMPTY_OMMER_ROOT_HASH,
};
use alloy_primitives::{Address, Bytes, B256, B64, U256, U64};
use alloy_rpc_types_eth::{Block, BlockTransactions, Header, Log, Transaction, TransactionReceipt};
use lazychain_data_chain_types::BlockHeader;
use lazychain_exec_stf::{Receipt, TxStatus};
use serde::Serialize;

use crate::store::ExecutedBlock;

/// `eth_getBlockBy*`: alloy's block with the trace this executor computed beside it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutedRpcBlock {
    #[serde(flatten)]
    pub block: Block,
    pub trace_root: B256,
    pub pre_state_root: B256,
    /// The data block's header, whose SSZ `hash_tree_root` is `hash`: what a light client
    /// checks `hash` against (none for height 0, the genesis state).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_header: Option<DataHeader>,
}

/// A data block's header as the RPC shows it: every field of protocol.md §1.1, in order.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DataHeader {
    pub chain_id: U64,
    pub height: U64,
    pub parent_hash: B256,
    pub proposer: Address,
    pub timestamp_ms: U64,
    pub tx_root: B256,
    pub claims_root: B256,
    pub fraud_proofs_root: B256,
    pub tx_count: U64,
    pub body_bytes: U64,
    pub gas_limit_sum: U64,
    pub gas_allowance: U64,
    pub base_fee_per_gas: U64,
}

impl From<&BlockHeader> for DataHeader {
    fn from(h: &BlockHeader) -> Self {
        DataHeader {
            chain_id: U64::from(h.chain_id),
            height: U64::from(h.height),
            parent_hash: B256::from_slice(h.parent_hash.as_ref()),
            proposer: Address::from(h.proposer),
            timestamp_ms: U64::from(h.timestamp_ms),
            tx_root: B256::from_slice(h.tx_root.as_ref()),
            claims_root: B256::from_slice(h.claims_root.as_ref()),
            fraud_proofs_root: B256::from_slice(h.fraud_proofs_root.as_ref()),
            tx_count: U64::from(h.tx_count),
            body_bytes: U64::from(h.body_bytes),
            gas_limit_sum: U64::from(h.gas_limit_sum),
            gas_allowance: U64::from(h.gas_allowance),
            base_fee_per_gas: U64::from(h.base_fee_per_gas),
        }
    }
}

/// `eth_getTransactionReceipt`: alloy's receipt with lazychain's own fields beside it — why a
/// transaction failed or was skipped, and what it was charged for.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LazyReceipt {
    #[serde(flatten)]
    pub receipt: TransactionReceipt,
    pub lazy_status: String,
    pub lazy_reason: Option<String>,
    pub inclusion_charge: Option<U256>,
    pub charge_shortfall: Option<U256>,
    /// The base fee on the declared but unused gas, burned (ADR 007).
    pub unused_gas_charge: U256,
}

/// `eth_syncing` while executing behind the data chain. alloy's `SyncInfo` would add null
/// warp-sync fields that this answer never carried.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncProgress {
    pub starting_block: U64,
    pub current_block: U64,
    pub highest_block: U64,
}

/// `eth_syncing`: `false`, or how far execution is.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Syncing {
    Done(bool),
    Behind(SyncProgress),
}

/// `lazy_getExecution`: what this executor computed for one height (heights and counts are
/// JSON numbers, as the other `lazy_*` answers).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    pub height: u64,
    pub hash: B256,
    pub pre_state_root: B256,
    pub state_root: B256,
    pub trace_root: B256,
    pub receipts_root: B256,
    pub tx_count: u64,
    pub gas_used: u64,
    pub trace: Vec<B256>,
}

impl Execution {
    pub fn new(block: &ExecutedBlock, trace: Vec<B256>) -> Self {
        Execution {
            height: block.height,
            hash: block.hash,
            pre_state_root: block.pre_state_root,
            state_root: block.state_root,
            trace_root: block.trace_root,
            receipts_root: block.receipts_root,
            tx_count: block.tx_count,
            gas_used: block.gas_used,
            trace,
        }
    }
}

/// A transaction as the RPC shows it; `block` is its executed block and index (none while it
/// is ordered or pooled), `base_fee` prices its effective gas price.
pub fn rpc_transaction(
    envelope: TxEnvelope,
    from: Address,
    block: Option<(&ExecutedBlock, u32)>,
    base_fee: u64,
) -> Transaction {
    let effective_gas_price = envelope.effective_gas_price(Some(base_fee));
    Transaction {
        inner: alloy_consensus::transaction::Recovered::new_unchecked(envelope, from),
        block_hash: block.map(|(b, _)| b.hash),
        block_number: block.map(|(b, _)| b.height),
        transaction_index: block.map(|(_, index)| u64::from(index)),
        effective_gas_price: Some(effective_gas_price),
        block_timestamp: None,
    }
}

/// A log of `receipt` (transaction `tx_index` of `block`), the `log_index`-th of the block.
pub fn rpc_log(
    log: &alloy_primitives::Log,
    block: &ExecutedBlock,
    receipt: &Receipt,
    tx_index: u32,
    log_index: usize,
) -> Log {
    Log {
        inner: log.clone(),
        block_hash: Some(block.hash),
        block_number: Some(block.height),
        block_timestamp: None,
        transaction_hash: Some(receipt.tx_hash),
        transaction_index: Some(u64::from(tx_index)),
        log_index: Some(log_index as u64),
        removed: false,
    }
}

/// The receipt of transaction `index` of `block`, whose first log is the block's
/// `first_log_index`-th.
pub fn rpc_receipt(
    receipt: &Receipt,
    block: &ExecutedBlock,
    index: u32,
    first_log_index: usize,
) -> LazyReceipt {
    let logs = receipt
        .logs
        .iter()
        .enumerate()
        .map(|(i, l)| rpc_log(l, block, receipt, index, first_log_index + i))
        .collect();
    let inner = ReceiptWithBloom {
        receipt: ConsensusReceipt {
            status: Eip658Value::Eip658(receipt.eth_status() == 1),
            cumulative_gas_used: receipt.cumulative_gas_used,
            logs,
        },
        logs_bloom: receipt.logs_bloom(),
    };
    let inner = match receipt.tx_type {
        0 => ReceiptEnvelope::Legacy(inner),
        1 => ReceiptEnvelope::Eip2930(inner),
        3 => ReceiptEnvelope::Eip4844(inner),
        4 => ReceiptEnvelope::Eip7702(inner),
        _ => ReceiptEnvelope::Eip1559(inner),
    };
    let skipped = receipt.status == TxStatus::Skipped;
    LazyReceipt {
        receipt: TransactionReceipt {
            inner,
            transaction_hash: receipt.tx_hash,
            transaction_index: Some(u64::from(index)),
            block_hash: Some(block.hash),
            block_number: Some(block.height),
            gas_used: receipt.gas_used,
            effective_gas_price: receipt.effective_gas_price,
            blob_gas_used: None,
            blob_gas_price: None,
            from: receipt.from,
            to: receipt.to,
            contract_address: receipt.contract_address,
        },
        lazy_status: format!("{:?}", receipt.status).to_lowercase(),
        lazy_reason: (!receipt.reason.is_empty()).then(|| receipt.reason.clone()),
        inclusion_charge: skipped.then_some(receipt.inclusion_charge),
        charge_shortfall: skipped.then_some(receipt.charge_shortfall),
        unused_gas_charge: receipt.unused_gas_charge,
    }
}

/// An executed block with its transactions (full or hashes). A data block has no proof of
/// work, uncles or extra data: those fields hold the empty values; `mixHash` repeats the
/// block hash.
pub fn rpc_block(
    block: &ExecutedBlock,
    data_header: Option<DataHeader>,
    transactions: BlockTransactions<Transaction>,
) -> ExecutedRpcBlock {
    let header = alloy_consensus::Header {
        parent_hash: block.parent_hash,
        ommers_hash: EMPTY_OMMER_ROOT_HASH,
        beneficiary: block.beneficiary,
        state_root: block.state_root,
        transactions_root: block.tx_root,
        receipts_root: block.receipts_root,
        logs_bloom: block.logs_bloom,
        difficulty: U256::ZERO,
        number: block.height,
        gas_limit: block.gas_limit,
        gas_used: block.gas_used,
        timestamp: block.timestamp,
        extra_data: Bytes::new(),
        mix_hash: block.hash,
        nonce: B64::ZERO,
        base_fee_per_gas: Some(block.base_fee),
        // No blobs on this chain: none used, and no excess (the EVM's blob base fee is 1).
        blob_gas_used: Some(0),
        excess_blob_gas: Some(0),
        ..Default::default()
    };
    ExecutedRpcBlock {
        block: Block {
            header: Header {
                hash: block.hash,
                inner: header,
                total_difficulty: Some(U256::ZERO),
                size: Some(U256::from(block.body_bytes)),
            },
            uncles: Vec::new(),
            transactions,
            withdrawals: None,
        },
        trace_root: block.trace_root,
        pre_state_root: block.pre_state_root,
        data_header,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn block() -> ExecutedBlock {
        ExecutedBlock {
            height: 9,
            hash: B256::repeat_byte(0x99),
            parent_hash: B256::repeat_byte(0x88),
            timestamp: 1_700,
            beneficiary: Address::repeat_byte(0xbe),
            gas_limit: 30_000_000,
            gas_used: 0,
            base_fee: 7,
            tx_count: 1,
            tx_root: B256::repeat_byte(1),
            body_bytes: 120,
            pre_state_root: B256::repeat_byte(2),
            state_root: B256::repeat_byte(3),
            receipts_root: B256::repeat_byte(4),
            trace_root: B256::repeat_byte(5),
            logs_bloom: Default::default(),
        }
    }

    /// A light client's check: the header fields a block answer carries hash to its `hash`.
    #[test]
    fn a_block_hash_is_the_root_of_the_data_header_it_carries() {
        let node =
            |bytes: [u8; 32]| ssz_rs::prelude::Node::try_from(bytes.as_slice()).expect("32 bytes");
        let header = BlockHeader {
            chain_id: 1337,
            height: 9,
            parent_hash: node([0x88; 32]),
            proposer: [0x11; 20],
            timestamp_ms: 1_700_123,
            tx_root: node([1; 32]),
            claims_root: node([2; 32]),
            fraud_proofs_root: node([3; 32]),
            tx_count: 1,
            body_bytes: 120,
            gas_limit_sum: 21_000,
            gas_allowance: 5,
            base_fee_per_gas: 7,
        };
        let mut executed = block();
        executed.hash = B256::from(header.hash().expect("hashes").0);
        let answer = rpc_block(
            &executed,
            Some(DataHeader::from(&header)),
            BlockTransactions::Hashes(Vec::new()),
        );
        let v = serde_json::to_value(answer).unwrap_or_default();
        let d = &v["dataHeader"];
        let q = |k: &str| {
            d[k].as_str()
                .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
                .unwrap_or_else(|| panic!("{k} is a quantity: {d}"))
        };
        let h = |k: &str| -> [u8; 32] {
            d[k].as_str()
                .and_then(|s| s.parse::<B256>().ok())
                .unwrap_or_else(|| panic!("{k} is 32 bytes: {d}"))
                .0
        };
        let rebuilt = BlockHeader {
            chain_id: q("chainId"),
            height: q("height"),
            parent_hash: node(h("parentHash")),
            proposer: d["proposer"]
                .as_str()
                .and_then(|s| s.parse::<Address>().ok())
                .expect("proposer is an address")
                .0
                 .0,
            timestamp_ms: q("timestampMs"),
            tx_root: node(h("txRoot")),
            claims_root: node(h("claimsRoot")),
            fraud_proofs_root: node(h("fraudProofsRoot")),
            tx_count: q("txCount"),
            body_bytes: q("bodyBytes"),
            gas_limit_sum: q("gasLimitSum"),
            gas_allowance: q("gasAllowance"),
            base_fee_per_gas: q("baseFeePerGas"),
        };
        let hash = B256::from(rebuilt.hash().expect("hashes").0);
        assert_eq!(json!(hash), v["hash"]);
        assert_eq!(
            d.as_object().map(|o| o.len()),
            Some(13),
            "every header field"
        );
    }

    fn keys(v: &Value) -> Vec<&str> {
        let mut keys: Vec<&str> = v
            .as_object()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        keys.sort_unstable();
        keys
    }

    #[test]
    fn a_skipped_receipt_carries_its_charges() {
        let receipt = Receipt {
            tx_hash: B256::repeat_byte(0x77),
            tx_type: 0,
            from: Address::repeat_byte(0xaa),
            to: Some(Address::repeat_byte(0xbb)),
            status: TxStatus::Skipped,
            reason: "nonce 50 too high, expected 6".into(),
            gas_used: 0,
            cumulative_gas_used: 0,
            effective_gas_price: 0,
            contract_address: None,
            logs: Vec::new(),
            output: Bytes::new(),
            inclusion_charge: U256::from(21_000),
            charge_shortfall: U256::ZERO,
            unused_gas_charge: U256::ZERO,
        };
        let v = serde_json::to_value(rpc_receipt(&receipt, &block(), 0, 0)).unwrap_or_default();
        assert_eq!(
            keys(&v),
            [
                "blockHash",
                "blockNumber",
                "chargeShortfall",
                "contractAddress",
                "cumulativeGasUsed",
                "effectiveGasPrice",
                "from",
                "gasUsed",
                "inclusionCharge",
                "lazyReason",
                "lazyStatus",
                "logs",
                "logsBloom",
                "status",
                "to",
                "transactionHash",
                "transactionIndex",
                "type",
                "unusedGasCharge",
            ]
        );
        assert_eq!(v["type"], "0x0");
        assert_eq!(v["status"], "0x0");
        assert_eq!(v["blockNumber"], "0x9");
        assert_eq!(v["lazyStatus"], "skipped");
        assert_eq!(v["inclusionCharge"], "0x5208");
        assert_eq!(v["contractAddress"], Value::Null);
        assert_eq!(
            v["from"],
            Address::repeat_byte(0xaa).to_string().to_lowercase()
        );
    }

    #[test]
    fn a_block_has_ethereum_fields_and_the_executors_roots() {
        let answer = rpc_block(
            &block(),
            None,
            BlockTransactions::Hashes(vec![B256::repeat_byte(6)]),
        );
        let v = serde_json::to_value(answer).unwrap_or_default();
        assert_eq!(
            keys(&v),
            [
                "baseFeePerGas",
                "blobGasUsed",
                "difficulty",
                "excessBlobGas",
                "extraData",
                "gasLimit",
                "gasUsed",
                "hash",
                "logsBloom",
                "miner",
                "mixHash",
                "nonce",
                "number",
                "parentHash",
                "preStateRoot",
                "receiptsRoot",
                "sha3Uncles",
                "size",
                "stateRoot",
                "timestamp",
                "totalDifficulty",
                "traceRoot",
                "transactions",
                "transactionsRoot",
                "uncles",
            ]
        );
        assert_eq!(v["nonce"], "0x0000000000000000");
        assert_eq!(v["difficulty"], "0x0");
        assert_eq!(v["size"], "0x78");
        assert_eq!(v["mixHash"], v["hash"]);
        assert_eq!(
            v["miner"],
            Address::repeat_byte(0xbe).to_string().to_lowercase()
        );
    }

    #[test]
    fn syncing_answers_false_or_three_quantities() {
        assert_eq!(
            serde_json::to_value(Syncing::Done(false)).ok(),
            Some(json!(false))
        );
        let behind = Syncing::Behind(SyncProgress {
            starting_block: U64::ZERO,
            current_block: U64::from(5),
            highest_block: U64::from(9),
        });
        assert_eq!(
            serde_json::to_value(behind).ok(),
            Some(json!({"startingBlock": "0x0", "currentBlock": "0x5", "highestBlock": "0x9"}))
        );
    }
}
