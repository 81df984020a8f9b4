//! The state at height 0: the genesis allocation as flat state and its tree.

use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use lazychain_exec_state_tree::StateTree;
use revm::primitives::KECCAK_EMPTY;

use crate::keys::{value_hash, AccountValue};
use crate::state::{MemoryState, StateWrites};

/// One prefunded account of the genesis allocation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllocAccount {
    pub address: Address,
    pub balance: U256,
    pub nonce: u64,
    pub code: Bytes,
    pub storage: Vec<(B256, B256)>,
}

/// The genesis allocation as writes over an empty state (empty accounts and zero slots are
/// left out, as execution would).
pub fn genesis_writes(alloc: &[AllocAccount]) -> StateWrites {
    let mut writes = StateWrites::default();
    for account in alloc {
        let code_hash = if account.code.is_empty() {
            KECCAK_EMPTY
        } else {
            let hash = keccak256(&account.code);
            writes.code.insert(hash, Some(account.code.clone()));
            hash
        };
        let value = AccountValue {
            nonce: account.nonce,
            balance: account.balance,
            code_hash,
        };
        if !value.is_empty() {
            writes.accounts.insert(account.address, Some(value));
        }
        for (slot, v) in &account.storage {
            let v = U256::from_be_bytes(v.0);
            if !v.is_zero() {
                writes
                    .storage
                    .insert((account.address, U256::from_be_bytes(slot.0)), v);
            }
        }
    }
    writes
}

/// The state tree of a set of writes applied to the empty state.
pub fn tree_of(writes: &StateWrites) -> StateTree {
    StateTree::from_leaves(
        writes
            .entries()
            .into_iter()
            .filter_map(|(key, value)| value.map(|v| (key.path(), value_hash(&v)))),
    )
}

/// The genesis state in memory with its tree (tests, benchmarks).
pub fn genesis_memory_state(alloc: &[AllocAccount]) -> (MemoryState, StateTree) {
    let writes = genesis_writes(alloc);
    let mut state = MemoryState::default();
    state.apply(&writes);
    let tree = tree_of(&writes);
    (state, tree)
}
