//! `lazychain bench proofs`: the differential proof fuzzer ([`lazychain_fraud_harness::fuzz`]).
//!
//! Random chains and blocks (every fixture contract, every transaction type, transactions
//! that fail and that are skipped) are executed with the real transition; for random
//! transactions of them, the honest node's proof (both witness ways, which must agree) is
//! built against a random lie, sent through the wire encoding and verified: it must be
//! Proven, and the same transaction's proof against the honest claim Refuted. The table shows
//! the cases per kind of transaction with their proof sizes and verification times, and every
//! failing case with what reproduces it. Deterministic for a seed and a case count.

use std::io::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lazychain_fraud_harness::fuzz::{self, FuzzReport, Progress};
use lazychain_fraud_harness::Corruption;

use crate::stats::thousands;

pub struct Options {
    pub cases: usize,
    pub seed: u64,
}

/// Runs the fuzzer, printing progress to stderr about every two seconds.
pub fn run(options: &Options) -> FuzzReport {
    let last = Mutex::new(Instant::now());
    let progress = |p: &Progress| {
        let Ok(mut last) = last.lock() else { return };
        if last.elapsed() < Duration::from_secs(2) && p.done < p.total {
            return;
        }
        *last = Instant::now();
        let rate = p.done as f64 / p.elapsed.as_secs_f64().max(1e-9);
        let eta = (p.total.saturating_sub(p.done)) as f64 / rate.max(1e-9);
        eprint!(
            "\r{} / {} cases ({:.0}/s, {} failed), {:.0} s, about {:.0} s left   ",
            p.done,
            p.total,
            rate,
            p.failures,
            p.elapsed.as_secs_f64(),
            eta
        );
        let _ = std::io::stderr().flush();
    };
    let report = fuzz::run(options.cases, options.seed, &progress);
    eprintln!();
    report
}

fn us(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us >= 10_000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else {
        format!("{us:.0} us")
    }
}

fn counts(map: &std::collections::BTreeMap<&'static str, usize>) -> String {
    map.iter()
        .map(|(k, v)| format!("{k} {}", thousands(*v)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn corruption(c: Option<Corruption>) -> String {
    match c {
        Some(Corruption::Root) => "root".into(),
        Some(Corruption::Value { pick }) => format!("value (pick {pick})"),
        None => "- (the block does not execute)".into(),
    }
}

/// The result table.
pub fn table(r: &FuzzReport) -> String {
    let mut out = format!(
        "proof fuzzer: seed {}, {} cases in {:.1} s ({:.1} cases/s) on {} threads; {} streams (independent chains), {} blocks, {} transactions (largest block {})\n",
        r.seed,
        thousands(r.cases),
        r.elapsed.as_secs_f64(),
        r.cases_per_second(),
        r.threads,
        r.streams,
        thousands(r.blocks),
        thousands(r.txs),
        thousands(r.largest_block),
    );
    out.push_str(&format!(
        "cases by transaction status: {}; by type: {}; by corruption: {}; sent with too little gas: {}\n\n",
        counts(&r.by_status),
        counts(&r.by_type),
        counts(&r.by_corruption),
        thousands(r.low_gas)
    ));
    out.push_str(&format!(
        "| {:<26} | {:>7} | {:>6} | {:>17} | {:>11} | {:>11} | {:>11} | {:>11} | {:>8} |\n",
        "kind",
        "txs",
        "cases",
        "tx ok/fail/skip",
        "proof p50 B",
        "proof max B",
        "verify p50",
        "verify max",
        "unproven"
    ));
    out.push_str(&format!(
        "|{:-<28}|{:-<9}|{:-<8}|{:-<19}|{:-<13}|{:-<13}|{:-<13}|{:-<13}|{:-<10}|\n",
        "", "", "", "", "", "", "", "", ""
    ));
    for k in &r.kinds {
        let proven = k.cases > k.failures;
        out.push_str(&format!(
            "| {:<26} | {:>7} | {:>6} | {:>17} | {:>11} | {:>11} | {:>11} | {:>11} | {:>8} |\n",
            k.kind,
            thousands(k.generated),
            thousands(k.cases),
            format!("{}/{}/{}", k.success, k.failed, k.skipped),
            if proven {
                thousands(k.proof_bytes_p50)
            } else {
                "-".into()
            },
            if proven {
                thousands(k.proof_bytes_max)
            } else {
                "-".into()
            },
            if proven { us(k.verify_p50) } else { "-".into() },
            if proven { us(k.verify_max) } else { "-".into() },
            k.failures,
        ));
    }
    out.push('\n');
    if r.failures.is_empty() {
        out.push_str(&format!(
            "failures: none ({} cases proven: every lie Proven, every honest claim Refuted)\n",
            thousands(r.cases)
        ));
    } else {
        out.push_str(&format!("failures: {}\n", r.failures.len()));
        for f in &r.failures {
            out.push_str(&format!(
                "- seed {} stream {} (stream seed {:#x}), block {} (height {}, {} txs), tx {}, kind {}, type {}{}, status {}, corruption {}:\n    {}\n    reproduce: {} (or PROOF_FUZZ_CASE={:#x}:{}:{}:{} cargo test -p lazychain-fraud-harness --test fuzz replay_one_case -- --ignored --nocapture)\n    tx: 0x{}\n",
                f.seed,
                f.stream,
                f.stream_seed,
                f.block,
                f.height,
                f.block_len,
                f.index.map_or("-".into(), |i| i.to_string()),
                f.kind,
                f.tx_type,
                if f.low_gas { " (low gas)" } else { "" },
                f.status.map_or("-".into(), |s| format!("{s:?}")),
                corruption(f.corruption),
                f.error,
                f.reproduction(),
                f.stream_seed,
                f.block,
                f.index.unwrap_or(0),
                match f.corruption {
                    Some(Corruption::Value { pick }) => format!("value={pick}"),
                    _ => "root".to_owned(),
                },
                if f.raw_tx.len() > 400 {
                    format!("{}... ({} bytes)", &f.raw_tx[..400], f.raw_tx.len() / 2)
                } else {
                    f.raw_tx.clone()
                },
            ));
        }
    }
    out
}

/// The report as JSON.
pub fn json(r: &FuzzReport) -> serde_json::Value {
    let secs = |d: Duration| d.as_secs_f64();
    serde_json::json!({
        "seed": r.seed,
        "cases": r.cases,
        "seconds": secs(r.elapsed),
        "cases_per_second": r.cases_per_second(),
        "threads": r.threads,
        "streams": r.streams,
        "blocks": r.blocks,
        "transactions": r.txs,
        "largest_block": r.largest_block,
        "by_status": r.by_status,
        "by_type": r.by_type,
        "by_corruption": r.by_corruption,
        "low_gas": r.low_gas,
        "kinds": r.kinds.iter().map(|k| serde_json::json!({
            "kind": k.kind,
            "generated": k.generated,
            "cases": k.cases,
            "failures": k.failures,
            "success": k.success,
            "failed": k.failed,
            "skipped": k.skipped,
            "proof_bytes_p50": k.proof_bytes_p50,
            "proof_bytes_max": k.proof_bytes_max,
            "verify_seconds_p50": secs(k.verify_p50),
            "verify_seconds_max": secs(k.verify_max),
        })).collect::<Vec<_>>(),
        "failures": r.failures.iter().map(|f| serde_json::json!({
            "seed": f.seed,
            "stream": f.stream,
            "stream_seed": f.stream_seed,
            "block": f.block,
            "height": f.height,
            "index": f.index,
            "block_len": f.block_len,
            "kind": f.kind,
            "tx_type": f.tx_type,
            "low_gas": f.low_gas,
            "status": f.status.map(|s| format!("{s:?}")),
            "corruption": corruption(f.corruption),
            "error": f.error,
            "reproduce": f.reproduction(),
            "raw_tx": f.raw_tx,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_cases_make_a_table() {
        let report = fuzz::run(4, 7, &|_| {});
        assert_eq!(report.cases, 4);
        let text = table(&report);
        assert!(text.contains("proof fuzzer: seed 7"), "{text}");
        let value = json(&report);
        assert_eq!(value["cases"], 4);
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }
}
