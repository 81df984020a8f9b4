//! `lazychain bench all`: every benchmark of the earlier issues in one run (data chain,
//! executor, fraud proofs in-process and on a local network), the reference measurements they
//! are judged against (raw revm on the same transactions from `bench exec`, and this machine's
//! SHA-256 and secp256k1 sender-recovery rates), one table of figure / value / reference /
//! ratio, and the same as JSON.
//!
//! Scaling: executor throughput and state-database bytes per account at 10k, 100k and 1M
//! genesis accounts (1,000-transfer blocks committed to redb), and, in the full run, the data
//! chain with 7 and 10 validators.
//!
//! It also draws finality latency (p50, p99) against offered load as an SVG next to the JSON.
//!
//! And executor lag over time under a steady load (`lag`), as a figure and an SVG, and under a
//! compute-heavy load that saturates the execution budget (from the lazy-vs-coupled runs), in
//! blocks and in milliseconds of block timestamps.
//!
//! Fraud proofs on a local network: a `wrong-root-at` liar beside two honest executors, and a
//! racing liar (`--fault race`) beside one: blocks and milliseconds from the liar's claim's
//! inclusion to the block whose fraud proof reverts it.
//!
//! Lazy vs coupled (`coupled`): the same three workloads through lazy validators with an
//! executor and through validators that execute before proposing and voting, side by side:
//! data-decided and state-final tx/s.
//!
//! Claims under load: during the lag run (the heaviest transfer load here with an executor,
//! 2,000 transfers/s), claim items per block, bytes per claim item and inclusion delay (from
//! the claim's data block to the block including it, in blocks and in block-timestamp ms),
//! read from validator 0's `lazy_getClaims` (`crate::claims`).
//!
//! An idle network: the default local network (4 validators, 2 executors) with no load,
//! data-folder bytes per node after a warm-up and a few minutes later, as MB per node per hour
//! against the target of 5 (`crate::soak::idle_disk_growth`).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::exec::Stage;

#[derive(Debug, thiserror::Error)]
pub enum AllError {
    #[error("data chain: {0}")]
    DataChain(#[from] crate::data_chain::BenchError),
    #[error("executor: {0}")]
    Exec(#[from] crate::exec::ExecBenchError),
    #[error("fraud proofs: {0}")]
    Fraud(#[from] crate::fraud::FraudBenchError),
    #[error("writing {path}: {error}")]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
    /// The message prints the cause, so it is not repeated as a `source()` (the binary prints
    /// the whole chain).
    #[error("drawing {path}: {error}")]
    Plot {
        path: PathBuf,
        error: crate::lag::PlotError,
    },
}

/// One point of the latency plot: offered tx/s, p50 ms, p99 ms, for one workload.
pub type LatencyPoint = (String, f64, f64, f64);

/// Draws finality latency (p50 solid, p99 dashed per workload) against offered load as SVG.
pub fn latency_plot(points: &[LatencyPoint], path: &std::path::Path) -> Result<(), AllError> {
    use plotters::prelude::*;
    let err = |e: DrawingAreaErrorKind<std::io::Error>| AllError::Plot {
        path: path.to_path_buf(),
        error: e.into(),
    };
    let max_x = points.iter().map(|p| p.1).fold(1.0, f64::max) * 1.05;
    let max_y = points.iter().map(|p| p.3).fold(1.0, f64::max) * 1.1;
    let root = SVGBackend::new(path, (900, 540)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("finality latency against offered load", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..max_x, 0.0..max_y)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("offered tx/s")
        .y_desc("ms from submission to decided on every validator")
        .draw()
        .map_err(err)?;
    let mut workloads: Vec<&str> = points.iter().map(|p| p.0.as_str()).collect();
    workloads.dedup();
    for (i, w) in workloads.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let mine: Vec<&LatencyPoint> = points.iter().filter(|p| p.0 == *w).collect();
        chart
            .draw_series(LineSeries::new(
                mine.iter().map(|p| (p.1, p.2)),
                color.stroke_width(2),
            ))
            .map_err(err)?
            .label(format!("{w} p50"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        chart
            .draw_series(LineSeries::new(
                mine.iter().map(|p| (p.1, p.3)),
                color.mix(0.5).stroke_width(1),
            ))
            .map_err(err)?
            .label(format!("{w} p99"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.mix(0.5)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}

pub struct AllOptions {
    /// The `lazychain` binary, for the benchmarks that start nodes.
    pub exe: PathBuf,
    pub quick: bool,
    /// Where the JSON results go.
    pub json: PathBuf,
}

/// One line of the table.
#[derive(Clone, Debug)]
pub struct Figure {
    pub group: &'static str,
    pub name: String,
    pub value: f64,
    pub unit: &'static str,
    /// What the value is judged against: a reference measurement or a target.
    pub reference: Option<(String, f64)>,
}

impl Figure {
    fn ratio(&self) -> Option<f64> {
        let (_, r) = self.reference.as_ref()?;
        (*r != 0.0).then(|| self.value / r)
    }

    fn json(&self) -> Value {
        json!({
            "group": self.group,
            "figure": self.name,
            "value": self.value,
            "unit": self.unit,
            "reference": self.reference.as_ref().map(|(n, _)| n.clone()),
            "referenceValue": self.reference.as_ref().map(|(_, v)| *v),
            "ratio": self.ratio(),
        })
    }
}

fn fig(group: &'static str, name: impl Into<String>, value: f64, unit: &'static str) -> Figure {
    Figure {
        group,
        name: name.into(),
        value,
        unit,
        reference: None,
    }
}

impl Figure {
    fn against(mut self, name: impl Into<String>, value: f64) -> Self {
        self.reference = Some((name.into(), value));
        self
    }
}

pub struct AllReport {
    pub quick: bool,
    pub cores: usize,
    pub figures: Vec<Figure>,
    pub elapsed: Duration,
    /// Executor lag under a saturating compute-heavy load (JSON `executorLagUnderLoad`).
    pub executor_lag_under_load: Option<Value>,
    /// A racing liar's claim from inclusion to revert (JSON `raceRevert`).
    pub race_revert: Option<Value>,
    /// Claims under the lag run's transfer load (JSON `claimsUnderLoad`).
    pub claims_under_load: Option<Value>,
    /// An idle default network's data folders (JSON `idleDisk`).
    pub idle_disk: Option<Value>,
}

impl AllReport {
    pub fn table(&self) -> String {
        let mut out = format!(
            "bench all{}: {} cores, {:.0} s\n\n| group | figure | value | unit | reference | reference value | ratio |\n|---|---|---:|---|---|---:|---:|\n",
            if self.quick { " --quick" } else { "" },
            self.cores,
            self.elapsed.as_secs_f64()
        );
        for f in &self.figures {
            let (rname, rvalue) = match &f.reference {
                Some((n, v)) => (n.as_str(), format!("{v:.3}")),
                None => ("", String::new()),
            };
            out.push_str(&format!(
                "| {} | {} | {:.3} | {} | {} | {} | {} |\n",
                f.group,
                f.name,
                f.value,
                f.unit,
                rname,
                rvalue,
                f.ratio().map(|r| format!("{r:.2}x")).unwrap_or_default()
            ));
        }
        out
    }

    pub fn json(&self) -> Value {
        json!({
            "quick": self.quick,
            "cores": self.cores,
            "elapsedSeconds": self.elapsed.as_secs_f64(),
            "figures": self.figures.iter().map(Figure::json).collect::<Vec<_>>(),
            "executorLagUnderLoad": self.executor_lag_under_load,
            "raceRevert": self.race_revert,
            "claimsUnderLoad": self.claims_under_load,
            "idleDisk": self.idle_disk,
        })
    }
}

/// SHA-256 throughput of one core, MB/s (64-byte messages, as the state tree hashes).
pub fn sha256_mb_per_s() -> f64 {
    use sha2::{Digest, Sha256};
    let mut node = [7u8; 64];
    let n = 400_000usize;
    let started = Instant::now();
    for _ in 0..n {
        let h = Sha256::digest(node);
        node[..32].copy_from_slice(&h);
    }
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    std::hint::black_box(node);
    (n * 64) as f64 / secs / 1e6
}

/// secp256k1 sender recoveries per second on one core.
pub fn recoveries_per_s() -> f64 {
    use secp256k1::ecdsa::RecoverableSignature;
    use secp256k1::{Message, SecretKey, SECP256K1};
    let key = SecretKey::from_byte_array([3u8; 32]).expect("a valid constant key");
    let msg = Message::from_digest([9u8; 32]);
    let sig = SECP256K1.sign_ecdsa_recoverable(msg, &key);
    let (id, bytes) = sig.serialize_compact();
    let n = 4_000usize;
    let started = Instant::now();
    for _ in 0..n {
        let s = RecoverableSignature::from_compact(&bytes, id).expect("a signature just made");
        std::hint::black_box(SECP256K1.recover_ecdsa(msg, &s).ok());
    }
    n as f64 / started.elapsed().as_secs_f64().max(1e-9)
}

pub fn run(opts: &AllOptions) -> Result<AllReport, AllError> {
    let started = Instant::now();
    if let Some(parent) = opts.json.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|error| AllError::Write {
            path: parent.to_path_buf(),
            error,
        })?;
    }
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mut figures = Vec::new();

    eprintln!("[1/9] machine reference rates...");
    let sha = sha256_mb_per_s();
    let rec = recoveries_per_s();
    figures.push(fig(
        "machine",
        "SHA-256, one core (64-byte messages)",
        sha,
        "MB/s",
    ));
    figures.push(fig(
        "machine",
        "secp256k1 sender recovery, one core",
        rec,
        "1/s",
    ));

    eprintln!("[2/9] data chain (4 validator processes)...");
    let dc = crate::data_chain::run(&crate::data_chain::Options {
        exe: opts.exe.clone(),
        validators: 4,
        quick: opts.quick,
        keep: false,
    })?;
    let best = |key: fn(&crate::data_chain::Row) -> f64| {
        dc.rows
            .iter()
            .filter(|r| r.offered_tps > 0.0)
            .max_by(|a, b| key(a).total_cmp(&key(b)))
    };
    if let Some(r) = best(|r| r.finalized_tps) {
        figures.push(
            fig(
                "data chain",
                format!("finalized tx/s, best step ({})", r.workload),
                r.finalized_tps,
                "tx/s",
            )
            .against("target", 5_000.0),
        );
        if let Some(p99) = r.p99 {
            figures.push(fig(
                "data chain",
                format!(
                    "finality latency p99 at that step ({:.0} tx/s offered)",
                    r.offered_tps
                ),
                p99.as_secs_f64() * 1000.0,
                "ms",
            ));
        }
    }
    let latency: Vec<LatencyPoint> = dc
        .rows
        .iter()
        .filter(|r| r.offered_tps > 0.0)
        .filter_map(|r| {
            Some((
                r.workload.clone(),
                r.offered_tps,
                r.p50?.as_secs_f64() * 1000.0,
                r.p99?.as_secs_f64() * 1000.0,
            ))
        })
        .collect();
    let plot = opts.json.with_extension("latency.svg");
    latency_plot(&latency, &plot)?;
    eprintln!("       latency plot: {}", plot.display());
    if let Some(r) = best(|r| r.mb_per_s) {
        figures.push(
            fig(
                "data chain",
                format!("finalized MB/s, best step ({})", r.workload),
                r.mb_per_s,
                "MB/s",
            )
            .against("target", 10.0),
        );
    }
    // The first row is the idle latency: one transaction at a time.
    if let Some(idle) = dc.rows.first() {
        for (q, v) in [("p50", idle.p50), ("p99", idle.p99)] {
            if let Some(v) = v {
                figures.push(fig(
                    "data chain",
                    format!("finality latency {q}, idle"),
                    v.as_secs_f64() * 1000.0,
                    "ms",
                ));
            }
        }
    }

    eprintln!("[3/9] executor (in-process)...");
    let ex = crate::exec::run(&crate::exec::Options {
        quick: opts.quick,
        accounts: if opts.quick { 10_000 } else { 100_000 },
        seed: 0,
    })?;
    for case in &ex.cases {
        let name = format!("{} x {}", case.kind.name(), case.txs_per_block);
        if let (Some(end), Some(raw)) = (case.tps(Stage::RedbDurable), case.tps(Stage::RawRevm)) {
            figures.push(
                fig(
                    "executor",
                    format!("{name}: end to end (fsynced)"),
                    end,
                    "tx/s",
                )
                .against("raw revm, same txs", raw),
            );
        }
        if let (Some(live), Some(raw)) = (
            case.tps(Stage::RedbDurableKnownSenders),
            case.tps(Stage::RawRevm),
        ) {
            figures.push(
                fig(
                    "executor",
                    format!("{name}: live (senders known)"),
                    live,
                    "tx/s",
                )
                .against("raw revm, same txs", raw),
            );
        }
        if let Some((commit, raw)) = case.commit_vs_raw_ms() {
            figures.push(
                fig(
                    "executor",
                    format!("{name}: block commit, fsynced"),
                    commit,
                    "ms",
                )
                .against("raw redb commit, same state writes", raw),
            );
        }
    }

    eprintln!("[4/9] fraud proofs (in-process)...");
    let fr = crate::fraud::run(&crate::fraud::Options {
        quick: opts.quick,
        accounts: if opts.quick { 10_000 } else { 100_000 },
        seed: 0,
    })?;
    for case in &fr.cases {
        let name = format!("{} x {}", case.kind.name(), case.txs_per_block);
        for (what, value, unit, target) in [
            (
                "size excl. code",
                case.sizes.excl_code() as f64,
                "B",
                4_096.0,
            ),
            (
                "generation",
                case.generation_total().as_secs_f64() * 1000.0,
                "ms",
                50.0,
            ),
            (
                "verification p50",
                case.verification_p50().as_secs_f64() * 1000.0,
                "ms",
                1.0,
            ),
        ] {
            figures.push(
                fig("fraud proof", format!("{name}: {what}"), value, unit)
                    .against("target", target),
            );
        }
    }

    eprintln!("[5/9] scaling: executor and state database by state size...");
    for accounts in [10_000usize, 100_000, 1_000_000] {
        let w = crate::exec::build(crate::exec::Kind::Transfer, 1_000, 6, accounts, 0)?;
        let m = crate::exec::run_stage(&w, Stage::RedbDurable, 1)?;
        let tps = m.txs_per_block as f64 / m.median().as_secs_f64().max(1e-9);
        figures.push(fig(
            "scaling",
            format!("executor, 1,000-transfer blocks, {accounts} accounts"),
            tps,
            "tx/s",
        ));
        // Senders, recipients and the filler accounts all live in the state.
        let per_account = m.db_bytes as f64 / (accounts + 2_000) as f64;
        figures.push(
            fig(
                "scaling",
                format!(
                    "state database per million accounts ({accounts} accounts, after 6 blocks)"
                ),
                per_account * 1e6 / 1e9,
                "GB",
            )
            .against("target", 0.5),
        );
    }
    if !opts.quick {
        for validators in [7usize, 10] {
            eprintln!("       data chain with {validators} validators...");
            let dc = crate::data_chain::run(&crate::data_chain::Options {
                exe: opts.exe.clone(),
                validators,
                quick: true,
                keep: false,
            })?;
            if let Some(r) = dc
                .rows
                .iter()
                .filter(|r| r.offered_tps > 0.0)
                .max_by(|a, b| a.finalized_tps.total_cmp(&b.finalized_tps))
            {
                figures.push(fig(
                    "scaling",
                    format!("data chain, {validators} validators: finalized tx/s"),
                    r.finalized_tps,
                    "tx/s",
                ));
            }
            if let Some(p50) = dc.rows.first().and_then(|r| r.p50) {
                figures.push(fig(
                    "scaling",
                    format!("data chain, {validators} validators: idle finality p50"),
                    p50.as_secs_f64() * 1000.0,
                    "ms",
                ));
            }
        }
    }

    eprintln!("[6/9] executor lag over time (4 validators + 1 executor under load)...");
    let (lag, claims) = crate::lag::run_measuring_claims(&crate::lag::LagOptions {
        exe: opts.exe.clone(),
        rate: LAG_TRANSFERS_PER_S,
        seconds: if opts.quick { 10 } else { 30 },
    })?;
    if let (Some(first), Some(last)) = (lag.first(), lag.last()) {
        let blocks = last.data_height.saturating_sub(first.data_height);
        let secs = (last.at - first.at).as_secs_f64().max(1e-9);
        figures.push(fig(
            "executor lag",
            "data chain blocks/s during the lag run",
            blocks as f64 / secs,
            "blocks/s",
        ));
    }
    figures.push(fig(
        "executor lag",
        "largest lag under 2,000 transfers/s offered",
        lag.iter().map(|s| s.lag()).max().unwrap_or(0) as f64,
        "blocks",
    ));
    figures.push(fig(
        "executor lag",
        "lag at the end (10 s after the load stopped)",
        lag.last().map(|s| s.lag()).unwrap_or(0) as f64,
        "blocks",
    ));

    figures.extend(claim_figures(&claims, LAG_TRANSFERS_PER_S));
    let claims_under_load = Some(claims_json(&claims, LAG_TRANSFERS_PER_S));

    let lag_figures_at = figures.len();

    eprintln!("[7/9] fraud proofs on a local network (a wrong-root liar, then a racing liar)...");
    let disputes = crate::fraud_net::run(&crate::fraud_net::NetOptions {
        exe: opts.exe.clone(),
        runs: 1,
    })?;
    for d in &disputes {
        figures.push(
            fig(
                "fraud proof",
                "blocks from bad claim to revert",
                d.blocks() as f64,
                "blocks",
            )
            .against("target", crate::fraud_net::TARGET_REVERT_BLOCKS as f64),
        );
        figures.push(fig(
            "fraud proof",
            "time from bad claim to revert",
            d.included_to_revert.as_secs_f64() * 1000.0,
            "ms",
        ));
    }
    let race = crate::fraud_net::run_race(&opts.exe)?;
    figures.extend(race_figures(&race));
    let race_revert = Some(race_json(&race));
    eprintln!("[8/9] lazy vs coupled (the same workloads through both designs)...");
    let versus = crate::coupled::run(&crate::coupled::CoupledOptions {
        exe: opts.exe.clone(),
        quick: opts.quick,
    })?;
    figures.extend(coupled_figures(&versus));
    let executor_lag_under_load = saturated_lag(&versus).map(|(row, window_ms)| {
        let lag = saturated_lag_figures(row, window_ms);
        figures.splice(lag_figures_at..lag_figures_at, lag);
        saturated_lag_json(row, window_ms)
    });
    // Lag over time: the steady transfer load of step 6, and each lazy-vs-coupled run where
    // execution is heavy (the lazy executor falls behind; the coupled chain cannot).
    let mut series: Vec<(String, &[crate::lag::LagSample])> =
        vec![("W1 transfers 2,000/s, lazy (step 6)".to_owned(), &lag)];
    for row in versus
        .rows
        .iter()
        .filter(|r| r.workload.starts_with("W3") && r.lag_max.is_some())
    {
        series.push((
            format!(
                "{} {:.0}/s, {}",
                row.workload,
                row.offered_tps,
                row.mode.name()
            ),
            &row.lag,
        ));
    }
    eprintln!("[9/9] an idle default network (4 validators, 2 executors, no load): disk growth...");
    let (warmup, measure) = idle_disk_durations(opts.quick);
    let idle = crate::soak::idle_disk_growth(&opts.exe, warmup, measure)?;
    figures.extend(idle_figures(&idle));
    let idle_disk = Some(idle_json(&idle));

    let lag_plot = opts.json.with_extension("lag.svg");
    crate::lag::plot_series(&series, &lag_plot).map_err(|error| AllError::Plot {
        path: lag_plot.clone(),
        error,
    })?;
    eprintln!("       lag plot: {}", lag_plot.display());

    let report = AllReport {
        quick: opts.quick,
        cores,
        figures,
        elapsed: started.elapsed(),
        executor_lag_under_load,
        race_revert,
        claims_under_load,
        idle_disk,
    };
    let text = serde_json::to_string_pretty(&report.json()).unwrap_or_default();
    std::fs::write(&opts.json, text).map_err(|error| AllError::Write {
        path: opts.json.clone(),
        error,
    })?;
    Ok(report)
}

/// The lazy-vs-coupled rows as figures: each lazy value against the coupled one (data-decided
/// throughput and latency for both lazy modes; state-final throughput and latency and the
/// executor's lag for lazy + executor), and the headline: state-final tx/s on the
/// compute-heavy workload, lazy + executor over coupled, against its goal.
fn coupled_figures(report: &crate::coupled::CoupledReport) -> Vec<Figure> {
    use crate::coupled::Mode;
    let mut out = Vec::new();
    let ms = |d: Option<Duration>| d.map(|d| d.as_secs_f64() * 1000.0);
    for mode in [Mode::Lazy, Mode::LazyWithExecutor] {
        for (lazy, coupled) in report.pairs(mode) {
            let w = format!("{} at {:.0}/s offered", lazy.workload, lazy.offered_tps);
            let m = mode.name();
            // The lazy value of `what` against the coupled one, named `other`.
            let versus = |what: &str, unit: &'static str, l: f64, other: &str, c: f64| {
                fig("lazy vs coupled", format!("{w}: {what}, {m}"), l, unit).against(other, c)
            };
            out.push(versus(
                "data-decided tx/s",
                "tx/s",
                lazy.decided_tps,
                "coupled",
                coupled.decided_tps,
            ));
            for (q, l, c) in [
                ("p50", ms(lazy.p50), ms(coupled.p50)),
                ("p99", ms(lazy.p99), ms(coupled.p99)),
            ] {
                if let (Some(l), Some(c)) = (l, c) {
                    out.push(versus(&format!("data finality {q}"), "ms", l, "coupled", c));
                }
            }
            let state_final = "coupled (state-final = decided)";
            if let (Some(l), Some(c)) = (lazy.state_final_tps, coupled.state_final_tps) {
                out.push(versus("state-final tx/s", "tx/s", l, state_final, c));
            }
            if let (Some(l), Some(c)) = (ms(lazy.state_final_p50), ms(coupled.state_final_p50)) {
                out.push(versus("state finality p50", "ms", l, state_final, c));
            }
            if let (Some(l), Some(c)) = (lazy.lag_at_load_end, coupled.lag_at_load_end) {
                out.push(versus(
                    "executor lag at load end",
                    "blocks",
                    l.blocks as f64,
                    "coupled",
                    c.blocks as f64,
                ));
                out.push(versus(
                    "executor lag at load end (block timestamps)",
                    "ms",
                    l.ms as f64,
                    "coupled",
                    c.ms as f64,
                ));
            }
        }
    }
    // Data-decided throughput on the compute-heavy workload at its highest rate: what the
    // data chain orders, with nothing said about state.
    if let Some((lazy, coupled)) = report
        .pairs(Mode::Lazy)
        .into_iter()
        .filter(|(lazy, _)| lazy.workload.starts_with("W3"))
        .max_by(|a, b| a.0.offered_tps.total_cmp(&b.0.offered_tps))
        .filter(|(_, coupled)| coupled.decided_tps > 0.0)
    {
        out.push(fig(
            "lazy vs coupled",
            format!(
                "{} at {:.0}/s offered: lazy / coupled data-decided tx/s (data only, not state)",
                lazy.workload, lazy.offered_tps
            ),
            lazy.decided_tps / coupled.decided_tps,
            "x",
        ));
    }
    // The headline: state-final throughput where execution is the bottleneck.
    if let Some((lazy, coupled)) = report.headline() {
        if let (Some(l), Some(c)) = (lazy.state_final_tps, coupled.state_final_tps) {
            if c > 0.0 {
                out.push(
                    fig(
                        "lazy vs coupled",
                        format!(
                            "{} at {:.0}/s offered: lazy + executor / coupled state-final tx/s",
                            lazy.workload, lazy.offered_tps
                        ),
                        l / c,
                        "x",
                    )
                    .against("goal", crate::coupled::STATE_FINAL_GOAL),
                );
            }
        }
    }
    out
}

/// The lazy + executor row of the compute-heavy workload at its highest offered rate (far
/// over the execution budget, so the budget is saturated), and the challenge window it ran
/// with.
fn saturated_lag(
    report: &crate::coupled::CoupledReport,
) -> Option<(&crate::coupled::ModeRow, u64)> {
    let (row, _) = report.headline()?;
    row.lag_max?;
    Some((row, report.challenge_window_ms))
}

/// The lag an honest executor may have while the window still catches a lie: the window
/// minus the detection margin (the tolerated stall plus a burst's catch-up, ADR 007).
fn tolerated_lag_ms(window_ms: u64) -> f64 {
    window_ms.saturating_sub(lazychain_config::DETECTION_MARGIN_MS) as f64
}

fn saturated_lag_figures(row: &crate::coupled::ModeRow, window_ms: u64) -> Vec<Figure> {
    let what = format!(
        "under a saturating compute-heavy load ({} at {:.0}/s offered, budget {} M gas/s)",
        row.workload,
        row.offered_tps,
        lazychain_config::DEFAULT_GAS_PER_SECOND / 1_000_000
    );
    let mut out = Vec::new();
    let tolerated = tolerated_lag_ms(window_ms);
    for (when, lag) in [
        ("largest lag", row.lag_max),
        ("lag at the end of the load", row.lag_at_load_end),
    ] {
        let Some(lag) = lag else { continue };
        out.push(
            fig(
                "executor lag",
                format!("{when} {what}, block timestamps"),
                lag.ms as f64,
                "ms",
            )
            .against(
                "tolerated by the window (stall + burst catch-up)",
                tolerated,
            ),
        );
        out.push(fig(
            "executor lag",
            format!("{when} {what}"),
            lag.blocks as f64,
            "blocks",
        ));
    }
    out
}

fn saturated_lag_json(row: &crate::coupled::ModeRow, window_ms: u64) -> Value {
    let lag = |l: Option<crate::coupled::Lag>| l.map(|l| json!({ "blocks": l.blocks, "ms": l.ms }));
    json!({
        "workload": row.workload,
        "offeredTps": row.offered_tps,
        "gasPerSecond": lazychain_config::DEFAULT_GAS_PER_SECOND,
        "gasBurst": lazychain_config::DEFAULT_GAS_BURST,
        "declaredGasPerSecond": row.declared_gas_per_s,
        "decidedTps": row.decided_tps,
        "challengeWindowMs": window_ms,
        "toleratedLagMs": tolerated_lag_ms(window_ms),
        "max": lag(row.lag_max),
        "atLoadEnd": lag(row.lag_at_load_end),
    })
}

/// The transfer load of the lag run (step 6): the heaviest transfer load `bench all` puts on a
/// network with an executor in both the quick and the full run, so the one under which claims
/// are measured. (The data-chain steps offer more, but run no executor, so carry no claims.)
const LAG_TRANSFERS_PER_S: f64 = 2_000.0;

/// How long the idle network warms up and then is measured: about 2 minutes in the quick run,
/// 5 in the full one.
fn idle_disk_durations(quick: bool) -> (Duration, Duration) {
    if quick {
        (Duration::from_secs(30), Duration::from_secs(120))
    } else {
        (Duration::from_secs(60), Duration::from_secs(300))
    }
}

fn claim_figures(c: &crate::claims::ClaimInclusion, rate: f64) -> Vec<Figure> {
    let under = format!("under {rate:.0} transfers/s offered (1 executor)");
    let mut out = vec![
        fig(
            "claims",
            format!("claim items per block {under}, mean"),
            c.items_per_block_mean,
            "items",
        ),
        fig(
            "claims",
            format!("claim items per block {under}, max"),
            c.items_per_block_max as f64,
            "items",
        ),
        fig(
            "claims",
            format!("bytes per claim item (signed claim + trace) {under}, mean"),
            c.bytes_per_claim_mean,
            "B",
        ),
        fig(
            "claims",
            format!("bytes per claim item {under}, max"),
            c.bytes_per_claim_max as f64,
            "B",
        ),
        fig(
            "claims",
            format!("claims not included when read (10 s after the load) {under}"),
            c.not_included as f64,
            "claims",
        ),
    ];
    for (q, blocks, ms) in [
        ("p50", c.delay_blocks_p50, c.delay_ms_p50),
        ("p99", c.delay_blocks_p99, c.delay_ms_p99),
        ("max", c.delay_blocks_max, c.delay_ms_max),
    ] {
        if let Some(blocks) = blocks {
            out.push(fig(
                "claims",
                format!("inclusion delay {q} (claim's block to including block) {under}"),
                blocks as f64,
                "blocks",
            ));
        }
        if let Some(ms) = ms {
            out.push(fig(
                "claims",
                format!("inclusion delay {q}, block timestamps {under}"),
                ms as f64,
                "ms",
            ));
        }
    }
    out
}

fn claims_json(c: &crate::claims::ClaimInclusion, rate: f64) -> Value {
    json!({
        "offeredTransfersPerSecond": rate,
        "executors": 1,
        "blocks": { "from": c.from, "to": c.to },
        "items": c.items,
        "itemsPerBlock": { "mean": c.items_per_block_mean, "max": c.items_per_block_max },
        "bytesPerClaim": { "mean": c.bytes_per_claim_mean, "max": c.bytes_per_claim_max },
        "delayBlocks": { "p50": c.delay_blocks_p50, "p99": c.delay_blocks_p99, "max": c.delay_blocks_max },
        "delayMs": { "p50": c.delay_ms_p50, "p99": c.delay_ms_p99, "max": c.delay_ms_max },
        "claimsMeasured": c.delayed,
        "notIncluded": c.not_included,
    })
}

/// The idle network as figures: the worst node and the mean against the target, and the
/// blocks the idle chain still makes.
fn idle_figures(idle: &crate::soak::IdleDisk) -> Vec<Figure> {
    let per_node = idle.per_node_mb_per_hour();
    let target = crate::soak::IDLE_DISK_TARGET_MB_PER_HOUR;
    let mut out = Vec::new();
    if let Some((name, worst)) = per_node.iter().max_by(|a, b| a.1.total_cmp(&b.1)).cloned() {
        out.push(
            fig(
                "idle network",
                format!("disk growth per node per hour, idle, largest ({name})"),
                worst,
                "MB/h",
            )
            .against("target", target),
        );
        let mean = per_node.iter().map(|(_, v)| v).sum::<f64>() / per_node.len() as f64;
        out.push(
            fig(
                "idle network",
                "disk growth per node per hour, idle, mean",
                mean,
                "MB/h",
            )
            .against("target", target),
        );
    }
    out.push(fig(
        "idle network",
        "blocks per second, idle",
        idle.blocks_per_second(),
        "blocks/s",
    ));
    out
}

fn idle_json(idle: &crate::soak::IdleDisk) -> Value {
    let per_node = idle.per_node_mb_per_hour();
    json!({
        "seconds": idle.seconds,
        "blocks": idle.blocks,
        "targetMbPerHour": crate::soak::IDLE_DISK_TARGET_MB_PER_HOUR,
        "maxMbPerHour": per_node.iter().map(|(_, v)| *v).fold(f64::NEG_INFINITY, f64::max),
        "nodes": idle.nodes.iter().zip(&per_node).map(|((name, start, end), (_, rate))| json!({
            "node": name,
            "startBytes": start,
            "endBytes": end,
            "mbPerHour": rate,
        })).collect::<Vec<_>>(),
    })
}

fn race_figures(d: &crate::fraud_net::Dispute) -> Vec<Figure> {
    vec![
        fig(
            "fraud proof",
            "racing liar: blocks from its claim's inclusion to its revert",
            d.blocks() as f64,
            "blocks",
        ),
        fig(
            "fraud proof",
            "racing liar: time from its claim's inclusion to its revert",
            d.included_to_revert.as_secs_f64() * 1000.0,
            "ms",
        )
        .against(
            "challenge window",
            lazychain_config::DEFAULT_CHALLENGE_WINDOW_MS as f64,
        ),
    ]
}

fn race_json(d: &crate::fraud_net::Dispute) -> Value {
    json!({
        "fault": "race",
        "badHeight": d.bad_height,
        "claimIncludedAt": d.claim_included_at,
        "revertedAt": d.reverted_at,
        "blocks": d.blocks(),
        "ms": d.included_to_revert.as_millis() as u64,
        "proofBytes": d.proof_bytes,
        "liarClaimsReverted": d.liar_claims_reverted,
        "challengeWindowMs": lazychain_config::DEFAULT_CHALLENGE_WINDOW_MS,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_and_json_carry_every_figure_with_its_ratio() {
        let report = AllReport {
            quick: true,
            cores: 2,
            elapsed: Duration::from_secs(3),
            figures: vec![
                fig("executor", "W1", 15_000.0, "tx/s").against("raw revm", 30_000.0),
                fig("machine", "SHA-256", 500.0, "MB/s"),
            ],
            executor_lag_under_load: Some(json!({ "max": { "blocks": 3, "ms": 150 } })),
            race_revert: None,
            claims_under_load: None,
            idle_disk: Some(json!({ "maxMbPerHour": 1.5 })),
        };
        let table = report.table();
        assert!(
            table.contains("| executor | W1 | 15000.000 | tx/s | raw revm | 30000.000 | 0.50x |"),
            "{table}"
        );
        assert!(
            table.contains("| machine | SHA-256 | 500.000 | MB/s |  |  |  |"),
            "{table}"
        );
        let j = report.json();
        assert_eq!(j["figures"][0]["ratio"], 0.5);
        assert_eq!(j["figures"][1]["ratio"], Value::Null);
        assert_eq!(j["executorLagUnderLoad"]["max"]["ms"], 150);
        assert_eq!(j["raceRevert"], Value::Null);
        assert_eq!(j["idleDisk"]["maxMbPerHour"], 1.5);
    }

    #[test]
    fn the_latency_plot_is_an_svg_with_every_workload() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("latency.svg");
        let points = vec![
            ("transfer".to_owned(), 1000.0, 100.0, 150.0),
            ("transfer".to_owned(), 3000.0, 400.0, 900.0),
            ("1024B payload".to_owned(), 1000.0, 200.0, 300.0),
        ];
        latency_plot(&points, &path).expect("draws");
        let svg = std::fs::read_to_string(&path).expect("written");
        assert!(svg.starts_with("<svg"), "{}", &svg[..40.min(svg.len())]);
        assert!(svg.contains("transfer p50") && svg.contains("1024B payload p99"));
    }

    #[test]
    fn idle_growth_is_judged_on_the_worst_node_against_the_target() {
        let idle = crate::soak::IdleDisk {
            nodes: vec![
                ("validator-0".into(), 1_000_000, 1_100_000),
                ("executor-0".into(), 2_000_000, 2_500_000),
            ],
            seconds: 360.0,
            blocks: 36,
        };
        let figures = idle_figures(&idle);
        assert_eq!(figures.len(), 3);
        assert_eq!(
            figures[0].name,
            "disk growth per node per hour, idle, largest (executor-0)"
        );
        assert!((figures[0].value - 5.0).abs() < 1e-9);
        assert_eq!(figures[0].ratio(), Some(1.0));
        assert!((figures[1].value - 3.0).abs() < 1e-9);
        assert!((figures[2].value - 0.1).abs() < 1e-9);
        let j = idle_json(&idle);
        assert_eq!(j["maxMbPerHour"], 5.0);
        assert_eq!(j["nodes"][0]["mbPerHour"], 1.0);
        let (warmup, measure) = idle_disk_durations(true);
        assert!(warmup + measure <= Duration::from_secs(180));
    }

    #[test]
    fn claim_figures_name_the_load_and_skip_what_was_not_measured() {
        let c = crate::claims::ClaimInclusion {
            from: 10,
            to: 20,
            items: 11,
            items_per_block_mean: 1.0,
            items_per_block_max: 2,
            bytes_per_claim_mean: 3_400.0,
            bytes_per_claim_max: 6_000,
            delayed: 11,
            not_included: 0,
            delay_blocks_p50: Some(1),
            delay_blocks_p99: Some(2),
            delay_blocks_max: Some(2),
            delay_ms_p50: None,
            delay_ms_p99: None,
            delay_ms_max: None,
        };
        let figures = claim_figures(&c, 2_000.0);
        assert_eq!(figures.len(), 8, "{figures:?}");
        assert!(figures
            .iter()
            .all(|f| f.group == "claims" && f.name.contains("2000 transfers/s")));
        let j = claims_json(&c, 2_000.0);
        assert_eq!(j["delayBlocks"]["p99"], 2);
        assert_eq!(j["delayMs"]["p50"], Value::Null);
    }

    #[test]
    fn reference_rates_are_positive() {
        assert!(sha256_mb_per_s() > 0.0);
        assert!(recoveries_per_s() > 0.0);
    }
}
