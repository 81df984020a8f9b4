//! BLOCKHASH and block information, and every way execution fails: revert, out of gas,
//! INVALID, reverts caught in inner frames, static-context violations, stack and call depth,
//! and hand-built failing bytecode (the `Opcodes` fixture).

use alloy_primitives::{Address, B256, U256};
use lazychain_exec_stf::{TxStatus, TxWrite};
use lazychain_fraud_harness::tx::{call, Arg};
use lazychain_fraud_harness::{Chain, Executed, FEE_RECIPIENT};

use crate::common::*;

/// Commits empty blocks until the next block is `height`.
fn advance_to(chain: &mut Chain, height: u64) {
    while chain.next_height() < height {
        chain.run(Vec::new()).expect("an empty block");
    }
}

/// The calldata of [`raw::BLOCKHASH_EACH`]: one word per height.
fn heights(hs: &[U256]) -> Vec<u8> {
    hs.iter().flat_map(|h| h.to_be_bytes::<32>()).collect()
}

/// `Opcodes.blockInfo()` in block 300 (BLOCKHASH of n-1 and n-2 served by the decided chain,
/// of n-300, of n itself and of block 0 out of range: 0; COINBASE, TIMESTAMP, NUMBER,
/// PREVRANDAO, GASLIMIT), and BLOCKHASH of heights in and out of range from raw bytecode:
/// n-1, n-256 (the oldest in range), n-257, n, n+1, 2^64 and 2^256-1, and all 256 heights in
/// range in one transaction. The proofs carry the hashes they read, which the verifier
/// checks against the decided chain.
#[test]
fn blockhash_and_block_info_are_provable() {
    let (mut chain, mut k, opcodes) = chain_with(Fixture::Opcodes);
    let (tx, reader) = k.create(
        deploy_code(&hex::decode(raw::BLOCKHASH_EACH).expect("hex")),
        U256::ZERO,
        200_000,
    );
    run_ok(&mut chain, vec![tx]);
    advance_to(&mut chain, 300);
    let n = chain.next_height();
    let asked = [
        U256::from(n - 1),
        U256::from(n - 256),
        U256::from(n - 257),
        U256::from(n),
        U256::from(n + 1),
        U256::from(1u128 << 64),
        U256::MAX,
    ];
    // Every height in range: the most block hashes one proof carries (256).
    let window: Vec<U256> = (n - 256..n).map(U256::from).collect();
    let txs = vec![
        k.call(opcodes, call("blockInfo()", &[]), 300_000),
        k.call(reader, heights(&asked), 500_000),
        k.call(reader, heights(&window), 8_000_000),
    ];
    let block = execute(&chain, txs);
    assert_all(&block, TxStatus::Success);
    let hash = |h: u64| U256::from_be_bytes(chain.block_hash(h).expect("a decided block"));
    // The digest event of blockInfo: the keccak of its ten words, which we recompute.
    let info = [
        hash(n - 1),
        hash(n - 2),
        U256::ZERO,
        U256::ZERO,
        U256::ZERO,
        U256::from_be_slice(FEE_RECIPIENT.as_slice()),
        U256::from(block.context.timestamp),
        U256::from(n),
        U256::from_be_bytes(block.context.hash.0),
        U256::from(chain.params.block_gas_limit),
    ];
    let digest = alloy_primitives::keccak256(heights(&info));
    let logs = &block.receipts()[0].logs;
    assert_eq!(
        logs.last().map(|l| l.data.data.as_ref()),
        Some(digest.as_slice())
    );
    let state = after(&chain, &block);
    // Transaction 1 wrote slot 32 i = BLOCKHASH(asked[i]) + 1: the two in range are the
    // decided hashes, the rest 0 + 1.
    let want = [hash(n - 1) + U256::from(1), hash(n - 256) + U256::from(1)];
    let written = storage_writes(&block, 1, reader);
    for (i, h) in asked.iter().enumerate() {
        let w = want.get(i).copied().unwrap_or(U256::from(1));
        assert!(
            written.contains(&(U256::from(32 * i), w)),
            "height {h}: {written:?}"
        );
    }
    // The window was written after `asked`: its slots hold the hash of every height.
    for (i, h) in window.iter().enumerate() {
        let w =
            U256::from_be_bytes(chain.block_hash(h.to::<u64>()).expect("decided")) + U256::from(1);
        assert_eq!(slot(&state, reader, U256::from(32 * i)), w, "height {h}");
    }
    prove_all(&chain, &block);
}

/// BLOCKHASH of block 0 while the chain is at most 256 blocks long: the EVM asks for height
/// 0's hash (in range), which is zero (the genesis state has no data block), and the proof
/// carries (0, zero). The verifier once refused it (no decided block has height 0), which made
/// any such transaction in the first 256 blocks unprovable; height 0 is now zero by rule.
#[test]
fn blockhash_of_block_zero_is_provable() {
    let mut chain = Chain::funded(1);
    let mut k = Sender::new(&chain.keys[0]);
    let (tx, reader) = k.create(
        deploy_code(&hex::decode(raw::BLOCKHASH_EACH).expect("hex")),
        U256::ZERO,
        200_000,
    );
    run_ok(&mut chain, vec![tx]);
    let block = execute(
        &chain,
        vec![k.call(reader, heights(&[U256::ZERO]), 200_000)],
    );
    expect_status(&block, 0, TxStatus::Success);
    assert_eq!(
        slot(&after(&chain, &block), reader, U256::ZERO),
        U256::from(1),
        "BLOCKHASH(0) = 0"
    );
    prove_all(&chain, &block);
}

/// `Opcodes.blockInfo()` at height 5 reads BLOCKHASH(0) (see above).
#[test]
fn block_info_below_height_257_is_provable() {
    let (mut chain, mut k, opcodes) = chain_with(Fixture::Opcodes);
    advance_to(&mut chain, 5);
    let block = execute(
        &chain,
        vec![k.call(opcodes, call("blockInfo()", &[]), 300_000)],
    );
    expect_status(&block, 0, TxStatus::Success);
    prove_all(&chain, &block);
}

/// The writes of `address`'s storage by transaction `index` of `block`.
fn storage_writes(block: &Executed, index: usize, address: Address) -> Vec<(U256, U256)> {
    block
        .log
        .tx(index)
        .iter()
        .filter_map(|w| match w {
            TxWrite::Storage(a, s, v) if *a == address => Some((*s, *v)),
            _ => None,
        })
        .collect()
}

/// Failing transactions: `revertWith` (REVERT with an `Error(string)` payload), `outOfGas`
/// (a rolled-back SSTORE, then a loop until the gas runs out), `invalid` (0xFE), `divide(0)`
/// (Panic 0x12), and successful calls that catch failures inside: `deepRevert` (five caught
/// payloads) and `calls` (CALL, CALLCODE, DELEGATECALL, STATICCALL, and eight static-context
/// violations, all failing).
#[test]
fn reverts_and_exceptional_halts_are_provable() {
    let (chain, mut k, opcodes) = chain_with(Fixture::Opcodes);
    let txs = vec![
        k.call(
            opcodes,
            call("revertWith(string)", &[Arg::String("lazy".into())]),
            100_000,
        ),
        k.call(opcodes, call("outOfGas()", &[]), 150_000),
        k.call(opcodes, call("invalid()", &[]), 120_000),
        k.call(opcodes, call("divide(uint256)", &[Arg::uint(0)]), 100_000),
        k.call(opcodes, call("deepRevert()", &[]), 1_000_000),
        k.send(opcodes, U256::from(13), call("calls()", &[]), 3_000_000),
    ];
    let block = execute(&chain, txs);
    let r = expect_status(&block, 0, TxStatus::Failed);
    assert_eq!(r.reason, "execution reverted");
    let mut payload = lazychain_fraud_harness::tx::selector("Error(string)").to_vec();
    payload.extend_from_slice(&call("f(string)", &[Arg::String("lazy".into())])[4..]);
    assert_eq!(r.output.as_ref(), payload.as_slice());
    let r = expect_status(&block, 1, TxStatus::Failed);
    assert!(r.reason.contains("OutOfGas"), "{r:?}");
    assert_eq!(r.gas_used, 150_000);
    let r = expect_status(&block, 2, TxStatus::Failed);
    assert!(r.reason.contains("InvalidFE"), "{r:?}");
    assert_eq!(r.gas_used, 120_000);
    let r = expect_status(&block, 3, TxStatus::Failed);
    assert_eq!(r.output.len(), 36, "Panic(uint256)");
    for i in 0..4 {
        assert!(
            storage_writes(&block, i, opcodes).is_empty(),
            "transaction {i} wrote storage"
        );
    }
    expect_status(&block, 4, TxStatus::Success);
    expect_status(&block, 5, TxStatus::Success);
    let state = after(&chain, &block);
    assert_eq!(
        uint_getter(&chain, &state, opcodes, "lastRevertLength()"),
        U256::from(68)
    );
    assert_eq!(
        uint_getter(&chain, &state, opcodes, "scratch()"),
        U256::ZERO
    );
    assert_eq!(
        uint_getter(&chain, &state, opcodes, "callResults()"),
        U256::from(0xf)
    );
    assert_eq!(
        uint_getter(&chain, &state, opcodes, "markerValue()"),
        U256::from(13)
    );
    assert_eq!(
        address_word(&getter(&chain, &state, opcodes, "markerSender()", &[]), 0),
        k.address(),
        "the DELEGATECALL ran last, in the sender's frame"
    );
    prove_all(&chain, &block);
}

/// What `calls()` runs under STATICCALL, called directly: each of the seven kinds really
/// does its state change (SSTORE, LOG0, CALL with value, TSTORE, CREATE, CREATE2, and
/// SELFDESTRUCT of the pre-existing contract naming itself, which moves nothing).
#[test]
fn static_violations_called_directly_are_provable() {
    let (mut chain, mut k, opcodes) = chain_with(Fixture::Opcodes);
    run_ok(
        &mut chain,
        vec![k.send(opcodes, U256::from(10), Vec::new(), 100_000)],
    );
    let nonce = account(&chain.state, opcodes).expect("Opcodes").nonce;
    let txs = (0..7u64)
        .map(|kind| {
            k.call(
                opcodes,
                call("staticViolation(uint8)", &[Arg::uint(kind)]),
                300_000,
            )
        })
        .collect();
    let block = execute(&chain, txs);
    assert_all(&block, TxStatus::Success);
    let state = after(&chain, &block);
    assert_eq!(
        slot(&state, opcodes, U256::MAX),
        U256::from(1),
        "kind 0: SSTORE"
    );
    assert_eq!(block.receipts()[1].logs.len(), 1, "kind 1: LOG0");
    let created = [
        opcodes.create(nonce),
        opcodes.create2(B256::ZERO, alloy_primitives::keccak256([])),
    ];
    for a in created {
        let v = account(&state, a).expect("kinds 4 and 5 create an empty contract");
        assert_eq!((v.nonce, v.code_hash), (1, alloy_primitives::keccak256([])));
    }
    let o = account(&state, opcodes).expect("Opcodes survives its SELFDESTRUCT");
    assert_eq!(o.balance, U256::from(10));
    assert!(!code_of(&state, opcodes).is_empty());
    prove_all(&chain, &block);
}

/// Depth: `stackDepth(337)` succeeds and `stackDepth(338)` overflows the operand stack;
/// `callDepth(400)` with the Osaka cap of 16,777,216 gas stops where the 63/64 rule leaves
/// too little gas (around 360 frames, far from 1024); `rawFailure(k)` runs the nine hand-built
/// programs (undefined opcode, bad jumps, stack underflow / overflow, RETURNDATACOPY out of
/// bounds, a JUMPI not taken, STOP, INVALID): only 6 and 7 succeed inside, the calls succeed.
#[test]
fn stack_depth_call_depth_and_raw_failures_are_provable() {
    let (chain, mut k, opcodes) = chain_with(Fixture::Opcodes);
    let mut txs = vec![
        k.call(
            opcodes,
            call("stackDepth(uint256)", &[Arg::uint(337)]),
            1_000_000,
        ),
        k.call(
            opcodes,
            call("stackDepth(uint256)", &[Arg::uint(338)]),
            1_000_000,
        ),
        k.call(
            opcodes,
            call("callDepth(uint256)", &[Arg::uint(400)]),
            16_777_216,
        ),
    ];
    for kind in 0..9u64 {
        txs.push(k.call(
            opcodes,
            call("rawFailure(uint8)", &[Arg::uint(kind)]),
            1_000_000,
        ));
    }
    let block = execute(&chain, txs);
    expect_status(&block, 0, TxStatus::Success);
    let r = expect_status(&block, 1, TxStatus::Failed);
    assert!(r.reason.contains("StackOverflow"), "{r:?}");
    expect_status(&block, 2, TxStatus::Success);
    let state = after(&chain, &block);
    assert_eq!(
        uint_getter(&chain, &state, opcodes, "lastStackDepth()"),
        U256::from(337)
    );
    let depth = uint_getter(&chain, &state, opcodes, "lastCallDepth()");
    assert!(
        depth > U256::from(300) && depth < U256::from(400),
        "call depth {depth}"
    );
    // rawFailure: slot 12 holds lastRawCode (address) and lastRawOk (bit 160).
    for kind in 0..9usize {
        expect_status(&block, 3 + kind, TxStatus::Success);
        let packed = storage_writes(&block, 3 + kind, opcodes)
            .into_iter()
            .find(|(s, _)| *s == U256::from(12))
            .map(|(_, v)| v)
            .expect("lastRawCode is written");
        let ok = packed.bit(160);
        assert_eq!(ok, kind == 6 || kind == 7, "rawFailure({kind})");
    }
    prove_all(&chain, &block);
}
