//! The executor's state database: flat state, executed-block summaries, receipts, transaction
//! locations and traces, one redb write transaction per executed block.
//!
//! Commits are durable every `durable_every` blocks; the ones between are not fsynced
//! (`Durability::None`). After a crash the database opens at its last durable commit, a
//! consistent state at some height, and the executor re-executes from there: state is a
//! function of the data chain, so nothing decided is lost.

use std::collections::HashMap;
use std::path::Path;

use alloy_primitives::{Address, Bloom, Bytes, B256, U256};
use lazychain_exec_state_tree::StateTree;
use lazychain_exec_stf::keys::{value_hash, AccountValue, StateKey};
use lazychain_exec_stf::{
    BlockContext, BlockExecution, ChainParams, ReadError, Receipt, StateReader, StateWrites,
};
use redb::{Database, Durability, ReadOnlyTable, ReadableDatabase, ReadableTable};
use ssz_rs::prelude::*;

use crate::tables::{BLOCK_BY_HASH, EXECUTED, FLAT, META, RECEIPTS, TRACES, TX_LOCATIONS, UNDO};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("state database {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("state database: {0}")]
    Db(String),
    #[error("state database is corrupt: {0}")]
    Corrupt(String),
}

fn db_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Db(e.to_string())
}

/// What the executor keeps of each executed block: its EVM context and the roots it claims.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecutedBlock {
    pub height: u64,
    pub hash: B256,
    pub parent_hash: B256,
    pub timestamp: u64,
    pub beneficiary: Address,
    pub gas_limit: u64,
    pub gas_used: u64,
    pub base_fee: u64,
    pub tx_count: u64,
    pub tx_root: B256,
    pub body_bytes: u64,
    pub pre_state_root: B256,
    pub state_root: B256,
    pub receipts_root: B256,
    pub trace_root: B256,
    pub logs_bloom: Bloom,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, SimpleSerialize)]
struct ExecutedBlockSsz {
    height: u64,
    hash: Vector<u8, 32>,
    parent_hash: Vector<u8, 32>,
    timestamp: u64,
    beneficiary: Vector<u8, 20>,
    gas_limit: u64,
    gas_used: u64,
    base_fee: u64,
    tx_count: u64,
    tx_root: Vector<u8, 32>,
    body_bytes: u64,
    pre_state_root: Vector<u8, 32>,
    state_root: Vector<u8, 32>,
    receipts_root: Vector<u8, 32>,
    trace_root: Vector<u8, 32>,
    logs_bloom: Vector<u8, 256>,
}

/// A block's undo log: key path and the value before the block (`None`: absent).
pub type UndoLog = Vec<([u8; 32], Option<Vec<u8>>)>;

#[derive(Clone, Debug, Default, PartialEq, Eq, SimpleSerialize)]
struct UndoEntry {
    path: Vector<u8, 32>,
    existed: bool,
    old: List<u8, MAX_UNDO_VALUE>,
}

const MAX_UNDO_VALUE: usize = 1 << 24;
type UndoList = List<UndoEntry, MAX_UNDO_VALUE>;

/// The SSZ bytes of an [`UndoList`], written directly (`ssz_rs` handles byte lists one
/// element at a time, a third of a block's commit); tested against `ssz_rs`.
fn encode_undo(entries: &UndoLog) -> Vec<u8> {
    const FIXED: usize = 32 + 1 + 4;
    let size: usize = entries
        .iter()
        .map(|(_, old)| 4 + FIXED + old.as_ref().map_or(0, Vec::len))
        .sum();
    let mut out = Vec::with_capacity(size);
    let mut at = 4 * entries.len();
    for (_, old) in entries {
        out.extend_from_slice(&(at as u32).to_le_bytes());
        at += FIXED + old.as_ref().map_or(0, Vec::len);
    }
    for (path, old) in entries {
        out.extend_from_slice(path);
        out.push(u8::from(old.is_some()));
        out.extend_from_slice(&(FIXED as u32).to_le_bytes());
        if let Some(old) = old {
            out.extend_from_slice(old);
        }
    }
    out
}

fn vector<const N: usize>(bytes: &[u8]) -> Vector<u8, N> {
    Vector::try_from(bytes.to_vec()).unwrap_or_default()
}

impl ExecutedBlock {
    /// Height 0: the genesis state, before any block (hash zero).
    pub fn genesis(root: B256, timestamp: u64, params: &ChainParams) -> Self {
        ExecutedBlock {
            height: 0,
            hash: B256::ZERO,
            parent_hash: B256::ZERO,
            timestamp,
            beneficiary: Address::ZERO,
            gas_limit: params.block_gas_limit,
            gas_used: 0,
            base_fee: params.base_fee_per_gas,
            tx_count: 0,
            tx_root: B256::ZERO,
            body_bytes: 0,
            pre_state_root: root,
            state_root: root,
            receipts_root: lazychain_exec_stf::receipts_root(&[]),
            trace_root: lazychain_exec_stf::trace_root(&[]),
            logs_bloom: Bloom::ZERO,
        }
    }

    /// The summary of block `block` (with `tx_root` and `body_bytes` from its header) executed
    /// as `execution`.
    pub fn executed(
        block: &BlockContext,
        params: &ChainParams,
        tx_root: B256,
        body_bytes: u64,
        execution: &BlockExecution,
    ) -> Self {
        ExecutedBlock {
            height: block.height,
            hash: block.hash,
            parent_hash: block.parent_hash,
            timestamp: block.timestamp,
            beneficiary: block.beneficiary,
            gas_limit: params.block_gas_limit,
            gas_used: execution.gas_used,
            base_fee: block.base_fee,
            tx_count: execution.receipts.len() as u64,
            tx_root,
            body_bytes,
            pre_state_root: execution.pre_state_root,
            state_root: execution.post_state_root,
            receipts_root: execution.receipts_root,
            trace_root: execution.trace_root,
            logs_bloom: execution.logs_bloom,
        }
    }

    fn encode(&self) -> Vec<u8> {
        let wire = ExecutedBlockSsz {
            height: self.height,
            hash: vector(self.hash.as_slice()),
            parent_hash: vector(self.parent_hash.as_slice()),
            timestamp: self.timestamp,
            beneficiary: vector(self.beneficiary.as_slice()),
            gas_limit: self.gas_limit,
            gas_used: self.gas_used,
            base_fee: self.base_fee,
            tx_count: self.tx_count,
            tx_root: vector(self.tx_root.as_slice()),
            body_bytes: self.body_bytes,
            pre_state_root: vector(self.pre_state_root.as_slice()),
            state_root: vector(self.state_root.as_slice()),
            receipts_root: vector(self.receipts_root.as_slice()),
            trace_root: vector(self.trace_root.as_slice()),
            logs_bloom: vector(self.logs_bloom.as_slice()),
        };
        let mut out = Vec::with_capacity(512);
        // Fixed-size container: serialization cannot fail.
        let _ = wire.serialize(&mut out);
        out
    }

    fn decode(bytes: &[u8]) -> Result<Self, StoreError> {
        let w = ExecutedBlockSsz::deserialize(bytes)
            .map_err(|e| StoreError::Corrupt(format!("executed block: {e}")))?;
        Ok(ExecutedBlock {
            height: w.height,
            hash: B256::from_slice(&w.hash),
            parent_hash: B256::from_slice(&w.parent_hash),
            timestamp: w.timestamp,
            beneficiary: Address::from_slice(&w.beneficiary),
            gas_limit: w.gas_limit,
            gas_used: w.gas_used,
            base_fee: w.base_fee,
            tx_count: w.tx_count,
            tx_root: B256::from_slice(&w.tx_root),
            body_bytes: w.body_bytes,
            pre_state_root: B256::from_slice(&w.pre_state_root),
            state_root: B256::from_slice(&w.state_root),
            receipts_root: B256::from_slice(&w.receipts_root),
            trace_root: B256::from_slice(&w.trace_root),
            logs_bloom: Bloom::from_slice(&w.logs_bloom),
        })
    }
}

fn location_key(height: u64, index: u32) -> [u8; 12] {
    let mut key = [0u8; 12];
    key[..8].copy_from_slice(&height.to_be_bytes());
    key[8..].copy_from_slice(&index.to_be_bytes());
    key
}

fn split_location(key: &[u8; 12]) -> (u64, u32) {
    let mut h = [0u8; 8];
    let mut i = [0u8; 4];
    h.copy_from_slice(&key[..8]);
    i.copy_from_slice(&key[8..]);
    (u64::from_be_bytes(h), u32::from_be_bytes(i))
}

const EXECUTED_HEIGHT: &str = "executed_height";
const GENESIS_ROOT: &str = "genesis_root";

pub struct StateStore {
    db: Database,
}

impl StateStore {
    /// Opens (or creates) the state store. `cache_bytes` bounds redb's page cache
    /// (`storage.state_cache_mib`): redb keeps every page it reads or writes there until full
    /// (its default is 1 GiB), so this is the memory the store grows to.
    pub fn open(path: &Path, cache_bytes: usize) -> Result<Self, StoreError> {
        let open_err = |reason: String| StoreError::Open {
            path: path.display().to_string(),
            reason,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
        }
        let db = Database::builder()
            .set_cache_size(cache_bytes)
            .create(path)
            .map_err(|e| open_err(e.to_string()))?;
        let txn = db.begin_write().map_err(|e| open_err(e.to_string()))?;
        for table in [EXECUTED, TRACES, UNDO] {
            txn.open_table(table).map_err(|e| open_err(e.to_string()))?;
        }
        txn.open_table(FLAT).map_err(|e| open_err(e.to_string()))?;
        txn.open_table(BLOCK_BY_HASH)
            .map_err(|e| open_err(e.to_string()))?;
        txn.open_table(RECEIPTS)
            .map_err(|e| open_err(e.to_string()))?;
        txn.open_table(TX_LOCATIONS)
            .map_err(|e| open_err(e.to_string()))?;
        txn.open_table(META).map_err(|e| open_err(e.to_string()))?;
        txn.commit().map_err(|e| open_err(e.to_string()))?;
        Ok(StateStore { db })
    }

    /// The last executed height, `None` before genesis was written.
    pub fn executed_height(&self) -> Result<Option<u64>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let meta = txn.open_table(META).map_err(db_err)?;
        let Some(v) = meta.get(EXECUTED_HEIGHT).map_err(db_err)? else {
            return Ok(None);
        };
        let bytes: [u8; 8] = v
            .value()
            .try_into()
            .map_err(|_| StoreError::Corrupt("executed_height is not 8 bytes".into()))?;
        Ok(Some(u64::from_be_bytes(bytes)))
    }

    /// The genesis state root recorded when the database was initialised.
    pub fn genesis_root(&self) -> Result<Option<B256>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let meta = txn.open_table(META).map_err(db_err)?;
        Ok(meta
            .get(GENESIS_ROOT)
            .map_err(db_err)?
            .map(|v| B256::from_slice(v.value())))
    }

    /// Writes the genesis state as height 0, durably.
    pub fn init_genesis(
        &self,
        writes: &StateWrites,
        block: &ExecutedBlock,
    ) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(db_err)?;
        {
            let mut flat = txn.open_table(FLAT).map_err(db_err)?;
            for (key, value) in writes.entries() {
                if let Some(v) = value {
                    flat.insert(&key.path(), v.as_slice()).map_err(db_err)?;
                }
            }
            let mut executed = txn.open_table(EXECUTED).map_err(db_err)?;
            executed
                .insert(0, block.encode().as_slice())
                .map_err(db_err)?;
            let mut meta = txn.open_table(META).map_err(db_err)?;
            meta.insert(EXECUTED_HEIGHT, 0u64.to_be_bytes().as_slice())
                .map_err(db_err)?;
            meta.insert(GENESIS_ROOT, block.state_root.as_slice())
                .map_err(db_err)?;
        }
        txn.commit().map_err(db_err)
    }

    /// Rebuilds the state tree from the flat state (internal nodes live in memory only).
    pub fn load_tree(&self) -> Result<StateTree, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let flat = txn.open_table(FLAT).map_err(db_err)?;
        let mut leaves = Vec::new();
        for entry in flat.iter().map_err(db_err)? {
            let (k, v) = entry.map_err(db_err)?;
            leaves.push((*k.value(), value_hash(v.value())));
        }
        Ok(StateTree::from_leaves(leaves))
    }

    /// A consistent view of the state as of the last commit.
    pub fn snapshot(&self) -> Result<StateSnapshot, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        Ok(StateSnapshot {
            flat: txn.open_table(FLAT).map_err(db_err)?,
            executed: txn.open_table(EXECUTED).map_err(db_err)?,
            undone: None,
        })
    }

    /// Persists an executed block in one transaction: flat-state writes, the block summary,
    /// receipts, transaction locations, the trace and the executed height.
    /// `undo_window` > 0 also records the block's undo log and drops the one that many
    /// heights older.
    pub fn commit_block(
        &self,
        block: &ExecutedBlock,
        execution: &BlockExecution,
        durable: bool,
        undo_window: u64,
    ) -> Result<(), StoreError> {
        let mut txn = self.db.begin_write().map_err(db_err)?;
        if !durable {
            txn.set_durability(Durability::None).map_err(db_err)?;
        }
        {
            let mut flat = txn.open_table(FLAT).map_err(db_err)?;
            let mut undo: UndoLog = Vec::new();
            for (key, value) in execution.writes.entries() {
                let path = key.path();
                let old = match value {
                    Some(v) => flat.insert(&path, v.as_slice()).map_err(db_err)?,
                    None => flat.remove(&path).map_err(db_err)?,
                };
                if undo_window > 0 {
                    undo.push((path, old.map(|g| g.value().to_vec())));
                }
            }
            if undo_window > 0 {
                let mut table = txn.open_table(UNDO).map_err(db_err)?;
                table
                    .insert(block.height, encode_undo(&undo).as_slice())
                    .map_err(db_err)?;
                if let Some(old) = block.height.checked_sub(undo_window) {
                    table.remove(old).map_err(db_err)?;
                }
            }
            let mut executed = txn.open_table(EXECUTED).map_err(db_err)?;
            executed
                .insert(block.height, block.encode().as_slice())
                .map_err(db_err)?;
            let mut by_hash = txn.open_table(BLOCK_BY_HASH).map_err(db_err)?;
            by_hash
                .insert(&block.hash.0, block.height)
                .map_err(db_err)?;
            let mut receipts = txn.open_table(RECEIPTS).map_err(db_err)?;
            let mut locations = txn.open_table(TX_LOCATIONS).map_err(db_err)?;
            for (i, (receipt, encoded)) in execution
                .receipts
                .iter()
                .zip(&execution.encoded_receipts)
                .enumerate()
            {
                let key = location_key(block.height, i as u32);
                receipts.insert(&key, encoded.as_slice()).map_err(db_err)?;
                locations.insert(&receipt.tx_hash.0, &key).map_err(db_err)?;
            }
            let mut traces = txn.open_table(TRACES).map_err(db_err)?;
            let trace: Vec<u8> = execution.trace.iter().flat_map(|r| r.0).collect();
            traces
                .insert(block.height, trace.as_slice())
                .map_err(db_err)?;
            let mut meta = txn.open_table(META).map_err(db_err)?;
            meta.insert(EXECUTED_HEIGHT, block.height.to_be_bytes().as_slice())
                .map_err(db_err)?;
        }
        txn.commit().map_err(db_err)
    }

    /// The undo log of `height`: every key the block wrote, with its value before the block.
    pub fn undo_log(&self, height: u64) -> Result<Option<UndoLog>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(UNDO).map_err(db_err)?;
        let Some(v) = table.get(height).map_err(db_err)? else {
            return Ok(None);
        };
        let list = UndoList::deserialize(v.value())
            .map_err(|e| StoreError::Corrupt(format!("undo log {height}: {e}")))?;
        Ok(Some(
            list.iter()
                .map(|e| {
                    let mut path = [0u8; 32];
                    path.copy_from_slice(&e.path);
                    (path, e.existed.then(|| e.old.to_vec()))
                })
                .collect(),
        ))
    }

    pub fn executed_block(&self, height: u64) -> Result<Option<ExecutedBlock>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(EXECUTED).map_err(db_err)?;
        table
            .get(height)
            .map_err(db_err)?
            .map(|v| ExecutedBlock::decode(v.value()))
            .transpose()
    }

    pub fn height_of_hash(&self, hash: &B256) -> Result<Option<u64>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(BLOCK_BY_HASH).map_err(db_err)?;
        Ok(table.get(&hash.0).map_err(db_err)?.map(|v| v.value()))
    }

    pub fn tx_location(&self, hash: &B256) -> Result<Option<(u64, u32)>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(TX_LOCATIONS).map_err(db_err)?;
        Ok(table
            .get(&hash.0)
            .map_err(db_err)?
            .map(|v| split_location(v.value())))
    }

    pub fn receipt(&self, height: u64, index: u32) -> Result<Option<Receipt>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(RECEIPTS).map_err(db_err)?;
        table
            .get(&location_key(height, index))
            .map_err(db_err)?
            .map(|v| Receipt::decode(v.value()).map_err(|e| StoreError::Corrupt(e.to_string())))
            .transpose()
    }

    /// Every receipt of a block, in order.
    pub fn receipts(&self, height: u64) -> Result<Vec<Receipt>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(RECEIPTS).map_err(db_err)?;
        let from = location_key(height, 0);
        let to = location_key(height, u32::MAX);
        let mut out = Vec::new();
        for entry in table.range::<&[u8; 12]>(&from..=&to).map_err(db_err)? {
            let (_, v) = entry.map_err(db_err)?;
            out.push(Receipt::decode(v.value()).map_err(|e| StoreError::Corrupt(e.to_string()))?);
        }
        Ok(out)
    }

    pub fn trace(&self, height: u64) -> Result<Option<Vec<B256>>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(TRACES).map_err(db_err)?;
        Ok(table
            .get(height)
            .map_err(db_err)?
            .map(|v| v.value().chunks_exact(32).map(B256::from_slice).collect()))
    }
}

/// A read transaction over the flat state: what execution and RPC calls read. With undo
/// values laid over it ([`StateSnapshot::rolled_back`]) it is the state before a recent block.
pub struct StateSnapshot {
    flat: ReadOnlyTable<&'static [u8; 32], &'static [u8]>,
    executed: ReadOnlyTable<u64, &'static [u8]>,
    undone: Option<HashMap<[u8; 32], Option<Vec<u8>>>>,
}

impl StateSnapshot {
    /// This snapshot with `undone` (key path -> value before, `None`: absent) read first.
    pub fn rolled_back(mut self, undone: HashMap<[u8; 32], Option<Vec<u8>>>) -> Self {
        self.undone = Some(undone);
        self
    }

    fn get(&self, key: StateKey) -> Result<Option<Vec<u8>>, ReadError> {
        let path = key.path();
        if let Some(value) = self.undone.as_ref().and_then(|u| u.get(&path)) {
            return Ok(value.clone());
        }
        self.flat
            .get(&path)
            .map(|v| v.map(|v| v.value().to_vec()))
            .map_err(|e| ReadError(e.to_string()))
    }
}

impl StateReader for StateSnapshot {
    fn account(&self, address: &Address) -> Result<Option<AccountValue>, ReadError> {
        match self.get(StateKey::Account(*address))? {
            None => Ok(None),
            Some(bytes) => AccountValue::decode(&bytes)
                .map(Some)
                .ok_or_else(|| ReadError(format!("account {address}: {} bytes", bytes.len()))),
        }
    }

    fn storage(&self, address: &Address, slot: &U256) -> Result<U256, ReadError> {
        Ok(self
            .get(StateKey::Storage(*address, *slot))?
            .map(|b| U256::from_be_slice(&b))
            .unwrap_or_default())
    }

    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, ReadError> {
        Ok(self.get(StateKey::Code(*code_hash))?.map(Bytes::from))
    }

    fn block_hash(&self, height: u64) -> Result<B256, ReadError> {
        let block = self
            .executed
            .get(height)
            .map_err(|e| ReadError(e.to_string()))?;
        match block {
            None => Ok(B256::ZERO),
            Some(v) => ExecutedBlock::decode(v.value())
                .map(|b| b.hash)
                .map_err(|e| ReadError(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undo_encoding_matches_ssz_rs() {
        for n in [0usize, 1, 2, 5] {
            let log: UndoLog = (0..n)
                .map(|i| ([i as u8; 32], (i % 2 == 0).then(|| vec![i as u8; i * 13])))
                .collect();
            let mut list = UndoList::default();
            for (path, old) in &log {
                list.push(UndoEntry {
                    path: vector(path),
                    existed: old.is_some(),
                    old: List::try_from(old.clone().unwrap_or_default()).expect("fits"),
                });
            }
            let mut expected = Vec::new();
            list.serialize(&mut expected).expect("serializes");
            assert_eq!(encode_undo(&log), expected, "{n} entries");
        }
    }
}
