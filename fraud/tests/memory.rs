//! What state consensus holds in memory per data height, with and without pruning (rule 7),
//! measured as the process's resident memory (`/proc/self/statm`; the workspace forbids the
//! unsafe code a counting allocator needs) over synthetic chains: two honest executors claim
//! every height, one block per 70 ms (~14 blocks/s, the soak test's rate), a 90 s window. Run
//! with `--nocapture` to see the figures; the test asserts that the pruned machine stays
//! bounded. The pruned run goes first: memory the unpruned run frees would be reused by it.
//!
//! One test per binary: resident memory is the whole process's.

use alloy_primitives::B256;
use lazychain_fraud::{
    executor_address, ExecutorRegistry, Inclusion, SignedClaim, StateClaim, StateConsensus,
    StateParams, GENESIS_PARENT, RETAINED_FINAL_HEIGHTS,
};
use malachitebft_signing_ed25519::PrivateKey;

/// Resident bytes of this process (0 where `/proc` is missing: the figures are then 0).
fn resident_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<usize>().ok())
        .map_or(0, |pages| pages * 4096)
}

const CHAIN: u64 = 7;
const BLOCK_MS: u64 = 70;
const HEIGHTS: u64 = 20_000;
const GENESIS_ROOT: B256 = B256::repeat_byte(0x11);

fn root(height: u64) -> [u8; 32] {
    let mut r = [0u8; 32];
    r[..8].copy_from_slice(&height.to_be_bytes());
    r
}

/// Every executor's claim for heights `1..=HEIGHTS`, each on its own previous one.
fn chains(keys: &[PrivateKey]) -> Vec<Vec<SignedClaim>> {
    keys.iter()
        .map(|key| {
            let executor = executor_address(key.public_key().as_bytes());
            let mut parent = GENESIS_PARENT;
            (1..=HEIGHTS)
                .map(|h| {
                    let claim = StateClaim {
                        chain_id: CHAIN,
                        data_height: h,
                        parent_claim: parent.0,
                        pre_state_root: if h == 1 { GENESIS_ROOT.0 } else { root(h - 1) },
                        post_state_root: root(h),
                        trace_root: [3; 32],
                        receipts_root: [4; 32],
                        tx_count: 1,
                        executor,
                    };
                    let signed = SignedClaim::sign(claim, key);
                    parent = signed.id();
                    signed
                })
                .collect()
        })
        .collect()
}

/// Applies the chain (block `d` includes every executor's claim for `d - 1`) and returns the
/// live bytes the machine holds after `checkpoints` heights each.
fn run(
    keys: &[PrivateKey],
    chains: &[Vec<SignedClaim>],
    retained: u64,
    checkpoints: &[u64],
) -> Vec<(u64, usize, usize)> {
    let params = StateParams {
        chain_id: CHAIN,
        challenge_window_ms: 90_000,
        min_window_blocks: 10,
        min_corroboration: 1,
        slash_reward_percent: 50,
    };
    let registry =
        ExecutorRegistry::new(keys.iter().map(|k| (*k.public_key().as_bytes(), 1_000u128)))
            .expect("registry");
    let before = resident_bytes();
    let mut sc =
        StateConsensus::with_retention(GENESIS_ROOT, &params, registry, retained).expect("machine");
    let mut out = Vec::new();
    for d in 1..=HEIGHTS + 1 {
        let items: Vec<Inclusion> = match d.checked_sub(2) {
            Some(index) => chains
                .iter()
                .map(|c| Inclusion::Claim(c[index as usize].clone()))
                .collect(),
            None => Vec::new(),
        };
        sc.apply_block(d, d * BLOCK_MS, 1, &items)
            .expect("in order");
        if checkpoints.contains(&d) {
            let live = resident_bytes().saturating_sub(before);
            out.push((d, live, sc.recorded_claims()));
        }
    }
    // Every claim but the last window's is final: the chains are honest.
    let window_blocks = 90_000 / BLOCK_MS;
    assert!(sc.latest_final_height() + window_blocks + 2 >= HEIGHTS);
    assert!(sc.canonical_root(sc.latest_final_height()).is_some());
    drop(sc);
    out
}

#[test]
fn pruned_state_consensus_memory_is_bounded_by_the_retained_heights() {
    let keys: Vec<PrivateKey> = (1..=2u8).map(|i| PrivateKey::from([i; 32])).collect();
    let chains = chains(&keys);
    let checkpoints = [5_000, 10_000, 15_000, HEIGHTS];
    let pruned = run(&keys, &chains, RETAINED_FINAL_HEIGHTS, &checkpoints);
    let unpruned = run(&keys, &chains, u64::MAX, &checkpoints);
    println!("two executors, a claim each per height, {BLOCK_MS} ms blocks, 90 s window");
    for ((d, live_u, claims_u), (_, live_p, claims_p)) in unpruned.iter().zip(&pruned) {
        println!(
            "after {d:>6} blocks: unpruned {:>6.1} MB ({claims_u} claims), pruned (R = {RETAINED_FINAL_HEIGHTS}) {:>5.1} MB ({claims_p} claims)",
            *live_u as f64 / 1e6,
            *live_p as f64 / 1e6,
        );
    }
    let per_height = |v: &[(u64, usize, usize)]| {
        let (first, last) = (v[0], v[v.len() - 1]);
        (last.1 as f64 - first.1 as f64) / (last.0 - first.0) as f64
    };
    let unpruned_rate = per_height(&unpruned);
    let pruned_rate = per_height(&pruned[1..]);
    println!(
        "growth per height from {} blocks on: unpruned {unpruned_rate:.0} B, pruned {pruned_rate:.0} B",
        checkpoints[0]
    );
    // Unpruned, memory grows with the chain.
    assert!(unpruned_rate > 500.0, "{unpruned_rate}");
    // Pruned, it stops growing once the retained heights are full (from 10,000 blocks on:
    // the window plus R is ~5,400 heights), and stays under what R heights cost.
    assert!(pruned_rate.abs() < 20.0, "{pruned_rate} B per height");
    let retained_bound = unpruned_rate * (RETAINED_FINAL_HEIGHTS + 2 * 90_000 / BLOCK_MS) as f64;
    for (d, live, claims) in &pruned {
        assert!((*live as f64) < retained_bound, "{live} B after {d} blocks");
        assert!(*claims as u64 <= 2 * (RETAINED_FINAL_HEIGHTS + 90_000 / BLOCK_MS + 2));
    }
}
