//! Re-executing one transaction from a witness (its keys' values and a multiproof) gives
//! exactly the intermediate root the full execution recorded, for every kind of transaction;
//! a witness with a wrong, missing or extra value does not authenticate.

mod common;

use alloy_primitives::{Address, B256};
use common::*;
use lazychain_exec_stf::witness::{reexecute, witness_for_tx, ReexecError};
use lazychain_exec_stf::{
    execute_block, execute_block_logged, prepare, BlockExecution, Overlay, PreparedTx, TxStatus,
};

/// A chain with a deployed token, and a block mixing transfers, token calls, a revert, a
/// skipped transaction and a creation.
fn setup() -> (Chain, Vec<PreparedTx>) {
    let alice = key(1);
    let bob = key(2);
    let mut chain = Chain::funded(&[alice, bob]);
    let out = chain.execute(&[sign(
        &alice,
        tx(0, None, 0, 2_000_000, token_deploy(1_000_000)),
    )]);
    let token = out.receipts[0].contract_address.expect("token");
    let carol = Address::repeat_byte(0xca);
    let raw = [
        sign(&alice, tx(1, Some(carol), ETH, 21_000, vec![])),
        sign(
            &alice,
            tx(2, Some(token), 0, 100_000, erc20_transfer(carol, 77)),
        ),
        sign(
            &bob,
            tx(0, Some(token), 0, 100_000, erc20_transfer(carol, 5)),
        ), // reverts: bob has no tokens
        sign(&bob, tx(9, Some(carol), 1, 21_000, vec![])), // skipped: nonce
        sign(&alice, tx(3, None, 0, 2_000_000, token_deploy(10))),
        sign(&bob, tx(1, Some(address_of(&alice)), 3, 21_000, vec![])),
    ];
    let txs = prepare(raw.iter().map(|r| r.as_slice()));
    (chain, txs)
}

#[test]
fn every_transaction_reexecutes_from_its_witness_to_the_recorded_root() {
    let (chain, txs) = setup();
    let ctx = block(chain.height);
    let mut tree = chain.tree.clone();
    let full: BlockExecution =
        execute_block(&chain.params, &ctx, &txs, &chain.state, &mut tree).expect("executes");
    let statuses: Vec<TxStatus> = full.receipts.iter().map(|r| r.status).collect();
    assert!(statuses.contains(&TxStatus::Failed) && statuses.contains(&TxStatus::Skipped));

    for i in 0..txs.len() {
        let (state, tree) = state_before(&chain, &txs[..i]);
        let prev = if i == 0 {
            full.pre_state_root
        } else {
            full.trace[i - 1]
        };
        assert_eq!(B256::from(tree.root()), prev);
        let witness = witness_for_tx(&chain.params, &ctx, &txs[i], &state, &tree).expect("witness");
        let root = reexecute(&chain.params, &ctx, &txs[i], prev, &witness).expect("re-executes");
        assert_eq!(root, full.trace[i], "transaction {i} ({:?})", statuses[i]);
        println!(
            "tx {i} {:?}: {} keys, proof {} bytes",
            statuses[i],
            witness.entries.len(),
            lazychain_exec_state_tree::encode_multi_proof(&witness.proof).len()
        );
    }
}

/// A prover that executed the block rolls back from the state after it: for every
/// transaction, the logged writes give the same root, the same state and the same witness as
/// executing the transactions before it again.
#[test]
fn rolling_back_the_write_log_gives_the_state_before_every_transaction() {
    let (chain, txs) = setup();
    let ctx = block(chain.height);
    let mut post_tree = chain.tree.clone();
    let (full, log) = execute_block_logged(&chain.params, &ctx, &txs, &chain.state, &mut post_tree)
        .expect("executes");
    let plain = execute_block(
        &chain.params,
        &ctx,
        &txs,
        &chain.state,
        &mut chain.tree.clone(),
    )
    .expect("executes");
    assert_eq!(full.trace, plain.trace, "logging changes nothing");
    assert_eq!(full.writes, plain.writes);
    assert_eq!(log.len(), txs.len());
    let mut post_state = chain.state.clone();
    post_state.apply(&full.writes);

    for i in 0..=txs.len() {
        let (undo, ops) = log.rollback_to(i, &chain.state).expect("rolls back");
        let mut tree = post_tree.clone();
        let root = B256::from(tree.update(&ops));
        let want = if i == 0 {
            full.pre_state_root
        } else {
            full.trace[i - 1]
        };
        assert_eq!(root, want, "root before transaction {i}");
        if i == txs.len() {
            break;
        }
        let rolled = Overlay {
            base: &post_state,
            writes: &undo,
        };
        let (state, reexecuted_tree) = state_before(&chain, &txs[..i]);
        let from_log =
            witness_for_tx(&chain.params, &ctx, &txs[i], &rolled, &tree).expect("witness");
        let from_reexecution =
            witness_for_tx(&chain.params, &ctx, &txs[i], &state, &reexecuted_tree)
                .expect("witness");
        assert_eq!(
            from_log.entries, from_reexecution.entries,
            "transaction {i}"
        );
        assert_eq!(
            lazychain_exec_state_tree::encode_multi_proof(&from_log.proof),
            lazychain_exec_state_tree::encode_multi_proof(&from_reexecution.proof),
            "transaction {i}"
        );
    }
}

#[test]
fn tampered_witnesses_do_not_authenticate() {
    let (chain, txs) = setup();
    let ctx = block(chain.height);
    let (state, tree) = state_before(&chain, &txs[..1]);
    let prev = B256::from(tree.root());
    let witness = witness_for_tx(&chain.params, &ctx, &txs[1], &state, &tree).expect("witness");
    assert!(
        witness.entries.len() >= 4,
        "token transfer touches sender, token, code, slots"
    );

    // A changed value.
    for i in 0..witness.entries.len() {
        let mut bad = witness.clone();
        match &mut bad.entries[i].1 {
            Some(bytes) if !bytes.is_empty() => bytes[0] ^= 1,
            Some(_) => bad.entries[i].1 = None,
            None => bad.entries[i].1 = Some(vec![1; 32]),
        }
        assert!(
            matches!(
                reexecute(&chain.params, &ctx, &txs[1], prev, &bad),
                Err(ReexecError::Witness(_))
            ),
            "entry {i} changed but accepted"
        );
    }
    // A missing value: execution cannot read it.
    for i in 0..witness.entries.len() {
        let mut bad = witness.clone();
        bad.entries.remove(i);
        assert!(
            reexecute(&chain.params, &ctx, &txs[1], prev, &bad).is_err(),
            "entry {i} dropped but accepted"
        );
    }
    // A duplicated entry, and another root.
    let mut bad = witness.clone();
    bad.entries.push(bad.entries[0].clone());
    assert!(reexecute(&chain.params, &ctx, &txs[1], prev, &bad).is_err());
    assert!(reexecute(&chain.params, &ctx, &txs[1], B256::repeat_byte(3), &witness).is_err());
}

/// The state and tree after `txs` of the next block.
fn state_before(
    chain: &Chain,
    txs: &[PreparedTx],
) -> (
    lazychain_exec_stf::MemoryState,
    lazychain_exec_state_tree::StateTree,
) {
    let mut state = chain.state.clone();
    let mut tree = chain.tree.clone();
    if !txs.is_empty() {
        let out = execute_block(
            &chain.params,
            &block(chain.height),
            txs,
            &chain.state,
            &mut tree,
        )
        .expect("executes");
        state.apply(&out.writes);
    }
    (state, tree)
}

/// Code a transaction only reads is authenticated by its hash and left out of the multiproof;
/// code it deploys is written, so its path stays in (the verifier updates the root through it).
#[test]
fn only_written_code_is_in_the_multiproof() {
    use lazychain_exec_stf::StateKey;
    let (chain, txs) = setup();
    let ctx = block(chain.height);
    for (i, expect_code_in_proof) in [(1usize, false), (4, true)] {
        let (state, tree) = state_before(&chain, &txs[..i]);
        let prev = B256::from(tree.root());
        let witness = witness_for_tx(&chain.params, &ctx, &txs[i], &state, &tree).expect("witness");
        let verified = lazychain_exec_state_tree::verify_multi_proof(&prev.0, &witness.proof)
            .expect("the multiproof verifies");
        let code: Vec<StateKey> = witness
            .entries
            .iter()
            .filter(|(k, _)| matches!(k, StateKey::Code(_)))
            .map(|(k, _)| *k)
            .collect();
        if expect_code_in_proof {
            // The deployed code's key, written by the creation.
            assert!(
                code.iter().any(|k| verified.get(&k.path()).is_ok()),
                "transaction {i}: the written code must be covered"
            );
        } else {
            assert!(
                !code.is_empty(),
                "the token transfer reads the token's code"
            );
            for k in &code {
                assert!(
                    verified.get(&k.path()).is_err(),
                    "transaction {i}: read-only code {k:?} is outside the proof"
                );
            }
        }
        let root = reexecute(&chain.params, &ctx, &txs[i], prev, &witness).expect("re-executes");
        assert_ne!(root, prev, "transaction {i} changed the state");
    }
}
