//! The network half of `lazychain bench fraud`: four validators, two honest executors and one
//! executor running with `--fault wrong-root-at=3`, all separate processes on loopback, under
//! a light transfer load. It measures, through public RPC only, how many data blocks pass
//! between the block that includes the bad claim and the block whose fraud proof reverts it,
//! the same in milliseconds (block timestamps), and the size of the included proof.
//!
//! [`run_race`] measures the same for a racing liar (`--fault race`, ADR 007: made-up roots
//! for every height as soon as it is decided, without executing) beside one honest executor:
//! the liar's claims are included before any honest claim, so the time to the revert is the
//! honest executor's whole path (execute, claim, detect, prove, include).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use lazychain_localnet::{generate, GenerateOptions};
use serde_json::Value;

use crate::data_chain::BenchError;
use crate::txgen::{self, Shape};

const CHAIN_ID: u64 = 1337;
const FAULT_AT: u64 = 3;
/// The target: a bad claim reverted within this many blocks of its inclusion.
pub const TARGET_REVERT_BLOCKS: u64 = 3;

/// The lie the faulty executor tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Liar {
    /// `--fault wrong-root-at=3`, beside two honest executors.
    WrongRootAt,
    /// `--fault race`, beside one honest executor.
    Race,
}

impl Liar {
    fn fault(&self) -> String {
        match self {
            Liar::WrongRootAt => format!("wrong-root-at={FAULT_AT}"),
            Liar::Race => "race".to_owned(),
        }
    }

    fn honest_executors(&self) -> usize {
        match self {
            Liar::WrongRootAt => 2,
            Liar::Race => 1,
        }
    }
}

pub struct NetOptions {
    /// The `lazychain` binary to run the nodes with.
    pub exe: PathBuf,
    /// Independent networks to start, one dispute each.
    pub runs: usize,
}

/// One dispute, as seen by validator 0.
#[derive(Clone, Debug)]
pub struct Dispute {
    pub bad_height: u64,
    pub claim_included_at: u64,
    pub reverted_at: u64,
    pub included_to_revert: Duration,
    pub proof_bytes: u64,
    pub liar_claims_reverted: usize,
}

impl Dispute {
    pub fn blocks(&self) -> u64 {
        self.reverted_at.saturating_sub(self.claim_included_at)
    }
}

pub fn table(disputes: &[Dispute]) -> String {
    let mut out = String::from(
        "on a local network: 4 validators + 2 honest executors + 1 executor with --fault wrong-root-at=3 (processes, loopback)\n\n",
    );
    out.push_str(
        "| run | bad height | claim in block | reverted in block | blocks | ms | proof bytes | liar claims reverted | target <= 3 blocks |\n",
    );
    out.push_str("|----:|-----------:|---------------:|------------------:|-------:|---:|------------:|---------------------:|:------------------|\n");
    for (i, d) in disputes.iter().enumerate() {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            i + 1,
            d.bad_height,
            d.claim_included_at,
            d.reverted_at,
            d.blocks(),
            d.included_to_revert.as_millis(),
            d.proof_bytes,
            d.liar_claims_reverted,
            if d.blocks() <= TARGET_REVERT_BLOCKS {
                "met"
            } else {
                "NOT met"
            }
        ));
    }
    out
}

/// A racing liar's dispute as a table: from its claim's inclusion to the block whose fraud
/// proof reverts it, against the challenge window it must beat.
pub fn race_table(d: &Dispute) -> String {
    let window = lazychain_config::DEFAULT_CHALLENGE_WINDOW_MS;
    let mut out = String::from(
        "on a local network: 4 validators + 1 honest executor + 1 executor with --fault race (made-up roots for every decided height, without executing; processes, loopback; default budget and window)\n\n",
    );
    out.push_str("| bad height | claim in block | reverted in block | blocks | ms | proof bytes | liar claims reverted | challenge window ms | reverted within the window |\n");
    out.push_str("|-----------:|---------------:|------------------:|-------:|---:|------------:|---------------------:|--------------------:|:---------------------------|\n");
    let ms = d.included_to_revert.as_millis();
    out.push_str(&format!(
        "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
        d.bad_height,
        d.claim_included_at,
        d.reverted_at,
        d.blocks(),
        ms,
        d.proof_bytes,
        d.liar_claims_reverted,
        window,
        if ms < u128::from(window) { "yes" } else { "NO" }
    ));
    out
}

pub fn run(opts: &NetOptions) -> Result<Vec<Dispute>, BenchError> {
    (0..opts.runs.max(1))
        .map(|run| one(&opts.exe, run, Liar::WrongRootAt))
        .collect()
}

/// One dispute with a racing liar (`--fault race`) on a local network of four validators,
/// one honest executor and the liar, the genesis defaults otherwise (execution budget,
/// 90 s challenge window), under the same light transfer load.
pub fn run_race(exe: &std::path::Path) -> Result<Dispute, BenchError> {
    one(exe, 0, Liar::Race)
}

fn one(exe: &std::path::Path, run: usize, liar: Liar) -> Result<Dispute, BenchError> {
    let dir = tempfile::tempdir()?;
    let mut manifest = generate(&GenerateOptions {
        validators: 4,
        executors: liar.honest_executors() + 1,
        seed: 11 + run as u64 + if liar == Liar::Race { 100 } else { 0 },
        config_overrides: vec![("log.filter".into(), "warn".into())],
        ..GenerateOptions::new(dir.path().join("net"), CHAIN_ID)
    })?;
    let liar_node = manifest.nodes.len() - 1;
    manifest.nodes[liar_node].fault = Some(liar.fault());
    let liar_address = liar_executor(&manifest.nodes[liar_node].home)?;
    let nodes = crate::procs::Running::start(exe, &manifest)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(watch(&manifest.nodes[0].rpc_url, &liar_address, run));
    drop(nodes);
    result
}

fn liar_executor(home: &std::path::Path) -> Result<String, BenchError> {
    let key = lazychain_config::ValidatorKey::load(&lazychain_config::init::key_path(home))
        .map_err(|e| BenchError::Rpc(format!("faulty executor's key: {e}")))?;
    Ok(format!(
        "0x{}",
        hex::encode(lazychain_config::executor_address(&key.public_key()))
    ))
}

async fn call(client: &HttpClient, method: &str, params: Vec<Value>) -> Result<Value, BenchError> {
    let mut p = jsonrpsee::core::params::ArrayParams::new();
    for v in params {
        p.insert(v).map_err(|e| BenchError::Rpc(e.to_string()))?;
    }
    client
        .request::<Value, _>(method, p)
        .await
        .map_err(|e| BenchError::Rpc(format!("{method}: {e}")))
}

/// Sends a transfer every 100 ms through validator 0 until its state consensus has accepted a
/// fraud proof against one of the liar's claims, then reads the dispute back.
async fn watch(rpc: &str, liar: &str, run: usize) -> Result<Dispute, BenchError> {
    let client = HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(10))
        .build(rpc)
        .map_err(|e| BenchError::Rpc(e.to_string()))?;
    let txs = txgen::generate(CHAIN_ID, Shape::Transfer, 50, 3_000, 100 + run as u64);
    let started = Instant::now();
    let mut sent = 0usize;
    let accepted = loop {
        if started.elapsed() > Duration::from_secs(180) {
            return Err(BenchError::Rpc(
                "no fraud proof accepted within 180 s".into(),
            ));
        }
        if let Some(tx) = txs.get(sent) {
            let _ = client
                .request::<Value, _>(
                    "eth_sendRawTransaction",
                    rpc_params![format!("0x{}", hex::encode(&tx.raw))],
                )
                .await;
            sent += 1;
        }
        let proofs = call(&client, "lazy_getFraudProofs", vec![Value::from(1u64)]).await?;
        let mut found = None;
        for p in proofs.as_array().into_iter().flatten() {
            if p["outcome"] != "accepted" {
                continue;
            }
            // The liar's claim that the proof reverted, and the block that included it.
            let height = p["targetHeight"].as_u64().unwrap_or(0);
            let claims = call(&client, "lazy_getClaims", vec![Value::from(height)]).await?;
            let included = claims["claims"].as_array().and_then(|l| {
                l.iter()
                    .find(|c| c["id"] == p["target"] && c["executor"] == liar)
                    .and_then(|c| c["includedAt"].as_u64())
            });
            if let Some(included) = included {
                found = Some((p.clone(), included));
                break;
            }
        }
        if let Some(found) = found {
            break found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let (accepted, claim_included_at) = accepted;
    let bad_height = accepted["targetHeight"].as_u64().unwrap_or(0);
    let reverted_at = accepted["includedAt"].as_u64().unwrap_or(0);
    let timestamp = |b: Value| b["timestampMs"].as_u64().unwrap_or(0);
    let included_ms = timestamp(
        call(
            &client,
            "lazy_getDataBlock",
            vec![Value::from(claim_included_at)],
        )
        .await?,
    );
    let reverted_ms =
        timestamp(call(&client, "lazy_getDataBlock", vec![Value::from(reverted_at)]).await?);
    // Every later claim of the liar recorded so far is reverted with it.
    let mut liar_claims_reverted = 0;
    let applied = call(&client, "lazy_getStateConsensus", vec![]).await?["appliedHeight"]
        .as_u64()
        .unwrap_or(0);
    for h in bad_height..=applied {
        let c = call(&client, "lazy_getClaims", vec![Value::from(h)]).await?;
        liar_claims_reverted += c["claims"]
            .as_array()
            .map(|l| {
                l.iter()
                    .filter(|c| c["executor"] == liar && c["status"] == "reverted")
                    .count()
            })
            .unwrap_or(0);
    }
    Ok(Dispute {
        bad_height,
        claim_included_at,
        reverted_at,
        included_to_revert: Duration::from_millis(reverted_ms.saturating_sub(included_ms)),
        proof_bytes: accepted["bytes"].as_u64().unwrap_or(0),
        liar_claims_reverted,
    })
}
