use alloy_consensus::TxEip1559;
use alloy_primitives::{Address, TxKind, U256};
use lazychain_config::{dev_accounts, dev_execution, BlockLimits, GenesisValidator, StateGenesis};
use lazychain_data_chain_types::block::{BlockBody, BlockTemplate};
use lazychain_exec_stf::genesis::genesis_memory_state;
use lazychain_exec_stf::prepare;
use secp256k1::SecretKey;

use super::*;

const CHAIN_ID: u64 = 4242;

fn genesis() -> Genesis {
    Genesis {
        chain_id: CHAIN_ID,
        genesis_time_ms: 1_700_000_000_000,
        validators: vec![GenesisValidator {
            name: "v".into(),
            public_key: [7; 32],
            voting_power: 1,
            fee_recipient: Address::repeat_byte(0xfe),
        }],
        limits: BlockLimits::default(),
        execution: dev_execution(0),
        state: StateGenesis {
            slash_reward_percent: 50,
            executors: Vec::new(),
            ..StateGenesis::default()
        },
    }
}

fn dev_key(i: usize) -> SecretKey {
    let account = &dev_accounts(0, 10)[i];
    SecretKey::from_byte_array(account.private_key.0).expect("dev key")
}

fn transfer(key: &SecretKey, nonce: u64) -> Vec<u8> {
    lazychain_test_utils::sign(
        key,
        TxEip1559 {
            max_fee_per_gas: 10_000_000_000,
            to: TxKind::Call(Address::repeat_byte(0x42)),
            value: U256::from(1_000u64 + nonce),
            ..lazychain_test_utils::transfer_tx(CHAIN_ID, nonce)
        },
    )
}

fn block(height: u64, parent: BlockHash, txs: &[Vec<u8>], timestamp_ms: u64) -> Block {
    let body = BlockBody::from_transactions(txs.iter().map(Vec::as_slice)).expect("body");
    let template = BlockTemplate {
        chain_id: CHAIN_ID,
        height,
        parent,
        proposer: [0; 20],
        timestamp_ms,
        gas_available: 0,
        base_fee_per_gas: 0,
    };
    Block::build(&template, body, 21_000 * txs.len() as u64).expect("block")
}

fn no_hints(_: &B256) -> Option<Address> {
    None
}

/// The roots a lazy executor computes for the same blocks, straight from the transition.
fn reference_roots(genesis: &Genesis, blocks: &[Block]) -> Vec<B256> {
    let params = lazychain_fraud::chain::chain_params(genesis).expect("params");
    let (mut state, mut tree) = genesis_memory_state(&lazychain_fraud::chain::alloc(genesis));
    let mut roots = Vec::new();
    for b in blocks {
        let hash = b.header.hash().expect("hash");
        let context = params.block_context(&b.header, B256::from(hash.0));
        let txs = prepare(b.body.transactions());
        let out = execute_block(&params, &context, &txs, &state, &mut tree).expect("executes");
        state.apply(&out.writes);
        state
            .block_hashes
            .insert(b.header.height, B256::from(hash.0));
        roots.push(out.post_state_root);
    }
    roots
}

#[test]
fn executes_before_decision_and_commits_the_same_roots_as_an_executor() {
    let genesis = genesis();
    let key = dev_key(0);
    let b1 = block(1, BlockHash::ZERO, &[transfer(&key, 0)], 1_700_000_001_000);
    let h1 = b1.header.hash().expect("hash");
    let b2 = block(
        2,
        h1,
        &[transfer(&key, 1), transfer(&key, 2)],
        1_700_000_002_000,
    );
    let expected = reference_roots(&genesis, &[b1.clone(), b2.clone()]);

    let metrics = CoupledMetrics::new();
    let mut coupled = CoupledExecution::from_genesis(&genesis, metrics.clone()).expect("genesis");
    let genesis_root = coupled.committed().1;
    assert_eq!(
        genesis_root,
        lazychain_fraud::chain::genesis_state_root(&genesis)
    );

    // Proposal at height 1: executed, but the committed state does not move until decided.
    let root1 = coupled.execute(&b1, &no_hints).expect("executes");
    assert_eq!(root1, expected[0]);
    assert_ne!(root1, genesis_root);
    assert_eq!(coupled.committed(), (0, genesis_root));
    // A re-proposal of the same block reuses the result.
    assert_eq!(coupled.execute(&b1, &no_hints).expect("cached"), root1);

    assert_eq!(coupled.commit(&b1, &no_hints).expect("commits"), root1);
    assert_eq!(coupled.committed(), (1, root1));
    // Height 2 was never proposed here (learnt through sync): commit executes it.
    assert_eq!(
        coupled.commit(&b2, &no_hints).expect("commits"),
        expected[1]
    );
    assert_eq!(coupled.committed(), (2, expected[1]));
    assert_eq!(metrics.executed_height.get(), 2);
    assert_eq!(metrics.executed_txs.get(), 3);
    assert_eq!(metrics.skipped_txs.get(), 0);
    assert_eq!(metrics.gas_used.get(), 3 * 21_000);
    // An old decision (replayed) changes nothing.
    assert_eq!(coupled.commit(&b1, &no_hints).expect("no-op"), expected[1]);
    assert_eq!(coupled.committed(), (2, expected[1]));
}

#[test]
fn a_competing_proposal_does_not_leak_into_the_decided_state() {
    let genesis = genesis();
    let (a, b) = (dev_key(0), dev_key(1));
    let losing = block(1, BlockHash::ZERO, &[transfer(&a, 0)], 1_700_000_001_000);
    let winning = block(1, BlockHash::ZERO, &[transfer(&b, 0)], 1_700_000_001_500);
    let expected = reference_roots(&genesis, std::slice::from_ref(&winning));

    let mut coupled =
        CoupledExecution::from_genesis(&genesis, CoupledMetrics::new()).expect("genesis");
    let losing_root = coupled.execute(&losing, &no_hints).expect("executes");
    let winning_root = coupled.execute(&winning, &no_hints).expect("executes");
    assert_ne!(losing_root, winning_root);
    assert_eq!(
        coupled.commit(&winning, &no_hints).expect("commits"),
        expected[0]
    );
    assert_eq!(coupled.committed(), (1, expected[0]));
}

#[test]
fn a_block_that_skips_a_height_is_refused_and_changes_nothing() {
    let genesis = genesis();
    let key = dev_key(0);
    let b2 = block(2, BlockHash([1; 32]), &[transfer(&key, 0)], 1);
    let mut coupled =
        CoupledExecution::from_genesis(&genesis, CoupledMetrics::new()).expect("genesis");
    let before = coupled.committed();
    assert!(matches!(
        coupled.execute(&b2, &no_hints),
        Err(CoupledError::OutOfOrder {
            height: 2,
            executed: 0
        })
    ));
    assert!(matches!(
        coupled.commit(&b2, &no_hints),
        Err(CoupledError::OutOfOrder { .. })
    ));
    assert_eq!(coupled.committed(), before);
}

#[test]
fn a_transaction_that_fails_a_state_check_is_skipped_and_counted() {
    let genesis = genesis();
    let key = dev_key(0);
    // Nonce 5 from an account at nonce 0: skipped by the deterministic rule.
    let b1 = block(1, BlockHash::ZERO, &[transfer(&key, 5)], 1_700_000_001_000);
    let metrics = CoupledMetrics::new();
    let mut coupled = CoupledExecution::from_genesis(&genesis, metrics.clone()).expect("genesis");
    coupled.commit(&b1, &no_hints).expect("commits");
    assert_eq!(metrics.executed_txs.get(), 1);
    assert_eq!(metrics.skipped_txs.get(), 1);
}
