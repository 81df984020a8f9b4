//! Wiring of a validator process: block store, mempool, gossip, Malachite engine, application
//! loop, JSON-RPC and the operator HTTP endpoints.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use jsonrpsee::RpcModule;
use lazychain_config::{Genesis, NodeConfig, ValidatorKey};
use lazychain_data_chain_consensus::engine::{self, EngineParams, Timing};
use lazychain_data_chain_consensus::malachite::app::types::core::LinearTimeouts;
use lazychain_data_chain_consensus::malachite::NetworkRequest;
use lazychain_data_chain_consensus::{Address, LazySigner, Validator, ValidatorSet};
use lazychain_data_chain_types::budget::GasBudget;
use lazychain_data_chain_types::validity::{BlockRules, ParentInfo};
use lazychain_data_chain_types::BlockHash;
use malachitebft_signing_ed25519 as ed25519;
use tokio::sync::mpsc;
use tracing::{info, warn};

use crate::app::App;
use crate::coupled::CoupledExecution;
use crate::extension::{ExtensionError, NodeExtension, NodeHandles};
use crate::mempool::{Mempool, MempoolLimits};
use crate::metrics::NodeMetrics;
use crate::rpc::RpcLimits;
use crate::shared::NodeShared;
use crate::state_service::{ItemGossip, StateLink, StateService};
use crate::store::BlockStore;

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("{0}")]
    Config(String),
    #[error("this node's key {address} is not a validator in {genesis}")]
    NotAValidator { address: String, genesis: PathBuf },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Engine(#[from] engine::EngineError),
    #[error(transparent)]
    Gossip(#[from] crate::gossip::GossipError),
    #[error(transparent)]
    Rpc(#[from] crate::rpc::RpcError),
    #[error("metrics endpoint on {addr}: {error}")]
    Http { addr: String, error: std::io::Error },
    #[error("application loop: {0}")]
    App(String),
    /// Replaying the decided chain through state consensus at start-up failed. The message
    /// already names the cause, so it is not repeated as a `source()`.
    #[error("application loop: {0}")]
    Replay(ExtensionError),
    /// The embedding process's [`NodeExtension`] could not start, or failed.
    #[error(transparent)]
    Extension(ExtensionError),
}

/// The validator set of a genesis file, in Malachite's types.
pub fn validator_set(genesis: &Genesis) -> Result<ValidatorSet, NodeError> {
    let mut validators = Vec::with_capacity(genesis.validators.len());
    for v in &genesis.validators {
        let public_key = ed25519::PublicKey::from_bytes(v.public_key).map_err(|e| {
            NodeError::Config(format!(
                "genesis: validator {:?}: invalid ed25519 public key: {e}",
                v.name
            ))
        })?;
        validators.push(Validator {
            address: Address(v.address()),
            public_key,
            voting_power: v.voting_power,
        });
    }
    Ok(ValidatorSet::new(validators))
}

pub fn block_rules(genesis: &Genesis) -> BlockRules {
    let l = &genesis.limits;
    BlockRules {
        chain_id: genesis.chain_id,
        max_block_bytes: l.max_block_bytes,
        max_tx_bytes: l.max_tx_bytes,
        max_block_gas: l.max_block_gas,
        max_txs_per_block: l.max_txs_per_block,
        min_gas_price: u128::from(l.min_gas_price),
        max_timestamp_drift_ms: l.max_timestamp_drift_ms,
        budget: GasBudget {
            gas_per_second: l.gas_per_second,
            burst: l.gas_burst,
            base_fee_floor: genesis.execution.base_fee_per_gas,
        },
    }
}

pub fn timing(config: &NodeConfig) -> Timing {
    let c = &config.consensus;
    let ms = Duration::from_millis;
    let timeouts = LinearTimeouts {
        propose: ms(c.timeout_propose_ms),
        propose_delta: ms(c.timeout_propose_delta_ms),
        prevote: ms(c.timeout_prevote_ms),
        prevote_delta: ms(c.timeout_prevote_delta_ms),
        precommit: ms(c.timeout_precommit_ms),
        precommit_delta: ms(c.timeout_precommit_delta_ms),
        rebroadcast: ms(c.timeout_propose_ms + c.timeout_prevote_ms + c.timeout_precommit_ms),
        ..LinearTimeouts::default()
    };
    Timing {
        timeouts,
        target_time: (c.target_block_time_ms > 0).then(|| ms(c.target_block_time_ms)),
    }
}

/// Turns on the benchmark-only coupled mode: the execution wired in is brought up to the
/// decided height by executing every decided block again.
async fn enable_coupled(
    shared: &Arc<NodeShared>,
    store: &Arc<BlockStore>,
    coupled: Arc<dyn CoupledExecution>,
    latest: u64,
) -> Result<(), NodeError> {
    let started = std::time::Instant::now();
    let store = store.clone();
    let replay = coupled.clone();
    tokio::task::spawn_blocking(move || {
        for height in 1..=latest {
            let decided = store
                .decided(height)?
                .ok_or_else(|| NodeError::App(format!("decided block {height} is missing")))?;
            replay
                .commit(&decided.block, &|_| None)
                .map_err(|e| NodeError::App(e.to_string()))?;
        }
        Ok::<_, NodeError>(())
    })
    .await
    .map_err(|e| NodeError::App(e.to_string()))??;
    let (height, root) = coupled.committed();
    warn!(
        height,
        %root,
        replay_ms = started.elapsed().as_millis() as u64,
        "COUPLED EXECUTION (benchmarks only): this validator executes every block before proposing and voting"
    );
    shared.set_coupled(coupled);
    Ok(())
}

/// Parses the `Display` form of a validator address (`0x` + 40 hex digits).
fn parse_address(text: &str) -> Option<[u8; 20]> {
    let bytes = hex::decode(text.strip_prefix("0x")?).ok()?;
    bytes.try_into().ok()
}

/// Addresses a running node actually bound.
#[derive(Clone, Debug)]
pub struct BoundAddrs {
    pub rpc: std::net::SocketAddr,
    pub metrics: std::net::SocketAddr,
}

/// What a data-chain node does in consensus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Votes and proposes with its key, which must be in the genesis validator set.
    Validator,
    /// Follows consensus and value sync, verifies every commit certificate, never signs. Its
    /// key only names it on the network.
    FullNode,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Validator => "validator",
            Role::FullNode => "fullnode",
        }
    }
}

/// What an embedding process (the binary, an executor) adds to a data-chain node.
pub struct NodeAddOns {
    /// State consensus over the decided blocks: every node runs one.
    pub state: Arc<dyn StateService>,
    /// Runs beside the node (the executor), with its own RPC methods and status fields.
    pub extension: Option<Box<dyn NodeExtension>>,
    /// The benchmark-only coupled execution, run on the consensus path when
    /// `consensus.coupled_execution` is set on a validator.
    pub coupled: Option<Arc<dyn CoupledExecution>>,
}

impl NodeAddOns {
    /// A node with `state` and nothing else added.
    pub fn new(state: Arc<dyn StateService>) -> Self {
        Self {
            state,
            extension: None,
            coupled: None,
        }
    }
}

/// Runs a data-chain node in `role`, with what the embedding process adds to it, until
/// `shutdown` resolves or a component fails.
pub async fn run_node_with(
    role: Role,
    home: &Path,
    config: NodeConfig,
    genesis: Genesis,
    key: ValidatorKey,
    add_ons: NodeAddOns,
    shutdown: impl Future<Output = ()>,
) -> Result<(), NodeError> {
    let NodeAddOns {
        state,
        extension,
        coupled,
    } = add_ons;
    let validators = validator_set(&genesis)?;
    let address = Address(key.address());
    let in_set = validators.get(&address).is_some();
    if role == Role::Validator && !in_set {
        return Err(NodeError::NotAValidator {
            address: address.to_string(),
            genesis: home.join(lazychain_config::GENESIS_FILE),
        });
    }
    if role == Role::FullNode && in_set {
        return Err(NodeError::Config(format!(
            "{address} is a genesis validator; run it with `lazychain validator`, not as a full node"
        )));
    }
    let rules = block_rules(&genesis);
    let genesis_parent = ParentInfo {
        height: 0,
        hash: BlockHash::ZERO,
        timestamp_ms: genesis.genesis_time_ms,
        gas_allowance: rules.budget.genesis_allowance(),
        base_fee_per_gas: genesis.execution.base_fee_per_gas,
    };
    if !rules.budget.enabled() {
        warn!("UNSAFE: genesis limits.gas_per_second is 0: no execution budget bounds what the data chain takes on, so nothing bounds how far executors can fall behind the challenge window");
    }
    let store = Arc::new(BlockStore::open(
        &config.db_path(home),
        genesis_parent,
        config.storage.block_cache_bytes(),
    )?);
    let metrics = NodeMetrics::register(&config.node.moniker);
    let mempool = Mempool::new(MempoolLimits {
        max_txs: config.mempool.max_txs,
        max_bytes: config.mempool.max_bytes,
        max_txs_per_sender: config.mempool.max_txs_per_sender,
    });
    let (gossip_tx, gossip_rx) = mpsc::channel(65_536);
    let (items_tx, items_rx) = mpsc::channel(1024);
    state
        .attach(StateLink {
            store: store.clone(),
            gossip: ItemGossip(items_tx),
            moniker: config.node.moniker.clone(),
        })
        .map_err(NodeError::Extension)?;
    let shared = Arc::new(NodeShared::new(
        role.name(),
        config.node.moniker.clone(),
        rules,
        store.clone(),
        mempool,
        metrics,
        validators
            .validators()
            .iter()
            .map(|v| (v.address.0, v.voting_power))
            .collect(),
        validators
            .get(&address)
            .map(|v| v.voting_power)
            .unwrap_or(0),
        gossip_tx,
        state.clone(),
    ));
    // Replay the decided chain through state consensus before serving anything.
    let replay_started = std::time::Instant::now();
    let replay = state.clone();
    let applied = tokio::task::spawn_blocking(move || replay.follow())
        .await
        .map_err(|e| NodeError::App(e.to_string()))?
        .map_err(NodeError::Replay)?;
    info!(
        applied,
        elapsed_ms = replay_started.elapsed().as_millis() as u64,
        "state consensus replayed"
    );
    let latest = store.latest_height()?;
    if config.consensus.coupled_execution {
        if role == Role::Validator {
            let coupled = coupled.ok_or_else(|| {
                NodeError::Config(
                    "consensus.coupled_execution is set, but this process has no coupled execution wired in".into(),
                )
            })?;
            enable_coupled(&shared, &store, coupled, latest).await?;
        } else {
            warn!("consensus.coupled_execution applies to validators only; ignored");
        }
    }
    if let Some(header) = store.decided_header(latest)? {
        let hash = header
            .hash()
            .map_err(|e| NodeError::Config(e.to_string()))?;
        shared.restore_status(latest, hash, header.timestamp_ms);
    }

    let keypair = engine::keypair(key.seed())?;
    let gossip = crate::gossip::spawn(
        keypair,
        &config.gossip.listen_addr,
        &config.gossip.peers,
        shared.clone(),
        gossip_rx,
        items_rx,
    )
    .await?;

    let (channels, engine_handle) = engine::start(EngineParams {
        moniker: config.node.moniker.clone(),
        key_seed: key.seed(),
        address,
        is_validator: role == Role::Validator,
        listen_addr: config.consensus.listen_addr.clone(),
        persistent_peers: config.consensus.persistent_peers.clone(),
        wal_path: config.wal_path(home),
        value_sync_batch: 10,
    })
    .await?;

    let rpc_addr = config
        .rpc
        .socket_addr()
        .map_err(|e| NodeError::Config(e.to_string()))?;
    let limits = RpcLimits {
        max_request_body_bytes: config.rpc.max_request_body_bytes,
        max_response_body_bytes: config.rpc.max_response_body_bytes,
        max_batch_len: config.rpc.max_batch_len,
        max_connections: config.rpc.max_connections,
    };
    let mut module = crate::rpc::module(shared.clone())
        .map_err(|e| NodeError::Config(format!("rpc methods: {e}")))?;
    module
        .merge(state.clone().rpc_methods().map_err(NodeError::Extension)?)
        .map_err(|e| NodeError::Config(format!("rpc methods: {e}")))?;
    let mut extension = extension;
    let mut extension_failed = None;
    if let Some(ext) = extension.as_mut() {
        let started = ext.start(NodeHandles {
            shared: shared.clone(),
            store: store.clone(),
        });
        let started = match started {
            Ok(started) => started,
            Err(e) => {
                let _ = stop_extension(extension).await;
                return Err(NodeError::Extension(e));
            }
        };
        if let Some(fields) = started.status {
            shared.set_status_fields(fields);
        }
        if let Some(admission) = started.admission {
            shared.set_admission(admission);
        }
        extension_failed = started.failed;
        if let Err(e) = module.merge(started.methods) {
            let _ = stop_extension(extension).await;
            return Err(NodeError::Config(format!("rpc methods: {e}")));
        }
    }
    let served = serve(&config, rpc_addr, &limits, module, &shared).await;
    let ((rpc_bound, rpc_handle), metrics_bound) = match served {
        Ok(served) => served,
        Err(e) => {
            let _ = stop_extension(extension).await;
            return Err(e);
        }
    };
    info!(role = role.name(), rpc = %rpc_bound, metrics = %metrics_bound, address = %address, height = latest, "node started");

    let net_requests = channels.net_requests.clone();
    let peers_shared = shared.clone();
    let peers_task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            if let Ok(Some(dump)) = NetworkRequest::dump_state(&net_requests).await {
                // Validators are peers whose proof-of-validator checked out against the set.
                let validators = dump
                    .peers
                    .values()
                    .filter_map(|p| p.consensus_address.as_deref())
                    .filter_map(parse_address)
                    .collect();
                peers_shared.set_peers(Some((dump.peers.len(), validators)), None);
            }
        }
    });
    let mut decided = shared.subscribe_decided();
    let state_task = tokio::spawn(async move {
        loop {
            let state = state.clone();
            match tokio::task::spawn_blocking(move || state.follow()).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => warn!(error = %e, "state consensus could not apply a block"),
                Err(e) => warn!(error = %e, "state consensus task failed"),
            }
            // A missed or lagged notification only delays: the timeout polls the store.
            let _ = tokio::time::timeout(Duration::from_millis(500), decided.recv()).await;
        }
    });
    let progress_shared = shared.clone();
    let progress_task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(10));
        let mut last = 0u64;
        loop {
            tick.tick().await;
            let s = progress_shared.status();
            info!(
                height = s.height,
                blocks_per_s = (s.height.saturating_sub(last)) as f64 / 10.0,
                peers = s.consensus_peers,
                mempool = progress_shared.mempool_len(),
                "progress"
            );
            last = s.height;
        }
    });

    let signer = (role == Role::Validator).then(|| LazySigner::new(key.seed()));
    let app = App::new(
        shared.clone(),
        validators,
        timing(&config),
        address,
        signer,
        Duration::from_millis(config.consensus.max_block_wait_ms),
        Duration::from_millis(config.consensus.empty_block_interval_ms),
    );
    let mut app_task = tokio::spawn(app.run(channels));

    let extension_failed = async move {
        match extension_failed {
            Some(failed) => failed.await,
            None => std::future::pending().await,
        }
    };
    let result = tokio::select! {
        _ = shutdown => {
            info!("shutting down");
            Ok(())
        }
        _ = extension_failed => {
            info!("shutting down");
            Ok(())
        }
        r = &mut app_task => match r {
            Ok(Ok(())) => Err(NodeError::App("consensus engine stopped".into())),
            Ok(Err(e)) => Err(NodeError::App(e.to_string())),
            Err(e) => Err(NodeError::App(e.to_string())),
        },
    };
    peers_task.abort();
    state_task.abort();
    progress_task.abort();
    gossip.abort();
    let _ = rpc_handle.stop();
    if let Err(e) = engine_handle.actor.kill_and_wait(None).await {
        warn!(error = %e, "engine did not stop cleanly");
    }
    app_task.abort();
    // The extension's tasks last: they read the store and the node's state until here.
    let stopped = stop_extension(extension).await;
    result?;
    stopped.map_err(NodeError::Extension)
}

/// Stops an extension's tasks, if it has any, and returns the error it failed with.
async fn stop_extension(extension: Option<Box<dyn NodeExtension>>) -> Result<(), ExtensionError> {
    match extension {
        Some(extension) => extension.stop().await,
        None => Ok(()),
    }
}

/// Starts the JSON-RPC server and the operator HTTP endpoints; returns their bound addresses.
async fn serve(
    config: &NodeConfig,
    rpc_addr: std::net::SocketAddr,
    limits: &RpcLimits,
    module: RpcModule<Arc<NodeShared>>,
    shared: &Arc<NodeShared>,
) -> Result<
    (
        (std::net::SocketAddr, jsonrpsee::server::ServerHandle),
        std::net::SocketAddr,
    ),
    NodeError,
> {
    let rpc = crate::rpc::serve(rpc_addr, limits, module).await?;
    let metrics_addr = config
        .metrics
        .socket_addr()
        .map_err(|e| NodeError::Config(e.to_string()))?;
    let metrics_bound = crate::http::serve(metrics_addr, shared.clone())
        .await
        .map_err(|error| NodeError::Http {
            addr: metrics_addr.to_string(),
            error,
        })?;
    Ok((rpc, metrics_bound))
}
