//! `lazychain bench coupled` (also part of `bench all`): lazy vs coupled, side by side. The
//! same three workloads (W1 ETH transfers, W2 ERC-20 transfers, W3 `Burner.burn` calls of
//! ~2.8M gas each, from [`crate::exec::build_priced`]) run through two local networks of four
//! validator processes on this machine, one after the other in the same run:
//!
//! - **lazy**: the validators only order data; executors run elsewhere (not on this machine).
//! - **lazy + executor**: the same, plus one lazy executor sharing the two cores: its lag,
//!   the state finality it gives (its claims become final after the challenge window), and
//!   what it costs the validators when they share a machine with it.
//! - **coupled**: the validators run with `consensus.coupled_execution` (benchmarks only):
//!   the proposer executes a block before proposing it and every validator executes it before
//!   voting, as a classic chain does. No executor runs: the validators hold the state, and a
//!   decided block's state is final with it.
//!
//! Every network has the default execution budget (ADR 007: 300M gas/s, 600M burst), so the
//! lazy chain takes on no more declared gas than the budget allows, and a challenge window at
//! its floor for a small executor stall ([`STALL_MS`]; [`challenge_window_ms`]), so that
//! claims become final within a run.
//!
//! The genesis funds every sender and deploys the contracts, so every transaction really
//! executes (the skipped count says if one did not). Load is open-loop at the same rate for
//! every mode; each sender's transactions go to one validator in nonce order. Reported per
//! workload and mode:
//!
//! - **data-decided tx/s**: decided on all validators while the load ran, over the load's
//!   duration (data finality only: for the lazy modes it says nothing about state);
//! - **state-final tx/s**: of those, the ones whose block is at or below the state-final
//!   height at the close (the load plus a tail longer than the challenge window), over the
//!   load's duration. The state-final height is validator 0's state-consensus
//!   `finalizedHeight` (lazy + executor; sampled every 250 ms and read at the close) or its
//!   coupled executed height (coupled: state is computed before a block is decided, so
//!   state-final is decided). Nothing on this machine executes in the lazy mode: no figure;
//! - finality latency p50/p99 (data, and state) of everything final at the close;
//! - declared gas per second of the blocks decided while the load ran (the budget's measure),
//!   and the header's base fee at the load's end;
//! - executor lag (decided height minus executed height, in blocks and in milliseconds of
//!   block timestamps; the coupled mode executes before deciding, so its lag is 0 by
//!   construction and is measured the same way anyway).

use std::collections::{BTreeMap, HashMap};
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
use crate::exec::{build_priced, Kind, BURN_ROUNDS, CHAIN_ID};
use crate::lag::LagSample;
use crate::stats::{ms, quantile};

const VALIDATORS: usize = 4;
/// The executor stall (`state.max_executor_stall_ms`) the benchmark's genesis is sized for:
/// small, so that the challenge window sits near its floor and claims become final within a
/// run.
pub const STALL_MS: u64 = 1_000;
const GWEI: u128 = 1_000_000_000;
/// Max fee per gas of every transaction: far above the 1 gwei floor, because the base fee
/// climbs (by up to 1/8 per second) while the load contests the execution budget; at `bench
/// exec`'s twice the floor the compute-heavy calls would be priced out after ~6 s of it.
const MAX_FEE_PER_GAS: u128 = 1_000 * GWEI;
/// The goal for the headline: state-final tx/s on the compute-heavy workload, lazy + executor
/// over coupled.
pub const STATE_FINAL_GOAL: f64 = 3.0;

/// The genesis challenge window of every run: the floor for a [`STALL_MS`] executor stall
/// under the default execution budget (`STALL_MS + 0.6 × gas_burst / gas_per_second + 5 s`,
/// 7.2 s).
pub fn challenge_window_ms() -> u64 {
    lazychain_config::challenge_window_floor_ms(
        STALL_MS,
        lazychain_config::DEFAULT_GAS_PER_SECOND,
        lazychain_config::DEFAULT_GAS_BURST,
    )
    .unwrap_or(lazychain_config::DEFAULT_CHALLENGE_WINDOW_MS)
}

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

    /// Whether something on this machine computes state, so that state finality is measured.
    pub fn executes(&self) -> bool {
        *self != Mode::Lazy
    }
}

pub struct CoupledOptions {
    /// The `lazychain` binary to run the nodes with.
    pub exe: PathBuf,
    /// A short run (about five minutes on 2 cores).
    pub quick: bool,
}

/// Executor lag at one moment: decided height minus executed height, and the same as the
/// difference of those blocks' timestamps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lag {
    pub blocks: u64,
    pub ms: u64,
}

/// One workload through one mode.
#[derive(Clone, Debug)]
pub struct ModeRow {
    pub workload: String,
    pub mode: Mode,
    pub offered_tps: f64,
    pub sent: usize,
    pub rejected: usize,
    /// Decided on every validator by the close.
    pub finalized: usize,
    /// Decided on every validator while the load ran, over the load's duration: data
    /// finality (for the lazy modes, nothing about state).
    pub decided_tps: f64,
    /// Data finality latency (decided on every validator) of everything decided by the close.
    pub p50: Option<Duration>,
    pub p99: Option<Duration>,
    /// Declared gas (the execution budget's measure) of the blocks decided while the load
    /// ran, per second of their timestamps.
    pub declared_gas_per_s: Option<f64>,
    /// The decided header's base fee per gas when the load ended (wei).
    pub base_fee_at_load_end: Option<u64>,
    /// Decided while the load ran and state-final by the close; `None` where nothing on this
    /// machine executes (lazy).
    pub state_final: Option<usize>,
    /// [`Self::state_final`] over the load's duration.
    pub state_final_tps: Option<f64>,
    /// From submission to state-final, of everything state-final by the close.
    pub state_final_p50: Option<Duration>,
    pub state_final_p99: Option<Duration>,
    /// The state-final height at the close.
    pub final_height: Option<u64>,
    /// Executed by the executor (lazy + executor) or the validators (coupled) when the
    /// window closed; `None` where nothing on this machine executes (lazy).
    pub executed_txs: Option<u64>,
    pub skipped_txs: Option<u64>,
    pub lag_at_load_end: Option<Lag>,
    /// The largest lag sampled, in blocks and in ms (each its own maximum).
    pub lag_max: Option<Lag>,
    pub lag: Vec<LagSample>,
}

pub struct CoupledReport {
    pub cores: usize,
    pub load_seconds: u64,
    pub window_seconds: u64,
    /// The genesis `state.challenge_window_ms` of every run.
    pub challenge_window_ms: u64,
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

    /// `mode`'s data-decided tx/s over the coupled mode's, per workload and offered rate.
    pub fn decided_ratios(&self, mode: Mode) -> Vec<(String, f64)> {
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

    /// State-final tx/s of lazy + executor over the coupled mode's, per workload and rate.
    pub fn state_final_ratios(&self) -> Vec<(String, f64)> {
        self.pairs(Mode::LazyWithExecutor)
            .into_iter()
            .filter_map(|(lazy, coupled)| {
                let (l, c) = (lazy.state_final_tps?, coupled.state_final_tps?);
                (c > 0.0).then(|| {
                    (
                        format!("{} at {:.0}/s", lazy.workload, lazy.offered_tps),
                        l / c,
                    )
                })
            })
            .collect()
    }

    /// The headline pair: the compute-heavy workload (W3) at its highest offered rate, lazy +
    /// executor and coupled.
    pub fn headline(&self) -> Option<(&ModeRow, &ModeRow)> {
        self.pairs(Mode::LazyWithExecutor)
            .into_iter()
            .filter(|(lazy, _)| lazy.workload.starts_with("W3"))
            .max_by(|a, b| a.0.offered_tps.total_cmp(&b.0.offered_tps))
    }

    pub fn table(&self) -> String {
        let mut out = format!(
            "lazy vs coupled: {VALIDATORS} validators (processes, loopback), {} cores; genesis execution budget {} M gas/s, burst {} M; challenge window {} ms (the floor for a {STALL_MS} ms executor stall), at least {} blocks; open-loop load for {} s, closed {} s after the start (or once everything is decided and, with an executor, state-final); data-decided tx/s = decided on all validators during the load; state-final tx/s = of those, in blocks at or below the state-final height at the close (lazy + executor: state consensus finalizedHeight; coupled: state is computed before deciding, so state-final = decided), over the load's duration; latency over everything final at the close; lag = decided height - executed height (blocks / ms of block timestamps)\n\n",
            self.cores,
            lazychain_config::DEFAULT_GAS_PER_SECOND / 1_000_000,
            lazychain_config::DEFAULT_GAS_BURST / 1_000_000,
            self.challenge_window_ms,
            lazychain_config::DEFAULT_MIN_WINDOW_BLOCKS,
            self.load_seconds,
            self.window_seconds
        );
        out.push_str("| workload | mode | offered/s | sent | decided | data-decided tx/s | declared Mgas/s | base fee at load end (gwei) | p50 ms | p99 ms | undecided at end | executed | skipped | state-final | state-final tx/s | state-final p50 ms | state-final p99 ms | lag at load end | lag max |\n");
        out.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for r in &self.rows {
            out.push_str(&format!(
                "| {} | {} | {:.0} | {} | {} | {:.1} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                r.workload,
                r.mode.name(),
                r.offered_tps,
                r.sent,
                r.finalized,
                r.decided_tps,
                r.declared_gas_per_s
                    .map(|g| format!("{:.0}", g / 1e6))
                    .unwrap_or_else(|| "-".into()),
                r.base_fee_at_load_end
                    .map(|f| format!("{:.2}", f as f64 / 1e9))
                    .unwrap_or_else(|| "-".into()),
                ms(r.p50),
                ms(r.p99),
                r.sent.saturating_sub(r.rejected + r.finalized),
                dash(r.executed_txs),
                dash(r.skipped_txs),
                dash(r.state_final.map(|n| n as u64)),
                r.state_final_tps
                    .map(|t| format!("{t:.1}"))
                    .unwrap_or_else(|| "-".into()),
                ms(r.state_final_p50),
                ms(r.state_final_p99),
                lag_cell(r.lag_at_load_end),
                lag_cell(r.lag_max),
            ));
        }
        out.push('\n');
        let headline = self
            .headline()
            .map(|(lazy, _)| format!("{} at {:.0}/s", lazy.workload, lazy.offered_tps));
        for (workload, ratio) in self.state_final_ratios() {
            let goal = if headline.as_deref() == Some(workload.as_str()) {
                format!(" (headline; goal >= {STATE_FINAL_GOAL:.0}x)")
            } else {
                String::new()
            };
            out.push_str(&format!(
                "{workload}: state-final tx/s, lazy + executor / coupled = {ratio:.1}x{goal}\n"
            ));
        }
        for mode in [Mode::Lazy, Mode::LazyWithExecutor] {
            for (workload, ratio) in self.decided_ratios(mode) {
                out.push_str(&format!(
                    "{workload}: data-decided tx/s (data only, not state), {} / coupled = {ratio:.1}x\n",
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

fn lag_cell(lag: Option<Lag>) -> String {
    lag.map(|l| format!("{} / {} ms", l.blocks, l.ms))
        .unwrap_or_else(|| "-".into())
}

/// The workloads and the rate each is offered at (the same for every mode).
fn plan(quick: bool) -> Vec<(Kind, f64)> {
    let burn = Kind::Burn {
        rounds: BURN_ROUNDS,
    };
    // W3 twice: within the execution budget (80 calls/s x 2.85M declared gas = 228M gas/s of
    // 300M), where the lazy chain decides what is offered (latency), and ten times over it
    // (throughput: what the budget lets through, against what coupled validators execute).
    if quick {
        vec![
            (Kind::Transfer, 1500.0),
            (Kind::Erc20, 1000.0),
            (burn, 80.0),
            (burn, 1000.0),
        ]
    } else {
        vec![
            (Kind::Transfer, 2500.0),
            (Kind::Erc20, 2000.0),
            (burn, 80.0),
            (burn, 1000.0),
        ]
    }
}

pub fn run(opts: &CoupledOptions) -> Result<CoupledReport, BenchError> {
    let window_ms = challenge_window_ms();
    // The tail outlasts the challenge window, so that what was decided during the load can
    // become state-final before the close.
    let load_seconds = if opts.quick { 8 } else { 20 };
    let tail_seconds = window_ms.div_ceil(1000) + if opts.quick { 6 } else { 10 };
    let mut rows = Vec::new();
    for (kind, rate) in plan(opts.quick) {
        // One transaction per sender per second: a sender's next nonce is sent a second after
        // the previous one, so it reaches the proposer after it.
        let senders = rate as usize;
        let workload = build_priced(kind, senders, load_seconds as usize, 0, 11, MAX_FEE_PER_GAS)
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
        challenge_window_ms: window_ms,
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
        // The default execution budget, and a window at its floor for a short stall.
        challenge_window_ms: challenge_window_ms(),
        min_window_blocks: None,
        min_corroboration: None,
        max_executor_stall_ms: Some(STALL_MS),
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

/// A number served either as JSON number or as a `0x` quantity.
fn num(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| {
        v.as_str()
            .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
    })
}

/// Validator 0's view: decided height, state consensus' finalized height, and (coupled) the
/// height its own state was executed to.
#[derive(Clone, Copy, Debug, Default)]
struct Heights {
    decided: u64,
    finalized: u64,
    coupled_executed: Option<u64>,
}

impl Heights {
    /// The height up to which state is final: state consensus' for the lazy design, the
    /// executed (= decided) height for the coupled one.
    fn state_final(&self, mode: Mode) -> u64 {
        match mode {
            Mode::Coupled => self.coupled_executed.unwrap_or(0),
            _ => self.finalized,
        }
    }
}

async fn heights(client: &HttpClient) -> Result<Heights, BenchError> {
    let s: Value = client
        .request("lazy_status", rpc_params![])
        .await
        .map_err(|e| BenchError::Rpc(format!("lazy_status: {e}")))?;
    Ok(Heights {
        decided: num(&s["height"]).unwrap_or(0),
        finalized: num(&s["stateConsensus"]["finalizedHeight"]).unwrap_or(0),
        coupled_executed: num(&s["coupled"]["executedHeight"]),
    })
}

/// What the benchmark reads of a decided block.
struct BlockInfo {
    timestamp_ms: u64,
    gas_limit_sum: u64,
    base_fee: u64,
    txs: Vec<B256>,
}

/// Decided blocks `1..=to` as validator 0 serves them, in batches.
async fn blocks(client: &HttpClient, to: u64) -> Result<BTreeMap<u64, BlockInfo>, BenchError> {
    let mut out = BTreeMap::new();
    let mut from = 1;
    while from <= to {
        let end = (from + 49).min(to);
        let mut batch = BatchRequestBuilder::new();
        for h in from..=end {
            batch
                .insert("lazy_getDataBlock", rpc_params![h])
                .map_err(|e| BenchError::Rpc(e.to_string()))?;
        }
        let response = client
            .batch_request::<Value>(batch)
            .await
            .map_err(|e| BenchError::Rpc(format!("lazy_getDataBlock: {e}")))?;
        for (h, block) in (from..=end).zip(response) {
            let Ok(b) = block else { continue };
            if b.is_null() {
                continue;
            }
            out.insert(
                h,
                BlockInfo {
                    timestamp_ms: num(&b["timestampMs"]).unwrap_or(0),
                    gas_limit_sum: num(&b["gasLimitSum"]).unwrap_or(0),
                    base_fee: num(&b["baseFeePerGas"]).unwrap_or(0),
                    txs: b["txHashes"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|t| t.as_str()?.parse::<B256>().ok())
                        .collect(),
                },
            );
        }
        from = end + 1;
    }
    Ok(out)
}

/// One sample of the run: where validator 0 has decided, where the execution observed has
/// executed, and how far state is final.
#[derive(Clone, Copy, Debug)]
struct Sample {
    at: Duration,
    data_height: u64,
    executed_height: u64,
    final_height: u64,
}

/// The lag of a sample, in blocks and in ms of the two blocks' timestamps.
fn lag_of(s: &Sample, blocks: &BTreeMap<u64, BlockInfo>) -> Lag {
    let ts = |h: u64| blocks.get(&h.max(1)).map(|b| b.timestamp_ms);
    Lag {
        blocks: s.data_height.saturating_sub(s.executed_height),
        ms: match (ts(s.data_height), ts(s.executed_height)) {
            (Some(decided), Some(executed)) => decided.saturating_sub(executed),
            _ => 0,
        },
    }
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
    // Where execution is read: the executor (lazy + executor), or a validator's coupled
    // state (coupled). Nothing executes in the lazy-only run.
    let observed = match mode {
        Mode::Lazy => None,
        Mode::LazyWithExecutor => manifest.nodes.iter().find(|n| n.role == "executor"),
        Mode::Coupled => validators.first().copied(),
    };
    // Decided and state-final heights are validator 0's: the executor's own view of the data
    // chain may itself be behind.
    let v0 = http(&validators[0].rpc_url)?;
    let sampler_v0 = http(&validators[0].rpc_url)?;
    let status = observed.map(|n| http(&n.rpc_url)).transpose()?;
    let start_height = heights(&v0).await?.decided;
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
                heights(&sampler_v0).await,
                status
                    .request::<Value, _>("lazy_status", rpc_params![])
                    .await,
            ) else {
                continue;
            };
            let executed = match mode {
                Mode::Coupled => num(&s["coupled"]["executedHeight"]),
                _ => num(&s["executedHeight"]),
            };
            if let Some(executed_height) = executed {
                samples.push(Sample {
                    at: start.elapsed(),
                    data_height: v.decided,
                    executed_height,
                    final_height: v.state_final(mode),
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
    let load_end_height = heights(&v0).await.map(|h| h.decided).unwrap_or(0);
    // The close: the window's end, or earlier once everything is decided and (with an
    // executor) state-final up to the height it was all decided by.
    let deadline = start + window;
    let mut all_decided_by: Option<u64> = None;
    while Instant::now() < deadline {
        if all_decided_by.is_none() && submitted.iter().all(|(h, _)| net.finalized_at(h).is_some())
        {
            if mode != Mode::LazyWithExecutor {
                break;
            }
            all_decided_by = Some(heights(&v0).await.map(|h| h.decided).unwrap_or(u64::MAX));
        }
        if let Some(target) = all_decided_by {
            if heights(&v0).await.is_ok_and(|h| h.finalized >= target) {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let closed = Instant::now();
    let at_close = heights(&v0).await?;
    let final_at_close = mode.executes().then(|| at_close.state_final(mode));
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
    let samples = sampler
        .await
        .map_err(|e| BenchError::Rpc(format!("lag sampler: {e}")))?;
    let blocks = blocks(&v0, at_close.decided.max(load_end_height)).await?;
    let height_of: HashMap<B256, u64> = blocks
        .iter()
        .flat_map(|(h, b)| b.txs.iter().map(move |t| (*t, *h)))
        .collect();

    // Throughput is what was decided while the load ran: robust to a few stragglers
    // decided seconds later, and to a backlog that drains after the load.
    let load_end_at = start + load_end;
    let mut latencies = Vec::new();
    let mut final_latencies = Vec::new();
    let mut during_load = 0usize;
    let mut final_during_load = 0usize;
    for (hash, sent_at) in &submitted {
        let decided = net.finalized_at(hash).filter(|t| *t <= closed);
        if let Some(t) = decided {
            latencies.push(t.saturating_duration_since(*sent_at));
            if t <= load_end_at {
                during_load += 1;
            }
        }
        let (Some(final_height), Some(height)) = (final_at_close, height_of.get(hash)) else {
            continue;
        };
        if *height > final_height {
            continue;
        }
        // When its state became final: when it was decided (coupled), or the first sample
        // whose finalized height reached its block (lazy), else the close.
        let final_at = match mode {
            Mode::Coupled => decided,
            _ => samples
                .iter()
                .find(|s| s.final_height >= *height)
                .map(|s| start + s.at),
        }
        .unwrap_or(closed);
        final_latencies.push(final_at.saturating_duration_since(*sent_at));
        if decided.is_some_and(|t| t <= load_end_at) {
            final_during_load += 1;
        }
    }
    latencies.sort();
    final_latencies.sort();
    let span = load_end.as_secs_f64().max(1e-3);
    let declared_gas_per_s = match (blocks.get(&start_height), blocks.get(&load_end_height)) {
        (Some(first), Some(last)) if last.timestamp_ms > first.timestamp_ms => {
            let gas: u64 = blocks
                .range(start_height + 1..=load_end_height)
                .map(|(_, b)| b.gas_limit_sum)
                .sum();
            Some(gas as f64 * 1000.0 / (last.timestamp_ms - first.timestamp_ms) as f64)
        }
        _ => None,
    };
    let executes = observed.is_some();
    let lags: Vec<(Duration, Lag)> = samples.iter().map(|s| (s.at, lag_of(s, &blocks))).collect();
    let lag_at_load_end = executes.then(|| {
        lags.iter()
            .rfind(|(at, _)| *at <= load_end)
            .map(|(_, l)| *l)
            .unwrap_or_default()
    });
    let lag_max = executes.then(|| Lag {
        blocks: lags.iter().map(|(_, l)| l.blocks).max().unwrap_or(0),
        ms: lags.iter().map(|(_, l)| l.ms).max().unwrap_or(0),
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
        declared_gas_per_s,
        base_fee_at_load_end: blocks.get(&load_end_height).map(|b| b.base_fee),
        state_final: final_at_close.map(|_| final_during_load),
        state_final_tps: final_at_close.map(|_| final_during_load as f64 / span),
        state_final_p50: quantile(&final_latencies, 0.5),
        state_final_p99: quantile(&final_latencies, 0.99),
        final_height: final_at_close,
        executed_txs,
        skipped_txs,
        lag_at_load_end,
        lag_max,
        lag: samples
            .iter()
            .map(|s| LagSample {
                at: s.at,
                data_height: s.data_height,
                executed_height: s.executed_height,
            })
            .collect(),
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

    #[test]
    fn the_window_sits_at_the_floor_for_a_short_stall() {
        // 1 s stall + 0.6 x 600M / 300M s + 5 s detection margin.
        assert_eq!(challenge_window_ms(), 7_200);
    }

    #[test]
    fn lag_is_read_in_blocks_and_in_block_timestamps() {
        let blocks: BTreeMap<u64, BlockInfo> = (1..=10)
            .map(|h| {
                (
                    h,
                    BlockInfo {
                        timestamp_ms: 1_000 + 50 * h,
                        gas_limit_sum: 0,
                        base_fee: 0,
                        txs: Vec::new(),
                    },
                )
            })
            .collect();
        let s = Sample {
            at: Duration::ZERO,
            data_height: 9,
            executed_height: 3,
            final_height: 0,
        };
        assert_eq!(lag_of(&s, &blocks), Lag { blocks: 6, ms: 300 });
        assert_eq!(num(&Value::from("0x3b9aca00")), Some(1_000_000_000));
    }

    fn row(workload: &str, mode: Mode, decided_tps: f64, state_final_tps: Option<f64>) -> ModeRow {
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
            declared_gas_per_s: Some(300e6),
            base_fee_at_load_end: Some(2_500_000_000),
            state_final: state_final_tps.map(|t| t as usize),
            state_final_tps,
            state_final_p50: None,
            state_final_p99: None,
            final_height: state_final_tps.map(|_| 7),
            executed_txs: Some(90),
            skipped_txs: Some(0),
            lag_at_load_end: Some(Lag { blocks: 2, ms: 80 }),
            lag_max: None,
            lag: Vec::new(),
        }
    }

    #[test]
    fn the_table_pairs_each_workload_with_its_ratios() {
        let report = CoupledReport {
            cores: 2,
            load_seconds: 8,
            window_seconds: 22,
            challenge_window_ms: 7_200,
            rows: vec![
                row("W3", Mode::Lazy, 400.0, None),
                row("W3", Mode::LazyWithExecutor, 100.0, Some(75.0)),
                row("W3", Mode::Coupled, 25.0, Some(25.0)),
                row("W1", Mode::Lazy, 1000.0, None),
            ],
        };
        assert_eq!(
            report.decided_ratios(Mode::Lazy),
            vec![("W3 at 100/s".to_owned(), 16.0)]
        );
        assert_eq!(
            report.state_final_ratios(),
            vec![("W3 at 100/s".to_owned(), 3.0)]
        );
        let table = report.table();
        assert!(
            table.contains(
                "| W3 | coupled | 100 | 100 | 90 | 25.0 | 300 | 2.50 | 40.0 | - | 10 | 90 | 0 | 25 | 25.0 | - | - | 2 / 80 ms | - |"
            ),
            "{table}"
        );
        assert!(
            table.contains("| W3 | lazy | 100 | 100 | 90 | 400.0 | 300 | 2.50 | 40.0 | - | 10 | 90 | 0 | - | - |"),
            "{table}"
        );
        assert!(
            table.contains(
                "W3 at 100/s: state-final tx/s, lazy + executor / coupled = 3.0x (headline; goal >= 3x)"
            ),
            "{table}"
        );
        assert!(
            table.contains(
                "W3 at 100/s: data-decided tx/s (data only, not state), lazy / coupled = 16.0x"
            ),
            "{table}"
        );
        // W1 has no coupled row: no ratio is made up for it.
        assert!(!table.contains("W1 at"), "{table}");
    }
}
