//! Tracing: a transaction of a block run with an inspector after the block's earlier ones ends
//! exactly as block execution recorded it, and a traced call as `call` answers.

mod common;

use alloy_primitives::{keccak256, Address, Bytes, Log, U256};
use common::*;
use lazychain_exec_stf::revm::interpreter::{CallInputs, CallOutcome as FrameOutcome, Interpreter};
use lazychain_exec_stf::revm::Inspector;
use lazychain_exec_stf::{
    call, prepare, trace_block_tx, trace_call, CallOutcome, CallRequest, MemoryState, Overlay,
    StateReader, TraceError, TxStatus,
};

/// Counts what an inspector is shown.
#[derive(Default)]
struct Seen {
    steps: u64,
    calls: u64,
    logs: Vec<Log>,
}

impl<CTX> Inspector<CTX> for Seen {
    fn step(&mut self, _interp: &mut Interpreter, _context: &mut CTX) {
        self.steps += 1;
    }

    fn call(&mut self, _context: &mut CTX, _inputs: &mut CallInputs) -> Option<FrameOutcome> {
        self.calls += 1;
        None
    }

    fn log(&mut self, _context: &mut CTX, log: Log) {
        self.logs.push(log);
    }
}

#[test]
fn traced_transactions_end_as_their_block_recorded_them() {
    let alice = key(1);
    let a = address_of(&alice);
    let bob = Address::repeat_byte(0xb0);
    let mut chain = Chain::funded(&[alice]);
    let token = a.create(0);
    chain.execute(&[sign(
        &alice,
        tx(0, None, 0, 2_000_000, token_deploy(1_000_000)),
    )]);
    let before: MemoryState = chain.state.clone();
    let raw = vec![
        sign(
            &alice,
            tx(1, Some(token), 0, 100_000, erc20_transfer(bob, 1234)),
        ),
        // Its nonce is only right after the first: the traced state must include it.
        sign(
            &alice,
            tx(2, Some(token), 0, 100_000, erc20_transfer(bob, 2_000_000)),
        ),
        sign(
            &alice,
            tx(3, Some(token), 0, 23_000, erc20_transfer(bob, 1)),
        ),
        // Nonce too high: skipped.
        sign(&alice, tx(9, Some(bob), 1, 21_000, vec![])),
        vec![0xff; 40],
        sign(&alice, tx(4, Some(bob), ETH, 50_000, vec![])),
    ];
    let height = chain.height;
    let out = chain.execute(&raw);
    let txs = prepare(raw.iter().map(Vec::as_slice));

    for (index, recorded) in out.receipts.iter().enumerate() {
        let traced = trace_block_tx(
            &chain.params,
            &block(height),
            &txs,
            index,
            &before,
            Seen::default(),
        )
        .unwrap_or_else(|e| panic!("transaction {index} traces: {e}"));
        let receipt = &traced.receipt;
        assert_eq!(receipt.status, recorded.status, "transaction {index}");
        assert_eq!(receipt.gas_used, recorded.gas_used, "transaction {index}");
        assert_eq!(receipt.reason, recorded.reason, "transaction {index}");
        assert_eq!(receipt.logs, recorded.logs, "transaction {index}");
        assert_eq!(receipt.output, recorded.output, "transaction {index}");
        assert_eq!(
            receipt.unused_gas_charge, recorded.unused_gas_charge,
            "transaction {index}"
        );
        assert_eq!(receipt.inclusion_charge, recorded.inclusion_charge);
        match &traced.result {
            Some(result) => {
                assert_ne!(recorded.status, TxStatus::Skipped);
                assert_eq!(result.result.tx_gas_used(), recorded.gas_used);
                // The token transfers run code; the plain transfer runs none.
                assert_eq!(traced.inspector.steps > 0, index < 3, "transaction {index}");
            }
            None => assert_eq!(recorded.status, TxStatus::Skipped, "transaction {index}"),
        }
        // The writes before it are the block's prefix: the sender's nonce counts the
        // transactions before this one that ran.
        let prefix = Overlay {
            base: &before,
            writes: &traced.writes_before,
        };
        let ran_before = out.receipts[..index]
            .iter()
            .filter(|r| r.status != TxStatus::Skipped)
            .count() as u64;
        let nonce = prefix.account(&a).ok().flatten().map(|v| v.nonce);
        assert_eq!(nonce, Some(1 + ran_before), "transaction {index}");
    }

    // The transfer's trace saw its Transfer log; the reverted one saw its call, no log.
    let transfer = trace_block_tx(
        &chain.params,
        &block(height),
        &txs,
        0,
        &before,
        Seen::default(),
    )
    .expect("traces");
    assert_eq!(transfer.inspector.logs.len(), 1);
    assert_eq!(
        transfer.inspector.logs[0].topics()[0],
        keccak256("Transfer(address,address,uint256)")
    );
    // State after the transfer (after the unused-gas charge) holds bob's new token balance.
    let state = transfer.result.expect("ran").state;
    let stored = &state.get(&token).expect("token touched").storage;
    assert!(stored
        .values()
        .any(|slot| slot.present_value == U256::from(1234)));

    let past_end = trace_block_tx(
        &chain.params,
        &block(height),
        &txs,
        txs.len(),
        &before,
        Seen::default(),
    );
    assert!(matches!(
        past_end,
        Err(TraceError::NoSuchTransaction { index: 6, count: 6 })
    ));
}

#[test]
fn traced_calls_answer_as_calls() {
    let alice = key(1);
    let a = address_of(&alice);
    let mut chain = Chain::funded(&[alice]);
    chain.execute(&[sign(
        &alice,
        tx(0, None, 0, 2_000_000, token_deploy(1_000_000)),
    )]);
    let token = a.create(0);
    let request = CallRequest {
        from: Some(a),
        to: Some(token),
        input: Bytes::from(balance_of_call(a)),
        ..Default::default()
    };
    let at = block(chain.height);
    let plain = call(&chain.params, &at, &request, &chain.state).expect("runs");
    let traced =
        trace_call(&chain.params, &at, &request, &chain.state, Seen::default()).expect("runs");
    let CallOutcome::Success {
        output, gas_used, ..
    } = plain
    else {
        panic!("the call succeeds");
    };
    assert_eq!(traced.result.result.output(), Some(&output));
    assert_eq!(traced.result.result.tx_gas_used(), gas_used);
    assert_eq!(traced.inspector.calls, 1);
    assert!(traced.inspector.steps > 10);
    assert_eq!(traced.tx_env.caller, a);
}
