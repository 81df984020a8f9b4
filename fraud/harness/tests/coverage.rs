//! Proof coverage: for every kind of transaction outcome, a wrong root at that transaction is
//! provable. Each test executes real blocks with the real transition, then for the
//! transactions it is about builds the honest node's proof (both witness paths must agree),
//! sends it through the wire encoding and verifies it: Proven against a lying claim (made-up
//! roots, and real roots of a state with one value changed), Refuted against the honest one.
//!
//! The cases by topic are in `cases/`, their shared helpers in `common/`.

mod cases;
mod common;

use alloy_primitives::{Address, U256};
use lazychain_exec_stf::TxStatus;
use lazychain_fraud_harness::tx::{call, Arg, Key};
use lazychain_fraud_harness::{Chain, Corruption, Executed};

const TOKEN_HEX: &str = include_str!("../../../exec-layer/contracts/build/LazyToken.bytecode.hex");
const BURNER_HEX: &str = include_str!("../../../exec-layer/contracts/build/Burner.bytecode.hex");

fn code(hex_str: &str) -> Vec<u8> {
    hex::decode(hex_str.trim()).expect("fixture hex")
}

/// Proves every transaction of `block` with both corruptions; panics with the failure.
fn prove_every_tx(chain: &Chain, block: &Executed) {
    if let Err(e) = chain.prove_all(block) {
        panic!("unprovable: {e}");
    }
}

/// The case of the report: the first transaction of the chain deploys a contract this
/// project never saw (a loop of keccak256 over its argument). Its proof failed with "value
/// of Code(..) does not match the proof": the write-log witness saw the new code as already
/// deployed.
#[test]
fn contract_creation_by_a_transaction_is_provable() {
    let mut chain = Chain::funded(2);
    let k = chain.keys[0].clone();
    // Runtime: keccak256 applied 64 times to the first calldata word; the result goes to
    // slot 0.
    let runtime = hex::decode(concat!(
        "5f35",     // PUSH0 CALLDATALOAD             [x]
        "6040",     // PUSH1 64                       [x n]
        "5b",       // 0x04 JUMPDEST loop
        "8015",     // DUP1 ISZERO                    [x n n==0]
        "601957",   // PUSH1 end JUMPI                [x n]
        "905f52",   // SWAP1 PUSH0 MSTORE             [n]      mem[0] = x
        "60205f20", // PUSH1 32 PUSH0 KECCAK256     [n h]
        "90600190", // SWAP1 PUSH1 1 SWAP1          [h 1 n]
        "03",       // SUB                            [h n-1]
        "600456",   // PUSH1 loop JUMP
        "5b50",     // 0x19 JUMPDEST end, POP          [x]
        "5f5500",   // PUSH0 SSTORE STOP
    ))
    .expect("hex");
    // Init code: copy the runtime that follows it to memory and return it.
    let mut deploy = hex::decode(format!("61{:04x}80600a5f395ff3", runtime.len())).expect("hex");
    deploy.extend_from_slice(&runtime);
    let creation = k.eip1559(0, None, U256::ZERO, 500_000, deploy);
    let block = chain.execute(vec![creation]).expect("executes");
    assert_eq!(
        block.receipts()[0].status,
        TxStatus::Success,
        "{:?}",
        block.receipts()[0]
    );
    prove_every_tx(&chain, &block);
    chain.commit(block);
    // And the contract, called, in a block with a second deployment after it.
    let contract = k.address.create(0);
    let mut arg = vec![0u8; 32];
    arg[31] = 7;
    let txs = vec![
        k.eip1559(1, Some(contract), U256::ZERO, 200_000, arg),
        k.eip1559(2, None, U256::ZERO, 2_000_000, code(BURNER_HEX)),
    ];
    let block = chain.execute(txs).expect("executes");
    assert!(
        block
            .receipts()
            .iter()
            .all(|r| r.status == TxStatus::Success),
        "{:?}",
        block.receipts()
    );
    assert!(
        !block.out.writes.storage.is_empty(),
        "the loop stored its result"
    );
    prove_every_tx(&chain, &block);
}

/// A deployment that is not the first transaction, with the same code deployed twice in one
/// block (content-addressed code: the second deployment writes nothing new).
#[test]
fn the_same_code_deployed_twice_in_one_block_is_provable() {
    let chain = Chain::funded(2);
    let (a, b) = (chain.keys[0].clone(), chain.keys[1].clone());
    let mut token = code(TOKEN_HEX);
    token.extend_from_slice(&U256::from(1_000u64).to_be_bytes::<32>());
    let txs = vec![
        a.eip1559(0, Some(b.address), U256::from(5u64), 21_000, vec![]),
        a.eip1559(1, None, U256::ZERO, 2_000_000, token.clone()),
        b.eip1559(0, None, U256::ZERO, 2_000_000, token),
        a.eip1559(
            2,
            Some(a.address.create(1)),
            U256::ZERO,
            100_000,
            call(
                "transfer(address,uint256)",
                &[Arg::Address(Address::repeat_byte(3)), Arg::uint(5)],
            ),
        ),
    ];
    let block = chain.execute(txs).expect("executes");
    assert!(block
        .receipts()
        .iter()
        .all(|r| r.status == TxStatus::Success));
    prove_every_tx(&chain, &block);
    let _ = (Corruption::Root, Key::from_index(0));
}
