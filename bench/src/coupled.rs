//! `lazychain bench coupled` (also part of `bench all`): lazy vs coupled, side by side. The
//! same three workloads (W1 ETH transfers, W2 ERC-20 transfers, W3 `Burner.burn` calls of
//! ~2.8M gas each, from [`crate::exec::build`]) run through two local networks of four
//! validator processes on this machine, one after the other in the same run:
//!
//! - **lazy**: the validators only order data; executors run elsewhere (not on this machine).
//! - **lazy + executor**: the same, plus one lazy executor sharing the two cores: its lag,
//!   and what it costs the validators when they share a machine with it.
//! - **coupled**: the validators run with `consensus.coupled_execution` (benchmarks only):
//!   the proposer executes a block before proposing it and every validator executes it before
//!   voting, as a classic chain does. No executor runs: the validators hold the state.
//!
//! The genesis funds every sender and deploys the contracts, so every transaction really
//! executes (the skipped count says if one did not). Load is open-loop at the same rate for
//! every mode; each sender's transactions go to one validator in nonce order. Reported per
//! workload and mode: decided tx/s (final on all validators while the load ran, over the load's
//! duration), finality latency p50/p99 of everything final when the window closed (the load
//! plus a drain), the transactions left undecided then,
//! and executor lag (decided height minus executed height; the coupled mode executes before
//! deciding, so its lag is 0 by construction and is measured the same way anyway).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy_primitives::{keccak256, B256};
use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::params::BatchRequestBuilder;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use lazychain_config::GenesisAccount;
use lazychain_localnet::{generate, GenerateOptions, Manifest};
use serde_json::Value;

use crate::data_chain::{BenchError, Net};
use crate::exec::{build, Kind, BURN_ROUNDS, CHAIN_ID};
use crate::lag::LagSample;
use crate::stats::{ms, quantile};

const VALIDATORS: usize = 4;

/// Which design a run measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Four lazy validators and nothing else on the machine: executors run elsewhere.
    Lazy,
    /// The same, plus one lazy executor sharing the two cores.
    LazyWithExecutor,
    /// Four validators that execute on the consensus path.
    Coupled,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::Lazy, Mode::LazyWithExecutor, Mode::Coupled];

    pub fn name(&self) -> &'static str {
        match self {
            Mode::Lazy => "lazy",
            Mode::LazyWithExecutor => "lazy + executor",
            Mode::Coupled => "coupled",
        }
    }
}

pub struct CoupledOptions {
    /// The `lazychain` binary to run the nodes with.
    pub exe: PathBuf,
    /// A short run (about three minutes on 2 cores).
    pub quick: bool,
}

/// One workload through one mode.
#[derive(Clone, Debug)]
pub struct ModeRow {
    pub workload: String,
    pub mode: Mode,
    pub offered_tps: f64,
    pub sent: usize,
    pub rejected: usize,
    /// Final on every validator within the window.
    pub finalized: usize,
    pub decided_tps: f64,
    pub p50: Option<Duration>,
    pub p99: Option<Duration>,
    /// Executed by the executor (lazy + executor) or the validators (coupled) when the
    /// window closed; `None` where nothing on this machine executes (lazy).
    pub executed_txs: Option<u64>,
    pub skipped_txs: Option<u64>,
    pub lag_at_load_end: Option<u64>,
    pub lag_max: Option<u64>,
    pub lag: Vec<LagSample>,
}

pub struct CoupledReport {
    pub cores: usize,
    pub load_seconds: u64,
    pub window_seconds: u64,
    pub rows: Vec<ModeRow>,
}

impl CoupledReport {
    /// Each `mode` row with the coupled row of the same workload and offered rate.
    pub fn pairs(&self, mode: Mode) -> Vec<(&ModeRow, &ModeRow)> {
        self.rows
            .iter()
            .filter(|r| r.mode == mode)
            .filter_map(|lazy| {
                let coupled = self.rows.iter().find(|r| {
                    r.mode == Mode::Coupled
                        && r.workload == lazy.workload
                        && r.offered_tps == lazy.offered_tps
                })?;
                Some((lazy, coupled))
            })
            .collect()
    }

    /// `mode`'s decided tx/s over the coupled mode's, per workload and offered rate.
    pub fn ratios(&self, mode: Mode) -> Vec<(String, f64)> {
        self.pairs(mode)
            .into_iter()
            .filter(|(_, coupled)| coupled.decided_tps > 0.0)
            .map(|(lazy, coupled)| {
                (
                    format!("{} at {:.0}/s", lazy.workload, lazy.offered_tps),
                    lazy.decided_tps / coupled.decided_tps,
                )
            })
            .collect()
    }

    pub fn table(&self) -> String {
        let mut out = format!(
            "lazy vs coupled: {VALIDATORS} validators (processes, loopback), {} cores; open-loop load for {} s; decided tx/s = final on all validators during the load; latency over everything final within {} s of the start\n\n",
            self.cores, self.load_seconds, self.window_seconds
        );
        out.push_str("| workload | mode | offered/s | sent | decided | decided tx/s | p50 ms | p99 ms | undecided at end | executed | skipped | lag at load end | lag max |\n");
        out.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for r in &self.rows {
            out.push_str(&format!(
                "| {} | {} | {:.0} | {} | {} | {:.1} | {} | {} | {} | {} | {} | {} | {} |\n",
                r.workload,
                r.mode.name(),
                r.offered_tps,
                r.sent,
                r.finalized,
                r.decided_tps,
                ms(r.p50),
                ms(r.p99),
                r.sent.saturating_sub(r.rejected + r.finalized),
                dash(r.executed_txs),
                dash(r.skipped_txs),
                dash(r.lag_at_load_end),
                dash(r.lag_max),
            ));
        }
        out.push('\n');
        for mode in [Mode::Lazy, Mode::LazyWithExecutor] {
            for (workload, ratio) in self.ratios(mode) {
                out.push_str(&format!(
                    "{workload}: {} / coupled decided tx/s = {ratio:.1}x\n",
                    mode.name()
                ));
            }
        }
        out
    }
}

fn dash(v: Option<u64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "-".into())
}

/// The workloads and the rate each is offered at (the same for both modes).
fn plan(quick: bool) -> Vec<(Kind, f64)> {
    let burn = Kind::Burn {
        rounds: BURN_ROUNDS,
    };
    // W3 twice: at a rate the lazy chain keeps up with (latency), and above what it can
    // decide (throughput).
    if quick {
        vec![
            (Kind::Transfer, 1500.0),
            (Kind::Erc20, 1000.0),
            (burn, 500.0),
            (burn, 1000.0),
        ]
    } else {
        vec![
            (Kind::Transfer, 2500.0),
            (Kind::Erc20, 2000.0),
            (burn, 500.0),
            (burn, 1000.0),
        ]
    }
}

pub fn run(opts: &CoupledOptions) -> Result<CoupledReport, BenchError> {
    let (load_seconds, tail_seconds) = if opts.quick { (8, 6) } else { (20, 10) };
    let mut rows = Vec::new();
    for (kind, rate) in plan(opts.quick) {
        // One transaction per sender per second: a sender's next nonce is sent a second after
        // the previous one, so it reaches the proposer after it.
        let senders = rate as usize;
        let workload = build(kind, senders, load_seconds as usize, 0, 11)
            .map_err(|e| BenchError::Rpc(format!("workload: {e}")))?;
        let alloc: Vec<GenesisAccount> = workload
            .alloc
            .iter()
            .map(|a| GenesisAccount {
                address: a.address,
                balance: a.balance,
                nonce: a.nonce,
                code: a.code.clone(),
                storage: a.storage.clone(),
            })
            .collect();
        for mode in Mode::ALL {
            eprintln!(
                "       {} / {}: {rate:.0} tx/s for {load_seconds} s...",
                kind.name(),
                mode.name()
            );
            let row = run_mode(
                opts,
                kind,
                mode,
                rate,
                &alloc,
                &workload.blocks,
                Duration::from_secs(load_seconds),
                Duration::from_secs(tail_seconds),
            )?;
            rows.push(row);
        }
    }
    Ok(CoupledReport {
        cores: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        load_seconds,
        window_seconds: load_seconds + tail_seconds,
        rows,
    })
}

#[allow(clippy::too_many_arguments)]
fn run_mode(
    opts: &CoupledOptions,
    kind: Kind,
    mode: Mode,
    rate: f64,
    alloc: &[GenesisAccount],
    seconds_of_txs: &[Vec<Vec<u8>>],
    load: Duration,
    tail: Duration,
) -> Result<ModeRow, BenchError> {
    let dir = tempfile::tempdir()?;
    let manifest = generate(&GenerateOptions {
        dir: dir.path().join("net"),
        validators: VALIDATORS,
        full_nodes: 0,
        executors: usize::from(mode == Mode::LazyWithExecutor),
        chain_id: CHAIN_ID,
        base_port: 0,
        seed: 3,
        config_overrides: vec![
            ("log.filter".into(), "warn".into()),
            ("mempool.max_txs".into(), "400000".into()),
            ("mempool.max_bytes".into(), "1073741824".into()),
            // A coupled height lasts as long as executing its block: a W3 block takes
            // seconds on a loaded machine, and a round lost to a timeout would only make the
            // coupled mode look worse. The same timeouts for both modes.
            ("consensus.timeout_propose_ms".into(), "10000".into()),
        ],
        challenge_window_ms: lazychain_config::DEFAULT_CHALLENGE_WINDOW_MS,
        min_window_blocks: None,
        min_corroboration: None,
        max_executor_stall_ms: None,
        gas_per_second: None,
        gas_burst: None,
        max_block_gas: None,
        extra_alloc: alloc.to_vec(),
        coupled: mode == Mode::Coupled,
    })?;
    let nodes = crate::procs::Running::start(&opts.exe, &manifest)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(measure(
        &manifest,
        kind,
        mode,
        rate,
        seconds_of_txs,
        load,
        tail,
    ));
    drop(nodes);
    result
}

fn http(url: &str) -> Result<HttpClient, BenchError> {
    HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(30))
        .max_request_size(64 << 20)
        .build(url)
        .map_err(|e| BenchError::Rpc(e.to_string()))
}

/// The sum of every sample of a Prometheus counter (any labels) on a `/metrics` page.
fn counter(text: &str, name: &str) -> u64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

async fn metrics_text(url: &str) -> String {
    // The metrics endpoint is plain HTTP/1.1; a tiny GET avoids another client dependency.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Some(rest) = url.strip_prefix("http://") else {
        return String::new();
    };
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let Ok(mut stream) = tokio::net::TcpStream::connect(host).await else {
        return String::new();
    };
    let request = format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).await.is_err() {
        return String::new();
    }
    let mut body = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut body)).await;
    String::from_utf8_lossy(&body).into_owned()
}

async fn measure(
    manifest: &Manifest,
    kind: Kind,
    mode: Mode,
    rate: f64,
    seconds_of_txs: &[Vec<Vec<u8>>],
    load: Duration,
    tail: Duration,
) -> Result<ModeRow, BenchError> {
    let validators: Vec<&lazychain_localnet::NodeEntry> = manifest
        .nodes
        .iter()
        .filter(|n| n.role == "validator")
        .collect();
    let net = Net::connect(&validators).await?;
    // Where lag is read: the executor (lazy), or a validator's coupled state (coupled).
    // Where execution is read: the executor (lazy + executor), or a validator's coupled
    // state (coupled). Nothing executes in the lazy-only run.
    let observed = match mode {
        Mode::Lazy => None,
        Mode::LazyWithExecutor => manifest.nodes.iter().find(|n| n.role == "executor"),
        Mode::Coupled => validators.first().copied(),
    };
    // The decided height is a validator's: the executor's own view of the data chain may
    // itself be behind.
    let decided = http(&validators[0].rpc_url)?;
    let status = observed.map(|n| http(&n.rpc_url)).transpose()?;
    let start = Instant::now();
    let window = load + tail;
    let stop = Arc::new(AtomicBool::new(false));
    let sampler_stop = stop.clone();
    let sampler = tokio::spawn(async move {
        let mut samples = Vec::new();
        let Some(status) = status else {
            return samples;
        };
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        while start.elapsed() < window && !sampler_stop.load(Ordering::Relaxed) {
            tick.tick().await;
            let (Ok(v), Ok(s)) = (
                decided
                    .request::<Value, _>("lazy_status", rpc_params![])
                    .await,
                status
                    .request::<Value, _>("lazy_status", rpc_params![])
                    .await,
            ) else {
                continue;
            };
            let executed = match mode {
                Mode::Coupled => s["coupled"]["executedHeight"].as_u64(),
                _ => s["executedHeight"].as_u64(),
            };
            if let (Some(data_height), Some(executed_height)) = (v["height"].as_u64(), executed) {
                samples.push(LagSample {
                    at: start.elapsed(),
                    data_height,
                    executed_height,
                });
            }
        }
        samples
    });

    // Every "second" of the workload holds one transaction per sender; it is sent in ticks.
    let tick = Duration::from_millis(50);
    let ticks_per_second = (1.0 / tick.as_secs_f64()).round() as usize;
    let mut submitted: Vec<(B256, Instant)> = Vec::new();
    let mut sent = 0usize;
    let mut rejected = 0usize;
    let mut next = start;
    for second in seconds_of_txs {
        let per_tick = second.len().div_ceil(ticks_per_second).max(1);
        for (t, chunk) in second.chunks(per_tick).enumerate() {
            tokio::time::sleep_until(next.into()).await;
            next += tick;
            // Sender j (position j of every second) always goes to validator j mod n.
            let mut batches: Vec<BatchRequestBuilder> = (0..net.rpc.len())
                .map(|_| BatchRequestBuilder::new())
                .collect();
            let mut hashes: Vec<Vec<B256>> = vec![Vec::new(); net.rpc.len()];
            for (k, raw) in chunk.iter().enumerate() {
                let sender = t * per_tick + k;
                let v = sender % net.rpc.len();
                let _ = batches[v].insert(
                    "eth_sendRawTransaction",
                    rpc_params![format!("0x{}", hex::encode(raw))],
                );
                hashes[v].push(keccak256(raw));
            }
            let requests = batches
                .into_iter()
                .zip(net.rpc.iter())
                .map(|(b, c)| async move { c.batch_request::<String>(b).await });
            let sent_at = Instant::now();
            let results = futures::future::join_all(requests).await;
            for (result, hashes) in results.into_iter().zip(hashes) {
                sent += hashes.len();
                match result {
                    Ok(resp) => {
                        for (hash, r) in hashes.into_iter().zip(resp.iter()) {
                            if r.is_ok() {
                                submitted.push((hash, sent_at));
                            } else {
                                rejected += 1;
                            }
                        }
                    }
                    Err(_) => rejected += hashes.len(),
                }
            }
        }
    }
    let load_end = start.elapsed();
    let deadline = start + window;
    while Instant::now() < deadline {
        if submitted.iter().all(|(h, _)| net.finalized_at(h).is_some()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let closed = Instant::now();
    let (executed_txs, skipped_txs) = match observed {
        None => (None, None),
        Some(node) => {
            let metrics = metrics_text(&node.metrics_url).await;
            let prefix = if mode == Mode::Coupled {
                "lazychain_coupled_"
            } else {
                "lazychain_"
            };
            (
                Some(counter(&metrics, &format!("{prefix}executed_txs_total"))),
                Some(counter(&metrics, &format!("{prefix}skipped_txs_total"))),
            )
        }
    };
    stop.store(true, Ordering::Relaxed);
    let lag = sampler
        .await
        .map_err(|e| BenchError::Rpc(format!("lag sampler: {e}")))?;

    // Throughput is what was decided while the load ran: robust to a few stragglers
    // decided seconds later, and to a backlog that drains after the load.
    let load_end_at = start + load_end;
    let mut latencies = Vec::new();
    let mut during_load = 0usize;
    for (hash, sent_at) in &submitted {
        if let Some(t) = net.finalized_at(hash).filter(|t| *t <= closed) {
            latencies.push(t.saturating_duration_since(*sent_at));
            if t <= load_end_at {
                during_load += 1;
            }
        }
    }
    latencies.sort();
    let span = load_end.as_secs_f64().max(1e-3);
    let executes = observed.is_some();
    let lag_at_load_end = executes.then(|| {
        lag.iter()
            .rfind(|s| s.at <= load_end)
            .map(LagSample::lag)
            .unwrap_or(0)
    });
    Ok(ModeRow {
        workload: kind.name().to_owned(),
        mode,
        offered_tps: rate,
        sent,
        rejected,
        finalized: latencies.len(),
        decided_tps: during_load as f64 / span,
        p50: quantile(&latencies, 0.5),
        p99: quantile(&latencies, 0.99),
        executed_txs,
        skipped_txs,
        lag_at_load_end,
        lag_max: executes.then(|| lag.iter().map(LagSample::lag).max().unwrap_or(0)),
        lag,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_sum_every_labelled_sample_and_ignore_longer_names() {
        let text = "# HELP lazychain_skipped_txs Transactions skipped\n\
                    lazychain_skipped_txs_total{moniker=\"a\"} 3\n\
                    lazychain_skipped_txs_total 2\n\
                    lazychain_skipped_txs_total_other 7\n";
        assert_eq!(counter(text, "lazychain_skipped_txs_total"), 5);
        assert_eq!(counter(text, "absent"), 0);
    }

    fn row(workload: &str, mode: Mode, decided_tps: f64) -> ModeRow {
        ModeRow {
            workload: workload.into(),
            mode,
            offered_tps: 100.0,
            sent: 100,
            rejected: 0,
            finalized: 90,
            decided_tps,
            p50: Some(Duration::from_millis(40)),
            p99: None,
            executed_txs: Some(90),
            skipped_txs: Some(0),
            lag_at_load_end: Some(2),
            lag_max: None,
            lag: Vec::new(),
        }
    }

    #[test]
    fn the_table_pairs_each_workload_with_its_ratio() {
        let report = CoupledReport {
            cores: 2,
            load_seconds: 8,
            window_seconds: 14,
            rows: vec![
                row("W3", Mode::Lazy, 400.0),
                row("W3", Mode::Coupled, 25.0),
                row("W1", Mode::Lazy, 1000.0),
            ],
        };
        assert_eq!(
            report.ratios(Mode::Lazy),
            vec![("W3 at 100/s".to_owned(), 16.0)]
        );
        let table = report.table();
        assert!(
            table.contains(
                "| W3 | coupled | 100 | 100 | 90 | 25.0 | 40.0 | - | 10 | 90 | 0 | 2 | - |"
            ),
            "{table}"
        );
        assert!(
            table.contains("W3 at 100/s: lazy / coupled decided tx/s = 16.0x"),
            "{table}"
        );
        // W1 has no coupled row: no ratio is made up for it.
        assert!(!table.contains("W1: lazy"), "{table}");
    }
}
