//! Read-only execution for `eth_call` and `eth_estimateGas`: one transaction over a state,
//! with nothing written back. Semantics follow geth: no nonce check, and without a gas price
//! no base fee is charged.

use alloy_primitives::{Address, Bytes, Log, TxKind, U256};
use revm::context::result::{EVMError, ExecutionResult, Output};
use revm::context::{Context, TxEnv};
use revm::primitives::hardfork::SpecId;
use revm::{ExecuteEvm, MainBuilder, MainContext};

use crate::env::{BlockContext, ChainParams};
use crate::state::{BlockDb, ReadError, StateReader};

/// Osaka's per-transaction gas cap (EIP-7825); estimates never exceed it on Osaka chains.
pub const OSAKA_TX_GAS_CAP: u64 = 1 << 24;

/// A call as `eth_call` and `eth_estimateGas` describe it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallRequest {
    pub from: Option<Address>,
    pub to: Option<Address>,
    pub gas: Option<u64>,
    pub gas_price: Option<u128>,
    pub max_fee_per_gas: Option<u128>,
    pub max_priority_fee_per_gas: Option<u128>,
    pub value: Option<U256>,
    pub input: Bytes,
}

/// How a call ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallOutcome {
    Success {
        output: Bytes,
        gas_used: u64,
        logs: Vec<Log>,
    },
    Revert {
        output: Bytes,
        gas_used: u64,
    },
    Halt {
        reason: String,
        gas_used: u64,
    },
}

/// A call that could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// Rejected before execution (e.g. insufficient funds for value), geth's message style.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Read(#[from] ReadError),
}

/// The largest gas a single transaction may use on this chain.
pub fn tx_gas_cap(params: &ChainParams) -> u64 {
    if params.spec >= SpecId::OSAKA {
        params.block_gas_limit.min(OSAKA_TX_GAS_CAP)
    } else {
        params.block_gas_limit
    }
}

/// Runs `request` over `state` in `block`'s environment; nothing is written.
pub fn call<R: StateReader>(
    params: &ChainParams,
    block: &BlockContext,
    request: &CallRequest,
    state: &R,
) -> Result<CallOutcome, CallError> {
    let gas = request.gas.unwrap_or_else(|| tx_gas_cap(params));
    run(params, block, request, gas, state)
}

fn run<R: StateReader>(
    params: &ChainParams,
    block: &BlockContext,
    request: &CallRequest,
    gas: u64,
    state: &R,
) -> Result<CallOutcome, CallError> {
    let mut cfg = params.cfg();
    cfg.disable_nonce_check = true;
    cfg.tx_gas_limit_cap = Some(u64::MAX);
    let mut block_env = params.block_env(block);
    let priced = request.gas_price.or(request.max_fee_per_gas).unwrap_or(0);
    if priced == 0 {
        block_env.basefee = 0;
    }
    block_env.gas_limit = block_env.gas_limit.max(gas);
    let tx = TxEnv {
        tx_type: if request.max_fee_per_gas.is_some() {
            2
        } else {
            0
        },
        caller: request.from.unwrap_or(Address::ZERO),
        gas_limit: gas,
        gas_price: priced,
        gas_priority_fee: request.max_priority_fee_per_gas,
        kind: request.to.map(TxKind::Call).unwrap_or(TxKind::Create),
        value: request.value.unwrap_or_default(),
        data: request.input.clone(),
        chain_id: Some(params.chain_id),
        ..Default::default()
    };
    let mut evm = Context::mainnet()
        .with_db(BlockDb::new(state))
        .with_cfg(cfg)
        .with_block(block_env)
        .build_mainnet();
    let outcome = evm.transact(tx);
    if evm.ctx.journaled_state.database.access.exceeded {
        // What execution does with such a transaction: it halts, using all its gas.
        return Ok(CallOutcome::Halt {
            reason: format!(
                "state access limit: read more than {} witness bytes",
                crate::state::MAX_TX_WITNESS_BYTES
            ),
            gas_used: gas,
        });
    }
    match outcome {
        Ok(done) => {
            let gas_used = done.result.tx_gas_used();
            Ok(match done.result {
                ExecutionResult::Success { output, logs, .. } => CallOutcome::Success {
                    output: match output {
                        Output::Call(bytes) => bytes,
                        Output::Create(bytes, _) => bytes,
                    },
                    gas_used,
                    logs,
                },
                ExecutionResult::Revert { output, .. } => CallOutcome::Revert { output, gas_used },
                ExecutionResult::Halt { reason, .. } => CallOutcome::Halt {
                    reason: format!("{reason:?}"),
                    gas_used,
                },
            })
        }
        Err(EVMError::Transaction(invalid)) => Err(CallError::Invalid(invalid.to_string())),
        Err(EVMError::Database(e)) => Err(e.into()),
        Err(other) => Err(CallError::Invalid(other.to_string())),
    }
}

/// The smallest gas limit with which `request` succeeds, by bisection between the gas it
/// used and the cap (what geth does). Fails with the outcome at the cap if it never
/// succeeds.
pub fn estimate_gas<R: StateReader>(
    params: &ChainParams,
    block: &BlockContext,
    request: &CallRequest,
    state: &R,
) -> Result<Result<u64, CallOutcome>, CallError> {
    let cap = request.gas.unwrap_or_else(|| tx_gas_cap(params));
    let used = match run(params, block, request, cap, state)? {
        CallOutcome::Success { gas_used, .. } => gas_used,
        failed => return Ok(Err(failed)),
    };
    // Refunds and the 63/64 rule mean the limit needed can exceed the gas used.
    let mut lo = used.saturating_sub(1);
    let mut hi = cap;
    let optimistic = used.saturating_add(used / 63 + 2_300).min(cap);
    if matches!(
        run(params, block, request, optimistic, state)?,
        CallOutcome::Success { .. }
    ) {
        hi = optimistic;
    } else {
        lo = optimistic;
    }
    while lo + 1 < hi {
        let mid = lo + (hi - lo) / 2;
        match run(params, block, request, mid, state)? {
            CallOutcome::Success { .. } => hi = mid,
            _ => lo = mid,
        }
    }
    Ok(Ok(hi))
}
