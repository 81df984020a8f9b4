//! Shared helpers of the transition tests: keys, signing, a chain in memory, contract calls.

#![allow(dead_code)]

use std::collections::HashMap;

use alloy_consensus::TxEip1559;
use alloy_primitives::{Address, Bytes, B256, U256};
use lazychain_exec_state_tree::StateTree;
use lazychain_exec_stf::genesis::{genesis_memory_state, tree_of, AllocAccount};
use lazychain_exec_stf::{
    call, execute_block, prepare, BlockContext, BlockExecution, CallOutcome, CallRequest,
    ChainParams, MemoryState, StateReader,
};
use secp256k1::SecretKey;

pub const CHAIN_ID: u64 = 1337;
pub const BASE_FEE: u64 = 1_000_000_000;
pub const ETH: u128 = 1_000_000_000_000_000_000;
pub const TOKEN_HEX: &str = include_str!("../../../contracts/build/LazyToken.bytecode.hex");

// Each test binary uses a few of these.
#[allow(unused_imports)]
pub use lazychain_test_utils::abi::{balance_of_call, erc20_transfer, selector, word_address};
pub use lazychain_test_utils::{address_of, key};

/// `tx` signed by `key` for this chain, EIP-2718 encoded.
pub fn sign(key: &SecretKey, tx: TxEip1559) -> Vec<u8> {
    lazychain_test_utils::sign(
        key,
        TxEip1559 {
            chain_id: CHAIN_ID,
            ..tx
        },
    )
}

/// An EIP-1559 transaction (`to: None` creates) paying a priority fee of 1,000 wei.
pub fn tx(nonce: u64, to: Option<Address>, value: u128, gas: u64, input: Vec<u8>) -> TxEip1559 {
    TxEip1559 {
        max_fee_per_gas: 2 * BASE_FEE as u128,
        max_priority_fee_per_gas: 1_000,
        ..lazychain_test_utils::eip1559_tx(CHAIN_ID, nonce, to, U256::from(value), gas, input)
    }
}

pub fn params() -> ChainParams {
    ChainParams {
        chain_id: CHAIN_ID,
        spec: lazychain_exec_stf::hardfork("osaka").expect("known"),
        base_fee_per_gas: BASE_FEE,
        block_gas_limit: 100_000_000,
        trace_period: 1,
        fee_recipients: HashMap::from([([7u8; 20], FEE_RECIPIENT)]),
    }
}

pub const FEE_RECIPIENT: Address = Address::repeat_byte(0xfe);

pub fn block(height: u64) -> BlockContext {
    BlockContext {
        height,
        hash: B256::repeat_byte(height as u8),
        parent_hash: B256::repeat_byte(height.saturating_sub(1) as u8),
        timestamp: 1_700_000_000 + height,
        beneficiary: FEE_RECIPIENT,
        base_fee: BASE_FEE,
    }
}

/// A chain in memory: the state, its tree, and the next height.
pub struct Chain {
    pub params: ChainParams,
    pub state: MemoryState,
    pub tree: StateTree,
    pub height: u64,
}

impl Chain {
    pub fn new(alloc: &[AllocAccount]) -> Self {
        let (state, tree) = genesis_memory_state(alloc);
        Chain {
            params: params(),
            state,
            tree,
            height: 1,
        }
    }

    pub fn funded(keys: &[SecretKey]) -> Self {
        let alloc: Vec<AllocAccount> = keys
            .iter()
            .map(|k| AllocAccount {
                address: address_of(k),
                balance: U256::from(100 * ETH),
                ..Default::default()
            })
            .collect();
        Chain::new(&alloc)
    }

    pub fn execute(&mut self, raw: &[Vec<u8>]) -> BlockExecution {
        let txs = prepare(raw.iter().map(|r| r.as_slice()));
        let out = execute_block(
            &self.params,
            &block(self.height),
            &txs,
            &self.state,
            &mut self.tree,
        )
        .expect("block executes");
        self.state.apply(&out.writes);
        self.height += 1;
        // The tree always matches a tree rebuilt from the flat state.
        let rebuilt = tree_of(&lazychain_exec_stf::StateWrites {
            accounts: self
                .state
                .accounts
                .iter()
                .map(|(a, v)| (*a, Some(*v)))
                .collect(),
            storage: self.state.storage.clone(),
            code: self
                .state
                .code
                .iter()
                .map(|(h, c)| (*h, Some(c.clone())))
                .collect(),
        });
        assert_eq!(
            rebuilt.root(),
            self.tree.root(),
            "tree and flat state diverged"
        );
        out
    }

    pub fn balance(&self, address: Address) -> U256 {
        self.state
            .account(&address)
            .expect("read")
            .map(|a| a.balance)
            .unwrap_or_default()
    }

    pub fn nonce(&self, address: Address) -> u64 {
        self.state
            .account(&address)
            .expect("read")
            .map(|a| a.nonce)
            .unwrap_or_default()
    }

    pub fn call(&self, to: Address, input: Vec<u8>) -> CallOutcome {
        let request = CallRequest {
            to: Some(to),
            input: Bytes::from(input),
            ..Default::default()
        };
        call(&self.params, &block(self.height), &request, &self.state).expect("call runs")
    }
}

pub fn token_deploy(supply: u64) -> Vec<u8> {
    let mut code = hex::decode(TOKEN_HEX.trim()).expect("fixture is hex");
    code.extend_from_slice(&U256::from(supply).to_be_bytes::<32>());
    code
}

pub fn success_u256(outcome: CallOutcome) -> U256 {
    match outcome {
        CallOutcome::Success { output, .. } => U256::from_be_slice(&output),
        other => panic!("call failed: {other:?}"),
    }
}
