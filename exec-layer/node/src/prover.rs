//! Rebuilding the state before a recent transaction, to prove fraud about it.
//!
//! The executor keeps only the latest state, plus an undo log per recent block (the value of
//! every key the block wrote, before it). Rolling the latest flat state and tree back through
//! those logs gives the state before any recent block; re-executing that block's first `i`
//! transactions gives the state before transaction `i`, where the transaction's witness is
//! taken. For the blocks it executed since it started, the executor also keeps each block's
//! write log, transaction by transaction ([`TxWriteLog`]): rolling the state after the block
//! back through the writes of transactions `i..` gives the same state without executing.

use std::collections::HashMap;

use alloy_primitives::B256;
use lazychain_exec_state_tree::{Op, StateTree};
use lazychain_exec_stf::keys::value_hash;
use lazychain_exec_stf::state::Overlay;
use lazychain_exec_stf::witness::{witness_for_tx, TxWitness};
use lazychain_exec_stf::{
    execute_prefix, BlockContext, ChainParams, ExecError, PreparedTx, ReadError, TxWriteLog,
};

use crate::store::{StateSnapshot, StateStore, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ProverError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Exec(#[from] ExecError),
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("height {height} is out of reach: executed {executed}, undo logs kept from {oldest}")]
    OutOfReach {
        height: u64,
        executed: u64,
        oldest: u64,
    },
    #[error("transaction {index} is not in block {height} ({count} transactions)")]
    NoSuchTx {
        height: u64,
        index: usize,
        count: usize,
    },
    #[error(
        "rolled-back root {got} differs from the recorded pre-state root {want} of height {height}"
    )]
    Inconsistent { height: u64, got: B256, want: B256 },
}

/// The value before block `from` of every key blocks `from..=executed` wrote (empty when
/// `from` is past the executed height), from their undo logs.
fn undone_since(
    store: &StateStore,
    from: u64,
    executed: u64,
    target: u64,
) -> Result<HashMap<[u8; 32], Option<Vec<u8>>>, ProverError> {
    let mut undone = HashMap::new();
    // Newest first, so that the value before the oldest block wins.
    for h in (from..=executed).rev() {
        let log = store.undo_log(h)?.ok_or(ProverError::OutOfReach {
            height: target,
            executed,
            oldest: h + 1,
        })?;
        undone.extend(log);
    }
    Ok(undone)
}

fn undo_ops(undone: &HashMap<[u8; 32], Option<Vec<u8>>>) -> Vec<Op> {
    undone
        .iter()
        .map(|(path, old)| (*path, old.as_deref().map(value_hash)))
        .collect()
}

/// The state and tree before block `height`, from the latest state (`tree` must be the tree
/// of the store's latest executed height) and the undo logs of `height..=executed`.
pub fn state_before_block(
    store: &StateStore,
    tree: &StateTree,
    height: u64,
) -> Result<(StateSnapshot, StateTree), ProverError> {
    let executed = store.executed_height()?.unwrap_or(0);
    if height == 0 || height > executed {
        return Err(ProverError::OutOfReach {
            height,
            executed,
            oldest: 1,
        });
    }
    let undone = undone_since(store, height, executed, height)?;
    let ops = undo_ops(&undone);
    let mut past_tree = tree.clone();
    let root = B256::from(past_tree.update(&ops));
    let want = store
        .executed_block(height)?
        .map(|b| b.pre_state_root)
        .unwrap_or_default();
    if root != want {
        return Err(ProverError::Inconsistent {
            height,
            got: root,
            want,
        });
    }
    Ok((store.snapshot()?.rolled_back(undone), past_tree))
}

/// The witness of transaction `index` of executed block `block.height`, with the state root
/// before it, from the block's write log kept since its execution: the latest state is rolled
/// back through later blocks and then through the writes of transactions `index..`, and
/// nothing is executed again. `tx` is transaction `index`, prepared.
pub fn tx_witness_from_log(
    store: &StateStore,
    tree: &StateTree,
    params: &ChainParams,
    block: &BlockContext,
    tx: &PreparedTx,
    log: &TxWriteLog,
    index: usize,
) -> Result<(TxWitness, B256), ProverError> {
    let height = block.height;
    if index >= log.len() {
        return Err(ProverError::NoSuchTx {
            height,
            index,
            count: log.len(),
        });
    }
    let executed = store.executed_height()?.unwrap_or(0);
    if height == 0 || height > executed {
        return Err(ProverError::OutOfReach {
            height,
            executed,
            oldest: 1,
        });
    }
    let after_undone = undone_since(store, height + 1, executed, height)?;
    // Before the block = after it, rolled back through its own undo log (read once more
    // rather than every later block's again).
    let mut before_undone = after_undone.clone();
    before_undone.extend(store.undo_log(height)?.ok_or(ProverError::OutOfReach {
        height,
        executed,
        oldest: height + 1,
    })?);
    let mut ops = undo_ops(&after_undone);
    let after = store.snapshot()?.rolled_back(after_undone);
    let before_block = store.snapshot()?.rolled_back(before_undone);
    let (writes, within) = log.rollback_to(index, &before_block)?;
    // The block's own rollback comes last: a key given twice takes its last op.
    ops.extend(within);
    let mut past_tree = tree.clone();
    let root = B256::from(past_tree.update(&ops));
    let state = Overlay {
        base: &after,
        writes: &writes,
    };
    let witness = witness_for_tx(params, block, tx, &state, &past_tree)?;
    Ok((witness, root))
}

/// The witness of transaction `index` of executed block `height` (whose prepared transactions
/// and context the caller passes), with the state root before it.
pub fn tx_witness_at(
    store: &StateStore,
    tree: &StateTree,
    params: &ChainParams,
    block: &BlockContext,
    txs: &[PreparedTx],
    index: usize,
) -> Result<(TxWitness, B256), ProverError> {
    let tx = txs.get(index).ok_or(ProverError::NoSuchTx {
        height: block.height,
        index,
        count: txs.len(),
    })?;
    let (past, mut past_tree) = state_before_block(store, tree, block.height)?;
    let before = execute_prefix(params, block, &txs[..index], &past, &mut past_tree)?;
    let state = Overlay {
        base: &past,
        writes: &before.writes,
    };
    let witness = witness_for_tx(params, block, tx, &state, &past_tree)?;
    Ok((witness, B256::from(past_tree.root())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ExecutedBlock;
    use alloy_primitives::{Address, U256};
    use lazychain_exec_stf::execute_block_logged;
    use lazychain_exec_stf::genesis::{genesis_writes, tree_of, AllocAccount};
    use lazychain_exec_stf::prepare;
    use lazychain_exec_stf::witness::reexecute;

    fn params() -> ChainParams {
        ChainParams {
            chain_id: 9,
            spec: lazychain_exec_stf::hardfork("osaka").expect("known"),
            base_fee_per_gas: 7,
            block_gas_limit: 30_000_000,
            trace_period: 1,
            fee_recipients: Default::default(),
        }
    }

    fn block(height: u64) -> BlockContext {
        BlockContext {
            height,
            hash: B256::repeat_byte(height as u8),
            parent_hash: B256::ZERO,
            timestamp: height,
            beneficiary: Address::repeat_byte(0xfe),
            base_fee: 7,
        }
    }

    /// Transfers signed with fixed keys, as raw transactions.
    fn transfers(keys: &[[u8; 32]], nonce: u64, to: u8) -> Vec<Vec<u8>> {
        keys.iter()
            .map(|k| {
                let tx = alloy_consensus::TxEip1559 {
                    max_fee_per_gas: 100,
                    to: alloy_primitives::TxKind::Call(Address::repeat_byte(to)),
                    value: U256::from(5),
                    ..lazychain_test_utils::transfer_tx(9, nonce)
                };
                lazychain_test_utils::sign(&secret(k), tx)
            })
            .collect()
    }

    fn secret(k: &[u8; 32]) -> secp256k1::SecretKey {
        secp256k1::SecretKey::from_byte_array(*k).expect("key")
    }

    fn address(k: &[u8; 32]) -> Address {
        lazychain_test_utils::address_of(&secret(k))
    }

    /// Executes three blocks into a store, then rebuilds the witness of every transaction of
    /// every block from the latest state: each re-executes to the recorded trace entry.
    #[test]
    fn witnesses_of_past_transactions_reexecute_to_their_recorded_roots() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = StateStore::open(&dir.path().join("state.redb"), 16 << 20).expect("open");
        let keys: Vec<[u8; 32]> = (1..=4u8).map(|i| [i; 32]).collect();
        let alloc: Vec<AllocAccount> = keys
            .iter()
            .map(|k| AllocAccount {
                address: address(k),
                balance: U256::from(10u64.pow(18)),
                ..Default::default()
            })
            .collect();
        let writes = genesis_writes(&alloc);
        let mut tree = tree_of(&writes);
        let genesis_root = B256::from(tree.root());
        store
            .init_genesis(&writes, &ExecutedBlock::genesis(genesis_root, 0, &params()))
            .expect("genesis");
        let p = params();
        let mut blocks = Vec::new();
        for height in 1..=3u64 {
            let raw = transfers(&keys, height - 1, height as u8);
            let txs = prepare(raw.iter().map(|r| r.as_slice()));
            let snapshot = store.snapshot().expect("snapshot");
            let (out, log) =
                execute_block_logged(&p, &block(height), &txs, &snapshot, &mut tree).expect("exec");
            drop(snapshot);
            store
                .commit_block(
                    &ExecutedBlock::executed(&block(height), &p, B256::ZERO, 0, &out),
                    &out,
                    true,
                    16,
                )
                .expect("commit");
            blocks.push((txs, out, log));
        }
        for (h, (txs, out, log)) in blocks.iter().enumerate() {
            let height = h as u64 + 1;
            for i in 0..txs.len() {
                let (witness, prev) =
                    tx_witness_at(&store, &tree, &p, &block(height), txs, i).expect("witness");
                let want_prev = if i == 0 {
                    out.pre_state_root
                } else {
                    out.trace[i - 1]
                };
                assert_eq!(prev, want_prev, "height {height} tx {i}");
                let root =
                    reexecute(&p, &block(height), &txs[i], prev, &witness).expect("re-executes");
                assert_eq!(root, out.trace[i], "height {height} tx {i}");
                // From the write log, without executing: the same root and witness, for the
                // latest block and for older ones (rolled back through later blocks first).
                let (from_log, log_prev) =
                    tx_witness_from_log(&store, &tree, &p, &block(height), &txs[i], log, i)
                        .expect("witness from the log");
                assert_eq!(log_prev, want_prev, "height {height} tx {i}");
                assert_eq!(from_log.entries, witness.entries, "height {height} tx {i}");
                assert_eq!(
                    lazychain_exec_state_tree::encode_multi_proof(&from_log.proof),
                    lazychain_exec_state_tree::encode_multi_proof(&witness.proof),
                    "height {height} tx {i}"
                );
            }
            assert!(matches!(
                tx_witness_from_log(&store, &tree, &p, &block(height), &txs[0], log, txs.len()),
                Err(ProverError::NoSuchTx { .. })
            ));
        }
        // Undo logs older than the window are gone; an unexecuted height is out of reach.
        assert!(matches!(
            state_before_block(&store, &tree, 4),
            Err(ProverError::OutOfReach { .. })
        ));
    }
}
