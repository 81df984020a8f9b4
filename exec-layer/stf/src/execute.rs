//! Executing a decided data block: decode and recover senders (in parallel), run every
//! transaction in order with revm, apply the skipped-transaction rule, and fold each
//! transaction's writes into the state tree so that an intermediate root exists after every
//! `trace_period` transactions.

use alloy_consensus::{Transaction as _, TxEnvelope};
use alloy_eips::eip2930::AccessList;
use alloy_primitives::{Address, Bloom, Bytes, TxKind, B256, U256};
use lazychain_data_chain_types::block::MAX_TXS_BOUND;
use lazychain_data_chain_types::merkle::roots_list_root;
use lazychain_data_chain_types::par::par_map;
use lazychain_data_chain_types::tx::{
    authorization_gas, decode_canonical, intrinsic_gas, recover_sender, tx_hash, TxError,
};
use lazychain_exec_state_tree::{Op, StateTree};
use revm::context::result::{EVMError, ExecutionResult, ResultAndState};
use revm::context::{Context, TxEnv};
use revm::context_interface::either::Either;
use revm::primitives::KECCAK_EMPTY;
use revm::state::EvmState;
use revm::{ExecuteEvm, MainBuilder, MainContext};

use crate::env::{BlockContext, ChainParams};
use crate::keys::{value_hash, AccountValue, StateKey};
use crate::receipt::{receipts_root, Receipt, TxStatus};
use crate::state::{BlockDb, ReadError, StateReader, StateWrites};
use crate::txlog::{TxWrite, TxWriteLog};

/// A transaction of a block, decoded and with its sender recovered (or why not).
#[derive(Clone, Debug)]
pub struct PreparedTx {
    pub hash: B256,
    /// Encoded length, for the inclusion charge of a transaction that does not decode.
    pub raw_len: usize,
    pub decoded: Result<(TxEnvelope, Address), PrepareError>,
}

/// Why a transaction of a block has no envelope and sender. Its message is part of the skipped
/// transaction's receipt (`invalid transaction: ...`), so it must not change.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PrepareError {
    /// The bytes do not decode, or the signature recovers no sender.
    #[error(transparent)]
    Tx(#[from] TxError),
    /// The thread recovering the sender panicked.
    #[error("sender recovery panicked")]
    RecoveryPanicked,
}

/// Decodes every transaction and recovers its sender, on every core, keeping block order.
pub fn prepare<'a>(raw: impl IntoIterator<Item = &'a [u8]>) -> Vec<PreparedTx> {
    prepare_with(raw, &|_| None)
}

/// [`prepare`], taking senders from `known` where it has them (a node that admitted a
/// transaction already recovered its sender from the same bytes; the hash commits to the
/// signature) and recovering the rest.
pub fn prepare_with<'a>(
    raw: impl IntoIterator<Item = &'a [u8]>,
    known: &(dyn Fn(&B256) -> Option<Address> + Sync),
) -> Vec<PreparedTx> {
    let raw: Vec<&[u8]> = raw.into_iter().collect();
    par_map(
        &raw,
        |bytes| {
            let hash = tx_hash(bytes);
            PreparedTx {
                hash,
                raw_len: bytes.len(),
                decoded: decode_canonical(bytes)
                    .and_then(|env| match known(&hash) {
                        Some(sender) => Ok((env, sender)),
                        None => recover_sender(&env).map(|sender| (env, sender)),
                    })
                    .map_err(PrepareError::from),
            }
        },
        || PreparedTx {
            hash: B256::ZERO,
            raw_len: 0,
            decoded: Err(PrepareError::RecoveryPanicked),
        },
    )
}

/// Everything executing one block produced.
#[derive(Clone, Debug)]
pub struct BlockExecution {
    pub receipts: Vec<Receipt>,
    /// Every receipt in its SSZ encoding, in order: the leaves of the receipts root, and what
    /// the executor stores.
    pub encoded_receipts: Vec<Vec<u8>>,
    /// The state root after every `trace_period` transactions, and after the last one.
    pub trace: Vec<B256>,
    /// SSZ `hash_tree_root` of `trace` as `List<Bytes32, MAX_TXS>`.
    pub trace_root: B256,
    pub pre_state_root: B256,
    pub post_state_root: B256,
    pub receipts_root: B256,
    /// The flat-state writes of the whole block.
    pub writes: StateWrites,
    pub gas_used: u64,
    pub logs_bloom: Bloom,
}

/// Execution could not complete: the state could not be read, or the EVM failed in a way no
/// transaction can cause. The tree may hold part of the block: rebuild it before retrying.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("EVM failure at transaction {index}: {message}")]
    Evm { index: usize, message: String },
    /// The commitment could not absorb a write (a witness that does not cover it). The
    /// message prints the cause, so it is not repeated as a `source()`.
    #[error("state commitment at transaction {index}: {error}")]
    Commitment {
        index: usize,
        error: CommitmentError,
    },
}

/// Why a [`Commitment`] did not absorb a batch of writes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommitmentError {
    /// A witness commitment was asked to absorb a second transaction's writes.
    #[error("a witness covers one transaction")]
    WitnessUsed,
    /// The multiproof does not authenticate the update (a key it does not cover, a wrong
    /// root).
    #[error(transparent)]
    Proof(#[from] lazychain_exec_state_tree::Error),
    /// The thread folding writes into the commitment stopped taking them.
    #[error("the state commitment stopped")]
    Stopped,
    /// The thread folding writes into the commitment panicked.
    #[error("the state commitment panicked")]
    Panicked,
}

/// What execution folds each transaction's writes into: the full state tree (executors) or a
/// multiproof over the keys a transaction touches (fraud-proof verification).
pub trait Commitment {
    /// The current root.
    fn root(&self) -> B256;
    /// Applies writes (`None` deletes) and returns the new root.
    fn apply(&mut self, ops: &[Op]) -> Result<B256, CommitmentError>;
}

impl Commitment for StateTree {
    fn root(&self) -> B256 {
        B256::from(StateTree::root(self))
    }

    fn apply(&mut self, ops: &[Op]) -> Result<B256, CommitmentError> {
        Ok(B256::from(self.update(ops)))
    }
}

/// The `List<Bytes32, N>` root of a trace.
pub fn trace_root(trace: &[B256]) -> B256 {
    let items: Vec<[u8; 32]> = trace.iter().map(|r| r.0).collect();
    B256::from(roots_list_root(&items, MAX_TXS_BOUND))
}

/// Executes a prefix of a block for a prover: the same transactions and environment as
/// [`execute_block`], but the tree is updated once, after the last transaction, instead of
/// after each one (a prover needs the state before transaction `i`, not every root before
/// it). The returned trace holds that one root.
pub fn execute_prefix<R: StateReader, C: Commitment + Send>(
    params: &ChainParams,
    block: &BlockContext,
    txs: &[PreparedTx],
    state: &R,
    tree: &mut C,
) -> Result<BlockExecution, ExecError> {
    let once = ChainParams {
        trace_period: u64::MAX,
        ..params.clone()
    };
    execute_block(&once, block, txs, state, tree)
}

/// Executes `txs` (a decided block, in order) over `state`, whose authenticated form is
/// `tree`. On success `tree` holds the post-state and the caller persists `writes`.
pub fn execute_block<R: StateReader, C: Commitment + Send>(
    params: &ChainParams,
    block: &BlockContext,
    txs: &[PreparedTx],
    state: &R,
    tree: &mut C,
) -> Result<BlockExecution, ExecError> {
    execute(params, block, txs, state, tree, false).map(|(execution, _)| execution)
}

/// [`execute_block`], also returning every write transaction by transaction: a prover
/// rebuilds the state before any transaction of the block from it ([`TxWriteLog::rollback_to`])
/// without executing again.
pub fn execute_block_logged<R: StateReader, C: Commitment + Send>(
    params: &ChainParams,
    block: &BlockContext,
    txs: &[PreparedTx],
    state: &R,
    tree: &mut C,
) -> Result<(BlockExecution, TxWriteLog), ExecError> {
    execute(params, block, txs, state, tree, true)
        .map(|(execution, log)| (execution, log.unwrap_or_default()))
}

fn execute<R: StateReader, C: Commitment + Send>(
    params: &ChainParams,
    block: &BlockContext,
    txs: &[PreparedTx],
    state: &R,
    tree: &mut C,
    log: bool,
) -> Result<(BlockExecution, Option<TxWriteLog>), ExecError> {
    let pre_state_root = tree.root();
    let (ran, trace) = if txs.len() >= PIPELINE_MIN_TXS {
        // The commitment folds transaction i's writes on another core while transaction
        // i+1 executes: on a transfer block the tree costs more than the EVM.
        std::thread::scope(|scope| {
            let (send, receive) = std::sync::mpsc::channel::<(usize, Vec<Op>)>();
            let folder = scope.spawn(move || {
                let mut trace = Vec::new();
                for (index, ops) in receive {
                    let root = tree
                        .apply(&ops)
                        .map_err(|error| ExecError::Commitment { index, error })?;
                    trace.push(root);
                }
                Ok::<Vec<B256>, ExecError>(trace)
            });
            let ran = run_transactions(params, block, txs, state, log, &mut |index, ops| {
                send.send((index, ops)).map_err(|_| ExecError::Commitment {
                    index,
                    error: CommitmentError::Stopped,
                })
            });
            drop(send);
            let trace = folder.join().map_err(|_| ExecError::Commitment {
                index: 0,
                error: CommitmentError::Panicked,
            })?;
            // The folder's error explains a failed send, so it goes first.
            let trace = trace?;
            Ok::<_, ExecError>((ran?, trace))
        })?
    } else {
        let mut trace = Vec::new();
        let ran = run_transactions(params, block, txs, state, log, &mut |index, ops| {
            let root = tree
                .apply(&ops)
                .map_err(|error| ExecError::Commitment { index, error })?;
            trace.push(root);
            Ok(())
        })?;
        (ran, trace)
    };
    let encoded: Vec<Vec<u8>> = ran.receipts.iter().map(Receipt::encode).collect();
    let execution = BlockExecution {
        trace_root: trace_root(&trace),
        post_state_root: trace.last().copied().unwrap_or(pre_state_root),
        pre_state_root,
        receipts_root: receipts_root(&encoded),
        encoded_receipts: encoded,
        receipts: ran.receipts,
        trace,
        writes: ran.writes,
        gas_used: ran.gas_used,
        logs_bloom: ran.logs_bloom,
    };
    Ok((execution, ran.log))
}

/// Blocks at least this long fold writes into the commitment on a second thread.
const PIPELINE_MIN_TXS: usize = 64;

/// What running a block's transactions left, apart from the roots.
pub(crate) struct Ran {
    receipts: Vec<Receipt>,
    pub(crate) writes: StateWrites,
    gas_used: u64,
    logs_bloom: Bloom,
    log: Option<TxWriteLog>,
}

/// Runs every transaction in order; hands the writes of every `trace_period` transactions
/// (and of the last) to `fold`, in order.
pub(crate) fn run_transactions<R: StateReader>(
    params: &ChainParams,
    block: &BlockContext,
    txs: &[PreparedTx],
    state: &R,
    log: bool,
    fold: &mut dyn FnMut(usize, Vec<Op>) -> Result<(), ExecError>,
) -> Result<Ran, ExecError> {
    let mut db = BlockDb::new(state);
    if log {
        db.log = Some(TxWriteLog::default());
    }
    let mut evm = Context::mainnet()
        .with_db(db)
        .with_cfg(params.cfg())
        .with_block(params.block_env(block))
        .build_mainnet();
    let period = params.trace_period.max(1) as usize;
    let mut receipts = Vec::with_capacity(txs.len());
    let mut ops: Vec<Op> = Vec::new();
    let mut cumulative_gas = 0u64;
    let mut logs_bloom = Bloom::ZERO;

    for (index, tx) in txs.iter().enumerate() {
        evm.ctx.journaled_state.database.access.reset();
        // A read that failed inside the interpreter leaves its error in the context when the
        // transaction then ends through another error (the state access limit: the fee
        // recipient's read fails too); the next transaction must not inherit it.
        evm.ctx.error = Ok(());
        let mut receipt = match &tx.decoded {
            Ok((envelope, sender)) => {
                let outcome = evm.transact(tx_env(envelope, *sender));
                let db = &mut evm.ctx.journaled_state.database;
                settle(index, tx, envelope, *sender, outcome, block, db, &mut ops)?.0
            }
            Err(why) => skip_undecodable(
                tx,
                why,
                block,
                &mut evm.ctx.journaled_state.database,
                &mut ops,
            )?,
        };
        if let Some(log) = &mut evm.ctx.journaled_state.database.log {
            log.end_tx();
        }
        cumulative_gas = cumulative_gas.saturating_add(receipt.gas_used);
        receipt.cumulative_gas_used = cumulative_gas;
        logs_bloom.accrue_bloom(&receipt.logs_bloom());
        receipts.push(receipt);

        let last = index + 1 == txs.len();
        if (index + 1) % period == 0 || last {
            fold(index, std::mem::take(&mut ops))?;
        }
    }

    Ok(Ran {
        receipts,
        writes: std::mem::take(&mut evm.ctx.journaled_state.database.writes),
        gas_used: cumulative_gas,
        logs_bloom,
        log: evm.ctx.journaled_state.database.log.take(),
    })
}

/// The outcome of revm running one decoded transaction of a block, folded into the block's
/// writes as block execution folds it (the unused-gas charge, the skipped-transaction rule,
/// the state access limit). Returns the transaction's receipt and, when the EVM ran it to a
/// result, the state it changed after the unused-gas charge (what tracers report).
#[allow(clippy::too_many_arguments)]
pub(crate) fn settle<R: StateReader>(
    index: usize,
    tx: &PreparedTx,
    envelope: &TxEnvelope,
    sender: Address,
    outcome: Result<ResultAndState, EVMError<ReadError>>,
    block: &BlockContext,
    db: &mut BlockDb<'_, R>,
    ops: &mut Vec<Op>,
) -> Result<(Receipt, Option<EvmState>), ExecError> {
    match outcome {
        Ok(mut done) => {
            let unused = envelope
                .gas_limit()
                .saturating_sub(done.result.tx_gas_used());
            let charged = charge_unused_gas(&mut done.state, sender, unused, block.base_fee);
            apply_changes(&done.state, db, ops);
            let mut receipt =
                executed_receipt(tx.hash, envelope, sender, done.result, block.base_fee);
            receipt.unused_gas_charge = charged;
            Ok((receipt, Some(done.state)))
        }
        Err(EVMError::Transaction(invalid)) => {
            let gas = envelope_intrinsic_gas(envelope);
            let receipt = skip(
                tx,
                envelope.tx_type() as u8,
                sender,
                envelope.to(),
                invalid.to_string(),
                gas,
                block,
                db,
                ops,
            )?;
            Ok((receipt, None))
        }
        Err(EVMError::Database(e)) => {
            if !db.access.exceeded {
                return Err(e.into());
            }
            let receipt = access_limit_halt(tx.hash, envelope, sender, block, db, ops)?;
            Ok((receipt, None))
        }
        Err(other) => Err(ExecError::Evm {
            index,
            message: other.to_string(),
        }),
    }
}

/// A transaction whose bytes do not decode (or whose sender does not recover) still occupied
/// the block: it is skipped, charged as calldata.
pub(crate) fn skip_undecodable<R: StateReader>(
    tx: &PreparedTx,
    why: &PrepareError,
    block: &BlockContext,
    db: &mut BlockDb<'_, R>,
    ops: &mut Vec<Op>,
) -> Result<Receipt, ExecError> {
    let gas = intrinsic_gas(&vec![1u8; tx.raw_len], false, &[]);
    skip(
        tx,
        0,
        Address::ZERO,
        None,
        format!("invalid transaction: {why}"),
        gas,
        block,
        db,
        ops,
    )
}

/// revm's transaction from a decoded envelope. An EIP-7702 transaction carries its signed
/// authorizations: revm recovers each authority and ignores an invalid authorization, as
/// EIP-7702 says.
pub fn tx_env(envelope: &TxEnvelope, sender: Address) -> TxEnv {
    let (gas_price, priority) = match envelope {
        TxEnvelope::Eip1559(_) | TxEnvelope::Eip7702(_) => (
            envelope.max_fee_per_gas(),
            envelope.max_priority_fee_per_gas(),
        ),
        _ => (envelope.max_fee_per_gas(), None),
    };
    let authorization_list = envelope
        .authorization_list()
        .map(|list| list.iter().cloned().map(Either::Left).collect())
        .unwrap_or_default();
    TxEnv {
        tx_type: envelope.tx_type() as u8,
        caller: sender,
        gas_limit: envelope.gas_limit(),
        gas_price,
        kind: envelope.kind(),
        value: envelope.value(),
        data: envelope.input().clone(),
        nonce: envelope.nonce(),
        chain_id: envelope.chain_id(),
        access_list: envelope.access_list().cloned().unwrap_or_default(),
        gas_priority_fee: priority,
        authorization_list,
        ..Default::default()
    }
}

/// Admission's intrinsic gas: the inclusion charge of a skipped transaction.
fn envelope_intrinsic_gas(envelope: &TxEnvelope) -> u64 {
    let empty = AccessList::default();
    let access_list = envelope.access_list().unwrap_or(&empty);
    let authorizations = envelope.authorization_list().map_or(0, <[_]>::len);
    intrinsic_gas(
        envelope.input(),
        envelope.kind() == TxKind::Create,
        &access_list.0,
    )
    .saturating_add(authorization_gas(authorizations))
}

/// The base fee on the gas a transaction declared but did not use, taken from the sender's
/// balance after execution and burned: declared gas is what the execution budget counts
/// (ADR 007). Validation made sure the sender could pay its whole gas limit at its maximum fee
/// (at least the base fee); only a sender whose balance left it during execution (code at a
/// delegated account) pays less. Returns what was charged.
fn charge_unused_gas(state: &mut EvmState, sender: Address, unused: u64, base_fee: u64) -> U256 {
    let want = U256::from(unused).saturating_mul(U256::from(base_fee));
    if want.is_zero() {
        return U256::ZERO;
    }
    let Some(account) = state.get_mut(&sender) else {
        return U256::ZERO;
    };
    let charged = want.min(account.info.balance);
    account.info.balance -= charged;
    account.mark_touch();
    charged
}

/// Folds one transaction's state changes into the block's writes and the tree ops.
fn apply_changes<R: StateReader>(state: &EvmState, db: &mut BlockDb<'_, R>, ops: &mut Vec<Op>) {
    for (address, account) in state {
        if !account.is_touched() {
            continue;
        }
        if account.is_selfdestructed() {
            // Since Cancun only an account created in the same transaction is destroyed, so
            // every slot it ever had is in this transaction's storage.
            put_account(db, ops, *address, None);
            for slot in account.storage.keys() {
                put_storage(db, ops, *address, *slot, U256::ZERO);
            }
            continue;
        }
        let value = AccountValue {
            nonce: account.info.nonce,
            balance: account.info.balance,
            code_hash: account.info.code_hash,
        };
        // New code: a deployment, or an EIP-7702 delegation designator (`0xef0100 ||
        // delegate`) that an authorization set on an existing account (not `created`).
        let code_changed =
            account.is_created() || value.code_hash != account.original_info().code_hash;
        if code_changed && value.code_hash != KECCAK_EMPTY {
            if let Some(code) = &account.info.code {
                let bytes = code.original_bytes();
                ops.push((
                    StateKey::Code(value.code_hash).path(),
                    Some(value_hash(&bytes)),
                ));
                if let Some(log) = &mut db.log {
                    log.push(TxWrite::Code(value.code_hash, bytes.clone()));
                }
                db.writes.code.insert(value.code_hash, Some(bytes));
                db.cache_code(value.code_hash, code.clone());
            }
        }
        put_account(db, ops, *address, (!value.is_empty()).then_some(value));
        for (slot, entry) in account.changed_storage_slots() {
            put_storage(db, ops, *address, *slot, entry.present_value);
        }
    }
}

fn put_account<R: StateReader>(
    db: &mut BlockDb<'_, R>,
    ops: &mut Vec<Op>,
    address: Address,
    value: Option<AccountValue>,
) {
    let path = StateKey::Account(address).path();
    ops.push((path, value.map(|v| value_hash(&v.encode()))));
    if let Some(log) = &mut db.log {
        log.push(TxWrite::Account(address, value));
    }
    db.writes.accounts.insert(address, value);
}

fn put_storage<R: StateReader>(
    db: &mut BlockDb<'_, R>,
    ops: &mut Vec<Op>,
    address: Address,
    slot: U256,
    value: U256,
) {
    let path = StateKey::Storage(address, slot).path();
    ops.push((
        path,
        (!value.is_zero()).then(|| value_hash(&value.to_be_bytes::<32>())),
    ));
    if let Some(log) = &mut db.log {
        log.push(TxWrite::Storage(address, slot, value));
    }
    db.writes.storage.insert((address, slot), value);
}

fn executed_receipt(
    hash: B256,
    envelope: &TxEnvelope,
    sender: Address,
    result: ExecutionResult,
    base_fee: u64,
) -> Receipt {
    let effective_gas_price = envelope.effective_gas_price(Some(base_fee));
    let gas_used = result.tx_gas_used();
    // As geth: a creation names its address even when it failed.
    let contract_address =
        (envelope.kind() == TxKind::Create).then(|| sender.create(envelope.nonce()));
    let (status, reason, logs, output) = match result {
        ExecutionResult::Success { logs, .. } => {
            (TxStatus::Success, String::new(), logs, Bytes::new())
        }
        ExecutionResult::Revert { output, .. } => (
            TxStatus::Failed,
            "execution reverted".to_owned(),
            Vec::new(),
            output,
        ),
        ExecutionResult::Halt { reason, .. } => (
            TxStatus::Failed,
            format!("{reason:?}"),
            Vec::new(),
            Bytes::new(),
        ),
    };
    Receipt {
        tx_hash: hash,
        tx_type: envelope.tx_type() as u8,
        from: sender,
        to: envelope.to(),
        status,
        reason,
        gas_used,
        cumulative_gas_used: 0,
        effective_gas_price,
        contract_address,
        logs,
        output,
        inclusion_charge: U256::ZERO,
        charge_shortfall: U256::ZERO,
        unused_gas_charge: U256::ZERO,
    }
}

/// A transaction that read more state than [`crate::state::MAX_TX_WITNESS_BYTES`] halts:
/// like an exceptional halt it consumes its whole gas limit (the sender pays it at the
/// effective gas price, the proposer's fee recipient gets the priority fee on it, the base
/// fee is burned) and its nonce is used, but nothing else it did remains, EIP-7702
/// authorizations included.
fn access_limit_halt<R: StateReader>(
    hash: B256,
    envelope: &TxEnvelope,
    sender: Address,
    block: &BlockContext,
    db: &mut BlockDb<'_, R>,
    ops: &mut Vec<Op>,
) -> Result<Receipt, ExecError> {
    let gas = envelope.gas_limit();
    let price = envelope.effective_gas_price(Some(block.base_fee));
    let tip = price.saturating_sub(u128::from(block.base_fee));
    let mut account = db.view().account(&sender)?.unwrap_or(AccountValue {
        nonce: 0,
        balance: U256::ZERO,
        code_hash: KECCAK_EMPTY,
    });
    // Validation already checked that the balance covers the gas limit at the maximum fee.
    account.balance = account
        .balance
        .saturating_sub(U256::from(gas).saturating_mul(U256::from(price)));
    account.nonce = account.nonce.saturating_add(1);
    put_account(db, ops, sender, (!account.is_empty()).then_some(account));
    let reward = U256::from(gas).saturating_mul(U256::from(tip));
    if !reward.is_zero() {
        let mut recipient = db
            .view()
            .account(&block.beneficiary)?
            .unwrap_or(AccountValue {
                nonce: 0,
                balance: U256::ZERO,
                code_hash: KECCAK_EMPTY,
            });
        recipient.balance = recipient.balance.saturating_add(reward);
        put_account(db, ops, block.beneficiary, Some(recipient));
    }
    Ok(Receipt {
        tx_hash: hash,
        tx_type: envelope.tx_type() as u8,
        from: sender,
        to: envelope.to(),
        status: TxStatus::Failed,
        reason: format!(
            "state access limit: read more than {} witness bytes",
            crate::state::MAX_TX_WITNESS_BYTES
        ),
        gas_used: gas,
        cumulative_gas_used: 0,
        effective_gas_price: price,
        contract_address: (envelope.kind() == TxKind::Create)
            .then(|| sender.create(envelope.nonce())),
        logs: Vec::new(),
        output: Bytes::new(),
        inclusion_charge: U256::ZERO,
        charge_shortfall: U256::ZERO,
        unused_gas_charge: U256::ZERO,
    })
}

/// The skipped-transaction rule: no state change for the sender; the proposer's fee recipient
/// pays `intrinsic gas x base fee` (burned), as far as its balance goes; the rest is recorded
/// as the shortfall.
#[allow(clippy::too_many_arguments)]
fn skip<R: StateReader>(
    tx: &PreparedTx,
    tx_type: u8,
    from: Address,
    to: Option<Address>,
    reason: String,
    intrinsic: u64,
    block: &BlockContext,
    db: &mut BlockDb<'_, R>,
    ops: &mut Vec<Op>,
) -> Result<Receipt, ExecError> {
    let charge = U256::from(intrinsic).saturating_mul(U256::from(block.base_fee));
    let recipient = block.beneficiary;
    let account = db.view().account(&recipient)?;
    let balance = account.map(|a| a.balance).unwrap_or_default();
    let paid = charge.min(balance);
    if let Some(mut value) = account {
        if !paid.is_zero() {
            value.balance -= paid;
            put_account(db, ops, recipient, (!value.is_empty()).then_some(value));
        }
    }
    Ok(Receipt {
        tx_hash: tx.hash,
        tx_type,
        from,
        to,
        status: TxStatus::Skipped,
        reason,
        gas_used: 0,
        cumulative_gas_used: 0,
        effective_gas_price: 0,
        contract_address: None,
        logs: Vec::new(),
        output: Bytes::new(),
        inclusion_charge: charge,
        charge_shortfall: charge - paid,
        unused_gas_charge: U256::ZERO,
    })
}
