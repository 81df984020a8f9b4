//! The differential proof fuzzer, briefly: a few hundred random cases (random chains, blocks
//! and transactions, each proven against a random lie) must all be provable, and the
//! generator must still produce a wide set of transaction kinds.
//!
//! `PROOF_FUZZ_SEED=<n>` replays a seed (printed by every run); `PROOF_FUZZ_CASES=<n>` changes
//! the number of cases (300 by default). Longer runs: `lazychain bench proofs --cases N`.

use std::collections::BTreeSet;

use lazychain_fraud_harness::fuzz::{self, FuzzReport, KindStats};
use lazychain_fraud_harness::Corruption;

const DEFAULT_CASES: usize = 300;

fn seed() -> u64 {
    match std::env::var("PROOF_FUZZ_SEED") {
        Ok(s) => {
            let s = s.trim();
            let parsed = match s.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => s.parse(),
            };
            parsed.expect("PROOF_FUZZ_SEED is a u64 (decimal or 0x hex)")
        }
        Err(_) => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0);
            nanos ^ u64::from(std::process::id()).rotate_left(32)
        }
    }
}

fn describe(report: &FuzzReport) -> String {
    let mut out = format!(
        "seed {} ({} cases, {} blocks, {} transactions, {:.1} s)\n",
        report.seed,
        report.cases,
        report.blocks,
        report.txs,
        report.elapsed.as_secs_f64()
    );
    for f in &report.failures {
        out.push_str(&format!(
            "FAILED {} (stream {}, block {} at height {} of {} txs, tx {:?}, kind {}, type {}, low gas {}, status {:?}, corruption {:?}): {}\n  tx {}\n",
            f.reproduction(),
            f.stream,
            f.block,
            f.height,
            f.block_len,
            f.index,
            f.kind,
            f.tx_type,
            f.low_gas,
            f.status,
            f.corruption,
            f.error,
            f.raw_tx,
        ));
    }
    out
}

#[test]
fn random_cases_are_all_provable() {
    let seed = seed();
    let cases = std::env::var("PROOF_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    eprintln!("proof fuzz: seed {seed} (replay with PROOF_FUZZ_SEED={seed}), {cases} cases");
    let report = fuzz::run(cases, seed, &|_| {});
    let text = describe(&report);
    eprintln!("{text}");
    assert_eq!(report.cases, cases, "{text}");
    assert!(report.failures.is_empty(), "{text}");

    // The generator must not degenerate: transactions of many kinds, proven in many kinds.
    let kinds_where = |keep: fn(&KindStats) -> bool| -> BTreeSet<&str> {
        report
            .kinds
            .iter()
            .filter(|k| keep(k))
            .map(|k| k.kind.as_str())
            .collect()
    };
    let generated = kinds_where(|k| k.generated > 0);
    let proven = kinds_where(|k| k.cases > 0);
    let family = |kind: &str| kind.split('.').next().unwrap_or(kind).to_owned();
    let generated_families: BTreeSet<String> = generated.iter().map(|k| family(k)).collect();
    let proven_families: BTreeSet<String> = proven.iter().map(|k| family(k)).collect();
    eprintln!(
        "{} kinds generated, {} proven ({} families)",
        generated.len(),
        proven.len(),
        proven_families.len()
    );
    for f in [
        "transfer",
        "token",
        "deploy",
        "storage",
        "precompile",
        "opcodes",
        "factory",
        "codereader",
        "destroyer",
        "child",
        "burner",
        "skip",
        "setcode",
        "delegated",
    ] {
        assert!(
            generated_families.contains(f),
            "no {f}.* transaction generated; generated {generated:?}\n{text}"
        );
    }
    assert!(
        generated.len() >= 90,
        "only {} kinds generated: {generated:?}\n{text}",
        generated.len()
    );
    assert!(
        proven_families.len() >= 10,
        "cases of only {} families proven: {proven_families:?}\n{text}",
        proven_families.len()
    );
    assert!(
        proven.len() >= 50,
        "cases of only {} kinds proven: {proven:?}\n{text}",
        proven.len()
    );
    // Set-code (EIP-7702) transactions execute: proven ones are not all skips.
    let setcode: Vec<&KindStats> = report
        .kinds
        .iter()
        .filter(|k| k.kind.starts_with("setcode."))
        .collect();
    let executed: usize = setcode.iter().map(|k| k.success + k.failed).sum();
    let skipped: usize = setcode.iter().map(|k| k.skipped).sum();
    eprintln!("setcode cases: {executed} executed, {skipped} skipped");
    assert!(
        executed + skipped == 0 || executed > 0,
        "every proven set-code transaction was skipped\n{text}"
    );
    // Every outcome of a transaction was proven, and both corruptions were used.
    for status in ["success", "failed", "skipped"] {
        assert!(
            report.by_status.get(status).copied().unwrap_or(0) > 0,
            "no case of a {status} transaction: {:?}\n{text}",
            report.by_status
        );
    }
    for corruption in ["root", "value"] {
        assert!(
            report.by_corruption.get(corruption).copied().unwrap_or(0) > 0,
            "no {corruption} corruption: {:?}\n{text}",
            report.by_corruption
        );
    }
}

/// Replays one case: `PROOF_FUZZ_CASE="<stream seed>:<block>:<index>:<root | value=PICK>"`,
/// as a failure report prints it (`fuzz::reproduce(stream seed, block, index, corruption)`).
#[test]
#[ignore = "replays the case named by PROOF_FUZZ_CASE"]
fn replay_one_case() {
    let Ok(spec) = std::env::var("PROOF_FUZZ_CASE") else {
        eprintln!("set PROOF_FUZZ_CASE=<stream seed>:<block>:<index>:<root | value=PICK>");
        return;
    };
    let parts: Vec<&str> = spec.split(':').map(str::trim).collect();
    assert_eq!(parts.len(), 4, "PROOF_FUZZ_CASE={spec}");
    let stream_seed = match parts[0].strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => parts[0].parse(),
    }
    .expect("stream seed");
    let block: usize = parts[1].parse().expect("block number");
    let index: usize = parts[2].parse().expect("transaction index");
    let corruption = match parts[3].strip_prefix("value=") {
        Some(pick) => Corruption::Value {
            pick: pick.parse().expect("value pick"),
        },
        None => Corruption::Root,
    };
    for (i, t) in fuzz::block_of(stream_seed, block).iter().enumerate() {
        let mark = if i == index { ">" } else { " " };
        eprintln!(
            "{mark} {i}: {} ({}, low gas {})",
            t.kind,
            t.ty.name(),
            t.low_gas
        );
    }
    match fuzz::reproduce(stream_seed, block, index, corruption) {
        Ok(case) => eprintln!("proven: {case:?}"),
        Err(e) => panic!("{e}"),
    }
}

/// A seed and a case count give the same run whatever the number of threads: the same
/// blocks, the same cases, the same proofs.
#[test]
fn a_seed_gives_the_same_run_on_any_number_of_threads() {
    let seed = seed();
    let one = fuzz::run_with(40, seed, 1, &|_| {});
    let two = fuzz::run_with(40, seed, 2, &|_| {});
    let shape = |r: &FuzzReport| {
        let kinds: Vec<_> = r
            .kinds
            .iter()
            .map(|k| {
                (
                    k.kind.clone(),
                    k.generated,
                    k.cases,
                    k.proof_bytes_p50,
                    k.proof_bytes_max,
                )
            })
            .collect();
        (
            kinds,
            r.blocks,
            r.txs,
            r.by_status.clone(),
            r.by_corruption.clone(),
            r.failures.len(),
        )
    };
    assert_eq!(shape(&one), shape(&two), "seed {seed}");
}
