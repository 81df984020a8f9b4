//! Running an executor: the embedded data-chain full node, the execution thread, the
//! `eth_*` methods added to the node's JSON-RPC server, and the state check of transactions
//! submitted to it (with the task releasing those held for nonce gaps).

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use lazychain_config::{Genesis, NodeConfig, ValidatorKey};
use lazychain_data_chain_node::extension::ExtensionFuture;
use lazychain_data_chain_node::{
    run_node_with, ExtensionError, NodeAddOns, NodeError, NodeExtension, NodeHandles, Role, Started,
};
use lazychain_fraud_node::StateNode;
use malachitebft_signing_ed25519::PrivateKey;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::warn;

use crate::admission::Admission;
use crate::executor::{report, Executor, ExecutorError, ExecutorOptions};
use crate::metrics::ExecMetrics;
use crate::store::StateStore;

/// File name of the state database, next to the block store.
pub const STATE_DB_FILE: &str = "state.redb";

#[derive(Debug, thiserror::Error)]
pub enum ExecNodeError {
    #[error(transparent)]
    Node(#[from] NodeError),
    #[error(transparent)]
    Executor(#[from] ExecutorError),
    /// State consensus could not start from the genesis.
    #[error("state consensus: {0}")]
    State(#[from] lazychain_fraud_node::StateError),
}

/// Why the executor could not start inside its node (the [`NodeExtension`]). The messages of
/// the variants with a prefix already print the cause, so it is not repeated as a `source()`
/// (the binary prints the whole chain).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The state database or genesis could not be opened.
    #[error(transparent)]
    Open(#[from] ExecutorError),
    /// The `eth_*` methods could not be added to the node's JSON-RPC module.
    #[error("executor rpc methods: {0}")]
    Rpc(jsonrpsee::core::RegisterMethodError),
    /// The operating system refused the execution thread.
    #[error("cannot start the execution thread: {0}")]
    Thread(std::io::Error),
}

/// Where an executor keeps its state database.
pub fn state_db_path(home: &Path, config: &NodeConfig) -> PathBuf {
    config.db_path(home).with_file_name(STATE_DB_FILE)
}

/// Runs an executor until `shutdown` resolves, a component fails, or execution stops on an
/// error (which is returned).
pub async fn run_executor(
    home: &Path,
    config: NodeConfig,
    genesis: Genesis,
    key: ValidatorKey,
    options: ExecutorOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ExecNodeError> {
    let state = Arc::new(
        StateStore::open(
            &state_db_path(home, &config),
            config.storage.state_cache_bytes(),
        )
        .map_err(ExecutorError::from)?,
    );
    let state_node = Arc::new(StateNode::new(&genesis)?);
    let extension = ExecutorExtension {
        genesis: genesis.clone(),
        state: Some(state),
        state_node: state_node.clone(),
        options,
        claim_key: Some(key.private_key()),
        submit_urls: config.executor.submit_urls.clone(),
        rpc: crate::rpc::RpcOptions {
            filter_timeout: std::time::Duration::from_secs(config.rpc.filter_timeout_secs),
        },
        running: None,
    };
    let result = run_node_with(
        Role::FullNode,
        home,
        config,
        genesis,
        key,
        NodeAddOns {
            extension: Some(Box::new(extension)),
            ..NodeAddOns::new(state_node)
        },
        shutdown,
    )
    .await;
    match result {
        // Execution stopped on an error: report it as the executor's, not the node's.
        Err(NodeError::Extension(e)) => match e.downcast::<ExecutorError>() {
            Ok(e) => Err(ExecNodeError::Executor(*e)),
            Err(e) => Err(ExecNodeError::Node(NodeError::Extension(e))),
        },
        other => Ok(other?),
    }
}

/// The executor inside its node: the execution thread, the claims task and the wake-up feed,
/// owned, and stopped in order when the node stops.
struct ExecutorExtension {
    genesis: Genesis,
    /// Taken by the execution thread at start.
    state: Option<Arc<StateStore>>,
    state_node: Arc<StateNode>,
    options: ExecutorOptions,
    /// Taken by the claims task at start.
    claim_key: Option<PrivateKey>,
    submit_urls: Vec<String>,
    rpc: crate::rpc::RpcOptions,
    running: Option<Running>,
}

struct Running {
    stop: Arc<AtomicBool>,
    claims: JoinHandle<()>,
    wake: JoinHandle<()>,
    /// Releases transactions held for nonce gaps.
    releases: JoinHandle<()>,
    thread: std::thread::JoinHandle<Result<(), ExecutorError>>,
}

impl NodeExtension for ExecutorExtension {
    fn start(&mut self, node: NodeHandles) -> Result<Started, ExtensionError> {
        let (Some(state), Some(claim_key)) = (self.state.take(), self.claim_key.take()) else {
            return Err("the executor is already started".into());
        };
        let (witness_tx, witness_rx) = std::sync::mpsc::channel();
        let metrics = ExecMetrics::register(node.shared.moniker());
        let executor = Executor::open(&self.genesis, state, node.store.clone(), self.options)
            .map_err(StartError::Open)?
            .with_metrics(metrics.clone())
            .with_sender_hints({
                let node = node.shared.clone();
                Arc::new(move |hash| node.known_sender(hash))
            })
            .with_witness_requests(witness_rx);
        let exec = executor.shared();
        let admission = Arc::new(Admission::new(exec.clone()));
        let methods = crate::rpc::register(
            exec.clone(),
            node.shared.clone(),
            self.rpc,
            Some(admission.clone()),
        )
        .map_err(StartError::Rpc)?;
        let status: lazychain_data_chain_node::extension::StatusFields = {
            let exec = exec.clone();
            Box::new(move |fields| crate::rpc::status_fields(&exec, fields))
        };
        let (wake_tx, wake_rx) = std::sync::mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let (failed_tx, mut failed_rx) = watch::channel(false);
        let thread = std::thread::Builder::new()
            .name("executor".into())
            .spawn({
                let stop = stop.clone();
                move || {
                    let result = executor.run(wake_rx, stop);
                    report(&result);
                    if result.is_err() {
                        let _ = failed_tx.send(true);
                    }
                    result
                }
            })
            .map_err(StartError::Thread)?;
        let claims = tokio::spawn(crate::claims::run(
            crate::claims::ClaimsOptions {
                key: claim_key,
                fault: self.options.fault,
                metrics: Some(metrics),
                submit_urls: self.submit_urls.clone(),
            },
            exec,
            crate::claims::NodeView::new(node.shared.clone(), self.state_node.clone()),
            witness_tx,
            wake_tx.clone(),
        ));
        let releases = tokio::spawn(crate::admission::run_releases(
            admission.clone(),
            node.shared.clone(),
        ));
        let mut decided = node.shared.subscribe_decided();
        let wake = tokio::spawn(async move {
            // A lagged receiver only means several decisions: one wake-up covers them.
            while let Ok(_) | Err(RecvError::Lagged(_)) = decided.recv().await {
                if wake_tx.send(()).is_err() {
                    break;
                }
            }
        });
        self.running = Some(Running {
            stop,
            claims,
            wake,
            releases,
            thread,
        });
        Ok(Started {
            methods,
            status: Some(status),
            admission: Some(admission),
            failed: Some(Box::pin(async move {
                let _ = failed_rx.wait_for(|failed| *failed).await;
            })),
        })
    }

    fn stop(self: Box<Self>) -> ExtensionFuture<Result<(), ExtensionError>> {
        Box::pin(async move {
            let Some(running) = self.running else {
                return Ok(());
            };
            // Claims first (they ask the execution thread for witnesses), then the wake-up
            // feed; the execution loop checks `stop` between blocks, so a block in progress
            // completes before the thread ends.
            running.stop.store(true, Ordering::Relaxed);
            running.claims.abort();
            let _ = running.claims.await;
            running.wake.abort();
            let _ = running.wake.await;
            running.releases.abort();
            let _ = running.releases.await;
            let thread = running.thread;
            match tokio::task::spawn_blocking(move || thread.join()).await {
                Ok(Ok(result)) => result.map_err(ExtensionError::from),
                Ok(Err(_)) => {
                    warn!("the execution thread panicked");
                    Ok(())
                }
                Err(e) => {
                    warn!(error = %e, "could not wait for the execution thread");
                    Ok(())
                }
            }
        })
    }
}
