//! `lazychain bench soak`: a default local network (4 validators, 2 lazy executors, the
//! default genesis of `localnet up` plus one ERC-20 contract holding a balance for every dev
//! account) under a light load for N minutes, watched the way an operator would: does state
//! finality keep up with the chain, and does anything keep growing?
//!
//! Load: `--rate` transactions per second (default 4), alternately ETH transfers and
//! `LazyToken.transfer` calls between the ten funded dev accounts of the manifest, each
//! account's transactions to one validator in nonce order. An account whose executed nonce
//! has not moved for a minute while transactions of it are outstanding is re-synced to the
//! executor's count (a transaction lost on the way must not leave every later one of that
//! account skipped).
//!
//! Every [`SAMPLE_INTERVAL`] each node (validators and executors) is sampled: `lazy_status`
//! (decided height and its block timestamp, state consensus' `finalizedHeight`, `safeHeight`,
//! `pooledClaims`, `pooledFraudProofs`; executors also `executedHeight`), the timestamp of the
//! finalized height's block (`lazy_getDataBlock`), the process' resident memory (`VmRSS` of
//! `/proc/<pid>/status`) and the bytes of its data folder (`<home>/data`, allocated blocks as
//! `du` counts them). A table row per node is printed every minute.
//!
//! The run fails (the command exits non-zero, naming each violation) if:
//!
//! - **finality lags**: on any node at any sample, the timestamp of its decided tip's block
//!   minus the timestamp of its finalized height's block (block 1's while nothing is final)
//!   exceeds the genesis challenge window (`state.challenge_window_ms`) plus
//!   [`FINALITY_MARGIN_MS`]. A claim can be final only a window of block time after its
//!   inclusion, so a healthy network sits at about the window plus the inclusion delay;
//! - **the chain stalls**: while load is offered, a node's tip block is older than
//!   [`FINALITY_MARGIN_MS`] by the wall clock (block timestamps alone would not show a chain
//!   that stopped);
//! - **a node exits**;
//! - **a pool or a process' memory keeps growing**: over the last half of the run (at least
//!   [`MIN_GROWTH_SAMPLES`] samples), the least-squares line through a node's series rises
//!   by more than a floor *and* by more than a fraction of the series' mean over that half:
//!   pooled claims and pooled fraud proofs [`POOL_GROWTH`] (64 items and 50 %), resident
//!   memory [`RSS_GROWTH`] (16 MiB and 10 %). A bounded pool or a warmed-up cache levels off
//!   within the first half; a leak or a clogged pool rises through the second. So that the
//!   databases' page caches are warm within minutes rather than hours (redb keeps every page it
//!   writes until its cache is full), the soak's nodes run with small ones
//!   ([`SOAK_BLOCK_CACHE_MIB`], [`SOAK_STATE_CACHE_MIB`]); with the defaults (64 and 256 MiB) a
//!   node's memory rises by up to that much more before it levels off.
//!
//! At the end it prints a summary: the largest finality lag, the largest pools, resident
//! memory at the start and the end, and disk growth per hour, per node.
//!
//! [`idle_disk_growth`] is the idle part of `bench all`: the same network with no load, data
//! folder bytes per node after a warm-up and at the end.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use alloy_consensus::TxEip1559;
use alloy_primitives::{Address, Bytes, TxKind, B256, U256};
use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use lazychain_config::GenesisAccount;
use lazychain_localnet::{generate, spawn_node, stop_pid, wait_ready, GenerateOptions, Manifest};
use secp256k1::{SecretKey, SECP256K1};
use serde_json::Value;

use crate::claims::num;
use crate::data_chain::BenchError;

pub const DEFAULT_MINUTES: u64 = 30;
/// Offered transactions per second by default: light load.
pub const DEFAULT_RATE: f64 = 4.0;
/// How far past the challenge window finality may lag, and how old the tip may be, before
/// the run fails.
pub const FINALITY_MARGIN_MS: u64 = 30_000;
pub const SAMPLE_INTERVAL: Duration = Duration::from_secs(10);
/// `storage.block_cache_mib` of the soak's nodes (see the module documentation).
pub const SOAK_BLOCK_CACHE_MIB: u64 = 8;
/// `storage.state_cache_mib` of the soak's executors.
pub const SOAK_STATE_CACHE_MIB: u64 = 16;
/// Samples of the last half below which the growth rule is not applied (the run is too short
/// to tell).
pub const MIN_GROWTH_SAMPLES: usize = 6;
pub const POOL_GROWTH: GrowthLimit = GrowthLimit {
    floor: 64.0,
    fraction: 0.5,
};
pub const RSS_GROWTH: GrowthLimit = GrowthLimit {
    floor: 16.0 * 1024.0 * 1024.0,
    fraction: 0.10,
};

const CHAIN_ID: u64 = 1337;
const VALIDATORS: usize = 4;
const EXECUTORS: usize = 2;
const GWEI: u128 = 1_000_000_000;
const TOKEN: Address = Address::repeat_byte(0x50);
const TOKEN_JSON: &str = include_str!("../../exec-layer/contracts/build/LazyToken.json");
const SAMPLES_PER_ROW: usize = 6;

/// When a series "keeps growing": its fitted rise over the last half of the run exceeds both
/// `floor` (in the series' unit) and `fraction` of its mean over that half.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GrowthLimit {
    pub floor: f64,
    pub fraction: f64,
}

/// What the growth rule says about one series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Growth {
    /// Fewer than [`MIN_GROWTH_SAMPLES`] samples in the last half.
    TooShort,
    /// The fitted rise over the last half (may be negative), within the limit.
    Bounded { rise: f64 },
    /// The fitted rise over the last half, over the limit.
    Growing { rise: f64, mean: f64 },
}

/// The least-squares slope of `points` (x, y) times the x span: how much the fitted line
/// rises from the first point to the last. `None` for fewer than two distinct x.
pub fn fitted_rise(points: &[(f64, f64)]) -> Option<f64> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let (first, last) = (points[0].0, points[points.len() - 1].0);
    Some(sxy / sxx * (last - first))
}

/// The growth rule over the last half (by x) of `points`, sorted by x.
pub fn growth(points: &[(f64, f64)], limit: GrowthLimit) -> Growth {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return Growth::TooShort;
    };
    let half = first.0 + (last.0 - first.0) / 2.0;
    let tail: Vec<(f64, f64)> = points.iter().copied().filter(|p| p.0 >= half).collect();
    if tail.len() < MIN_GROWTH_SAMPLES {
        return Growth::TooShort;
    }
    let Some(rise) = fitted_rise(&tail) else {
        return Growth::TooShort;
    };
    let mean = tail.iter().map(|p| p.1).sum::<f64>() / tail.len() as f64;
    if rise > limit.floor && rise > limit.fraction * mean {
        Growth::Growing { rise, mean }
    } else {
        Growth::Bounded { rise }
    }
}

/// The largest lag finality may have: the challenge window plus [`FINALITY_MARGIN_MS`].
pub fn finality_lag_limit_ms(challenge_window_ms: u64) -> u64 {
    challenge_window_ms.saturating_add(FINALITY_MARGIN_MS)
}

/// Resident memory from the text of `/proc/<pid>/status` (`VmRSS: 123 kB`), in bytes.
pub fn vm_rss_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let mut words = line.split_whitespace().skip(1);
    let value: u64 = words.next()?.parse().ok()?;
    let unit = match words.next() {
        Some("kB") | None => 1024,
        Some("mB") => 1024 * 1024,
        Some(_) => return None,
    };
    Some(value * unit)
}

fn rss_of(pid: u32) -> Option<u64> {
    vm_rss_bytes(&std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?)
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.contains(") Z "))
        .unwrap_or(false)
}

/// Bytes a folder takes on disk (allocated blocks, as `du` counts them), recursively; files
/// that vanish while it is walked count as nothing.
pub fn disk_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => disk_bytes(&e.path()),
            Ok(m) => m.blocks() * 512,
            Err(_) => 0,
        })
        .sum()
}

/// Growth in MB (10^6 bytes) per hour from `start` to `end` bytes over `seconds`.
pub fn mb_per_hour(start: u64, end: u64, seconds: f64) -> f64 {
    if seconds <= 0.0 {
        return 0.0;
    }
    (end as f64 - start as f64) / 1e6 * 3600.0 / seconds
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn mib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / (1024.0 * 1024.0))
}

/// The default network of `localnet up`, with the soak's token contract in genesis, in `dir`
/// (wiped and regenerated); with `small_caches`, the soak's page caches.
fn default_network(
    dir: &Path,
    keys: &[SecretKey],
    small_caches: bool,
) -> Result<Manifest, BenchError> {
    Ok(generate(&GenerateOptions {
        validators: VALIDATORS,
        executors: EXECUTORS,
        config_overrides: if small_caches {
            vec![
                (
                    "storage.block_cache_mib".to_owned(),
                    SOAK_BLOCK_CACHE_MIB.to_string(),
                ),
                (
                    "storage.state_cache_mib".to_owned(),
                    SOAK_STATE_CACHE_MIB.to_string(),
                ),
            ]
        } else {
            Vec::new()
        },
        extra_alloc: token_alloc(keys)?.into_iter().collect(),
        ..GenerateOptions::new(dir.to_path_buf(), CHAIN_ID)
    })?)
}

/// `LazyToken` deployed at [`TOKEN`] with a million tokens for each holder.
fn token_alloc(holders: &[SecretKey]) -> Result<Option<GenesisAccount>, BenchError> {
    if holders.is_empty() {
        return Ok(None);
    }
    let artifact: Value = serde_json::from_str(TOKEN_JSON)
        .map_err(|e| BenchError::Rpc(format!("LazyToken artifact: {e}")))?;
    let code = artifact["deployedBytecode"]
        .as_str()
        .and_then(|c| hex::decode(c.trim_start_matches("0x")).ok())
        .ok_or_else(|| BenchError::Rpc("LazyToken artifact has no deployedBytecode".into()))?;
    let holding = U256::from(1_000_000u64) * U256::from(10u64).pow(U256::from(18u64));
    let mut storage = vec![(
        B256::ZERO,
        B256::from(holding * U256::from(holders.len() as u64)),
    )];
    storage.extend(holders.iter().map(|k| {
        (
            crate::exec::balance_slot(address_of(k)),
            B256::from(holding),
        )
    }));
    storage.sort();
    Ok(Some(GenesisAccount {
        address: TOKEN,
        balance: U256::ZERO,
        nonce: 0,
        code: Bytes::from(code),
        storage,
    }))
}

fn address_of(key: &SecretKey) -> Address {
    Address::from_raw_public_key(&key.public_key(SECP256K1).serialize_uncompressed()[1..])
}

/// The funded dev accounts' keys. They are the same for every seed-0 network, so they are
/// derived before the manifest exists (the genesis token balances need them).
fn dev_keys() -> Vec<SecretKey> {
    lazychain_config::dev_accounts(0, lazychain_config::DEV_ACCOUNT_COUNT)
        .into_iter()
        .filter_map(|a| SecretKey::from_byte_array(a.private_key.0).ok())
        .collect()
}

/// A signed transaction of the soak load: an ETH transfer, or a token transfer of one unit.
fn soak_tx(key: &SecretKey, nonce: u64, to: Address, token_call: bool) -> Vec<u8> {
    let (target, value, input, gas_limit) = if token_call {
        let mut input = vec![0xa9, 0x05, 0x9c, 0xbb];
        input.extend_from_slice(B256::left_padding_from(to.as_slice()).as_slice());
        input.extend_from_slice(&U256::from(1).to_be_bytes::<32>());
        (TOKEN, U256::ZERO, input, 80_000)
    } else {
        (to, U256::from(1), Vec::new(), 21_000)
    };
    let tx = TxEip1559 {
        chain_id: CHAIN_ID,
        nonce,
        gas_limit,
        max_fee_per_gas: 100 * GWEI,
        max_priority_fee_per_gas: GWEI,
        to: TxKind::Call(target),
        value,
        access_list: Default::default(),
        input: Bytes::from(input),
    };
    crate::txgen::sign(tx, key)
}

pub struct SoakOptions {
    /// The `lazychain` binary to run the nodes with.
    pub exe: PathBuf,
    pub minutes: u64,
    /// Offered transactions per second.
    pub rate: f64,
    /// Leave the network running at the end (stop it with `localnet down --dir DIR`).
    pub keep: bool,
    /// The network folder (wiped and regenerated; kept afterwards for its logs).
    pub dir: PathBuf,
}

/// One node at one moment; `None` where the node did not answer.
#[derive(Clone, Debug, Default)]
pub struct NodeSample {
    pub at: Duration,
    pub height: Option<u64>,
    pub executed: Option<u64>,
    pub finalized: Option<u64>,
    pub safe: Option<u64>,
    /// Tip block's timestamp minus the finalized block's.
    pub finality_lag_ms: Option<u64>,
    /// Wall clock minus the tip block's timestamp.
    pub tip_age_ms: Option<u64>,
    pub pooled_claims: Option<u64>,
    pub pooled_proofs: Option<u64>,
    pub rss_bytes: Option<u64>,
    pub disk_bytes: u64,
    pub alive: bool,
}

/// One node of the network and everything sampled of it.
pub struct NodeSeries {
    pub name: String,
    pub samples: Vec<NodeSample>,
}

pub struct SoakReport {
    pub dir: PathBuf,
    pub challenge_window_ms: u64,
    pub elapsed: Duration,
    pub sent: u64,
    pub rejected: u64,
    pub resynced: u64,
    pub nodes: Vec<NodeSeries>,
    /// Every broken rule, in words; empty when the run passed.
    pub violations: Vec<String>,
}

/// The header of the per-minute table.
pub fn table_header() -> String {
    "| min | node | height | executed | finalized | safe | finality lag s | pooled claims | pooled proofs | RSS MiB | disk MiB |\n|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n".to_owned()
}

/// One row of the per-minute table.
pub fn table_row(name: &str, s: &NodeSample) -> String {
    let n = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_else(|| "-".into());
    format!(
        "| {:.0} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
        s.at.as_secs_f64() / 60.0,
        if s.alive {
            name.to_owned()
        } else {
            format!("{name} (exited)")
        },
        n(s.height),
        n(s.executed),
        n(s.finalized),
        n(s.safe),
        s.finality_lag_ms
            .map(|l| format!("{:.1}", l as f64 / 1000.0))
            .unwrap_or_else(|| "-".into()),
        n(s.pooled_claims),
        n(s.pooled_proofs),
        s.rss_bytes.map(mib).unwrap_or_else(|| "-".into()),
        mib(s.disk_bytes),
    )
}

impl SoakReport {
    /// The end-of-run summary, per node.
    pub fn summary(&self) -> String {
        let limit = finality_lag_limit_ms(self.challenge_window_ms);
        let mut out = format!(
            "soak: {:.1} min, {} transactions sent ({} rejected, {} account re-syncs); challenge window {} ms, finality lag limit {} ms\n\n",
            self.elapsed.as_secs_f64() / 60.0,
            self.sent,
            self.rejected,
            self.resynced,
            self.challenge_window_ms,
            limit
        );
        out.push_str("| node | finality lag max s | pooled claims max | pooled proofs max | RSS start MiB | RSS end MiB | RSS last-half rise MiB | disk start MiB | disk end MiB | disk MB/hour |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for node in &self.nodes {
            let s = &node.samples;
            let max = |f: fn(&NodeSample) -> Option<u64>| s.iter().filter_map(f).max();
            let first_rss = s.iter().find_map(|x| x.rss_bytes);
            let last_rss = s.iter().rev().find_map(|x| x.rss_bytes);
            let (disk_start, disk_end) = (
                s.first().map(|x| x.disk_bytes).unwrap_or(0),
                s.last().map(|x| x.disk_bytes).unwrap_or(0),
            );
            let span = match (s.first(), s.last()) {
                (Some(a), Some(b)) => (b.at - a.at).as_secs_f64(),
                _ => 0.0,
            };
            let rss_rise = match growth(&rss_points(s), RSS_GROWTH) {
                Growth::TooShort => "-".to_owned(),
                Growth::Bounded { rise } | Growth::Growing { rise, .. } => {
                    format!("{:.1}", rise / (1024.0 * 1024.0))
                }
            };
            let opt = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_else(|| "-".into());
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1} |\n",
                node.name,
                max(|x| x.finality_lag_ms)
                    .map(|l| format!("{:.1}", l as f64 / 1000.0))
                    .unwrap_or_else(|| "-".into()),
                opt(max(|x| x.pooled_claims)),
                opt(max(|x| x.pooled_proofs)),
                first_rss.map(mib).unwrap_or_else(|| "-".into()),
                last_rss.map(mib).unwrap_or_else(|| "-".into()),
                rss_rise,
                mib(disk_start),
                mib(disk_end),
                mb_per_hour(disk_start, disk_end, span),
            ));
        }
        out.push('\n');
        if self.violations.is_empty() {
            out.push_str("PASS: finality stayed within the window plus the margin, the chain never stalled, no pool or process memory kept growing\n");
        } else {
            out.push_str(&format!("FAIL: {} violation(s)\n", self.violations.len()));
            for v in &self.violations {
                out.push_str(&format!("  - {v}\n"));
            }
        }
        out
    }
}

fn series_points(s: &[NodeSample], f: impl Fn(&NodeSample) -> Option<u64>) -> Vec<(f64, f64)> {
    s.iter()
        .filter_map(|x| Some((x.at.as_secs_f64(), f(x)? as f64)))
        .collect()
}

fn rss_points(s: &[NodeSample]) -> Vec<(f64, f64)> {
    series_points(s, |x| x.rss_bytes)
}

/// One series the growth rule watches: what, points, limit, unit and the unit's name.
type Watch = (
    &'static str,
    Vec<(f64, f64)>,
    GrowthLimit,
    f64,
    &'static str,
);

/// The growth rule over every node's pools and memory, as violations.
pub fn growth_violations(nodes: &[NodeSeries]) -> Vec<String> {
    let mut out = Vec::new();
    for node in nodes {
        let series: [Watch; 3] = [
            (
                "pooled claims",
                series_points(&node.samples, |x| x.pooled_claims),
                POOL_GROWTH,
                1.0,
                "items",
            ),
            (
                "pooled fraud proofs",
                series_points(&node.samples, |x| x.pooled_proofs),
                POOL_GROWTH,
                1.0,
                "items",
            ),
            (
                "resident memory",
                rss_points(&node.samples),
                RSS_GROWTH,
                1024.0 * 1024.0,
                "MiB",
            ),
        ];
        for (what, points, limit, unit, unit_name) in series {
            if let Growth::Growing { rise, mean } = growth(&points, limit) {
                out.push(format!(
                    "{}: {what} keep growing: +{:.1} {unit_name} over the last half of the run (fitted), mean {:.1} {unit_name} (limit: more than {:.1} {unit_name} and {:.0} % of the mean)",
                    node.name,
                    rise / unit,
                    mean / unit,
                    limit.floor / unit,
                    limit.fraction * 100.0
                ));
            }
        }
    }
    out
}

/// The nodes of a network as processes: stopped on drop unless kept.
struct Processes {
    children: Vec<Child>,
    keep: bool,
}

impl Drop for Processes {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        for child in &mut self.children {
            stop_pid(child.id(), Duration::from_secs(10));
            let _ = child.wait();
        }
    }
}

/// Starts every node of `manifest` (detached into their own process groups when kept, so
/// that they outlive this command), records the pids in the manifest, and waits until all
/// are ready.
fn start(
    exe: &Path,
    manifest: &mut Manifest,
    dir: &Path,
    keep: bool,
) -> Result<Processes, BenchError> {
    let mut processes = Processes {
        children: Vec::new(),
        keep: false,
    };
    for node in manifest.nodes.iter_mut() {
        let child = spawn_node(exe, node, keep)?;
        node.pid = Some(child.id());
        processes.children.push(child);
    }
    manifest.save(dir)?;
    wait_ready(manifest, Duration::from_secs(120))?;
    // Only a network that came up is left running.
    processes.keep = keep;
    Ok(processes)
}

fn http(url: &str) -> Result<HttpClient, BenchError> {
    HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(10))
        .build(url)
        .map_err(|e| BenchError::Rpc(e.to_string()))
}

/// A node being watched: its client, process and data folder.
struct Watched {
    name: String,
    client: HttpClient,
    pid: Option<u32>,
    data: PathBuf,
}

async fn block_timestamp(client: &HttpClient, height: u64) -> Option<u64> {
    let block: Value = client
        .request("lazy_getDataBlock", rpc_params![height.max(1)])
        .await
        .ok()?;
    num(&block["timestampMs"])
}

async fn sample(node: &Watched, at: Duration) -> NodeSample {
    let mut s = NodeSample {
        at,
        rss_bytes: node.pid.and_then(rss_of),
        disk_bytes: disk_bytes(&node.data),
        alive: node.pid.is_some_and(alive),
        ..Default::default()
    };
    let Ok(status) = node
        .client
        .request::<Value, _>("lazy_status", rpc_params![])
        .await
    else {
        return s;
    };
    let state = &status["stateConsensus"];
    s.height = num(&status["height"]);
    s.executed = num(&status["executedHeight"]);
    s.finalized = num(&state["finalizedHeight"]);
    s.safe = num(&state["safeHeight"]);
    s.pooled_claims = num(&state["pooledClaims"]);
    s.pooled_proofs = num(&state["pooledFraudProofs"]);
    let tip_ms = num(&status["latestTimestampMs"]);
    s.tip_age_ms = tip_ms.map(|t| now_ms().saturating_sub(t));
    if let (Some(tip_ms), Some(finalized)) = (tip_ms, s.finalized) {
        s.finality_lag_ms = block_timestamp(&node.client, finalized)
            .await
            .map(|f| tip_ms.saturating_sub(f));
    }
    s
}

/// The soak load: `rate` transactions per second until `stop`, counted in `sent`/`rejected`.
struct Load {
    keys: Vec<SecretKey>,
    validators: Vec<HttpClient>,
    executor: HttpClient,
    rate: f64,
    sent: Arc<AtomicU64>,
    rejected: Arc<AtomicU64>,
    resynced: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Load {
    async fn run(self) {
        let addresses: Vec<Address> = self.keys.iter().map(address_of).collect();
        let mut nonces = vec![0u64; self.keys.len()];
        // (executed nonce, when it was first seen) per account, for the re-sync rule.
        let mut executed_seen: HashMap<usize, (u64, Instant)> = HashMap::new();
        let tick = Duration::from_millis(100);
        let mut credit = 0.0;
        let mut count = 0usize;
        let mut last_check = Instant::now();
        let mut interval = tokio::time::interval(tick);
        while !self.stop.load(Ordering::Relaxed) {
            interval.tick().await;
            credit += self.rate * tick.as_secs_f64();
            while credit >= 1.0 {
                credit -= 1.0;
                let from = count % self.keys.len();
                let to = addresses[(from + 1 + count / self.keys.len()) % addresses.len()];
                // Every other transaction of an account is a token call.
                let token_call = (count / self.keys.len()) % 2 == 1;
                count += 1;
                let raw = soak_tx(&self.keys[from], nonces[from], to, token_call);
                let validator = &self.validators[from % self.validators.len()];
                let sent = validator
                    .request::<String, _>(
                        "eth_sendRawTransaction",
                        rpc_params![format!("0x{}", hex::encode(&raw))],
                    )
                    .await;
                self.sent.fetch_add(1, Ordering::Relaxed);
                match sent {
                    Ok(_) => nonces[from] += 1,
                    Err(_) => {
                        self.rejected.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            if last_check.elapsed() >= Duration::from_secs(20) {
                last_check = Instant::now();
                self.resync(&addresses, &mut nonces, &mut executed_seen)
                    .await;
            }
        }
    }

    /// Re-syncs an account whose executed nonce has not moved for a minute while it has
    /// transactions outstanding: one of them was lost, and every later one would be skipped.
    async fn resync(
        &self,
        addresses: &[Address],
        nonces: &mut [u64],
        seen: &mut HashMap<usize, (u64, Instant)>,
    ) {
        for (i, address) in addresses.iter().enumerate() {
            let Ok(count) = self
                .executor
                .request::<Value, _>(
                    "eth_getTransactionCount",
                    rpc_params![format!("{address:#x}"), "latest"],
                )
                .await
            else {
                continue;
            };
            let Some(executed) = num(&count) else {
                continue;
            };
            let entry = seen.entry(i).or_insert((executed, Instant::now()));
            if entry.0 != executed {
                *entry = (executed, Instant::now());
            } else if nonces[i] > executed && entry.1.elapsed() >= Duration::from_secs(60) {
                nonces[i] = executed;
                *entry = (executed, Instant::now());
                self.resynced.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

pub fn run(opts: &SoakOptions) -> Result<SoakReport, BenchError> {
    if let Ok(old) = Manifest::load(&opts.dir) {
        if old.nodes.iter().filter_map(|n| n.pid).any(alive) {
            return Err(BenchError::Rpc(format!(
                "a local network is running in {} (stop it with `lazychain localnet down --dir {}`)",
                opts.dir.display(),
                opts.dir.display()
            )));
        }
    }
    let keys = dev_keys();
    if keys.is_empty() {
        return Err(BenchError::Rpc("no dev account keys".into()));
    }
    let mut manifest = default_network(&opts.dir, &keys, true)?;
    let dir = opts.dir.canonicalize()?;
    eprintln!(
        "soak: starting {VALIDATORS} validators and {EXECUTORS} executors in {}...",
        dir.display()
    );
    let processes = start(&opts.exe, &mut manifest, &dir, opts.keep)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(watch(opts, &manifest, keys, &dir));
    drop(processes);
    if opts.keep {
        eprintln!(
            "soak: the network is still running; stop it with `lazychain localnet down --dir {}`",
            dir.display()
        );
    }
    report
}

async fn watch(
    opts: &SoakOptions,
    manifest: &Manifest,
    keys: Vec<SecretKey>,
    dir: &Path,
) -> Result<SoakReport, BenchError> {
    let watched: Vec<Watched> = manifest
        .nodes
        .iter()
        .map(|n| {
            Ok(Watched {
                name: n.name.clone(),
                client: http(&n.rpc_url)?,
                pid: n.pid,
                data: n.home.join("data"),
            })
        })
        .collect::<Result<_, BenchError>>()?;
    let validators: Vec<HttpClient> = manifest
        .nodes_with_role("validator")
        .map(|n| http(&n.rpc_url))
        .collect::<Result<_, _>>()?;
    let executor_url = manifest
        .nodes_with_role("executor")
        .next()
        .map(|n| n.rpc_url.clone())
        .ok_or_else(|| BenchError::Rpc("the network has no executor".into()))?;
    let window_ms = {
        let status: Value = validators
            .first()
            .ok_or_else(|| BenchError::Rpc("the network has no validator".into()))?
            .request("lazy_getStateConsensus", rpc_params![])
            .await
            .map_err(|e| BenchError::Rpc(format!("lazy_getStateConsensus: {e}")))?;
        num(&status["challengeWindowMs"]).unwrap_or(lazychain_config::DEFAULT_CHALLENGE_WINDOW_MS)
    };
    let lag_limit = finality_lag_limit_ms(window_ms);

    let sent = Arc::new(AtomicU64::new(0));
    let rejected = Arc::new(AtomicU64::new(0));
    let resynced = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn(
        Load {
            keys,
            validators,
            executor: http(&executor_url)?,
            rate: opts.rate,
            sent: sent.clone(),
            rejected: rejected.clone(),
            resynced: resynced.clone(),
            stop: stop.clone(),
        }
        .run(),
    );

    println!(
        "soak: {} min at {} tx/s (ETH and token transfers), network in {}; finality lag limit {} ms (window {} ms + {} ms); a row per node every minute\n",
        opts.minutes,
        opts.rate,
        dir.display(),
        lag_limit,
        window_ms,
        FINALITY_MARGIN_MS
    );
    print!("{}", table_header());
    let mut nodes: Vec<NodeSeries> = watched
        .iter()
        .map(|w| NodeSeries {
            name: w.name.clone(),
            samples: Vec::new(),
        })
        .collect();
    let mut violations = Vec::new();
    // Each rule is reported once per node: the first time it broke.
    let mut reported: std::collections::HashSet<(usize, &str)> = Default::default();
    let total = Duration::from_secs(opts.minutes * 60);
    let start = Instant::now();
    let mut interval = tokio::time::interval(SAMPLE_INTERVAL);
    let mut tick = 0usize;
    loop {
        interval.tick().await;
        let at = start.elapsed();
        let samples = futures::future::join_all(watched.iter().map(|w| sample(w, at))).await;
        for (i, s) in samples.into_iter().enumerate() {
            let name = &watched[i].name;
            let minute = at.as_secs_f64() / 60.0;
            if !s.alive && reported.insert((i, "exited")) {
                violations.push(format!("{name}: the process exited by minute {minute:.1}"));
            }
            if let Some(lag) = s.finality_lag_ms.filter(|l| *l > lag_limit) {
                if reported.insert((i, "lag")) {
                    violations.push(format!(
                        "{name}: finality lagged the tip by {lag} ms of block time at minute {minute:.1} (finalized {}, tip {}; limit {lag_limit} ms)",
                        s.finalized.unwrap_or(0),
                        s.height.unwrap_or(0)
                    ));
                }
            }
            if let Some(age) = s.tip_age_ms.filter(|a| *a > FINALITY_MARGIN_MS) {
                if opts.rate > 0.0 && reported.insert((i, "stall")) {
                    violations.push(format!(
                        "{name}: its tip block (height {}) was {age} ms old at minute {minute:.1} while load was offered: the chain stalled",
                        s.height.unwrap_or(0)
                    ));
                }
            }
            if tick.is_multiple_of(SAMPLES_PER_ROW) {
                print!("{}", table_row(name, &s));
            }
            nodes[i].samples.push(s);
        }
        if at >= total {
            break;
        }
        tick += 1;
    }
    stop.store(true, Ordering::Relaxed);
    let _ = load.await;
    violations.extend(growth_violations(&nodes));
    Ok(SoakReport {
        dir: dir.to_path_buf(),
        challenge_window_ms: window_ms,
        elapsed: start.elapsed(),
        sent: sent.load(Ordering::Relaxed),
        rejected: rejected.load(Ordering::Relaxed),
        resynced: resynced.load(Ordering::Relaxed),
        nodes,
        violations,
    })
}

/// Idle disk growth of one network: data-folder bytes per node after the warm-up and at the
/// end, and the blocks decided in between (validator 0).
#[derive(Clone, Debug)]
pub struct IdleDisk {
    /// (node, bytes after the warm-up, bytes at the end).
    pub nodes: Vec<(String, u64, u64)>,
    pub seconds: f64,
    pub blocks: u64,
}

impl IdleDisk {
    /// MB per hour of each node.
    pub fn per_node_mb_per_hour(&self) -> Vec<(String, f64)> {
        self.nodes
            .iter()
            .map(|(name, start, end)| (name.clone(), mb_per_hour(*start, *end, self.seconds)))
            .collect()
    }

    pub fn blocks_per_second(&self) -> f64 {
        self.blocks as f64 / self.seconds.max(1e-9)
    }
}

/// The target of issue 14: an idle default network grows at most this much per node per hour.
pub const IDLE_DISK_TARGET_MB_PER_HOUR: f64 = 5.0;

/// A default network (4 validators, 2 executors) with no load: waits `warmup`, measures every
/// node's data folder, waits `measure`, measures again.
pub fn idle_disk_growth(
    exe: &Path,
    warmup: Duration,
    measure: Duration,
) -> Result<IdleDisk, BenchError> {
    let dir = tempfile::tempdir()?;
    let manifest = default_network(&dir.path().join("net"), &[], false)?;
    let nodes = crate::procs::Running::start(exe, &manifest)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let v0 = manifest
        .nodes_with_role("validator")
        .next()
        .map(|n| http(&n.rpc_url))
        .transpose()?
        .ok_or_else(|| BenchError::Rpc("the network has no validator".into()))?;
    let height = |c: &HttpClient| {
        runtime.block_on(async {
            c.request::<Value, _>("lazy_status", rpc_params![])
                .await
                .ok()
                .and_then(|s| num(&s["height"]))
                .unwrap_or(0)
        })
    };
    std::thread::sleep(warmup);
    let sizes = || -> Vec<u64> {
        manifest
            .nodes
            .iter()
            .map(|n| disk_bytes(&n.home.join("data")))
            .collect()
    };
    let (started, h0, before) = (Instant::now(), height(&v0), sizes());
    std::thread::sleep(measure);
    let (seconds, h1, after) = (started.elapsed().as_secs_f64(), height(&v0), sizes());
    drop(nodes);
    Ok(IdleDisk {
        nodes: manifest
            .nodes
            .iter()
            .zip(before.into_iter().zip(after))
            .map(|(n, (b, a))| (n.name.clone(), b, a))
            .collect(),
        seconds,
        blocks: h1.saturating_sub(h0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(slope: f64, level: f64, n: usize) -> Vec<(f64, f64)> {
        (0..n)
            .map(|i| (i as f64 * 10.0, level + slope * i as f64 * 10.0))
            .collect()
    }

    #[test]
    fn the_fitted_rise_of_a_line_is_its_slope_times_its_span() {
        let rise = fitted_rise(&line(2.0, 5.0, 11)).expect("a line");
        assert!((rise - 200.0).abs() < 1e-9, "{rise}");
        assert_eq!(fitted_rise(&[(1.0, 1.0)]), None);
        assert_eq!(fitted_rise(&[(1.0, 1.0), (1.0, 2.0)]), None);
    }

    #[test]
    fn a_pool_that_levels_off_is_bounded_and_one_that_climbs_is_growing() {
        // Climbs during the first half, flat with noise during the second.
        let levelling: Vec<(f64, f64)> = (0..20)
            .map(|i| {
                let y = if i < 10 { i as f64 * 30.0 } else { 300.0 };
                (i as f64 * 10.0, y + if i % 2 == 0 { 5.0 } else { -5.0 })
            })
            .collect();
        assert!(matches!(
            growth(&levelling, POOL_GROWTH),
            Growth::Bounded { .. }
        ));
        // +10 items per sample on a base of 100: a rise of 90 over the last half, above the
        // 64-item floor but not half the mean (~245): a steady base with slow drift.
        assert!(matches!(
            growth(&line(1.0, 100.0, 20), POOL_GROWTH),
            Growth::Bounded { .. }
        ));
        // From nearly empty to thousands: growing.
        match growth(&line(10.0, 0.0, 20), POOL_GROWTH) {
            Growth::Growing { rise, .. } => assert!((rise - 900.0).abs() < 1e-6, "{rise}"),
            other => panic!("{other:?}"),
        }
        // Too few samples in the last half to tell.
        assert_eq!(growth(&line(10.0, 0.0, 8), POOL_GROWTH), Growth::TooShort);
        assert_eq!(growth(&[], POOL_GROWTH), Growth::TooShort);
    }

    #[test]
    fn memory_growth_needs_both_the_floor_and_the_fraction() {
        let mib = 1024.0 * 1024.0;
        // 200 MiB process, +8 MiB over the last half: under the 16 MiB floor.
        let small: Vec<(f64, f64)> = (0..20)
            .map(|i| (i as f64, 200.0 * mib + i as f64 * 0.9 * mib))
            .collect();
        assert!(matches!(growth(&small, RSS_GROWTH), Growth::Bounded { .. }));
        // +4 MiB per sample: ~36 MiB over the last half of a ~260 MiB process (> 10 %).
        let leak: Vec<(f64, f64)> = (0..20)
            .map(|i| (i as f64, 200.0 * mib + i as f64 * 4.0 * mib))
            .collect();
        assert!(matches!(growth(&leak, RSS_GROWTH), Growth::Growing { .. }));
    }

    #[test]
    fn resident_memory_is_read_from_proc_status() {
        let text = "Name:\tlazychain\nVmPeak:\t  900 kB\nVmRSS:\t  123456 kB\nThreads:\t9\n";
        assert_eq!(vm_rss_bytes(text), Some(123_456 * 1024));
        assert_eq!(vm_rss_bytes("Name:\tx\n"), None);
        assert!(rss_of(std::process::id()).is_some_and(|b| b > 0));
    }

    #[test]
    fn disk_bytes_sum_a_folder_tree_and_growth_is_per_hour() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("a/b")).expect("mkdir");
        std::fs::write(dir.path().join("a/b/f"), vec![1u8; 10_000]).expect("write");
        std::fs::write(dir.path().join("g"), vec![1u8; 5_000]).expect("write");
        assert!(disk_bytes(dir.path()) >= 15_000);
        assert_eq!(disk_bytes(&dir.path().join("missing")), 0);
        assert!((mb_per_hour(1_000_000, 2_000_000, 360.0) - 10.0).abs() < 1e-9);
        assert!(mb_per_hour(2_000_000, 1_000_000, 3600.0) < 0.0);
        assert_eq!(mb_per_hour(0, 5, 0.0), 0.0);
    }

    #[test]
    fn the_table_and_the_summary_name_every_node_and_every_violation() {
        let sample = |at: u64, claims: u64| NodeSample {
            at: Duration::from_secs(at),
            height: Some(100 + at),
            executed: None,
            finalized: Some(at),
            safe: Some(at + 1),
            finality_lag_ms: Some(95_000),
            tip_age_ms: Some(50),
            pooled_claims: Some(claims),
            pooled_proofs: Some(0),
            rss_bytes: Some(100 << 20),
            disk_bytes: 10 << 20,
            alive: true,
        };
        let row = table_row("validator-0", &sample(120, 3));
        assert_eq!(
            row,
            "| 2 | validator-0 | 220 | - | 120 | 121 | 95.0 | 3 | 0 | 100.0 | 10.0 |\n"
        );
        let growing = NodeSeries {
            name: "validator-1".into(),
            samples: (0..20).map(|i| sample(i * 10, i * 100)).collect(),
        };
        let violations = growth_violations(std::slice::from_ref(&growing));
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert!(violations[0].starts_with("validator-1: pooled claims keep growing"));
        let report = SoakReport {
            dir: PathBuf::from("/tmp/soak"),
            challenge_window_ms: 90_000,
            elapsed: Duration::from_secs(190),
            sent: 760,
            rejected: 0,
            resynced: 0,
            nodes: vec![growing],
            violations,
        };
        let summary = report.summary();
        assert!(
            summary.contains("finality lag limit 120000 ms"),
            "{summary}"
        );
        assert!(
            summary.contains(
                "| validator-1 | 95.0 | 1900 | 0 | 100.0 | 100.0 | 0.0 | 10.0 | 10.0 | 0.0 |"
            ),
            "{summary}"
        );
        assert!(summary.contains("FAIL: 1 violation(s)"), "{summary}");
    }

    #[test]
    fn soak_transactions_are_signed_by_their_sender() {
        use lazychain_data_chain_types::tx::{decode_canonical, recover_sender};
        let keys = dev_keys();
        assert_eq!(keys.len(), lazychain_config::DEV_ACCOUNT_COUNT);
        for token_call in [false, true] {
            let raw = soak_tx(&keys[0], 3, address_of(&keys[1]), token_call);
            let tx = decode_canonical(&raw).expect("decodes");
            assert_eq!(recover_sender(&tx).expect("recovers"), address_of(&keys[0]));
        }
        let token = token_alloc(&keys).expect("artifact").expect("holders");
        assert!(!token.code.is_empty());
        assert_eq!(token.storage.len(), keys.len() + 1);
    }
}
