//! Stateless block validity: the checks every validator runs on a proposed or synced block.
//! Nothing here reads state or executes: encoding, limits from genesis, commitments, the parent
//! link, the timestamp window, and each transaction's own admission checks.

use std::collections::HashSet;

use alloy_consensus::Transaction;
use alloy_primitives::B256;

use crate::block::{Block, BlockHash, BlockHeader};
use crate::tx::{precheck, recover_sender, tx_hash, TxError, TxRules};

/// Limits from genesis that bound a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockRules {
    pub chain_id: u64,
    pub max_block_bytes: u64,
    pub max_tx_bytes: u64,
    pub max_block_gas: u64,
    pub max_txs_per_block: u64,
    pub min_gas_price: u128,
    /// How far (ms) a block's timestamp may run ahead of the validator's clock.
    pub max_timestamp_drift_ms: u64,
}

impl BlockRules {
    pub fn tx_rules(&self) -> TxRules {
        TxRules {
            chain_id: self.chain_id,
            max_tx_bytes: self.max_tx_bytes as usize,
            max_tx_gas: self.max_block_gas,
            min_gas_price: self.min_gas_price,
        }
    }
}

/// What a block must link to: the decided block at `height - 1` (or genesis at height 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParentInfo {
    pub height: u64,
    pub hash: BlockHash,
    pub timestamp_ms: u64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BlockError {
    #[error("wrong chain id {got}, expected {expected}")]
    ChainId { got: u64, expected: u64 },
    #[error("height {got} does not follow parent height {parent}")]
    Height { got: u64, parent: u64 },
    #[error("parent hash {got} differs from the decided parent {expected}")]
    ParentHash { got: BlockHash, expected: BlockHash },
    #[error("timestamp {got} ms is not after the parent's {parent} ms")]
    TimestampNotMonotonic { got: u64, parent: u64 },
    #[error("timestamp {got} ms is more than {drift} ms ahead of local time {now} ms")]
    TimestampInFuture { got: u64, now: u64, drift: u64 },
    #[error("{count} transactions exceed the limit of {limit}")]
    TooManyTxs { count: u64, limit: u64 },
    #[error("body of {bytes} bytes exceeds the limit of {limit}")]
    TooManyBytes { bytes: u64, limit: u64 },
    #[error("gas limit sum {gas} exceeds the block gas limit {limit}")]
    TooMuchGas { gas: u64, limit: u64 },
    #[error("header gas limit sum {header} differs from the transactions' sum {actual}")]
    GasSumMismatch { header: u64, actual: u64 },
    #[error("header commitments differ from the body: {0}")]
    Commitment(String),
    #[error("claims and fraud proofs are not enabled in this protocol version")]
    ReservedSection,
    #[error("transaction {index} ({hash}) is invalid: {error}")]
    Tx {
        index: usize,
        hash: B256,
        error: TxError,
    },
    #[error("transaction {hash} appears twice, or was decided in an earlier block")]
    DuplicateTx { hash: B256 },
}

/// Checks the header alone against its parent, the limits and the local clock.
pub fn validate_header(
    header: &BlockHeader,
    parent: &ParentInfo,
    rules: &BlockRules,
    now_ms: u64,
) -> Result<(), BlockError> {
    if header.chain_id != rules.chain_id {
        return Err(BlockError::ChainId {
            got: header.chain_id,
            expected: rules.chain_id,
        });
    }
    if header.height != parent.height + 1 {
        return Err(BlockError::Height {
            got: header.height,
            parent: parent.height,
        });
    }
    if header.parent() != parent.hash {
        return Err(BlockError::ParentHash {
            got: header.parent(),
            expected: parent.hash,
        });
    }
    if header.timestamp_ms <= parent.timestamp_ms {
        return Err(BlockError::TimestampNotMonotonic {
            got: header.timestamp_ms,
            parent: parent.timestamp_ms,
        });
    }
    if header.timestamp_ms > now_ms.saturating_add(rules.max_timestamp_drift_ms) {
        return Err(BlockError::TimestampInFuture {
            got: header.timestamp_ms,
            now: now_ms,
            drift: rules.max_timestamp_drift_ms,
        });
    }
    if header.tx_count > rules.max_txs_per_block {
        return Err(BlockError::TooManyTxs {
            count: header.tx_count,
            limit: rules.max_txs_per_block,
        });
    }
    if header.body_bytes > rules.max_block_bytes {
        return Err(BlockError::TooManyBytes {
            bytes: header.body_bytes,
            limit: rules.max_block_bytes,
        });
    }
    if header.gas_limit_sum > rules.max_block_gas {
        return Err(BlockError::TooMuchGas {
            gas: header.gas_limit_sum,
            limit: rules.max_block_gas,
        });
    }
    Ok(())
}

/// What a validator knows about a transaction without executing anything.
pub trait TxLookup: Sync {
    /// This node already admitted a transaction with exactly these bytes (e.g. it is in the
    /// mempool), so its signature recovery, the expensive part, can be skipped.
    fn admitted(&self, hash: &B256) -> bool;
    /// A transaction with this hash is in an earlier decided block.
    fn decided(&self, hash: &B256) -> bool;
}

/// No knowledge: every signature is recovered and no transaction counts as decided.
pub struct NoLookup;

impl TxLookup for NoLookup {
    fn admitted(&self, _: &B256) -> bool {
        false
    }

    fn decided(&self, _: &B256) -> bool {
        false
    }
}

/// Full stateless validation of a block. Returns the transaction hashes in order.
pub fn validate_block(
    block: &Block,
    parent: &ParentInfo,
    rules: &BlockRules,
    now_ms: u64,
    lookup: &dyn TxLookup,
) -> Result<Vec<B256>, BlockError> {
    validate_header(&block.header, parent, rules, now_ms)?;
    if !block.body.claims.is_empty() || !block.body.fraud_proofs.is_empty() {
        return Err(BlockError::ReservedSection);
    }
    let c = block
        .body
        .commitments()
        .map_err(|e| BlockError::Commitment(e.to_string()))?;
    let h = &block.header;
    if c.tx_root != h.tx_root || c.tx_count != h.tx_count || c.body_bytes != h.body_bytes {
        return Err(BlockError::Commitment(
            "transaction root, count or byte length".into(),
        ));
    }
    if c.claims_root != h.claims_root || c.fraud_proofs_root != h.fraud_proofs_root {
        return Err(BlockError::Commitment("claims or fraud-proof root".into()));
    }

    let tx_rules = rules.tx_rules();
    let txs: Vec<&[u8]> = block.body.transactions().collect();
    let mut hashes = Vec::with_capacity(txs.len());
    let mut seen = HashSet::with_capacity(txs.len());
    let mut gas_sum = 0u64;
    let mut to_recover = Vec::new();
    for (index, raw) in txs.iter().enumerate() {
        let hash = tx_hash(raw);
        if !seen.insert(hash) || lookup.decided(&hash) {
            return Err(BlockError::DuplicateTx { hash });
        }
        let envelope =
            precheck(raw, &tx_rules).map_err(|error| BlockError::Tx { index, hash, error })?;
        gas_sum = gas_sum.saturating_add(envelope.gas_limit());
        if !lookup.admitted(&hash) {
            to_recover.push((index, hash, envelope));
        }
        hashes.push(hash);
    }
    if gas_sum != h.gas_limit_sum {
        return Err(BlockError::GasSumMismatch {
            header: h.gas_limit_sum,
            actual: gas_sum,
        });
    }
    recover_all(&to_recover)?;
    Ok(hashes)
}

/// Recovers every sender, spread over the available cores: recovery is the per-tx floor.
fn recover_all(txs: &[(usize, B256, alloy_consensus::TxEnvelope)]) -> Result<(), BlockError> {
    let check = |chunk: &[(usize, B256, alloy_consensus::TxEnvelope)]| {
        for (index, hash, envelope) in chunk {
            recover_sender(envelope).map_err(|error| BlockError::Tx {
                index: *index,
                hash: *hash,
                error,
            })?;
        }
        Ok(())
    };
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    if txs.len() < 64 || threads == 1 {
        return check(txs);
    }
    let chunk_len = txs.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = txs
            .chunks(chunk_len)
            .map(|chunk| s.spawn(move || check(chunk)))
            .collect();
        let mut result = Ok(());
        for handle in handles {
            let outcome = handle.join().unwrap_or_else(|_| {
                Err(BlockError::Commitment(
                    "signature recovery thread panicked".into(),
                ))
            });
            if result.is_ok() {
                result = outcome;
            }
        }
        result
    })
}
