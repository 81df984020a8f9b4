//! Command-line interface definitions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "lazychain",
    version,
    about = "A layer-1 client where validators agree on data and lazy executors compute state"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Write config.toml, genesis.json and a validator key into a new node home.
    Init(InitArgs),
    /// Generate or show validator keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Run a validator: agree on ordered, available data blocks (never executes them).
    Validator(ValidatorArgs),
    /// Run a full node: follow the data chain and verify every commit certificate, without
    /// voting. Its key (validator_key.json) must not be in the genesis validator set.
    Fullnode(NodeArgs),
    /// Run a lazy executor: follow decided data blocks as a non-voting node, execute them
    /// with revm, keep the authenticated state, and serve Ethereum JSON-RPC.
    Executor(ExecutorArgs),
    /// Launch and manage a local multi-node network on loopback.
    #[command(subcommand)]
    Localnet(LocalnetCommand),
    /// Send transactions to a running network.
    #[command(subcommand)]
    Tx(TxCommand),
    /// Print a running node's status (heights, lag, state consensus, readiness).
    Status {
        /// The node's JSON-RPC URL (default: the first executor of ./.localnet, else
        /// http://127.0.0.1:8545).
        #[arg(long)]
        rpc: Option<String>,
    },
    /// Inspect a node's configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Run a benchmark and print its table.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Subcommand, Debug)]
pub enum TxCommand {
    /// Send a signed ETH transfer and wait for its receipt.
    Send {
        /// Recipient address (0x + 40 hex digits).
        #[arg(long)]
        to: alloy_primitives::Address,
        /// Amount: ether by default, or with a unit: 1.5eth, 20gwei, 1000wei.
        #[arg(long)]
        value: String,
        /// An executor's JSON-RPC URL (default: the first executor of ./.localnet, else
        /// http://127.0.0.1:8545).
        #[arg(long)]
        rpc: Option<String>,
        /// Sender's private key as hex (default: dev account 0 of the standard test
        /// mnemonic, funded in local networks; never use it for real funds).
        #[arg(long, env = "LAZYCHAIN_TX_KEY", hide_env_values = true)]
        key: Option<String>,
        /// Give up waiting for the receipt after this many seconds.
        #[arg(long, default_value_t = 60)]
        wait_secs: u64,
    },
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Print the effective configuration: config.toml, LAZYCHAIN_* environment variables and
    /// flags merged, as the node would run with it (the key's private half is never shown).
    Show(NodeArgs),
}

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Every benchmark in one run (data chain, executor, fraud proofs in-process and on a
    /// local network) with this machine's reference rates: one table of figure, value,
    /// reference and ratio, and the same as JSON.
    All {
        /// Short runs of each (a few minutes on 2 cores).
        #[arg(long)]
        quick: bool,
        /// Where to write the results as JSON.
        #[arg(long, default_value = "bench-results.json")]
        json: PathBuf,
    },
    /// Data-chain throughput and finality latency: validators as processes on loopback,
    /// pre-signed transfers and 1 KiB-payload transactions at rising offered rates.
    DataChain {
        /// Number of validators.
        #[arg(long, default_value_t = 4)]
        validators: usize,
        /// A short run (a few minutes on 2 cores) with fewer and shorter load steps.
        #[arg(long)]
        quick: bool,
        /// Keep the network folder (node homes and logs) for inspection.
        #[arg(long)]
        keep: bool,
    },
    /// Lazy vs coupled, side by side: the same workloads (ETH transfers, ERC-20 transfers,
    /// compute-heavy calls) through four lazy validators alone, with one executor, then four
    /// validators that execute every block before proposing and voting (the benchmark-only
    /// coupled mode), under the default execution budget and a challenge window at its floor:
    /// data-decided tx/s, state-final tx/s (claims final within the run; coupled: decided),
    /// finality latency p50/p99, executor lag.
    Coupled {
        /// A short run (about five minutes on 2 cores).
        #[arg(long)]
        quick: bool,
    },
    /// Executor cost per decided block, stage by stage (raw revm, EVM, sender recovery,
    /// state roots, redb commit), on pre-signed blocks of ETH transfers, ERC-20 transfers and
    /// compute-heavy calls. In-process; no network.
    Exec {
        /// A short run: 1,000-transaction blocks only and fewer repetitions.
        #[arg(long)]
        quick: bool,
        /// Funded accounts at genesis besides the senders (the size of the state).
        #[arg(long, default_value_t = 100_000)]
        accounts: usize,
        /// Seed of the deterministic sender keys and recipients.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Single-transaction fraud proofs against a claim whose trace goes wrong at a random
    /// transaction: proof size, generation and verification time, for ETH transfers, ERC-20
    /// transfers and compute-heavy calls, in-process; then local networks with a faulty executor
    /// (`wrong-root-at`, then a racing liar, `--fault race`): blocks and ms from the bad claim's
    /// inclusion to its revert.
    Fraud {
        /// A short run: 1,000-transaction blocks (35 compute-heavy calls) and fewer
        /// repetitions.
        #[arg(long)]
        quick: bool,
        /// Funded accounts at genesis besides the senders (the size of the state).
        #[arg(long, default_value_t = 100_000)]
        accounts: usize,
        /// Seed of the sender keys and of the transaction whose root is wrong.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Skip the network part (local networks with a faulty executor: blocks from the bad
        /// claim's inclusion to its revert).
        #[arg(long)]
        no_network: bool,
    },
    /// Soak test: a default local network (4 validators, 2 executors) under light load
    /// (alternate ETH and ERC-20 transfers between the dev accounts) for N minutes. Every minute
    /// it prints a row per node: decided, executed, finalized and safe height, finality lag,
    /// pooled claims and fraud proofs, resident memory and data-folder size. It exits non-zero
    /// if on any node the finality lag (tip block's timestamp minus the finalized block's)
    /// exceeds the challenge window plus 30 s, if the tip stops advancing for 30 s, if a node
    /// exits, or if pooled claims, pooled fraud proofs or resident memory keep growing: over the
    /// last half of the run (sampled every 10 s), the least-squares line rises by more than 64
    /// items and 50 % of the mean (pools), or 16 MiB and 10 % of the mean (memory). Its nodes
    /// run with small page caches (storage.block_cache_mib 8, storage.state_cache_mib 16) so
    /// that a cache warming up is not mistaken for a leak. Not run in CI.
    Soak {
        /// How long the load runs.
        #[arg(long, default_value_t = lazychain_bench::soak::DEFAULT_MINUTES)]
        minutes: u64,
        /// Offered transactions per second.
        #[arg(long, default_value_t = lazychain_bench::soak::DEFAULT_RATE)]
        rate: f64,
        /// Leave the network running at the end (stop it with `localnet down --dir DIR`).
        #[arg(long)]
        keep: bool,
        /// Network folder (wiped and regenerated; its logs stay after the run).
        #[arg(long, default_value = ".soak")]
        dir: PathBuf,
    },
    /// Differential proof fuzzer: random chains and blocks (every contract fixture, all
    /// transaction types, failing and skipped transactions) executed with the real transition;
    /// for random transactions, the honest node's proof against a random lie must verify Proven
    /// and against the honest claim Refuted. Prints cases per kind with proof sizes and
    /// verification times, and every failure with what reproduces it; exits non-zero if any
    /// case fails. In-process, on every core.
    Proofs {
        /// Number of cases (a case: one transaction proven against one lie).
        #[arg(long, default_value_t = 1_000)]
        cases: usize,
        /// Seed of the run (default: a random one, printed); a seed and a case count always
        /// give the same chains, blocks and cases.
        #[arg(long)]
        seed: Option<u64>,
        /// Also write the results as JSON to this file.
        #[arg(long)]
        json: Option<PathBuf>,
    },
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Node home directory.
    #[arg(long, env = "LAZYCHAIN_HOME")]
    pub home: PathBuf,
    /// Node name written to config and genesis.
    #[arg(long, default_value = "node0")]
    pub moniker: String,
    /// Chain id of the new one-validator genesis.
    #[arg(long, default_value_t = 1337)]
    pub chain_id: u64,
    /// Replace existing files.
    #[arg(long)]
    pub force: bool,
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Write a new ed25519 validator key file (mode 0600).
    Generate {
        /// Where to write the key file.
        #[arg(long)]
        output: PathBuf,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Print the public key and address of a key file.
    Show {
        /// The key file (validator_key.json).
        #[arg(long)]
        key: PathBuf,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LogFormatArg {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct NodeArgs {
    /// Node home directory (config.toml, genesis.json, validator_key.json, data/).
    #[arg(long, env = "LAZYCHAIN_HOME")]
    pub home: PathBuf,
    /// JSON-RPC listen address (overrides rpc.listen_addr).
    #[arg(long)]
    pub rpc_addr: Option<String>,
    /// Metrics/health listen address (overrides metrics.listen_addr).
    #[arg(long)]
    pub metrics_addr: Option<String>,
    /// Consensus p2p listen multiaddr (overrides consensus.listen_addr).
    #[arg(long)]
    pub p2p_addr: Option<String>,
    /// Log format (overrides log.format).
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormatArg>,
    /// Any config key, as KEY=VALUE (e.g. --set mempool.max_txs=5000); highest precedence.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct ValidatorArgs {
    #[command(flatten)]
    pub node: NodeArgs,
    /// BENCHMARKS ONLY: execute every block before proposing and before voting, as a classic
    /// chain does (sets consensus.coupled_execution), to compare with the lazy design. Never
    /// on by default.
    #[arg(long)]
    pub coupled: bool,
    /// FAULT INJECTION, for tests and demos only: `drop-claims-at=H` silently discards the
    /// first copy of every claim for data height H (or the first height above it with
    /// transactions, if H has none) that reaches this validator (gossip or RPC), as a lost
    /// message; later copies are taken. `drop-gossip-claims-at=H` discards every copy of those
    /// claims that arrives by gossip, and takes those submitted over JSON-RPC. Never on by
    /// default.
    #[arg(long, value_name = "FAULT")]
    pub fault: Option<lazychain_fraud_node::ValidatorFault>,
}

#[derive(clap::Args, Debug)]
pub struct ExecutorArgs {
    #[command(flatten)]
    pub node: NodeArgs,
    /// Fsync the state database every N executed blocks (state in between is re-executed
    /// from the data chain after a crash).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub durable_every_blocks: u64,
    /// FAULT INJECTION, for tests and demos only: `wrong-root-at=H` posts corrupted state
    /// roots from the first height >= H with transactions on (and gets this executor's bond
    /// slashed); `race` claims made-up roots for every decided height as soon as it is
    /// decided, without executing (a racing liar); `fail-proofs=N` makes its first N attempts
    /// to build a fraud proof fail (it retries); `flood-orphans` keeps its honest claims and
    /// also floods the item pools with claims whose parents do not exist (a hostile executor).
    /// Never on by default.
    #[arg(long, value_name = "FAULT")]
    pub fault: Option<lazychain_exec_node::Fault>,
}

#[derive(Subcommand, Debug)]
pub enum LocalnetCommand {
    /// Generate homes for N validators and run them as processes on loopback until Ctrl-C.
    Up(LocalnetUpArgs),
    /// Show the status of every node of a running local network.
    Status {
        /// Local network folder.
        #[arg(long, default_value = ".localnet")]
        dir: PathBuf,
    },
    /// Stop every node of a local network started with --detach.
    Down {
        /// Local network folder.
        #[arg(long, default_value = ".localnet")]
        dir: PathBuf,
    },
    /// Cut a `--netns` network into groups of nodes that cannot reach each other, e.g.
    /// `partition validator-0,validator-1 validator-2,validator-3` (replaces any earlier cut).
    Partition {
        /// Comma-separated node names per group; at least two groups.
        #[arg(required = true, num_args = 2..)]
        groups: Vec<String>,
        /// Local network folder.
        #[arg(long, default_value = ".localnet")]
        dir: PathBuf,
    },
    /// Remove any partition of a `--netns` network.
    Heal {
        /// Local network folder.
        #[arg(long, default_value = ".localnet")]
        dir: PathBuf,
    },
    /// Print the end of one node's log.
    Logs {
        /// Node name, e.g. validator-1 or executor-0.
        node: String,
        /// How many lines.
        #[arg(long, default_value_t = 50)]
        lines: usize,
        /// Local network folder.
        #[arg(long, default_value = ".localnet")]
        dir: PathBuf,
    },
    /// Kill one node with SIGKILL, as a crash would (see `localnet status` for names).
    Kill {
        /// Node name, e.g. validator-1 or executor-0.
        node: String,
        /// Local network folder.
        #[arg(long, default_value = ".localnet")]
        dir: PathBuf,
    },
    /// Start a killed or stopped node again, with its home and flags.
    Restart {
        /// Node name, e.g. validator-1 or executor-0.
        node: String,
        /// Local network folder.
        #[arg(long, default_value = ".localnet")]
        dir: PathBuf,
    },
}

#[derive(Args, Debug)]
pub struct LocalnetUpArgs {
    /// Number of validators.
    #[arg(long, default_value_t = 4)]
    pub validators: usize,
    /// Number of non-voting full nodes following the validators.
    #[arg(long, default_value_t = 0)]
    pub full_nodes: usize,
    /// Lazy executors to run (each executes every decided block and serves eth_* RPC).
    #[arg(long, default_value_t = 2)]
    pub executors: usize,
    /// Folder for node homes, logs and localnet.json (wiped and regenerated).
    #[arg(long, default_value = ".localnet")]
    pub dir: PathBuf,
    /// Chain id of the local network.
    #[arg(long, default_value_t = 1337)]
    pub chain_id: u64,
    /// First port to use; 0 picks free ports.
    #[arg(long, default_value_t = 0)]
    pub base_port: u16,
    /// Seed of the deterministic validator keys.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Start the nodes and return at once (stop them with `localnet down`).
    #[arg(long)]
    pub detach: bool,
    /// Of the executors, this many post wrong state roots on purpose (with `--fault`), to
    /// watch a fraud proof revert them; they are bonded and get slashed.
    #[arg(long, default_value_t = 0)]
    pub faulty_executors: usize,
    /// FAULT INJECTION, demos only: the fault of the faulty executors: `wrong-root-at=H` (lie
    /// from the first height >= H with transactions), `race` (made-up roots for every
    /// decided height as soon as it is decided, without executing), or `flood-orphans` (floods
    /// the item pools with claims whose parents do not exist).
    #[arg(long, value_name = "FAULT", default_value = lazychain_localnet::DEMO_FAULT)]
    pub fault: lazychain_exec_node::Fault,
    /// Run every node in its own network namespace (needs root and iproute2), so that
    /// `localnet partition` can cut the network.
    #[arg(long)]
    pub netns: bool,
    /// BENCHMARKS ONLY: validators execute every block before proposing and voting, as a
    /// classic chain does (consensus.coupled_execution), to compare with the lazy design.
    #[arg(long)]
    pub coupled: bool,
    /// The challenge window (genesis state.challenge_window_ms): a claim can be final once
    /// this much time, by block timestamps, and at least state.min_window_blocks (10) blocks
    /// have passed since its inclusion. The executor stall it tolerates
    /// (state.max_executor_stall_ms, at most 60 s) is what is left of it after the execution
    /// budget's catch-up time and the 5 s detection margin; a window that leaves nothing is
    /// refused.
    #[arg(
        long,
        value_name = "MS",
        default_value_t = lazychain_config::DEFAULT_CHALLENGE_WINDOW_MS
    )]
    pub challenge_window_ms: u64,
    /// Executors that must post agreeing claims before a claim is final (genesis
    /// state.min_corroboration; capped by the number of executors not slashed).
    #[arg(
        long,
        value_name = "K",
        default_value_t = lazychain_config::DEFAULT_MIN_CORROBORATION,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub min_corroboration: u64,
    /// The execution budget (genesis limits.gas_per_second): declared gas the chain takes on
    /// per second. The default is sized for an executor with a core of its own; on one
    /// machine running the whole network, executors share the cores with the validators, so a
    /// smaller budget keeps them from falling behind under heavy load. 0 switches it off
    /// (unsafe; the window is then not checked).
    #[arg(
        long,
        value_name = "GAS",
        default_value_t = lazychain_config::DEFAULT_GAS_PER_SECOND
    )]
    pub gas_per_second: u64,
    /// While no transaction is waiting, validators start the next block only this long after
    /// the last one (consensus.empty_block_interval_ms); a transaction starts it at once. 0
    /// makes blocks as fast as consensus runs.
    #[arg(
        long,
        value_name = "MS",
        default_value_t = lazychain_config::DEFAULT_EMPTY_BLOCK_INTERVAL_MS,
        value_parser = clap::value_parser!(u64).range(0..=lazychain_config::MAX_EMPTY_BLOCK_INTERVAL_MS)
    )]
    pub empty_block_interval_ms: u64,
}
