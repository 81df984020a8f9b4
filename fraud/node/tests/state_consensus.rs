//! State consensus in process, without a network: real blocks are executed with the real
//! transition, two bonded executors post claims (one of them lying from height 2 on), an honest
//! node builds the fraud proof from its own state, and blocks carrying the claims and the proof
//! are fed to two independent [`StateFollower`]s, as two nodes would see them. Both reach the
//! same statuses: the lie and its descendants reverted, the honest chain final after the
//! window, the liar slashed; replayed, truncated, refuted and too-late proofs change nothing.

use alloy_consensus::TxEip1559;
use alloy_primitives::{Address, TxKind, B256, U256};
use lazychain_config::{
    dev_accounts, dev_execution, BlockLimits, Genesis, GenesisExecutor, GenesisValidator,
    StateGenesis,
};
use lazychain_data_chain_types::block::{BlockBody, BlockTemplate};
use lazychain_data_chain_types::{Block, BlockHash, BlockHeader};
use lazychain_exec_stf::genesis::genesis_memory_state;
use lazychain_exec_stf::witness::witness_for_tx;
use lazychain_exec_stf::{execute_block, prepare, MemoryState};
use lazychain_fraud::{
    build_bad_transition, executor_address, proof::Equivocation, ClaimId, ClaimItem, FraudItem,
    FraudProof, SignedClaim, StateClaim, GENESIS_PARENT,
};
use lazychain_fraud_node::StateFollower;
use malachitebft_signing_ed25519::PrivateKey;
use secp256k1::SecretKey;

const CHAIN_ID: u64 = 4242;
/// The challenge window in blocks: `min_window_blocks`, and in time as many of this chain's
/// blocks (they are one second apart), so that both bind at once.
const WINDOW: u64 = 3;
/// The time between this chain's blocks.
const BLOCK_MS: u64 = 1_000;
const BOND: u128 = 1_000;
const BLOCKS: u64 = 12;

fn executor_key(i: u8) -> PrivateKey {
    PrivateKey::from([i + 1; 32])
}

fn genesis() -> Genesis {
    let validator = PrivateKey::from([9; 32]);
    Genesis {
        chain_id: CHAIN_ID,
        genesis_time_ms: 1_700_000_000_000,
        validators: vec![GenesisValidator {
            name: "v".into(),
            public_key: *validator.public_key().as_bytes(),
            voting_power: 1,
            fee_recipient: Address::repeat_byte(0xfe),
        }],
        // No execution budget: a window of a few seconds is this test's explicit choice (the
        // budget's floor would not allow it).
        limits: BlockLimits {
            gas_per_second: 0,
            ..BlockLimits::default()
        },
        execution: dev_execution(0),
        state: StateGenesis {
            challenge_window_ms: WINDOW * BLOCK_MS,
            min_window_blocks: WINDOW,
            max_executor_stall_ms: 1,
            min_corroboration: 1,
            slash_reward_percent: 50,
            executors: (0..2)
                .map(|i| GenesisExecutor {
                    name: format!("e{i}"),
                    public_key: *executor_key(i).public_key().as_bytes(),
                    bond: BOND,
                })
                .collect(),
        },
    }
}

fn transfer(key: &SecretKey, nonce: u64) -> Vec<u8> {
    lazychain_test_utils::sign(
        key,
        TxEip1559 {
            max_fee_per_gas: 10_000_000_000,
            to: TxKind::Call(Address::repeat_byte(0x42)),
            value: U256::from(1_000u64 + nonce),
            ..lazychain_test_utils::transfer_tx(CHAIN_ID, nonce)
        },
    )
}

/// One executor's chain of claims; `lie_from` corrupts every root from that height on.
struct ClaimChain {
    key: PrivateKey,
    parent: ClaimId,
    parent_post: B256,
    lie_from: Option<u64>,
}

impl ClaimChain {
    fn claim(&mut self, height: u64, pre: B256, trace: &[B256], receipts: B256) -> ClaimItem {
        let lying = self.lie_from.is_some_and(|h| height >= h);
        let trace: Vec<B256> = if lying {
            trace
                .iter()
                .map(|r| alloy_primitives::keccak256(r.as_slice()))
                .collect()
        } else {
            trace.to_vec()
        };
        let pre = if lying { self.parent_post } else { pre };
        let post = *trace.last().unwrap_or(&pre);
        let mut item = ClaimItem {
            signed: SignedClaim::default(),
            trace,
        };
        item.signed = SignedClaim::sign(
            StateClaim {
                chain_id: CHAIN_ID,
                data_height: height,
                parent_claim: self.parent.0,
                pre_state_root: pre.0,
                post_state_root: post.0,
                trace_root: item.computed_trace_root().0,
                receipts_root: receipts.0,
                tx_count: item.trace.len() as u64,
                executor: executor_address(self.key.public_key().as_bytes()),
            },
            &self.key,
        );
        self.parent = item.id();
        self.parent_post = post;
        item
    }
}

/// The decided chain so far, as a node's block store would answer.
#[derive(Default)]
struct Chain {
    blocks: Vec<Block>,
}

impl Chain {
    fn header(&self, h: u64) -> Option<BlockHeader> {
        let index = usize::try_from(h.checked_sub(1)?).ok()?;
        self.blocks.get(index).map(|b| b.header.clone())
    }

    fn hash(&self, h: u64) -> Option<[u8; 32]> {
        Some(self.header(h)?.hash().ok()?.0)
    }

    fn push(&mut self, txs: &[Vec<u8>], claims: &[Vec<u8>], proofs: &[Vec<u8>]) -> &Block {
        let height = self.blocks.len() as u64 + 1;
        let parent = self
            .hash(height - 1)
            .map(BlockHash)
            .unwrap_or(BlockHash::ZERO);
        let body = BlockBody::from_transactions(txs)
            .and_then(|b| b.with_items(claims, proofs))
            .expect("body");
        let template = BlockTemplate {
            chain_id: CHAIN_ID,
            height,
            parent,
            proposer: [0; 20],
            timestamp_ms: 1_700_000_000_000 + height * BLOCK_MS,
            gas_available: 0,
            base_fee_per_gas: 0,
        };
        let gas = 21_000 * txs.len() as u64;
        self.blocks
            .push(Block::build(&template, body, gas).expect("block"));
        self.blocks.last().expect("just pushed")
    }
}

fn apply_to_both(followers: &mut [StateFollower; 2], chain: &Chain) {
    let block = chain.blocks.last().expect("a block").clone();
    for f in followers.iter_mut() {
        f.apply_block(&block, &|h| chain.header(h), &|h| chain.hash(h))
            .expect("applies");
    }
}

fn status(f: &StateFollower, id: &ClaimId) -> &'static str {
    f.consensus()
        .status(id)
        .map(|s| s.name())
        .unwrap_or("unknown")
}

#[test]
fn a_lie_is_reverted_with_its_descendants_and_only_valid_proofs_count() {
    let genesis = genesis();
    genesis.validate().expect("a valid genesis");
    let params = lazychain_fraud::chain_params(&genesis).expect("params");
    let sender = SecretKey::from_byte_array(dev_accounts(0, 1)[0].private_key.0).expect("key");
    let mut followers = [
        StateFollower::new(&genesis).expect("follower"),
        StateFollower::new(&genesis).expect("follower"),
    ];
    let genesis_root = lazychain_fraud::genesis_state_root(&genesis);
    let mut honest = ClaimChain {
        key: executor_key(0),
        parent: GENESIS_PARENT,
        parent_post: genesis_root,
        lie_from: None,
    };
    let mut liar = ClaimChain {
        key: executor_key(1),
        parent: GENESIS_PARENT,
        parent_post: genesis_root,
        lie_from: Some(2),
    };
    let honest_address = executor_address(executor_key(0).public_key().as_bytes());
    let liar_address = executor_address(executor_key(1).public_key().as_bytes());

    let (mut state, mut tree): (MemoryState, _) =
        genesis_memory_state(&lazychain_fraud::alloc(&genesis));
    let mut chain = Chain::default();
    let mut pending_claims: Vec<Vec<u8>> = Vec::new();
    let mut pending_proofs: Vec<Vec<u8>> = Vec::new();
    let mut honest_ids = Vec::new();
    let mut liar_ids = Vec::new();
    let mut accepted_proof = None;
    let mut late_proof: Option<Vec<u8>> = None;
    let mut nonce = 0;
    for height in 1..=BLOCKS {
        let txs: Vec<Vec<u8>> = (0..2)
            .map(|_| {
                nonce += 1;
                transfer(&sender, nonce - 1)
            })
            .collect();
        let block = chain
            .push(
                &txs,
                &std::mem::take(&mut pending_claims),
                &std::mem::take(&mut pending_proofs),
            )
            .clone();
        apply_to_both(&mut followers, &chain);

        // Execute the block as an honest executor does.
        let ctx = params.block_context(
            &block.header,
            B256::from(block.header.hash().expect("hash").0),
        );
        let prepared = prepare(txs.iter().map(Vec::as_slice));
        let before_tree = tree.clone();
        let out = execute_block(&params, &ctx, &prepared, &state, &mut tree).expect("executes");
        let h = honest.claim(height, out.pre_state_root, &out.trace, out.receipts_root);
        let l = liar.claim(height, out.pre_state_root, &out.trace, out.receipts_root);
        honest_ids.push(h.id());
        liar_ids.push(l.id());
        pending_claims = vec![h.encode(), l.encode()];

        if height == 2 {
            // The liar's claim at 2 goes into block 3; the honest node proves it from its own
            // state before block 2, at the first differing entry (0), for block 4.
            let witness =
                witness_for_tx(&params, &ctx, &prepared[0], &state, &before_tree).expect("witness");
            let raw: Vec<&[u8]> = txs.iter().map(Vec::as_slice).collect();
            let proof =
                build_bad_transition(&l.signed.claim, &l.trace, &raw, 0, &witness).expect("proof");
            accepted_proof = Some(
                FraudItem {
                    submitter: honest_address,
                    proof: proof.encode(),
                }
                .encode(),
            );
        }
        if height == 3 {
            pending_proofs.push(accepted_proof.clone().expect("built at height 2"));
        }
        if height == 5 {
            // Replayed, truncated, and a "proof" against the honest claim at 2 (which
            // re-execution refutes): all included, none changes anything.
            let replayed = accepted_proof.clone().expect("proof");
            let mut truncated = replayed.clone();
            truncated.truncate(truncated.len() / 2);
            let honest_item = ClaimItem::decode(
                chain.blocks[2]
                    .body
                    .claims
                    .iter()
                    .next()
                    .expect("honest claim in block 3")
                    .as_ref(),
            )
            .expect("claim");
            let (past_state, past_tree) = rebuild_before(&genesis, &chain, 2);
            let block2 = &chain.blocks[1];
            let txs2: Vec<&[u8]> = block2.body.transactions().collect();
            let ctx2 = params.block_context(
                &block2.header,
                B256::from(block2.header.hash().expect("hash").0),
            );
            let prepared2 = prepare(txs2.iter().copied());
            let w = witness_for_tx(&params, &ctx2, &prepared2[0], &past_state, &past_tree)
                .expect("witness");
            let refuted =
                build_bad_transition(&honest_item.signed.claim, &honest_item.trace, &txs2, 0, &w)
                    .expect("proof");
            let refuted = FraudItem {
                submitter: liar_address,
                proof: refuted.encode(),
            }
            .encode();
            late_proof = Some(refuted.clone());
            pending_proofs = vec![replayed, truncated, refuted];
        }
        if height == 7 {
            // The same proof once its target (honest, included in block 3) is final.
            pending_proofs = vec![late_proof.clone().expect("built at height 5")];
        }
        state.apply(&out.writes);
    }

    let [a, b] = &followers;
    // Both nodes agree on everything.
    assert_eq!(a.consensus(), b.consensus());

    // The lie at 2 is reverted by the proof (block 4); its descendant at 3, included with it in
    // block 4 before the proof, is reverted as a descendant; the liar's later claims are ignored.
    let c = a.consensus();
    // The liar was honest at height 1, but that claim was still pending when the liar was
    // slashed: a slashed executor's pending claims are reverted (rule 5).
    assert_eq!(status(a, &liar_ids[0]), "reverted");
    assert!(matches!(
        c.status(&liar_ids[0]),
        Some(lazychain_fraud::ClaimStatus::Reverted {
            reason: lazychain_fraud::RevertReason::ExecutorSlashed,
            ..
        })
    ));
    assert_eq!(status(a, &liar_ids[1]), "reverted");
    assert_eq!(status(a, &liar_ids[2]), "reverted");
    for id in &liar_ids[3..BLOCKS as usize - 1] {
        assert_eq!(
            status(a, id),
            "unknown",
            "claims of a slashed executor are ignored"
        );
    }
    // Every honest claim included at least WINDOW blocks ago is final, and canonical.
    let final_up_to = BLOCKS - WINDOW - 1;
    for (i, id) in honest_ids.iter().enumerate().take(final_up_to as usize) {
        let height = i as u64 + 1;
        assert_eq!(status(a, id), "final", "honest claim at {height}");
        assert_eq!(c.canonical_claim(height), Some(*id));
    }
    assert_eq!(c.latest_final_height(), final_up_to);

    // Slashing: the whole bond, half to the prover, half burned; nothing else moved.
    let ledger = c.ledger();
    assert_eq!(ledger.slashed.get(&liar_address), Some(&BOND));
    assert_eq!(ledger.bonds.get(&liar_address), Some(&0));
    assert_eq!(ledger.rewards.get(&honest_address), Some(&(BOND / 2)));
    assert_eq!(ledger.rewards.get(&liar_address), None);
    assert_eq!(ledger.burned, BOND / 2);
    assert_eq!(ledger.total(), 2 * BOND);

    // The included proofs and their outcomes, as `lazy_getFraudProofs` serves them.
    let proofs = a.proofs_between(1, BLOCKS);
    let outcomes: Vec<(u64, &str)> = proofs
        .iter()
        .map(|p| (p.included_at, p.outcome.split(':').next().unwrap_or("")))
        .collect();
    assert_eq!(
        outcomes,
        vec![
            (4, "accepted"),
            (6, "rejected"),
            (6, "rejected"),
            (6, "rejected"),
            (8, "rejected")
        ],
        "{proofs:?}"
    );
    assert!(proofs[4].outcome.contains("final"), "{:?}", proofs[4]);
    assert!(
        proofs[3].outcome.contains("re-execution agrees"),
        "{:?}",
        proofs[3]
    );
}

/// The state and tree before block `height`, by re-executing the chain from genesis.
fn rebuild_before(
    genesis: &Genesis,
    chain: &Chain,
    height: u64,
) -> (MemoryState, lazychain_exec_state_tree::StateTree) {
    let params = lazychain_fraud::chain_params(genesis).expect("params");
    let (mut state, mut tree) = genesis_memory_state(&lazychain_fraud::alloc(genesis));
    for block in chain.blocks.iter().take(height as usize - 1) {
        let ctx = params.block_context(
            &block.header,
            B256::from(block.header.hash().expect("hash").0),
        );
        let prepared = prepare(block.body.transactions());
        let out = execute_block(&params, &ctx, &prepared, &state, &mut tree).expect("executes");
        state.apply(&out.writes);
    }
    (state, tree)
}

/// Two followers after block 1 (one transfer), with the honest executor's claim for it and
/// two different claims executor 1 signed for it on the same parent (the second with another
/// receipts root).
struct Twins {
    followers: [StateFollower; 2],
    chain: Chain,
    equivocator: [u8; 20],
    h: ClaimItem,
    a: ClaimItem,
    b: ClaimItem,
}

fn twins() -> Twins {
    let genesis = genesis();
    let params = lazychain_fraud::chain_params(&genesis).expect("params");
    let sender = SecretKey::from_byte_array(dev_accounts(0, 1)[0].private_key.0).expect("key");
    let mut followers = [
        StateFollower::new(&genesis).expect("follower"),
        StateFollower::new(&genesis).expect("follower"),
    ];
    let genesis_root = lazychain_fraud::genesis_state_root(&genesis);
    let chain_of = |i: u8| ClaimChain {
        key: executor_key(i),
        parent: GENESIS_PARENT,
        parent_post: genesis_root,
        lie_from: None,
    };
    let (mut honest, mut twin_a, mut twin_b) = (chain_of(0), chain_of(1), chain_of(1));
    let (state, mut tree): (MemoryState, _) =
        genesis_memory_state(&lazychain_fraud::alloc(&genesis));
    let mut chain = Chain::default();
    let txs = vec![transfer(&sender, 0)];
    let block = chain.push(&txs, &[], &[]).clone();
    apply_to_both(&mut followers, &chain);
    let ctx = params.block_context(
        &block.header,
        B256::from(block.header.hash().expect("hash").0),
    );
    let prepared = prepare(txs.iter().map(Vec::as_slice));
    let out = execute_block(&params, &ctx, &prepared, &state, &mut tree).expect("executes");
    Twins {
        followers,
        chain,
        equivocator: executor_address(executor_key(1).public_key().as_bytes()),
        h: honest.claim(1, out.pre_state_root, &out.trace, out.receipts_root),
        a: twin_a.claim(1, out.pre_state_root, &out.trace, out.receipts_root),
        b: twin_b.claim(1, out.pre_state_root, &out.trace, B256::repeat_byte(7)),
    }
}

/// An executor that signs two different claims for one height and parent is equivocating:
/// when both are included, every node reverts both (and what builds on them) and burns the
/// whole bond (no one submitted evidence, so no one is rewarded); the other executor's claim
/// at that height is untouched and finalizes.
#[test]
fn two_claims_for_one_height_and_parent_are_equivocation_on_inclusion() {
    let Twins {
        mut followers,
        mut chain,
        equivocator,
        h,
        a,
        b,
    } = twins();
    assert_ne!(a.id(), b.id());
    assert_eq!(a.signed.claim.parent_claim, b.signed.claim.parent_claim);

    // Block 2 includes the honest claim and the first twin; block 3 the second twin.
    chain.push(&[], &[h.encode(), a.encode()], &[]);
    apply_to_both(&mut followers, &chain);
    assert_eq!(status(&followers[0], &a.id()), "pending");
    chain.push(&[], &[b.encode()], &[]);
    apply_to_both(&mut followers, &chain);
    for _ in 0..=WINDOW {
        chain.push(&[], &[], &[]);
        apply_to_both(&mut followers, &chain);
    }

    for f in &followers {
        assert_eq!(status(f, &a.id()), "reverted");
        assert_eq!(status(f, &b.id()), "reverted");
        assert_eq!(status(f, &h.id()), "final");
        assert_eq!(f.consensus().canonical_claim(1), Some(h.id()));
        let ledger = f.consensus().ledger();
        assert_eq!(ledger.slashed.get(&equivocator), Some(&BOND));
        assert_eq!(ledger.bonds.get(&equivocator), Some(&0));
        assert_eq!(ledger.burned, BOND);
        assert_eq!(ledger.total(), 2 * BOND);
    }
}

/// Equivocation evidence is includable like a proof: two claims one executor signed for one
/// height and parent, submitted by anyone as a fraud-proof item (kind 4). Only one of the two
/// ever reaches a block; the evidence reverts it, slashes the bond and rewards the submitter.
/// Evidence that is not equivocation, or comes after the slashing, changes nothing.
#[test]
fn equivocation_evidence_is_included_like_a_proof_and_rewards_its_submitter() {
    let Twins {
        mut followers,
        mut chain,
        equivocator,
        h,
        a,
        b,
    } = twins();
    let whistleblower = [0x77u8; 20];
    let evidence = |x: &ClaimItem, y: &ClaimItem, submitter: [u8; 20]| {
        FraudItem {
            submitter,
            proof: FraudProof::Equivocation(Box::new(Equivocation {
                a: x.signed.clone(),
                b: y.signed.clone(),
            }))
            .encode(),
        }
        .encode()
    };

    // Block 2: the honest claim and the first twin only.
    chain.push(&[], &[h.encode(), a.encode()], &[]);
    apply_to_both(&mut followers, &chain);

    // What a node checks before pooling: real evidence passes, anything else is refused.
    let valid = FraudItem::decode(&evidence(&a, &b, whistleblower)).expect("item");
    let (target, _) = followers[0]
        .check_proof(&valid, &|h| chain.header(h), &|h| chain.hash(h))
        .expect("equivocation evidence");
    assert_eq!(target, a.id());
    for (x, y, why) in [(&a, &a, "the same claim"), (&a, &h, "different executors")] {
        let item = FraudItem::decode(&evidence(x, y, whistleblower)).expect("item");
        let refused = followers[0].check_proof(&item, &|h| chain.header(h), &|h| chain.hash(h));
        assert!(
            refused.as_ref().is_err_and(|e| e.to_string().contains(why)),
            "{why}: {refused:?}"
        );
    }

    // Block 3: the evidence, once, then a copy and a non-equivocation item in block 4.
    chain.push(&[], &[], &[evidence(&a, &b, whistleblower)]);
    apply_to_both(&mut followers, &chain);
    chain.push(
        &[],
        &[],
        &[evidence(&b, &a, [0x66; 20]), evidence(&a, &h, [0x66; 20])],
    );
    apply_to_both(&mut followers, &chain);
    for _ in 0..=WINDOW {
        chain.push(&[], &[], &[]);
        apply_to_both(&mut followers, &chain);
    }

    for f in &followers {
        assert_eq!(status(f, &a.id()), "reverted");
        assert_eq!(status(f, &b.id()), "unknown", "never included");
        assert_eq!(status(f, &h.id()), "final");
        assert_eq!(f.consensus().canonical_claim(1), Some(h.id()));
        let ledger = f.consensus().ledger();
        assert_eq!(ledger.slashed.get(&equivocator), Some(&BOND));
        assert_eq!(ledger.rewards.get(&whistleblower), Some(&(BOND / 2)));
        assert_eq!(ledger.rewards.get(&[0x66; 20]), None);
        assert_eq!(ledger.burned, BOND / 2);
        assert_eq!(ledger.total(), 2 * BOND);
        let records = f.proofs_between(1, chain.blocks.len() as u64);
        let seen: Vec<(u64, &str, &str)> = records
            .iter()
            .map(|p| {
                (
                    p.included_at,
                    p.kind,
                    p.outcome.split(':').next().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                (3, "equivocation", "accepted"),
                (4, "equivocation", "rejected"),
                (4, "equivocation", "rejected"),
            ],
            "{records:?}"
        );
        assert!(records[1].outcome.contains("slashed"), "{:?}", records[1]);
    }
}
