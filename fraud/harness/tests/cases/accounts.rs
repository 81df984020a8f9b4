//! Reading other accounts (EXTCODESIZE / EXTCODEHASH / EXTCODECOPY / BALANCE), SELFDESTRUCT
//! under current rules (EIP-6780), and value transfers that create accounts (or, with zero
//! value, do not: EIP-161).

use alloy_primitives::{keccak256, Address, B256, U256};
use lazychain_exec_stf::TxStatus;
use lazychain_fraud_harness::tx::{call, Arg};
use lazychain_fraud_harness::Chain;

use crate::common::*;

fn read(address: Address) -> Vec<u8> {
    call("read(address)", &[Arg::Address(address)])
}

/// `CodeReader.read` of an existing contract, an EOA, an account that does not exist, and
/// two precompiles (ecrecover and P256VERIFY, which have no account: they read as absent),
/// then `readFresh()` (a contract reading itself in its constructor, a contract created in
/// the same transaction, one created and destroyed in it), and in the next block `read` of
/// the destroyed one, which is gone.
#[test]
fn code_reads_are_provable() {
    let mut chain = Chain::funded(2);
    let mut k = Sender::new(&chain.keys[0]);
    let eoa = chain.keys[1].address;
    let reader = deploy(&mut chain, &mut k, &[Fixture::CodeReader])[0];
    let (child_tx, child) = k.create(child_init(U256::from(5)), wei(321), 300_000);
    run_ok(&mut chain, vec![child_tx]);
    let nobody = fresh_addresses("code reads", 1)[0];
    let p256 = Address::left_padding_from(&[0x01, 0x00]);
    let ecrecover = Address::with_last_byte(1);
    let txs = vec![
        k.call(reader, read(child), 500_000),
        k.call(reader, read(eoa), 500_000),
        k.call(reader, read(nobody), 500_000),
        k.call(reader, read(ecrecover), 500_000),
        k.call(reader, read(p256), 500_000),
        k.send(reader, wei(1_001), call("readFresh()", &[]), 3_000_000),
    ];
    let block = execute(&chain, txs);
    assert_all(&block, TxStatus::Success);
    let state = after(&chain, &block);
    let empty = keccak256([]);
    assert_eq!(
        uint_getter(&chain, &state, reader, "recordsCount()"),
        U256::from(9)
    );

    let runtime = code_of(&state, child);
    assert_eq!(runtime.len() as u64, CHILD_RUNTIME_LEN);
    let r = code_record(&chain, &state, reader, 0);
    assert_eq!(r.account, child);
    assert_eq!(r.size, U256::from(CHILD_RUNTIME_LEN));
    assert_eq!(
        (r.codehash, r.copy_hash),
        (keccak256(&runtime), keccak256(&runtime))
    );
    assert_eq!(r.balance, wei(321));

    let r = code_record(&chain, &state, reader, 1);
    assert_eq!(
        (r.size, r.codehash, r.copy_hash),
        (U256::ZERO, empty, empty)
    );
    assert_eq!(r.balance, balance(&chain.state, eoa));

    for (i, absent) in [(2, nobody), (3, ecrecover), (4, p256)] {
        let r = code_record(&chain, &state, reader, i);
        assert_eq!(r.account, absent);
        assert_eq!(
            (r.size, r.codehash, r.copy_hash),
            (U256::ZERO, B256::ZERO, empty)
        );
        assert_eq!(r.balance, U256::ZERO);
        assert!(account(&state, absent).is_none(), "reading creates nothing");
    }

    // readFresh: the probe during its constructor (exists, no code yet), after it, a fresh
    // Child with half the value, a Child destroyed in the same call (code until the end of the
    // transaction, balance 0), which is then gone.
    let probe = code_record(&chain, &state, reader, 5);
    assert_eq!((probe.size, probe.codehash), (U256::ZERO, empty));
    let probe_after = code_record(&chain, &state, reader, 6);
    assert_eq!(probe_after.account, probe.account);
    assert!(probe_after.size > U256::ZERO);
    let fresh = code_record(&chain, &state, reader, 7);
    assert_eq!(fresh.size, U256::from(CHILD_RUNTIME_LEN));
    assert_eq!(fresh.balance, wei(500));
    let destroyed = code_record(&chain, &state, reader, 8);
    assert_eq!(destroyed.size, U256::from(CHILD_RUNTIME_LEN));
    assert_eq!(destroyed.balance, U256::ZERO);
    assert!(
        account(&state, destroyed.account).is_none(),
        "destroyed at the end"
    );
    assert_eq!(slot(&state, destroyed.account, U256::ZERO), U256::ZERO);
    prove_all(&chain, &block);
    chain.commit(block);

    let block = execute(
        &chain,
        vec![k.call(reader, read(destroyed.account), 500_000)],
    );
    expect_status(&block, 0, TxStatus::Success);
    let state = after(&chain, &block);
    let again = code_record(&chain, &state, reader, 9);
    assert_eq!(again.account, destroyed.account);
    assert_eq!((again.size, again.codehash), (U256::ZERO, B256::ZERO));
    prove_all(&chain, &block);
}

/// A chain with one funded key, a sender of that key, and a `Destroyer` holding `balance`
/// deployed by it in a block of its own.
fn chain_with_destroyer(balance: U256) -> (Chain, Sender, Address) {
    let mut chain = Chain::funded(1);
    let mut k = Sender::new(&chain.keys[0]);
    let (deploy_tx, destroyer) = k.create(Fixture::Destroyer.init_code(), balance, 1_000_000);
    run_ok(&mut chain, vec![deploy_tx]);
    (chain, k, destroyer)
}

/// `Destroyer.destroy(to)` of a contract deployed in an earlier block, to an account that does
/// not exist yet: only the balance moves (and creates the beneficiary); code, storage and
/// nonce stay, and the contract still works in the next transaction.
#[test]
fn selfdestruct_of_a_preexisting_contract_is_provable() {
    let (chain, mut k, destroyer) = chain_with_destroyer(wei(1_000));
    let code = code_of(&chain.state, destroyer);
    let beneficiary = fresh_addresses("destroy beneficiary", 1)[0];
    let txs = vec![
        k.call(
            destroyer,
            call("destroy(address)", &[Arg::Address(beneficiary)]),
            200_000,
        ),
        // Refill and destroy again, to the same (now existing) beneficiary.
        k.send(destroyer, wei(30), Vec::new(), 100_000),
        k.call(
            destroyer,
            call("destroy(address)", &[Arg::Address(beneficiary)]),
            200_000,
        ),
    ];
    let block = execute(&chain, txs);
    assert_all(&block, TxStatus::Success);
    let state = after(&chain, &block);
    assert_eq!(balance(&state, beneficiary), wei(1_030));
    let d = account(&state, destroyer).expect("the contract stays");
    assert_eq!((d.balance, d.nonce), (U256::ZERO, 1));
    assert_eq!(code_of(&state, destroyer), code);
    let ping = getter(&chain, &state, destroyer, "ping()", &[]);
    assert_eq!(
        (word(&ping, 0), word(&ping, 1)),
        (U256::from(2), U256::ZERO)
    );
    prove_all(&chain, &block);
}

/// `Destroyer.destroySelfBeneficiary()` of a pre-existing contract: nothing moves, the
/// balance is kept (in contrast to `Factory.createAndBurn`).
#[test]
fn selfdestruct_naming_itself_is_provable() {
    let (chain, mut k, destroyer) = chain_with_destroyer(wei(4_242));
    let block = execute(
        &chain,
        vec![
            k.call(destroyer, call("destroySelfBeneficiary()", &[]), 200_000),
            k.call(destroyer, call("destroySelfBeneficiary()", &[]), 200_000),
        ],
    );
    assert_all(&block, TxStatus::Success);
    let state = after(&chain, &block);
    assert_eq!(balance(&state, destroyer), wei(4_242));
    assert!(!code_of(&state, destroyer).is_empty());
    assert_eq!(
        uint_getter(&chain, &state, destroyer, "destroyCount()"),
        U256::from(2)
    );
    assert_eq!(
        address_word(
            &getter(&chain, &state, destroyer, "lastBeneficiary()", &[]),
            0
        ),
        destroyer
    );
    prove_all(&chain, &block);
}

/// `Factory.createAndDestroy(salt)` (a CREATE2 child destroyed to the sender, and a child whose
/// constructor self-destructs to the factory), twice with the same salt in consecutive
/// transactions (the accounts really are gone, so the address is free again), and
/// `Factory.createAndBurn(salt)` (same-transaction self-destruct naming itself: the ether is
/// burnt).
#[test]
fn create_and_destroy_in_one_transaction_is_provable() {
    let (chain, mut k, factory) = chain_with(Fixture::Factory);
    let salt = B256::repeat_byte(0xd1);
    let destroy = call("createAndDestroy(bytes32)", &[Arg::Word(salt)]);
    let txs = vec![
        k.send(factory, wei(1_001), destroy.clone(), 1_000_000),
        k.send(factory, wei(2_000), destroy, 1_000_000),
        k.send(
            factory,
            wei(777),
            call("createAndBurn(bytes32)", &[Arg::Word(salt)]),
            500_000,
        ),
    ];
    let sender_before = balance(&chain.state, k.address());
    let block = execute(&chain, txs);
    assert_all(&block, TxStatus::Success);
    let state = after(&chain, &block);
    let get = |sig: &str| getter(&chain, &state, factory, sig, &[]);
    let destroyed = address_word(&get("lastDestroyed()"), 0);
    assert_eq!(
        destroyed,
        factory.create2(salt, keccak256(child_init(U256::from_be_bytes(salt.0))))
    );
    assert_eq!(
        word(&get("codeSizeAfterDestroy()"), 0),
        U256::from(CHILD_RUNTIME_LEN)
    );
    assert_eq!(word(&get("balanceAfterDestroy()"), 0), U256::ZERO);
    let dying = address_word(&get("lastDying()"), 0);
    assert_eq!(word(&get("dyingCodeSize()"), 0), U256::ZERO);
    for gone in [destroyed, dying] {
        assert!(account(&state, gone).is_none(), "{gone} is gone");
        assert_eq!(slot(&state, gone, U256::ZERO), U256::ZERO);
    }
    // Both createAndDestroy calls' CREATE2 children went the same address (the first was
    // really deleted), and each wrote its first slot.
    for i in 0..2 {
        assert!(
            block.log.tx(i).iter().any(|w| matches!(
                w,
                lazychain_exec_stf::TxWrite::Account(a, None) if *a == destroyed
            )),
            "transaction {i} deletes {destroyed}"
        );
    }
    // The DyingChild halves came back to the factory (501 + 1000); the burnt 777 did not.
    assert_eq!(balance(&state, factory), wei(501 + 1_000));
    // The sender got the CREATE2 halves back (500 + 1000) and paid 1001 + 2000 + 777 + fees.
    let fees: U256 = block
        .receipts()
        .iter()
        .map(|r| U256::from(r.gas_used) * U256::from(r.effective_gas_price) + r.unused_gas_charge)
        .sum();
    assert_eq!(
        balance(&state, k.address()),
        sender_before - wei(1_001 + 2_000 + 777) + wei(500 + 1_000) - fees
    );
    prove_all(&chain, &block);
}

/// Plain transfers that create accounts: EIP-1559 and legacy transfers to fresh addresses, a
/// transfer of zero to a fresh address (EIP-161: touched but empty, so not created), a zero
/// transfer to an existing EOA, and a transfer to the sender itself.
#[test]
fn transfers_creating_accounts_are_provable() {
    let chain = Chain::funded(2);
    let mut k = Sender::new(&chain.keys[0]);
    let fresh = fresh_addresses("transfers", 3);
    let other = chain.keys[1].address;
    let legacy_nonce = 1;
    let txs = vec![
        k.send(fresh[0], wei(1), Vec::new(), 21_000),
        {
            k.nonce += 1;
            k.key
                .legacy(legacy_nonce, Some(fresh[1]), wei(2), 21_000, Vec::new())
        },
        k.send(fresh[2], U256::ZERO, Vec::new(), 21_000),
        k.send(other, U256::ZERO, Vec::new(), 21_000),
        k.send(k.address(), wei(5), Vec::new(), 21_000),
    ];
    let block = execute(&chain, txs);
    assert_all(&block, TxStatus::Success);
    let state = after(&chain, &block);
    assert_eq!(
        account(&state, fresh[0]).map(|a| (a.nonce, a.balance)),
        Some((0, wei(1)))
    );
    assert_eq!(balance(&state, fresh[1]), wei(2));
    assert!(
        account(&state, fresh[2]).is_none(),
        "a zero transfer creates nothing"
    );
    assert!(!matches!(
        block.out.writes.accounts.get(&fresh[2]),
        Some(Some(_))
    ));
    assert_eq!(balance(&state, other), balance(&chain.state, other));
    assert_eq!(account(&state, k.address()).map(|a| a.nonce), Some(5));
    prove_all(&chain, &block);
}

/// `Storage.fanout` to 300 fresh addresses (each created with its share), and a fanout whose
/// share is 0 (fewer wei than recipients) to 50 more: touched but not created (EIP-161).
#[test]
fn fanout_to_hundreds_of_fresh_accounts_is_provable() {
    let (chain, mut k, storage) = chain_with(Fixture::Storage);
    let many = fresh_addresses("fanout", 300);
    let zero = fresh_addresses("fanout zero", 50);
    let fanout = |to: &[Address]| call("fanout(address[])", &[Arg::Addresses(to.to_vec())]);
    let txs = vec![
        k.send(storage, wei(300 * 7 + 3), fanout(&many), 16_000_000),
        k.send(storage, wei(49), fanout(&zero), 2_000_000),
    ];
    let block = execute(&chain, txs);
    assert_all(&block, TxStatus::Success);
    let state = after(&chain, &block);
    for a in &many {
        assert_eq!(account(&state, *a).map(|v| v.balance), Some(wei(7)));
    }
    for a in &zero {
        assert!(
            account(&state, *a).is_none(),
            "a share of 0 creates nothing"
        );
    }
    assert_eq!(
        uint_getter(&chain, &state, storage, "fanoutFailures()"),
        U256::ZERO
    );
    assert_eq!(
        uint_getter(&chain, &state, storage, "lastShare()"),
        U256::ZERO
    );
    // The remainder of the first (3 wei) and all of the second (49) stay.
    assert_eq!(balance(&state, storage), wei(3 + 49));
    assert_eq!(block.receipts()[0].logs.len(), 1);
    let cases = prove_all(&chain, &block);
    eprintln!(
        "fanout: largest proof {} bytes, {} witness keys",
        largest(&cases),
        cases.iter().map(|c| c.witness_keys).max().unwrap_or(0)
    );
}
