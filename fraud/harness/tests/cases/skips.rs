//! The skipped-transaction rule (protocol §10.2): every reason a transaction is skipped, the
//! inclusion charge its block's fee recipient pays (and the shortfall when it cannot), and
//! the fees executed transactions pay the fee recipient.

use std::collections::HashMap;

use alloy_consensus::{TxEip1559, TxEip2930, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::{Decodable2718, Encodable2718};
use alloy_primitives::{keccak256, Address, Bytes, Signature, TxKind, U256};
use lazychain_exec_stf::genesis::AllocAccount;
use lazychain_exec_stf::{Receipt, TxStatus};
use lazychain_fraud_harness::tx::{Key, ETH};
use lazychain_fraud_harness::{Chain, Executed, BASE_FEE, CHAIN_ID, FEE_RECIPIENT};

use crate::common::*;

/// What a skipped transaction's receipt must say.
struct Skip {
    index: usize,
    reason: &'static str,
    /// Its intrinsic gas: the charge is this times the base fee.
    intrinsic: u64,
}

/// Checks a skipped receipt: status, reason, no gas, the charge; returns the receipt.
fn check_skip<'a>(block: &'a Executed, skip: &Skip) -> &'a Receipt {
    let r = expect_status(block, skip.index, TxStatus::Skipped);
    assert!(
        r.reason.contains(skip.reason),
        "transaction {}: reason {:?}, want {:?}",
        skip.index,
        r.reason,
        skip.reason
    );
    assert_eq!((r.gas_used, r.effective_gas_price), (0, 0), "{r:?}");
    assert!(r.logs.is_empty());
    assert_eq!(
        r.inclusion_charge,
        U256::from(skip.intrinsic) * U256::from(BASE_FEE),
        "inclusion charge of transaction {}",
        skip.index
    );
    r
}

/// Priority fees of the executed transactions of `block`.
fn tips(block: &Executed) -> U256 {
    block
        .receipts()
        .iter()
        .filter(|r| r.status != TxStatus::Skipped)
        .map(|r| U256::from(r.gas_used) * U256::from(r.effective_gas_price - BASE_FEE as u128))
        .sum()
}

/// secp256k1's group order.
const SECP256K1_N: U256 = U256::from_limbs([
    0xBFD25E8CD0364141,
    0xBAAEDCE6AF48A03B,
    0xFFFFFFFFFFFFFFFE,
    0xFFFFFFFFFFFFFFFF,
]);

/// `raw` (an EIP-1559 transaction) with its signature replaced by `f(signature)`.
fn resigned(raw: &[u8], f: impl Fn(&Signature) -> Signature) -> Vec<u8> {
    let TxEnvelope::Eip1559(signed) = TxEnvelope::decode_2718(&mut &raw[..]).expect("decodes")
    else {
        panic!("an EIP-1559 transaction");
    };
    let sig = f(signed.signature());
    let tx: TxEip1559 = signed.strip_signature();
    alloy_consensus::Signed::new_unhashed(tx, sig).encoded_2718()
}

/// An EIP-1559 transaction with every field chosen.
fn eip1559(key: &Key, nonce: u64, max_fee: u128, priority: u128, chain_id: u64) -> Vec<u8> {
    key.sign(TxEip1559 {
        max_fee_per_gas: max_fee,
        max_priority_fee_per_gas: priority,
        ..lazychain_test_utils::transfer_tx(chain_id, nonce)
    })
}

/// A legacy transfer with the gas price and chain id chosen.
fn legacy(key: &Key, nonce: u64, gas_price: u128, chain_id: Option<u64>) -> Vec<u8> {
    key.sign(TxLegacy {
        chain_id,
        nonce,
        gas_price,
        gas_limit: 21_000,
        to: TxKind::Call(Address::repeat_byte(0x42)),
        value: U256::from(1),
        input: Bytes::new(),
    })
}

/// Every reason a transaction is skipped, in one block whose fee recipient can pay every
/// inclusion charge (so no shortfall): nonce too low and too high, a nonce of 2^64-1,
/// insufficient funds for value + gas and for gas alone, gas limit below the intrinsic gas
/// and below the EIP-7623 calldata floor, gas limit above Osaka's cap of 16,777,216, above
/// 30M and near 2^62 (validators admit such limits up to their configured maximum: they must
/// stay provable), max fee and legacy gas price below the base fee, priority fee above the
/// max fee, another chain id (EIP-1559 and legacy), a sender with code (EIP-3607), init code
/// over the EIP-3860 limit, and bytes that are no transaction (random bytes, a valid
/// transaction with a trailing byte, an unsupported type, a high-s and an unrecoverable
/// signature). An executed transaction first and last shows the sender's nonce untouched.
#[test]
fn every_skip_reason_is_provable() {
    let k = Key::from_index(0);
    let poor = Key::from_index(1);
    let coder = Key::from_index(2);
    let extra = [
        AllocAccount {
            address: poor.address,
            balance: U256::from(ETH / 1_000),
            ..Default::default()
        },
        AllocAccount {
            address: coder.address,
            balance: U256::from(ETH),
            code: Bytes::from_static(&[0x00]),
            ..Default::default()
        },
        AllocAccount {
            address: FEE_RECIPIENT,
            balance: U256::from(ETH),
            ..Default::default()
        },
    ];
    let chain = Chain::new(vec![k.clone()], U256::from(100 * ETH), &extra);
    let to = Some(Address::repeat_byte(0x42));
    let one = U256::from(1);
    let price = 2 * BASE_FEE as u128;
    let valid = k.eip1559(1, to, one, 21_000, Vec::new());
    let mut trailing = valid.clone();
    trailing.push(0);
    let mut typed3 = valid.clone();
    typed3[0] = 0x03;
    let random = keccak256("not a transaction").to_vec();
    let calldata = vec![0xab; 1_000];
    let initcode = vec![0u8; 49_153];
    let high_s = resigned(&valid, |s| {
        Signature::new(s.r(), SECP256K1_N - s.s(), !s.v())
    });
    let no_key = resigned(&valid, |s| Signature::new(U256::ZERO, s.s(), s.v()));

    let mut txs = Vec::new();
    let mut skips = Vec::new();
    let mut add = |tx: Vec<u8>, skip: Option<(&'static str, u64)>| {
        if let Some((reason, intrinsic)) = skip {
            skips.push(Skip {
                index: txs.len(),
                reason,
                intrinsic,
            });
        }
        txs.push(tx);
    };
    add(k.eip1559(0, to, one, 21_000, Vec::new()), None);
    add(
        k.eip1559(0, to, U256::from(2), 21_000, Vec::new()),
        Some(("nonce 0 too low, expected 1", 21_000)),
    );
    add(
        k.eip1559(7, to, one, 21_000, Vec::new()),
        Some(("nonce 7 too high, expected 1", 21_000)),
    );
    add(
        k.eip1559(u64::MAX, to, one, 21_000, Vec::new()),
        Some(("nonce overflow", 21_000)),
    );
    add(
        poor.eip1559(0, to, U256::from(ETH / 1_000), 21_000, Vec::new()),
        Some(("lack of funds", 21_000)),
    );
    add(
        poor.eip1559(0, to, U256::ZERO, 1_000_000, Vec::new()),
        Some(("lack of funds", 21_000)),
    );
    add(
        k.eip1559(1, to, one, 20_999, Vec::new()),
        Some((
            "call gas cost (21000) exceeds the gas limit (20999)",
            21_000,
        )),
    );
    add(
        k.eip1559(1, to, one, 40_000, calldata),
        Some(("gas floor", 21_000 + 16 * 1_000)),
    );
    add(
        k.eip1559(1, to, one, 16_777_217, Vec::new()),
        Some(("greater than the cap (16777216)", 21_000)),
    );
    add(
        k.eip1559(1, to, one, 50_000_000, Vec::new()),
        Some(("greater than the cap", 21_000)),
    );
    add(
        k.eip1559(1, to, one, 1 << 62, Vec::new()),
        Some(("greater than the cap", 21_000)),
    );
    add(
        eip1559(&k, 1, BASE_FEE as u128 - 1, 0, CHAIN_ID),
        Some(("gas price is less than basefee", 21_000)),
    );
    add(
        legacy(&k, 1, BASE_FEE as u128 - 1, Some(CHAIN_ID)),
        Some(("gas price is less than basefee", 21_000)),
    );
    add(
        eip1559(&k, 1, price, price + 1, CHAIN_ID),
        Some(("priority fee is greater than max fee", 21_000)),
    );
    add(
        eip1559(&k, 1, price, 1, 1),
        Some(("invalid chain ID", 21_000)),
    );
    add(
        legacy(&k, 1, price, Some(CHAIN_ID + 1)),
        Some(("invalid chain ID", 21_000)),
    );
    add(
        coder.eip1559(0, to, one, 21_000, Vec::new()),
        Some(("senders with deployed code", 21_000)),
    );
    add(
        k.eip1559(1, None, U256::ZERO, 500_000, initcode),
        Some((
            "create initcode size limit",
            21_000 + 32_000 + 4 * 49_153 + 2 * 1_537,
        )),
    );
    add(
        random.clone(),
        Some(("invalid transaction", 21_000 + 16 * random.len() as u64)),
    );
    add(
        trailing.clone(),
        Some(("trailing bytes", 21_000 + 16 * trailing.len() as u64)),
    );
    add(
        typed3.clone(),
        Some(("type not supported", 21_000 + 16 * typed3.len() as u64)),
    );
    add(
        high_s.clone(),
        Some(("invalid transaction", 21_000 + 16 * high_s.len() as u64)),
    );
    add(
        no_key.clone(),
        Some(("invalid transaction", 21_000 + 16 * no_key.len() as u64)),
    );
    add(valid, None);

    let block = execute(&chain, txs);
    expect_status(&block, 0, TxStatus::Success);
    expect_status(&block, block.receipts().len() - 1, TxStatus::Success);
    let mut charges = U256::ZERO;
    for skip in &skips {
        let r = check_skip(&block, skip);
        assert_eq!(r.charge_shortfall, U256::ZERO, "{r:?}");
        charges += r.inclusion_charge;
    }
    assert_eq!(skips.len(), block.receipts().len() - 2);
    let state = after(&chain, &block);
    assert_eq!(account(&state, k.address).map(|a| a.nonce), Some(2));
    for untouched in [poor.address, coder.address] {
        assert_eq!(account(&state, untouched), account(&chain.state, untouched));
    }
    assert_eq!(
        balance(&state, FEE_RECIPIENT),
        U256::from(ETH) + tips(&block) - charges,
        "the fee recipient earned the tips and paid every charge"
    );
    prove_all(&chain, &block);
}

/// The fee recipient cannot pay: its balance covers the first charge and part of the second
/// (then it is empty, and deleted), the rest is shortfall, including the charge of undecodable
/// bytes; in the next block nothing is left to pay.
#[test]
fn inclusion_charge_shortfall_is_provable() {
    let k = Key::from_index(0);
    let fee_recipient = AllocAccount {
        address: FEE_RECIPIENT,
        balance: U256::from(30_000 * BASE_FEE),
        ..Default::default()
    };
    let mut chain = Chain::new(vec![k.clone()], U256::from(100 * ETH), &[fee_recipient]);
    let to = Some(Address::repeat_byte(0x42));
    let garbage = vec![0xc5, 1, 2, 3];
    let txs = vec![
        k.eip1559(3, to, U256::ZERO, 21_000, Vec::new()),
        k.eip1559(4, to, U256::ZERO, 21_000, Vec::new()),
        k.eip1559(5, to, U256::ZERO, 21_000, Vec::new()),
        garbage.clone(),
    ];
    let block = execute(&chain, txs);
    let charge = U256::from(21_000 * BASE_FEE);
    let want_shortfall = [
        U256::ZERO,
        U256::from(12_000 * BASE_FEE),
        charge,
        U256::from((21_000 + 16 * 4) * BASE_FEE),
    ];
    for (i, shortfall) in want_shortfall.iter().enumerate() {
        let r = expect_status(&block, i, TxStatus::Skipped);
        assert_eq!(r.charge_shortfall, *shortfall, "transaction {i}: {r:?}");
    }
    assert!(
        account(&after(&chain, &block), FEE_RECIPIENT).is_none(),
        "emptied"
    );
    assert_eq!(block.out.writes.accounts.get(&FEE_RECIPIENT), Some(&None));
    prove_all(&chain, &block);
    chain.commit(block);

    let block = execute(
        &chain,
        vec![k.eip1559(9, to, U256::ZERO, 21_000, Vec::new())],
    );
    let r = expect_status(&block, 0, TxStatus::Skipped);
    assert_eq!(r.charge_shortfall, r.inclusion_charge);
    assert!(
        block.out.writes.is_empty(),
        "an absent fee recipient pays nothing"
    );
    prove_all(&chain, &block);
}

/// A proposer genesis does not know has no fee recipient (the zero address): an executed
/// transaction pays it its tip, a skipped one charges it (the tip, and the rest is shortfall).
#[test]
fn unknown_proposer_fee_recipient_is_provable() {
    let mut chain = Chain::funded(1);
    chain.params.fee_recipients = HashMap::new();
    let k = chain.keys[0].clone();
    let to = Some(Address::repeat_byte(0x42));
    let txs = vec![
        k.eip1559(0, to, U256::from(1), 21_000, Vec::new()),
        k.eip1559(5, to, U256::from(1), 21_000, Vec::new()),
    ];
    let block = execute(&chain, txs);
    assert_eq!(block.context.beneficiary, Address::ZERO);
    expect_status(&block, 0, TxStatus::Success);
    let r = expect_status(&block, 1, TxStatus::Skipped);
    // The zero address has only the tip of the first transaction to pay the charge with.
    let tip = U256::from(21_000u64 * 1_000_000);
    assert_eq!(r.charge_shortfall, r.inclusion_charge - tip);
    assert!(account(&after(&chain, &block), Address::ZERO).is_none());
    assert_eq!(block.out.writes.accounts.get(&Address::ZERO), Some(&None));
    prove_all(&chain, &block);
}

/// A chain whose block gas limit (10M) is below Osaka's transaction cap: a transaction with
/// exactly the block gas limit executes, one above it is skipped ("caller gas limit exceeds
/// the block gas limit"), and one above the cap is skipped for the cap.
#[test]
fn gas_limit_above_the_block_gas_limit_is_provable() {
    let mut chain = Chain::funded(1);
    chain.params.block_gas_limit = 10_000_000;
    let k = chain.keys[0].clone();
    let to = Some(Address::repeat_byte(0x42));
    let txs = vec![
        k.eip1559(0, to, U256::from(1), 10_000_000, Vec::new()),
        k.eip1559(1, to, U256::from(1), 10_000_001, Vec::new()),
        k.eip1559(1, to, U256::from(1), 16_777_217, Vec::new()),
    ];
    let block = execute(&chain, txs);
    assert_eq!(expect_status(&block, 0, TxStatus::Success).gas_used, 21_000);
    let skips = [
        Skip {
            index: 1,
            reason: "caller gas limit exceeds the block gas limit",
            intrinsic: 21_000,
        },
        Skip {
            index: 2,
            reason: "greater than the cap",
            intrinsic: 21_000,
        },
    ];
    for skip in &skips {
        check_skip(&block, skip);
    }
    prove_all(&chain, &block);
}

/// Fees: every transaction of a block pays a priority fee (legacy and EIP-2930 at twice the
/// base fee, EIP-1559 with the harness's 0.001 gwei and with 3 gwei under a 5 gwei cap, a
/// reverting call and a creation); the fee recipient's balance grows by exactly the sum of
/// `gas_used x (effective price - base fee)`, each sender pays `gas_used x effective price`
/// (plus value), and the base fee is burned.
#[test]
fn priority_fees_paid_to_the_fee_recipient_are_provable() {
    let mut chain = Chain::funded(4);
    let mut s = Sender::new(&chain.keys[0]);
    let token = {
        let mut init = Fixture::Token.init_code();
        init.extend_from_slice(&U256::from(1_000u64).to_be_bytes::<32>());
        init
    };
    let (deploy_tx, token_address) = s.create(token, U256::ZERO, 2_000_000);
    run_ok(&mut chain, vec![deploy_tx]);
    let keys = chain.keys.clone();
    let to = Address::repeat_byte(0x42);
    let transfer_too_much = lazychain_fraud_harness::tx::call(
        "transfer(address,uint256)",
        &[
            lazychain_fraud_harness::tx::Arg::Address(to),
            lazychain_fraud_harness::tx::Arg::uint(1_000_000),
        ],
    );
    let txs = vec![
        keys[1].legacy(0, Some(to), U256::from(10), 21_000, Vec::new()),
        keys[2].eip2930(
            0,
            Some(to),
            U256::from(20),
            30_000,
            Vec::new(),
            &[(to, vec![])],
        ),
        keys[3].eip1559(0, Some(to), U256::from(30), 21_000, Vec::new()),
        keys[3].sign(TxEip1559 {
            chain_id: CHAIN_ID,
            nonce: 1,
            gas_limit: 21_000,
            max_fee_per_gas: 5 * BASE_FEE as u128,
            max_priority_fee_per_gas: 3 * BASE_FEE as u128,
            to: TxKind::Call(to),
            value: U256::from(40),
            access_list: Default::default(),
            input: Bytes::new(),
        }),
        s.call(token_address, transfer_too_much, 100_000),
        keys[2].sign(TxEip2930 {
            chain_id: CHAIN_ID,
            nonce: 1,
            gas_price: 3 * BASE_FEE as u128,
            gas_limit: 300_000,
            to: TxKind::Create,
            value: U256::ZERO,
            access_list: Default::default(),
            input: child_init(U256::from(1)).into(),
        }),
    ];
    let fee_before = balance(&chain.state, FEE_RECIPIENT);
    let block = execute(&chain, txs);
    let want = [
        (TxStatus::Success, 2 * BASE_FEE as u128),
        (TxStatus::Success, 2 * BASE_FEE as u128),
        (TxStatus::Success, BASE_FEE as u128 + 1_000_000),
        (TxStatus::Success, 4 * BASE_FEE as u128),
        (TxStatus::Failed, BASE_FEE as u128 + 1_000_000),
        (TxStatus::Success, 3 * BASE_FEE as u128),
    ];
    let mut tip_sum = U256::ZERO;
    for (i, (status, price)) in want.iter().enumerate() {
        let r = expect_status(&block, i, *status);
        assert_eq!(r.effective_gas_price, *price, "transaction {i}");
        tip_sum += U256::from(r.gas_used) * U256::from(price - BASE_FEE as u128);
    }
    assert_eq!(tips(&block), tip_sum);
    let written = block
        .out
        .writes
        .accounts
        .get(&FEE_RECIPIENT)
        .copied()
        .flatten()
        .expect("the fee recipient is written");
    assert_eq!(written.balance, fee_before + tip_sum);
    let state = after(&chain, &block);
    // Each sender paid its gas at the effective price, and its value.
    let spent = |from: Address| -> U256 {
        block
            .receipts()
            .iter()
            .zip(&block.txs)
            .filter(|(r, _)| r.from == from)
            .map(|(r, t)| {
                use alloy_consensus::Transaction as _;
                let value = t
                    .decoded
                    .as_ref()
                    .map(|(e, _)| e.value())
                    .unwrap_or_default();
                let paid_value = if r.status == TxStatus::Success {
                    value
                } else {
                    U256::ZERO
                };
                U256::from(r.gas_used) * U256::from(r.effective_gas_price)
                    + r.unused_gas_charge
                    + paid_value
            })
            .sum()
    };
    for key in &keys {
        assert_eq!(
            balance(&state, key.address),
            balance(&chain.state, key.address) - spent(key.address),
            "balance of {}",
            key.address
        );
    }
    prove_all(&chain, &block);
}
