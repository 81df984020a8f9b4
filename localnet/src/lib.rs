//! Generate and run a local multi-node lazychain network on loopback: deterministic keys, one
//! genesis, a home per node with non-colliding ports and full-mesh peers, each node spawned as
//! its own process, `localnet.json` listing them, status and teardown, faults on purpose (kill,
//! restart, faulty executors) and, with `--netns`, one network namespace per node so that
//! partitions can be made (`netns`).
//!
//! It only manages files and processes; it links no node code and talks to nodes through their
//! JSON-RPC like any client would.

#![forbid(unsafe_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub mod netns;

use lazychain_config::{
    challenge_window_floor_ms, dev_accounts, dev_execution, executor_catch_up_ms,
    fee_recipient_for, BlockLimits, Genesis, GenesisAccount, GenesisExecutor, GenesisFile,
    GenesisValidator, NodeConfig, StateGenesis, ValidatorKey, DEFAULT_MAX_EXECUTOR_STALL_MS,
    DEFAULT_MIN_CORROBORATION, DEFAULT_MIN_WINDOW_BLOCKS, DEFAULT_SLASH_REWARD_PERCENT,
    DETECTION_MARGIN_MS, DEV_ACCOUNT_COUNT,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const MANIFEST_FILE: &str = "localnet.json";

/// The bond of every executor of a local network: 1000 ETH, in wei.
pub const EXECUTOR_BOND_WEI: u128 = 1_000 * 1_000_000_000_000_000_000;

#[derive(Debug, thiserror::Error)]
pub enum LocalnetError {
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(transparent)]
    Config(#[from] lazychain_config::ConfigError),
    #[error("{path}: invalid localnet manifest: {error}")]
    Manifest { path: PathBuf, error: String },
    #[error("invalid options: {0}")]
    Options(String),
    #[error("no free port on 127.0.0.1: {0}")]
    Ports(std::io::Error),
    #[error("starting {node}: {error}")]
    Spawn { node: String, error: std::io::Error },
    #[error("{node} exited during start-up (status {status}); see {log}")]
    Exited {
        node: String,
        status: String,
        log: PathBuf,
    },
    #[error("the network did not become ready within {0:?}: {1}")]
    NotReady(Duration, String),
    /// The message prints the cause, so it is not repeated as a `source()` (the binary prints
    /// the whole chain).
    #[error("network namespaces: {0}")]
    Namespaces(netns::NetnsError),
}

/// Why a node's `lazy_status` could not be read ([`node_status`]).
#[derive(Debug, thiserror::Error)]
pub enum NodeStatusError {
    /// The RPC URL does not make an HTTP client.
    #[error(transparent)]
    Client(jsonrpsee::core::ClientError),
    /// The request failed or timed out: the node is down or not serving yet.
    #[error(transparent)]
    Request(jsonrpsee::core::ClientError),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> LocalnetError + '_ {
    move |error| LocalnetError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// One node of a local network, as written to `localnet.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct NodeEntry {
    pub name: String,
    pub role: String,
    pub pid: Option<u32>,
    pub home: PathBuf,
    pub address: String,
    pub rpc_url: String,
    pub ws_url: String,
    pub p2p_address: String,
    pub gossip_address: String,
    pub metrics_url: String,
    pub log: PathBuf,
    /// A deliberate fault the node runs with (`lazychain executor --fault` or `lazychain
    /// validator --fault`), for demos and tests; absent for an honest node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    /// The network namespace the node runs in (`localnet up --netns`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub netns: Option<String>,
}

/// A prefunded dev account of a local network, as written to `localnet.json`. The keys are
/// derived from the public dev mnemonic: local use only.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct DevAccountEntry {
    /// The last component of the derivation path `m/44'/60'/0'/0/{index}`.
    pub index: u32,
    /// EIP-55 checksummed address.
    pub address: String,
    /// The private key, `0x` hex.
    pub private_key: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub chain_id: u64,
    pub nodes: Vec<NodeEntry>,
    /// The accounts funded in genesis; absent in manifests written before they existed.
    #[serde(default)]
    pub dev_accounts: Vec<DevAccountEntry>,
    /// The namespaces and bridge of a `--netns` network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespaces: Option<netns::NamespaceNet>,
}

impl Manifest {
    pub fn load(dir: &Path) -> Result<Self, LocalnetError> {
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(io_err(&path))?;
        serde_json::from_str(&text).map_err(|e| LocalnetError::Manifest {
            path,
            error: e.to_string(),
        })
    }

    pub fn save(&self, dir: &Path) -> Result<(), LocalnetError> {
        let path = dir.join(MANIFEST_FILE);
        let tmp = dir.join(format!("{MANIFEST_FILE}.tmp"));
        let text = serde_json::to_string_pretty(self).map_err(|e| LocalnetError::Manifest {
            path: path.clone(),
            error: e.to_string(),
        })?;
        std::fs::write(&tmp, text).map_err(io_err(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io_err(&path))
    }

    /// The nodes of one role (`validator`, `fullnode` or `executor`), in order.
    pub fn nodes_with_role<'a>(&'a self, role: &'a str) -> impl Iterator<Item = &'a NodeEntry> {
        self.nodes.iter().filter(move |n| n.role == role)
    }

    /// The JSON-RPC URLs of the nodes of one role, in order.
    pub fn rpc_urls(&self, role: &str) -> Vec<String> {
        self.nodes_with_role(role)
            .map(|n| n.rpc_url.clone())
            .collect()
    }
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct GenerateOptions {
    pub dir: PathBuf,
    pub validators: usize,
    /// Non-voting full nodes that follow the chain.
    pub full_nodes: usize,
    /// Lazy executors (non-voting, after the full nodes).
    pub executors: usize,
    pub chain_id: u64,
    /// First port; 0 picks free ports.
    pub base_port: u16,
    pub seed: u64,
    /// Config overrides applied to every node (e.g. shorter timeouts in tests).
    pub config_overrides: Vec<(String, String)>,
    /// The genesis challenge window in milliseconds of block timestamps,
    /// `state.challenge_window_ms` (callers use
    /// [`lazychain_config::DEFAULT_CHALLENGE_WINDOW_MS`], 90 s, unless a test needs another).
    pub challenge_window_ms: u64,
    /// `state.min_window_blocks`; `None`: [`DEFAULT_MIN_WINDOW_BLOCKS`].
    pub min_window_blocks: Option<u64>,
    /// `state.min_corroboration`; `None`: [`DEFAULT_MIN_CORROBORATION`].
    pub min_corroboration: Option<u64>,
    /// `state.max_executor_stall_ms`; `None`: [`tolerated_stall_ms`], the longest stall the
    /// window tolerates under the execution budget.
    pub max_executor_stall_ms: Option<u64>,
    /// `limits.gas_per_second`; `None`: the default execution budget. `Some(0)` switches the
    /// budget off, so that any window is accepted (tests that need a window shorter than the
    /// budget's floor); nodes then warn that this is unsafe.
    pub gas_per_second: Option<u64>,
    /// `limits.gas_burst`; `None`: the default.
    pub gas_burst: Option<u64>,
    /// `limits.max_block_gas`; `None`: the default.
    pub max_block_gas: Option<u64>,
    /// Genesis accounts added to the dev accounts (benchmarks fund their senders and deploy
    /// their contracts this way).
    pub extra_alloc: Vec<GenesisAccount>,
    /// Benchmarks only: validators execute every block before proposing and voting
    /// (`consensus.coupled_execution`).
    pub coupled: bool,
}

impl GenerateOptions {
    /// One validator of chain `chain_id` in `dir`, seed 0, free ports, no full nodes or
    /// executors, no config overrides, the default challenge window and the genesis defaults
    /// for everything else; callers set what they need with struct update syntax
    /// (`GenerateOptions { validators: 4, ..GenerateOptions::new(dir, chain_id) }`).
    pub fn new(dir: PathBuf, chain_id: u64) -> Self {
        Self {
            dir,
            validators: 1,
            full_nodes: 0,
            executors: 0,
            chain_id,
            base_port: 0,
            seed: 0,
            config_overrides: Vec::new(),
            challenge_window_ms: lazychain_config::DEFAULT_CHALLENGE_WINDOW_MS,
            min_window_blocks: None,
            min_corroboration: None,
            max_executor_stall_ms: None,
            gas_per_second: None,
            gas_burst: None,
            max_block_gas: None,
            extra_alloc: Vec::new(),
            coupled: false,
        }
    }
}

/// The deterministic key of node `index` for a given seed.
pub fn node_key(seed: u64, index: usize) -> ValidatorKey {
    let mut h = Sha256::new();
    h.update(b"LAZYCHAIN_LOCALNET_KEY");
    h.update(seed.to_be_bytes());
    h.update((index as u64).to_be_bytes());
    ValidatorKey::from_seed(h.finalize().into())
}

fn free_ports(n: usize) -> Result<Vec<u16>, LocalnetError> {
    // Hold every listener until all are chosen so that no port is handed out twice.
    let listeners = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<Vec<_>, _>>()
        .map_err(LocalnetError::Ports)?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(LocalnetError::Ports)
}

/// The longest executor stall (`state.max_executor_stall_ms`) a challenge window of
/// `window_ms` tolerates under `limits`' execution budget: the window minus the time a lagging
/// executor needs to catch up and [`DETECTION_MARGIN_MS`] (so that the window sits exactly at
/// its floor), at least 1 ms and at most [`DEFAULT_MAX_EXECUTOR_STALL_MS`]. Without a budget
/// nothing is subtracted.
pub fn tolerated_stall_ms(window_ms: u64, limits: &BlockLimits) -> u64 {
    match executor_catch_up_ms(limits.gas_per_second, limits.gas_burst) {
        Some(catch_up) => window_ms
            .saturating_sub(catch_up.saturating_add(DETECTION_MARGIN_MS))
            .clamp(1, DEFAULT_MAX_EXECUTOR_STALL_MS),
        None => window_ms.clamp(1, DEFAULT_MAX_EXECUTOR_STALL_MS),
    }
}

/// The shortest challenge window a local network with `limits` accepts (with a 1 ms stall);
/// `None` without an execution budget.
pub fn shortest_window_ms(limits: &BlockLimits) -> Option<u64> {
    challenge_window_floor_ms(1, limits.gas_per_second, limits.gas_burst)
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Writes a fresh network into `dir` (which is wiped first): keys, genesis and one home per
/// node. Nothing is started.
pub fn generate(opts: &GenerateOptions) -> Result<Manifest, LocalnetError> {
    if opts.validators == 0 {
        return Err(LocalnetError::Options(
            "--validators must be at least 1".into(),
        ));
    }
    if opts.validators > 100 {
        return Err(LocalnetError::Options(
            "--validators must be at most 100".into(),
        ));
    }
    let total = opts.validators + opts.full_nodes + opts.executors;
    let ports_needed = total * 4;
    let ports: Vec<u16> = if opts.base_port == 0 {
        free_ports(ports_needed)?
    } else {
        let last = opts.base_port as usize + ports_needed;
        if last > u16::MAX as usize {
            return Err(LocalnetError::Options(format!(
                "--base-port {} leaves no room for {ports_needed} ports",
                opts.base_port
            )));
        }
        let ports: Vec<u16> = (0..ports_needed)
            .map(|i| opts.base_port + i as u16)
            .collect();
        // A port held by another process would only show as a node dying at start-up.
        for (i, port) in ports.iter().enumerate() {
            if TcpListener::bind(("127.0.0.1", *port)).is_err() {
                let what = ["consensus", "gossip", "RPC", "metrics"][i % 4];
                return Err(LocalnetError::Options(format!(
                    "port {port} (the {what} port of node {}) is already in use on 127.0.0.1; pick another --base-port or 0 for free ports",
                    i / 4
                )));
            }
        }
        ports
    };
    if opts.dir.exists() {
        if opts.dir.join(MANIFEST_FILE).exists() || is_empty_dir(&opts.dir) {
            std::fs::remove_dir_all(&opts.dir).map_err(io_err(&opts.dir))?;
        } else {
            return Err(LocalnetError::Options(format!(
                "{} exists and is not a local network folder; refusing to wipe it",
                opts.dir.display()
            )));
        }
    }
    std::fs::create_dir_all(&opts.dir).map_err(io_err(&opts.dir))?;
    let dir = opts.dir.canonicalize().map_err(io_err(&opts.dir))?;

    let keys: Vec<ValidatorKey> = (0..total).map(|i| node_key(opts.seed, i)).collect();
    let mut limits = BlockLimits::default();
    if let Some(gas_per_second) = opts.gas_per_second {
        limits.gas_per_second = gas_per_second;
    }
    if let Some(burst) = opts.gas_burst {
        limits.gas_burst = burst;
    }
    if let Some(gas) = opts.max_block_gas {
        limits.max_block_gas = gas;
    }
    let genesis = Genesis {
        chain_id: opts.chain_id,
        genesis_time_ms: now_ms(),
        validators: keys[..opts.validators]
            .iter()
            .enumerate()
            .map(|(i, k)| GenesisValidator {
                name: format!("validator-{i}"),
                public_key: k.public_key(),
                voting_power: 1,
                fee_recipient: fee_recipient_for(&k.public_key()),
            })
            .collect(),
        limits,
        execution: {
            let mut execution = dev_execution(opts.seed);
            execution.alloc.extend(opts.extra_alloc.iter().cloned());
            execution
        },
        // Every executor node is bonded, with its node key as its claim-signing key.
        state: StateGenesis {
            challenge_window_ms: opts.challenge_window_ms,
            min_window_blocks: opts.min_window_blocks.unwrap_or(DEFAULT_MIN_WINDOW_BLOCKS),
            max_executor_stall_ms: opts
                .max_executor_stall_ms
                .unwrap_or_else(|| tolerated_stall_ms(opts.challenge_window_ms, &limits)),
            min_corroboration: opts.min_corroboration.unwrap_or(DEFAULT_MIN_CORROBORATION),
            slash_reward_percent: DEFAULT_SLASH_REWARD_PERCENT,
            executors: keys[opts.validators + opts.full_nodes..]
                .iter()
                .enumerate()
                .map(|(j, k)| GenesisExecutor {
                    name: format!("executor-{j}"),
                    public_key: k.public_key(),
                    bond: EXECUTOR_BOND_WEI,
                })
                .collect(),
        },
    };
    genesis
        .validate()
        .map_err(lazychain_config::ConfigError::from)?;

    let p2p = |i: usize| format!("/ip4/127.0.0.1/tcp/{}", ports[i * 4]);
    let gossip = |i: usize| format!("/ip4/127.0.0.1/tcp/{}", ports[i * 4 + 1]);
    let mut nodes = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let (role, name) = if i < opts.validators {
            ("validator", format!("validator-{i}"))
        } else if i < opts.validators + opts.full_nodes {
            ("fullnode", format!("fullnode-{}", i - opts.validators))
        } else {
            (
                "executor",
                format!("executor-{}", i - opts.validators - opts.full_nodes),
            )
        };
        let home = dir.join(&name);
        std::fs::create_dir_all(home.join("data")).map_err(io_err(&home))?;
        let mut config = NodeConfig::default();
        config.node.moniker = name.clone();
        config.consensus.listen_addr = p2p(i);
        config.consensus.persistent_peers =
            (0..opts.validators).filter(|j| *j != i).map(p2p).collect();
        config.gossip.listen_addr = gossip(i);
        config.gossip.peers = (0..opts.validators)
            .filter(|j| *j != i)
            .map(gossip)
            .collect();
        config.rpc.listen_addr = format!("127.0.0.1:{}", ports[i * 4 + 2]);
        config.metrics.listen_addr = format!("127.0.0.1:{}", ports[i * 4 + 3]);
        if role == "executor" {
            // Claims gossip did not get recorded go to the validators directly too.
            config.executor.submit_urls = (0..opts.validators)
                .map(|j| format!("http://127.0.0.1:{}", ports[j * 4 + 2]))
                .collect();
        }
        let config_path = home.join(lazychain_config::CONFIG_FILE);
        config.save(&config_path, true)?;
        // Apply overrides through the normal loader so that they are validated the same way.
        let mut overrides = opts.config_overrides.clone();
        if opts.coupled && role == "validator" {
            overrides.push(("consensus.coupled_execution".into(), "true".into()));
        }
        let config = NodeConfig::load(&config_path, std::iter::empty(), &overrides)?;
        config.save(&config_path, true)?;
        key.save(&home.join(lazychain_config::VALIDATOR_KEY_FILE), true)?;
        genesis.save(&home.join(lazychain_config::GENESIS_FILE), true)?;
        nodes.push(NodeEntry {
            name: name.clone(),
            role: role.into(),
            pid: None,
            address: format!("0x{}", hex::encode(key.address())),
            rpc_url: format!("http://{}", config.rpc.listen_addr),
            ws_url: format!("ws://{}", config.rpc.listen_addr),
            p2p_address: config.consensus.listen_addr.clone(),
            gossip_address: config.gossip.listen_addr.clone(),
            metrics_url: format!("http://{}/metrics", config.metrics.listen_addr),
            log: home.join("node.log"),
            home,
            fault: None,
            netns: None,
        });
    }
    let manifest = Manifest {
        chain_id: opts.chain_id,
        nodes,
        dev_accounts: dev_accounts(opts.seed, DEV_ACCOUNT_COUNT)
            .into_iter()
            .map(|a| DevAccountEntry {
                index: a.index,
                address: a.address.to_checksum(None),
                private_key: a.private_key.to_string(),
            })
            .collect(),
        namespaces: None,
    };
    manifest.save(&dir)?;
    Ok(manifest)
}

fn is_empty_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|mut d| d.next().is_none())
        .unwrap_or(false)
}

/// Starts one node process with its output appended to its log file.
pub fn spawn_node(exe: &Path, node: &NodeEntry, detach: bool) -> Result<Child, LocalnetError> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&node.log)
        .map_err(io_err(&node.log))?;
    let log2 = log.try_clone().map_err(io_err(&node.log))?;
    let mut cmd = match &node.netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns]).arg(exe);
            c
        }
        None => Command::new(exe),
    };
    cmd.arg(&node.role)
        .arg("--home")
        .arg(&node.home)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2);
    if let Some(fault) = &node.fault {
        cmd.arg("--fault").arg(fault);
    }
    if detach {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    cmd.spawn().map_err(|error| LocalnetError::Spawn {
        node: node.name.clone(),
        error,
    })
}

/// `lazy_status` of one node through its JSON-RPC, or why not.
pub async fn node_status(rpc_url: &str) -> Result<serde_json::Value, NodeStatusError> {
    use jsonrpsee::core::client::ClientT;
    let client = jsonrpsee::http_client::HttpClient::builder()
        .request_timeout(Duration::from_secs(2))
        .build(rpc_url)
        .map_err(NodeStatusError::Client)?;
    client
        .request::<serde_json::Value, _>("lazy_status", jsonrpsee::rpc_params![])
        .await
        .map_err(NodeStatusError::Request)
}

fn runtime() -> Result<tokio::runtime::Runtime, LocalnetError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| LocalnetError::Io {
            path: PathBuf::from("<tokio runtime>"),
            error,
        })
}

/// Waits until every node answers `lazy_status` with a decided height of at least 1.
pub fn wait_ready(manifest: &Manifest, timeout: Duration) -> Result<(), LocalnetError> {
    let rt = runtime()?;
    let start = Instant::now();
    loop {
        let mut last_problem = String::new();
        let mut ready = 0;
        for node in &manifest.nodes {
            match rt.block_on(node_status(&node.rpc_url)) {
                Ok(s) if s["height"].as_u64().unwrap_or(0) >= 1 => ready += 1,
                Ok(s) => last_problem = format!("{} at height {}", node.name, s["height"]),
                Err(e) => last_problem = format!("{}: {e}", node.name),
            }
        }
        if ready == manifest.nodes.len() {
            return Ok(());
        }
        if start.elapsed() > timeout {
            return Err(LocalnetError::NotReady(timeout, last_problem));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// A table of every node's status.
pub fn status(dir: &Path) -> Result<String, LocalnetError> {
    let manifest = Manifest::load(dir)?;
    let rt = runtime()?;
    Ok(rt.block_on(status_table(&manifest)))
}

/// `0x1234…abcd` for a long hex string.
fn short_hex(v: &serde_json::Value) -> String {
    match v.as_str() {
        Some(s) if s.len() > 14 => format!("{}…{}", &s[..8], &s[s.len() - 4..]),
        Some(s) => s.to_owned(),
        None => "-".to_owned(),
    }
}

/// Per node: role, data height, executed height and lag, the latest root (executors), the
/// state-consensus final and safe heights, slashed executors, unresolved disputes holding
/// finality back, the disputes an executor could not prove yet, peers and own claims.
pub async fn status_table(manifest: &Manifest) -> String {
    let row = |c: [&str; 14]| {
        format!(
            "{:<12} {:<9} {:>7} {:>7} {:>8} {:>4} {:<15} {:>6} {:>6} {:>7} {:>8} {:>8} {:>5}  {}\n",
            c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13]
        )
    };
    let mut out = row([
        "NODE",
        "ROLE",
        "PID",
        "HEIGHT",
        "EXECUTED",
        "LAG",
        "STATE ROOT",
        "FINAL",
        "SAFE",
        "SLASHED",
        "DISPUTES",
        "UNPROVEN",
        "PEERS",
        "OWN CLAIMS",
    ]);
    let statuses =
        futures::future::join_all(manifest.nodes.iter().map(|n| node_status(&n.rpc_url))).await;
    for (node, status) in manifest.nodes.iter().zip(statuses) {
        let pid = node
            .pid
            .map(|p| p.to_string())
            .unwrap_or_else(|| "-".into());
        let role = match &node.fault {
            Some(_) => format!("{}!", node.role),
            None => node.role.clone(),
        };
        match status {
            Ok(s) => {
                let sc = &s["stateConsensus"];
                let num = |v: &serde_json::Value| {
                    v.as_u64()
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| "-".into())
                };
                let slashed = sc["slashed"]
                    .as_object()
                    .map(|m| m.len().to_string())
                    .unwrap_or_else(|| "-".into());
                // An executor's latest claim and its status, e.g. `final@12`, or `slashed`.
                let claims = &s["claims"];
                let own = if !s["safetyAlarm"].is_null() {
                    "SAFETY ALARM".to_owned()
                } else if claims["slashed"] == true {
                    "slashed".to_owned()
                } else {
                    match (
                        claims["latestStatus"].as_str(),
                        claims["latestHeight"].as_u64(),
                    ) {
                        (Some(status), Some(h)) => format!("{status}@{h}"),
                        _ => "-".to_owned(),
                    }
                };
                out.push_str(&row([
                    &node.name,
                    &role,
                    &pid,
                    &num(&s["height"]),
                    &num(&s["executedHeight"]),
                    &num(&s["lag"]),
                    &short_hex(&s["stateRoot"]),
                    &num(&sc["finalizedHeight"]),
                    &num(&sc["safeHeight"]),
                    &slashed,
                    &num(&sc["unresolvedDisputes"]),
                    &num(&claims["unprovenDisputes"]),
                    &num(&s["peers"]),
                    &own,
                ]));
            }
            Err(_) => out.push_str(&row([
                &node.name, &role, &pid, "down", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-",
            ])),
        }
    }
    if manifest.nodes.iter().any(|n| n.fault.is_some()) {
        out.push_str("(! = runs with a deliberate fault)\n");
    }
    out
}

fn pid_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| !s.contains(") Z "))
            .unwrap_or(false)
}

fn send_signal(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Stops a process: SIGTERM, then SIGKILL after `grace`.
pub fn stop_pid(pid: u32, grace: Duration) {
    if !pid_alive(pid) {
        return;
    }
    send_signal(pid, "TERM");
    let start = Instant::now();
    while pid_alive(pid) && start.elapsed() < grace {
        std::thread::sleep(Duration::from_millis(50));
    }
    if pid_alive(pid) {
        send_signal(pid, "KILL");
    }
}

/// Stops every node listed in the manifest; returns how many were running.
pub fn down(dir: &Path) -> Result<usize, LocalnetError> {
    let manifest = Manifest::load(dir)?;
    let mut stopped = 0;
    for pid in manifest.nodes.iter().filter_map(|n| n.pid) {
        if pid_alive(pid) {
            stop_pid(pid, Duration::from_secs(10));
            stopped += 1;
        }
    }
    if let Some(net) = &manifest.namespaces {
        netns::destroy(net);
    }
    Ok(stopped)
}

/// Moves every node of a generated (not yet started) network into its own network namespace:
/// creates them, rewrites each home's config and the manifest from 127.0.0.1 to the node's
/// address.
fn put_in_namespaces(manifest: &mut Manifest, dir: &Path) -> Result<(), LocalnetError> {
    let digest = Sha256::digest(dir.display().to_string().as_bytes());
    let tag = hex::encode(&digest[..2]);
    let net =
        netns::create(&tag, digest[2], manifest.nodes.len()).map_err(LocalnetError::Namespaces)?;
    let port = |url: &str| -> Option<u16> {
        url.rsplit(|c: char| !c.is_ascii_digit())
            .find(|p| !p.is_empty())
            .and_then(|p| p.parse().ok())
    };
    let mut owners = std::collections::HashMap::new();
    for (node, ns) in manifest.nodes.iter().zip(&net.nodes) {
        for url in [
            &node.rpc_url,
            &node.p2p_address,
            &node.gossip_address,
            &node.metrics_url,
        ] {
            if let Some(p) = port(url) {
                owners.insert(p, ns.ip);
            }
        }
    }
    let owner = |p: u16| owners.get(&p).copied();
    let result = (|| {
        for (node, ns) in manifest.nodes.iter_mut().zip(&net.nodes) {
            let config = node.home.join(lazychain_config::CONFIG_FILE);
            let text = std::fs::read_to_string(&config).map_err(io_err(&config))?;
            std::fs::write(&config, netns::rewrite_addresses(&text, &owner))
                .map_err(io_err(&config))?;
            for field in [
                &mut node.rpc_url,
                &mut node.ws_url,
                &mut node.p2p_address,
                &mut node.gossip_address,
                &mut node.metrics_url,
            ] {
                *field = netns::rewrite_addresses(field, &owner);
            }
            node.netns = Some(ns.netns.clone());
        }
        Ok(())
    })();
    if let Err(e) = result {
        netns::destroy(&net);
        return Err(e);
    }
    manifest.namespaces = Some(net);
    manifest.save(dir)
}

/// Splits a `--netns` network into groups of node names: each node drops what it sends to the
/// nodes of the other groups. Replaces any earlier partition.
pub fn partition(dir: &Path, groups: &[Vec<String>]) -> Result<(), LocalnetError> {
    let manifest = Manifest::load(dir)?;
    let net = manifest.namespaces.as_ref().ok_or_else(|| {
        LocalnetError::Options(
            "this network runs on loopback: partitions need `localnet up --netns`".into(),
        )
    })?;
    let mut indexes = Vec::new();
    for group in groups {
        let mut members = Vec::new();
        for name in group {
            let i = manifest
                .nodes
                .iter()
                .position(|n| &n.name == name)
                .ok_or_else(|| LocalnetError::Options(format!("no node named {name:?}")))?;
            members.push(i);
        }
        indexes.push(members);
    }
    netns::partition(net, &indexes).map_err(LocalnetError::Namespaces)
}

/// Removes any partition of a `--netns` network.
pub fn heal(dir: &Path) -> Result<(), LocalnetError> {
    let manifest = Manifest::load(dir)?;
    let net = manifest.namespaces.as_ref().ok_or_else(|| {
        LocalnetError::Options("this network runs on loopback: nothing to heal".into())
    })?;
    netns::heal(net);
    Ok(())
}

pub struct UpOptions {
    pub exe: PathBuf,
    pub dir: PathBuf,
    pub validators: usize,
    pub full_nodes: usize,
    pub executors: usize,
    pub chain_id: u64,
    pub base_port: u16,
    pub seed: u64,
    pub detach: bool,
    /// The last this many executors run with `--fault FAULT` ([`UpOptions::fault`]); they
    /// stay bonded like the others.
    pub faulty_executors: usize,
    /// The fault faulty executors run with: [`DEMO_FAULT`] (a lie at height 3 and on), or
    /// `race` (made-up roots for every decided height, without executing).
    pub fault: String,
    /// Run every node in its own network namespace (root only), so that `partition` works.
    pub netns: bool,
    /// Benchmarks only: validators execute every block before proposing and voting.
    pub coupled: bool,
    /// The genesis challenge window (`state.challenge_window_ms`); the executor stall it
    /// tolerates is what the execution budget leaves of it ([`tolerated_stall_ms`]).
    pub challenge_window_ms: u64,
    /// `state.min_corroboration`: executors that must agree with a claim before it is final.
    pub min_corroboration: u64,
    /// `limits.gas_per_second` (0: no budget).
    pub gas_per_second: u64,
    /// `consensus.empty_block_interval_ms` of every node: how often an idle chain makes a
    /// block (0: as fast as consensus runs).
    pub empty_block_interval_ms: u64,
}

/// The fault `localnet up --faulty-executors` gives an executor.
pub const DEMO_FAULT: &str = "wrong-root-at=3";

/// The last `lines` lines of a node's log.
pub fn log_tail(dir: &Path, name: &str, lines: usize) -> Result<String, LocalnetError> {
    let mut manifest = Manifest::load(dir)?;
    let node = find_node(&mut manifest, name)?;
    let text = std::fs::read_to_string(&node.log).map_err(io_err(&node.log))?;
    let all: Vec<&str> = text.lines().collect();
    Ok(all[all.len().saturating_sub(lines)..].join("\n"))
}

/// Kills one node of a running local network with SIGKILL (as a crash would).
pub fn kill_node(dir: &Path, name: &str) -> Result<u32, LocalnetError> {
    let mut manifest = Manifest::load(dir)?;
    let node = find_node(&mut manifest, name)?;
    let pid = node
        .pid
        .filter(|p| pid_alive(*p))
        .ok_or_else(|| LocalnetError::Options(format!("{name} is not running")))?;
    send_signal(pid, "KILL");
    let start = Instant::now();
    while pid_alive(pid) && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    node.pid = None;
    manifest.save(dir)?;
    Ok(pid)
}

/// Starts a stopped node of a local network again (detached), with its home and flags.
pub fn restart_node(dir: &Path, name: &str, exe: &Path) -> Result<u32, LocalnetError> {
    let mut manifest = Manifest::load(dir)?;
    let node = find_node(&mut manifest, name)?;
    if let Some(pid) = node.pid.filter(|p| pid_alive(*p)) {
        return Err(LocalnetError::Options(format!(
            "{name} is running (pid {pid}); `lazychain localnet kill {name}` first"
        )));
    }
    let child = spawn_node(exe, node, true)?;
    node.pid = Some(child.id());
    manifest.save(dir)?;
    Ok(child.id())
}

fn find_node<'a>(
    manifest: &'a mut Manifest,
    name: &str,
) -> Result<&'a mut NodeEntry, LocalnetError> {
    let names: Vec<String> = manifest.nodes.iter().map(|n| n.name.clone()).collect();
    manifest
        .nodes
        .iter_mut()
        .find(|n| n.name == name)
        .ok_or_else(|| {
            LocalnetError::Options(format!(
                "no node named {name:?} (nodes: {})",
                names.join(", ")
            ))
        })
}

/// Generates a network, starts every node, waits until all have decided a block, prints where
/// they are, then (unless detached) runs until Ctrl-C and stops them all.
pub fn up(opts: &UpOptions) -> Result<(), LocalnetError> {
    if opts.faulty_executors > opts.executors {
        return Err(LocalnetError::Options(format!(
            "--faulty-executors {} exceeds --executors {}",
            opts.faulty_executors, opts.executors
        )));
    }
    if opts.min_corroboration == 0 {
        return Err(LocalnetError::Options(
            "--min-corroboration must be at least 1".into(),
        ));
    }
    let mut limits = BlockLimits::default();
    if opts.gas_per_second != limits.gas_per_second {
        // Another budget keeps two seconds of it as the burst (never below a full block).
        limits.gas_per_second = opts.gas_per_second;
        limits.gas_burst = if opts.gas_per_second == 0 {
            0
        } else {
            opts.gas_per_second
                .saturating_mul(2)
                .max(limits.max_block_gas)
        };
    }
    if let Some(shortest) = shortest_window_ms(&limits) {
        if opts.challenge_window_ms < shortest {
            return Err(LocalnetError::Options(format!(
                "--challenge-window-ms {} is below {shortest}: under the execution budget (limits.gas_per_second {}, limits.gas_burst {}) a lagging executor needs {} ms to catch up and {DETECTION_MARGIN_MS} ms more to detect and prove a fault",
                opts.challenge_window_ms,
                limits.gas_per_second,
                limits.gas_burst,
                executor_catch_up_ms(limits.gas_per_second, limits.gas_burst).unwrap_or(0)
            )));
        }
    }
    if opts.netns {
        netns::check_available().map_err(LocalnetError::Namespaces)?;
    }
    if opts.dir.join(MANIFEST_FILE).exists() {
        if let Ok(old) = Manifest::load(&opts.dir) {
            if let Some(net) = old
                .namespaces
                .as_ref()
                .filter(|_| !old.nodes.iter().filter_map(|n| n.pid).any(pid_alive))
            {
                // Left behind by a network that was not brought down.
                netns::destroy(net);
            }
            if old.nodes.iter().filter_map(|n| n.pid).any(pid_alive) {
                return Err(LocalnetError::Options(format!(
                    "a local network is already running in {} (run `lazychain localnet down --dir {}`)",
                    opts.dir.display(),
                    opts.dir.display()
                )));
            }
        }
    }
    let mut manifest = generate(&GenerateOptions {
        validators: opts.validators,
        full_nodes: opts.full_nodes,
        executors: opts.executors,
        base_port: opts.base_port,
        seed: opts.seed,
        config_overrides: vec![(
            "consensus.empty_block_interval_ms".into(),
            opts.empty_block_interval_ms.to_string(),
        )],
        challenge_window_ms: opts.challenge_window_ms,
        min_corroboration: Some(opts.min_corroboration),
        gas_per_second: Some(limits.gas_per_second),
        gas_burst: Some(limits.gas_burst),
        coupled: opts.coupled,
        ..GenerateOptions::new(opts.dir.clone(), opts.chain_id)
    })?;
    let executors: Vec<usize> = (0..manifest.nodes.len())
        .filter(|i| manifest.nodes[*i].role == "executor")
        .collect();
    for i in executors.iter().rev().take(opts.faulty_executors) {
        manifest.nodes[*i].fault = Some(opts.fault.clone());
    }
    let dir = opts.dir.canonicalize().map_err(io_err(&opts.dir))?;
    if opts.netns {
        put_in_namespaces(&mut manifest, &dir)?;
    }
    let remove_namespaces = |m: &Manifest| {
        if let Some(net) = &m.namespaces {
            netns::destroy(net);
        }
    };
    let mut children = Vec::new();
    for node in manifest.nodes.iter_mut() {
        match spawn_node(&opts.exe, node, opts.detach) {
            Ok(child) => {
                node.pid = Some(child.id());
                children.push(child);
            }
            Err(e) => {
                for c in children.iter() {
                    stop_pid(c.id(), Duration::from_secs(5));
                }
                remove_namespaces(&manifest);
                return Err(e);
            }
        }
    }
    manifest.save(&dir)?;
    let ready = wait_ready(&manifest, Duration::from_secs(60));
    if let Err(e) = ready {
        remove_namespaces(&manifest);
        for (node, child) in manifest.nodes.iter().zip(children.iter_mut()) {
            if let Ok(Some(status)) = child.try_wait() {
                for c in children.iter() {
                    stop_pid(c.id(), Duration::from_secs(5));
                }
                return Err(LocalnetError::Exited {
                    node: node.name.clone(),
                    status: status.to_string(),
                    log: node.log.clone(),
                });
            }
        }
        for c in children.iter() {
            stop_pid(c.id(), Duration::from_secs(5));
        }
        return Err(e);
    }
    println!(
        "lazychain local network is up: {} validators, {} executors, {} full nodes, chain id {}",
        opts.validators, opts.executors, opts.full_nodes, manifest.chain_id
    );
    println!();
    for node in &manifest.nodes {
        println!(
            "  {:<12} pid {:<7} rpc {:<24} metrics {}",
            node.name,
            node.pid.unwrap_or(0),
            node.rpc_url,
            node.metrics_url
        );
    }
    println!();
    if !manifest.dev_accounts.is_empty() {
        let passphrase = if opts.seed == 0 {
            "no passphrase".to_owned()
        } else {
            format!("passphrase \"{}\"", opts.seed)
        };
        println!(
            "  funded dev accounts (mnemonic \"{}\", {passphrase}; public test keys, never use them for real funds):",
            lazychain_config::DEV_MNEMONIC
        );
        for a in &manifest.dev_accounts {
            println!(
                "    ({}) {}  private key {}",
                a.index, a.address, a.private_key
            );
        }
        println!();
    }
    if let Some(executor) = manifest.nodes.iter().find(|n| n.role == "executor") {
        println!(
            "  Ethereum JSON-RPC for wallets: {} (chain id {})",
            executor.rpc_url, manifest.chain_id
        );
    }
    println!("  manifest: {}", dir.join(MANIFEST_FILE).display());
    println!("  logs:     {}/<node>/node.log", dir.display());
    if opts.detach {
        println!(
            "  stop with: lazychain localnet down --dir {}",
            opts.dir.display()
        );
        return Ok(());
    }
    println!("  press Ctrl-C to stop every node");
    let rt = runtime()?;
    let interactive = std::io::IsTerminal::is_terminal(&std::io::stdout());
    rt.block_on(async {
        // A terminal gets a table redrawn every 2 s; a log file one every 30 s.
        let every = if interactive { 2 } else { 30 };
        let mut tick = tokio::time::interval(Duration::from_secs(every));
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => break,
                _ = tick.tick() => {
                    if children.iter_mut().all(|c| matches!(c.try_wait(), Ok(Some(_)))) {
                        eprintln!("every node has exited");
                        break;
                    }
                    // `localnet kill/restart` may have changed pids: show the manifest's.
                    let current = Manifest::load(&dir).unwrap_or_else(|_| manifest.clone());
                    let table = status_table(&current).await;
                    if interactive {
                        print!("\x1b[2J\x1b[H");
                        println!("lazychain local network, chain id {} ({}) - Ctrl-C stops every node\n", current.chain_id, dir.display());
                    }
                    println!("{table}");
                }
            }
        }
    });
    println!("stopping...");
    for c in children.iter_mut() {
        stop_pid(c.id(), Duration::from_secs(10));
        let _ = c.wait();
    }
    // Nodes restarted with `localnet restart` are not our children: stop them by pid.
    if let Ok(current) = Manifest::load(&dir) {
        for pid in current.nodes.iter().filter_map(|n| n.pid) {
            stop_pid(pid, Duration::from_secs(10));
        }
    }
    remove_namespaces(&manifest);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_full_mesh_homes_with_distinct_ports() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("net");
        let m = generate(&GenerateOptions {
            validators: 3,
            seed: 1,
            config_overrides: vec![("mempool.max_txs".into(), "20000".into())],
            ..GenerateOptions::new(dir.clone(), 7)
        })
        .expect("generates");
        assert_eq!(m.nodes.len(), 3);
        let mut ports: Vec<&str> = m
            .nodes
            .iter()
            .flat_map(|n| {
                [
                    n.rpc_url.as_str(),
                    n.p2p_address.as_str(),
                    n.gossip_address.as_str(),
                    n.metrics_url.as_str(),
                ]
            })
            .collect();
        ports.sort();
        ports.dedup();
        assert_eq!(ports.len(), 12, "every address is distinct");
        let c = NodeConfig::load(
            &m.nodes[0].home.join("config.toml"),
            std::iter::empty(),
            &[],
        )
        .expect("config loads");
        assert_eq!(c.consensus.persistent_peers.len(), 2);
        assert_eq!(c.mempool.max_txs, 20000);
        let g = Genesis::load(&m.nodes[2].home.join("genesis.json")).expect("genesis loads");
        assert_eq!(g.validators.len(), 3);
        // The genesis defaults of the state section.
        assert_eq!(g.state.challenge_window_ms, 90_000);
        assert_eq!(g.state.min_window_blocks, 10);
        assert_eq!(g.state.max_executor_stall_ms, 60_000);
        assert_eq!(g.state.min_corroboration, 1);
        assert_eq!(
            g.validators[1].fee_recipient,
            fee_recipient_for(&node_key(1, 1).public_key())
        );
        assert_eq!(g.execution, dev_execution(1));
        // The manifest lists the funded accounts of this seed, with their keys.
        assert_eq!(m.dev_accounts.len(), 10);
        let funded = dev_accounts(1, 10);
        for (entry, (account, alloc)) in m
            .dev_accounts
            .iter()
            .zip(funded.iter().zip(&g.execution.alloc))
        {
            assert_eq!(entry.index, account.index);
            assert_eq!(entry.address, account.address.to_checksum(None));
            assert_eq!(entry.private_key, format!("{}", account.private_key));
            assert_eq!(entry.private_key.len(), 66);
            assert_eq!(alloc.address, account.address);
        }
        assert_eq!(Manifest::load(&dir).expect("manifest"), m);
        // Same seed, same keys.
        assert_eq!(node_key(1, 0).address(), node_key(1, 0).address());
        assert_ne!(node_key(1, 0).address(), node_key(2, 0).address());
    }

    #[test]
    fn executors_are_bonded_in_genesis() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let m = generate(&GenerateOptions {
            validators: 2,
            full_nodes: 1,
            executors: 2,
            seed: 3,
            challenge_window_ms: 7_000,
            min_window_blocks: Some(5),
            min_corroboration: Some(2),
            ..GenerateOptions::new(tmp.path().join("net"), 7)
        })
        .expect("generates");
        let roles: Vec<&str> = m.nodes.iter().map(|n| n.role.as_str()).collect();
        assert_eq!(
            roles,
            ["validator", "validator", "fullnode", "executor", "executor"]
        );
        let g = Genesis::load(&m.nodes[0].home.join("genesis.json")).expect("genesis loads");
        assert_eq!(g.state.challenge_window_ms, 7_000);
        assert_eq!(g.state.min_window_blocks, 5);
        assert_eq!(g.state.min_corroboration, 2);
        // What the default budget leaves of 7 s: 7,000 - 1,200 - 5,000 ms.
        assert_eq!(g.state.max_executor_stall_ms, 800);
        assert_eq!(g.limits, BlockLimits::default());
        assert_eq!(g.state.slash_reward_percent, 50);
        assert_eq!(g.state.executors.len(), 2);
        for (j, e) in g.state.executors.iter().enumerate() {
            let key = node_key(3, 3 + j);
            assert_eq!(e.name, format!("executor-{j}"));
            assert_eq!(e.name, m.nodes[3 + j].name);
            assert_eq!(e.public_key, key.public_key());
            assert_eq!(e.bond, 1_000_000_000_000_000_000_000);
            assert_eq!(
                e.address(),
                lazychain_config::executor_address(&key.public_key())
            );
            // The executor's home holds the key its genesis entry names.
            let saved = ValidatorKey::load(
                &m.nodes[3 + j]
                    .home
                    .join(lazychain_config::VALIDATOR_KEY_FILE),
            )
            .expect("key loads");
            assert_eq!(saved.public_key(), e.public_key);
            // It submits late claims to both validators' RPC directly.
            let config = NodeConfig::load(
                &m.nodes[3 + j].home.join(lazychain_config::CONFIG_FILE),
                std::iter::empty(),
                &[],
            )
            .expect("config loads");
            let validator_urls: Vec<String> =
                m.nodes[..2].iter().map(|n| n.rpc_url.clone()).collect();
            assert_eq!(config.executor.submit_urls, validator_urls);
        }
        // Every node holds the same genesis.
        for n in &m.nodes {
            assert_eq!(
                Genesis::load(&n.home.join("genesis.json")).expect("genesis loads"),
                g
            );
        }
    }

    #[test]
    fn the_stall_a_window_tolerates() {
        let budget = BlockLimits::default();
        // 90 s under the default budget: the default stall, 60 s (the floor is 66.2 s).
        assert_eq!(tolerated_stall_ms(90_000, &budget), 60_000);
        assert_eq!(tolerated_stall_ms(66_200, &budget), 60_000);
        assert_eq!(tolerated_stall_ms(10_000, &budget), 3_800);
        // Below the floor: 1 ms, and validation names the window.
        assert_eq!(tolerated_stall_ms(6_000, &budget), 1);
        assert_eq!(shortest_window_ms(&budget), Some(6_201));
        let none = BlockLimits {
            gas_per_second: 0,
            ..BlockLimits::default()
        };
        assert_eq!(shortest_window_ms(&none), None);
        assert_eq!(tolerated_stall_ms(1, &none), 1);
        assert_eq!(tolerated_stall_ms(500_000, &none), 60_000);
    }

    #[test]
    fn a_window_below_the_floor_needs_no_budget() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let options = |gas_per_second| GenerateOptions {
            executors: 1,
            seed: 1,
            challenge_window_ms: 1,
            min_window_blocks: Some(4),
            gas_per_second,
            ..GenerateOptions::new(tmp.path().join("net"), 7)
        };
        let err = generate(&options(None)).expect_err("below the floor");
        assert!(
            err.to_string()
                .contains("key state.challenge_window_ms: 1 is below 6201"),
            "{err}"
        );
        let m = generate(&options(Some(0))).expect("no budget: any window");
        let g = Genesis::load(&m.nodes[0].home.join("genesis.json")).expect("genesis loads");
        assert_eq!(g.limits.gas_per_second, 0);
        assert_eq!(g.state.challenge_window_ms, 1);
        assert_eq!(g.state.min_window_blocks, 4);
    }

    #[test]
    fn refuses_to_wipe_a_foreign_folder() {
        let tmp = tempfile::tempdir().expect("tempdir");
        std::fs::write(tmp.path().join("precious.txt"), b"x").expect("write");
        let err = generate(&GenerateOptions {
            seed: 1,
            ..GenerateOptions::new(tmp.path().to_path_buf(), 7)
        })
        .expect_err("must refuse");
        assert!(err.to_string().contains("refusing"), "{err}");
        assert!(tmp.path().join("precious.txt").exists());
    }
}
