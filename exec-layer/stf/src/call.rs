//! Read-only execution for `eth_call` and `eth_estimateGas`: one transaction over a state,
//! with nothing written back. Semantics follow geth: no nonce check, and without a gas price
//! no base fee is charged.

use std::collections::{BTreeMap, BTreeSet};

use alloy_eips::eip2930::{AccessList, AccessListItem};
use alloy_eips::eip7702::SignedAuthorization;
use alloy_primitives::{Address, Bytes, Log, TxKind, B256, U256};
use revm::context::result::{EVMError, ExecutionResult, Output};
use revm::context::{BlockEnv, CfgEnv, Context, TxEnv};
use revm::context_interface::either::Either;
use revm::precompile::{PrecompileSpecId, Precompiles};
use revm::primitives::hardfork::SpecId;
use revm::state::EvmState;
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
    /// EIP-2930: charged as intrinsic gas and warmed before execution, as in a transaction.
    pub access_list: AccessList,
    /// EIP-7702: applied before the call as in a type-4 transaction (wallets estimate a
    /// set-code transaction's gas with it: the call may run the delegate's code).
    pub authorization_list: Vec<SignedAuthorization>,
}

/// `eth_createAccessList` tries at most this many lists: each run with the previous run's
/// list, until one run accesses exactly the list it ran with (geth loops until then; a
/// contract whose accesses depend on the gas left could keep it going).
pub const MAX_ACCESS_LIST_ROUNDS: usize = 16;

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
    run_with_state(params, block, request, gas, state).map(|(outcome, _)| outcome)
}

/// revm's environment for a call: geth's `eth_call` rules (no nonce check, no base fee without
/// a gas price, no per-transaction gas cap, a block gas limit of at least the call's gas).
pub(crate) fn call_env(
    params: &ChainParams,
    block: &BlockContext,
    request: &CallRequest,
    gas: u64,
) -> (CfgEnv, BlockEnv, TxEnv) {
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
        tx_type: if !request.authorization_list.is_empty() {
            4
        } else if request.max_fee_per_gas.is_some() {
            2
        } else if !request.access_list.is_empty() {
            1
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
        access_list: request.access_list.clone(),
        authorization_list: request
            .authorization_list
            .iter()
            .cloned()
            .map(Either::Left)
            .collect(),
        ..Default::default()
    };
    (cfg, block_env, tx)
}

/// Runs `request` and returns, beside its outcome, every account and slot revm loaded.
fn run_with_state<R: StateReader>(
    params: &ChainParams,
    block: &BlockContext,
    request: &CallRequest,
    gas: u64,
    state: &R,
) -> Result<(CallOutcome, EvmState), CallError> {
    let (cfg, block_env, tx) = call_env(params, block, request, gas);
    let mut evm = Context::mainnet()
        .with_db(BlockDb::new(state))
        .with_cfg(cfg)
        .with_block(block_env)
        .build_mainnet();
    let outcome = evm.transact(tx);
    if evm.ctx.journaled_state.database.access.exceeded {
        // What execution does with such a transaction: it halts, using all its gas.
        let halt = CallOutcome::Halt {
            reason: format!(
                "state access limit: read more than {} witness bytes",
                crate::state::MAX_TX_WITNESS_BYTES
            ),
            gas_used: gas,
        };
        return Ok((halt, EvmState::default()));
    }
    match outcome {
        Ok(done) => {
            let gas_used = done.result.tx_gas_used();
            let outcome = match done.result {
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
            };
            Ok((outcome, done.state))
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

/// `eth_createAccessList`: the accounts and slots `request` accesses, as an EIP-2930 list,
/// with the outcome of running it with that list (geth's algorithm and exclusions).
pub fn create_access_list<R: StateReader>(
    params: &ChainParams,
    block: &BlockContext,
    request: &CallRequest,
    state: &R,
) -> Result<(AccessList, CallOutcome), CallError> {
    let gas = request.gas.unwrap_or_else(|| tx_gas_cap(params));
    let from = request.from.unwrap_or(Address::ZERO);
    // Warm anyway (sender, recipient, precompiles, EIP-3651's coinbase): listing them would
    // only cost 2,400 gas each.
    let precompiles = Precompiles::new(PrecompileSpecId::from_spec_id(params.spec));
    let excluded = |a: &Address| {
        *a == from || Some(*a) == request.to || *a == block.beneficiary || precompiles.contains(a)
    };
    let mut request = request.clone();
    let mut rounds = 0;
    loop {
        let (outcome, loaded) = run_with_state(params, block, &request, gas, state)?;
        let accessed = accessed_list(&loaded, excluded);
        rounds += 1;
        if accessed == request.access_list || rounds >= MAX_ACCESS_LIST_ROUNDS {
            return Ok((request.access_list, outcome));
        }
        request.access_list = accessed;
    }
}

/// The access list of what a run loaded: every slot, and every account with a slot or
/// neither excluded nor created by the run (its address was not known before it). Sorted,
/// so that two runs compare.
fn accessed_list(loaded: &EvmState, excluded: impl Fn(&Address) -> bool) -> AccessList {
    let mut list: BTreeMap<Address, BTreeSet<B256>> = BTreeMap::new();
    for (address, account) in loaded {
        let slots: BTreeSet<B256> = account.storage.keys().map(|k| B256::from(*k)).collect();
        if slots.is_empty() && (excluded(address) || account.is_created()) {
            continue;
        }
        list.entry(*address).or_default().extend(slots);
    }
    AccessList(
        list.into_iter()
            .map(|(address, slots)| AccessListItem {
                address,
                storage_keys: slots.into_iter().collect(),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use alloy_primitives::keccak256;

    use super::*;
    use crate::keys::AccountValue;
    use crate::state::MemoryState;

    const CALLER: Address = Address::repeat_byte(0xca);
    const CONTRACT: Address = Address::repeat_byte(0xc0);
    const OTHER: Address = Address::repeat_byte(0x0e);

    fn params() -> ChainParams {
        ChainParams {
            chain_id: 1337,
            spec: SpecId::OSAKA,
            base_fee_per_gas: 1_000_000_000,
            block_gas_limit: 30_000_000,
            trace_period: 1,
            fee_recipients: HashMap::new(),
        }
    }

    fn block() -> BlockContext {
        BlockContext {
            height: 5,
            hash: B256::repeat_byte(5),
            parent_hash: B256::repeat_byte(4),
            timestamp: 1_700_000_000,
            beneficiary: Address::repeat_byte(0xbe),
            base_fee: 1_000_000_000,
        }
    }

    /// A funded caller and a contract with `code`.
    fn state(code: &[u8]) -> MemoryState {
        let mut state = MemoryState::default();
        let code = Bytes::copy_from_slice(code);
        let code_hash = keccak256(&code);
        state.accounts.insert(
            CALLER,
            AccountValue {
                balance: U256::from(10u128.pow(18)),
                ..Default::default()
            },
        );
        state.accounts.insert(
            CONTRACT,
            AccountValue {
                nonce: 1,
                code_hash,
                ..Default::default()
            },
        );
        state.code.insert(code_hash, code);
        state
    }

    /// PUSH0 SLOAD STOP: reads slot 0.
    const READ_SLOT_0: [u8; 3] = [0x5f, 0x54, 0x00];

    fn to_contract(access_list: AccessList) -> CallRequest {
        CallRequest {
            from: Some(CALLER),
            to: Some(CONTRACT),
            access_list,
            ..Default::default()
        }
    }

    fn estimate(request: &CallRequest, state: &MemoryState) -> Option<u64> {
        estimate_gas(&params(), &block(), request, state)
            .ok()
            .and_then(Result::ok)
    }

    #[test]
    fn access_lists_are_charged_as_eip_2930_intrinsic_gas() {
        let state = state(&READ_SLOT_0);
        // 21,000 + PUSH0 (2) + a cold SLOAD (2,100).
        assert_eq!(
            estimate(&to_contract(AccessList::default()), &state),
            Some(23_102)
        );
        // 21,000 + 2,400 (the address) + 1,900 (the slot) + PUSH0 (2) + a warm SLOAD (100),
        // as geth and anvil estimate it.
        let listed = AccessList(vec![AccessListItem {
            address: CONTRACT,
            storage_keys: vec![B256::ZERO],
        }]);
        assert_eq!(estimate(&to_contract(listed.clone()), &state), Some(25_402));
        // eth_call runs with the list too.
        let called = call(&params(), &block(), &to_contract(listed), &state).ok();
        assert!(matches!(
            called,
            Some(CallOutcome::Success {
                gas_used: 25_402,
                ..
            })
        ));
    }

    #[test]
    fn created_access_lists_hold_what_the_call_touched() {
        // PUSH20 OTHER BALANCE POP PUSH1 7 SLOAD STOP
        let mut code = vec![0x73];
        code.extend_from_slice(OTHER.as_slice());
        code.extend_from_slice(&[0x31, 0x50, 0x60, 0x07, 0x54, 0x00]);
        let state = state(&code);
        let created = create_access_list(
            &params(),
            &block(),
            &to_contract(AccessList::default()),
            &state,
        )
        .ok();
        let Some((list, outcome)) = created else {
            panic!("no access list");
        };
        // The recipient is listed for its slot only; the sender and coinbase not at all.
        let slot_7 = B256::from(U256::from(7));
        assert_eq!(
            list,
            AccessList(vec![
                AccessListItem {
                    address: OTHER,
                    storage_keys: vec![],
                },
                AccessListItem {
                    address: CONTRACT,
                    storage_keys: vec![slot_7],
                },
            ])
        );
        // With the list: 21,000 + 2 * 2,400 + 1,900, then PUSH20 (3) + warm BALANCE (100) +
        // POP (2) + PUSH1 (3) + warm SLOAD (100).
        assert!(matches!(
            outcome,
            CallOutcome::Success {
                gas_used: 27_908,
                ..
            }
        ));
    }

    /// A call that returns one word: `word_code` leaves it on the stack.
    fn returning(word_code: &[u8]) -> Vec<u8> {
        // ... PUSH0 MSTORE PUSH1 32 PUSH0 RETURN
        [word_code, &[0x5f, 0x52, 0x60, 0x20, 0x5f, 0xf3]].concat()
    }

    fn word(outcome: Result<CallOutcome, CallError>) -> Option<U256> {
        match outcome {
            Ok(CallOutcome::Success { output, .. }) if output.len() == 32 => {
                Some(U256::from_be_slice(&output))
            }
            _ => None,
        }
    }

    #[test]
    fn calls_read_through_state_and_block_overrides() {
        use crate::overrides::{
            AccountOverride, BlockOverrides, Overridden, StateOverrides, StorageOverride,
        };
        // Reads slot 0 of the contract.
        let state = state(&returning(&[0x5f, 0x54]));
        let request = to_contract(AccessList::default());
        let plain = word(call(&params(), &block(), &request, &state));
        assert_eq!(plain, Some(U256::ZERO));
        let overrides = StateOverrides::from([(
            CONTRACT,
            AccountOverride {
                storage: Some(StorageOverride::Diff(
                    [(U256::ZERO, U256::from(42))].into_iter().collect(),
                )),
                ..Default::default()
            },
        )]);
        let overridden = Overridden::new(&state, &overrides);
        let read = word(call(&params(), &block(), &request, &overridden));
        assert_eq!(read, Some(U256::from(42)));

        // Code override: the contract now answers the caller's balance (overridden) ...
        let mut balance_code = vec![0x73];
        balance_code.extend_from_slice(CALLER.as_slice());
        balance_code.push(0x31);
        let overrides = StateOverrides::from([
            (
                CONTRACT,
                AccountOverride {
                    code: Some(Bytes::from(returning(&balance_code))),
                    ..Default::default()
                },
            ),
            (
                CALLER,
                AccountOverride {
                    balance: Some(U256::from(5)),
                    ..Default::default()
                },
            ),
        ]);
        let overridden = Overridden::new(&state, &overrides);
        let read = word(call(&params(), &block(), &request, &overridden));
        assert_eq!(read, Some(U256::from(5)));

        // ... and block overrides: NUMBER.
        let overrides = StateOverrides::from([(
            CONTRACT,
            AccountOverride {
                code: Some(Bytes::from(returning(&[0x43]))),
                ..Default::default()
            },
        )]);
        let overridden = Overridden::new(&state, &overrides);
        let at = BlockOverrides {
            number: Some(1_000),
            ..Default::default()
        };
        let (p, b) = at.apply(&params(), &block());
        let read = word(call(&p, &b, &request, &overridden));
        assert_eq!(read, Some(U256::from(1_000)));
        // The state beneath never changed.
        assert_eq!(
            state.accounts.get(&CALLER).map(|a| a.balance),
            Some(U256::from(10u128.pow(18)))
        );
    }
}
