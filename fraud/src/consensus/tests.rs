//! Tests of the state-consensus rules, one per rule, and a randomized property test.

use malachitebft_signing_ed25519::PrivateKey;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::claim::{StateClaim, GENESIS_PARENT};
use crate::executor_address;

const CHAIN: u64 = 42;
const GENESIS_ROOT: B256 = B256::repeat_byte(0x99);
const SUBMITTER: Address = [0x5u8; 20];
/// The time between blocks [`block`] applies: block `h` has timestamp `h * BLOCK_MS`.
const BLOCK_MS: u64 = 1_000;

struct Exec {
    key: PrivateKey,
    addr: Address,
}

fn exec(seed: u8) -> Exec {
    let key = PrivateKey::from([seed; 32]);
    let addr = executor_address(key.public_key().as_bytes());
    Exec { key, addr }
}

fn root(n: u8) -> [u8; 32] {
    let mut r = [0u8; 32];
    r[0] = 0xaa;
    r[31] = n;
    r
}

/// A claim by `e` on top of `parent` (genesis when `None`) with post-state root `post`.
fn claim_on(e: &Exec, parent: Option<&SignedClaim>, post: [u8; 32]) -> SignedClaim {
    let claim = StateClaim {
        chain_id: CHAIN,
        data_height: parent.map_or(1, |p| p.claim.data_height + 1),
        parent_claim: parent.map_or(GENESIS_PARENT, |p| p.id()).0,
        pre_state_root: parent.map_or(GENESIS_ROOT.0, |p| p.claim.post_state_root),
        post_state_root: post,
        trace_root: [1; 32],
        receipts_root: [2; 32],
        tx_count: 1,
        executor: e.addr,
    };
    SignedClaim::sign(claim, &e.key)
}

/// Re-signs a modified claim with `e`'s key.
fn resign(e: &Exec, mut signed: SignedClaim, change: impl FnOnce(&mut StateClaim)) -> SignedClaim {
    change(&mut signed.claim);
    SignedClaim::sign(signed.claim, &e.key)
}

fn params(window_ms: u64, min_blocks: u64, corroboration: u64, percent: u8) -> StateParams {
    StateParams {
        chain_id: CHAIN,
        challenge_window_ms: window_ms,
        min_window_blocks: min_blocks,
        min_corroboration: corroboration,
        slash_reward_percent: percent,
    }
}

fn machine_with(params: &StateParams, execs: &[(&Exec, u128)]) -> StateConsensus {
    let registry = ExecutorRegistry::new(
        execs
            .iter()
            .map(|(e, bond)| (*e.key.public_key().as_bytes(), *bond)),
    )
    .expect("registry");
    StateConsensus::new(GENESIS_ROOT, params, registry).expect("machine")
}

/// A machine of `execs` (bond 1000 each) that keeps `retained` final heights (rule 7).
fn pruning_machine(params: &StateParams, execs: &[&Exec], retained: u64) -> StateConsensus {
    let registry: Vec<(&Exec, u128)> = execs.iter().map(|e| (*e, 1000)).collect();
    let registry = machine_with(params, &registry).registry().clone();
    StateConsensus::with_retention(GENESIS_ROOT, params, registry, retained).expect("machine")
}

/// A machine whose window is `window` blocks of [`block`]: `window * BLOCK_MS` milliseconds
/// and at least `window` blocks (both bind at once), with no corroboration required.
fn machine(window: u64, percent: u8, execs: &[(&Exec, u128)]) -> StateConsensus {
    machine_with(&params(window * BLOCK_MS, window, 1, percent), execs)
}

/// Transactions in every block of these tests but the empty ones ([`tx_free_blocks`]).
const TXS: u64 = 1;

/// Applies the next block (with transactions), `BLOCK_MS` after the previous one.
fn block(sc: &mut StateConsensus, items: Vec<Inclusion>) -> Vec<Outcome> {
    let h = sc.applied_height() + 1;
    sc.apply_block(h, h * BLOCK_MS, TXS, &items)
        .expect("in order")
}

/// Applies the next block (with transactions) with timestamp `ms`.
fn block_at(sc: &mut StateConsensus, ms: u64, items: Vec<Inclusion>) -> Vec<Outcome> {
    let h = sc.applied_height() + 1;
    sc.apply_block(h, ms, TXS, &items).expect("in order")
}

/// `n` blocks with transactions and no state-consensus items.
fn blocks_without_items(sc: &mut StateConsensus, n: u64) {
    for _ in 0..n {
        block(sc, vec![]);
    }
}

/// `n` blocks without transactions (and without items), `BLOCK_MS` apart.
fn tx_free_blocks(sc: &mut StateConsensus, n: u64) {
    for _ in 0..n {
        let h = sc.applied_height() + 1;
        sc.apply_block(h, h * BLOCK_MS, 0, &[]).expect("in order");
    }
}

fn fraud(target: &SignedClaim, proof: u8) -> Inclusion {
    Inclusion::Fraud {
        target: target.id(),
        submitter: SUBMITTER,
        proof_id: [proof; 32],
    }
}

fn status(sc: &StateConsensus, c: &SignedClaim) -> ClaimStatus {
    sc.status(&c.id()).expect("recorded")
}

/// Applies `items` as the next block and checks that it changed nothing but the applied
/// height (compared with a copy that applies an empty block). Returns the outcomes.
fn changes_nothing(sc: &mut StateConsensus, items: Vec<Inclusion>) -> Vec<Outcome> {
    let mut reference = sc.clone();
    block(&mut reference, vec![]);
    let outcomes = block(sc, items);
    assert_eq!(*sc, reference, "the block changed the state: {outcomes:?}");
    outcomes
}

#[test]
fn honest_claims_finalize_after_exactly_w_blocks() {
    let a = exec(1);
    let mut sc = machine(3, 50, &[(&a, 1000)]);
    assert_eq!(sc.canonical_root(0), Some(GENESIS_ROOT));
    assert_eq!(sc.canonical_root(1), None);
    assert_eq!(sc.latest_final_height(), 0);
    let c1 = claim_on(&a, None, root(1));
    let c2 = claim_on(&a, Some(&c1), root(2));

    block(&mut sc, vec![]); // 1
    let out = block(&mut sc, vec![Inclusion::Claim(c1.clone())]); // 2
    assert_eq!(
        out,
        vec![Outcome::Recorded {
            id: c1.id(),
            status: ClaimStatus::Pending { included_at: 2 }
        }]
    );
    assert_eq!(sc.safe_root(1), Some(B256::from(root(1))));
    block(&mut sc, vec![Inclusion::Claim(c2.clone())]); // 3
    block(&mut sc, vec![]); // 4
    assert_eq!(status(&sc, &c1), ClaimStatus::Pending { included_at: 2 });
    assert_eq!(sc.canonical_root(1), None);
    block(&mut sc, vec![]); // 5 = 2 + W
    assert_eq!(status(&sc, &c1), ClaimStatus::Final { at: 5 });
    assert_eq!(status(&sc, &c2), ClaimStatus::Pending { included_at: 3 });
    assert_eq!(sc.canonical_root(1), Some(B256::from(root(1))));
    assert_eq!(sc.canonical_claim(1), Some(c1.id()));
    assert_eq!(sc.latest_final_height(), 1);
    assert_eq!(sc.safe_root(2), Some(B256::from(root(2))));
    assert_eq!(sc.latest_safe_height(), 2);
    block(&mut sc, vec![]); // 6
    assert_eq!(status(&sc, &c2), ClaimStatus::Final { at: 6 });
    assert_eq!(sc.canonical_root(2), Some(B256::from(root(2))));
    assert_eq!(sc.latest_final_height(), 2);
    assert_eq!(sc.applied_height(), 6);
    let at1 = sc.claims_at(1);
    assert_eq!(at1.len(), 1);
    assert_eq!(at1[0].0, c1.id());
    assert_eq!(at1[0].1, &c1);
    assert_eq!(at1[0].2, ClaimStatus::Final { at: 5 });
    let view = sc.claim(&c2.id()).expect("view");
    assert_eq!(view.included_at, 3);
    assert_eq!(view.status.name(), "final");
    // Nothing was slashed.
    assert_eq!(sc.ledger().bonds.get(&a.addr), Some(&1000));
    assert!(sc.ledger().slashed.is_empty());
}

#[test]
fn a_window_of_one_block_and_a_claim_in_the_next_block() {
    let a = exec(1);
    let mut sc = machine(1, 50, &[(&a, 1)]);
    let c1 = claim_on(&a, None, root(1));
    // A claim for height 1 cannot be included in block 1: the block is not decided yet.
    let out = changes_nothing(&mut sc, vec![Inclusion::Claim(c1.clone())]);
    assert_eq!(
        out,
        vec![Outcome::ClaimIgnored {
            id: c1.id(),
            reason: Rejection::Claim(ClaimError::FutureHeight {
                data_height: 1,
                decided_height: 0
            })
        }]
    );
    block(&mut sc, vec![Inclusion::Claim(c1.clone())]); // 2
    assert!(status(&sc, &c1).is_pending());
    block(&mut sc, vec![]); // 3
    assert_eq!(status(&sc, &c1), ClaimStatus::Final { at: 3 });
}

#[test]
fn fraud_reverts_the_descendant_chain_but_not_a_sibling_honest_chain() {
    let (a, b, c) = (exec(1), exec(2), exec(3));
    let mut sc = machine(10, 50, &[(&a, 1000), (&b, 1000), (&c, 1000)]);
    let b1 = claim_on(&b, None, root(66)); // wrong
    let a1 = claim_on(&a, None, root(1));
    let a2 = claim_on(&a, Some(&a1), root(2));
    let b2 = claim_on(&b, Some(&b1), root(67));
    let c2 = claim_on(&c, Some(&b1), root(68)); // another executor built on the bad claim
    let b3 = claim_on(&b, Some(&b2), root(69));
    let c3 = claim_on(&c, Some(&c2), root(70));

    block(&mut sc, vec![]); // 1
    block(
        &mut sc,
        vec![Inclusion::Claim(b1.clone()), Inclusion::Claim(a1.clone())],
    ); // 2
    block(
        &mut sc,
        vec![
            Inclusion::Claim(a2.clone()),
            Inclusion::Claim(b2.clone()),
            Inclusion::Claim(c2.clone()),
        ],
    ); // 3
    block(&mut sc, vec![Inclusion::Claim(b3.clone())]); // 4
                                                        // Before the proof, a1 and b1 dispute height 1: neither side is safe.
    assert_eq!(sc.safe_claim(1), None);
    assert_eq!(sc.latest_safe_height(), 0);

    let out = block(&mut sc, vec![fraud(&b1, 1)]); // 5
    let slash = Slash {
        executor: b.addr,
        amount: 1000,
        beneficiary: Some(SUBMITTER),
        reward: 500,
        burned: 500,
    };
    assert_eq!(
        out,
        vec![Outcome::FraudAccepted {
            target: b1.id(),
            proof_id: [1; 32],
            reverted: vec![b1.id(), b2.id(), c2.id(), b3.id()],
            slash,
        }]
    );
    assert_eq!(
        status(&sc, &b1),
        ClaimStatus::Reverted {
            at: 5,
            reason: RevertReason::Fraud { proof_id: [1; 32] }
        }
    );
    for d in [&b2, &c2, &b3] {
        assert_eq!(
            status(&sc, d),
            ClaimStatus::Reverted {
                at: 5,
                reason: RevertReason::Ancestor { claim: b1.id() }
            }
        );
    }
    assert!(status(&sc, &a1).is_pending());
    assert!(status(&sc, &a2).is_pending());
    assert_eq!(sc.safe_claim(1), Some(a1.id()));
    assert_eq!(sc.safe_root(2), Some(B256::from(root(2))));
    assert_eq!(sc.safe_claim(3), None);
    assert_eq!(sc.latest_safe_height(), 2);

    // A claim on a reverted parent is recorded as reverted at once.
    let out = block(&mut sc, vec![Inclusion::Claim(c3.clone())]); // 6
    let reverted = ClaimStatus::Reverted {
        at: 6,
        reason: RevertReason::Ancestor { claim: c2.id() },
    };
    assert_eq!(
        out,
        vec![Outcome::Recorded {
            id: c3.id(),
            status: reverted
        }]
    );
    // Executor c is not slashed: it only built on a bad claim.
    assert!(!sc.is_slashed(&c.addr));
    assert!(sc.is_slashed(&b.addr));

    blocks_without_items(&mut sc, 6); // 12 = 2 + W
    assert_eq!(status(&sc, &a1), ClaimStatus::Final { at: 12 });
    assert_eq!(status(&sc, &b1).name(), "reverted");
    block(&mut sc, vec![]); // 13
    assert_eq!(status(&sc, &a2), ClaimStatus::Final { at: 13 });
    assert_eq!(sc.canonical_root(1), Some(B256::from(root(1))));
    assert_eq!(sc.canonical_root(2), Some(B256::from(root(2))));
    assert_eq!(sc.latest_final_height(), 2);
    let statuses: Vec<&str> = sc.claims_at(1).iter().map(|(_, _, s)| s.name()).collect();
    assert_eq!(statuses, ["reverted", "final"]);
}

#[test]
fn slashing_moves_the_bond_exactly() {
    let (a, b) = (exec(1), exec(2));
    let mut sc = machine(10, 33, &[(&a, 1000), (&b, 1001)]);
    let b1 = claim_on(&b, None, root(1));
    block(&mut sc, vec![]);
    block(&mut sc, vec![Inclusion::Claim(b1.clone())]);
    let out = block(&mut sc, vec![fraud(&b1, 7)]);
    let Outcome::FraudAccepted { slash, .. } = &out[0] else {
        panic!("{out:?}");
    };
    // floor(1001 * 33 / 100) = 330 to the submitter, 671 burned.
    assert_eq!(slash.amount, 1001);
    assert_eq!(slash.reward, 330);
    assert_eq!(slash.burned, 671);
    let l = sc.ledger();
    assert_eq!(l.bonds.get(&b.addr), Some(&0));
    assert_eq!(l.bonds.get(&a.addr), Some(&1000));
    assert_eq!(l.slashed.get(&b.addr), Some(&1001));
    assert_eq!(l.slashed.get(&a.addr), None);
    assert_eq!(l.rewards.get(&SUBMITTER), Some(&330));
    assert_eq!(l.rewards.len(), 1);
    assert_eq!(l.burned, 671);
    assert_eq!(l.total(), 2001);
    assert!(sc.proof_accepted(&[7; 32]));
}

#[test]
fn reward_arithmetic() {
    assert_eq!(percent_of(1001, 33), 330);
    assert_eq!(percent_of(1001, 0), 0);
    assert_eq!(percent_of(1001, 100), 1001);
    assert_eq!(percent_of(99, 50), 49);
    assert_eq!(percent_of(u128::MAX, 100), u128::MAX);
    assert_eq!(percent_of(u128::MAX, 50), u128::MAX / 2);
    assert_eq!(percent_of(u128::MAX, 1), u128::MAX / 100);
}

#[test]
fn equivocation_detected_on_inclusion() {
    let (a, b) = (exec(1), exec(2));
    let mut sc = machine(10, 50, &[(&a, 1000), (&b, 500)]);
    let a1 = claim_on(&a, None, root(1));
    let a1x = claim_on(&a, None, root(2)); // same height and parent, another root
    let b2 = claim_on(&b, Some(&a1), root(3));
    block(&mut sc, vec![]); // 1
    block(&mut sc, vec![Inclusion::Claim(a1.clone())]); // 2
    block(&mut sc, vec![Inclusion::Claim(b2.clone())]); // 3
    let out = block(&mut sc, vec![Inclusion::Claim(a1x.clone())]); // 4
    assert_eq!(
        out,
        vec![Outcome::Equivocation {
            executor: a.addr,
            claims: [a1.id(), a1x.id()],
            reverted: vec![a1x.id(), a1.id(), b2.id()],
            slash: Slash {
                executor: a.addr,
                amount: 1000,
                beneficiary: None,
                reward: 0,
                burned: 1000,
            },
        }]
    );
    let equivocation = ClaimStatus::Reverted {
        at: 4,
        reason: RevertReason::Equivocation,
    };
    assert_eq!(status(&sc, &a1), equivocation);
    assert_eq!(status(&sc, &a1x), equivocation);
    assert_eq!(
        status(&sc, &b2),
        ClaimStatus::Reverted {
            at: 4,
            reason: RevertReason::Ancestor { claim: a1.id() }
        }
    );
    assert_eq!(sc.ledger().burned, 1000);
    assert!(sc.ledger().rewards.is_empty());
    assert_eq!(sc.ledger().total(), 1500);
    // Its later claims are ignored.
    let a1y = claim_on(&a, None, root(9));
    let out = changes_nothing(&mut sc, vec![Inclusion::Claim(a1y.clone())]);
    assert_eq!(
        out,
        vec![Outcome::ClaimIgnored {
            id: a1y.id(),
            reason: Rejection::ExecutorSlashed { executor: a.addr }
        }]
    );
    // So is evidence against it now.
    let out = changes_nothing(
        &mut sc,
        vec![Inclusion::Equivocation {
            a: a1.clone(),
            b: a1y,
            submitter: SUBMITTER,
        }],
    );
    assert_eq!(
        out,
        vec![Outcome::EquivocationRejected {
            reason: Rejection::ExecutorSlashed { executor: a.addr }
        }]
    );
}

#[test]
fn equivocation_shown_by_evidence() {
    let (a, b) = (exec(1), exec(2));
    let mut sc = machine(10, 50, &[(&a, 1000), (&b, 500)]);
    let a1 = claim_on(&a, None, root(1));
    let a1x = claim_on(&a, None, root(2)); // never included
    let b2 = claim_on(&b, Some(&a1), root(3));
    block(&mut sc, vec![]); // 1
    block(&mut sc, vec![Inclusion::Claim(a1.clone())]); // 2
    block(&mut sc, vec![Inclusion::Claim(b2.clone())]); // 3

    // Evidence that does not prove equivocation changes nothing.
    let a2 = claim_on(&a, Some(&a1), root(4));
    let b1 = claim_on(&b, None, root(2));
    let a1_other_chain = resign(&a, a1x.clone(), |c| c.chain_id = CHAIN + 1);
    let mut a1x_bad_sig = a1x.clone();
    a1x_bad_sig.signature[0] ^= 1;
    let stranger = exec(9);
    let s1 = claim_on(&stranger, None, root(1));
    let s1x = claim_on(&stranger, None, root(2));
    let a2_other_parent = resign(&a, a2.clone(), |c| c.parent_claim = [7; 32]);
    let cases: Vec<(SignedClaim, SignedClaim, &str)> = vec![
        (a1.clone(), a1.clone(), "the two claims are the same claim"),
        (a1.clone(), b1, "different executors"),
        (a1.clone(), a2.clone(), "different heights"),
        (a2.clone(), a2_other_parent, "different parents"),
        (a1.clone(), a1_other_chain, "claim for chain 43"),
        (a1.clone(), a1x_bad_sig, "bad signature"),
        (s1, s1x, "is not registered"),
    ];
    for (x, y, expected) in cases {
        let out = changes_nothing(
            &mut sc,
            vec![Inclusion::Equivocation {
                a: x,
                b: y,
                submitter: SUBMITTER,
            }],
        );
        let [Outcome::EquivocationRejected { reason }] = out.as_slice() else {
            panic!("{out:?}");
        };
        assert!(
            reason.to_string().contains(expected),
            "{reason} / {expected}"
        );
    }

    let out = block(
        &mut sc,
        vec![Inclusion::Equivocation {
            a: a1x.clone(),
            b: a1.clone(),
            submitter: SUBMITTER,
        }],
    );
    assert_eq!(
        out,
        vec![Outcome::Equivocation {
            executor: a.addr,
            claims: [a1x.id(), a1.id()],
            reverted: vec![a1.id(), b2.id()],
            slash: Slash {
                executor: a.addr,
                amount: 1000,
                beneficiary: Some(SUBMITTER),
                reward: 500,
                burned: 500,
            },
        }]
    );
    assert_eq!(
        sc.status(&a1x.id()),
        None,
        "evidence does not record claims"
    );
    assert!(status(&sc, &a1).is_reverted());
    assert!(status(&sc, &b2).is_reverted());
    assert_eq!(sc.ledger().rewards.get(&SUBMITTER), Some(&500));
    assert_eq!(sc.ledger().total(), 1500);
}

#[test]
fn equivocation_after_finality_keeps_the_final_claim() {
    let a = exec(1);
    let mut sc = machine(2, 50, &[(&a, 1000)]);
    let a1 = claim_on(&a, None, root(1));
    let a1x = claim_on(&a, None, root(2));
    block(&mut sc, vec![]); // 1
    block(&mut sc, vec![Inclusion::Claim(a1.clone())]); // 2
    blocks_without_items(&mut sc, 2); // 4: final
    assert_eq!(status(&sc, &a1), ClaimStatus::Final { at: 4 });
    let out = block(&mut sc, vec![Inclusion::Claim(a1x.clone())]);
    let [Outcome::Equivocation {
        reverted, slash, ..
    }] = out.as_slice()
    else {
        panic!("{out:?}");
    };
    assert_eq!(reverted, &vec![a1x.id()]);
    assert_eq!(slash.amount, 1000);
    assert_eq!(status(&sc, &a1), ClaimStatus::Final { at: 4 });
    assert_eq!(sc.canonical_root(1), Some(B256::from(root(1))));
}

#[test]
fn rejected_fraud_changes_nothing() {
    let (a, b) = (exec(1), exec(2));
    let mut sc = machine(3, 50, &[(&a, 1000), (&b, 1000)]);
    let a1 = claim_on(&a, None, root(1));
    let b1 = claim_on(&b, None, root(2));
    let a2 = claim_on(&a, Some(&a1), root(3));
    block(&mut sc, vec![]); // 1
    block(&mut sc, vec![Inclusion::Claim(a1.clone())]); // 2
    block(&mut sc, vec![Inclusion::Claim(b1.clone())]); // 3
    block(&mut sc, vec![fraud(&b1, 1)]); // 4: b1 reverted
    block(&mut sc, vec![Inclusion::Claim(a2.clone())]); // 5: a1 final
    assert!(status(&sc, &a1).is_final());
    assert!(status(&sc, &b1).is_reverted());
    assert!(status(&sc, &a2).is_pending());

    let unknown = claim_on(&a, Some(&a2), root(4));
    let cases = vec![
        (
            fraud(&a1, 2),
            Rejection::TargetFinal {
                target: a1.id(),
                at: 5,
            },
        ),
        (
            fraud(&b1, 2),
            Rejection::TargetReverted {
                target: b1.id(),
                at: 4,
            },
        ),
        (
            fraud(&unknown, 2),
            Rejection::UnknownTarget {
                target: unknown.id(),
            },
        ),
        // A replay: the proof id of the accepted proof, even against a pending claim.
        (
            fraud(&a2, 1),
            Rejection::ProofReplayed { proof_id: [1; 32] },
        ),
    ];
    for (item, reason) in cases {
        let Inclusion::Fraud {
            target, proof_id, ..
        } = item
        else {
            unreachable!()
        };
        let out = changes_nothing(&mut sc, vec![item]);
        assert_eq!(
            out,
            vec![Outcome::FraudRejected {
                target,
                proof_id,
                reason
            }]
        );
    }
    // The proof ids of rejected proofs are not used up.
    assert!(!sc.proof_accepted(&[2; 32]));
    let a3 = claim_on(&a, Some(&a2), root(4));
    block(&mut sc, vec![Inclusion::Claim(a3.clone())]);
    let out = block(&mut sc, vec![fraud(&a3, 2)]);
    assert!(matches!(out[0], Outcome::FraudAccepted { .. }), "{out:?}");
}

#[test]
fn claims_that_break_a_rule_are_ignored_and_change_nothing() {
    let (a, b) = (exec(1), exec(2));
    let mut sc = machine(5, 50, &[(&a, 1000), (&b, 1000)]);
    let a1 = claim_on(&a, None, root(1));
    let a2 = claim_on(&a, Some(&a1), root(2));
    block(&mut sc, vec![]); // 1
    block(&mut sc, vec![]); // 2
    block(&mut sc, vec![Inclusion::Claim(a1.clone())]); // 3
    block(&mut sc, vec![Inclusion::Claim(a2.clone())]); // 4

    let never_included = claim_on(&b, None, root(7));
    let orphan = claim_on(&b, Some(&never_included), root(8));
    let skips_a_height = resign(&b, claim_on(&b, Some(&a1), root(9)), |c| c.data_height = 3);
    let bad_pre = resign(&b, claim_on(&b, Some(&a1), root(9)), |c| {
        c.pre_state_root = root(77)
    });
    let bad_genesis_pre = resign(&b, claim_on(&b, None, root(9)), |c| {
        c.pre_state_root = root(77)
    });
    let other_chain = resign(&b, claim_on(&b, None, root(9)), |c| c.chain_id = 1);
    let stranger = claim_on(&exec(9), None, root(9));
    let mut bad_sig = claim_on(&b, None, root(9));
    bad_sig.signature[63] ^= 0x40;
    let future = claim_on(&b, Some(&a2), root(9)); // height 3, included in block 5: fine
    let above_future = claim_on(&b, Some(&future), root(9)); // height 4
    let too_high = claim_on(&b, Some(&above_future), root(9)); // height 5 in block 5: too early
    let cases: Vec<(SignedClaim, Rejection)> = vec![
        (a1.clone(), Rejection::Duplicate),
        (
            orphan.clone(),
            Rejection::UnknownParent {
                parent: never_included.id(),
            },
        ),
        (
            skips_a_height,
            Rejection::ParentHeight {
                parent_height: 1,
                expected: 2,
                data_height: 3,
            },
        ),
        (
            bad_pre,
            Rejection::PreStateMismatch {
                expected: B256::from(root(1)),
                got: B256::from(root(77)),
            },
        ),
        (
            bad_genesis_pre,
            Rejection::PreStateMismatch {
                expected: GENESIS_ROOT,
                got: B256::from(root(77)),
            },
        ),
        (
            other_chain,
            Rejection::Claim(ClaimError::WrongChain {
                expected: CHAIN,
                got: 1,
            }),
        ),
        (
            stranger.clone(),
            Rejection::Claim(ClaimError::UnknownExecutor {
                executor: stranger.claim.executor,
            }),
        ),
        (bad_sig, Rejection::Claim(ClaimError::BadSignature)),
        (
            too_high,
            Rejection::Claim(ClaimError::FutureHeight {
                data_height: 5,
                decided_height: 4,
            }),
        ),
    ];
    for (claim, reason) in cases {
        let id = claim.id();
        let out = changes_nothing(&mut sc, vec![Inclusion::Claim(claim)]);
        assert_eq!(out, vec![Outcome::ClaimIgnored { id, reason }]);
        // Rewind: every case is tried at block 5.
        sc = {
            let mut fresh = machine(5, 50, &[(&a, 1000), (&b, 1000)]);
            block(&mut fresh, vec![]);
            block(&mut fresh, vec![]);
            block(&mut fresh, vec![Inclusion::Claim(a1.clone())]);
            block(&mut fresh, vec![Inclusion::Claim(a2.clone())]);
            fresh
        };
    }
    // The duplicate keeps the first copy's inclusion height.
    block(&mut sc, vec![Inclusion::Claim(a1.clone())]);
    assert_eq!(sc.claim(&a1.id()).map(|v| v.included_at), Some(3));
    // The orphan is accepted once its parent is recorded.
    block(&mut sc, vec![Inclusion::Claim(never_included.clone())]);
    let out = block(&mut sc, vec![Inclusion::Claim(orphan.clone())]);
    assert!(matches!(out[0], Outcome::Recorded { .. }), "{out:?}");
    let out = block(&mut sc, vec![Inclusion::Claim(future)]);
    assert!(matches!(out[0], Outcome::Recorded { .. }), "{out:?}");
}

#[test]
fn a_slashed_executors_claims_are_ignored() {
    let (a, b) = (exec(1), exec(2));
    let mut sc = machine(5, 50, &[(&a, 1000), (&b, 1000)]);
    let b1 = claim_on(&b, None, root(1));
    let b1_other = claim_on(&b, None, root(5));
    let a1 = claim_on(&a, None, root(1));
    let b2 = claim_on(&b, Some(&a1), root(2));
    block(&mut sc, vec![]);
    block(&mut sc, vec![Inclusion::Claim(b1.clone())]);
    block(&mut sc, vec![fraud(&b1, 1)]);
    for claim in [b1_other, b2] {
        let out = changes_nothing(&mut sc, vec![Inclusion::Claim(claim.clone())]);
        assert_eq!(
            out,
            vec![Outcome::ClaimIgnored {
                id: claim.id(),
                reason: Rejection::ExecutorSlashed { executor: b.addr }
            }]
        );
    }
    // Other executors are unaffected.
    let out = block(&mut sc, vec![Inclusion::Claim(a1.clone())]);
    assert!(matches!(out[0], Outcome::Recorded { .. }), "{out:?}");
}

#[test]
fn slashing_reverts_the_executors_other_pending_claims() {
    let (a, b) = (exec(1), exec(2));
    let mut sc = machine(10, 50, &[(&a, 1000), (&b, 1000)]);
    let b1 = claim_on(&b, None, root(1));
    let a1 = claim_on(&a, None, root(1));
    let a2 = claim_on(&a, Some(&a1), root(2));
    // a also claims height 2 on top of b's claim: not equivocation (another parent).
    let a2_on_b = claim_on(&a, Some(&b1), root(3));
    block(&mut sc, vec![]);
    block(
        &mut sc,
        vec![Inclusion::Claim(a1.clone()), Inclusion::Claim(b1.clone())],
    );
    block(
        &mut sc,
        vec![
            Inclusion::Claim(a2.clone()),
            Inclusion::Claim(a2_on_b.clone()),
        ],
    );
    // Fraud against a2 slashes a: its other pending claims go too.
    let out = block(&mut sc, vec![fraud(&a2, 1)]);
    let [Outcome::FraudAccepted {
        reverted, slash, ..
    }] = out.as_slice()
    else {
        panic!("{out:?}");
    };
    assert_eq!(reverted, &vec![a2.id(), a1.id(), a2_on_b.id()]);
    assert_eq!(slash.amount, 1000);
    assert_eq!(
        status(&sc, &a1),
        ClaimStatus::Reverted {
            at: 4,
            reason: RevertReason::ExecutorSlashed
        }
    );
    // b's claim is untouched; a proof against a claim already reverted changes nothing.
    assert!(status(&sc, &b1).is_pending());
    let out = changes_nothing(&mut sc, vec![fraud(&a1, 2)]);
    assert!(
        matches!(
            out[0],
            Outcome::FraudRejected {
                reason: Rejection::TargetReverted { .. },
                ..
            }
        ),
        "{out:?}"
    );
    assert_eq!(sc.ledger().total(), 2000);
    blocks_without_items(&mut sc, 7); // 12 = 2 + W
    assert_eq!(status(&sc, &b1), ClaimStatus::Final { at: 12 });
}

/// Two executors claim different roots on one state and nobody proves either wrong: neither
/// becomes final, in either inclusion order, and state finality stops there (loudly: the
/// dispute is listed). A proof against one side lets the other finalize in that block.
#[test]
fn conflicting_unproven_claims_never_finalize_whatever_their_order() {
    let (a, b) = (exec(1), exec(2));
    let a1 = claim_on(&a, None, root(1));
    let b1 = claim_on(&b, None, root(2));
    let a2 = claim_on(&a, Some(&a1), root(3));
    let b2 = claim_on(&b, Some(&b1), root(4));
    for first_a in [true, false] {
        let mut sc = machine(2, 50, &[(&a, 1000), (&b, 1000)]);
        block(&mut sc, vec![]);
        let (x, y) = if first_a { (&a1, &b1) } else { (&b1, &a1) };
        block(
            &mut sc,
            vec![Inclusion::Claim(x.clone()), Inclusion::Claim(y.clone())],
        );
        block(
            &mut sc,
            vec![Inclusion::Claim(a2.clone()), Inclusion::Claim(b2.clone())],
        );
        blocks_without_items(&mut sc, 20);
        for c in [&a1, &b1, &a2, &b2] {
            assert!(status(&sc, c).is_pending(), "order a-first {first_a}");
        }
        assert_eq!(sc.latest_final_height(), 0);
        assert_eq!(sc.canonical_root(1), None);
        assert_eq!(sc.latest_safe_height(), 0);
        assert_eq!(sc.held_claims(), 4);
        let disputes = sc.disputes();
        assert_eq!(disputes.len(), 1, "{disputes:?}");
        assert_eq!(disputes[0].data_height, 1);
        assert_eq!(disputes[0].pre_state_root, GENESIS_ROOT);
        assert_eq!(disputes[0].since_height, 4);
        assert_eq!(disputes[0].since_ms, 4 * BLOCK_MS);
        assert_eq!(disputes[0].claims, vec![x.id(), y.id()]);

        // The proof against b1 ends the dispute: a1 and then a2 finalize in that block.
        block(&mut sc, vec![fraud(&b1, 1)]);
        let at = sc.applied_height();
        assert_eq!(status(&sc, &a1), ClaimStatus::Final { at });
        assert_eq!(status(&sc, &a2), ClaimStatus::Final { at });
        assert!(status(&sc, &b2).is_reverted());
        assert_eq!(sc.canonical_root(2), Some(B256::from(root(3))));
        assert!(sc.disputes().is_empty());
        assert_eq!(sc.held_claims(), 0);
    }
}

/// A claim that disagrees with a claim already final on the same state can never become
/// final; the final one stays canonical.
#[test]
fn a_late_rival_of_a_final_claim_never_finalizes() {
    let (a, b) = (exec(1), exec(2));
    let mut sc = machine(2, 50, &[(&a, 1000), (&b, 1000)]);
    let a1 = claim_on(&a, None, root(1));
    let b1 = claim_on(&b, None, root(2));
    let b1_again = claim_on(&b, None, root(5));
    block(&mut sc, vec![]);
    block(&mut sc, vec![Inclusion::Claim(a1.clone())]);
    blocks_without_items(&mut sc, 2);
    assert!(status(&sc, &a1).is_final());
    block(&mut sc, vec![Inclusion::Claim(b1.clone())]);
    blocks_without_items(&mut sc, 10);
    assert!(status(&sc, &b1).is_pending());
    assert_eq!(sc.canonical_root(1), Some(B256::from(root(1))));
    assert_eq!(sc.latest_final_height(), 1);
    assert_eq!(sc.disputes().len(), 1);
    // b's second claim on the same slot is equivocation: b1 is reverted, the dispute ends.
    let out = block(&mut sc, vec![Inclusion::Claim(b1_again)]);
    assert!(matches!(out[0], Outcome::Equivocation { .. }), "{out:?}");
    assert!(status(&sc, &b1).is_reverted());
    assert!(sc.disputes().is_empty());
    assert!(status(&sc, &a1).is_final());
}

#[test]
fn inputs_out_of_order_and_bad_parameters_are_errors() {
    let a = exec(1);
    let mut sc = machine(3, 50, &[(&a, 1)]);
    let before = sc.clone();
    assert_eq!(
        sc.apply_block(2, 1, TXS, &[]),
        Err(ApplyError::OutOfOrder {
            expected: 1,
            got: 2
        })
    );
    assert_eq!(
        sc.apply_block(0, 1, TXS, &[]),
        Err(ApplyError::OutOfOrder {
            expected: 1,
            got: 0
        })
    );
    assert_eq!(sc, before);
    sc.apply_block(1, 5, TXS, &[]).expect("next");
    assert!(sc.apply_block(1, 6, TXS, &[]).is_err());
    let new = |p: StateParams| StateConsensus::new(GENESIS_ROOT, &p, ExecutorRegistry::default());
    assert_eq!(
        new(params(1_000, 0, 1, 50)),
        Err(ApplyError::ZeroWindowBlocks)
    );
    assert_eq!(
        new(params(1_000, 1, 0, 50)),
        Err(ApplyError::ZeroCorroboration)
    );
    assert_eq!(
        new(params(1_000, 1, 1, 101)),
        Err(ApplyError::RewardAbove100(101))
    );
    // A window of no time at all is blocks only.
    assert!(new(params(0, 1, 1, 50)).is_ok());
}

#[test]
fn params_from_genesis() {
    let mut genesis = Genesis {
        chain_id: 77,
        genesis_time_ms: 1,
        validators: Vec::new(),
        limits: lazychain_chainspec::BlockLimits::default(),
        execution: lazychain_chainspec::ExecutionGenesis {
            hardfork: lazychain_chainspec::DEFAULT_HARDFORK.to_owned(),
            base_fee_per_gas: lazychain_chainspec::DEFAULT_BASE_FEE_PER_GAS,
            trace_period: 1,
            alloc: Vec::new(),
        },
        state: lazychain_chainspec::StateGenesis::default(),
    };
    genesis.state.challenge_window_ms = 9_000;
    genesis.state.min_window_blocks = 9;
    genesis.state.min_corroboration = 2;
    genesis.state.max_executor_stall_ms = 3;
    genesis.state.slash_reward_percent = 12;
    assert_eq!(
        StateParams::from_genesis(&genesis),
        StateParams {
            chain_id: 77,
            challenge_window_ms: 9_000,
            min_window_blocks: 9,
            min_corroboration: 2,
            slash_reward_percent: 12
        }
    );
}

/// Rule 3's window is time and blocks: a claim ripens at the first block at least `B` blocks
/// after its inclusion whose timestamp is at least `W` ms after its inclusion block's.
#[test]
fn a_claim_ripens_at_the_first_block_w_ms_and_b_blocks_after_its_inclusion() {
    let a = exec(1);
    let mut sc = machine_with(&params(10_000, 3, 1, 50), &[(&a, 1000)]);
    let c1 = claim_on(&a, None, root(1));
    let c2 = claim_on(&a, Some(&c1), root(2));
    block_at(&mut sc, 1_000, vec![]); // 1
    block_at(&mut sc, 2_000, vec![Inclusion::Claim(c1.clone())]); // 2: t_d = 2,000
    assert_eq!(sc.claim(&c1.id()).map(|v| v.included_ms), Some(2_000));
    // Enough blocks, not enough time.
    for ms in [2_001, 2_002, 2_003] {
        block_at(&mut sc, ms, vec![]); // 3, 4, 5 = d + B
    }
    assert!(status(&sc, &c1).is_pending());
    block_at(&mut sc, 11_999, vec![]); // 6: t_d + W - 1
    assert!(status(&sc, &c1).is_pending());
    assert_eq!(sc.held_claims(), 0, "not ripe, so not held either");
    assert_eq!(sc.latest_final_height(), 0);
    block_at(&mut sc, 12_000, vec![]); // 7: t_d + W
    assert_eq!(status(&sc, &c1), ClaimStatus::Final { at: 7 });
    assert_eq!(sc.canonical_root(1), Some(B256::from(root(1))));

    // Enough time, not enough blocks.
    block_at(&mut sc, 12_001, vec![Inclusion::Claim(c2.clone())]); // 8: t_d = 12,001
    block_at(&mut sc, 500_000, vec![]); // 9: far past t_d + W
    block_at(&mut sc, 500_001, vec![]); // 10
    assert!(status(&sc, &c2).is_pending());
    block_at(&mut sc, 500_002, vec![]); // 11 = d + B
    assert_eq!(status(&sc, &c2), ClaimStatus::Final { at: 11 });
    assert_eq!(sc.applied_ms(), 500_002);
}

/// A chain that halts for hours does not eat the window: once it resumes, `B` blocks still
/// pass before anything included before the halt is final.
#[test]
fn a_halted_chain_still_needs_min_window_blocks() {
    let a = exec(1);
    let mut sc = machine_with(&params(90_000, 10, 1, 50), &[(&a, 1000)]);
    let c1 = claim_on(&a, None, root(1));
    let c2 = claim_on(&a, Some(&c1), root(2));
    block_at(&mut sc, 1_000, vec![]); // 1
    block_at(&mut sc, 2_000, vec![Inclusion::Claim(c1.clone())]); // 2
    block_at(&mut sc, 3_000, vec![Inclusion::Claim(c2.clone())]); // 3
                                                                  // The halt: the next block is six hours later, and blocks are 1 ms apart after it.
    let resumed = 3_000 + 6 * 3_600_000;
    for h in 4..12u64 {
        block_at(&mut sc, resumed + h, vec![]);
    }
    assert_eq!(sc.applied_height(), 11);
    assert!(status(&sc, &c1).is_pending());
    assert!(status(&sc, &c2).is_pending());
    block_at(&mut sc, resumed + 12, vec![]); // 12 = 2 + B
    assert_eq!(status(&sc, &c1), ClaimStatus::Final { at: 12 });
    assert!(status(&sc, &c2).is_pending());
    block_at(&mut sc, resumed + 13, vec![]); // 13 = 3 + B
    assert_eq!(status(&sc, &c2), ClaimStatus::Final { at: 13 });
}

/// With `K = 2` and two executors, one executor's claim alone never finalizes; once the other
/// agrees, the held claim finalizes in that block and the agreeing one after its own window.
/// The same executor agreeing with itself (another parent) counts once.
#[test]
fn a_claim_needs_corroboration_by_k_executors() {
    let (a, b) = (exec(1), exec(2));
    let mut sc = machine_with(&params(2 * BLOCK_MS, 2, 2, 50), &[(&a, 1000), (&b, 1000)]);
    assert_eq!(sc.required_corroboration(), 2);
    let a1 = claim_on(&a, None, root(1));
    let a2 = claim_on(&a, Some(&a1), root(2));
    let b1 = claim_on(&b, None, root(1)); // agrees with a1
    let a2_on_b1 = claim_on(&a, Some(&b1), root(2)); // agrees with a2: same executor
    block(&mut sc, vec![]); // 1
    block(&mut sc, vec![Inclusion::Claim(a1.clone())]); // 2
    block(&mut sc, vec![Inclusion::Claim(a2.clone())]); // 3
    blocks_without_items(&mut sc, 10); // 13
    assert!(status(&sc, &a1).is_pending());
    assert!(status(&sc, &a2).is_pending());
    assert_eq!(sc.corroboration(&a1.id()), 1);
    assert_eq!(sc.held_claims(), 2);
    assert_eq!(
        sc.uncorroborated_claims(),
        1,
        "a2 is held by its parent, a1 for corroboration"
    );
    assert!(sc.disputes().is_empty());
    assert_eq!(sc.latest_final_height(), 0);
    // The safe chain does not wait for corroboration.
    assert_eq!(sc.latest_safe_height(), 2);

    let out = block(&mut sc, vec![Inclusion::Claim(b1.clone())]); // 14
    assert!(matches!(out[0], Outcome::Recorded { .. }), "{out:?}");
    assert_eq!(sc.corroboration(&a1.id()), 2);
    assert_eq!(status(&sc, &a1), ClaimStatus::Final { at: 14 });
    assert!(status(&sc, &b1).is_pending(), "b1 still has its own window");
    assert!(status(&sc, &a2).is_pending(), "a2 has no second executor");
    assert_eq!(sc.canonical_claim(1), Some(a1.id()));
    blocks_without_items(&mut sc, 2); // 16 = 14 + B
    assert_eq!(status(&sc, &b1), ClaimStatus::Final { at: 16 });

    // a's second claim at height 2 agrees with a2 but is by the same executor.
    block(&mut sc, vec![Inclusion::Claim(a2_on_b1.clone())]); // 17
    blocks_without_items(&mut sc, 20);
    assert_eq!(sc.corroboration(&a2.id()), 1);
    assert!(status(&sc, &a2).is_pending());
    assert!(status(&sc, &a2_on_b1).is_pending());
    assert_eq!(sc.latest_final_height(), 1);
    assert_eq!(sc.uncorroborated_claims(), 2);
}

/// `K_eff = min(K, executors not slashed)`: slashing one of two executors drops it to 1, and
/// the survivor's held claim finalizes in that block even though nothing else changed (no
/// claim was reverted, nothing ripened).
#[test]
fn slashing_one_of_two_executors_lets_the_survivors_held_claim_finalize() {
    let (a, b) = (exec(1), exec(2));
    let mut sc = machine_with(&params(2 * BLOCK_MS, 2, 2, 50), &[(&a, 1000), (&b, 1000)]);
    let a1 = claim_on(&a, None, root(1));
    // Two claims b signed for one slot, never included: equivocation evidence only.
    let b1 = claim_on(&b, None, root(7));
    let b1x = claim_on(&b, None, root(8));
    block(&mut sc, vec![]); // 1
    block(&mut sc, vec![Inclusion::Claim(a1.clone())]); // 2
    blocks_without_items(&mut sc, 5); // 7
    assert!(status(&sc, &a1).is_pending());
    assert_eq!(sc.uncorroborated_claims(), 1);
    let out = block(
        &mut sc,
        vec![Inclusion::Equivocation {
            a: b1,
            b: b1x,
            submitter: SUBMITTER,
        }],
    ); // 8
    let [Outcome::Equivocation { reverted, .. }] = out.as_slice() else {
        panic!("{out:?}");
    };
    assert!(reverted.is_empty(), "b had no claim to revert");
    assert!(sc.is_slashed(&b.addr));
    assert_eq!(sc.required_corroboration(), 1);
    assert_eq!(status(&sc, &a1), ClaimStatus::Final { at: 8 });
    assert_eq!(sc.latest_final_height(), 1);
    assert_eq!(sc.held_claims(), 0);

    // K_eff never drops below 1, even with every executor slashed.
    let mut sc = machine_with(&params(0, 1, 3, 50), &[(&b, 1000)]);
    block(&mut sc, vec![]);
    block(
        &mut sc,
        vec![Inclusion::Equivocation {
            a: claim_on(&b, None, root(7)),
            b: claim_on(&b, None, root(8)),
            submitter: SUBMITTER,
        }],
    );
    assert_eq!(sc.required_corroboration(), 1);
}

/// A slashed executor's claims stop corroborating: its final claims stay final, but an honest
/// claim it agreed with needs other support again.
#[test]
fn a_slashed_executor_no_longer_corroborates() {
    let (a, b, c) = (exec(1), exec(2), exec(3));
    let mut sc = machine_with(
        &params(2 * BLOCK_MS, 2, 2, 50),
        &[(&a, 1000), (&b, 1000), (&c, 1000)],
    );
    let a1 = claim_on(&a, None, root(1));
    let b1 = claim_on(&b, None, root(1));
    let b2 = claim_on(&b, Some(&b1), root(66)); // b lies at height 2
    block(&mut sc, vec![]); // 1
    block(&mut sc, vec![Inclusion::Claim(a1.clone())]); // 2
    assert_eq!(sc.corroboration(&a1.id()), 1);
    block(&mut sc, vec![Inclusion::Claim(b1.clone())]); // 3
    assert_eq!(sc.corroboration(&a1.id()), 2);
    block(&mut sc, vec![Inclusion::Claim(b2.clone())]); // 4: a1 ripe and corroborated
    assert_eq!(status(&sc, &a1), ClaimStatus::Final { at: 4 });
    // The proof against b2 slashes b: b1 was pending and is reverted; a1 stays final.
    block(&mut sc, vec![fraud(&b2, 1)]); // 5
    assert!(status(&sc, &b1).is_reverted());
    assert_eq!(status(&sc, &a1), ClaimStatus::Final { at: 4 });
    assert_eq!(sc.corroboration(&a1.id()), 1);
    // Two executors remain: K_eff is still 2, so a's next claim waits for c.
    assert_eq!(sc.required_corroboration(), 2);
    let a2 = claim_on(&a, Some(&a1), root(2));
    let c1 = claim_on(&c, None, root(1));
    let c2 = claim_on(&c, Some(&c1), root(2));
    block(&mut sc, vec![Inclusion::Claim(a2.clone())]); // 6
    blocks_without_items(&mut sc, 4); // 10
    assert!(status(&sc, &a2).is_pending());
    block(&mut sc, vec![Inclusion::Claim(c1.clone())]); // 11
    block(&mut sc, vec![Inclusion::Claim(c2.clone())]); // 12
    assert_eq!(status(&sc, &a2), ClaimStatus::Final { at: 12 });
    assert_eq!(sc.latest_final_height(), 2);
}

#[test]
fn a_decreasing_timestamp_is_refused_and_changes_nothing() {
    let a = exec(1);
    let mut sc = machine(2, 50, &[(&a, 1000)]);
    let c1 = claim_on(&a, None, root(1));
    block_at(&mut sc, 5_000, vec![]); // 1
    block_at(&mut sc, 6_000, vec![]); // 2
    let before = sc.clone();
    assert_eq!(
        sc.apply_block(3, 5_999, TXS, &[Inclusion::Claim(c1.clone())]),
        Err(ApplyError::TimestampDecreased {
            height: 3,
            timestamp_ms: 5_999,
            previous_ms: 6_000
        })
    );
    assert_eq!(sc, before);
    assert_eq!(sc.applied_ms(), 6_000);
    // An equal timestamp is not a decrease (the machine needs no more; a decided chain's
    // timestamps strictly increase anyway).
    sc.apply_block(3, 6_000, TXS, &[Inclusion::Claim(c1.clone())])
        .expect("same timestamp");
    assert_eq!(sc.claim(&c1.id()).map(|v| v.included_ms), Some(6_000));
}

// ----- property test -----

/// The seed of the randomized test: `STATE_CONSENSUS_SEED` if set, else random; printed so
/// that a failing run can be repeated.
fn seed() -> u64 {
    let seed = std::env::var("STATE_CONSENSUS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::thread_rng().gen());
    println!("seed {seed} (rerun with STATE_CONSENSUS_SEED={seed})");
    seed
}

/// A random block sequence: random executors (and one unregistered signer), random claim
/// trees (mostly well-formed, some broken in every way a claim can be), duplicates, delayed
/// inclusions, random fraud items (with reused proof ids) and equivocation evidence.
struct Scenario {
    rng: StdRng,
    execs: Vec<Exec>,
    /// Every claim made so far, included or not.
    made: Vec<SignedClaim>,
    /// `txs[h]`: whether decided block `h` has transactions (`txs[0]` unused).
    txs: Vec<bool>,
}

impl Scenario {
    fn random_claim(&mut self) -> SignedClaim {
        let rng = &mut self.rng;
        let who = rng.gen_range(0..self.execs.len());
        let parent = if self.made.is_empty() || rng.gen_bool(0.15) {
            None
        } else {
            // Favour recent claims so that chains grow.
            let n = self.made.len();
            let from = n.saturating_sub(12);
            Some(self.made[rng.gen_range(from..n)].clone())
        };
        // Few distinct roots, so that duplicates and equivocations happen.
        let post = root(rng.gen_range(0..3));
        let e = &self.execs[who];
        let mut claim = claim_on(e, parent.as_ref(), post);
        // Mostly for the next decided height with transactions after the parent's: the one
        // rule 1 asks for.
        let after = parent.as_ref().map_or(0, |p| p.claim.data_height);
        if let Some(next) = (after + 1..self.txs.len() as u64).find(|h| self.txs[*h as usize]) {
            if rng.gen_bool(0.9) {
                claim = resign(e, claim, |c| c.data_height = next);
            }
        }
        let tweak = rng.gen_range(0..40);
        claim = match tweak {
            0 => resign(e, claim, |c| c.pre_state_root = root(200)),
            1 => resign(e, claim, |c| c.data_height += 1),
            2 => resign(e, claim, |c| c.chain_id += 1),
            3 => {
                let mut c = claim;
                c.signature[1] ^= 1;
                c
            }
            4 => resign(e, claim, |c| c.parent_claim = [0xee; 32]),
            _ => claim,
        };
        self.made.push(claim.clone());
        claim
    }

    fn random_item(&mut self) -> Inclusion {
        let kind = self.rng.gen_range(0..100);
        if kind < 55 || self.made.is_empty() {
            return Inclusion::Claim(self.random_claim());
        }
        let n = self.made.len();
        if kind < 70 {
            // An earlier claim again: a duplicate, or a delayed first inclusion.
            let i = self.rng.gen_range(0..n);
            return Inclusion::Claim(self.made[i].clone());
        }
        if kind < 90 {
            let target = if self.rng.gen_bool(0.05) {
                ClaimId([0xcd; 32])
            } else {
                self.made[self.rng.gen_range(n.saturating_sub(20)..n)].id()
            };
            return Inclusion::Fraud {
                target,
                submitter: [self.rng.gen_range(0..3); 20],
                proof_id: [self.rng.gen_range(0..40); 32],
            };
        }
        // Equivocation evidence: a made claim and another by the same signer, same height
        // and parent when one exists.
        let a = self.made[self.rng.gen_range(0..n)].clone();
        let b = self
            .made
            .iter()
            .find(|b| {
                b.claim.executor == a.claim.executor
                    && b.claim.data_height == a.claim.data_height
                    && b.claim.parent_claim == a.claim.parent_claim
                    && b.id() != a.id()
            })
            .cloned()
            .unwrap_or_else(|| self.made[self.rng.gen_range(0..n)].clone());
        Inclusion::Equivocation {
            a,
            b,
            submitter: [self.rng.gen_range(0..3); 20],
        }
    }
}

/// `times[h]` is the timestamp of block `h` (`times[0]` unused).
fn check_invariants(
    sc: &StateConsensus,
    times: &[u64],
    finals_seen: &mut BTreeMap<ClaimId, ClaimStatus>,
    total_bonds: u128,
) {
    let p = *sc.params();
    let past_window = |included_at: u64, included_ms: u64, h: u64| {
        h >= included_at + p.min_window_blocks
            && times[h as usize] >= included_ms + p.challenge_window_ms
    };
    for (id, record) in &sc.claims {
        assert_eq!(record.included_ms, times[record.included_at as usize]);
        let parent = sc.claims.get(&record.claim.claim.parent());
        // Every descendant of a reverted claim is reverted.
        if record.status.is_reverted() {
            for child in &record.children {
                assert!(
                    sc.claims[child].status.is_reverted(),
                    "child {child} of reverted {id} is {:?}",
                    sc.claims[child].status
                );
            }
        }
        if let Some(p) = parent {
            if p.status.is_reverted() {
                assert!(record.status.is_reverted(), "{id} has a reverted parent");
            }
        }
        // No final claim has a reverted (or pending) ancestor (as far as ancestors are kept).
        if record.status.is_final() {
            let mut at = record.claim.claim.parent();
            while at != GENESIS_PARENT {
                let Some(ancestor) = sc.claims.get(&at) else {
                    assert!(
                        sc.pruned_through() > 0,
                        "final {id} has unknown ancestor {at}"
                    );
                    break;
                };
                assert!(
                    ancestor.status.is_final(),
                    "final {id} has ancestor {at} {:?}",
                    ancestor.status
                );
                at = ancestor.claim.claim.parent();
            }
        }
        // A claim pending past its window is held: by a parent that is not final, by a
        // dispute, or for want of corroboration.
        if let ClaimStatus::Pending { included_at } = record.status {
            let overdue = past_window(included_at, record.included_ms, sc.applied_height());
            assert_eq!(overdue, record.ripened.is_some(), "{id} ripeness");
            assert_eq!(
                overdue,
                sc.ripe.values().any(|r| r == id),
                "{id} in the ripe set"
            );
            if overdue {
                let parent_final = sc.parent_final(record);
                assert!(
                    !parent_final
                        || sc.is_disputed(id)
                        || sc.corroboration(id) < sc.required_corroboration(),
                    "{id} overdue and neither disputed, nor waiting for its parent or corroboration"
                );
            }
        }
        // A final claim became final past its window, in the block where it ripened or later.
        if let ClaimStatus::Final { at } = record.status {
            assert!(
                past_window(record.included_at, record.included_ms, at),
                "{id} final at {at} inside its window"
            );
            let (ripe_height, ripe_ms) = record.ripened.expect("a final claim ripened");
            assert!(ripe_height <= at && times[ripe_height as usize] == ripe_ms);
            // No earlier block closed its window.
            assert!(!past_window(
                record.included_at,
                record.included_ms,
                ripe_height - 1
            ));
        }
        // No two final claims on one state disagree: the canonical root cannot depend on
        // which was included first.
        if record.status.is_final() {
            for other in &sc.by_height[&record.claim.claim.data_height] {
                let o = &sc.claims[other];
                if o.status.is_final()
                    && o.claim.claim.pre_state_root == record.claim.claim.pre_state_root
                {
                    assert_eq!(
                        (o.claim.claim.post_state_root, o.claim.claim.trace_root),
                        (
                            record.claim.claim.post_state_root,
                            record.claim.claim.trace_root
                        ),
                        "final claims {id} and {other} disagree"
                    );
                }
            }
        }
        // A recorded claim is in the height index, and its parent lists it.
        assert!(sc.by_height[&record.claim.claim.data_height].contains(id));
        if let Some(p) = parent {
            assert!(p.children.contains(id));
        }
    }
    // A final claim never changes status again.
    for (id, status) in finals_seen.iter() {
        match sc.status(id) {
            // Forgotten (rule 7).
            None if sc.pruned_through() > 0 => {}
            got => assert_eq!(got, Some(*status), "final {id} changed"),
        }
    }
    for (id, record) in &sc.claims {
        if record.status.is_final() {
            finals_seen.entry(*id).or_insert(record.status);
        }
    }
    // Bonds are only moved, never created or lost.
    assert_eq!(sc.ledger().total(), total_bonds);
    // The canonical chain is a chain of final claims whose roots connect; a height without
    // transactions has no claim and its parent's root.
    for h in sc.pruned_through() + 1..=sc.latest_final_height() {
        if !sc.has_transactions(h) {
            assert_eq!(sc.canonical_claim(h), None);
            assert_eq!(sc.canonical_root(h), sc.canonical_root(h - 1));
            continue;
        }
        let id = sc.canonical_claim(h).expect("canonical below the tip");
        let c = &sc.claims[&id];
        assert!(c.status.is_final());
        assert_eq!(c.claim.claim.data_height, h);
        // Roots connect; parent links may switch executors (rule 6 follows roots).
        assert_eq!(
            Some(B256::from(c.claim.claim.pre_state_root)),
            sc.canonical_root(h - 1)
        );
    }
    assert_eq!(sc.canonical_root(sc.latest_final_height() + 1), None);
    // The safe chain extends the canonical one through non-reverted claims.
    let safe = sc.latest_safe_height();
    assert!(safe >= sc.latest_final_height());
    for h in sc.pruned_through() + 1..=safe {
        if !sc.has_transactions(h) {
            assert_eq!(sc.safe_root(h), sc.safe_root(h - 1));
            continue;
        }
        let id = sc.safe_claim(h).expect("safe below the safe tip");
        assert_eq!(sc.claims[&id].claim.claim.data_height, h);
        assert!(!sc.claims[&id].status.is_reverted());
        assert_eq!(
            Some(B256::from(sc.claims[&id].claim.claim.pre_state_root)),
            sc.safe_root(h - 1)
        );
    }
    assert_eq!(sc.safe_claim(safe + 1), None);
}

#[test]
fn random_block_sequences_keep_the_invariants() {
    let seed = seed();
    let mut outer = StdRng::seed_from_u64(seed);
    let mut recorded = 0;
    for _case in 0..12 {
        let case_seed: u64 = outer.gen();
        let mut rng = StdRng::seed_from_u64(case_seed);
        let registered = rng.gen_range(1..=4);
        let execs: Vec<Exec> = (0..=registered).map(|i| exec(10 + i as u8)).collect();
        let bonds: Vec<u128> = (0..registered)
            .map(|_| rng.gen_range(1..=1_000_000_000_000_000_000_000u128))
            .collect();
        let total_bonds: u128 = bonds.iter().sum();
        // Windows of a few blocks, in time, blocks or both; blocks a random time apart, with
        // long halts now and then.
        let window_ms = [0, 1, 1_000, 2_500, 10_000][rng.gen_range(0..5)];
        let min_blocks = rng.gen_range(1..=6);
        let corroboration = rng.gen_range(1..=3);
        let percent = rng.gen_range(0..=100);
        let p = params(window_ms, min_blocks, corroboration, percent);
        // The last executor is not registered.
        let registry: Vec<(&Exec, u128)> = execs.iter().zip(bonds.iter().copied()).collect();
        let fresh = || machine_with(&p, &registry);
        let mut sc = fresh();
        let mut scenario = Scenario {
            rng: StdRng::seed_from_u64(rng.gen()),
            execs: (0..=registered).map(|i| exec(10 + i as u8)).collect(),
            made: Vec::new(),
            txs: vec![false],
        };
        let mut blocks = Vec::new();
        let mut all_outcomes = Vec::new();
        let mut finals_seen = BTreeMap::new();
        let mut times = vec![0u64];
        let heights = rng.gen_range(20..=70);
        for _ in 0..heights {
            let gap = match rng.gen_range(0..20) {
                0 => 0,
                1 => rng.gen_range(20_000..=1_000_000),
                _ => rng.gen_range(1..=1_500),
            };
            let now = times[times.len() - 1] + gap;
            times.push(now);
            let count = match scenario.rng.gen_range(0..10) {
                0..=2 => 0,
                3..=7 => scenario.rng.gen_range(1..=3),
                _ => scenario.rng.gen_range(4..=8),
            };
            let items: Vec<Inclusion> = (0..count).map(|_| scenario.random_item()).collect();
            // A quarter of the blocks have no transactions (and take no claim).
            let tx_count = u64::from(rng.gen_range(0..4) != 0);
            let h = sc.applied_height() + 1;
            let outcomes = sc.apply_block(h, now, tx_count, &items).expect("in order");
            scenario.txs.push(tx_count > 0);
            assert_eq!(outcomes.len(), items.len());
            check_invariants(&sc, &times, &mut finals_seen, total_bonds);
            blocks.push((tx_count, items));
            all_outcomes.push(outcomes);
        }
        // The same sequence gives an equal state and the same outcomes.
        let mut again = fresh();
        for (i, ((tx_count, items), outcomes)) in blocks.iter().zip(&all_outcomes).enumerate() {
            let h = i as u64 + 1;
            assert_eq!(
                &again
                    .apply_block(h, times[i + 1], *tx_count, items)
                    .expect("in order"),
                outcomes
            );
        }
        assert_eq!(again, sc, "case seed {case_seed}");
        recorded += sc.claims.len();
    }
    // Not vacuous (a case whose only executor is slashed early may record little).
    assert!(recorded > 0);
}

#[test]
fn the_random_scenarios_reach_every_kind_of_outcome() {
    // Over a fixed seed, every outcome kind occurs at least once: the property test above
    // explores the rules rather than only ignoring malformed input.
    let mut seen = BTreeSet::new();
    for case_seed in 0..6u64 {
        let mut rng = StdRng::seed_from_u64(case_seed);
        let execs: Vec<Exec> = (0..3).map(|i| exec(10 + i)).collect();
        let registry: Vec<(&Exec, u128)> = execs[..2].iter().map(|e| (e, 1000)).collect();
        let mut sc = machine(4, 50, &registry);
        let mut scenario = Scenario {
            rng: StdRng::seed_from_u64(rng.gen()),
            execs: (0..3).map(|i| exec(10 + i)).collect(),
            made: Vec::new(),
            // Every block here has transactions: claims are for the parent's height + 1.
            txs: vec![false],
        };
        for _ in 0..60 {
            let items: Vec<Inclusion> = (0..scenario.rng.gen_range(0..4))
                .map(|_| scenario.random_item())
                .collect();
            for outcome in block(&mut sc, items) {
                let kind = match outcome {
                    Outcome::Recorded { status, .. } => format!("recorded {}", status.name()),
                    Outcome::ClaimIgnored { .. } => "ignored".to_owned(),
                    Outcome::Equivocation { .. } => "equivocation".to_owned(),
                    Outcome::EquivocationRejected { .. } => "equivocation rejected".to_owned(),
                    Outcome::FraudAccepted { .. } => "fraud".to_owned(),
                    Outcome::FraudRejected { .. } => "fraud rejected".to_owned(),
                };
                seen.insert(kind);
            }
            for r in sc.claims.values() {
                seen.insert(format!("status {}", r.status.name()));
            }
        }
    }
    let expected = [
        "recorded pending",
        "recorded reverted",
        "ignored",
        "equivocation",
        "equivocation rejected",
        "fraud",
        "fraud rejected",
        "status final",
        "status reverted",
        "status pending",
    ];
    for kind in expected {
        assert!(seen.contains(kind), "never saw {kind}: {seen:?}");
    }
}

// ----- pruning (rule 7) -----

/// Items a pruned machine refuses because they are about forgotten heights.
fn refused_as_pruned(outcome: &Outcome) -> bool {
    matches!(
        outcome,
        Outcome::ClaimIgnored {
            reason: Rejection::Pruned { .. } | Rejection::PrunedParent { .. },
            ..
        } | Outcome::EquivocationRejected {
            reason: Rejection::Pruned { .. }
        }
    )
}

/// Everything a query of `pruned` can see equals what it sees on `full`, the same chain
/// without pruning (minus the items `pruned` refused as pruned), and `pruned` keeps no
/// settled height at or below its pruned height.
fn same_judgement(pruned: &StateConsensus, full: &StateConsensus) {
    let p = pruned.pruned_through();
    assert_eq!(pruned.latest_final_height(), full.latest_final_height());
    assert_eq!(pruned.latest_safe_height(), full.latest_safe_height());
    for h in p..=full.latest_safe_height() + 1 {
        if h > p {
            assert_eq!(pruned.canonical_claim(h), full.canonical_claim(h), "{h}");
            assert_eq!(pruned.safe_claim(h), full.safe_claim(h), "{h}");
        }
        assert_eq!(pruned.canonical_root(h), full.canonical_root(h), "{h}");
        assert_eq!(pruned.safe_root(h), full.safe_root(h), "{h}");
    }
    assert_eq!(pruned.ledger(), full.ledger());
    assert_eq!(pruned.proofs, full.proofs);
    assert_eq!(pruned.ripe, full.ripe);
    assert_eq!(pruned.disputes(), full.disputes());
    assert_eq!(pruned.uncorroborated_claims(), full.uncorroborated_claims());
    for (id, r) in &pruned.claims {
        let f = &full.claims[id];
        assert_eq!(
            (r.status, r.seq, r.included_at, r.ripened),
            (f.status, f.seq, f.included_at, f.ripened),
            "{id}"
        );
        assert_eq!(pruned.corroboration(id), full.corroboration(id));
        assert_eq!(pruned.is_disputed(id), full.is_disputed(id));
    }
    for (id, f) in &full.claims {
        if !pruned.claims.contains_key(id) {
            let h = f.claim.claim.data_height;
            assert!(h <= p, "{id} at {h} forgotten above the pruned height {p}");
            assert!(
                !pruned.by_height.contains_key(&h),
                "height {h} kept in part"
            );
        }
    }
    for (h, ids) in pruned.by_height.range(..=p) {
        assert!(
            ids.iter().any(|id| pruned.claims[id].status.is_pending()),
            "settled height {h} kept"
        );
    }
}

#[test]
fn pruning_changes_no_judgement_and_refuses_only_items_about_pruned_heights() {
    let seed = seed();
    let mut outer = StdRng::seed_from_u64(seed);
    let (mut pruned_heights, mut refused) = (0, 0);
    for _case in 0..16 {
        let case_seed: u64 = outer.gen();
        let mut rng = StdRng::seed_from_u64(case_seed);
        let registered = rng.gen_range(1..=3);
        let execs: Vec<Exec> = (0..=registered).map(|i| exec(10 + i as u8)).collect();
        let window_ms = [0, 1_000, 2_500][rng.gen_range(0..3)];
        let p = params(
            window_ms,
            rng.gen_range(1..=4),
            rng.gen_range(1..=2),
            rng.gen_range(0..=100),
        );
        // An honest executor that claims every height in order, so that finality advances
        // past the retained heights; the others build on, copy and dispute its claims until
        // they are proven wrong.
        let honest = exec(9);
        let registry: Vec<(&Exec, u128)> = execs[..registered]
            .iter()
            .chain([&honest])
            .map(|e| (e, 1000))
            .collect();
        let mut full = machine_with(&p, &registry);
        let retained = rng.gen_range(1..=5);
        let mut pruned =
            StateConsensus::with_retention(GENESIS_ROOT, &p, full.registry().clone(), retained)
                .expect("machine");
        let mut scenario = Scenario {
            rng: StdRng::seed_from_u64(rng.gen()),
            execs: (0..=registered).map(|i| exec(10 + i as u8)).collect(),
            made: Vec::new(),
            // Every block here has transactions: claims are for the parent's height + 1.
            txs: vec![false],
        };
        let mut times = vec![0u64];
        let mut finals_seen = BTreeMap::new();
        let mut honest_chain: Vec<SignedClaim> = Vec::new();
        for d in 1..=rng.gen_range(60..=140u64) {
            let now = times[times.len() - 1] + rng.gen_range(1..=1_500);
            times.push(now);
            let mut items: Vec<Inclusion> = (0..scenario.rng.gen_range(0..=4))
                .map(|_| scenario.random_item())
                .filter(|item| match item {
                    // The honest claims are never proven wrong.
                    Inclusion::Fraud { target, .. } => {
                        !honest_chain.iter().any(|c| c.id() == *target)
                    }
                    _ => true,
                })
                .collect();
            if (honest_chain.len() as u64) < d - 1 && rng.gen_bool(0.8) {
                let h = honest_chain.len() as u8 + 1;
                let c = claim_on(&honest, honest_chain.last(), [h; 32]);
                honest_chain.push(c.clone());
                scenario.made.push(c.clone());
                items.insert(rng.gen_range(0..=items.len()), Inclusion::Claim(c));
            }
            let outcomes = block_at(&mut pruned, now, items.clone());
            // The unpruned machine gets what the pruned one did not refuse as pruned.
            let (kept, expected): (Vec<Inclusion>, Vec<Outcome>) = items
                .into_iter()
                .zip(outcomes)
                .filter(|(_, o)| {
                    let pruned_item = refused_as_pruned(o);
                    refused += usize::from(pruned_item);
                    !pruned_item
                })
                .unzip();
            let got = block_at(&mut full, now, kept);
            for (p_out, f_out) in expected.iter().zip(&got) {
                if p_out == f_out {
                    continue;
                }
                match (p_out, f_out) {
                    // A proof against a forgotten claim: rejected either way.
                    (
                        Outcome::FraudRejected {
                            target,
                            reason: Rejection::UnknownTarget { .. },
                            ..
                        },
                        Outcome::FraudRejected { reason, .. },
                    ) if !matches!(reason, Rejection::UnknownTarget { .. }) => {
                        assert!(matches!(
                            reason,
                            Rejection::TargetFinal { .. } | Rejection::TargetReverted { .. }
                        ));
                        let h = full.claims[target].claim.claim.data_height;
                        assert!(h <= pruned.pruned_through());
                    }
                    // A copy of a forgotten claim: ignored either way (for a reason
                    // checked before the duplicate one, such as a slashed executor).
                    (
                        Outcome::ClaimIgnored { id, .. },
                        Outcome::ClaimIgnored {
                            id: full_id,
                            reason: Rejection::Duplicate,
                        },
                    ) if id == full_id && !pruned.claims.contains_key(id) => {
                        assert!(full.claims[id].claim.claim.data_height <= pruned.pruned_through());
                    }
                    // A claim (broken in another way too) whose parent is forgotten.
                    (
                        Outcome::ClaimIgnored {
                            id,
                            reason: Rejection::UnknownParent { parent },
                        },
                        Outcome::ClaimIgnored { id: full_id, .. },
                    ) if id == full_id && full.claims.contains_key(parent) => {
                        let r = &full.claims[parent];
                        assert!(
                            r.claim.claim.data_height <= pruned.pruned_through(),
                            "{parent} at {} {:?} forgotten above {}; {p_out:?} {f_out:?}",
                            r.claim.claim.data_height,
                            r.status,
                            pruned.pruned_through()
                        );
                    }
                    _ => assert_eq!(p_out, f_out, "case seed {case_seed}"),
                }
            }
            same_judgement(&pruned, &full);
            check_invariants(
                &pruned,
                &times,
                &mut finals_seen,
                1000 * (registered as u128 + 1),
            );
        }
        pruned_heights += pruned.pruned_through();
    }
    // Not vacuous: heights were pruned and items about them refused.
    assert!(pruned_heights > 0);
    assert!(refused > 0);
}

#[test]
fn items_about_pruned_heights_are_refused() {
    let a = exec(1);
    let b = exec(2);
    let mut sc = pruning_machine(&params(BLOCK_MS, 1, 1, 50), &[&a, &b], 2);
    // a claims heights 1..=8, one per block; each is final one block after its inclusion.
    let mut chain: Vec<SignedClaim> = Vec::new();
    block(&mut sc, vec![]);
    for h in 1..=8u8 {
        let c = claim_on(&a, chain.last(), root(h));
        block(&mut sc, vec![Inclusion::Claim(c.clone())]);
        chain.push(c);
    }
    block(&mut sc, vec![]);
    block(&mut sc, vec![]);
    assert_eq!(sc.latest_final_height(), 8);
    assert_eq!(sc.pruned_through(), 6);
    assert_eq!(sc.canonical_claim(6), None);
    assert_eq!(sc.canonical_root(6), Some(B256::from(root(6))));
    assert_eq!(sc.canonical_root(5), None);
    assert_eq!(sc.canonical_claim(7), Some(chain[6].id()));
    assert_eq!(sc.claims_at(6), vec![]);
    assert_eq!(sc.status(&chain[5].id()), None);

    // A claim for a pruned height, even agreeing with the canonical root.
    let late = claim_on(&b, Some(&chain[4]), root(6));
    // A claim whose parent was pruned.
    let orphan = claim_on(&b, Some(&chain[5]), root(7));
    // A duplicate of a pruned claim.
    let again = chain[2].clone();
    // Equivocation by a at pruned height 5.
    let twin = claim_on(&a, Some(&chain[3]), root(99));
    let outcomes = changes_nothing(
        &mut sc,
        vec![
            Inclusion::Claim(late.clone()),
            Inclusion::Claim(orphan.clone()),
            Inclusion::Claim(again.clone()),
            Inclusion::Equivocation {
                a: chain[4].clone(),
                b: twin.clone(),
                submitter: SUBMITTER,
            },
            fraud(&chain[5], 1),
        ],
    );
    let pruned = |data_height| Rejection::Pruned {
        data_height,
        pruned_through: 6,
    };
    assert_eq!(
        outcomes,
        vec![
            Outcome::ClaimIgnored {
                id: late.id(),
                reason: pruned(6)
            },
            Outcome::ClaimIgnored {
                id: orphan.id(),
                reason: Rejection::PrunedParent {
                    parent: chain[5].id(),
                    pruned_through: 6
                }
            },
            Outcome::ClaimIgnored {
                id: again.id(),
                reason: pruned(3)
            },
            Outcome::EquivocationRejected { reason: pruned(5) },
            Outcome::FraudRejected {
                target: chain[5].id(),
                proof_id: [1; 32],
                reason: Rejection::UnknownTarget {
                    target: chain[5].id()
                }
            },
        ]
    );
    assert_eq!(
        sc.check_equivocation(sc.applied_height() + 1, &chain[4], &twin),
        Err(pruned(5))
    );
    // Heights above the pruned one are judged as ever: b's claim on a's kept claim at 7.
    let c8 = claim_on(&b, Some(&chain[6]), root(8));
    let out = block(&mut sc, vec![Inclusion::Claim(c8.clone())]);
    assert!(matches!(out[0], Outcome::Recorded { .. }), "{out:?}");
}

#[test]
fn a_height_with_a_pending_claim_is_kept_until_it_settles() {
    let a = exec(1);
    let b = exec(2);
    let mut sc = pruning_machine(&params(BLOCK_MS, 1, 1, 50), &[&a, &b], 2);
    let a1 = claim_on(&a, None, root(1));
    let a2 = claim_on(&a, Some(&a1), root(2));
    let a3 = claim_on(&a, Some(&a2), root(3));
    block(&mut sc, vec![]);
    block(&mut sc, vec![Inclusion::Claim(a1.clone())]);
    block(&mut sc, vec![Inclusion::Claim(a2.clone())]);
    block(&mut sc, vec![Inclusion::Claim(a3.clone())]);
    block(&mut sc, vec![]);
    assert_eq!(sc.latest_final_height(), 3);
    assert_eq!(sc.pruned_through(), 1);
    // A late claim on the pruned a1 is refused; a late rival of the final a3 on the kept a2
    // is recorded and stays pending against it (rule 3), so height 3 is kept whole when the
    // pruned height passes it.
    let b2 = claim_on(&b, Some(&a1), root(22));
    let b3 = claim_on(&b, Some(&a2), root(33));
    let out = block(
        &mut sc,
        vec![Inclusion::Claim(b2), Inclusion::Claim(b3.clone())],
    );
    assert!(matches!(
        out[0],
        Outcome::ClaimIgnored {
            reason: Rejection::PrunedParent { .. },
            ..
        }
    ));
    assert!(matches!(out[1], Outcome::Recorded { .. }), "{out:?}");
    let a4 = claim_on(&a, Some(&a3), root(4));
    let a5 = claim_on(&a, Some(&a4), root(5));
    block(&mut sc, vec![Inclusion::Claim(a4)]);
    block(&mut sc, vec![Inclusion::Claim(a5)]);
    block(&mut sc, vec![]);
    assert_eq!(sc.latest_final_height(), 5);
    assert_eq!(sc.pruned_through(), 3);
    assert!(sc.status(&b3.id()).is_some_and(|s| s.is_pending()));
    assert_eq!(sc.claims_at(3).len(), 2, "height 3 kept whole");
    assert!(sc.claims_at(2).is_empty() && sc.claims_at(1).is_empty());
    assert_eq!(sc.claims_at(4).len(), 1);
    // A proof against it still counts; then height 3 is settled and forgotten.
    let out = block(&mut sc, vec![fraud(&b3, 7)]);
    assert!(matches!(out[0], Outcome::FraudAccepted { .. }), "{out:?}");
    assert!(sc.claims_at(3).is_empty());
    assert_eq!(sc.ledger().total(), 2000);
}

#[test]
fn memory_bearing_maps_stay_bounded_over_20000_heights() {
    let a = exec(1);
    let b = exec(2);
    const RETAINED: u64 = 100;
    const WINDOW: u64 = 5;
    let p = params(WINDOW * BLOCK_MS, WINDOW, 2, 50);
    let registry = machine_with(&p, &[(&a, 1000), (&b, 1000)])
        .registry()
        .clone();
    let mut sc =
        StateConsensus::with_retention(GENESIS_ROOT, &p, registry, RETAINED).expect("machine");
    let (mut pa, mut pb): (Option<SignedClaim>, Option<SignedClaim>) = (None, None);
    // Block d includes both executors' claims for d - 1 (a lagging one now and then comes a
    // block late) and, every 1,000 heights, a duplicate and an old, refused claim.
    let bound = 2 * (RETAINED + WINDOW + 4) as usize;
    let mut old = Vec::new();
    for d in 1..=20_000u64 {
        let mut items = Vec::new();
        if d >= 2 {
            let h = (d - 1) as u32;
            let post = {
                let mut r = [0u8; 32];
                r[..4].copy_from_slice(&h.to_be_bytes());
                r
            };
            let ca = claim_on(&a, pa.as_ref(), post);
            let cb = claim_on(&b, pb.as_ref(), post);
            items.push(Inclusion::Claim(ca.clone()));
            items.push(Inclusion::Claim(cb.clone()));
            if d % 1000 == 0 {
                items.push(Inclusion::Claim(ca.clone()));
                old.push(ca.clone());
                if let Some(o) = old.first() {
                    items.push(Inclusion::Claim(o.clone()));
                }
            }
            pa = Some(ca);
            pb = Some(cb);
        }
        block(&mut sc, items);
        assert!(
            sc.claims.len() <= bound,
            "{} claims at {d}",
            sc.claims.len()
        );
        assert!(sc.by_height.len() <= bound / 2, "{d}");
        assert!(sc.slots.len() <= bound, "{d}");
        assert!(sc.canonical.len() as u64 <= RETAINED, "{d}");
        assert!(sc.windows.len() <= bound && sc.ripe.len() <= bound, "{d}");
    }
    assert!(sc.latest_final_height() >= 20_000 - WINDOW - 2);
    assert_eq!(sc.pruned_through(), sc.latest_final_height() - RETAINED);
    assert_eq!(sc.ledger().total(), 2000);
    println!(
        "per claim: Record {} B, SignedClaim {} B (plus map nodes, ids in by_height, slots, canonical)",
        std::mem::size_of::<Record>(),
        std::mem::size_of::<SignedClaim>()
    );
}

/// A claim by `e` for `height` on top of `parent` (genesis when `None`), skipping the empty
/// heights in between.
fn claim_at(e: &Exec, parent: Option<&SignedClaim>, height: u64, post: [u8; 32]) -> SignedClaim {
    resign(e, claim_on(e, parent, post), |c| c.data_height = height)
}

/// Applies the next block, without transactions, carrying `items`.
fn tx_free_block(sc: &mut StateConsensus, items: Vec<Inclusion>) -> Vec<Outcome> {
    let h = sc.applied_height() + 1;
    sc.apply_block(h, h * BLOCK_MS, 0, &items)
        .expect("in order")
}

#[test]
fn empty_blocks_take_no_claim_and_are_final_with_the_claim_before_them() {
    let a = exec(1);
    let mut sc = machine(3, 50, &[(&a, 1000)]);
    let c1 = claim_on(&a, None, root(1));
    let on_empty = claim_at(&a, Some(&c1), 2, root(2));
    let c4 = claim_at(&a, Some(&c1), 4, root(4));
    let c4_on_genesis = claim_at(&a, None, 4, root(4));
    let c4_next_to_parent = claim_on(&a, Some(&c1), root(4)); // height 2

    block(&mut sc, vec![]); // 1: transactions
    tx_free_block(&mut sc, vec![Inclusion::Claim(c1.clone())]); // 2
    tx_free_block(&mut sc, vec![]); // 3
                                    // An empty height takes no claim: a claim for it is refused, whatever its roots.
    let out = block(&mut sc, vec![Inclusion::Claim(on_empty.clone())]); // 4: transactions
    assert_eq!(
        out,
        vec![Outcome::ClaimIgnored {
            id: on_empty.id(),
            reason: Rejection::EmptyHeight { data_height: 2 }
        }]
    );
    // Height 4's parent is height 1's claim: the genesis state is no longer its pre-state.
    let out = block(
        &mut sc,
        vec![
            Inclusion::Claim(c4_on_genesis.clone()),
            Inclusion::Claim(c4_next_to_parent.clone()),
            Inclusion::Claim(c4.clone()),
        ],
    ); // 5
    assert_eq!(
        out[0],
        Outcome::ClaimIgnored {
            id: c4_on_genesis.id(),
            reason: Rejection::ParentHeight {
                parent_height: 0,
                expected: 1,
                data_height: 4
            }
        }
    );
    assert_eq!(
        out[1],
        Outcome::ClaimIgnored {
            id: c4_next_to_parent.id(),
            reason: Rejection::EmptyHeight { data_height: 2 }
        }
    );
    assert!(matches!(out[2], Outcome::Recorded { .. }), "{out:?}");
    // The claim at 1 is final in block 5 (2 + W): heights 2 and 3 are final with it, and
    // their canonical root is its post-state root; height 4 waits for its own claim.
    assert_eq!(status(&sc, &c1), ClaimStatus::Final { at: 5 });
    assert_eq!(sc.latest_final_height(), 3);
    assert_eq!(sc.canonical_root(2), Some(B256::from(root(1))));
    assert_eq!(sc.canonical_root(3), Some(B256::from(root(1))));
    assert_eq!(sc.canonical_claim(2), None);
    assert_eq!(sc.canonical_claim_at_or_below(3), Some((1, c1.id())));
    assert_eq!(sc.safe_claim(3), Some(c1.id()));
    // Block 5 has transactions and no claim yet: the safe chain stops below it.
    assert_eq!(sc.latest_safe_height(), 4);
    assert_eq!(sc.safe_root(5), None);
    assert_eq!(sc.safe_root(4), Some(B256::from(root(4))));
    // Empty blocks after the last claim: safe (and, once it is final, final) up to the tip.
    tx_free_blocks(&mut sc, 3); // 6, 7, 8
    assert_eq!(status(&sc, &c4), ClaimStatus::Final { at: 8 });
    assert_eq!(sc.latest_final_height(), 4);
    let c5 = claim_at(&a, Some(&c4), 5, root(5));
    block(&mut sc, vec![Inclusion::Claim(c5.clone())]); // 9: transactions
    tx_free_blocks(&mut sc, 3); // 10, 11, 12
    assert_eq!(status(&sc, &c5), ClaimStatus::Final { at: 12 });
    // Heights 6-8 are empty; 9 has transactions and no claim.
    assert_eq!(sc.latest_final_height(), 8);
    assert_eq!(sc.canonical_root(8), Some(B256::from(root(5))));
    assert_eq!(sc.latest_safe_height(), 8);
}

#[test]
fn an_idle_chain_is_final_at_the_genesis_state_until_its_first_transaction() {
    let a = exec(1);
    let mut sc = machine(3, 50, &[(&a, 1000)]);
    tx_free_blocks(&mut sc, 5);
    assert_eq!(sc.latest_final_height(), 5);
    assert_eq!(sc.latest_safe_height(), 5);
    assert_eq!(sc.canonical_root(5), Some(GENESIS_ROOT));
    assert_eq!(sc.canonical_claim_at_or_below(5), None);
    assert_eq!(sc.safe_claim(5), None);
    block(&mut sc, vec![]); // 6: the first transactions
    assert_eq!(sc.latest_final_height(), 5);
    // Its claim names the genesis parent, at height 6.
    let c6 = claim_at(&a, None, 6, root(6));
    let after = claim_at(&a, Some(&c6), 7, root(7)); // height 7 has no block yet
    let out = tx_free_block(&mut sc, vec![Inclusion::Claim(c6.clone())]); // 7
    assert!(matches!(out[0], Outcome::Recorded { .. }), "{out:?}");
    tx_free_blocks(&mut sc, 3); // 8, 9, 10
    assert_eq!(status(&sc, &c6), ClaimStatus::Final { at: 10 });
    assert_eq!(sc.latest_final_height(), 10);
    assert_eq!(sc.canonical_claim(6), Some(c6.id()));
    assert_eq!(sc.canonical_root(10), Some(B256::from(root(6))));
    // Height 7 was empty after all.
    let out = tx_free_block(&mut sc, vec![Inclusion::Claim(after.clone())]);
    assert_eq!(
        out,
        vec![Outcome::ClaimIgnored {
            id: after.id(),
            reason: Rejection::EmptyHeight { data_height: 7 }
        }]
    );
}

#[test]
fn pruning_keeps_the_parent_rule_exact_across_empty_heights() {
    let (a, b) = (exec(1), exec(2));
    let mut sc = pruning_machine(&params(2 * BLOCK_MS, 2, 1, 50), &[&a, &b], 4);
    let c1 = claim_on(&a, None, root(1));
    let c3 = claim_at(&a, Some(&c1), 3, root(3));
    block(&mut sc, vec![]); // 1: transactions
    tx_free_block(&mut sc, vec![Inclusion::Claim(c1.clone())]); // 2
    block(&mut sc, vec![]); // 3: transactions
    tx_free_block(&mut sc, vec![Inclusion::Claim(c3.clone())]); // 4
    tx_free_blocks(&mut sc, 20); // 5..=24
    assert_eq!(sc.latest_final_height(), 24);
    // Heights up to 2 are forgotten (height 3 holds the latest canonical claim).
    assert_eq!(sc.pruned_through(), 2);
    assert_eq!(sc.canonical_root(20), Some(B256::from(root(3))));
    assert_eq!(sc.canonical_root(1), None);
    // A late claim for height 3 on b's own claim for 1 (never recorded, and height 1 is
    // forgotten anyway), and one on the genesis state, which is not height 3's pre-state.
    let b1 = claim_on(&b, None, root(1));
    let late = claim_at(&b, Some(&b1), 3, root(3));
    let on_genesis = claim_at(&b, None, 3, root(3));
    let out = block(
        &mut sc,
        vec![
            Inclusion::Claim(late.clone()),
            Inclusion::Claim(on_genesis.clone()),
        ],
    ); // 25: transactions
    assert_eq!(
        out,
        vec![
            Outcome::ClaimIgnored {
                id: late.id(),
                reason: Rejection::PrunedParent {
                    parent: b1.id(),
                    pruned_through: 2
                }
            },
            Outcome::ClaimIgnored {
                id: on_genesis.id(),
                reason: Rejection::ParentHeight {
                    parent_height: 0,
                    expected: 1,
                    data_height: 3
                }
            }
        ]
    );
    // Height 25 continues from height 3's claim across the empty heights.
    let c25 = claim_at(&a, Some(&c3), 25, root(25));
    let out = tx_free_block(&mut sc, vec![Inclusion::Claim(c25.clone())]);
    assert!(matches!(out[0], Outcome::Recorded { .. }), "{out:?}");
}

#[test]
fn a_long_idle_run_never_forgets_the_claim_the_next_one_builds_on() {
    let a = exec(1);
    let mut sc = pruning_machine(&params(2 * BLOCK_MS, 2, 1, 50), &[&a], 4);
    let c1 = claim_on(&a, None, root(1));
    let c2 = claim_on(&a, Some(&c1), root(2));
    block(&mut sc, vec![]); // 1
    block(&mut sc, vec![Inclusion::Claim(c1.clone())]); // 2
    tx_free_block(&mut sc, vec![Inclusion::Claim(c2.clone())]); // 3
                                                                // An idle night: far more empty blocks than the retention.
    tx_free_blocks(&mut sc, 40);
    assert_eq!(sc.latest_final_height(), 43);
    // Height 1 is forgotten; height 2, the latest canonical claim, is kept.
    assert_eq!(sc.pruned_through(), 1);
    assert_eq!(sc.status(&c1.id()), None);
    assert_eq!(sc.canonical_claim(2), Some(c2.id()));
    block(&mut sc, vec![]); // 44: a transaction at last
    let c44 = claim_at(&a, Some(&c2), 44, root(44));
    let out = tx_free_block(&mut sc, vec![Inclusion::Claim(c44.clone())]); // 45
    assert!(matches!(out[0], Outcome::Recorded { .. }), "{out:?}");
    tx_free_blocks(&mut sc, 2);
    assert_eq!(status(&sc, &c44), ClaimStatus::Final { at: 47 });
    assert_eq!(sc.latest_final_height(), 47);
    // Now height 2 may go.
    tx_free_blocks(&mut sc, 10);
    assert_eq!(sc.pruned_through(), 43);
    assert_eq!(sc.canonical_root(44), Some(B256::from(root(44))));
}
