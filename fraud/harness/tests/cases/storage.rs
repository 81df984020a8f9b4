//! Storage (set, clear, reset within a transaction, hundreds of slots), transient storage,
//! and logs: the `Storage` fixture.

use alloy_primitives::{keccak256, B256, U256};
use lazychain_exec_stf::TxStatus;
use lazychain_fraud_harness::tx::{call, Arg};
use lazychain_fraud_harness::FEE_RECIPIENT;

use crate::common::*;

/// Raw slots 0 -> x, x -> y, x -> 0, x -> x+1 -> x (`reset`), x -> 0 -> x and 0 -> x -> 0
/// (`resetVia`), and `many` writing then clearing 300 slots, over two blocks.
#[test]
fn storage_set_clear_reset_and_many_are_provable() {
    let (mut chain, mut k, storage) = chain_with(Fixture::Storage);
    let many = |start: u64, value: u64| {
        call(
            "many(uint256,uint256,uint256)",
            &[Arg::uint(start), Arg::uint(300), Arg::uint(value)],
        )
    };
    let txs = vec![
        k.call(storage, storage_set(1, 5), 100_000),
        k.call(storage, storage_set(2, 7), 100_000),
        k.call(storage, storage_set(3, 9), 100_000),
        k.call(storage, many(1_000, 9), 8_000_000),
    ];
    let block = execute(&chain, txs);
    assert_all(&block, TxStatus::Success);
    let state = after(&chain, &block);
    for (s, v) in [(1u64, 5u64), (2, 7), (3, 9), (1_000, 9), (1_299, 9)] {
        assert_eq!(
            slot(&state, storage, U256::from(s)),
            U256::from(v),
            "slot {s}"
        );
    }
    assert_eq!(slot(&state, storage, U256::from(1_300)), U256::ZERO);
    prove_all(&chain, &block);
    chain.commit(block);

    let reset_via =
        |s: u64, tmp: u64| call("resetVia(uint256,uint256)", &[Arg::uint(s), Arg::uint(tmp)]);
    let txs = vec![
        k.call(storage, storage_set(1, 6), 100_000),
        k.call(storage, call("clear(uint256)", &[Arg::uint(2)]), 100_000),
        k.call(storage, call("reset(uint256)", &[Arg::uint(3)]), 100_000),
        k.call(storage, reset_via(3, 0), 100_000),
        k.call(storage, reset_via(4, 11), 100_000),
        k.call(storage, many(1_000, 0), 8_000_000),
    ];
    let block = execute(&chain, txs);
    assert_all(&block, TxStatus::Success);
    let state = after(&chain, &block);
    assert_eq!(slot(&state, storage, U256::from(1)), U256::from(6));
    assert_eq!(slot(&state, storage, U256::from(2)), U256::ZERO);
    assert_eq!(slot(&state, storage, U256::from(3)), U256::from(9));
    assert_eq!(slot(&state, storage, U256::from(4)), U256::ZERO);
    for s in [1_000u64, 1_150, 1_299] {
        assert_eq!(slot(&state, storage, U256::from(s)), U256::ZERO, "slot {s}");
    }
    // The round trips wrote nothing: their only writes are the sender's account.
    for i in [2, 3, 4] {
        assert!(
            block
                .log
                .tx(i)
                .iter()
                .all(|w| !matches!(w, lazychain_exec_stf::TxWrite::Storage(..))),
            "transaction {i} wrote storage: {:?}",
            block.log.tx(i)
        );
    }
    // Clearing slots refunds gas.
    assert!(block.receipts()[5].gas_used < 300 * 5_000);
    prove_all(&chain, &block);
}

/// Transient storage: `transientWrite` twice in consecutive transactions (the second still
/// reads 0 before writing: transient values vanish between transactions, also in the next
/// block), `transientTwice` (persists across calls within one transaction), `transientRevert`
/// (a reverted frame's TSTORE is undone) and `tstoreThenRevert` called directly (reverts).
#[test]
fn transient_storage_is_provable() {
    let (mut chain, mut k, storage) = chain_with(Fixture::Storage);
    let kv = |f: &str, key: u64, v: u64| {
        call(
            &format!("{f}(uint256,uint256)"),
            &[Arg::uint(key), Arg::uint(v)],
        )
    };
    let txs = vec![
        k.call(storage, kv("transientWrite", 1, 10), 200_000),
        k.call(storage, kv("transientWrite", 1, 11), 200_000),
        k.call(storage, kv("transientTwice", 2, 20), 300_000),
        k.call(storage, kv("transientRevert", 3, 30), 300_000),
        k.call(storage, kv("tstoreThenRevert", 4, 40), 200_000),
    ];
    let block = execute(&chain, txs);
    for i in 0..4 {
        expect_status(&block, i, TxStatus::Success);
    }
    let r = expect_status(&block, 4, TxStatus::Failed);
    assert_eq!(r.reason, "execution reverted");
    let state = after(&chain, &block);
    let map = |f: &str, key: u64| {
        word(
            &getter(
                &chain,
                &state,
                storage,
                &format!("{f}(uint256)"),
                &[Arg::uint(key)],
            ),
            0,
        )
    };
    assert_eq!(
        (map("tBefore", 1), map("tAfter", 1)),
        (U256::ZERO, U256::from(11))
    );
    assert_eq!(
        (map("tBefore", 2), map("tAfter", 2)),
        (U256::from(20), U256::from(21))
    );
    assert_eq!(map("tAfterRevert", 3), U256::from(30));
    // The reverted transaction wrote no storage: the sender's and the fee recipient's
    // accounts only.
    assert!(block.log.tx(4).iter().all(|w| matches!(
        w,
        lazychain_exec_stf::TxWrite::Account(a, _) if *a == k.address() || *a == FEE_RECIPIENT
    )));
    prove_all(&chain, &block);
    chain.commit(block);

    let block = execute(
        &chain,
        vec![k.call(storage, kv("transientWrite", 2, 5), 200_000)],
    );
    expect_status(&block, 0, TxStatus::Success);
    let state = after(&chain, &block);
    let out = getter(&chain, &state, storage, "tBefore(uint256)", &[Arg::uint(2)]);
    assert_eq!(
        word(&out, 0),
        U256::ZERO,
        "the previous block's transient value is gone"
    );
    prove_all(&chain, &block);
}

/// LOG0..LOG4 (`logs`: six logs with the documented topics and data), `logsReverted` (the
/// logs of a reverted inner frame are dropped: none in the receipt, the call succeeds) and
/// `logsThenRevert` called directly (the transaction reverts: no logs).
#[test]
fn logs_are_provable() {
    let (chain, mut k, storage) = chain_with(Fixture::Storage);
    let (a, b) = (B256::repeat_byte(0xa1), B256::repeat_byte(0x0b));
    let args = [Arg::Word(a), Arg::Word(b)];
    let txs = vec![
        k.call(storage, call("logs(bytes32,bytes32)", &args), 200_000),
        k.call(
            storage,
            call("logsReverted(bytes32,bytes32)", &args),
            200_000,
        ),
        k.call(
            storage,
            call("logsThenRevert(bytes32,bytes32)", &args),
            200_000,
        ),
    ];
    let block = execute(&chain, txs);
    let logs = &expect_status(&block, 0, TxStatus::Success).logs;
    let x = a ^ b;
    let h = keccak256([a.0, b.0].concat());
    let topics: Vec<Vec<B256>> = vec![
        vec![],
        vec![a],
        vec![a, b],
        vec![a, b, x],
        vec![a, b, x, h],
        vec![b, a],
    ];
    assert_eq!(logs.len(), 6);
    for (i, (log, want)) in logs.iter().zip(&topics).enumerate() {
        assert_eq!(log.address, storage);
        assert_eq!(log.topics(), want.as_slice(), "log {i}");
        let data: &[u8] = if i == 5 { &[] } else { &[a.0, b.0].concat() };
        assert_eq!(log.data.data.as_ref(), data, "log {i}");
    }
    assert!(expect_status(&block, 1, TxStatus::Success).logs.is_empty());
    assert!(expect_status(&block, 2, TxStatus::Failed).logs.is_empty());
    let state = after(&chain, &block);
    assert_eq!(
        uint_getter(&chain, &state, storage, "logCalls()"),
        U256::from(1)
    );
    assert!(!block.out.logs_bloom.is_zero());
    prove_all(&chain, &block);
}
