//! Every precompile of Osaka, through the `Precompiles` fixture: the valid inputs of
//! `exec-layer/contracts/build/precompile-inputs.json`, an invalid input for each precompile
//! that can fail on its input, too little gas for each, STATICCALL and CALL with value.

use alloy_primitives::{keccak256, Address, B256, U256};
use lazychain_exec_stf::{Receipt, TxStatus};
use lazychain_fraud_harness::tx::{call, Arg};
use lazychain_fraud_harness::Chain;

use crate::common::*;

/// One entry of `precompile-inputs.json`.
struct Vector {
    address: Address,
    name: String,
    input: Vec<u8>,
    output: Vec<u8>,
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.trim_start_matches("0x")).expect("hex in precompile-inputs.json")
}

fn vectors() -> Vec<Vector> {
    let json: serde_json::Value =
        serde_json::from_str(PRECOMPILE_INPUTS).expect("precompile-inputs.json parses");
    json.as_array()
        .expect("a list")
        .iter()
        .map(|e| {
            let field = |k: &str| e[k].as_str().unwrap_or_else(|| panic!("field {k} of {e}"));
            Vector {
                address: field("address").parse().expect("address"),
                name: field("name").to_owned(),
                input: unhex(field("input")),
                output: unhex(field("output")),
            }
        })
        .collect()
}

/// What a `Precompiles` call recorded, from its `Called(n, target, ok, outLength, outHash)`
/// event.
#[derive(Debug, PartialEq, Eq)]
struct Called {
    target: Address,
    ok: bool,
    out_len: u64,
    out_hash: B256,
}

fn called(r: &Receipt) -> Called {
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    let log = r.logs.last().expect("a Called event");
    let data = &log.data.data;
    Called {
        target: Address::from_slice(&log.topics()[2][12..]),
        ok: word(data, 0) == U256::from(1),
        out_len: word(data, 1).to::<u64>(),
        out_hash: b256_word(data, 2),
    }
}

/// Deploys `Precompiles`; returns the chain, the sender and its address.
fn setup() -> (Chain, Sender, Address) {
    let (chain, k, p) = chain_with(Fixture::Precompiles);
    (chain, k, p)
}

fn call_precompile(p: Address, input: &[u8]) -> Vec<u8> {
    call(
        "call(address,bytes)",
        &[Arg::Address(p), Arg::Bytes(input.to_vec())],
    )
}

/// Runs `txs` in blocks of at most 9 (a block's proofs re-execute its prefix: short blocks
/// keep that cheap), proves every transaction and commits; returns the receipts.
fn prove_in_blocks(chain: &mut Chain, txs: Vec<Vec<u8>>) -> Vec<Receipt> {
    let mut receipts = Vec::new();
    for chunk in txs.chunks(9) {
        let block = execute(chain, chunk.to_vec());
        prove_all(chain, &block);
        receipts.extend_from_slice(block.receipts());
        chain.commit(block);
    }
    receipts
}

/// Every vector of `precompile-inputs.json` (all 18 Osaka precompiles, some twice): the call
/// succeeds (`ok`) with exactly the expected output, which the fixture stores; then the
/// stored `results(n)` agree.
#[test]
fn every_precompile_with_a_valid_input_is_provable() {
    let (mut chain, mut k, p) = setup();
    let vectors = vectors();
    let addresses: std::collections::BTreeSet<Address> =
        vectors.iter().map(|v| v.address).collect();
    assert_eq!(addresses.len(), 18, "0x01..0x11 and 0x100");
    let txs = vectors
        .iter()
        .map(|v| k.call(p, call_precompile(v.address, &v.input), 1_000_000))
        .collect();
    let receipts = prove_in_blocks(&mut chain, txs);
    for (v, r) in vectors.iter().zip(&receipts) {
        let got = called(r);
        let want = Called {
            target: v.address,
            ok: true,
            out_len: v.output.len() as u64,
            out_hash: keccak256(&v.output),
        };
        assert_eq!(got, want, "{}", v.name);
    }
    for (n, v) in vectors.iter().enumerate() {
        let out = getter(
            &chain,
            &chain.state,
            p,
            "results(uint256)",
            &[Arg::uint(n as u64 + 1)],
        );
        assert_eq!(address_word(&out, 0), v.address, "{}", v.name);
        assert_eq!(word(&out, 1), U256::from(1), "stored ok of {}", v.name);
        assert_eq!(b256_word(&out, 4), keccak256(&v.output), "{}", v.name);
    }
}

/// An invalid input for each precompile: where the precompile fails on its input (modexp
/// over the EIP-7823 length bound, bn254 points off the curve, wrong lengths for the pairing,
/// blake2f, KZG and every BLS12-381 precompile) the call fails (`ok` false, all the gas
/// given to it used); where it cannot fail (ecrecover with v = 29, P256VERIFY with a short
/// input) it succeeds with empty output.
#[test]
fn every_precompile_with_an_invalid_input_is_provable() {
    let (mut chain, mut k, p) = setup();
    let vectors = vectors();
    let valid = |a: u64| -> Vec<u8> {
        vectors
            .iter()
            .filter(|v| v.address == Address::left_padding_from(&a.to_be_bytes()))
            .map(|v| v.input.clone())
            .max_by_key(Vec::len)
            .expect("a vector for the address")
    };
    let word32 = |v: u64| U256::from(v).to_be_bytes::<32>().to_vec();
    let off_curve: Vec<u8> = [word32(1), word32(3)].concat();
    let mut cases: Vec<(u64, Vec<u8>, bool)> = Vec::new();
    let mut ecrecover = valid(1);
    ecrecover[63] = 29;
    cases.push((1, ecrecover, true));
    // modexp: a 1025-byte base is over the EIP-7823 bound of 1024 bytes.
    let mut modexp = [word32(1025), word32(1), word32(1)].concat();
    modexp.extend(std::iter::repeat_n(3u8, 1025 + 2));
    cases.push((5, modexp, false));
    cases.push((
        6,
        [off_curve.clone(), valid(6)[64..].to_vec()].concat(),
        false,
    ));
    cases.push((7, [off_curve, word32(2)].concat(), false));
    for a in [8u64, 9, 10, 11, 12, 13, 14, 15, 16, 17] {
        let mut input = valid(a);
        input.pop();
        cases.push((a, input, false));
    }
    let mut p256 = valid(0x100);
    p256.pop();
    cases.push((0x100, p256, true));

    let txs = cases
        .iter()
        .map(|(a, input, _)| {
            k.call(
                p,
                call_precompile(Address::left_padding_from(&a.to_be_bytes()), input),
                5_000_000,
            )
        })
        .collect();
    let receipts = prove_in_blocks(&mut chain, txs);
    for ((a, _, ok), r) in cases.iter().zip(&receipts) {
        let got = called(r);
        assert_eq!(got.ok, *ok, "precompile {a:#x}: {got:?}");
        assert_eq!(got.out_len, 0, "precompile {a:#x}");
        if !ok {
            // A failing precompile consumes all the gas the call forwarded (63/64 of it).
            assert!(r.gas_used > 4_000_000, "precompile {a:#x}: {}", r.gas_used);
        }
    }
}

/// Too little gas for each precompile (`callWithGas` with 10 gas: every precompile costs
/// more), the documented BLS12-381 G1ADD case with 100 gas, plus a STATICCALL of sha256 and
/// a CALL with value to the identity precompile (which creates its account).
#[test]
fn every_precompile_with_too_little_gas_is_provable() {
    let (mut chain, mut k, p) = setup();
    let vectors = vectors();
    let mut firsts: Vec<&Vector> = Vec::new();
    for v in &vectors {
        if !firsts.iter().any(|f| f.address == v.address) {
            firsts.push(v);
        }
    }
    let with_gas = |a: Address, input: &[u8], gas: u64| {
        call(
            "callWithGas(address,bytes,uint256)",
            &[Arg::Address(a), Arg::Bytes(input.to_vec()), Arg::uint(gas)],
        )
    };
    let mut txs: Vec<Vec<u8>> = firsts
        .iter()
        .map(|v| k.call(p, with_gas(v.address, &v.input, 10), 500_000))
        .collect();
    let g1add = Address::with_last_byte(0x0b);
    txs.push(k.call(p, with_gas(g1add, &[0u8; 256], 100), 500_000));
    let sha256 = Address::with_last_byte(2);
    let identity = Address::with_last_byte(4);
    txs.push(k.call(
        p,
        call(
            "callStatic(address,bytes)",
            &[Arg::Address(sha256), Arg::Bytes(b"abc".to_vec())],
        ),
        500_000,
    ));
    txs.push(k.send(
        p,
        wei(5),
        call(
            "callWithValue(address,bytes)",
            &[Arg::Address(identity), Arg::Bytes(b"lazy".to_vec())],
        ),
        500_000,
    ));
    assert!(account(&chain.state, identity).is_none());
    let receipts = prove_in_blocks(&mut chain, txs);
    let n = firsts.len();
    for (v, r) in firsts.iter().zip(&receipts) {
        let got = called(r);
        assert!(!got.ok, "{} with 10 gas: {got:?}", v.name);
        assert_eq!(got.target, v.address);
    }
    assert!(!called(&receipts[n]).ok, "G1ADD with 100 gas");
    let stat = called(&receipts[n + 1]);
    assert!(stat.ok);
    assert_eq!(
        stat.out_hash,
        keccak256(
            vectors
                .iter()
                .find(|v| v.name == "sha256")
                .expect("sha256 vector")
                .output
                .as_slice()
        )
    );
    let valued = called(&receipts[n + 2]);
    assert_eq!((valued.ok, valued.out_hash), (true, keccak256(b"lazy")));
    assert_eq!(
        balance(&chain.state, identity),
        wei(5),
        "the precompile's account exists"
    );
}
