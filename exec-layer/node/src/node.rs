//! Running an executor: the embedded data-chain full node, the execution thread, and the
//! `eth_*` methods added to the node's JSON-RPC server.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use lazychain_config::{Genesis, NodeConfig, ValidatorKey};
use lazychain_data_chain_node::{run_node_with, NodeAddOns, NodeError, NodeExtension, Role};
use lazychain_fraud_node::StateNode;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;

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
    let stop = Arc::new(AtomicBool::new(false));
    let (failed_tx, mut failed_rx) = watch::channel(false);
    let outcome: Arc<Mutex<Option<Result<(), ExecutorError>>>> = Arc::new(Mutex::new(None));
    let thread: Arc<Mutex<Option<std::thread::JoinHandle<()>>>> = Arc::new(Mutex::new(None));

    let extension: NodeExtension = {
        let genesis = genesis.clone();
        let stop = stop.clone();
        let outcome = outcome.clone();
        let thread = thread.clone();
        let claim_key = key.private_key();
        let submit_urls = config.executor.submit_urls.clone();
        let state_node = state_node.clone();
        Box::new(move |handles, module| {
            let (witness_tx, witness_rx) = std::sync::mpsc::channel();
            let metrics = ExecMetrics::register(&handles.shared.moniker);
            let executor = Executor::open(&genesis, state, handles.store.clone(), options)
                .map_err(StartError::Open)?
                .with_metrics(metrics.clone())
                .with_sender_hints({
                    let node = handles.shared.clone();
                    Arc::new(move |hash| node.known_sender(hash))
                })
                .with_witness_requests(witness_rx);
            crate::rpc::register(module, executor.shared(), handles.shared.clone())
                .map_err(StartError::Rpc)?;
            let (wake_tx, wake_rx) = std::sync::mpsc::channel();
            tokio::spawn(crate::claims::run(
                crate::claims::ClaimsOptions {
                    key: claim_key,
                    fault: options.fault,
                    metrics: Some(metrics),
                    submit_urls: submit_urls.clone(),
                },
                executor.shared(),
                crate::claims::NodeView::new(handles.shared.clone(), state_node),
                witness_tx,
                wake_tx.clone(),
            ));
            let mut decided = handles.shared.subscribe_decided();
            tokio::spawn(async move {
                // A lagged receiver only means several decisions: one wake-up covers them.
                while let Ok(_) | Err(RecvError::Lagged(_)) = decided.recv().await {
                    if wake_tx.send(()).is_err() {
                        break;
                    }
                }
            });
            let handle = std::thread::Builder::new()
                .name("executor".into())
                .spawn(move || {
                    let result = executor.run(wake_rx, stop);
                    report(&result);
                    let failed = result.is_err();
                    if let Ok(mut slot) = outcome.lock() {
                        *slot = Some(result);
                    }
                    if failed {
                        let _ = failed_tx.send(true);
                    }
                })
                .map_err(StartError::Thread)?;
            if let Ok(mut slot) = thread.lock() {
                *slot = Some(handle);
            }
            Ok(())
        })
    };
    let stopped_on_error = async move {
        let _ = failed_rx.wait_for(|failed| *failed).await;
    };
    let shutdown = async move {
        tokio::select! {
            _ = shutdown => {}
            _ = stopped_on_error => {}
        }
    };
    let node_result = run_node_with(
        Role::FullNode,
        home,
        config,
        genesis,
        key,
        NodeAddOns {
            extension: Some(extension),
            ..NodeAddOns::new(state_node)
        },
        shutdown,
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    let handle = thread.lock().ok().and_then(|mut t| t.take());
    if let Some(handle) = handle {
        // The loop checks `stop` between blocks; a block in progress completes first.
        let _ = tokio::task::spawn_blocking(move || handle.join()).await;
    }
    node_result?;
    let result = outcome.lock().ok().and_then(|mut o| o.take());
    match result {
        Some(Err(e)) => Err(e.into()),
        _ => Ok(()),
    }
}
