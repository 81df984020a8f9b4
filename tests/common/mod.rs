//! A small harness for multi-node tests: real `lazychain` processes on loopback with free
//! ports, generous deadlines, and helpers to crash, restart and query them.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Child;
use std::time::Duration;

use alloy_consensus::TxEip1559;
use alloy_primitives::{Address, U256};
use jsonrpsee::http_client::HttpClient;
use jsonrpsee::rpc_params;
use lazychain_localnet::{generate, spawn_node, stop_pid, GenerateOptions, Manifest};
use lazychain_test_utils::net::poll_until;
use secp256k1::SecretKey;
use serde_json::Value;

pub const CHAIN_ID: u64 = 1337;
/// Deadlines are generous: a loaded 2-core machine runs several nodes at once.
pub const DEADLINE: Duration = Duration::from_secs(120);

pub fn exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_lazychain"))
}

/// A test network beyond the defaults: sizes, faults, the challenge window, the execution
/// budget, extra genesis accounts, and nodes generated but started later (`restart`).
pub struct NetSpec<'a> {
    pub validators: usize,
    pub full: usize,
    pub executors: usize,
    pub faults: &'a [(usize, &'a str)],
    pub window_ms: u64,
    pub min_blocks: u64,
    pub corroboration: u64,
    pub max_executor_stall_ms: Option<u64>,
    pub gas_per_second: Option<u64>,
    pub gas_burst: Option<u64>,
    pub max_block_gas: Option<u64>,
    pub extra_alloc: Vec<lazychain_config::GenesisAccount>,
    pub deferred: &'a [usize],
    /// `consensus.empty_block_interval_ms` of every node; 0 (the default here) makes blocks
    /// as fast as consensus runs, which most tests count on.
    pub empty_block_interval_ms: u64,
}

impl Default for NetSpec<'_> {
    fn default() -> Self {
        NetSpec {
            validators: 4,
            full: 0,
            executors: 0,
            faults: &[],
            window_ms: lazychain_config::DEFAULT_CHALLENGE_WINDOW_MS,
            min_blocks: lazychain_config::DEFAULT_MIN_WINDOW_BLOCKS,
            corroboration: 1,
            max_executor_stall_ms: None,
            gas_per_second: None,
            gas_burst: None,
            max_block_gas: None,
            extra_alloc: Vec::new(),
            deferred: &[],
            empty_block_interval_ms: 0,
        }
    }
}

pub struct TestNet {
    pub dir: tempfile::TempDir,
    pub manifest: Manifest,
    children: Vec<Option<Child>>,
}

impl TestNet {
    /// Generates and starts `n` validators.
    pub fn start(n: usize) -> Self {
        Self::start_with(n, 0)
    }

    /// Generates and starts `n` validators and `full` full nodes (indexes after the validators).
    pub fn start_with(n: usize, full: usize) -> Self {
        Self::start_full(n, full, 0)
    }

    /// `n` validators, then `full` full nodes, then `executors` executors, in index order,
    /// with the genesis defaults of the challenge window.
    pub fn start_full(n: usize, full: usize, executors: usize) -> Self {
        Self::start_faulty(
            n,
            full,
            executors,
            &[],
            lazychain_config::DEFAULT_CHALLENGE_WINDOW_MS,
            lazychain_config::DEFAULT_MIN_WINDOW_BLOCKS,
        )
    }

    /// [`Self::start_full`] where node `i` of each `(i, fault)` runs with `--fault fault`, and
    /// a challenge window of `window_ms` milliseconds and at least `min_blocks` blocks. A
    /// window shorter than the default execution budget allows (tests that want finality in a
    /// few blocks) runs without a budget (`limits.gas_per_second = 0`; nodes warn).
    pub fn start_faulty(
        n: usize,
        full: usize,
        executors: usize,
        faults: &[(usize, &str)],
        window_ms: u64,
        min_blocks: u64,
    ) -> Self {
        Self::start_corroborated(n, full, executors, faults, window_ms, min_blocks, 1)
    }

    /// [`Self::start_faulty`] where a claim is final only once `corroboration` executors agree
    /// with it (genesis `state.min_corroboration`).
    pub fn start_corroborated(
        n: usize,
        full: usize,
        executors: usize,
        faults: &[(usize, &str)],
        window_ms: u64,
        min_blocks: u64,
        corroboration: u64,
    ) -> Self {
        let shortest =
            lazychain_localnet::shortest_window_ms(&lazychain_config::BlockLimits::default());
        let no_budget = shortest.is_some_and(|s| window_ms < s);
        Self::start_spec(&NetSpec {
            validators: n,
            full,
            executors,
            faults,
            window_ms,
            min_blocks,
            corroboration,
            gas_per_second: no_budget.then_some(0),
            ..NetSpec::default()
        })
    }

    /// A network as `spec` describes it.
    pub fn start_spec(spec: &NetSpec<'_>) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let manifest = generate(&GenerateOptions {
            dir: dir.path().join("net"),
            validators: spec.validators,
            full_nodes: spec.full,
            executors: spec.executors,
            chain_id: CHAIN_ID,
            base_port: 0,
            // Seed 0: the funded dev accounts are the standard ones of `dev_account_key`.
            seed: 0,
            config_overrides: vec![
                ("consensus.max_block_wait_ms".into(), "100".into()),
                ("log.filter".into(), "info".into()),
                (
                    "consensus.empty_block_interval_ms".into(),
                    spec.empty_block_interval_ms.to_string(),
                ),
            ],
            challenge_window_ms: spec.window_ms,
            min_window_blocks: Some(spec.min_blocks),
            min_corroboration: Some(spec.corroboration),
            max_executor_stall_ms: spec.max_executor_stall_ms,
            gas_per_second: spec.gas_per_second,
            gas_burst: spec.gas_burst,
            max_block_gas: spec.max_block_gas,
            extra_alloc: spec.extra_alloc.clone(),
            coupled: false,
        })
        .expect("generate localnet");
        let mut net = TestNet {
            dir,
            manifest,
            children: Vec::new(),
        };
        for (i, fault) in spec.faults {
            net.manifest.nodes[*i].fault = Some(fault.to_string());
        }
        let total = spec.validators + spec.full + spec.executors;
        for i in 0..total {
            if spec.deferred.contains(&i) {
                net.children.push(None);
                continue;
            }
            let child = spawn_node(&exe(), &net.manifest.nodes[i], false).expect("spawn");
            net.children.push(Some(child));
        }
        net
    }

    pub fn len(&self) -> usize {
        self.manifest.nodes.len()
    }

    pub fn client(&self, i: usize) -> HttpClient {
        lazychain_test_utils::net::client(&self.manifest.nodes[i].rpc_url, Duration::from_secs(10))
    }

    pub async fn call(
        &self,
        i: usize,
        method: &str,
        params: jsonrpsee::core::params::ArrayParams,
    ) -> Result<Value, RpcFailure> {
        lazychain_test_utils::net::call(&self.client(i), method, params).await
    }

    pub async fn height(&self, i: usize) -> Option<u64> {
        self.call(i, "lazy_status", rpc_params![]).await.ok()?["height"].as_u64()
    }

    /// Polls `check` every 200 ms until it answers `Some`, and returns that; after
    /// [`DEADLINE`] panics with `what` and node `node`'s log tail.
    pub async fn wait_on<T, F, Fut>(&self, node: usize, what: &str, check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        poll_until(DEADLINE, Duration::from_millis(200), check)
            .await
            .unwrap_or_else(|| {
                panic!(
                    "{what}: not within {DEADLINE:?}; {} log tail:\n{}",
                    self.manifest.nodes[node].name,
                    self.log_tail(node)
                )
            })
    }

    /// Polls `method` on node `node` every 200 ms until `check` holds for its answer, and
    /// returns that answer; after [`DEADLINE`] panics with `what`, the last answer, the node's
    /// log tail and every node's last warnings.
    pub async fn wait_answer(
        &self,
        node: usize,
        what: &str,
        method: &str,
        params: impl Fn() -> jsonrpsee::core::params::ArrayParams,
        check: impl Fn(&Value) -> bool,
    ) -> Value {
        let last = std::cell::RefCell::new(Value::Null);
        poll_until(DEADLINE, Duration::from_millis(200), || async {
            let answer = self.call(node, method, params()).await.ok()?;
            if check(&answer) {
                return Some(answer);
            }
            *last.borrow_mut() = answer;
            None
        })
        .await
        .unwrap_or_else(|| {
            panic!(
                "{what}: not reached on {} within {DEADLINE:?}; last answer {}\nlog tail:\n{}\n{}",
                self.manifest.nodes[node].name,
                last.borrow(),
                self.log_tail(node),
                self.warnings()
            )
        })
    }

    /// Waits until node `i` has decided `h`; panics with its log tail after the deadline.
    pub async fn wait_height(&self, i: usize, h: u64) {
        self.wait_on(i, &format!("height {h}"), || async {
            (self.height(i).await.unwrap_or(0) >= h).then_some(())
        })
        .await
    }

    pub async fn wait_all(&self, nodes: &[usize], h: u64) {
        for &i in nodes {
            self.wait_height(i, h).await;
        }
    }

    pub async fn block_hash(&self, i: usize, h: u64) -> Option<String> {
        let b = self
            .call(i, "lazy_getDataBlock", rpc_params![h])
            .await
            .ok()?;
        b["hash"].as_str().map(str::to_string)
    }

    /// Asserts every listed node holds the same block at every height in `1..=to`.
    pub async fn assert_same_chain(&self, nodes: &[usize], to: u64) {
        for h in 1..=to {
            let first = self.block_hash(nodes[0], h).await;
            assert!(first.is_some(), "node {} has no block {h}", nodes[0]);
            for &i in &nodes[1..] {
                assert_eq!(
                    self.block_hash(i, h).await,
                    first,
                    "fork at height {h}: node {i} differs from node {}",
                    nodes[0]
                );
            }
        }
    }

    pub fn kill9(&mut self, i: usize) {
        if let Some(mut c) = self.children[i].take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn stop(&mut self, i: usize) {
        if let Some(mut c) = self.children[i].take() {
            stop_pid(c.id(), Duration::from_secs(20));
            let _ = c.wait();
        }
    }

    /// Freezes node `i` (SIGSTOP), as a long pause, a disk stall or a debugger would.
    pub fn pause(&self, i: usize) {
        self.signal(i, "STOP");
    }

    /// Thaws node `i` (SIGCONT).
    pub fn resume(&self, i: usize) {
        self.signal(i, "CONT");
    }

    fn signal(&self, i: usize, signal: &str) {
        if let Some(c) = &self.children[i] {
            let _ = std::process::Command::new("kill")
                .arg(format!("-{signal}"))
                .arg(c.id().to_string())
                .status();
        }
    }

    pub fn restart(&mut self, i: usize) {
        assert!(self.children[i].is_none(), "node {i} is running");
        let child = spawn_node(&exe(), &self.manifest.nodes[i], false).expect("respawn");
        self.children[i] = Some(child);
    }

    pub fn log_tail(&self, i: usize) -> String {
        let text = std::fs::read_to_string(&self.manifest.nodes[i].log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl TestNet {
    /// Whether decided block `height` has transactions, as node `node` says (blocks without
    /// take no state claim); `None` if it does not answer (not decided there yet).
    pub async fn has_txs(&self, node: usize, height: u64) -> Option<bool> {
        self.call(node, "lazy_getDataBlock", jsonrpsee::rpc_params![height])
            .await
            .ok()
            .and_then(|b| b["txCount"].as_u64())
            .map(|n| n > 0)
    }

    /// The first decided height at or above `from` whose block has transactions, as node
    /// `node` says, waiting (generously) for one.
    pub async fn first_height_with_txs(&self, node: usize, from: u64) -> u64 {
        let next = std::cell::Cell::new(from);
        poll_until(DEADLINE, Duration::from_millis(200), || async {
            // Skip every decided block without transactions before waiting again.
            while let Some(has) = self.has_txs(node, next.get()).await {
                if has {
                    return Some(next.get());
                }
                next.set(next.get() + 1);
            }
            None
        })
        .await
        .unwrap_or_else(|| {
            panic!(
                "no block with transactions at or above {from} on node {node} within {DEADLINE:?}"
            )
        })
    }

    /// A little transfer load until `stop`: one transfer every 200 ms from dev accounts 1-3
    /// in turn, round robin over the nodes `to`, each account's in nonce order.
    pub fn spawn_transfer_load(
        &self,
        to: &[usize],
        stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    ) -> tokio::task::JoinHandle<()> {
        let urls: Vec<String> = to
            .iter()
            .map(|&i| self.manifest.nodes[i].rpc_url.clone())
            .collect();
        tokio::spawn(async move {
            let clients: Vec<_> = urls
                .iter()
                .map(|u| lazychain_test_utils::net::client(u, Duration::from_secs(10)))
                .collect();
            if clients.is_empty() {
                return;
            }
            let keys: Vec<_> = (1..=3).map(dev_account_key).collect();
            let mut nonces = [0u64; 3];
            let mut i = 0usize;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let k = i % keys.len();
                let raw = transfer(&keys[k], CHAIN_ID, nonces[k], 100 * 1_000_000_000);
                let sent = lazychain_test_utils::net::call(
                    &clients[i % clients.len()],
                    "eth_sendRawTransaction",
                    rpc_params![hex0x(&raw)],
                )
                .await;
                if sent.is_ok() {
                    nonces[k] += 1;
                }
                i += 1;
            }
        })
    }

    /// The last warnings and errors of every node, for a failing test's message.
    pub fn warnings(&self) -> String {
        let mut out = String::new();
        for (i, node) in self.manifest.nodes.iter().enumerate() {
            let text = std::fs::read_to_string(&node.log).unwrap_or_default();
            let lines: Vec<&str> = text
                .lines()
                .filter(|l| l.contains(" WARN ") || l.contains(" ERROR "))
                .collect();
            out.push_str(&format!("--- node {i} ({}): last warnings\n", node.name));
            for l in &lines[lines.len().saturating_sub(8)..] {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    }
}

impl Drop for TestNet {
    fn drop(&mut self) {
        for c in self.children.iter_mut().flatten() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

// Each test binary uses a few of these.
#[allow(unused_imports)]
pub use lazychain_test_utils::net::{http_get, RpcFailure};
/// A funded-looking dev key (validators never check balances).
#[allow(unused_imports)]
pub use lazychain_test_utils::{address_of, hex0x, key as dev_key, transfer};

/// The executor address (as state consensus names it) of node `node`.
pub fn executor_of(net: &TestNet, node: usize) -> String {
    let key = lazychain_config::ValidatorKey::load(&lazychain_config::init::key_path(
        &net.manifest.nodes[node].home,
    ))
    .expect("node key");
    hex0x(&lazychain_config::executor_address(&key.public_key()))
}

/// Node `node`'s `lazy_getStateConsensus` answer (null if it does not answer).
pub async fn state(net: &TestNet, node: usize) -> Value {
    net.call(node, "lazy_getStateConsensus", rpc_params![])
        .await
        .unwrap_or(Value::Null)
}

/// The key of dev account `index` (0..10) of the standard dev mnemonic, funded in the
/// genesis of every `TestNet`.
pub fn dev_account_key(index: u32) -> SecretKey {
    let account = lazychain_config::dev_accounts(0, 10)
        .into_iter()
        .find(|a| a.index == index)
        .expect("dev accounts are 0..10");
    SecretKey::from_byte_array(account.private_key.0).expect("secret key")
}

/// A signed EIP-1559 transaction of this chain (`to: None` creates), EIP-2718 encoded.
pub fn sign_tx(
    key: &SecretKey,
    nonce: u64,
    to: Option<Address>,
    value: u128,
    gas_limit: u64,
    max_fee: u128,
    input: Vec<u8>,
) -> Vec<u8> {
    let tx =
        lazychain_test_utils::eip1559_tx(CHAIN_ID, nonce, to, U256::from(value), gas_limit, input);
    lazychain_test_utils::sign(
        key,
        TxEip1559 {
            max_fee_per_gas: max_fee,
            ..tx
        },
    )
}

/// `host:port` of the node's metrics server (its URL ends with `/metrics`).
pub fn metrics_host(net: &TestNet, i: usize) -> String {
    let url = &net.manifest.nodes[i].metrics_url;
    url.strip_prefix("http://")
        .and_then(|u| u.strip_suffix("/metrics"))
        .unwrap_or_else(|| panic!("unexpected metrics url {url}"))
        .to_string()
}

/// Sends a signed transaction through node `node` and waits for its receipt there.
pub async fn send_and_wait(net: &TestNet, node: usize, raw: Vec<u8>) -> Value {
    let hash = net
        .call(node, "eth_sendRawTransaction", rpc_params![hex0x(&raw)])
        .await
        .expect("transaction accepted");
    wait_receipt(net, node, hash.as_str().expect("hash")).await
}

/// Waits for the receipt of transaction `hash` on node `node`.
pub async fn wait_receipt(net: &TestNet, node: usize, hash: &str) -> Value {
    net.wait_on(node, &format!("a receipt for {hash}"), || async {
        let receipt = net
            .call(node, "eth_getTransactionReceipt", rpc_params![hash])
            .await
            .expect("rpc answers");
        (!receipt.is_null()).then_some(receipt)
    })
    .await
}
