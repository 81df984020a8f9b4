//! EIP-7702 set-code transactions: authorizations write delegation designators
//! (`0xef0100 || delegate`) as the authority's code and bump its nonce, a call to a delegated
//! account runs the delegate's code on the account's own storage, invalid authorizations are
//! ignored, and every one of these transactions re-executes from its witness to the root the
//! block recorded (what a fraud proof about it needs).

mod common;

use alloy_consensus::{SignableTransaction, TxEip7702};
use alloy_eips::eip2718::Encodable2718;
use alloy_eips::eip2930::AccessList;
use alloy_eips::eip7702::{Authorization, SignedAuthorization};
use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use common::*;
use lazychain_exec_stf::genesis::AllocAccount;
use lazychain_exec_stf::witness::{reexecute, witness_for_tx};
use lazychain_exec_stf::{
    estimate_gas, execute_block, prepare, CallRequest, MemoryState, PreparedTx, StateKey,
    StateReader, TxStatus,
};
use secp256k1::SecretKey;

/// The delegate: `SSTORE(calldata[0..32], calldata[32..64])`, then stop.
const DELEGATE_CODE: [u8; 8] = [0x60, 0x20, 0x35, 0x60, 0x00, 0x35, 0x55, 0x00];
const DELEGATE: Address = Address::repeat_byte(0xde);

fn designator(delegate: Address) -> Vec<u8> {
    [&[0xef, 0x01, 0x00][..], delegate.as_slice()].concat()
}

/// Call data making the delegate write `value` to `slot`.
fn store(slot: u64, value: u64) -> Vec<u8> {
    [
        U256::from(slot).to_be_bytes::<32>(),
        U256::from(value).to_be_bytes::<32>(),
    ]
    .concat()
}

fn authorize(key: &SecretKey, chain_id: u64, delegate: Address, nonce: u64) -> SignedAuthorization {
    let auth = Authorization {
        chain_id: U256::from(chain_id),
        address: delegate,
        nonce,
    };
    let sig = lazychain_test_utils::signature(key, auth.signature_hash());
    auth.into_signed(sig)
}

fn set_code(
    key: &SecretKey,
    nonce: u64,
    to: Address,
    input: Vec<u8>,
    authorizations: Vec<SignedAuthorization>,
) -> Vec<u8> {
    let tx = TxEip7702 {
        chain_id: CHAIN_ID,
        nonce,
        gas_limit: 200_000,
        max_fee_per_gas: 2 * BASE_FEE as u128,
        max_priority_fee_per_gas: 1_000,
        to,
        value: U256::ZERO,
        access_list: AccessList::default(),
        authorization_list: authorizations,
        input: Bytes::from(input),
    };
    let sig = lazychain_test_utils::signature(key, tx.signature_hash());
    tx.into_signed(sig).encoded_2718()
}

/// Alice sponsors Bob's delegation to the delegate and calls him in the same transaction;
/// she calls him again; Bob clears his delegation himself (authorization at his nonce + 1,
/// since sending bumps it first) and is then a plain account again; a transaction whose only
/// authorization is for another chain runs without delegating anyone.
fn setup() -> (Chain, Vec<PreparedTx>) {
    let alice = key(1);
    let bob = key(2);
    let carol = key(3);
    let mut alloc: Vec<AllocAccount> = [&alice, &bob]
        .iter()
        .map(|k| AllocAccount {
            address: address_of(k),
            balance: U256::from(100 * ETH),
            ..Default::default()
        })
        .collect();
    alloc.push(AllocAccount {
        address: DELEGATE,
        code: Bytes::from_static(&DELEGATE_CODE),
        ..Default::default()
    });
    let chain = Chain::new(&alloc);
    let bob_addr = address_of(&bob);
    let raw = [
        set_code(
            &alice,
            0,
            bob_addr,
            store(1, 0x2a),
            vec![authorize(&bob, CHAIN_ID, DELEGATE, 0)],
        ),
        sign(&alice, tx(1, Some(bob_addr), 0, 100_000, store(2, 7))),
        set_code(
            &bob,
            1,
            bob_addr,
            Vec::new(),
            vec![authorize(&bob, CHAIN_ID, Address::ZERO, 2)],
        ),
        sign(&alice, tx(2, Some(bob_addr), 0, 100_000, store(3, 9))),
        set_code(
            &alice,
            3,
            address_of(&carol),
            Vec::new(),
            vec![authorize(&carol, CHAIN_ID + 1, DELEGATE, 0)],
        ),
    ];
    (chain, prepare(raw.iter().map(|r| r.as_slice())))
}

#[test]
fn authorizations_delegate_and_calls_run_the_delegate() {
    let (chain, txs) = setup();
    let bob = address_of(&key(2));
    let carol = address_of(&key(3));
    let ctx = block(chain.height);

    // After the first two transactions: Bob is delegated and his storage was written twice.
    let mut tree = chain.tree.clone();
    let first =
        execute_block(&chain.params, &ctx, &txs[..2], &chain.state, &mut tree).expect("executes");
    for r in &first.receipts {
        assert_eq!(r.status, TxStatus::Success, "{r:?}");
    }
    assert_eq!(first.receipts[0].tx_type, 4);
    let mut state = chain.state.clone();
    state.apply(&first.writes);
    let account = state.account(&bob).expect("read").expect("bob");
    let designator = designator(DELEGATE);
    assert_eq!(account.code_hash, keccak256(&designator));
    // The authorization bumped Bob's nonce although Alice sent the transaction.
    assert_eq!(account.nonce, 1);
    assert_eq!(
        state.code(&account.code_hash).expect("read"),
        Some(Bytes::from(designator.clone()))
    );
    assert_eq!(
        state.storage(&bob, &U256::from(1)).expect("read"),
        U256::from(0x2a)
    );
    assert_eq!(
        state.storage(&bob, &U256::from(2)).expect("read"),
        U256::from(7)
    );
    assert_eq!(
        state.storage(&DELEGATE, &U256::from(1)).expect("read"),
        U256::ZERO,
        "the delegate's own storage is untouched"
    );

    // The whole block.
    let mut tree = chain.tree.clone();
    let full = execute_block(&chain.params, &ctx, &txs, &chain.state, &mut tree).expect("executes");
    for r in &full.receipts {
        assert_eq!(r.status, TxStatus::Success, "{r:?}");
    }
    let mut state = chain.state.clone();
    state.apply(&full.writes);
    let account = state.account(&bob).expect("read").expect("bob");
    // Cleared: no code; his own transaction and the clearing authorization each used a nonce.
    assert_eq!(account.code_hash, keccak256([]));
    assert_eq!(account.nonce, 3);
    assert_eq!(
        state.storage(&bob, &U256::from(3)).expect("read"),
        U256::ZERO,
        "a call to a cleared account runs no code"
    );
    // The authorization signed for another chain was ignored.
    assert_eq!(state.account(&carol).expect("read"), None);
}

/// Every transaction of the block, set-code ones included, re-executes from its witness to
/// the intermediate root the block recorded; the delegation's code key is written, so the
/// multiproof covers it.
#[test]
fn set_code_transactions_reexecute_from_their_witness() {
    let (chain, txs) = setup();
    let ctx = block(chain.height);
    let mut tree = chain.tree.clone();
    let full = execute_block(&chain.params, &ctx, &txs, &chain.state, &mut tree).expect("executes");
    let designator_key = StateKey::Code(keccak256(designator(DELEGATE)));
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
        assert_eq!(root, full.trace[i], "transaction {i}");
        assert_ne!(root, prev, "transaction {i} changed the state");
        if i == 0 {
            let verified = lazychain_exec_state_tree::verify_multi_proof(&prev.0, &witness.proof)
                .expect("verifies");
            assert!(
                verified.get(&designator_key.path()).is_ok(),
                "the designator written is covered by the multiproof"
            );
        }
        if i == 1 {
            // The call reads the designator and then the delegate's account and code.
            let keys: Vec<StateKey> = witness.entries.iter().map(|(k, _)| *k).collect();
            assert!(keys.contains(&designator_key));
            assert!(keys.contains(&StateKey::Account(DELEGATE)));
            assert!(keys.contains(&StateKey::Code(keccak256(DELEGATE_CODE))));
        }
        // A wrong value for the authority's account does not authenticate.
        let mut bad = witness.clone();
        if let Some(entry) = bad
            .entries
            .iter_mut()
            .find(|e| matches!(e.0, StateKey::Account(_)) && e.1.is_some())
        {
            if let Some(bytes) = &mut entry.1 {
                bytes[0] ^= 1;
            }
            assert!(reexecute(&chain.params, &ctx, &txs[i], prev, &bad).is_err());
        }
    }
}

/// The state and tree after `txs` of the next block.
fn state_before(
    chain: &Chain,
    txs: &[PreparedTx],
) -> (MemoryState, lazychain_exec_state_tree::StateTree) {
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

/// `eth_estimateGas` with an authorization list applies it first, as wallets expect: the call
/// to the not yet delegated account then runs the delegate and writes a slot.
#[test]
fn a_call_with_an_authorization_list_runs_the_delegate() {
    let (chain, _) = setup();
    let bob = key(2);
    let request = CallRequest {
        from: Some(address_of(&key(1))),
        to: Some(address_of(&bob)),
        input: Bytes::from(store(1, 5)),
        authorization_list: vec![authorize(&bob, CHAIN_ID, DELEGATE, 0)],
        ..Default::default()
    };
    let ctx = block(chain.height);
    let with = estimate_gas(&chain.params, &ctx, &request, &chain.state)
        .expect("runs")
        .expect("succeeds");
    let plain = CallRequest {
        authorization_list: Vec::new(),
        ..request
    };
    let without = estimate_gas(&chain.params, &ctx, &plain, &chain.state)
        .expect("runs")
        .expect("succeeds");
    assert!(with > without + 40_000, "{with} vs {without}");
}
