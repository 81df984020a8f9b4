//! Contract creation: by a transaction of each type, creations that fail (revert, out of gas,
//! rejected code), and CREATE / CREATE2 from a contract (the `Factory` fixture).

use alloy_consensus::TxLegacy;
use alloy_primitives::{keccak256, Address, TxKind, B256, U256};
use lazychain_exec_stf::{StateReader, TxStatus, TxWrite};
use lazychain_fraud_harness::tx::{call, Arg};
use lazychain_fraud_harness::{Chain, BASE_FEE};

use crate::common::*;

/// Child's runtime as deployed (the creation code minus its constructor).
fn child_runtime() -> Vec<u8> {
    let init = Fixture::Child.init_code();
    init[init.len() - CHILD_RUNTIME_LEN as usize..].to_vec()
}

/// `address` holds a `Child` that stored `value` and has `balance` wei, in `state`.
fn assert_child(state: &impl StateReader, address: Address, value: U256, balance_wei: U256) {
    let runtime = child_runtime();
    assert_eq!(
        code_of(state, address).as_ref(),
        runtime.as_slice(),
        "Child code at {address}"
    );
    assert_eq!(
        slot(state, address, U256::ZERO),
        value,
        "Child.value at {address}"
    );
    assert_eq!(balance(state, address), balance_wei, "balance of {address}");
    assert_eq!(
        account(state, address).map(|a| a.nonce),
        Some(1),
        "nonce of {address}"
    );
}

/// A legacy (EIP-155) creation with value, and a pre-EIP-155 legacy creation (no chain id:
/// validators refuse it at admission, but the executor runs whatever a block holds).
#[test]
fn creation_by_a_legacy_transaction_is_provable() {
    let chain = Chain::funded(1);
    let k = chain.keys[0].clone();
    let eip155 = k.legacy(0, None, wei(5), 300_000, child_init(U256::from(41)));
    let pre155 = k.sign(TxLegacy {
        chain_id: None,
        nonce: 1,
        gas_price: 2 * BASE_FEE as u128,
        gas_limit: 300_000,
        to: TxKind::Create,
        value: U256::ZERO,
        input: child_init(U256::from(42)).into(),
    });
    let block = execute(&chain, vec![eip155, pre155]);
    assert_all(&block, TxStatus::Success);
    for (i, (value, paid)) in [(41u64, 5u128), (42, 0)].into_iter().enumerate() {
        let created = k.address.create(i as u64);
        assert_eq!(block.receipts()[i].contract_address, Some(created));
        assert_eq!(block.receipts()[i].tx_type, 0);
        assert_child(
            &after(&chain, &block),
            created,
            U256::from(value),
            wei(paid),
        );
    }
    prove_all(&chain, &block);
}

/// An EIP-2930 creation whose access list warms the address being created (and its slot 0,
/// which the constructor writes), an existing EOA with a slot, and an absent account.
#[test]
fn creation_by_an_eip2930_transaction_with_an_access_list_is_provable() {
    let chain = Chain::funded(2);
    let (k, other) = (chain.keys[0].clone(), chain.keys[1].address);
    let created = k.address.create(0);
    let absent = fresh_addresses("2930 absent", 1)[0];
    let warm = [
        (created, vec![B256::ZERO]),
        (
            other,
            vec![B256::with_last_byte(1), B256::with_last_byte(2)],
        ),
        (absent, vec![]),
    ];
    let tx = k.eip2930(0, None, wei(9), 400_000, child_init(U256::from(7)), &warm);
    let block = execute(&chain, vec![tx]);
    let r = expect_status(&block, 0, TxStatus::Success);
    assert_eq!((r.tx_type, r.contract_address), (1, Some(created)));
    let state = after(&chain, &block);
    assert_child(&state, created, U256::from(7), wei(9));
    // Warming creates nothing.
    assert!(account(&state, absent).is_none());
    prove_all(&chain, &block);
}

/// EIP-1559 creations: with value, and with empty init code (an account with no code).
#[test]
fn creation_by_an_eip1559_transaction_is_provable() {
    let chain = Chain::funded(1);
    let mut k = Sender::new(&chain.keys[0]);
    let (with_value, a) = k.create(child_init(U256::from(3)), wei(1_000), 300_000);
    let (empty, b) = k.create(Vec::new(), wei(77), 100_000);
    let block = execute(&chain, vec![with_value, empty]);
    assert_all(&block, TxStatus::Success);
    assert_eq!(block.receipts()[0].tx_type, 2);
    let state = after(&chain, &block);
    assert_child(&state, a, U256::from(3), wei(1_000));
    let b_account = account(&state, b).expect("the empty creation exists (nonce 1)");
    assert_eq!(
        (b_account.nonce, b_account.balance, b_account.code_hash),
        (1, wei(77), keccak256([]))
    );
    prove_all(&chain, &block);
}

/// A creation whose constructor writes a slot and then REVERTs with data: the receipt names
/// the address, nothing is created, the value stays with the sender, the nonce is used.
#[test]
fn creation_reverting_in_its_constructor_is_provable() {
    let chain = Chain::funded(1);
    let mut k = Sender::new(&chain.keys[0]);
    // SSTORE(0, 1); MSTORE(0, 0xaa); REVERT(0, 32)
    let init = hex::decode("600160005560aa5f5260205ffd").expect("hex");
    let (tx, created) = k.create(init, wei(12_345), 200_000);
    let (then, _) = k.create(child_init(U256::from(1)), U256::ZERO, 300_000);
    let before = balance(&chain.state, k.address());
    let block = execute(&chain, vec![tx, then]);
    let r = expect_status(&block, 0, TxStatus::Failed);
    assert_eq!(r.reason, "execution reverted");
    assert_eq!(r.contract_address, Some(created));
    assert_eq!(
        r.output.as_ref(),
        U256::from(0xaa).to_be_bytes::<32>().as_slice()
    );
    expect_status(&block, 1, TxStatus::Success);
    let state = after(&chain, &block);
    assert!(account(&state, created).is_none(), "nothing created");
    assert_eq!(slot(&state, created, U256::ZERO), U256::ZERO);
    let sender = account(&state, k.address()).expect("sender");
    assert_eq!(sender.nonce, 2);
    let fees: U256 = block
        .receipts()
        .iter()
        .map(|r| U256::from(r.gas_used) * U256::from(r.effective_gas_price) + r.unused_gas_charge)
        .sum();
    assert_eq!(sender.balance, before - fees, "only fees were paid");
    prove_all(&chain, &block);
}

/// Creations that run out of gas or halt: init code looping forever, code whose deposit
/// (200 gas a byte) the gas cannot pay, code over the EIP-170 size limit, and code starting
/// with 0xEF (EIP-3541). All use their whole gas limit and create nothing.
#[test]
fn creation_out_of_gas_or_halting_is_provable() {
    let chain = Chain::funded(1);
    let mut k = Sender::new(&chain.keys[0]);
    let cases: [(&str, u64, &str); 4] = [
        ("5b5f56", 300_000, "OutOfGas"),     // JUMPDEST PUSH0 JUMP
        ("6127105ff3", 300_000, "OutOfGas"), // RETURN(0, 10000): deposit 2M gas
        ("6160015ff3", 6_000_000, "CreateContractSizeLimit"), // RETURN(0, 24577)
        ("60ef5f5360015ff3", 300_000, "CreateContractStartingWithEF"), // MSTORE8(0, 0xef)
    ];
    let mut txs = Vec::new();
    let mut created = Vec::new();
    for (init, gas, _) in cases {
        let (tx, a) = k.create(hex::decode(init).expect("hex"), wei(1), gas);
        txs.push(tx);
        created.push(a);
    }
    let block = execute(&chain, txs);
    let state = after(&chain, &block);
    for (i, (_, gas, reason)) in cases.iter().enumerate() {
        let r = expect_status(&block, i, TxStatus::Failed);
        assert!(r.reason.contains(reason), "transaction {i}: {r:?}");
        assert_eq!(r.gas_used, *gas, "transaction {i} used its whole gas");
        assert!(account(&state, created[i]).is_none());
    }
    assert_eq!(account(&state, k.address()).map(|a| a.nonce), Some(4));
    prove_all(&chain, &block);
}

/// `Factory.create(5, salt)`: 5 CREATE and 5 CREATE2 children (constructor arguments, logs),
/// then `create(2, salt)` again in the same block: the CREATE2 address collides and the call
/// reverts.
#[test]
fn factory_create_and_create2_children_are_provable() {
    let (chain, mut k, factory) = chain_with(Fixture::Factory);
    let salt = B256::repeat_byte(0x5a);
    let create = |n: u64| call("create(uint256,bytes32)", &[Arg::uint(n), Arg::Word(salt)]);
    let txs = vec![
        k.call(factory, create(5), 4_000_000),
        k.call(factory, create(2), 3_000_000),
    ];
    let block = execute(&chain, txs);
    let r = expect_status(&block, 0, TxStatus::Success);
    assert_eq!(r.logs.len(), 10, "one Created event per child");
    let r = expect_status(&block, 1, TxStatus::Failed);
    assert_eq!(r.reason, "execution reverted");

    let state = after(&chain, &block);
    assert_eq!(
        uint_getter(&chain, &state, factory, "childrenCount()"),
        U256::from(10)
    );
    for i in 0..5u64 {
        let a = address_word(
            &getter(
                &chain,
                &state,
                factory,
                "children(uint256)",
                &[Arg::uint(2 * i)],
            ),
            0,
        );
        let b = address_word(
            &getter(
                &chain,
                &state,
                factory,
                "children(uint256)",
                &[Arg::uint(2 * i + 1)],
            ),
            0,
        );
        // A contract's nonce starts at 1; each iteration creates two children.
        assert_eq!(a, factory.create(1 + 2 * i));
        let s = keccak256([salt.0, U256::from(i).to_be_bytes::<32>()].concat());
        let s_value = U256::from_be_bytes(s.0);
        assert_eq!(b, factory.create2(s, keccak256(child_init(s_value))));
        assert_child(&state, a, U256::from(i + 1), U256::ZERO);
        assert_child(&state, b, s_value, U256::ZERO);
    }
    prove_all(&chain, &block);
}

/// `Factory.nested(8)`: contracts deploying contracts 8 levels deep (9 contracts), and
/// `nested(9)`, which the factory refuses (reverts).
#[test]
fn factory_nested_creation_is_provable() {
    let (chain, mut k, factory) = chain_with(Fixture::Factory);
    let nested = |d: u64| call("nested(uint256)", &[Arg::uint(d)]);
    let txs = vec![
        k.call(factory, nested(8), 3_000_000),
        k.call(factory, nested(9), 3_000_000),
    ];
    let block = execute(&chain, txs);
    expect_status(&block, 0, TxStatus::Success);
    expect_status(&block, 1, TxStatus::Failed);
    let state = after(&chain, &block);
    assert_eq!(
        uint_getter(&chain, &state, factory, "nestedCount()"),
        U256::from(9)
    );
    let top = address_word(&getter(&chain, &state, factory, "nestedTop()", &[]), 0);
    let leaf = address_word(&getter(&chain, &state, factory, "nestedLeaf()", &[]), 0);
    assert_eq!(top, factory.create(1));
    assert_eq!(uint_getter(&chain, &state, top, "depth()"), U256::from(8));
    assert_eq!(uint_getter(&chain, &state, leaf, "depth()"), U256::ZERO);
    // Each level is its parent's first creation.
    let mut cur = top;
    for _ in 0..8 {
        let child = address_word(&getter(&chain, &state, cur, "child()", &[]), 0);
        assert_eq!(child, cur.create(1));
        cur = child;
    }
    assert_eq!(cur, leaf);
    prove_all(&chain, &block);
}

/// `Factory.createFailing()` twice: a reverting constructor (address 0, the revert payload
/// visible), a CREATE2 that succeeds and the same CREATE2 again (collision: 0), and 0xEF code
/// (EIP-3541: 0), none of which reverts the call.
#[test]
fn factory_failing_creations_are_provable() {
    let (chain, mut k, factory) = chain_with(Fixture::Factory);
    let txs = vec![
        k.call(factory, call("createFailing()", &[]), 3_000_000),
        k.call(factory, call("createFailing()", &[]), 3_000_000),
    ];
    let block = execute(&chain, txs);
    assert_all(&block, TxStatus::Success);
    let state = after(&chain, &block);
    let get = |sig: &str| getter(&chain, &state, factory, sig, &[]);
    assert_eq!(word(&get("failCalls()"), 0), U256::from(2));
    assert_eq!(address_word(&get("revertedCreate()"), 0), Address::ZERO);
    assert_eq!(word(&get("revertedDataSize()"), 0), U256::from(132));
    let first = address_word(&get("create2First()"), 0);
    assert_ne!(first, Address::ZERO);
    assert_child(&state, first, U256::from(2), U256::ZERO);
    assert_eq!(address_word(&get("create2Collision()"), 0), Address::ZERO);
    assert_eq!(word(&get("collisionCallOk()"), 0), U256::from(1));
    assert_eq!(address_word(&get("efCreate()"), 0), Address::ZERO);
    prove_all(&chain, &block);
}

/// `rawCreate` (with value) of arbitrary init code, `rawCreate` of init code deploying 0xEF
/// code (0 in `lastRaw`), `rawCreate2`, `rawCreate2` again with the same salt (collision: 0),
/// and `tryCreate` / `tryCreate2` of init code that reverts (0, nothing stored).
#[test]
fn factory_raw_creations_are_provable() {
    let (chain, mut k, factory) = chain_with(Fixture::Factory);
    let salt = B256::repeat_byte(0x77);
    let init = child_init(U256::from(10));
    let reverting = hex::decode("60aa5f5260205ffd").expect("hex");
    let raw2 = call(
        "rawCreate2(bytes32,bytes)",
        &[Arg::Word(salt), Arg::Bytes(init.clone())],
    );
    let ef_code = hex::decode("60ef5f5360015ff3").expect("hex");
    let txs = vec![
        k.send(
            factory,
            wei(50),
            call("rawCreate(bytes)", &[Arg::Bytes(child_init(U256::from(9)))]),
            500_000,
        ),
        k.call(
            factory,
            call("rawCreate(bytes)", &[Arg::Bytes(ef_code)]),
            500_000,
        ),
        k.call(factory, raw2.clone(), 500_000),
        k.call(factory, raw2, 500_000),
        k.call(
            factory,
            call("tryCreate(bytes)", &[Arg::Bytes(reverting.clone())]),
            500_000,
        ),
        k.call(
            factory,
            call(
                "tryCreate2(bytes32,bytes)",
                &[Arg::Word(salt), Arg::Bytes(reverting)],
            ),
            500_000,
        ),
    ];
    let block = execute(&chain, txs);
    assert_all(&block, TxStatus::Success);
    let state = after(&chain, &block);
    // `lastRaw` (slot 16) as each transaction wrote it (`None`: not written).
    let last_raw = |i: usize| -> Option<Address> {
        block.log.tx(i).iter().find_map(|w| match w {
            TxWrite::Storage(a, s, v) if *a == factory && *s == U256::from(16) => {
                Some(Address::from_slice(&v.to_be_bytes::<32>()[12..]))
            }
            _ => None,
        })
    };
    let created = factory.create(1);
    assert_eq!(last_raw(0), Some(created));
    assert_child(&state, created, U256::from(9), wei(50));
    assert_eq!(last_raw(1), Some(Address::ZERO), "0xEF code refused");
    assert!(account(&state, factory.create(2)).is_none());
    let created2 = factory.create2(salt, keccak256(&init));
    assert_eq!(last_raw(2), Some(created2));
    assert_child(&state, created2, U256::from(10), U256::ZERO);
    assert_eq!(last_raw(3), Some(Address::ZERO), "collision");
    assert_eq!(last_raw(4), None, "tryCreate stores nothing");
    assert_eq!(last_raw(5), None, "tryCreate2 stores nothing");
    // Every creation, failed or not, used one of the factory's nonces (it started at 1).
    assert_eq!(account(&state, factory).map(|a| a.nonce), Some(1 + 6));
    prove_all(&chain, &block);
}
