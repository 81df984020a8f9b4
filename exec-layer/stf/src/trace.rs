//! Execution with a revm inspector attached, for the executor's `debug_trace*` methods: a call
//! (as `eth_call` runs it) or one transaction of an executed block (on the state the block's
//! earlier transactions left, by the block-execution code itself). Consensus execution never
//! comes here; an inspector only observes, so a traced transaction ends as it did in its
//! block.

use revm::context::result::ResultAndState;
use revm::context::{BlockEnv, Context, TxEnv};
use revm::handler::MainnetContext;
use revm::inspector::InspectEvm;
use revm::{Inspector, MainBuilder, MainContext};

use crate::call::{call_env, tx_gas_cap, CallError, CallRequest};
use crate::env::{BlockContext, ChainParams};
use crate::execute::{run_transactions, settle, skip_undecodable, tx_env, ExecError, PreparedTx};
use crate::receipt::Receipt;
use crate::state::{BlockDb, StateReader, StateWrites, MAX_TX_WITNESS_BYTES};

/// The revm context a traced transaction runs in: what the inspector of [`trace_call`] and
/// [`trace_block_tx`] inspects.
pub type EvmContext<'a, R> = MainnetContext<BlockDb<'a, R>>;

/// A call run with an inspector.
pub struct TracedCall<I> {
    pub inspector: I,
    /// The transaction and block revm ran (tracers report the caller, gas limit, number).
    pub tx_env: TxEnv,
    pub block_env: BlockEnv,
    /// How it ended and every account it loaded, as revm reports them.
    pub result: ResultAndState,
}

/// Runs `request` as [`crate::call::call`] does, with `inspector` attached; nothing is
/// written. A call that reads more than the state access limit is refused, as an invalid
/// call, since it would halt in a block.
pub fn trace_call<'a, R, I>(
    params: &ChainParams,
    block: &BlockContext,
    request: &CallRequest,
    state: &'a R,
    inspector: I,
) -> Result<TracedCall<I>, CallError>
where
    R: StateReader,
    I: Inspector<EvmContext<'a, R>>,
{
    let gas = request.gas.unwrap_or_else(|| tx_gas_cap(params));
    let (cfg, block_env, tx) = call_env(params, block, request, gas);
    let mut evm = Context::mainnet()
        .with_db(BlockDb::new(state))
        .with_cfg(cfg)
        .with_block(block_env.clone())
        .build_mainnet_with_inspector(inspector);
    let outcome = evm.inspect_tx(tx.clone());
    if evm.ctx.journaled_state.database.access.exceeded {
        return Err(CallError::Invalid(access_limit_message()));
    }
    let result = outcome.map_err(|e| match e {
        revm::context::result::EVMError::Transaction(invalid) => {
            CallError::Invalid(invalid.to_string())
        }
        revm::context::result::EVMError::Database(e) => CallError::Read(e),
        other => CallError::Invalid(other.to_string()),
    })?;
    Ok(TracedCall {
        inspector: evm.inspector,
        tx_env: tx,
        block_env,
        result,
    })
}

/// One transaction of a block, run with an inspector after the block's earlier ones.
pub struct TracedTx<I> {
    pub inspector: I,
    /// revm's transaction (the default one for bytes that do not decode) and block.
    pub tx_env: TxEnv,
    pub block_env: BlockEnv,
    /// How the EVM ended the transaction and the state it left, after the unused-gas charge
    /// (what the block wrote). `None` when the EVM did not run it to an end: it was skipped,
    /// or halted by the state access limit (the receipt says which).
    pub result: Option<ResultAndState>,
    /// The transaction's receipt, as block execution records it.
    pub receipt: Receipt,
    /// What the block's earlier transactions wrote: over the state before the block, the state
    /// the transaction ran on.
    pub writes_before: StateWrites,
}

/// Why a block's transaction could not be traced.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("the block has {count} transactions, none at index {index}")]
    NoSuchTransaction { index: usize, count: usize },
    #[error(transparent)]
    Exec(#[from] ExecError),
}

/// Executes transactions `0..index` of a block over `state` (the state before the block)
/// exactly as block execution does, then transaction `index` with `inspector` attached.
/// `txs` may end anywhere after `index`.
pub fn trace_block_tx<'a, R, I>(
    params: &ChainParams,
    block: &BlockContext,
    txs: &[PreparedTx],
    index: usize,
    state: &'a R,
    inspector: I,
) -> Result<TracedTx<I>, TraceError>
where
    R: StateReader,
    I: Inspector<EvmContext<'a, R>>,
{
    let tx = txs.get(index).ok_or(TraceError::NoSuchTransaction {
        index,
        count: txs.len(),
    })?;
    let before = run_transactions(params, block, &txs[..index], state, false, &mut |_, _| {
        Ok(())
    })?;
    let writes_before = before.writes;
    let mut db = BlockDb::new(state);
    db.writes = writes_before.clone();
    let block_env = params.block_env(block);
    let mut evm = Context::mainnet()
        .with_db(db)
        .with_cfg(params.cfg())
        .with_block(block_env.clone())
        .build_mainnet_with_inspector(inspector);
    // The tree ops of the traced transaction: nothing is committed.
    let mut ops = Vec::new();
    let (tx_env, result, receipt) = match &tx.decoded {
        Ok((envelope, sender)) => {
            let env = tx_env(envelope, *sender);
            let outcome = evm.inspect_tx(env.clone());
            let evm_result = outcome.as_ref().ok().map(|done| done.result.clone());
            let db = &mut evm.ctx.journaled_state.database;
            let (receipt, state_after) =
                settle(index, tx, envelope, *sender, outcome, block, db, &mut ops)?;
            let result = evm_result
                .zip(state_after)
                .map(|(result, state)| ResultAndState { result, state });
            (env, result, receipt)
        }
        Err(why) => {
            let db = &mut evm.ctx.journaled_state.database;
            let receipt = skip_undecodable(tx, why, block, db, &mut ops)?;
            (TxEnv::default(), None, receipt)
        }
    };
    Ok(TracedTx {
        inspector: evm.inspector,
        tx_env,
        block_env,
        result,
        receipt,
        writes_before,
    })
}

fn access_limit_message() -> String {
    format!("state access limit: read more than {MAX_TX_WITNESS_BYTES} witness bytes")
}
