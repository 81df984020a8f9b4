//! EIP-7702. Set-code (type 4) transactions are admitted and executed (protocol §3.1, §10):
//! each valid authorization writes a delegation designator (`0xef0100 || delegate`) as the
//! authority's code and bumps its nonce; calls to a delegated account run the delegate's code
//! on the account's own storage; it may send transactions (EIP-3607 exempts it), and EXTCODE*
//! see the 23-byte designator. Every such transaction is provable.

use alloy_primitives::{keccak256, Address, Bytes, U256};
use lazychain_exec_stf::genesis::AllocAccount;
use lazychain_exec_stf::TxStatus;
use lazychain_fraud_harness::tx::{call, Arg, Key, ETH};
use lazychain_fraud_harness::Chain;

use crate::common::*;

/// A type-4 transaction delegating an EOA to `Storage` and calling it (sponsored: another key
/// sends it), one the EOA sends itself (authorization at its nonce + 1, since sending bumps
/// it first) re-delegating and writing again, an authorization for another chain (ignored),
/// and `CodeReader.read` of the EOA: every transaction executes, and a lie about any of them
/// is provable.
#[test]
fn eip7702_transactions_execute_and_are_provable() {
    let mut chain = Chain::funded(3);
    let mut k = Sender::new(&chain.keys[0]);
    let eoa = chain.keys[1].clone();
    let other = chain.keys[2].clone();
    let deployed = deploy(&mut chain, &mut k, &[Fixture::Storage, Fixture::CodeReader]);
    let (storage, reader) = (deployed[0], deployed[1]);
    let sponsored = k.key.eip7702(
        k.nonce,
        eoa.address,
        300_000,
        storage_set(1, 2),
        vec![eoa.authorize(storage, 0)],
    );
    k.nonce += 1;
    // The EOA's nonce is 1 after the sponsored authorization.
    let own = eoa.eip7702(
        1,
        eoa.address,
        300_000,
        storage_set(1, 3),
        vec![eoa.authorize(storage, 2)],
    );
    let mut foreign = other.authorize(storage, 0).strip_signature();
    foreign.chain_id = U256::from(lazychain_fraud_harness::CHAIN_ID + 1);
    let foreign = other.sign_authorization(foreign);
    let ignored = k
        .key
        .eip7702(k.nonce, other.address, 100_000, Vec::new(), vec![foreign]);
    k.nonce += 1;
    let txs = vec![
        sponsored.clone(),
        own.clone(),
        ignored,
        k.call(
            reader,
            call("read(address)", &[Arg::Address(eoa.address)]),
            500_000,
        ),
    ];
    let block = execute(&chain, txs);
    assert_all(&block, TxStatus::Success);
    for r in &block.receipts()[..3] {
        assert_eq!(r.tx_type, 4);
    }
    let state = after(&chain, &block);
    let designator: Vec<u8> = [&[0xef, 0x01, 0x00][..], storage.as_slice()].concat();
    let delegated = account(&state, eoa.address).expect("delegated");
    assert_eq!(delegated.code_hash, keccak256(&designator));
    // Two authorizations and one transaction of its own.
    assert_eq!(delegated.nonce, 3);
    assert_eq!(slot(&state, eoa.address, U256::from(1)), U256::from(3));
    assert_eq!(
        slot(&state, storage, U256::from(1)),
        U256::ZERO,
        "not the delegate's"
    );
    // The foreign-chain authorization delegated nothing.
    let untouched = account(&state, other.address).expect("funded");
    assert_eq!(untouched.code_hash, keccak256([]));
    assert_eq!(untouched.nonce, 0);
    let r = code_record(&chain, &state, reader, 0);
    assert_eq!(r.size, U256::from(23));
    assert_eq!(r.codehash, keccak256(&designator));
    prove_all(&chain, &block);
}

/// A delegated EOA from genesis (code `0xef0100 || Storage`): a call to it runs `Storage.set`
/// on the EOA's own storage, the EOA sends a transaction to itself (allowed despite its
/// code), it receives value through the delegate's `receive`, and `CodeReader.read` sees the
/// 23-byte designator.
#[test]
fn a_delegated_account_is_provable() {
    let k = Key::from_index(0);
    let delegated = Key::from_index(1);
    let storage = k.address.create(0);
    let designator: Vec<u8> = [&[0xef, 0x01, 0x00][..], storage.as_slice()].concat();
    let alloc = AllocAccount {
        address: delegated.address,
        balance: U256::from(10 * ETH),
        code: Bytes::from(designator.clone()),
        ..Default::default()
    };
    let mut chain = Chain::new(vec![k.clone()], U256::from(100 * ETH), &[alloc]);
    let mut k = Sender::new(&k);
    let deployed = deploy(&mut chain, &mut k, &[Fixture::Storage, Fixture::CodeReader]);
    assert_eq!(deployed[0], storage);
    let reader = deployed[1];
    let txs = vec![
        k.call(delegated.address, storage_set(1, 2), 200_000),
        delegated.eip1559(
            0,
            Some(delegated.address),
            U256::ZERO,
            200_000,
            storage_set(2, 3),
        ),
        k.send(delegated.address, wei(55), Vec::new(), 100_000),
        k.call(
            reader,
            call("read(address)", &[Arg::Address(delegated.address)]),
            500_000,
        ),
    ];
    let block = execute(&chain, txs);
    assert_all(&block, TxStatus::Success);
    let state = after(&chain, &block);
    assert_eq!(
        slot(&state, delegated.address, U256::from(1)),
        U256::from(2)
    );
    assert_eq!(
        slot(&state, delegated.address, U256::from(2)),
        U256::from(3)
    );
    assert_eq!(
        slot(&state, storage, U256::from(1)),
        U256::ZERO,
        "not the delegate's"
    );
    let d = account(&state, delegated.address).expect("delegated");
    assert_eq!(d.nonce, 1);
    assert_eq!(d.code_hash, keccak256(&designator));
    let fee = U256::from(block.receipts()[1].gas_used)
        * U256::from(block.receipts()[1].effective_gas_price)
        + block.receipts()[1].unused_gas_charge;
    assert_eq!(d.balance, U256::from(10 * ETH) - fee + wei(55));
    let r = code_record(&chain, &state, reader, 0);
    assert_eq!(r.size, U256::from(23));
    assert_eq!(
        (r.codehash, r.copy_hash),
        (keccak256(&designator), keccak256(&designator))
    );
    prove_all(&chain, &block);
}

/// Code starting with the EIP-7702 magic `0xef01` that is not a 23-byte designator can only
/// come from a genesis, and genesis validation refuses it (lazychain-config). Should such code
/// reach the state anyway, touching the account stops execution with an error, never a panic
/// (revm's `Bytecode::new_raw` panics on it; the transition decodes with the checked form).
#[test]
fn malformed_delegation_code_in_the_state_stops_execution_without_a_panic() {
    let k = Key::from_index(0);
    let odd = Address::repeat_byte(0x33);
    let alloc = AllocAccount {
        address: odd,
        code: Bytes::from_static(&[0xef, 0x01]),
        ..Default::default()
    };
    let chain = Chain::new(vec![k.clone()], U256::from(100 * ETH), &[alloc]);
    let outcome = chain.execute(vec![k.eip1559(0, Some(odd), wei(1), 50_000, Vec::new())]);
    let Err(e) = outcome else {
        panic!("a block touching malformed code executed");
    };
    assert!(e.to_string().contains("does not decode"), "{e}");
}
