//! A benchmark of the tree on one core, the workload of `notes/state-tree.md` §5.
//!
//! Keys are `sha256(seed ‖ index)`, values 32 bytes, and the value hash `sha256(value)` is
//! inside every timed region (as in the note, so the figures compare with its table). Run it
//! in a release build: `cargo run --release -p lazychain-exec-state-tree --example bench --
//! 1000000`.

use crate::proof::{decode_multi_proof, encode_multi_proof, verify_path, verify_update};
use crate::tree::{KeyPath, Op, StateTree, ValueHash};
use sha2::{Digest, Sha256};
use std::hint::black_box;
use std::time::Instant;

/// Transactions timed in the per-transaction run (3 keys each, a root after each).
pub const TXS: usize = 20_000;
/// Blocks timed in the block run, and their size (80 % existing keys, 20 % new).
pub const BLOCKS: usize = 5;
/// Updates per block.
pub const BLOCK_SIZE: usize = 10_000;
const PROOF_SAMPLES: usize = 100;
const MULTI_SAMPLES: usize = 50;
const VERIFY_REPS: usize = 10;

/// What [`bench()`] measured. Rates are per second on one core.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchReport {
    /// Keys loaded before the timed updates.
    pub keys: usize,
    /// Seed of the keys and of the random choices.
    pub seed: u64,
    /// `from_leaves` over the unsorted keys, value hashing included: keys per second.
    pub bulk_load_keys_per_sec: f64,
    /// Updates per second with a root after every 3-key transaction ([`TXS`] transactions).
    pub tx_updates_per_sec: f64,
    /// Updates per second in [`BLOCK_SIZE`]-key blocks with one root per block.
    pub block_updates_per_sec: f64,
    /// Mean borsh size of a one-key inclusion proof (`PathProof`).
    pub inclusion_proof_bytes: f64,
    /// Mean borsh size of a one-key non-inclusion proof.
    pub non_inclusion_proof_bytes: f64,
    /// Mean borsh size of a 3-key multiproof (2 present keys, 1 absent key).
    pub multiproof_3key_bytes: f64,
    /// Mean time to verify a one-key proof with nomt-core, in microseconds.
    pub verify_path_micros: f64,
    /// Mean time of decode + verify against the old root + compute the new root for a
    /// 3-key multiproof (2 updates, 1 insert), in microseconds.
    pub verify_update_micros: f64,
    /// Whether every stateless root equalled the tree's root after the same ops.
    pub stateless_roots_match: bool,
    /// Arena bytes per key right after the bulk load.
    pub ram_bytes_per_key_loaded: f64,
    /// Arena bytes per key after the update workload (includes growth slack).
    pub ram_bytes_per_key_after_updates: f64,
    /// Internal nodes per key after the workload.
    pub internal_nodes_per_key: f64,
}

impl BenchReport {
    /// A printable table, one measurement per row.
    pub fn table(&self) -> String {
        let rows: Vec<(String, String)> = vec![
            ("keys".into(), format!("{}", self.keys)),
            ("seed".into(), format!("{}", self.seed)),
            (
                "bulk load (from_leaves), keys/s".into(),
                rate(self.bulk_load_keys_per_sec),
            ),
            (
                format!("updates/s, root after every 3-key tx ({TXS} txs)"),
                rate(self.tx_updates_per_sec),
            ),
            (
                format!("updates/s, {BLOCK_SIZE}-key blocks ({BLOCKS} blocks)"),
                rate(self.block_updates_per_sec),
            ),
            (
                "1-key inclusion proof, bytes (borsh)".into(),
                format!("{:.0}", self.inclusion_proof_bytes),
            ),
            (
                "1-key non-inclusion proof, bytes (borsh)".into(),
                format!("{:.0}", self.non_inclusion_proof_bytes),
            ),
            (
                "3-key multiproof, bytes (borsh)".into(),
                format!("{:.0}", self.multiproof_3key_bytes),
            ),
            (
                "verify 1-key proof (nomt-core), µs".into(),
                format!("{:.1}", self.verify_path_micros),
            ),
            (
                "verify_update 3 keys (decode+verify+new root), µs".into(),
                format!("{:.1}", self.verify_update_micros),
            ),
            (
                "stateless roots equal tree roots".into(),
                format!("{}", self.stateless_roots_match),
            ),
            (
                "RAM bytes/key after load (arenas)".into(),
                format!("{:.0}", self.ram_bytes_per_key_loaded),
            ),
            (
                "RAM bytes/key after updates (arenas)".into(),
                format!("{:.0}", self.ram_bytes_per_key_after_updates),
            ),
            (
                "internal nodes per key".into(),
                format!("{:.2}", self.internal_nodes_per_key),
            ),
        ];
        let width = rows
            .iter()
            .map(|(k, _)| k.chars().count())
            .max()
            .unwrap_or(0);
        let mut out = format!(
            "| {:<width$} | value |\n|{}|-------|\n",
            "state tree",
            "-".repeat(width + 2)
        );
        for (k, v) in rows {
            out.push_str(&format!("| {k:<width$} | {v} |\n"));
        }
        out
    }
}

fn rate(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else {
        format!("{:.0}k", x / 1e3)
    }
}

/// SplitMix64: a tiny deterministic generator, enough to pick keys.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn key(seed: u64, i: u64) -> KeyPath {
    Sha256::new()
        .chain_update(b"k")
        .chain_update(seed.to_le_bytes())
        .chain_update(i.to_le_bytes())
        .finalize()
        .into()
}

fn value_hash(i: u64, version: u64) -> ValueHash {
    let mut value = [0u8; 32];
    value[..8].copy_from_slice(&i.to_le_bytes());
    value[8..16].copy_from_slice(&version.to_le_bytes());
    value[16..].copy_from_slice(b"lazychain value\0");
    Sha256::digest(value).into()
}

/// Runs the benchmark over `keys` keys (at least 10) on the calling thread; deterministic for
/// a given `seed` except for the timings.
pub fn bench(keys: usize, seed: u64) -> BenchReport {
    let n = keys.max(10);
    let mut rng = Rng(seed);
    let key_list: Vec<KeyPath> = (0..n as u64).map(|i| key(seed, i)).collect();

    // Bulk load.
    let start = Instant::now();
    let mut tree = StateTree::from_leaves(
        key_list
            .iter()
            .enumerate()
            .map(|(i, k)| (*k, value_hash(i as u64, 0))),
    );
    black_box(tree.root());
    let bulk_load_keys_per_sec = n as f64 / start.elapsed().as_secs_f64();
    let ram_bytes_per_key_loaded = tree.memory_usage().total() as f64 / tree.len() as f64;

    // Transactions: 3 distinct existing keys, a root after each.
    let txs: Vec<[usize; 3]> = (0..TXS)
        .map(|_| loop {
            let t = [rng.below(n), rng.below(n), rng.below(n)];
            if t[0] != t[1] && t[1] != t[2] && t[0] != t[2] {
                break t;
            }
        })
        .collect();
    let start = Instant::now();
    for (version, tx) in txs.iter().enumerate() {
        let ops: [Op; 3] =
            tx.map(|i| (key_list[i], Some(value_hash(i as u64, version as u64 + 1))));
        tree.update(&ops);
        black_box(tree.root());
    }
    let tx_updates_per_sec = (3 * TXS) as f64 / start.elapsed().as_secs_f64();

    // Blocks: 80 % existing keys, 20 % new ones, one root per block.
    let mut next_new = n as u64;
    let blocks: Vec<Vec<(u64, KeyPath)>> = (0..BLOCKS)
        .map(|_| {
            (0..BLOCK_SIZE)
                .map(|j| {
                    if j % 5 == 4 {
                        next_new += 1;
                        (next_new - 1, key(seed, next_new - 1))
                    } else {
                        let i = rng.below(n);
                        (i as u64, key_list[i])
                    }
                })
                .collect()
        })
        .collect();
    let start = Instant::now();
    for (b, block) in blocks.iter().enumerate() {
        let ops: Vec<Op> = block
            .iter()
            .map(|(i, k)| (*k, Some(value_hash(*i, (TXS + b + 1) as u64))))
            .collect();
        black_box(tree.update(&ops));
    }
    let block_updates_per_sec = (BLOCKS * BLOCK_SIZE) as f64 / start.elapsed().as_secs_f64();
    let ram_bytes_per_key_after_updates = tree.memory_usage().total() as f64 / tree.len() as f64;
    let internal_nodes_per_key = tree.internal_count() as f64 / tree.len() as f64;

    // One-key proofs.
    let root = tree.root();
    let present: Vec<KeyPath> = (0..PROOF_SAMPLES).map(|_| key_list[rng.below(n)]).collect();
    let absent: Vec<KeyPath> = (0..PROOF_SAMPLES as u64)
        .map(|j| key(seed ^ 0x5eed, j))
        .collect();
    let size = |k: &KeyPath| borsh::to_vec(&tree.prove(k)).map_or(0, |b| b.len()) as f64;
    let inclusion_proof_bytes = present.iter().map(size).sum::<f64>() / PROOF_SAMPLES as f64;
    let non_inclusion_proof_bytes = absent.iter().map(size).sum::<f64>() / PROOF_SAMPLES as f64;
    let proofs: Vec<_> = present
        .iter()
        .chain(&absent)
        .map(|k| (*k, tree.prove(k)))
        .collect();
    let mut roots_match = true;
    let start = Instant::now();
    for _ in 0..VERIFY_REPS {
        for (k, p) in &proofs {
            roots_match &= black_box(verify_path(&root, k, p)).is_ok();
        }
    }
    let verify_path_micros =
        start.elapsed().as_secs_f64() * 1e6 / (VERIFY_REPS * proofs.len()) as f64;

    // 3-key multiproofs: 2 updates and 1 insert, stateless versus the tree.
    let mut multi_bytes = 0usize;
    let mut verify_secs = 0.0;
    for s in 0..MULTI_SAMPLES {
        let prev = tree.root();
        let (ia, ib) = (rng.below(n), rng.below(n));
        let (a, b) = (key_list[ia], key_list[ib]);
        let new = key(seed ^ 0x1ee7, s as u64);
        let proof = tree.prove_multi(&[a, b, new]);
        let bytes = encode_multi_proof(&proof);
        multi_bytes += bytes.len();
        let ops: Vec<Op> = vec![
            (a, Some(value_hash(ia as u64, 1 << 40))),
            (b, Some(value_hash(ib as u64, 1 << 40))),
            (new, Some(value_hash(u64::MAX, s as u64))),
        ];
        let start = Instant::now();
        let mut stateless = Err(crate::Error::Decode {
            reason: "not run".into(),
        });
        for _ in 0..VERIFY_REPS {
            stateless = decode_multi_proof(black_box(&bytes), 16)
                .and_then(|p| verify_update(&prev, &p, &ops));
        }
        verify_secs += start.elapsed().as_secs_f64();
        let old = [(a, tree.get(&a)), (b, tree.get(&b)), (new, None)];
        roots_match &= stateless == Ok(tree.update(&ops));
        roots_match &= tree.update(&old) == prev;
    }
    BenchReport {
        keys: n,
        seed,
        bulk_load_keys_per_sec,
        tx_updates_per_sec,
        block_updates_per_sec,
        inclusion_proof_bytes,
        non_inclusion_proof_bytes,
        multiproof_3key_bytes: multi_bytes as f64 / MULTI_SAMPLES as f64,
        verify_path_micros,
        verify_update_micros: verify_secs * 1e6 / (MULTI_SAMPLES * VERIFY_REPS) as f64,
        stateless_roots_match: roots_match,
        ram_bytes_per_key_loaded,
        ram_bytes_per_key_after_updates,
        internal_nodes_per_key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_bench_runs_and_roots_match() {
        let report = bench(2_000, 1);
        assert!(report.stateless_roots_match);
        assert!(report.table().contains("3-key multiproof"));
        assert!(report.multiproof_3key_bytes > 0.0);
    }

    /// `cargo test -p lazychain-exec-state-tree --release -- --ignored --nocapture`
    #[test]
    #[ignore = "benchmark: run in release with --ignored --nocapture"]
    fn bench_100k_slow() {
        let report = bench(100_000, 42);
        println!("{}", report.table());
        assert!(report.stateless_roots_match);
    }
}
