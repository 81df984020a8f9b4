//! Every write of an executed block, transaction by transaction: what a prover needs to
//! rebuild the state before any transaction of that block without executing it again.
//!
//! The state before transaction `i` differs from the state after the block only in the keys
//! that transactions `i..` wrote; each of those holds the last value transactions `0..i`
//! wrote, or else its value before the block. So rolling back from the state after the block
//! costs one tree update over those keys, whatever the EVM spent.

use std::collections::HashMap;

use alloy_primitives::{Address, Bytes, B256, U256};
use lazychain_exec_state_tree::Op;

use crate::keys::{storage_value_bytes, value_hash, AccountValue, StateKey};
use crate::state::{ReadError, StateReader, StateWrites};

/// One write to the flat state (`None` and zero delete).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxWrite {
    Account(Address, Option<AccountValue>),
    Storage(Address, U256, U256),
    Code(B256, Bytes),
}

impl TxWrite {
    /// The flat key written.
    pub fn key(&self) -> StateKey {
        match self {
            TxWrite::Account(a, _) => StateKey::Account(*a),
            TxWrite::Storage(a, s, _) => StateKey::Storage(*a, *s),
            TxWrite::Code(h, _) => StateKey::Code(*h),
        }
    }

    /// The write as a state-tree op (`None` deletes).
    pub fn op(&self) -> Op {
        (self.key().path(), Value::of(self).hash())
    }
}

/// The value of one key at some point: what a rollback sets it back to.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Value {
    Account(Option<AccountValue>),
    Storage(U256),
    Code(Option<Bytes>),
}

impl Value {
    fn of(write: &TxWrite) -> Value {
        match write {
            TxWrite::Account(_, v) => Value::Account(*v),
            TxWrite::Storage(_, _, v) => Value::Storage(*v),
            TxWrite::Code(_, c) => Value::Code(Some(c.clone())),
        }
    }

    fn hash(&self) -> Option<[u8; 32]> {
        match self {
            Value::Account(v) => v.map(|v| value_hash(&v.encode())),
            Value::Storage(v) => (!v.is_zero()).then(|| value_hash(&storage_value_bytes(v))),
            Value::Code(c) => c.as_ref().map(|c| value_hash(c)),
        }
    }
}

/// The writes of a block's transactions, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TxWriteLog {
    writes: Vec<TxWrite>,
    /// `ends[i]` = the number of writes of transactions `0..=i`.
    ends: Vec<u32>,
}

impl TxWriteLog {
    pub(crate) fn push(&mut self, write: TxWrite) {
        self.writes.push(write);
    }

    /// Closes the current transaction's writes.
    pub(crate) fn end_tx(&mut self) {
        self.ends.push(self.writes.len() as u32);
    }

    /// Transactions logged.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The writes of transaction `index`.
    pub fn tx(&self, index: usize) -> &[TxWrite] {
        let start = index
            .checked_sub(1)
            .and_then(|p| self.ends.get(p))
            .copied()
            .unwrap_or(0) as usize;
        let end = self.ends.get(index).copied().unwrap_or(start as u32) as usize;
        &self.writes[start..end.max(start)]
    }

    /// What rolls the state after the block back to the state before transaction `index`
    /// (`index <= len`): the value before `index` of every key transactions `index..` wrote,
    /// as writes for an [`crate::Overlay`] over the state after the block, and as tree ops.
    /// `before_block` is the state before the block (read only for keys no earlier
    /// transaction wrote).
    ///
    /// Code first deployed at or after `index` is absent before it: the overlay says so
    /// (`None`), exactly as the tree ops remove it, so a witness taken over the overlay
    /// agrees with the rolled-back tree.
    pub fn rollback_to<R: StateReader>(
        &self,
        index: usize,
        before_block: &R,
    ) -> Result<(StateWrites, Vec<Op>), ReadError> {
        let split = index
            .checked_sub(1)
            .and_then(|p| self.ends.get(p))
            .copied()
            .unwrap_or(0) as usize;
        let split = split.min(self.writes.len());
        let mut values: HashMap<StateKey, Option<Value>> = HashMap::new();
        for write in &self.writes[split..] {
            values.entry(write.key()).or_insert(None);
        }
        // The last write before `index` wins.
        for write in &self.writes[..split] {
            if let Some(slot) = values.get_mut(&write.key()) {
                *slot = Some(Value::of(write));
            }
        }
        let mut writes = StateWrites::default();
        let mut ops = Vec::with_capacity(values.len());
        for (key, value) in values {
            let value = match value {
                Some(v) => v,
                None => match key {
                    StateKey::Account(a) => Value::Account(before_block.account(&a)?),
                    StateKey::Storage(a, s) => Value::Storage(before_block.storage(&a, &s)?),
                    StateKey::Code(h) => Value::Code(before_block.code(&h)?),
                },
            };
            ops.push((key.path(), value.hash()));
            match (key, value) {
                (StateKey::Account(a), Value::Account(v)) => {
                    writes.accounts.insert(a, v);
                }
                (StateKey::Storage(a, s), Value::Storage(v)) => {
                    writes.storage.insert((a, s), v);
                }
                (StateKey::Code(h), Value::Code(c)) => {
                    writes.code.insert(h, c);
                }
                _ => {}
            }
        }
        Ok((writes, ops))
    }
}
