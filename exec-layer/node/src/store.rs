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

use crate::tables::{
    BLOCK_BY_HASH, EXECUTED, FLAT, HISTORY, META, RECEIPTS, TRACES, TX_LOCATIONS, UNDO,
};

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

/// The key paths of an encoded undo log ([`encode_undo`]'s layout: offsets, then each entry
/// opening with its path), without decoding the values.
fn undo_paths(bytes: &[u8]) -> Result<Vec<[u8; 32]>, StoreError> {
    let corrupt = || StoreError::Corrupt("undo log: bad offsets".into());
    let offset = |i: usize| -> Result<usize, StoreError> {
        let at = bytes.get(4 * i..4 * i + 4).ok_or_else(corrupt)?;
        let mut le = [0u8; 4];
        le.copy_from_slice(at);
        Ok(u32::from_le_bytes(le) as usize)
    };
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    let first = offset(0)?;
    if first % 4 != 0 || first > bytes.len() {
        return Err(corrupt());
    }
    let mut paths = Vec::with_capacity(first / 4);
    for i in 0..first / 4 {
        let at = offset(i)?;
        let path = bytes.get(at..at + 32).ok_or_else(corrupt)?;
        let mut p = [0u8; 32];
        p.copy_from_slice(path);
        paths.push(p);
    }
    Ok(paths)
}

fn history_key(path: &[u8; 32], height: u64) -> [u8; 40] {
    let mut key = [0u8; 40];
    key[..32].copy_from_slice(path);
    key[32..].copy_from_slice(&height.to_be_bytes());
    key
}

fn history_value(old: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + old.map_or(0, <[u8]>::len));
    out.push(u8::from(old.is_some()));
    out.extend_from_slice(old.unwrap_or_default());
    out
}

/// Most old heights one commit prunes: a window made smaller across a restart shrinks a few
/// blocks at a time rather than in one long commit.
const PRUNE_PER_COMMIT: usize = 8;

const EXECUTED_HEIGHT: &str = "executed_height";
const GENESIS_ROOT: &str = "genesis_root";
const HISTORY_SINCE: &str = "history_since";

/// Which heights' state a store can serve: `oldest..=latest`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateWindow {
    pub oldest: u64,
    pub latest: u64,
}

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
        txn.open_table(HISTORY)
            .map_err(|e| open_err(e.to_string()))?;
        {
            let mut meta = txn.open_table(META).map_err(|e| open_err(e.to_string()))?;
            let executed = meta
                .get(EXECUTED_HEIGHT)
                .map_err(|e| open_err(e.to_string()))?
                .map(|v| be_u64(v.value()))
                .transpose()
                .map_err(|e| open_err(e.to_string()))?;
            let since = meta
                .get(HISTORY_SINCE)
                .map_err(|e| open_err(e.to_string()))?
                .is_some();
            // A database written before the history table: nothing executed so far is
            // indexed, so history starts with the next block.
            if let (Some(executed), false) = (executed, since) {
                meta.insert(HISTORY_SINCE, (executed + 1).to_be_bytes().as_slice())
                    .map_err(|e| open_err(e.to_string()))?;
            }
        }
        txn.commit().map_err(|e| open_err(e.to_string()))?;
        Ok(StateStore { db })
    }

    /// The last executed height, `None` before genesis was written.
    pub fn executed_height(&self) -> Result<Option<u64>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let meta = txn.open_table(META).map_err(db_err)?;
        meta.get(EXECUTED_HEIGHT)
            .map_err(db_err)?
            .map(|v| be_u64(v.value()))
            .transpose()
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
            meta.insert(HISTORY_SINCE, 1u64.to_be_bytes().as_slice())
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
            history: None,
        })
    }

    /// The state after block `height`, read through the history table; `Err(window)` when
    /// `height` is outside the heights this store can serve.
    pub fn snapshot_at(
        &self,
        height: u64,
    ) -> Result<Result<StateSnapshot, StateWindow>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let window = window_of(&txn)?;
        if height < window.oldest || height > window.latest {
            return Ok(Err(window));
        }
        let history = if height == window.latest {
            None
        } else {
            Some((txn.open_table(HISTORY).map_err(db_err)?, height))
        };
        Ok(Ok(StateSnapshot {
            flat: txn.open_table(FLAT).map_err(db_err)?,
            executed: txn.open_table(EXECUTED).map_err(db_err)?,
            undone: None,
            history,
        }))
    }

    /// The heights whose state [`StateStore::snapshot_at`] serves now.
    pub fn state_window(&self) -> Result<StateWindow, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        window_of(&txn)
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
            let mut history = txn.open_table(HISTORY).map_err(db_err)?;
            let mut undo: UndoLog = Vec::new();
            for (key, value) in execution.writes.entries() {
                let path = key.path();
                let old = match value {
                    Some(v) => flat.insert(&path, v.as_slice()).map_err(db_err)?,
                    None => flat.remove(&path).map_err(db_err)?,
                };
                if undo_window > 0 {
                    let old = old.map(|g| g.value().to_vec());
                    history
                        .insert(
                            &history_key(&path, block.height),
                            history_value(old.as_deref()).as_slice(),
                        )
                        .map_err(db_err)?;
                    undo.push((path, old));
                }
            }
            let mut table = txn.open_table(UNDO).map_err(db_err)?;
            if undo_window > 0 {
                table
                    .insert(block.height, encode_undo(&undo).as_slice())
                    .map_err(db_err)?;
            }
            // Heights at or below the cutoff leave the window, with their history.
            let cutoff = block.height.saturating_sub(undo_window.max(1));
            for _ in 0..PRUNE_PER_COMMIT {
                let Some((height, paths)) = (match table.first().map_err(db_err)? {
                    Some((k, v)) if k.value() <= cutoff => {
                        Some((k.value(), undo_paths(v.value())?))
                    }
                    _ => None,
                }) else {
                    break;
                };
                table.remove(height).map_err(db_err)?;
                for path in paths {
                    history
                        .remove(&history_key(&path, height))
                        .map_err(db_err)?;
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
            if undo_window == 0 {
                // No history of this block: none may be served across it later.
                meta.insert(HISTORY_SINCE, (block.height + 1).to_be_bytes().as_slice())
                    .map_err(db_err)?;
            }
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

fn be_u64(bytes: &[u8]) -> Result<u64, StoreError> {
    let bytes: [u8; 8] = bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt("a height in meta is not 8 bytes".into()))?;
    Ok(u64::from_be_bytes(bytes))
}

/// The heights a read transaction's history reaches: back to the block before the oldest
/// undo log, and no further back than history was recorded.
fn window_of(txn: &redb::ReadTransaction) -> Result<StateWindow, StoreError> {
    let meta = txn.open_table(META).map_err(db_err)?;
    let height_of = |key: &str| -> Result<Option<u64>, StoreError> {
        meta.get(key)
            .map_err(db_err)?
            .map(|v| be_u64(v.value()))
            .transpose()
    };
    let latest = height_of(EXECUTED_HEIGHT)?.unwrap_or(0);
    let since = height_of(HISTORY_SINCE)?.unwrap_or(latest + 1);
    let undo = txn.open_table(UNDO).map_err(db_err)?;
    let first_undo = undo
        .first()
        .map_err(db_err)?
        .map_or(latest + 1, |(k, _)| k.value());
    // History of every block above `oldest` is needed: from `max(since, first_undo)` on.
    let oldest = since.max(first_undo).saturating_sub(1).min(latest);
    Ok(StateWindow { oldest, latest })
}

/// A read transaction over the flat state: what execution and RPC calls read. With undo
/// values laid over it ([`StateSnapshot::rolled_back`]) it is the state before a recent block;
/// through the history table ([`StateStore::snapshot_at`]), the state after a recent block.
pub struct StateSnapshot {
    flat: ReadOnlyTable<&'static [u8; 32], &'static [u8]>,
    executed: ReadOnlyTable<u64, &'static [u8]>,
    undone: Option<HashMap<[u8; 32], Option<Vec<u8>>>>,
    /// The history table, and the height whose state is read through it.
    history: Option<(HistoryTable, u64)>,
}

type HistoryTable = ReadOnlyTable<&'static [u8; 40], &'static [u8]>;

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
        if let Some((history, height)) = &self.history {
            // The first block after `height` that wrote the key recorded its value then.
            let from = history_key(&path, height + 1);
            let to = history_key(&path, u64::MAX);
            let mut range = history
                .range::<&[u8; 40]>(&from..=&to)
                .map_err(|e| ReadError(e.to_string()))?;
            if let Some(entry) = range.next() {
                let (_, v) = entry.map_err(|e| ReadError(e.to_string()))?;
                return match v.value().split_first() {
                    Some((0, _)) => Ok(None),
                    Some((_, old)) => Ok(Some(old.to_vec())),
                    None => Err(ReadError("state history entry is empty".into())),
                };
            }
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

    fn summary(height: u64) -> ExecutedBlock {
        ExecutedBlock {
            height,
            hash: B256::repeat_byte(height as u8),
            parent_hash: B256::ZERO,
            timestamp: height,
            beneficiary: Address::ZERO,
            gas_limit: 0,
            gas_used: 0,
            base_fee: 0,
            tx_count: 0,
            tx_root: B256::ZERO,
            body_bytes: 0,
            pre_state_root: B256::ZERO,
            state_root: B256::ZERO,
            receipts_root: B256::ZERO,
            trace_root: B256::ZERO,
            logs_bloom: Bloom::ZERO,
        }
    }

    fn execution(writes: StateWrites) -> BlockExecution {
        BlockExecution {
            receipts: Vec::new(),
            encoded_receipts: Vec::new(),
            trace: Vec::new(),
            trace_root: B256::ZERO,
            pre_state_root: B256::ZERO,
            post_state_root: B256::ZERO,
            receipts_root: B256::ZERO,
            writes,
            gas_used: 0,
            logs_bloom: Bloom::ZERO,
        }
    }

    fn account(nonce: u64) -> AccountValue {
        AccountValue {
            nonce,
            balance: U256::from(nonce * 10),
            ..Default::default()
        }
    }

    /// What the state should read after block `h` of [`history_flow`]: account A's nonce is
    /// `h`; slot S of A is 7 from block 2 and deleted at block 4; account B exists from block 3
    /// on.
    fn expected(h: u64) -> (Option<AccountValue>, U256, Option<AccountValue>) {
        let a = (h > 0).then(|| account(h));
        let slot = if (2..4).contains(&h) {
            U256::from(7)
        } else {
            U256::ZERO
        };
        let b = (h >= 3).then(|| account(1));
        (a, slot, b)
    }

    const A: Address = Address::repeat_byte(0xaa);
    const B: Address = Address::repeat_byte(0xbb);

    fn history_flow(store: &StateStore, blocks: u64, window: u64) {
        store
            .init_genesis(&StateWrites::default(), &summary(0))
            .expect("genesis");
        for h in 1..=blocks {
            let mut writes = StateWrites::default();
            writes.accounts.insert(A, Some(account(h)));
            match h {
                2 => {
                    writes.storage.insert((A, U256::from(1)), U256::from(7));
                }
                3 => {
                    writes.accounts.insert(B, Some(account(1)));
                }
                4 => {
                    writes.storage.insert((A, U256::from(1)), U256::ZERO);
                }
                _ => {}
            }
            store
                .commit_block(&summary(h), &execution(writes), h % 2 == 0, window)
                .expect("commit");
        }
    }

    fn read(snap: &StateSnapshot) -> (Option<AccountValue>, U256, Option<AccountValue>) {
        (
            snap.account(&A).expect("account"),
            snap.storage(&A, &U256::from(1)).expect("slot"),
            snap.account(&B).expect("account"),
        )
    }

    #[test]
    fn state_at_every_height_of_the_window_is_the_state_after_that_block() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = StateStore::open(&dir.path().join("state.redb"), 4 << 20).expect("open");
        history_flow(&store, 5, 16);
        assert_eq!(
            store.state_window().expect("window"),
            StateWindow {
                oldest: 0,
                latest: 5
            }
        );
        for h in 0..=5 {
            let snap = store.snapshot_at(h).expect("read").expect("in the window");
            assert_eq!(read(&snap), expected(h), "after block {h}");
        }
        assert!(store.snapshot_at(6).expect("read").is_err());
    }

    #[test]
    fn heights_leaving_the_window_take_their_history_with_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = StateStore::open(&dir.path().join("state.redb"), 4 << 20).expect("open");
        history_flow(&store, 6, 3);
        // Undo logs of blocks 4..=6 remain: the state after block 3 is the oldest.
        let window = store.state_window().expect("window");
        assert_eq!(
            window,
            StateWindow {
                oldest: 3,
                latest: 6
            }
        );
        for h in 0..3 {
            assert_eq!(store.snapshot_at(h).expect("read").err(), Some(window));
        }
        for h in 3..=6 {
            let snap = store.snapshot_at(h).expect("read").expect("in the window");
            assert_eq!(read(&snap), expected(h), "after block {h}");
        }
        // Blocks 4, 5 and 6 wrote account A, and block 4 slot S: four history entries.
        let txn = store.db.begin_read().expect("txn");
        let history = txn.open_table(HISTORY).expect("table");
        assert_eq!(redb::ReadableTableMetadata::len(&history).expect("len"), 4);
    }

    #[test]
    fn a_database_from_before_the_history_table_serves_only_what_comes_after() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.redb");
        {
            let store = StateStore::open(&path, 4 << 20).expect("open");
            history_flow(&store, 4, 16);
            let txn = store.db.begin_write().expect("txn");
            txn.open_table(META)
                .expect("meta")
                .remove(HISTORY_SINCE)
                .expect("remove");
            txn.delete_table(HISTORY).expect("delete");
            txn.commit().expect("commit");
        }
        let store = StateStore::open(&path, 4 << 20).expect("reopen");
        let window = store.state_window().expect("window");
        assert_eq!(window.oldest, 4);
        assert_eq!(store.snapshot_at(3).expect("read").err(), Some(window));
        store
            .commit_block(&summary(5), &execution(StateWrites::default()), true, 16)
            .expect("commit");
        assert_eq!(store.state_window().expect("window").oldest, 4);
    }

    #[test]
    fn undo_paths_reads_the_paths_of_an_encoded_log() {
        let log: UndoLog = (0..4u8)
            .map(|i| ([i; 32], (i % 2 == 0).then(|| vec![i; 40])))
            .collect();
        let paths: Vec<[u8; 32]> = log.iter().map(|(p, _)| *p).collect();
        assert_eq!(undo_paths(&encode_undo(&log)).expect("paths"), paths);
        assert!(undo_paths(&encode_undo(&Vec::new()))
            .expect("paths")
            .is_empty());
        assert!(undo_paths(&[9, 0, 0, 0]).is_err());
    }

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
