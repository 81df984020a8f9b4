//! Fraud proofs end to end without a network: execute a block honestly, make a claim with one
//! corrupted trace entry, build the proof from an honest state, verify it. Honest claims are
//! refuted, mutated or misdirected proofs are rejected, and verification never panics.

use std::collections::HashMap;

use alloy_primitives::{keccak256, Address, B256, U256};
use lazychain_data_chain_types::block::BlockBody;
use lazychain_data_chain_types::BlockHeader;
use lazychain_exec_state_tree::StateTree;
use lazychain_exec_stf::genesis::{genesis_memory_state, AllocAccount};
use lazychain_exec_stf::state::Overlay;
use lazychain_exec_stf::witness::witness_for_tx;
use lazychain_exec_stf::{execute_block, prepare, trace_root, ChainParams, MemoryState};
use lazychain_fraud::claim::StateClaim;
use lazychain_fraud::proof::{
    build_bad_trace, build_bad_transition, verify, FraudProof, ProofError, Verdict, MAX_PROOF_BYTES,
};
use lazychain_test_utils::abi::erc20_transfer;
use lazychain_test_utils::{address_of, eip1559_tx, key};
use rand::{rngs::StdRng, Rng, SeedableRng};
use secp256k1::SecretKey;
use ssz_rs::prelude::Node;

const CHAIN_ID: u64 = 1337;

/// These blocks read no block hashes; a proof that carries one is checked against nothing.
fn no_hashes(_: u64) -> Option<[u8; 32]> {
    None
}
const TOKEN_HEX: &str = include_str!("../../exec-layer/contracts/build/LazyToken.bytecode.hex");

/// A transaction of this chain (max fee 2 gwei, priority fee 1 wei), signed by `k`.
fn sign(
    k: &SecretKey,
    nonce: u64,
    to: Option<Address>,
    value: u64,
    gas: u64,
    input: Vec<u8>,
) -> Vec<u8> {
    lazychain_test_utils::sign(
        k,
        eip1559_tx(CHAIN_ID, nonce, to, U256::from(value), gas, input),
    )
}

fn params() -> ChainParams {
    ChainParams {
        chain_id: CHAIN_ID,
        spec: lazychain_exec_stf::hardfork("osaka").expect("known"),
        base_fee_per_gas: 1_000_000_000,
        block_gas_limit: 100_000_000,
        trace_period: 1,
        fee_recipients: HashMap::from([([7u8; 20], Address::repeat_byte(0xfe))]),
    }
}

fn header(height: u64, raw: &[Vec<u8>]) -> BlockHeader {
    let body = BlockBody::from_transactions(raw).expect("body");
    let c = body.commitments().expect("commitments");
    BlockHeader {
        chain_id: CHAIN_ID,
        height,
        parent_hash: Node::default(),
        proposer: [7u8; 20],
        timestamp_ms: 1_700_000_000_000 + height * 1000,
        tx_root: c.tx_root,
        claims_root: c.claims_root,
        fraud_proofs_root: c.fraud_proofs_root,
        tx_count: c.tx_count,
        body_bytes: c.body_bytes,
        gas_limit_sum: 0,
        gas_allowance: 0,
        base_fee_per_gas: 1_000_000_000,
    }
}

/// A chain after a setup block (a token deployed), and a random block on top of it.
struct Case {
    state: MemoryState,
    tree: StateTree,
    header: BlockHeader,
    raw: Vec<Vec<u8>>,
    honest: StateClaim,
    trace: Vec<B256>,
}

fn case(rng: &mut StdRng) -> Case {
    let p = params();
    let keys: Vec<SecretKey> = (1..=5).map(key).collect();
    let alloc: Vec<AllocAccount> = keys
        .iter()
        .map(|k| AllocAccount {
            address: address_of(k),
            balance: U256::from(10u128.pow(21)),
            ..Default::default()
        })
        .collect();
    let (mut state, mut tree) = genesis_memory_state(&alloc);
    let mut deploy = hex::decode(TOKEN_HEX.trim()).expect("hex");
    deploy.extend_from_slice(&U256::from(1_000_000u64).to_be_bytes::<32>());
    let setup = vec![sign(&keys[0], 0, None, 0, 2_000_000, deploy)];
    let h1 = header(1, &setup);
    let ctx = p.block_context(&h1, B256::from(h1.hash().expect("hash").0));
    let out = execute_block(
        &p,
        &ctx,
        &prepare(setup.iter().map(|r| r.as_slice())),
        &state,
        &mut tree,
    )
    .expect("setup");
    state.apply(&out.writes);
    let token = address_of(&keys[0]).create(0);

    let mut nonces = [1u64, 0, 0, 0, 0];
    let mut raw = Vec::new();
    for _ in 0..rng.gen_range(3..12) {
        let k = rng.gen_range(0..keys.len());
        let to = Address::repeat_byte(rng.gen());
        let (target, value, gas, input) = match rng.gen_range(0..3) {
            0 if k == 0 => {
                let input = erc20_transfer(to, rng.gen_range(1..100u64));
                (Some(token), 0, 100_000, input)
            }
            1 => (Some(to), rng.gen_range(1..1000), 21_000, vec![]),
            _ => (
                Some(address_of(&keys[rng.gen_range(0..keys.len())])),
                7,
                21_000,
                vec![],
            ),
        };
        raw.push(sign(&keys[k], nonces[k], target, value, gas, input));
        nonces[k] += 1;
    }
    let h2 = header(2, &raw);
    let ctx = p.block_context(&h2, B256::from(h2.hash().expect("hash").0));
    let mut after = tree.clone();
    let out = execute_block(
        &p,
        &ctx,
        &prepare(raw.iter().map(|r| r.as_slice())),
        &state,
        &mut after,
    )
    .expect("block");
    let honest = StateClaim {
        chain_id: CHAIN_ID,
        data_height: 2,
        parent_claim: [1u8; 32],
        pre_state_root: out.pre_state_root.0,
        post_state_root: out.post_state_root.0,
        trace_root: out.trace_root.0,
        receipts_root: out.receipts_root.0,
        tx_count: raw.len() as u64,
        executor: [9u8; 20],
    };
    Case {
        state,
        tree,
        header: h2,
        raw,
        honest,
        trace: out.trace,
    }
}

/// The claim of an executor whose roots go wrong from transaction `k` on.
fn corrupted(c: &Case, k: usize) -> (StateClaim, Vec<B256>) {
    let mut trace = c.trace.clone();
    for (j, entry) in trace.iter_mut().enumerate().skip(k) {
        *entry = keccak256(format!("wrong root {j}"));
    }
    let mut claim = c.honest.clone();
    claim.trace_root = trace_root(&trace).0;
    claim.post_state_root = trace.last().expect("non-empty").0;
    (claim, trace)
}

/// The proof an honest node builds for entry `k` of `claim`, from its own state.
fn prove(c: &Case, claim: &StateClaim, trace: &[B256], k: usize) -> FraudProof {
    let p = params();
    let ctx = p.block_context(&c.header, B256::from(c.header.hash().expect("hash").0));
    let txs = prepare(c.raw.iter().map(|r| r.as_slice()));
    let mut tree = c.tree.clone();
    let before = execute_block(&p, &ctx, &txs[..k], &c.state, &mut tree).expect("prefix");
    let state = Overlay {
        base: &c.state,
        writes: &before.writes,
    };
    let witness = witness_for_tx(&p, &ctx, &txs[k], &state, &tree).expect("witness");
    let raw: Vec<&[u8]> = c.raw.iter().map(|r| r.as_slice()).collect();
    build_bad_transition(claim, trace, &raw, k, &witness).expect("builds")
}

fn seed() -> u64 {
    let seed = std::env::var("FRAUD_PROOF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::thread_rng().gen());
    println!("seed {seed} (rerun with FRAUD_PROOF_SEED={seed})");
    seed
}

#[test]
fn a_corrupted_trace_entry_is_proven_and_an_honest_one_is_not() {
    let mut rng = StdRng::seed_from_u64(seed());
    let p = params();
    for _ in 0..6 {
        let c = case(&mut rng);
        let k = rng.gen_range(0..c.raw.len());
        let (bad, bad_trace) = corrupted(&c, k);
        let proof = prove(&c, &bad, &bad_trace, k);
        let bytes = proof.encode();
        assert!(bytes.len() < 8 * 1024, "proof of {} bytes", bytes.len());
        let decoded = FraudProof::decode(&bytes).expect("decodes");
        assert_eq!(decoded, proof);
        assert_eq!(
            verify(&decoded, &bad, &c.header, &p, &no_hashes),
            Ok(Verdict::Proven)
        );

        // The same transaction against the honest claim: re-execution agrees with it.
        let honest_proof = prove(&c, &c.honest, &c.trace, k);
        assert_eq!(
            verify(&honest_proof, &c.honest, &c.header, &p, &no_hashes),
            Ok(Verdict::Refuted)
        );

        // Misdirected: another claim, another block.
        assert_eq!(
            verify(&proof, &c.honest, &c.header, &p, &no_hashes),
            Err(ProofError::WrongClaim)
        );
        let mut other = c.header.clone();
        other.height += 1;
        assert_eq!(
            verify(&proof, &bad, &other, &p, &no_hashes),
            Err(ProofError::WrongBlock)
        );

        // A later index of the bad claim: its entry before is already wrong, so the honest
        // witness does not authenticate against it.
        if k + 1 < c.raw.len() {
            let later = prove(&c, &bad, &bad_trace, k + 1);
            assert!(matches!(
                verify(&later, &bad, &c.header, &p, &no_hashes),
                Err(ProofError::Witness(_))
            ));
        }
    }
}

#[test]
fn mutated_truncated_and_oversized_proofs_never_prove_anything_else() {
    let mut rng = StdRng::seed_from_u64(seed());
    let p = params();
    let c = case(&mut rng);
    let k = rng.gen_range(0..c.raw.len());
    let (bad, bad_trace) = corrupted(&c, k);
    let proof = prove(&c, &bad, &bad_trace, k);
    let bytes = proof.encode();
    let mut proven_mutations = 0;
    for _ in 0..2_000 {
        let mut m = bytes.clone();
        let at = rng.gen_range(0..m.len());
        m[at] ^= 1 << rng.gen_range(0..8);
        if let Ok(decoded) = FraudProof::decode(&m) {
            if verify(&decoded, &bad, &c.header, &p, &no_hashes) == Ok(Verdict::Proven) {
                // Only a change that leaves the proof's meaning intact may still prove fraud
                // (e.g. a witness entry's unused bytes cannot exist: decoding is canonical).
                proven_mutations += 1;
                assert_eq!(decoded.target(), proof.target());
            }
        }
    }
    // Flipping one bit almost always breaks the proof; anything that survives proves the same
    // claim wrong (e.g. a different but still valid witness of a value the tx overwrites).
    assert!(
        proven_mutations < 2_000 / 10,
        "{proven_mutations} mutations still prove fraud"
    );
    for len in [0, 1, 4, bytes.len() / 2, bytes.len() - 1] {
        assert!(
            FraudProof::decode(&bytes[..len]).is_err(),
            "truncated to {len}"
        );
    }
    assert!(matches!(
        FraudProof::decode(&vec![0u8; MAX_PROOF_BYTES + 1]),
        Err(ProofError::TooLarge { .. })
    ));
}

#[test]
fn bad_traces_are_proven_by_length_or_last_entry() {
    let mut rng = StdRng::seed_from_u64(seed());
    let p = params();
    let c = case(&mut rng);
    let honest = build_bad_trace(&c.honest, &c.trace).expect("builds");
    assert_eq!(
        verify(&honest, &c.honest, &c.header, &p, &no_hashes),
        Ok(Verdict::Refuted)
    );

    let mut short = c.honest.clone();
    short.tx_count -= 1;
    let proof = build_bad_trace(&short, &c.trace[..c.trace.len() - 1]).expect("builds");
    assert_eq!(
        verify(&proof, &short, &c.header, &p, &no_hashes),
        Ok(Verdict::Proven)
    );

    let mut wrong_post = c.honest.clone();
    wrong_post.post_state_root = [0xee; 32];
    let proof = build_bad_trace(&wrong_post, &c.trace).expect("builds");
    assert_eq!(
        verify(&proof, &wrong_post, &c.header, &p, &no_hashes),
        Ok(Verdict::Proven)
    );
}

#[test]
fn a_slot_names_its_contract_by_the_account_entry_and_only_that_way() {
    let mut rng = StdRng::seed_from_u64(seed());
    let p = params();
    // Find a token transfer (its witness holds the token's account and two slots).
    let has_slot = |proof: &FraudProof| match proof {
        FraudProof::BadTransition(t) => t.witness.iter().any(|e| e.kind == 1),
        FraudProof::BadTrace(_) | FraudProof::Equivocation(_) => false,
    };
    let mut found = None;
    for _ in 0..200 {
        let c = case(&mut rng);
        let hit = (0..c.raw.len()).find_map(|k| {
            let (bad, bad_trace) = corrupted(&c, k);
            let proof = prove(&c, &bad, &bad_trace, k);
            has_slot(&proof).then_some((k, proof))
        });
        if let Some((k, proof)) = hit {
            found = Some((c, k, proof));
            break;
        }
    }
    let (c, k, proof) = found.expect("some case has a token transfer");
    let (bad, _) = corrupted(&c, k);
    assert_eq!(
        verify(&proof, &bad, &c.header, &p, &no_hashes),
        Ok(Verdict::Proven)
    );
    let FraudProof::BadTransition(t) = &proof else {
        unreachable!("a bad transition")
    };
    let slot = t.witness.iter().position(|e| e.kind == 1).expect("a slot");
    assert_eq!(t.witness[slot].key.len(), 2 + 32, "short form");
    let account = u16::from_le_bytes([t.witness[slot].key[0], t.witness[slot].key[1]]) as usize;
    assert_eq!(t.witness[account].kind, 0);

    // The long form of the same key is refused (one key, one encoding)...
    let mut long = t.clone();
    let mut key = t.witness[account].key.to_vec();
    key.extend_from_slice(&t.witness[slot].key[2..]);
    long.witness[slot].key = key.try_into().expect("52 bytes");
    let long = FraudProof::BadTransition(long);
    let decoded = FraudProof::decode(&long.encode()).expect("well-formed SSZ");
    assert!(matches!(
        verify(&decoded, &bad, &c.header, &p, &no_hashes),
        Err(ProofError::Malformed(_))
    ));
    // ...and so is a short form naming an entry that is not an account.
    let mut wrong = t.clone();
    let not_account = t
        .witness
        .iter()
        .position(|e| e.kind != 0)
        .expect("a non-account entry");
    let mut key = t.witness[slot].key.to_vec();
    key[..2].copy_from_slice(&(not_account as u16).to_le_bytes());
    wrong.witness[slot].key = key.try_into().expect("34 bytes");
    assert!(matches!(
        verify(
            &FraudProof::BadTransition(wrong),
            &bad,
            &c.header,
            &p,
            &no_hashes
        ),
        Err(ProofError::Malformed(_))
    ));
}
