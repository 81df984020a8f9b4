//! Executor lag over time: four validators and one executor as processes on loopback, a steady
//! load of transfers from the funded dev accounts, and the executor's `lazy_status` sampled
//! every 250 ms (decided height, executed height, lag). Where execution cannot keep up with
//! the data chain, the lag grows: the data chain does not slow down for it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use alloy_consensus::TxEip1559;
use alloy_primitives::{Address, Bytes, TxKind, U256};
use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::params::BatchRequestBuilder;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use lazychain_localnet::{generate, GenerateOptions};
use secp256k1::SecretKey;
use serde_json::Value;

use crate::data_chain::BenchError;

const CHAIN_ID: u64 = 1337;

pub struct LagOptions {
    pub exe: PathBuf,
    /// Offered transfers per second.
    pub rate: f64,
    /// How long the load runs; sampling goes on 10 s longer to show the drain.
    pub seconds: u64,
}

#[derive(Clone, Copy, Debug)]
pub struct LagSample {
    pub at: Duration,
    pub data_height: u64,
    pub executed_height: u64,
}

impl LagSample {
    pub fn lag(&self) -> u64 {
        self.data_height.saturating_sub(self.executed_height)
    }
}

fn transfer(key: &SecretKey, nonce: u64, to: Address) -> Vec<u8> {
    let tx = TxEip1559 {
        chain_id: CHAIN_ID,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 1,
        to: TxKind::Call(to),
        value: U256::from(1u64),
        access_list: Default::default(),
        input: Bytes::new(),
    };
    crate::txgen::sign(tx, key)
}

pub fn run(opts: &LagOptions) -> Result<Vec<LagSample>, BenchError> {
    run_measuring_claims(opts).map(|(samples, _)| samples)
}

/// [`run`], and how the executor's claims rode the data chain during the load (read from
/// validator 0 after the drain, over the blocks decided while the load ran).
pub fn run_measuring_claims(
    opts: &LagOptions,
) -> Result<(Vec<LagSample>, crate::claims::ClaimInclusion), BenchError> {
    let dir = tempfile::tempdir()?;
    let manifest = generate(&GenerateOptions {
        validators: 4,
        executors: 1,
        config_overrides: vec![
            ("log.filter".into(), "warn".into()),
            ("mempool.max_txs".into(), "400000".into()),
            ("mempool.max_bytes".into(), "1073741824".into()),
        ],
        ..GenerateOptions::new(dir.path().join("net"), CHAIN_ID)
    })?;
    let keys: Vec<SecretKey> = manifest
        .dev_accounts
        .iter()
        .filter_map(|a| {
            let bytes = hex::decode(a.private_key.trim_start_matches("0x")).ok()?;
            SecretKey::from_byte_array(bytes.try_into().ok()?).ok()
        })
        .collect();
    if keys.is_empty() {
        return Err(BenchError::Rpc("no dev accounts in the manifest".into()));
    }
    let count = (opts.rate * opts.seconds as f64) as usize;
    let txs: Vec<Vec<u8>> = (0..count)
        .map(|i| {
            let k = i % keys.len();
            transfer(
                &keys[k],
                (i / keys.len()) as u64,
                Address::with_last_byte((i % 251) as u8),
            )
        })
        .collect();
    let nodes = crate::procs::Running::start(&opts.exe, &manifest)?;
    let validators = manifest.rpc_urls("validator");
    let executor = manifest
        .nodes_with_role("executor")
        .next()
        .map(|n| n.rpc_url.clone())
        .unwrap_or_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(async {
        let samples = load_and_sample(&validators, &executor, txs, opts).await?;
        let load = Duration::from_secs(opts.seconds);
        let first = samples.first().map(|s| s.data_height).unwrap_or(1).max(1);
        let load_end = samples
            .iter()
            .rfind(|s| s.at <= load)
            .map(|s| s.data_height)
            .unwrap_or(first)
            .max(first);
        let v0 = client(validators.first().map(String::as_str).unwrap_or_default())?;
        let claims = crate::claims::measure(&v0, first..=load_end).await?;
        Ok((samples, claims))
    });
    drop(nodes);
    result
}

fn client(url: &str) -> Result<HttpClient, BenchError> {
    HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(10))
        .build(url)
        .map_err(|e| BenchError::Rpc(e.to_string()))
}

async fn load_and_sample(
    validators: &[String],
    executor: &str,
    txs: Vec<Vec<u8>>,
    opts: &LagOptions,
) -> Result<Vec<LagSample>, BenchError> {
    // Each sender's transactions go to one validator, in nonce order.
    let clients: Vec<HttpClient> = validators
        .iter()
        .map(|u| client(u))
        .collect::<Result<_, _>>()?;
    let exec = client(executor)?;
    let start = Instant::now();
    let sampler = {
        let total = Duration::from_secs(opts.seconds + 10);
        tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut tick = tokio::time::interval(Duration::from_millis(250));
            while start.elapsed() < total {
                tick.tick().await;
                if let Ok(s) = exec.request::<Value, _>("lazy_status", rpc_params![]).await {
                    samples.push(LagSample {
                        at: start.elapsed(),
                        data_height: s["dataHeight"].as_u64().unwrap_or(0),
                        executed_height: s["executedHeight"].as_u64().unwrap_or(0),
                    });
                }
            }
            samples
        })
    };
    let tick = Duration::from_millis(50);
    let per_tick = ((opts.rate * tick.as_secs_f64()).round() as usize).max(1);
    let mut next = Instant::now();
    for (n, chunk) in txs.chunks(per_tick).enumerate() {
        tokio::time::sleep_until(next.into()).await;
        next += tick;
        let mut builder = BatchRequestBuilder::new();
        for raw in chunk {
            let _ = builder.insert(
                "eth_sendRawTransaction",
                rpc_params![format!("0x{}", hex::encode(raw))],
            );
        }
        let c = &clients[n % clients.len()];
        let _ = c.batch_request::<String>(builder).await;
    }
    sampler
        .await
        .map_err(|e| BenchError::Rpc(format!("sampler: {e}")))
}

/// Why a chart could not be drawn or written.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The SVG backend failed (writing the file) or the chart did not fit its area.
    #[error(transparent)]
    Draw(#[from] plotters::drawing::DrawingAreaErrorKind<std::io::Error>),
}

/// Draws decided height minus executed height over time as SVG.
pub fn plot(samples: &[LagSample], path: &Path) -> Result<(), PlotError> {
    plot_series(&[("lag".to_owned(), samples)], path)
}

/// [`plot`] with several labelled runs on one chart.
pub fn plot_series(series: &[(String, &[LagSample])], path: &Path) -> Result<(), PlotError> {
    use plotters::prelude::*;
    let all = || series.iter().flat_map(|(_, s)| s.iter());
    let max_x = all().map(|s| s.at.as_secs_f64()).fold(1.0, f64::max);
    let max_y = all().map(LagSample::lag).max().unwrap_or(1).max(1) as f64 * 1.2;
    let root = SVGBackend::new(path, (900, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("executor lag behind the data chain", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..max_x, 0.0..max_y)?;
    chart
        .configure_mesh()
        .x_desc("seconds since the load started")
        .y_desc("decided height - executed height (blocks)")
        .draw()?;
    for (n, (label, samples)) in series.iter().enumerate() {
        let color = Palette99::pick(n).to_rgba();
        chart
            .draw_series(LineSeries::new(
                samples.iter().map(|s| (s.at.as_secs_f64(), s.lag() as f64)),
                color.stroke_width(2),
            ))?
            .label(label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
    }
    if series.len() > 1 {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()?;
    }
    root.present()?;
    Ok(())
}
