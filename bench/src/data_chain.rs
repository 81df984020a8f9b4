//! `lazychain bench data-chain`: four validator processes on loopback, open-loop load of
//! pre-signed transactions at rising rates, and the finalized throughput and finality latency
//! (submission until the block holding the transaction is decided on every validator).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alloy_primitives::B256;
use jsonrpsee::core::client::{ClientT, SubscriptionClientT};
use jsonrpsee::core::params::BatchRequestBuilder;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use jsonrpsee::ws_client::WsClientBuilder;
use lazychain_localnet::{generate, GenerateOptions};
use tokio::sync::Semaphore;

use crate::stats::{ms, quantile};
use crate::txgen::{self, Shape, SignedTx};

const CHAIN_ID: u64 = 1337;
const SENDERS: u64 = 2_000;
const RPC_BATCH: usize = 100;
/// Most bytes of raw transactions per submission batch (the hex JSON is twice that).
const RPC_BATCH_BYTES: usize = 2 << 20;
/// The payload of the large-transaction workload.
const LARGE_PAYLOAD: usize = 32 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Localnet(#[from] lazychain_localnet::LocalnetError),
    #[error("benchmark I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("node RPC: {0}")]
    Rpc(String),
}

pub struct Options {
    /// The `lazychain` binary to run the validators with.
    pub exe: PathBuf,
    pub validators: usize,
    /// A short run (a few minutes on 2 cores).
    pub quick: bool,
    /// Keep the network folder (homes and logs) instead of deleting it.
    pub keep: bool,
}

/// One line of the result table.
#[derive(Clone, Debug)]
pub struct Row {
    pub workload: String,
    pub offered_tps: f64,
    pub sent: usize,
    pub rejected: usize,
    pub finalized: usize,
    pub finalized_tps: f64,
    pub mb_per_s: f64,
    pub p50: Option<Duration>,
    pub p99: Option<Duration>,
}

pub struct Report {
    pub validators: usize,
    pub cores: usize,
    pub rows: Vec<Row>,
}

impl Report {
    pub fn table(&self) -> String {
        let mut out = format!(
            "data chain: {} validators (separate processes, loopback), {} cores, finality = decided on all validators\n\n",
            self.validators, self.cores
        );
        out.push_str(&format!(
            "| {:<16} | {:>9} | {:>8} | {:>8} | {:>9} | {:>11} | {:>7} | {:>9} | {:>9} |\n",
            "workload",
            "offered/s",
            "sent",
            "rejected",
            "finalized",
            "finalized/s",
            "MB/s",
            "p50 ms",
            "p99 ms"
        ));
        out.push_str(&format!(
            "|{:-<18}|{:-<11}|{:-<10}|{:-<10}|{:-<11}|{:-<13}|{:-<9}|{:-<11}|{:-<11}|\n",
            "", "", "", "", "", "", "", "", ""
        ));
        for r in &self.rows {
            out.push_str(&format!(
                "| {:<16} | {:>9.0} | {:>8} | {:>8} | {:>9} | {:>11.0} | {:>7.2} | {:>9} | {:>9} |\n",
                r.workload,
                r.offered_tps,
                r.sent,
                r.rejected,
                r.finalized,
                r.finalized_tps,
                r.mb_per_s,
                ms(r.p50),
                ms(r.p99)
            ));
        }
        out
    }
}

/// When each transaction was seen decided, per validator count.
#[derive(Default)]
struct Decisions {
    seen: HashMap<B256, (usize, Instant)>,
}

pub(crate) struct Net {
    pub(crate) rpc: Vec<HttpClient>,
    decisions: Arc<Mutex<Decisions>>,
    validators: usize,
}

impl Net {
    pub(crate) fn finalized_at(&self, hash: &B256) -> Option<Instant> {
        let d = self.decisions.lock().unwrap_or_else(|e| e.into_inner());
        d.seen
            .get(hash)
            .filter(|(n, _)| *n >= self.validators)
            .map(|(_, t)| *t)
    }
}

pub fn run(opts: &Options) -> Result<Report, BenchError> {
    let dir = tempfile::tempdir()?;
    let manifest = generate(&GenerateOptions {
        validators: opts.validators,
        seed: 7,
        config_overrides: vec![
            (
                "log.filter".into(),
                "warn,lazychain_data_chain_node=info".into(),
            ),
            ("mempool.max_txs".into(), "400000".into()),
            ("mempool.max_bytes".into(), "1073741824".into()),
        ],
        ..GenerateOptions::new(dir.path().join("net"), CHAIN_ID)
    })?;
    let nodes = crate::procs::Running::start(&opts.exe, &manifest)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(measure(&manifest, opts));
    drop(nodes);
    if opts.keep {
        let kept = dir.keep();
        eprintln!("network folder kept: {}", kept.display());
    }
    result
}

impl Net {
    /// HTTP clients to every node and a decided-block subscription on each, recording when
    /// each transaction was seen decided; "final" means seen on every one of `nodes`.
    pub(crate) async fn connect(
        nodes: &[&lazychain_localnet::NodeEntry],
    ) -> Result<Net, BenchError> {
        let rpc_err = |e: jsonrpsee::core::ClientError| BenchError::Rpc(e.to_string());
        let mut rpc = Vec::new();
        let decisions = Arc::new(Mutex::new(Decisions::default()));
        for node in nodes {
            rpc.push(
                HttpClientBuilder::default()
                    .request_timeout(Duration::from_secs(30))
                    .max_request_size(64 << 20)
                    .build(&node.rpc_url)
                    .map_err(rpc_err)?,
            );
            let ws = WsClientBuilder::default()
                .max_response_size(64 << 20)
                .max_buffer_capacity_per_subscription(4096)
                .build(&node.ws_url)
                .await
                .map_err(rpc_err)?;
            let mut sub = ws
                .subscribe::<serde_json::Value, _>(
                    "lazy_subscribeDecidedBlocks",
                    rpc_params![],
                    "lazy_unsubscribeDecidedBlocks",
                )
                .await
                .map_err(rpc_err)?;
            let decisions = decisions.clone();
            tokio::spawn(async move {
                let _ws = ws;
                while let Some(Ok(block)) = sub.next().await {
                    let now = Instant::now();
                    let mut d = decisions.lock().unwrap_or_else(|e| e.into_inner());
                    for h in block["txHashes"].as_array().into_iter().flatten() {
                        if let Some(hash) = h.as_str().and_then(|s| s.parse::<B256>().ok()) {
                            let e = d.seen.entry(hash).or_insert((0, now));
                            e.0 += 1;
                            e.1 = now;
                        }
                    }
                }
            });
        }
        Ok(Net {
            rpc,
            decisions,
            validators: nodes.len(),
        })
    }
}

async fn measure(
    manifest: &lazychain_localnet::Manifest,
    opts: &Options,
) -> Result<Report, BenchError> {
    let validators: Vec<&lazychain_localnet::NodeEntry> = manifest.nodes.iter().collect();
    let net = Net::connect(&validators).await?;

    let mut rows = Vec::new();
    let idle = idle_latency(&net, if opts.quick { 20 } else { 50 }).await?;
    rows.push(idle);

    // Transaction count is what costs with small transactions (signature recovery on every
    // validator); bytes are what cost with large ones (gossip, streaming, hashing), so the
    // 32 KiB step measures the chain's data bandwidth.
    let (transfer_rates, payload_rates, large_rates, seconds): (&[f64], &[f64], &[f64], f64) =
        if opts.quick {
            (
                &[1000.0, 3000.0, 6000.0],
                &[1000.0, 3000.0, 6000.0],
                &[150.0, 300.0, 450.0],
                4.0,
            )
        } else {
            (
                &[1000.0, 2500.0, 5000.0, 7500.0, 10000.0],
                &[1000.0, 2500.0, 5000.0, 7500.0, 10000.0],
                &[100.0, 200.0, 300.0, 400.0, 500.0],
                8.0,
            )
        };
    let mut seed = 100;
    for (shape, rates) in [
        (Shape::Transfer, transfer_rates),
        (Shape::Payload(1024), payload_rates),
        (Shape::Payload(LARGE_PAYLOAD), large_rates),
    ] {
        for &rate in rates {
            seed += 1;
            let count = (rate * seconds) as usize;
            let txs = tokio::task::spawn_blocking(move || {
                txgen::generate(CHAIN_ID, shape, SENDERS, count, seed)
            })
            .await
            .map_err(|e| BenchError::Rpc(e.to_string()))?;
            // Progress on stderr, so that a profiler can be pointed at one step.
            eprintln!("load step: {} at {rate}/s for {seconds} s", shape.name());
            rows.push(load_step(&net, shape, rate, txs).await);
        }
    }
    Ok(Report {
        validators: manifest.nodes.len(),
        cores: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        rows,
    })
}

async fn idle_latency(net: &Net, samples: usize) -> Result<Row, BenchError> {
    let txs = tokio::task::spawn_blocking(move || {
        txgen::generate(CHAIN_ID, Shape::Transfer, 1_000, samples, 1)
    })
    .await
    .map_err(|e| BenchError::Rpc(e.to_string()))?;
    let mut latencies = Vec::new();
    let mut rejected = 0;
    for (i, tx) in txs.iter().enumerate() {
        let client = &net.rpc[i % net.rpc.len()];
        let sent = Instant::now();
        let hex = format!("0x{}", hex::encode(&tx.raw));
        if client
            .request::<String, _>("eth_sendRawTransaction", rpc_params![hex])
            .await
            .is_err()
        {
            rejected += 1;
            continue;
        }
        let deadline = sent + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(t) = net.finalized_at(&tx.hash) {
                latencies.push(t.saturating_duration_since(sent));
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    latencies.sort();
    Ok(Row {
        workload: "idle, 1 tx".into(),
        offered_tps: 0.0,
        sent: txs.len(),
        rejected,
        finalized: latencies.len(),
        finalized_tps: 0.0,
        mb_per_s: 0.0,
        p50: quantile(&latencies, 0.5),
        p99: quantile(&latencies, 0.99),
    })
}

async fn load_step(net: &Net, shape: Shape, rate: f64, txs: Vec<SignedTx>) -> Row {
    let tick = Duration::from_millis(20);
    let per_tick = ((rate * tick.as_secs_f64()).round() as usize).max(1);
    let submitted: Arc<Mutex<Vec<(B256, usize, Instant)>>> = Arc::new(Mutex::new(Vec::new()));
    let rejected = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let inflight = Arc::new(Semaphore::new(32));
    let start = Instant::now();
    let mut next = start;
    let mut handles = Vec::new();
    for (n, chunk) in txs.chunks(per_tick).enumerate() {
        tokio::time::sleep_until(next.into()).await;
        next += tick;
        let tx_bytes = chunk.first().map(|t| t.raw.len()).unwrap_or(1).max(1);
        let batch_len = (RPC_BATCH_BYTES / tx_bytes).clamp(1, RPC_BATCH);
        for (b, batch) in chunk.chunks(batch_len).enumerate() {
            let client = net.rpc[(n + b) % net.rpc.len()].clone();
            let batch: Vec<SignedTx> = batch.to_vec();
            let submitted = submitted.clone();
            let rejected = rejected.clone();
            let Ok(permit) = inflight.clone().acquire_owned().await else {
                break;
            };
            handles.push(tokio::spawn(async move {
                let _permit = permit;
                let mut builder = BatchRequestBuilder::new();
                for tx in &batch {
                    let _ = builder.insert(
                        "eth_sendRawTransaction",
                        rpc_params![format!("0x{}", hex::encode(&tx.raw))],
                    );
                }
                let sent_at = Instant::now();
                match client.batch_request::<String>(builder).await {
                    Ok(resp) => {
                        let mut s = submitted.lock().unwrap_or_else(|e| e.into_inner());
                        for (tx, r) in batch.iter().zip(resp.iter()) {
                            if r.is_ok() {
                                s.push((tx.hash, tx.raw.len(), sent_at));
                            } else {
                                rejected.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            }
                        }
                    }
                    Err(_) => {
                        rejected.fetch_add(batch.len(), std::sync::atomic::Ordering::Relaxed);
                    }
                }
            }));
        }
    }
    for h in handles {
        let _ = h.await;
    }
    let submit_end = Instant::now();
    let submitted = std::mem::take(&mut *submitted.lock().unwrap_or_else(|e| e.into_inner()));
    // Drain: wait until every accepted transaction is final everywhere, or progress stops.
    let mut last_count = 0;
    let mut last_progress = Instant::now();
    loop {
        let done = submitted
            .iter()
            .filter(|(h, _, _)| net.finalized_at(h).is_some())
            .count();
        if done == submitted.len() {
            break;
        }
        if done > last_count {
            last_count = done;
            last_progress = Instant::now();
        }
        if last_progress.elapsed() > Duration::from_secs(15) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut latencies = Vec::new();
    let mut bytes = 0usize;
    let mut last_final = start;
    for (h, len, sent) in &submitted {
        if let Some(t) = net.finalized_at(h) {
            latencies.push(t.saturating_duration_since(*sent));
            bytes += len;
            last_final = last_final.max(t);
        }
    }
    latencies.sort();
    let span = last_final
        .max(submit_end)
        .saturating_duration_since(start)
        .as_secs_f64()
        .max(1e-3);
    Row {
        workload: shape.name(),
        offered_tps: rate,
        sent: txs.len(),
        rejected: rejected.load(std::sync::atomic::Ordering::Relaxed),
        finalized: latencies.len(),
        finalized_tps: latencies.len() as f64 / span,
        mb_per_s: bytes as f64 / span / 1e6,
        p50: quantile(&latencies, 0.5),
        p99: quantile(&latencies, 0.99),
    }
}
