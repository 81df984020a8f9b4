//! Large transactions and blocks: hundreds of accounts and slots in one transaction, the
//! state access limit (a transaction reading more than `MAX_TX_WITNESS_BYTES` halts, and its
//! proof must still fit `MAX_PROOF_BYTES`), the first and last transaction of a block, a
//! block of one transaction, and a block of 2,000.

use std::time::Instant;

use alloy_primitives::{keccak256, Address, Bytes, U256};
use lazychain_exec_stf::genesis::AllocAccount;
use lazychain_exec_stf::state::{MAX_TX_WITNESS_BYTES, WITNESS_BYTES_PER_KEY};
use lazychain_exec_stf::TxStatus;
use lazychain_fraud::proof::MAX_PROOF_BYTES;
use lazychain_fraud_harness::tx::{call, Arg, Key, ETH};
use lazychain_fraud_harness::{Chain, BASE_FEE, FEE_RECIPIENT};

use crate::common::*;

/// The reason of a transaction halted by the state access limit.
fn access_limit_reason() -> String {
    format!("state access limit: read more than {MAX_TX_WITNESS_BYTES} witness bytes")
}

/// `Storage.touchMany` of 360 addresses (funded EOAs, contracts, fresh ones: BALANCE and
/// EXTCODEHASH of each, folded into a digest we recompute), `Storage.fanout` to 300 fresh
/// addresses and `Storage.many` over 500 slots, each one transaction.
#[test]
fn hundreds_of_accounts_and_slots_in_one_transaction_are_provable() {
    let mut chain = Chain::funded(20);
    let mut k = Sender::new(&chain.keys[0]);
    let contracts = deploy(
        &mut chain,
        &mut k,
        &[Fixture::Storage, Fixture::Burner, Fixture::Destroyer],
    );
    let storage = contracts[0];
    // Funded EOAs other than the sender (whose balance the transaction itself changes).
    let mut touched: Vec<Address> = chain.keys[1..].iter().map(|k| k.address).collect();
    touched.extend(&contracts);
    touched.extend(fresh_addresses("touch", 360 - touched.len()));
    let recipients = fresh_addresses("scale fanout", 300);
    let txs = vec![
        k.call(
            storage,
            call("touchMany(address[])", &[Arg::Addresses(touched.clone())]),
            5_000_000,
        ),
        k.send(
            storage,
            wei(300),
            call("fanout(address[])", &[Arg::Addresses(recipients.clone())]),
            16_000_000,
        ),
        k.call(
            storage,
            call(
                "many(uint256,uint256,uint256)",
                &[Arg::uint(1 << 20), Arg::uint(500), Arg::uint(1)],
            ),
            16_000_000,
        ),
    ];
    let block = execute(&chain, txs);
    assert_all(&block, TxStatus::Success);
    let state = after(&chain, &block);
    // touchMany's digest, from the state before the block.
    let mut digest = [0u8; 32];
    for a in &touched {
        let (bal, hash) = match account(&chain.state, *a) {
            Some(v) => (v.balance, v.code_hash),
            None => (U256::ZERO, Default::default()),
        };
        let mut enc = digest.to_vec();
        enc.extend_from_slice(&[0u8; 12]);
        enc.extend_from_slice(a.as_slice());
        enc.extend_from_slice(&bal.to_be_bytes::<32>());
        enc.extend_from_slice(hash.as_slice());
        digest = keccak256(enc).0;
    }
    assert_eq!(
        getter(&chain, &state, storage, "touchDigest()", &[]).as_ref(),
        digest.as_slice()
    );
    assert_eq!(
        uint_getter(&chain, &state, storage, "touchCount()"),
        U256::from(360)
    );
    assert!(recipients.iter().all(|a| balance(&state, *a) == wei(1)));
    assert_eq!(
        slot(&state, storage, U256::from((1 << 20) + 499)),
        U256::from(1)
    );
    let cases = prove_all(&chain, &block);
    let keys: Vec<usize> = cases.iter().step_by(2).map(|c| c.witness_keys).collect();
    assert!(keys.iter().all(|&n| n > 300), "witness keys {keys:?}");
    eprintln!(
        "hundreds: witness keys {keys:?}, largest proof {} bytes",
        largest(&cases)
    );
}

/// Deploys [`raw::SLOAD_LOOP`] from `k` in a block of its own.
fn deploy_sload_loop(chain: &mut Chain, k: &mut Sender) -> Address {
    let code = hex::decode(raw::SLOAD_LOOP).expect("hex");
    let (tx, reader) = k.create(deploy_code(&code), U256::ZERO, 200_000);
    run_ok(chain, vec![tx]);
    reader
}

/// The state access limit on storage: raw code SLOADing slots `0..n` (n from calldata).
/// 2,000 slots succeed (the code stores n); 3,000 distinct slots read more than
/// `MAX_TX_WITNESS_BYTES` (640 bytes a key): the transaction halts with the access-limit
/// reason, uses its whole gas limit, which its sender pays at the effective price, its nonce
/// is used, the fee recipient gets the priority fee on all of it, and nothing else it did
/// remains. The proofs fit `MAX_PROOF_BYTES`.
#[test]
fn state_access_limit_on_slots_is_provable() {
    let mut chain = Chain::funded(1);
    let mut k = Sender::new(&chain.keys[0]);
    let reader = deploy_sload_loop(&mut chain, &mut k);
    let over = MAX_TX_WITNESS_BYTES / WITNESS_BYTES_PER_KEY + 500;
    assert_eq!(over, 2_957);
    let n = |v: u64| U256::from(v).to_be_bytes::<32>().to_vec();
    let gas = 10_000_000;
    let sender_before = account(&chain.state, k.address()).expect("sender");
    let fee_before = balance(&chain.state, FEE_RECIPIENT);
    let txs = vec![k.call(reader, n(2_000), gas), k.call(reader, n(over), gas)];
    let block = execute(&chain, txs);
    let ok = expect_status(&block, 0, TxStatus::Success);
    let halted = expect_status(&block, 1, TxStatus::Failed);
    assert_eq!(halted.reason, access_limit_reason());
    assert_eq!(halted.gas_used, gas);
    let price = BASE_FEE as u128 + 1_000_000;
    assert_eq!(halted.effective_gas_price, price);
    let state = after(&chain, &block);
    assert_eq!(
        slot(&state, reader, U256::ZERO),
        U256::from(2_000),
        "only the first stored"
    );
    let sender = account(&state, k.address()).expect("sender");
    assert_eq!(sender.nonce, sender_before.nonce + 2);
    assert_eq!(
        sender.balance,
        sender_before.balance
            - U256::from(ok.gas_used + gas) * U256::from(price)
            - ok.unused_gas_charge
    );
    // The fee recipient got the priority fee on the whole gas limit of the halted one.
    assert_eq!(
        balance(&state, FEE_RECIPIENT) - fee_before,
        U256::from(ok.gas_used + gas) * U256::from(1_000_000u64)
    );
    let started = Instant::now();
    let cases = prove_all(&chain, &block);
    let (small, big) = (cases[0].proof_bytes, cases[2].proof_bytes);
    assert!(big < MAX_PROOF_BYTES);
    eprintln!(
        "access limit on slots: 2,000 slots {small} bytes ({} keys), halted at the limit \
         {big} bytes ({} keys), proving took {:?}",
        cases[0].witness_keys,
        cases[2].witness_keys,
        started.elapsed()
    );
}

/// A transaction after one halted by the state access limit executes (and both are
/// provable). It once failed the whole block: the read that crosses the limit fails inside
/// the interpreter (an SLOAD here), revm stores that error in its context and halts the
/// frame; `reward_beneficiary` then fails on the fee recipient's read and returns directly,
/// so the stored error was left for the next transaction, which took it for a real read
/// failure. The transition now clears the context's error before every transaction.
#[test]
fn a_transaction_after_an_access_limit_halt_is_provable() {
    let mut chain = Chain::funded(2);
    let mut k = Sender::new(&chain.keys[0]);
    let reader = deploy_sload_loop(&mut chain, &mut k);
    let over = U256::from(3_000).to_be_bytes::<32>().to_vec();
    let to = fresh_addresses("after the limit", 1)[0];
    let txs = vec![
        k.call(reader, over, 10_000_000),
        chain.keys[1].eip1559(0, Some(to), wei(1), 21_000, Vec::new()),
    ];
    let block = chain
        .execute(txs)
        .unwrap_or_else(|e| panic!("the block executes: {e}"));
    assert_eq!(block.receipts()[0].reason, access_limit_reason());
    expect_status(&block, 1, TxStatus::Success);
    prove_all(&chain, &block);
}

/// The state access limit on code: 70 contracts of 24,576 bytes of distinct code each in
/// genesis, and raw code summing EXTCODESIZE over addresses from calldata. Over 40 of them it
/// succeeds (the sum is stored; about 1 MB of code read); over all 70 it reads more than
/// `MAX_TX_WITNESS_BYTES` and halts. Both proofs fit `MAX_PROOF_BYTES`.
#[test]
fn state_access_limit_on_code_is_provable() {
    const CODE_LEN: usize = 24_576;
    let big: Vec<AllocAccount> = (0..70u16)
        .map(|i| {
            // STOP, then bytes that make every code distinct (code is content-addressed).
            let mut code = vec![0u8; CODE_LEN];
            code[1..3].copy_from_slice(&i.to_be_bytes());
            code[CODE_LEN - 1] = 0x5b;
            AllocAccount {
                address: Address::from_slice(&keccak256(format!("big code {i}"))[12..]),
                code: Bytes::from(code),
                nonce: 1,
                ..Default::default()
            }
        })
        .collect();
    let keys = vec![Key::from_index(0)];
    let mut chain = Chain::new(keys, U256::from(100 * ETH), &big);
    let mut k = Sender::new(&chain.keys[0]);
    let code = hex::decode(raw::EXTCODESIZE_SUM).expect("hex");
    let (tx, summer) = k.create(deploy_code(&code), U256::ZERO, 200_000);
    run_ok(&mut chain, vec![tx]);
    let words = |n: usize| -> Vec<u8> {
        big[..n]
            .iter()
            .flat_map(|a| {
                let mut w = [0u8; 32];
                w[12..].copy_from_slice(a.address.as_slice());
                w
            })
            .collect()
    };
    let gas = 2_000_000;
    let txs = vec![
        k.call(summer, words(40), gas),
        k.call(summer, words(70), gas),
    ];
    let block = execute(&chain, txs);
    expect_status(&block, 0, TxStatus::Success);
    let halted = expect_status(&block, 1, TxStatus::Failed);
    assert_eq!(halted.reason, access_limit_reason());
    assert_eq!(halted.gas_used, gas);
    let state = after(&chain, &block);
    assert_eq!(
        slot(&state, summer, U256::ZERO),
        U256::from(40 * CODE_LEN),
        "the 40 sizes"
    );
    let started = Instant::now();
    let cases = prove_all(&chain, &block);
    let (ok, limit) = (&cases[0], &cases[2]);
    assert!(ok.witness_value_bytes > 40 * CODE_LEN);
    // About 60 codes fit the limit; the read of the next one crossed it.
    assert!(limit.witness_value_bytes > 60 * CODE_LEN);
    eprintln!(
        "access limit on code: 40 contracts {} bytes ({} bytes of values), halted at the \
         limit {} bytes ({} bytes of values), proving took {:?}",
        ok.proof_bytes,
        ok.witness_value_bytes,
        limit.proof_bytes,
        limit.witness_value_bytes,
        started.elapsed()
    );
}

/// The first and the last transaction of mixed blocks, proven explicitly: a block that starts
/// with a skipped transaction and ends with a creation, and one that starts with a creation and
/// ends with undecodable bytes, with transfers, a failed call and a skip between.
#[test]
fn first_and_last_transactions_of_a_mixed_block_are_provable() {
    let mut chain = Chain::funded(3);
    let mut a = Sender::new(&chain.keys[0]);
    let mut b = Sender::new(&chain.keys[1]);
    let storage = deploy(&mut chain, &mut a, &[Fixture::Storage])[0];
    let to = chain.keys[2].address;
    let (creation, _) = b.create(child_init(U256::from(1)), U256::ZERO, 300_000);
    let txs = vec![
        a.key.eip1559(99, Some(to), wei(1), 21_000, Vec::new()),
        a.send(to, wei(1), Vec::new(), 21_000),
        a.call(
            storage,
            call(
                "tstoreThenRevert(uint256,uint256)",
                &[Arg::uint(1), Arg::uint(2)],
            ),
            100_000,
        ),
        a.call(storage, storage_set(1, 2), 100_000),
        creation,
    ];
    let block = execute(&chain, txs);
    let statuses: Vec<TxStatus> = block.receipts().iter().map(|r| r.status).collect();
    use TxStatus::*;
    assert_eq!(statuses, [Skipped, Success, Failed, Success, Success]);
    prove_at(&chain, &block, &[0, 4]);
    prove_all(&chain, &block);
    chain.commit(block);

    let (creation, _) = b.create(child_init(U256::from(2)), U256::ZERO, 300_000);
    let txs = vec![
        creation,
        a.send(to, wei(1), Vec::new(), 21_000),
        a.key.eip1559(99, Some(to), wei(1), 21_000, Vec::new()),
        vec![0xde, 0xad, 0xbe, 0xef],
    ];
    let block = execute(&chain, txs);
    let statuses: Vec<TxStatus> = block.receipts().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Success, Success, Skipped, Skipped]);
    prove_at(&chain, &block, &[0, 3]);
    prove_all(&chain, &block);
}

/// Blocks of one transaction: a transfer, and a skipped transaction whose block changes
/// nothing (the fee recipient does not exist yet, so the root after it is the root before:
/// a liar's made-up or changed root is still provably wrong).
#[test]
fn a_block_of_one_transaction_is_provable() {
    let mut chain = Chain::funded(1);
    let k = chain.keys[0].clone();
    let block = execute(
        &chain,
        vec![k.eip1559(5, Some(k.address), wei(1), 21_000, Vec::new())],
    );
    expect_status(&block, 0, TxStatus::Skipped);
    assert_eq!(block.out.post_state_root, block.out.pre_state_root);
    prove_all(&chain, &block);
    chain.commit(block);

    let to = fresh_addresses("one tx", 1)[0];
    let block = execute(
        &chain,
        vec![k.eip1559(0, Some(to), wei(3), 21_000, Vec::new())],
    );
    expect_status(&block, 0, TxStatus::Success);
    assert_eq!(balance(&after(&chain, &block), to), wei(3));
    prove_all(&chain, &block);
}

/// A block of 2,000 transfers from 200 senders (10 each, to 100 recipients, half of them
/// fresh): the proofs at indices 0, 1, the middle, and the last two, against both kinds of
/// lie (proving all 2,000 would re-execute 2 million transactions).
#[test]
fn a_block_of_two_thousand_transactions_is_provable() {
    let chain = Chain::funded(200);
    let recipients: Vec<Address> = fresh_addresses("big block", 50)
        .into_iter()
        .chain(chain.keys.iter().take(50).map(|k| k.address))
        .collect();
    let mut txs = Vec::with_capacity(2_000);
    for nonce in 0..10u64 {
        for (i, key) in chain.keys.iter().enumerate() {
            let to = recipients[(i + nonce as usize) % recipients.len()];
            txs.push(key.eip1559(nonce, Some(to), wei(1 + i as u128), 21_000, Vec::new()));
        }
    }
    let started = Instant::now();
    let block = execute(&chain, txs);
    let executed = started.elapsed();
    assert_eq!(block.receipts().len(), 2_000);
    assert_all(&block, TxStatus::Success);
    assert_eq!(block.out.gas_used, 2_000 * 21_000);
    let state = after(&chain, &block);
    assert!(chain
        .keys
        .iter()
        .all(|k| account(&state, k.address).map(|a| a.nonce) == Some(10)));
    let started = Instant::now();
    let cases = prove_at(&chain, &block, &[0, 1, 1_000, 1_998, 1_999]);
    assert_eq!(cases.len(), 10);
    eprintln!(
        "2,000 transactions: executed in {executed:?}, 10 proofs in {:?}, largest {} bytes",
        started.elapsed(),
        largest(&cases)
    );
}
