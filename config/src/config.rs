//! The node configuration file, `config.toml`, layered with environment variables and
//! command-line flags.
//!
//! Precedence, highest first: command-line flags, environment variables named
//! `LAZYCHAIN__SECTION__KEY`, the file, built-in defaults. A key the file leaves out keeps
//! its default. Unknown keys are errors in every layer, so a typo never silently falls back
//! to a default.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::{Table, Value};

use crate::{fsutil, ConfigError};

/// File name of the node configuration inside a node's home directory.
pub const CONFIG_FILE: &str = "config.toml";

/// Prefix of the environment variables that override configuration keys. Every variable
/// with this prefix must name a key: `LAZYCHAIN__RPC__LISTEN_ADDR` sets `rpc.listen_addr`.
pub const ENV_PREFIX: &str = "LAZYCHAIN__";

/// Largest configuration file accepted.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// Largest integer a TOML file can hold; larger values cannot be saved and loaded back.
const MAX_TOML_INTEGER: u64 = i64::MAX as u64;

/// The default `consensus.empty_block_interval_ms`: an idle chain makes one block every 5 s.
/// It delays nothing a user waits for (a transaction starts the next height at once), adds
/// at most 5 s to the finality of the last claims before a pause (against a 90 s challenge
/// window, whose 10-block minimum then takes 50 s), and keeps an idle node's disk growth to
/// 720 small blocks an hour.
pub const DEFAULT_EMPTY_BLOCK_INTERVAL_MS: u64 = 5_000;

/// The largest `consensus.empty_block_interval_ms`: an idle chain must still make blocks
/// often enough for challenge windows to close.
pub const MAX_EMPTY_BLOCK_INTERVAL_MS: u64 = 60_000;

/// A node's configuration: everything that may differ between nodes of one chain (what
/// all nodes must agree on lives in [`crate::Genesis`]).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct NodeConfig {
    /// This node's identity.
    pub node: NodeSection,
    /// Malachite BFT consensus among validators.
    pub consensus: ConsensusSection,
    /// Gossip of transactions and fraud proofs.
    pub gossip: GossipSection,
    /// The JSON-RPC server.
    pub rpc: RpcSection,
    /// Prometheus metrics and health endpoints.
    pub metrics: MetricsSection,
    /// Pending-transaction pool limits.
    pub mempool: MempoolSection,
    /// Logging.
    pub log: LogSection,
    /// Files the node writes.
    pub storage: StorageSection,
    /// Settings only executors use.
    pub executor: ExecutorSection,
}

/// `[node]`: this node's identity.
///
/// Its keys are described once, in `KEYS` (see [`key_reference`]).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct NodeSection {
    pub moniker: String,
}

impl Default for NodeSection {
    fn default() -> Self {
        Self {
            moniker: "lazychain-node".to_owned(),
        }
    }
}

/// `[consensus]`: the Malachite consensus network and round timeouts.
///
/// Its keys are described once, in `KEYS` (see [`key_reference`]).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ConsensusSection {
    pub listen_addr: String,
    pub persistent_peers: Vec<String>,
    pub timeout_propose_ms: u64,
    pub timeout_propose_delta_ms: u64,
    pub timeout_prevote_ms: u64,
    pub timeout_prevote_delta_ms: u64,
    pub timeout_precommit_ms: u64,
    pub timeout_precommit_delta_ms: u64,
    pub target_block_time_ms: u64,
    pub max_block_wait_ms: u64,
    pub empty_block_interval_ms: u64,
    pub coupled_execution: bool,
}

impl Default for ConsensusSection {
    fn default() -> Self {
        Self {
            listen_addr: "/ip4/127.0.0.1/tcp/26656".to_owned(),
            persistent_peers: Vec::new(),
            timeout_propose_ms: 2000,
            timeout_propose_delta_ms: 500,
            timeout_prevote_ms: 500,
            timeout_prevote_delta_ms: 250,
            timeout_precommit_ms: 500,
            timeout_precommit_delta_ms: 250,
            target_block_time_ms: 0,
            max_block_wait_ms: 200,
            empty_block_interval_ms: DEFAULT_EMPTY_BLOCK_INTERVAL_MS,
            coupled_execution: false,
        }
    }
}

/// `[gossip]`: the network that spreads transactions and fraud proofs.
///
/// Its keys are described once, in `KEYS` (see [`key_reference`]).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct GossipSection {
    pub listen_addr: String,
    pub peers: Vec<String>,
}

impl Default for GossipSection {
    fn default() -> Self {
        Self {
            listen_addr: "/ip4/127.0.0.1/tcp/26660".to_owned(),
            peers: Vec::new(),
        }
    }
}

/// `[rpc]`: the JSON-RPC server (HTTP and WebSocket). The limits are `u32`, the type
/// jsonrpsee's server builder takes.
///
/// Its keys are described once, in `KEYS` (see [`key_reference`]).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct RpcSection {
    pub listen_addr: String,
    pub max_request_body_bytes: u32,
    pub max_response_body_bytes: u32,
    pub max_batch_len: u32,
    pub max_connections: u32,
    pub filter_timeout_secs: u64,
}

impl Default for RpcSection {
    fn default() -> Self {
        Self {
            listen_addr: "127.0.0.1:8545".to_owned(),
            max_request_body_bytes: 10 * 1024 * 1024,
            max_response_body_bytes: 10 * 1024 * 1024,
            max_batch_len: 1_000,
            max_connections: 100,
            filter_timeout_secs: 300,
        }
    }
}

impl RpcSection {
    /// `listen_addr` parsed (it always parses in a validated config).
    pub fn socket_addr(&self) -> Result<SocketAddr, ConfigError> {
        parse_socket_addr(&self.listen_addr).map_err(|problem| {
            ConfigError::invalid(CONFIG_FILE, "rpc.listen_addr", problem.to_string())
        })
    }
}

/// `[metrics]`: the HTTP server for `/metrics`, `/health` and `/ready`.
///
/// Its keys are described once, in `KEYS` (see [`key_reference`]).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSection {
    pub listen_addr: String,
}

impl Default for MetricsSection {
    fn default() -> Self {
        Self {
            listen_addr: "127.0.0.1:9100".to_owned(),
        }
    }
}

impl MetricsSection {
    /// `listen_addr` parsed (it always parses in a validated config).
    pub fn socket_addr(&self) -> Result<SocketAddr, ConfigError> {
        parse_socket_addr(&self.listen_addr).map_err(|problem| {
            ConfigError::invalid(CONFIG_FILE, "metrics.listen_addr", problem.to_string())
        })
    }
}

/// `[mempool]`: bounds on pending transactions.
///
/// Its keys are described once, in `KEYS` (see [`key_reference`]).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct MempoolSection {
    pub max_txs: usize,
    pub max_bytes: usize,
    pub max_txs_per_sender: usize,
}

impl Default for MempoolSection {
    fn default() -> Self {
        Self {
            max_txs: 100_000,
            max_bytes: 256 * 1024 * 1024,
            max_txs_per_sender: 10_000,
        }
    }
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// `[log]`: logging.
///
/// Its keys are described once, in `KEYS` (see [`key_reference`]).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct LogSection {
    pub format: LogFormat,
    pub filter: String,
}

impl Default for LogSection {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            filter: DEFAULT_LOG_FILTER.to_owned(),
        }
    }
}

/// Default `log.filter`: this node's own lines at INFO (a `decided` line per block, `progress`
/// every 10 s), Malachite's at WARN: at INFO it writes ~40 lines per height (every vote,
/// weight and timeout), ~6 MB an hour of an idle validator's log.
pub const DEFAULT_LOG_FILTER: &str = "info,arc_malachitebft=warn";

/// Most `executor.submit_urls` entries.
pub const MAX_SUBMIT_URLS: usize = 64;

/// `[executor]`: settings only lazy executors use (other nodes ignore them).
///
/// Its keys are described once, in `KEYS` (see [`key_reference`]).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ExecutorSection {
    pub submit_urls: Vec<String>,
    pub state_history_blocks: u64,
}

/// Default `executor.state_history_blocks`: well beyond the challenge window of any local
/// network, and far above the 256 blocks tools expect.
pub const DEFAULT_STATE_HISTORY_BLOCKS: u64 = 4096;
/// Least `executor.state_history_blocks` (what `BLOCKHASH` reaches, what tools expect).
pub const MIN_STATE_HISTORY_BLOCKS: u64 = 256;
/// Most `executor.state_history_blocks`.
pub const MAX_STATE_HISTORY_BLOCKS: u64 = 1 << 20;

impl Default for ExecutorSection {
    fn default() -> Self {
        Self {
            submit_urls: Vec::new(),
            state_history_blocks: DEFAULT_STATE_HISTORY_BLOCKS,
        }
    }
}

/// Default `storage.block_cache_mib`.
pub const DEFAULT_BLOCK_CACHE_MIB: u64 = 64;
/// Default `storage.state_cache_mib`.
pub const DEFAULT_STATE_CACHE_MIB: u64 = 256;
/// Largest page cache a node accepts for one database (64 GiB), in MiB.
pub const MAX_CACHE_MIB: u64 = 64 << 10;

/// `[storage]`: files the node writes, relative to its home directory unless absolute
/// (see [`NodeConfig::resolve_path`]).
///
/// Its keys are described once, in `KEYS` (see [`key_reference`]).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct StorageSection {
    pub db_file: String,
    pub wal_file: String,
    pub block_cache_mib: u64,
    pub state_cache_mib: u64,
}

impl StorageSection {
    /// `block_cache_mib` in bytes.
    pub fn block_cache_bytes(&self) -> usize {
        mib_bytes(self.block_cache_mib)
    }

    /// `state_cache_mib` in bytes.
    pub fn state_cache_bytes(&self) -> usize {
        mib_bytes(self.state_cache_mib)
    }
}

/// Checks an `http://HOST:PORT` (or `https://`) endpoint: a scheme, a host, a port.
fn check_http_url(url: &str) -> Result<(), AddressError> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| AddressError::UrlScheme {
            url: url.to_owned(),
        })?;
    let authority = rest.split('/').next().unwrap_or_default();
    let Some((host, port)) = authority.rsplit_once(':') else {
        return Err(AddressError::UrlNoPort {
            url: url.to_owned(),
        });
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(AddressError::UrlNoHost {
            url: url.to_owned(),
        });
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(()),
        _ => Err(AddressError::UrlBadPort {
            url: url.to_owned(),
            port: port.to_owned(),
        }),
    }
}

/// `mib` MiB in bytes, saturating (validated values are at most [`MAX_CACHE_MIB`]).
fn mib_bytes(mib: u64) -> usize {
    usize::try_from(mib.saturating_mul(1 << 20)).unwrap_or(usize::MAX)
}

impl Default for StorageSection {
    fn default() -> Self {
        Self {
            db_file: "data/blocks.redb".to_owned(),
            wal_file: "data/consensus.wal".to_owned(),
            block_cache_mib: DEFAULT_BLOCK_CACHE_MIB,
            state_cache_mib: DEFAULT_STATE_CACHE_MIB,
        }
    }
}

/// The sections in file order, each with the comment written above it.
const SECTIONS: &[(&str, &str)] = &[
    ("node", "This node's identity."),
    (
        "consensus",
        "Malachite BFT consensus among validators: its libp2p listener, its peers and its round timeouts.",
    ),
    (
        "gossip",
        "The libp2p network that spreads transactions and fraud proofs to every node.",
    ),
    ("rpc", "The JSON-RPC server (HTTP and WebSocket)."),
    ("metrics", "Prometheus metrics and health checks."),
    ("mempool", "Bounds on pending transactions."),
    ("log", "Logging."),
    (
        "storage",
        "Files this node writes, relative to its home directory unless absolute, and the memory their page caches may take.",
    ),
    ("executor", "Settings only lazy executors use."),
];

/// Every key in file order, with its description: the one place a key is described. It is
/// the comment above the key in `config.toml` ([`NodeConfig::to_commented_toml`]) and the
/// key's row in docs/operator.md §3.2 ([`key_reference`], kept in step by
/// tests/config_docs.rs). Descriptions may use `code` and markdown links relative to docs/;
/// the TOML comment shows them as plain text.
const KEYS: &[(&str, &str, &str)] = &[
    (
        "node",
        "moniker",
        "Human-readable name of this node, shown in logs, metrics (the `moniker` label) and `lazy_status`; `lazychain init` writes its `--moniker`.",
    ),
    (
        "consensus",
        "listen_addr",
        "libp2p multiaddr Malachite's consensus network listens on, e.g. `/ip4/0.0.0.0/tcp/26656`.",
    ),
    (
        "consensus",
        "persistent_peers",
        "Consensus peers to dial and keep connected, as libp2p multiaddrs, e.g. `[\"/ip4/10.0.0.2/tcp/26656\"]`.",
    ),
    (
        "consensus",
        "timeout_propose_ms",
        "How long to wait for the proposal of round 0 before prevoting nil, in milliseconds; a full 4 MB block must be built, streamed and checked within it on a loaded machine, or the round is lost.",
    ),
    (
        "consensus",
        "timeout_propose_delta_ms",
        "Added to `timeout_propose_ms` for each later round, in milliseconds.",
    ),
    (
        "consensus",
        "timeout_prevote_ms",
        "How long to wait, after prevotes from 2/3 of the voting power that do not agree, before precommitting nil in round 0, in milliseconds.",
    ),
    (
        "consensus",
        "timeout_prevote_delta_ms",
        "Added to `timeout_prevote_ms` for each later round, in milliseconds.",
    ),
    (
        "consensus",
        "timeout_precommit_ms",
        "How long to wait, after precommits from 2/3 of the voting power that do not agree, before moving on from round 0, in milliseconds.",
    ),
    (
        "consensus",
        "timeout_precommit_delta_ms",
        "Added to `timeout_precommit_ms` for each later round, in milliseconds.",
    ),
    (
        "consensus",
        "target_block_time_ms",
        "Target interval between decided blocks (the least time per height), in milliseconds; 0 decides as fast as possible.",
    ),
    (
        "consensus",
        "max_block_wait_ms",
        "How long a proposer waits for a first transaction before proposing an empty block, in milliseconds; 0 proposes at once. Must be below `timeout_propose_ms`.",
    ),
    (
        "consensus",
        "empty_block_interval_ms",
        "While no transaction that can pay the base fee is waiting, a validator starts the next height only this many milliseconds after the last block's timestamp; a transaction (or another validator's proposal for the next height) starts it at once, so it adds no latency under load. An idle chain makes one block per interval, with no claim traffic of its own ([ADR 008](adr/008-idle-chain.md)), and still closes challenge windows: keep interval × `state.min_window_blocks` within `state.challenge_window_ms` (5 s × 10 = 50 s < 90 s). At most 60000; 0 makes blocks as fast as consensus runs. `localnet up --empty-block-interval-ms` sets it.",
    ),
    (
        "consensus",
        "coupled_execution",
        "Benchmarks only, never in production: validators execute every block before proposing and voting, as a classic chain does, to compare with the lazy design (`lazychain validator --coupled`, `localnet up --coupled`); see [benchmarks](benchmarks.md#lazy-vs-coupled-lazychain-bench-coupled) and [ADR 005](adr/005-coupled-mode-for-comparison.md).",
    ),
    (
        "gossip",
        "listen_addr",
        "libp2p multiaddr the gossip network (transactions, claims and fraud proofs) listens on.",
    ),
    (
        "gossip",
        "peers",
        "Gossip peers to dial, as libp2p multiaddrs.",
    ),
    (
        "rpc",
        "listen_addr",
        "Address of the JSON-RPC server (HTTP and WebSocket).",
    ),
    (
        "rpc",
        "max_request_body_bytes",
        "Largest JSON-RPC request body accepted, in bytes (the default is 10 MiB).",
    ),
    (
        "rpc",
        "max_response_body_bytes",
        "Largest JSON-RPC response body sent, in bytes (the default is 10 MiB).",
    ),
    (
        "rpc",
        "max_batch_len",
        "Most calls accepted in one JSON-RPC batch request (viem batches up to 1,000); a larger batch is refused whole with -32010.",
    ),
    (
        "rpc",
        "max_connections",
        "Most simultaneous JSON-RPC connections.",
    ),
    (
        "rpc",
        "filter_timeout_secs",
        "Executors only: a filter (`eth_newFilter`, `eth_newBlockFilter`, `eth_newPendingTransactionFilter`) not polled for this many seconds is removed, as geth does after 5 minutes; at most 10,000 filters are installed at once.",
    ),
    (
        "metrics",
        "listen_addr",
        "Address of the HTTP server for `/metrics` (Prometheus text format), `/health` and `/ready`.",
    ),
    (
        "mempool",
        "max_txs",
        "Most transactions the mempool holds.",
    ),
    (
        "mempool",
        "max_bytes",
        "Most bytes of encoded transactions the mempool holds (the default is 256 MiB).",
    ),
    (
        "mempool",
        "max_txs_per_sender",
        "Most transactions the mempool holds from one sender; at most `mempool.max_txs`.",
    ),
    (
        "log",
        "format",
        "Log line format: \"text\" for people, \"json\" for log collectors (one object per line).",
    ),
    (
        "log",
        "filter",
        "Which log lines to print, in tracing-subscriber `EnvFilter` syntax, e.g. \"info,lazychain=debug\". The default keeps Malachite's own lines (every vote and timeout, ~40 per height) at WARN; \"info\" shows them.",
    ),
    (
        "storage",
        "db_file",
        "The node's redb database file (the block store); relative to the home directory unless absolute.",
    ),
    (
        "storage",
        "wal_file",
        "Malachite's consensus write-ahead log; relative to the home directory unless absolute, and not the same file as `db_file`.",
    ),
    (
        "storage",
        "block_cache_mib",
        "Memory for the block store's page cache, in MiB (1 to 65536); it fills up, then stays at this size.",
    ),
    (
        "storage",
        "state_cache_mib",
        "Executors only: memory for the state store's page cache, in MiB (1 to 65536).",
    ),
    (
        "executor",
        "submit_urls",
        "Executors only: validators' JSON-RPC endpoints (`http://HOST:PORT`, at most 64). A claim that gossip has not got recorded within 3 blocks is also sent to two of them in turn with `lazy_submitClaim` (counted in `lazychain_claims_submitted_direct_total` and `lazychain_claims_direct_failures_total`; each failure is logged at WARN with the endpoint), e.g. `[\"http://10.0.0.2:8545\"]`. `localnet` fills it with every validator's endpoint.",
    ),
    (
        "executor",
        "state_history_blocks",
        "Executors only: how many recent executed blocks' state stays readable (256 to 1048576). Every state method (`eth_getBalance`, `eth_call`, `eth_estimateGas`, ...) answers at any of these blocks, by number, tag or hash; older ones are refused with a message naming the window. The same undo logs rebuild the state before a transaction to prove fraud, so keep it above the blocks a challenge window spans. Each block costs its written keys' old values on disk (about 110 bytes per key, twice).",
    ),
];

/// One configuration key as documented: see [`key_reference`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyReference {
    /// The dotted key, e.g. `rpc.listen_addr`.
    pub key: String,
    /// Its default as TOML value text, e.g. `"127.0.0.1:8545"`.
    pub default: String,
    /// The environment variable that overrides it, e.g. `LAZYCHAIN__RPC__LISTEN_ADDR`.
    pub env: String,
    /// What it does, in markdown (`code`, links relative to docs/).
    pub description: &'static str,
}

/// Every configuration key in file order with its default, its environment variable and its
/// description, the source of docs/operator.md's key table.
pub fn key_reference() -> Vec<KeyReference> {
    let defaults = serde_json::to_value(NodeConfig::default()).unwrap_or(serde_json::Value::Null);
    KEYS.iter()
        .map(|(section, key, description)| {
            let dotted = format!("{section}.{key}");
            KeyReference {
                default: toml_text(&defaults[section][key]),
                env: env_var_name(&dotted),
                key: dotted,
                description,
            }
        })
        .collect()
}

/// A key's markdown description as plain comment text: links become `text (docs/target)`
/// and code loses its backticks.
fn plain_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut rest = markdown;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let link = after.find(']').and_then(|close| {
            let target = after[close + 1..].strip_prefix('(')?;
            let end = target.find(')')?;
            Some((&after[..close], &target[..end], &target[end + 1..]))
        });
        match link {
            Some((text, target, tail)) => {
                out.push_str(&rest[..open]);
                out.push_str(text);
                out.push_str(" (docs/");
                out.push_str(target);
                out.push(')');
                rest = tail;
            }
            // A bracket that opens no link, e.g. a TOML array in code.
            None => {
                out.push_str(&rest[..=open]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out.replace('`', "")
}

/// The environment variable that overrides `key` (`"rpc.listen_addr"` ->
/// `"LAZYCHAIN__RPC__LISTEN_ADDR"`).
pub fn env_var_name(key: &str) -> String {
    format!(
        "{ENV_PREFIX}{}",
        key.replace('.', "__").to_ascii_uppercase()
    )
}

/// Where a configuration value came from, for error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Origin {
    File(String),
    Env(String),
    Flag,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(path) => f.write_str(path),
            Origin::Env(name) => write!(f, "environment variable {name}"),
            Origin::Flag => f.write_str("command-line flag"),
        }
    }
}

/// Which layer set each key, so that validation errors blame the right place.
struct Attribution {
    /// Named for keys no layer set (they hold defaults, which the file may change).
    file: String,
    set_by: BTreeMap<String, Origin>,
}

impl Attribution {
    fn file(file: String) -> Self {
        Self {
            file,
            set_by: BTreeMap::new(),
        }
    }

    fn name(&self, key: &str) -> String {
        match self.set_by.get(key) {
            Some(origin) => origin.to_string(),
            None => self.file.clone(),
        }
    }

    fn is_set(&self, key: &str) -> bool {
        self.set_by.contains_key(key)
    }
}

/// The configuration as a TOML table, built up layer by layer.
struct Layers {
    defaults: Table,
    values: Table,
    attribution: Attribution,
}

impl Layers {
    fn new(file: String) -> Result<Self, ConfigError> {
        let defaults = Table::try_from(NodeConfig::default()).map_err(|e| {
            ConfigError::invalid("built-in defaults", "", format!("cannot encode: {e}"))
        })?;
        Ok(Self {
            values: defaults.clone(),
            defaults,
            attribution: Attribution::file(file),
        })
    }

    fn sections(&self) -> Vec<&str> {
        self.defaults.keys().map(String::as_str).collect()
    }

    /// The default value of `section.key`, or an unknown-key error blaming `origin`.
    fn default_of(&self, origin: &Origin, section: &str, key: &str) -> Result<&Value, ConfigError> {
        let Some(Value::Table(keys)) = self.defaults.get(section) else {
            return Err(ConfigError::UnknownKey {
                origin: origin.to_string(),
                key: format!("{section}.{key}"),
                hint: format!(
                    " (no section [{section}]; sections are: {})",
                    self.sections().join(", ")
                ),
            });
        };
        keys.get(key).ok_or_else(|| {
            let known: Vec<&str> = keys.keys().map(String::as_str).collect();
            ConfigError::unknown_key(origin.to_string(), format!("{section}.{key}"), &known)
        })
    }

    /// Sets `section.key` to `value`, refusing a key that does not exist. Its type is
    /// checked with the rest of its layer, by [`Layers::decode`].
    fn set(
        &mut self,
        origin: Origin,
        section: &str,
        key: &str,
        value: Value,
    ) -> Result<(), ConfigError> {
        self.default_of(&origin, section, key)?;
        if let Some(Value::Table(keys)) = self.values.get_mut(section) {
            keys.insert(key.to_owned(), value);
        }
        self.attribution
            .set_by
            .insert(format!("{section}.{key}"), origin);
        Ok(())
    }

    /// Decodes the values set so far in one serde pass. A value of the wrong type is blamed
    /// on the layer that set it, naming its key and showing it. Run after each layer, so that
    /// a bad value is an error even when a higher layer replaces it.
    fn decode(&self) -> Result<NodeConfig, ConfigError> {
        let decoded: Result<NodeConfig, _> =
            serde_path_to_error::deserialize(Value::Table(self.values.clone()));
        decoded.map_err(|e| {
            // The key is `section.key`; a deeper path (a list element) blames the whole key.
            let path = e.path().to_string();
            let mut parts = path.splitn(2, '.');
            let section = parts.next().unwrap_or_default();
            let key = parts
                .next()
                .unwrap_or_default()
                .split(['.', '['])
                .next()
                .unwrap_or_default();
            let dotted = format!("{section}.{key}");
            let shown = match self.values.get(section).and_then(|s| s.get(key)) {
                Some(value) => format!(" (value {value})"),
                None => String::new(),
            };
            ConfigError::invalid(
                self.attribution.name(&dotted),
                dotted,
                format!("{}{shown}", e.inner().message().trim()),
            )
        })
    }

    /// Applies a whole parsed file.
    fn apply_file(&mut self, origin: &Origin, file: Table) -> Result<(), ConfigError> {
        for (section, body) in file {
            if !self.defaults.contains_key(&section) {
                return Err(ConfigError::unknown_key(
                    origin.to_string(),
                    section,
                    &self.sections(),
                ));
            }
            let Value::Table(keys) = body else {
                return Err(ConfigError::invalid(
                    origin.to_string(),
                    &section,
                    format!("expected a table [{section}], got {}", body.type_str()),
                ));
            };
            for (key, value) in keys {
                self.set(origin.clone(), &section, &key, value)?;
            }
        }
        Ok(())
    }

    /// Applies one textual override (from the environment or a flag).
    fn apply_text(
        &mut self,
        origin: Origin,
        section: &str,
        key: &str,
        raw: &str,
    ) -> Result<(), ConfigError> {
        let value = coerce(raw, self.default_of(&origin, section, key)?);
        self.set(origin, section, key, value)
    }

    fn apply_env(&mut self, name: &str, raw: &str) -> Result<(), ConfigError> {
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
            return Ok(());
        };
        let origin = Origin::Env(name.to_owned());
        let Some((section, key)) = rest.split_once("__") else {
            return Err(ConfigError::UnknownKey {
                origin: origin.to_string(),
                key: rest.to_ascii_lowercase(),
                hint: format!(" (variables named {ENV_PREFIX}* must be {ENV_PREFIX}SECTION__KEY, e.g. LAZYCHAIN__RPC__LISTEN_ADDR)"),
            });
        };
        let (section, key) = (section.to_ascii_lowercase(), key.to_ascii_lowercase());
        self.default_of(&origin, &section, &key)?;
        let expected = env_var_name(&format!("{section}.{key}"));
        if name != expected {
            return Err(ConfigError::UnknownKey {
                origin: origin.to_string(),
                key: format!("{section}.{key}"),
                hint: format!(" (variable names are upper case: {expected})"),
            });
        }
        self.apply_text(origin, &section, &key, raw)
    }

    fn apply_flag(&mut self, key: &str, raw: &str) -> Result<(), ConfigError> {
        let Some((section, name)) = key.split_once('.') else {
            return Err(ConfigError::UnknownKey {
                origin: Origin::Flag.to_string(),
                key: key.to_owned(),
                hint: " (expected section.key, e.g. rpc.listen_addr)".to_owned(),
            });
        };
        self.apply_text(Origin::Flag, section, name, raw)
    }

    fn build(self) -> Result<(NodeConfig, Attribution), ConfigError> {
        let config = self.decode()?;
        Ok((config, self.attribution))
    }
}

/// Turns an override's text into a TOML value of the key's type where that is unambiguous:
/// for a string key the text itself (quotes optional); for a list key a TOML array or a
/// comma-separated list; otherwise the text parsed as a TOML value (number, boolean), or
/// the text as a string when it does not parse (the type check then reports it).
fn coerce(raw: &str, default: &Value) -> Value {
    let parsed = parse_toml_value(raw);
    match default {
        Value::String(_) => match parsed {
            Some(Value::String(s)) => Value::String(s),
            _ => Value::String(raw.to_owned()),
        },
        Value::Array(_) => match parsed {
            Some(array @ Value::Array(_)) => array,
            _ => Value::Array(
                raw.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::String(s.to_owned()))
                    .collect(),
            ),
        },
        _ => parsed.unwrap_or_else(|| Value::String(raw.to_owned())),
    }
}

fn parse_toml_value(raw: &str) -> Option<Value> {
    let mut table: Table = toml::from_str(&format!("v = {raw}")).ok()?;
    if table.len() != 1 {
        return None;
    }
    table.remove("v")
}

impl NodeConfig {
    /// Loads `path`, then applies environment overrides, then flag overrides, then
    /// validates.
    ///
    /// - `env`: entries named `LAZYCHAIN__SECTION__KEY` (e.g. `LAZYCHAIN__RPC__LISTEN_ADDR`)
    ///   override `section.key`; other entries are ignored. A variable with the prefix that
    ///   names no key is an error naming the variable. Pass `std::env::vars()`.
    /// - `overrides`: `("rpc.listen_addr", "127.0.0.1:9000")` pairs from command-line
    ///   flags; highest precedence.
    ///
    /// Override text is taken as the key's type: strings as they are (quotes optional),
    /// lists as a TOML array (`["a","b"]`) or comma-separated, numbers and booleans as TOML
    /// values. A value of the wrong type is an error naming the variable or flag and the
    /// key. Unknown keys in the file are errors naming the file and key; a missing file is
    /// [`ConfigError::NotFound`].
    pub fn load(
        path: &Path,
        env: impl IntoIterator<Item = (String, String)>,
        overrides: &[(String, String)],
    ) -> Result<Self, ConfigError> {
        let text = fsutil::read_capped(path, MAX_CONFIG_BYTES)?;
        let file: Table = toml::from_str(&text).map_err(|e| {
            ConfigError::malformed(
                path,
                format!("not valid TOML: {}", e.to_string().trim_end()),
            )
        })?;
        let origin = Origin::File(path.display().to_string());
        let mut layers = Layers::new(path.display().to_string())?;
        layers.apply_file(&origin, file)?;
        layers.decode()?;
        let mut env: Vec<(String, String)> = env.into_iter().collect();
        env.sort();
        for (name, raw) in &env {
            layers.apply_env(name, raw)?;
        }
        layers.decode()?;
        for (key, raw) in overrides {
            layers.apply_flag(key, raw)?;
        }
        let (config, attribution) = layers.build()?;
        config.validate_with(&attribution)?;
        Ok(config)
    }

    /// Checks the configuration: listen addresses parse (`IP:PORT` for rpc and metrics; a
    /// `/ip4/…/tcp/PORT`, `/ip6/…/tcp/PORT` or `/dns…/HOST/tcp/PORT` multiaddr, optionally
    /// ending in `/p2p/ID`, for consensus, gossip and peers), round timeouts and limits are
    /// above 0, `max_block_wait_ms` is below `timeout_propose_ms`, `empty_block_interval_ms`
    /// is at most [`MAX_EMPTY_BLOCK_INTERVAL_MS`], the four listeners use
    /// distinct ports on the same host, and numbers fit in a TOML integer. Errors name
    /// `config.toml` and the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_with(&Attribution::file(CONFIG_FILE.to_owned()))
    }

    fn validate_with(&self, at: &Attribution) -> Result<(), ConfigError> {
        let fail =
            |key: &str, problem: String| Err(ConfigError::invalid(at.name(key), key, problem));

        if self.node.moniker.trim().is_empty() {
            return fail("node.moniker", "must not be empty".to_owned());
        }

        let c = &self.consensus;
        let consensus_listen = match parse_tcp_multiaddr(&c.listen_addr) {
            Ok(host_port) => host_port,
            Err(problem) => return fail("consensus.listen_addr", problem.to_string()),
        };
        for (i, peer) in c.persistent_peers.iter().enumerate() {
            if let Err(problem) = parse_tcp_multiaddr(peer) {
                return fail(
                    "consensus.persistent_peers",
                    format!("entry {i}: {problem}"),
                );
            }
        }
        for (key, value) in [
            ("consensus.timeout_propose_ms", c.timeout_propose_ms),
            ("consensus.timeout_prevote_ms", c.timeout_prevote_ms),
            ("consensus.timeout_precommit_ms", c.timeout_precommit_ms),
        ] {
            if value == 0 {
                return fail(key, "must be greater than 0".to_owned());
            }
        }
        if c.max_block_wait_ms > 0 && c.max_block_wait_ms >= c.timeout_propose_ms {
            return fail(
                "consensus.max_block_wait_ms",
                format!(
                    "{} must be below consensus.timeout_propose_ms ({}), or the other validators time out before the proposal arrives",
                    c.max_block_wait_ms, c.timeout_propose_ms
                ),
            );
        }

        if c.empty_block_interval_ms > MAX_EMPTY_BLOCK_INTERVAL_MS {
            return fail(
                "consensus.empty_block_interval_ms",
                format!(
                    "{} is above {MAX_EMPTY_BLOCK_INTERVAL_MS}: an idle chain must keep deciding blocks for the challenge window (state.min_window_blocks blocks) to close",
                    c.empty_block_interval_ms
                ),
            );
        }

        let g = &self.gossip;
        let gossip_listen = match parse_tcp_multiaddr(&g.listen_addr) {
            Ok(host_port) => host_port,
            Err(problem) => return fail("gossip.listen_addr", problem.to_string()),
        };
        for (i, peer) in g.peers.iter().enumerate() {
            if let Err(problem) = parse_tcp_multiaddr(peer) {
                return fail("gossip.peers", format!("entry {i}: {problem}"));
            }
        }

        let r = &self.rpc;
        let rpc_listen = match parse_socket_addr(&r.listen_addr) {
            Ok(addr) => (Host::Ip(addr.ip()), addr.port()),
            Err(problem) => return fail("rpc.listen_addr", problem.to_string()),
        };
        for (key, value) in [
            ("rpc.max_request_body_bytes", r.max_request_body_bytes),
            ("rpc.max_response_body_bytes", r.max_response_body_bytes),
            ("rpc.max_batch_len", r.max_batch_len),
            ("rpc.max_connections", r.max_connections),
        ] {
            if value == 0 {
                return fail(key, "must be greater than 0".to_owned());
            }
        }
        if r.filter_timeout_secs == 0 {
            return fail(
                "rpc.filter_timeout_secs",
                "must be greater than 0".to_owned(),
            );
        }

        let metrics_listen = match parse_socket_addr(&self.metrics.listen_addr) {
            Ok(addr) => (Host::Ip(addr.ip()), addr.port()),
            Err(problem) => return fail("metrics.listen_addr", problem.to_string()),
        };

        let m = &self.mempool;
        for (key, value) in [
            ("mempool.max_txs", m.max_txs),
            ("mempool.max_bytes", m.max_bytes),
            ("mempool.max_txs_per_sender", m.max_txs_per_sender),
        ] {
            if value == 0 {
                return fail(key, "must be greater than 0".to_owned());
            }
        }
        if m.max_txs_per_sender > m.max_txs {
            return fail(
                "mempool.max_txs_per_sender",
                format!(
                    "{} is larger than mempool.max_txs ({})",
                    m.max_txs_per_sender, m.max_txs
                ),
            );
        }

        if self.log.filter.trim().is_empty() {
            return fail(
                "log.filter",
                "must not be empty (use \"info\" for the usual lines)".to_owned(),
            );
        }

        let s = &self.storage;
        if s.db_file.trim().is_empty() {
            return fail("storage.db_file", "must not be empty".to_owned());
        }
        if s.wal_file.trim().is_empty() {
            return fail("storage.wal_file", "must not be empty".to_owned());
        }
        for (key, mib) in [
            ("storage.block_cache_mib", s.block_cache_mib),
            ("storage.state_cache_mib", s.state_cache_mib),
        ] {
            if mib == 0 || mib > MAX_CACHE_MIB {
                return fail(
                    key,
                    format!("{mib} must be between 1 and {MAX_CACHE_MIB} MiB"),
                );
            }
        }
        if s.db_file == s.wal_file {
            return fail(
                "storage.wal_file",
                format!(
                    "{:?} is also storage.db_file; they must be different files",
                    s.wal_file
                ),
            );
        }

        let urls = &self.executor.submit_urls;
        if urls.len() > MAX_SUBMIT_URLS {
            return fail(
                "executor.submit_urls",
                format!("{} entries, at most {MAX_SUBMIT_URLS}", urls.len()),
            );
        }
        for (i, url) in urls.iter().enumerate() {
            if let Err(problem) = check_http_url(url) {
                return fail("executor.submit_urls", format!("entry {i}: {problem}"));
            }
        }
        let history = self.executor.state_history_blocks;
        if !(MIN_STATE_HISTORY_BLOCKS..=MAX_STATE_HISTORY_BLOCKS).contains(&history) {
            return fail(
                "executor.state_history_blocks",
                format!(
                    "{history} must be between {MIN_STATE_HISTORY_BLOCKS} and {MAX_STATE_HISTORY_BLOCKS}"
                ),
            );
        }

        let listeners = [
            ("consensus.listen_addr", &c.listen_addr, consensus_listen),
            ("gossip.listen_addr", &g.listen_addr, gossip_listen),
            ("rpc.listen_addr", &r.listen_addr, rpc_listen),
            (
                "metrics.listen_addr",
                &self.metrics.listen_addr,
                metrics_listen,
            ),
        ];
        for (i, (key_a, text_a, (host_a, port_a))) in listeners.iter().enumerate() {
            for (key_b, text_b, (host_b, port_b)) in &listeners[i + 1..] {
                if *port_a == 0 || port_a != port_b || !host_a.overlaps(host_b) {
                    continue;
                }
                // Blame the key the operator set, if only one of them was.
                let (blamed, other, other_text) = if at.is_set(key_a) && !at.is_set(key_b) {
                    (*key_a, *key_b, text_b)
                } else {
                    (*key_b, *key_a, text_a)
                };
                return fail(
                    blamed,
                    format!("port {port_a} is also used by {other} ({other_text}); each listener needs its own port"),
                );
            }
        }

        let tree = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        for (section, key, _) in KEYS {
            if let Some(n) = tree[section][key].as_u64() {
                if n > MAX_TOML_INTEGER {
                    return fail(
                        &format!("{section}.{key}"),
                        format!("{n} is larger than {MAX_TOML_INTEGER}, the largest integer a TOML file can hold"),
                    );
                }
            }
        }
        Ok(())
    }

    /// Renders `config.toml` with a comment above every section and key saying what it does
    /// and naming its environment override. Loading the result gives back `self`.
    pub fn to_commented_toml(&self) -> String {
        let values = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        let defaults =
            serde_json::to_value(NodeConfig::default()).unwrap_or(serde_json::Value::Null);
        let mut out = String::from(
            "# lazychain node configuration.\n\
             #\n\
             # Precedence, highest first: command-line flags, environment variables named\n\
             # LAZYCHAIN__SECTION__KEY, this file, built-in defaults. A key left out keeps its\n\
             # default; an unknown key is an error. Relative paths are resolved against the\n\
             # node's home directory.\n",
        );
        for (section, section_doc) in SECTIONS {
            out.push('\n');
            push_comment(&mut out, section_doc, None);
            out.push_str(&format!("[{section}]\n"));
            for (_, key, doc) in KEYS.iter().filter(|(s, _, _)| s == section) {
                let env = env_var_name(&format!("{section}.{key}"));
                out.push('\n');
                let env_note = if defaults[section][key].is_array() {
                    format!("Env: {env} (comma-separated)")
                } else {
                    format!("Env: {env}")
                };
                push_comment(&mut out, &plain_text(doc), Some(&env_note));
                out.push_str(&format!(
                    "# Default: {}\n",
                    toml_text(&defaults[section][key])
                ));
                out.push_str(&format!("{key} = {}\n", toml_text(&values[section][key])));
            }
        }
        out
    }

    /// Validates, then writes [`NodeConfig::to_commented_toml`] to `path`, refusing to
    /// replace an existing file unless `force`. The file is written under a temporary name
    /// and renamed into place.
    pub fn save(&self, path: &Path, force: bool) -> Result<(), ConfigError> {
        self.validate_with(&Attribution::file(path.display().to_string()))?;
        fsutil::write_atomic(path, self.to_commented_toml().as_bytes(), false, force)
    }

    /// `p` relative to `home`, unless `p` is absolute.
    pub fn resolve_path(home: &Path, p: &str) -> PathBuf {
        let path = Path::new(p);
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            home.join(path)
        }
    }

    /// The database file, resolved against `home`.
    pub fn db_path(&self, home: &Path) -> PathBuf {
        Self::resolve_path(home, &self.storage.db_file)
    }

    /// The consensus write-ahead log, resolved against `home`.
    pub fn wal_path(&self, home: &Path) -> PathBuf {
        Self::resolve_path(home, &self.storage.wal_file)
    }
}

/// Appends `text` and then `tail` (kept on one line) as `#` comment lines wrapped at
/// about 90 columns.
fn push_comment(out: &mut String, text: &str, tail: Option<&str>) {
    let mut line = String::from("#");
    for word in text.split_whitespace().chain(tail) {
        if line.len() > 1 && line.len() + 1 + word.len() > 90 {
            out.push_str(&line);
            out.push('\n');
            line = String::from("#");
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
}

/// A JSON leaf (string, number, boolean, array of those) as TOML value text.
fn toml_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => Value::String(s.clone()).to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Bool(b) => b.to_string(),
        serde_json::Value::Array(items) => {
            let items: Vec<String> = items.iter().map(toml_text).collect();
            format!("[{}]", items.join(", "))
        }
        serde_json::Value::Null | serde_json::Value::Object(_) => "\"\"".to_owned(),
    }
}

/// Why a listen address, peer address or URL of the configuration does not parse. The message
/// is the problem part of a [`ConfigError::Invalid`] for the key that holds it.
#[derive(Debug, thiserror::Error)]
enum AddressError {
    /// Not `IP:PORT`.
    #[error(
        "invalid socket address {text:?} (expected IP:PORT, e.g. 127.0.0.1:8545 or [::1]:8545)"
    )]
    SocketAddr {
        text: String,
        #[source]
        error: std::net::AddrParseError,
    },
    /// Not one of the TCP multiaddr forms lazychain uses.
    #[error("invalid multiaddr {text:?}: {problem}")]
    Multiaddr {
        text: String,
        problem: MultiaddrProblem,
    },
    /// An endpoint URL without an `http://` or `https://` scheme.
    #[error("{url:?} is not an http:// or https:// URL")]
    UrlScheme { url: String },
    /// An endpoint URL without `:PORT`.
    #[error("{url:?} has no :PORT")]
    UrlNoPort { url: String },
    /// An endpoint URL with an empty host (or whitespace in it).
    #[error("{url:?} has no host")]
    UrlNoHost { url: String },
    /// An endpoint URL whose port is not a number from 1 to 65535.
    #[error("{url:?} has a bad port {port:?}")]
    UrlBadPort { url: String, port: String },
}

/// What is wrong with a multiaddr ([`AddressError::Multiaddr`]).
#[derive(Debug, thiserror::Error)]
enum MultiaddrProblem {
    /// Not `/PROTO/HOST/tcp/PORT...` with a known protocol and a host.
    #[error("{}", MULTIADDR_FORMS)]
    Form,
    #[error("{host:?} is not an IPv4 address")]
    NotIpv4 { host: String },
    #[error("{host:?} is not an IPv6 address")]
    NotIpv6 { host: String },
    #[error("no /tcp/<port> after the host ({})", MULTIADDR_FORMS)]
    NoTcp,
    #[error("{port:?} is not a TCP port (0-65535)")]
    BadPort { port: String },
    /// Something other than `/p2p/<peer id>` after the port.
    #[error("unexpected \"/{rest}\" after the port (only /p2p/<peer id> may follow)")]
    Trailing { rest: String },
}

/// The multiaddr forms [`parse_tcp_multiaddr`] takes, as its errors name them.
const MULTIADDR_FORMS: &str =
    "expected /ip4/<address>/tcp/<port>, /ip6/<address>/tcp/<port> or /dns/<host>/tcp/<port>";

fn parse_socket_addr(text: &str) -> Result<SocketAddr, AddressError> {
    text.parse::<SocketAddr>()
        .map_err(|error| AddressError::SocketAddr {
            text: text.to_owned(),
            error,
        })
}

/// The host part of a listen address.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Host {
    Ip(IpAddr),
    Dns(String),
}

impl Host {
    /// Whether listeners on `self` and `other` with the same port would collide.
    fn overlaps(&self, other: &Host) -> bool {
        match (self, other) {
            (Host::Ip(a), Host::Ip(b)) => a == b || a.is_unspecified() || b.is_unspecified(),
            (Host::Dns(a), Host::Dns(b)) => a == b,
            (Host::Ip(ip), Host::Dns(_)) | (Host::Dns(_), Host::Ip(ip)) => ip.is_unspecified(),
        }
    }
}

/// Parses the TCP multiaddrs lazychain uses: `/ip4/A/tcp/P`, `/ip6/A/tcp/P` or
/// `/dns|dns4|dns6/HOST/tcp/P`, optionally followed by `/p2p/PEER_ID`.
fn parse_tcp_multiaddr(text: &str) -> Result<(Host, u16), AddressError> {
    let bad = |problem: MultiaddrProblem| {
        Err(AddressError::Multiaddr {
            text: text.to_owned(),
            problem,
        })
    };
    let parts: Vec<&str> = text.split('/').collect();
    let (proto, host, tcp, port, rest) = match parts.as_slice() {
        ["", proto, host, tcp, port, rest @ ..] => (*proto, *host, *tcp, *port, rest),
        _ => return bad(MultiaddrProblem::Form),
    };
    let host = match proto {
        "ip4" => match host.parse::<std::net::Ipv4Addr>() {
            Ok(ip) => Host::Ip(IpAddr::V4(ip)),
            Err(_) => {
                return bad(MultiaddrProblem::NotIpv4 {
                    host: host.to_owned(),
                })
            }
        },
        "ip6" => match host.parse::<std::net::Ipv6Addr>() {
            Ok(ip) => Host::Ip(IpAddr::V6(ip)),
            Err(_) => {
                return bad(MultiaddrProblem::NotIpv6 {
                    host: host.to_owned(),
                })
            }
        },
        "dns" | "dns4" | "dns6" if !host.is_empty() => Host::Dns(host.to_ascii_lowercase()),
        _ => return bad(MultiaddrProblem::Form),
    };
    if tcp != "tcp" {
        return bad(MultiaddrProblem::NoTcp);
    }
    let Ok(port) = port.parse::<u16>() else {
        return bad(MultiaddrProblem::BadPort {
            port: port.to_owned(),
        });
    };
    match rest {
        [] | ["p2p", _] if rest.iter().all(|p| !p.is_empty()) => Ok((host, port)),
        _ => bad(MultiaddrProblem::Trailing {
            rest: rest.join("/"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn flags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        env(pairs)
    }

    /// A config.toml in a temporary directory.
    fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(CONFIG_FILE);
        std::fs::write(&path, text).expect("write config");
        (dir, path)
    }

    fn load_err(text: &str, env_pairs: &[(&str, &str)], flag_pairs: &[(&str, &str)]) -> String {
        let (_dir, path) = file(text);
        NodeConfig::load(&path, env(env_pairs), &flags(flag_pairs))
            .expect_err("load must fail")
            .to_string()
    }

    fn sample() -> NodeConfig {
        let mut c = NodeConfig::default();
        c.node.moniker = "val \"quoted\" 1".to_owned();
        c.consensus.persistent_peers = vec![
            "/ip4/10.0.0.2/tcp/26656".to_owned(),
            "/dns/val-3.example/tcp/26656/p2p/12D3KooWabc".to_owned(),
        ];
        c.consensus.timeout_propose_ms = 2500;
        c.consensus.max_block_wait_ms = 50;
        c.gossip.peers = vec!["/ip6/::1/tcp/26661".to_owned()];
        c.rpc.listen_addr = "0.0.0.0:18545".to_owned();
        c.rpc.max_batch_len = 7;
        c.mempool.max_bytes = 1 << 30;
        c.log.format = LogFormat::Json;
        c.log.filter = "info,lazychain=debug".to_owned();
        c.storage.db_file = "/var/lib/lazychain/blocks.redb".to_owned();
        c
    }

    #[test]
    fn defaults_are_valid_and_as_documented() {
        let c = NodeConfig::default();
        c.validate().expect("defaults validate");
        assert_eq!(c.consensus.listen_addr, "/ip4/127.0.0.1/tcp/26656");
        assert_eq!(c.gossip.listen_addr, "/ip4/127.0.0.1/tcp/26660");
        assert_eq!(c.rpc.listen_addr, "127.0.0.1:8545");
        assert_eq!(c.metrics.listen_addr, "127.0.0.1:9100");
        assert_eq!(c.rpc.max_request_body_bytes, 10 << 20);
        assert_eq!(c.mempool.max_bytes, 256 << 20);
        assert_eq!(c.log.format, LogFormat::Text);
        assert_eq!(c.storage.wal_file, "data/consensus.wal");
    }

    #[test]
    fn every_key_is_documented_in_order() {
        let tree = serde_json::to_value(NodeConfig::default()).expect("to_value");
        let map = tree.as_object().expect("object");
        let sections: Vec<&str> = SECTIONS.iter().map(|(s, _)| *s).collect();
        let mut expected_sections: Vec<&str> = map.keys().map(String::as_str).collect();
        expected_sections.sort_unstable();
        let mut documented = sections.clone();
        documented.sort_unstable();
        assert_eq!(documented, expected_sections, "SECTIONS out of date");
        let mut expected_keys: Vec<String> = map
            .iter()
            .flat_map(|(s, keys)| {
                let keys = keys.as_object().expect("section object");
                keys.keys().map(move |k| format!("{s}.{k}"))
            })
            .collect();
        expected_keys.sort_unstable();
        let mut documented_keys: Vec<String> =
            KEYS.iter().map(|(s, k, _)| format!("{s}.{k}")).collect();
        documented_keys.sort_unstable();
        assert_eq!(documented_keys, expected_keys, "KEYS out of date");
    }

    #[test]
    fn descriptions_read_as_plain_comments() {
        assert_eq!(
            plain_text("see [ADR 8](adr/008.md), `a.b` and `[\"x\"]`; [not a link] ok"),
            "see ADR 8 (docs/adr/008.md), a.b and [\"x\"]; [not a link] ok"
        );
        let text = NodeConfig::default().to_commented_toml();
        assert!(!text.contains('`'), "{text}");
        assert!(
            text.contains("ADR 008 (docs/adr/008-idle-chain.md)"),
            "{text}"
        );
        let keys = key_reference();
        assert_eq!(keys.len(), KEYS.len());
        assert_eq!(keys[0].key, "node.moniker");
        assert_eq!(keys[0].default, "\"lazychain-node\"");
        assert_eq!(keys[0].env, "LAZYCHAIN__NODE__MONIKER");
    }

    #[test]
    fn commented_toml_round_trips() {
        for config in [NodeConfig::default(), sample()] {
            let text = config.to_commented_toml();
            let (_dir, path) = file(&text);
            let loaded = NodeConfig::load(&path, Vec::new(), &[]).expect("load rendered config");
            assert_eq!(loaded, config, "rendered:\n{text}");
        }
    }

    #[test]
    fn commented_toml_names_every_env_override() {
        let text = NodeConfig::default().to_commented_toml();
        assert!(
            text.contains("# Address of the JSON-RPC server (HTTP and WebSocket). Env: LAZYCHAIN__RPC__LISTEN_ADDR\n# Default: \"127.0.0.1:8545\"\nlisten_addr = \"127.0.0.1:8545\"\n"),
            "{text}"
        );
        for (section, key, _) in KEYS {
            assert!(
                text.contains(&env_var_name(&format!("{section}.{key}"))),
                "{section}.{key}"
            );
        }
        for line in text.lines() {
            assert!(line.len() <= 100, "line too long: {line}");
        }
    }

    #[test]
    fn save_writes_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(CONFIG_FILE);
        sample().save(&path, false).expect("save");
        assert_eq!(
            NodeConfig::load(&path, Vec::new(), &[]).expect("load"),
            sample()
        );
        let err = NodeConfig::default()
            .save(&path, false)
            .expect_err("exists");
        assert!(matches!(err, ConfigError::AlreadyExists { .. }), "{err}");
        NodeConfig::default().save(&path, true).expect("force");
        assert_eq!(
            NodeConfig::load(&path, Vec::new(), &[]).expect("load"),
            NodeConfig::default()
        );

        let mut bad = NodeConfig::default();
        bad.rpc.listen_addr = "nope".to_owned();
        let err = bad.save(&path, true).expect_err("invalid").to_string();
        assert!(
            err.contains("key rpc.listen_addr: invalid socket address \"nope\""),
            "{err}"
        );
    }

    #[test]
    fn precedence_flag_over_env_over_file_over_default() {
        let key = "LAZYCHAIN__RPC__LISTEN_ADDR";
        let (_dir, path) = file("[rpc]\nlisten_addr = \"127.0.0.1:1001\"\n");
        let (_d2, empty) = file("");

        let c = NodeConfig::load(&empty, Vec::new(), &[]).expect("default");
        assert_eq!(c.rpc.listen_addr, "127.0.0.1:8545");

        let c = NodeConfig::load(&path, Vec::new(), &[]).expect("file");
        assert_eq!(c.rpc.listen_addr, "127.0.0.1:1001");

        let c = NodeConfig::load(&path, env(&[(key, "127.0.0.1:1002")]), &[]).expect("env");
        assert_eq!(c.rpc.listen_addr, "127.0.0.1:1002");

        let c = NodeConfig::load(
            &path,
            env(&[(key, "127.0.0.1:1002")]),
            &flags(&[("rpc.listen_addr", "127.0.0.1:1003")]),
        )
        .expect("flag");
        assert_eq!(c.rpc.listen_addr, "127.0.0.1:1003");
        // Unrelated keys keep their defaults and unrelated variables are ignored.
        let c = NodeConfig::load(
            &path,
            env(&[("PATH", "/bin"), ("LAZYCHAIN_HOME", "/x")]),
            &[],
        )
        .expect("unrelated env");
        assert_eq!(c.rpc.max_batch_len, 1_000);
    }

    #[test]
    fn override_values_take_the_keys_type() {
        let (_dir, path) = file("");
        let c = NodeConfig::load(
            &path,
            env(&[
                ("LAZYCHAIN__NODE__MONIKER", "42"),
                (
                    "LAZYCHAIN__CONSENSUS__PERSISTENT_PEERS",
                    "/ip4/1.2.3.4/tcp/1, /ip4/1.2.3.5/tcp/1",
                ),
                ("LAZYCHAIN__GOSSIP__PEERS", "[\"/ip4/1.2.3.6/tcp/2\"]"),
                ("LAZYCHAIN__RPC__MAX_BATCH_LEN", "5"),
                ("LAZYCHAIN__LOG__FORMAT", "json"),
                ("LAZYCHAIN__LOG__FILTER", "\"debug\""),
            ]),
            &flags(&[("consensus.timeout_propose_ms", "1500")]),
        )
        .expect("load");
        assert_eq!(c.node.moniker, "42");
        assert_eq!(
            c.consensus.persistent_peers,
            ["/ip4/1.2.3.4/tcp/1", "/ip4/1.2.3.5/tcp/1"]
        );
        assert_eq!(c.gossip.peers, ["/ip4/1.2.3.6/tcp/2"]);
        assert_eq!(c.rpc.max_batch_len, 5);
        assert_eq!(c.log.format, LogFormat::Json);
        assert_eq!(c.log.filter, "debug");
        assert_eq!(c.consensus.timeout_propose_ms, 1500);
    }

    #[test]
    fn unknown_key_in_file_is_named() {
        let (_dir, path) = file("[rpc]\nlisten_adr = \"127.0.0.1:1\"\n");
        let err = NodeConfig::load(&path, Vec::new(), &[])
            .expect_err("unknown key")
            .to_string();
        assert!(
            err.starts_with(&format!(
                "{}: unknown key rpc.listen_adr (expected one of: ",
                path.display()
            )),
            "{err}"
        );
        assert!(err.contains("listen_addr"), "{err}");

        let err = load_err("[rpcc]\nlisten_addr = \"127.0.0.1:1\"\n", &[], &[]);
        assert!(
            err.contains("config.toml: unknown key rpcc (expected one of: "),
            "{err}"
        );
        let err = load_err("moniker = \"x\"\n", &[], &[]);
        assert!(err.contains("config.toml: unknown key moniker"), "{err}");
        let err = load_err("rpc = 5\n", &[], &[]);
        assert!(
            err.contains("config.toml: key rpc: expected a table [rpc], got integer"),
            "{err}"
        );
    }

    #[test]
    fn unknown_env_var_is_named() {
        let err = load_err("", &[("LAZYCHAIN__RPC__LISTEN_ADR", "127.0.0.1:1")], &[]);
        assert!(
            err.starts_with(
                "environment variable LAZYCHAIN__RPC__LISTEN_ADR: unknown key rpc.listen_adr"
            ),
            "{err}"
        );
        let err = load_err("", &[("LAZYCHAIN__NOPE__X", "1")], &[]);
        assert!(
            err.starts_with(
                "environment variable LAZYCHAIN__NOPE__X: unknown key nope.x (no section [nope]"
            ),
            "{err}"
        );
        let err = load_err("", &[("LAZYCHAIN__HOME", "/x")], &[]);
        assert!(
            err.starts_with("environment variable LAZYCHAIN__HOME: unknown key home"),
            "{err}"
        );
        let err = load_err("", &[("LAZYCHAIN__rpc__listen_addr", "127.0.0.1:1")], &[]);
        assert!(
            err.contains("variable names are upper case: LAZYCHAIN__RPC__LISTEN_ADDR"),
            "{err}"
        );
        let err = load_err("", &[], &[("rpc.nope", "1")]);
        assert!(
            err.starts_with("command-line flag: unknown key rpc.nope"),
            "{err}"
        );
        let err = load_err("", &[], &[("nope", "1")]);
        assert!(
            err.starts_with("command-line flag: unknown key nope (expected section.key"),
            "{err}"
        );
    }

    #[test]
    fn wrong_type_is_named_with_its_origin() {
        let err = load_err("[rpc]\nmax_batch_len = \"many\"\n", &[], &[]);
        assert!(
            err.contains(
                "config.toml: key rpc.max_batch_len: invalid type: string \"many\", expected u32"
            ),
            "{err}"
        );
        let err = load_err("", &[("LAZYCHAIN__RPC__MAX_BATCH_LEN", "many")], &[]);
        assert!(
            err.starts_with("environment variable LAZYCHAIN__RPC__MAX_BATCH_LEN: key rpc.max_batch_len: invalid type: string \"many\""),
            "{err}"
        );
        let err = load_err("", &[], &[("mempool.max_txs", "-1")]);
        assert!(
            err.starts_with("command-line flag: key mempool.max_txs: invalid value: integer `-1`"),
            "{err}"
        );
        let err = load_err("", &[], &[("log.format", "xml")]);
        assert!(
            err.contains("key log.format: unknown variant `xml`, expected `text` or `json`"),
            "{err}"
        );
        let err = load_err("[node]\nmoniker = 7\n", &[], &[]);
        assert!(
            err.contains("key node.moniker: invalid type: integer `7`, expected a string"),
            "{err}"
        );
        let err = load_err(
            "[consensus]\npersistent_peers = \"/ip4/1.1.1.1/tcp/1\"\n",
            &[],
            &[],
        );
        assert!(
            err.contains("key consensus.persistent_peers: invalid type: string"),
            "{err}"
        );
        let err = load_err("[rpc\n", &[], &[]);
        assert!(err.contains("config.toml: not valid TOML: "), "{err}");
    }

    #[test]
    fn a_bad_value_is_blamed_on_its_layer_even_when_overridden() {
        let err = load_err(
            "[rpc]\nmax_batch_len = \"many\"\n",
            &[("LAZYCHAIN__RPC__MAX_BATCH_LEN", "5")],
            &[],
        );
        assert!(
            err.contains("config.toml: key rpc.max_batch_len: invalid type: string \"many\""),
            "{err}"
        );
        let err = load_err(
            "",
            &[("LAZYCHAIN__CONSENSUS__PERSISTENT_PEERS", "[1]")],
            &[("consensus.persistent_peers", "/ip4/1.1.1.1/tcp/1")],
        );
        assert!(
            err.starts_with("environment variable LAZYCHAIN__CONSENSUS__PERSISTENT_PEERS: key consensus.persistent_peers: invalid type: integer `1`, expected a string (value [1])"),
            "{err}"
        );
    }

    #[test]
    fn missing_file_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("absent.toml");
        let err = NodeConfig::load(&path, Vec::new(), &[]).expect_err("missing");
        assert!(matches!(err, ConfigError::NotFound { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            format!("{}: file not found", path.display())
        );
    }

    #[test]
    fn validation_errors_name_origin_and_key() {
        let err = load_err("[rpc]\nlisten_addr = \"abc\"\n", &[], &[]);
        assert!(err.ends_with("config.toml: key rpc.listen_addr: invalid socket address \"abc\" (expected IP:PORT, e.g. 127.0.0.1:8545 or [::1]:8545)"), "{err}");
        let err = load_err(
            "",
            &[("LAZYCHAIN__METRICS__LISTEN_ADDR", "localhost:9100")],
            &[],
        );
        assert!(err.starts_with("environment variable LAZYCHAIN__METRICS__LISTEN_ADDR: key metrics.listen_addr: invalid socket address"), "{err}");
        let err = load_err("", &[], &[("consensus.listen_addr", "127.0.0.1:26656")]);
        assert!(err.starts_with("command-line flag: key consensus.listen_addr: invalid multiaddr \"127.0.0.1:26656\""), "{err}");
        let err = load_err("[consensus]\ntimeout_prevote_ms = 0\n", &[], &[]);
        assert!(
            err.contains("config.toml: key consensus.timeout_prevote_ms: must be greater than 0"),
            "{err}"
        );
        let err = load_err("[consensus]\nempty_block_interval_ms = 60001\n", &[], &[]);
        assert!(
            err.contains("key consensus.empty_block_interval_ms: 60001 is above 60000"),
            "{err}"
        );
        let err = load_err("[consensus]\nmax_block_wait_ms = 2000\n", &[], &[]);
        assert!(err.contains("key consensus.max_block_wait_ms: 2000 must be below consensus.timeout_propose_ms (2000)"), "{err}");
        let err = load_err("[gossip]\npeers = [\"/ip4/1.2.3.4/udp/5\"]\n", &[], &[]);
        assert!(err.contains("key gossip.peers: entry 0: invalid multiaddr \"/ip4/1.2.3.4/udp/5\": no /tcp/<port>"), "{err}");
        let err = load_err(
            "[mempool]\nmax_txs = 10\nmax_txs_per_sender = 11\n",
            &[],
            &[],
        );
        assert!(
            err.contains("key mempool.max_txs_per_sender: 11 is larger than mempool.max_txs (10)"),
            "{err}"
        );
        let err = load_err("[storage]\nwal_file = \"data/blocks.redb\"\n", &[], &[]);
        assert!(
            err.contains("key storage.wal_file: \"data/blocks.redb\" is also storage.db_file"),
            "{err}"
        );
        let err = load_err("[storage]\nblock_cache_mib = 0\n", &[], &[]);
        assert!(
            err.contains("key storage.block_cache_mib: 0 must be between 1 and 65536 MiB"),
            "{err}"
        );
        let err = load_err("", &[("LAZYCHAIN__STORAGE__STATE_CACHE_MIB", "65537")], &[]);
        assert!(
            err.contains("key storage.state_cache_mib: 65537 must be between 1 and 65536 MiB"),
            "{err}"
        );
        let err = load_err("[rpc]\nmax_connections = 0\n", &[], &[]);
        assert!(
            err.contains("key rpc.max_connections: must be greater than 0"),
            "{err}"
        );
    }

    #[test]
    fn port_collisions_blame_the_key_that_was_set() {
        let err = load_err("[metrics]\nlisten_addr = \"127.0.0.1:8545\"\n", &[], &[]);
        assert!(
            err.contains("config.toml: key metrics.listen_addr: port 8545 is also used by rpc.listen_addr (127.0.0.1:8545)"),
            "{err}"
        );
        // rpc comes before metrics in the check; the blame still goes to the key set.
        let err = load_err("", &[], &[("rpc.listen_addr", "0.0.0.0:9100")]);
        assert!(
            err.starts_with("command-line flag: key rpc.listen_addr: port 9100 is also used by metrics.listen_addr"),
            "{err}"
        );
        let err = load_err(
            "[gossip]\nlisten_addr = \"/ip4/127.0.0.1/tcp/26656\"\n",
            &[],
            &[],
        );
        assert!(
            err.contains(
                "key gossip.listen_addr: port 26656 is also used by consensus.listen_addr"
            ),
            "{err}"
        );
        // Same port on different hosts, or port 0 (any free port), is fine.
        let (_dir, path) = file("[metrics]\nlisten_addr = \"127.0.0.2:8545\"\n[rpc]\nlisten_addr = \"127.0.0.1:0\"\n[gossip]\nlisten_addr = \"/ip4/127.0.0.1/tcp/0\"\n");
        NodeConfig::load(&path, Vec::new(), &[]).expect("distinct hosts");
        let mut c = NodeConfig::default();
        c.gossip.listen_addr = "/ip4/127.0.0.1/tcp/0".to_owned();
        c.consensus.listen_addr = "/ip4/127.0.0.1/tcp/0".to_owned();
        c.validate().expect("port 0 twice is fine");
    }

    #[test]
    fn multiaddr_forms() {
        for ok in [
            "/ip4/0.0.0.0/tcp/26656",
            "/ip6/::/tcp/1",
            "/dns/node-1.example/tcp/26656",
            "/dns4/a/tcp/1/p2p/12D3KooW",
        ] {
            parse_tcp_multiaddr(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for (bad, why) in [
            ("ip4/1.2.3.4/tcp/1", "expected /ip4/"),
            ("/ip4/1.2.3/tcp/1", "\"1.2.3\" is not an IPv4 address"),
            ("/ip6/1.2.3.4/tcp/1", "is not an IPv6 address"),
            ("/ip4/1.2.3.4/tcp/70000", "\"70000\" is not a TCP port"),
            ("/ip4/1.2.3.4/tcp/1/ws", "unexpected \"/ws\" after the port"),
            ("/ip4/1.2.3.4/tcp/1/p2p/", "unexpected \"/p2p/\""),
            ("/dns//tcp/1", "expected /ip4/"),
            ("/unix/x/tcp/1", "expected /ip4/"),
        ] {
            let err = parse_tcp_multiaddr(bad).expect_err(bad).to_string();
            assert!(
                err.starts_with(&format!("invalid multiaddr {bad:?}: ")),
                "{err}"
            );
            assert!(err.contains(why), "{bad}: expected {why:?} in {err:?}");
        }
    }

    #[test]
    fn endpoint_url_problems() {
        check_http_url("http://10.0.0.2:8545").expect("plain");
        check_http_url("https://val-1.example:443/rpc").expect("with a path");
        for (url, problem) in [
            (
                "ftp://a:1",
                "\"ftp://a:1\" is not an http:// or https:// URL",
            ),
            ("http://a", "\"http://a\" has no :PORT"),
            ("http://:1", "\"http://:1\" has no host"),
            ("http://a:0", "\"http://a:0\" has a bad port \"0\""),
        ] {
            assert_eq!(check_http_url(url).expect_err(url).to_string(), problem);
        }
    }

    #[test]
    fn numbers_too_large_for_toml_are_rejected() {
        let mut c = NodeConfig::default();
        c.consensus.timeout_precommit_delta_ms = u64::MAX;
        let err = c.validate().expect_err("too large").to_string();
        assert!(err.starts_with("config.toml: key consensus.timeout_precommit_delta_ms: 18446744073709551615 is larger than"), "{err}");
    }

    #[test]
    fn resolve_path_is_relative_to_home_unless_absolute() {
        let home = Path::new("/home/n");
        assert_eq!(
            NodeConfig::resolve_path(home, "data/x"),
            Path::new("/home/n/data/x")
        );
        assert_eq!(
            NodeConfig::resolve_path(home, "/abs/x"),
            Path::new("/abs/x")
        );
        let c = NodeConfig::default();
        assert_eq!(c.db_path(home), Path::new("/home/n/data/blocks.redb"));
        assert_eq!(c.wal_path(home), Path::new("/home/n/data/consensus.wal"));
    }

    #[test]
    fn socket_addr_helpers() {
        let c = NodeConfig::default();
        assert_eq!(c.rpc.socket_addr().expect("rpc").port(), 8545);
        assert_eq!(c.metrics.socket_addr().expect("metrics").port(), 9100);
    }
}
