//! Direct submission of this executor's claims to validators' JSON-RPC endpoints
//! (`executor.submit_urls`), besides gossip: a claim that no block recorded within a few blocks
//! of being gossiped is also sent with `lazy_submitClaim` to two validators, taken in turn, so
//! that a gossip path that keeps losing it (a partitioned peer, a full duplicate cache) is not
//! the only way in. Every outcome is counted; every failure is logged with the endpoint.

use std::time::Duration;

use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use lazychain_fraud::ClaimId;
use tracing::{debug, warn};

use crate::metrics::ExecMetrics;

/// Validators each late claim is sent to.
const TARGETS_PER_CLAIM: usize = 2;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone)]
struct Target {
    url: String,
    client: HttpClient,
}

/// Sends claims to the configured validators, two per claim, rotating over them.
pub struct DirectSubmitter {
    targets: Vec<Target>,
    next: usize,
    metrics: Option<ExecMetrics>,
}

impl DirectSubmitter {
    /// A submitter over `urls` (validated config: `http(s)://HOST:PORT`); an endpoint the
    /// HTTP client refuses is logged and left out.
    pub fn new(urls: &[String], metrics: Option<ExecMetrics>) -> Self {
        let targets = urls
            .iter()
            .filter_map(|url| {
                match HttpClientBuilder::default()
                    .request_timeout(REQUEST_TIMEOUT)
                    .build(url)
                {
                    Ok(client) => Some(Target {
                        url: url.clone(),
                        client,
                    }),
                    Err(e) => {
                        warn!(url = %url, error = %e, "executor.submit_urls entry left out: no HTTP client for it");
                        None
                    }
                }
            })
            .collect();
        DirectSubmitter {
            targets,
            next: 0,
            metrics,
        }
    }

    /// Sends claim item `bytes` (the claim `id` for `height`) to the next validators in turn,
    /// in the background. Nothing to do without endpoints.
    pub fn submit(&mut self, height: u64, id: ClaimId, bytes: &[u8]) {
        if self.targets.is_empty() {
            return;
        }
        let hex = format!("0x{}", hex::encode(bytes));
        for _ in 0..TARGETS_PER_CLAIM.min(self.targets.len()) {
            let target = self.targets[self.next % self.targets.len()].clone();
            self.next = self.next.wrapping_add(1);
            let (hex, metrics) = (hex.clone(), self.metrics.clone());
            tokio::spawn(async move {
                let sent: Result<String, _> = target
                    .client
                    .request("lazy_submitClaim", rpc_params![hex])
                    .await;
                let delivered = match sent {
                    Ok(_) => {
                        debug!(height, claim = %id, url = %target.url, "claim submitted directly");
                        true
                    }
                    // The validator has it already (pooled or recorded): delivered.
                    Err(e) if e.to_string().contains("already known") => true,
                    Err(e) => {
                        warn!(height, claim = %id, url = %target.url, error = %e, "claim not submitted directly");
                        false
                    }
                };
                if let Some(m) = metrics {
                    if delivered {
                        m.claims_submitted_direct.inc();
                    } else {
                        m.claims_direct_failures.inc();
                    }
                }
            });
        }
    }
}
