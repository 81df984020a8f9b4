//! The differential wallet test: the same flow through viem and ethers
//! (`tests/wallet/js/diff_flow.mjs`, installed by `tests/wallet/install_js.sh`, which
//! `scripts/test.sh` runs) and through web3.py (`tests/wallet/web3_diff.py`) against an
//! executor of a local network and against anvil (npm
//! `@foundry-rs/anvil`, started here on a free loopback port with the same chain id and the
//! same development keys), compared field by field.
//!
//! Every difference must be listed in [`INTENDED`] with its reason; any other fails the test.
//! The flow covers transfers, a deploy, reads, events and logs, reverts, gas estimation with
//! access lists, state overrides, reads at past blocks, blocks, typed transactions, a batch of
//! 200 calls, fee suggestions and misses (web3.py's flow is `tests/wallet_flow.rs`).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use jsonrpsee::rpc_params;
use serde_json::Value;

/// Differences between an executor and anvil that are intended, each with its reason. A
/// pattern matches a field's path (`step.key.key...`, array indices as numbers) by its last
/// segments; `*` matches any one segment.
const INTENDED: &[(&str, &str)] = &[
    // Chains differ in time and history, not in what the transactions do.
    ("blockHash", "a data-block hash: another chain"),
    ("hash", "blocks (and `block.hash`) are another chain's"),
    ("blockTimestamp", "another chain's block times"),
    ("timestamp", "another chain's block times"),
    (
        "blockNumber",
        "the executor's chain had empty blocks before the flow",
    ),
    // Fees: anvil's base fee moves with its own blocks, the executor's is the data chain's.
    ("effectiveGasPrice", "the base fee at inclusion differs"),
    ("gasPrice", "the base fee at inclusion differs"),
    ("maxFeePerGas", "suggested from each node's base fee"),
    (
        "maxPriorityFeePerGas",
        "the tip each node suggests: anvil from its fee history, the executor 1 gwei",
    ),
    (
        "r",
        "the signature covers the fee fields the wallet filled in",
    ),
    (
        "s",
        "the signature covers the fee fields the wallet filled in",
    ),
    (
        "yParity",
        "the signature covers the fee fields the wallet filled in",
    ),
    (
        "v",
        "the signature covers the fee fields the wallet filled in",
    ),
    (
        "transactionHash",
        "the hash covers the fee fields the wallet filled in",
    ),
    (
        "blobGasPrice",
        "geth answers it for blob transactions only, anvil for all; this chain has no blobs",
    ),
    // lazychain's own fields (protocol.md §10.5).
    (
        "lazyStatus",
        "lazychain's execution status of the transaction",
    ),
    (
        "inclusionCharge",
        "lazychain's charge of a skipped transaction",
    ),
    (
        "chargeShortfall",
        "lazychain's charge of a skipped transaction",
    ),
    (
        "unusedGasCharge",
        "lazychain charges unused gas at the base fee",
    ),
    (
        "keys.preStateRoot",
        "the state root before the block, which claims sign",
    ),
    (
        "keys.traceRoot",
        "the root of the per-transaction state roots, which claims sign",
    ),
    (
        "keys.dataHeader",
        "the data block's header, whose SSZ root is `hash`",
    ),
    // Header fields of Ethereum's consensus layer that this chain has no counterpart for.
    ("keys.parentBeaconBlockRoot", "no beacon chain"),
    (
        "keys.requestsHash",
        "no execution-layer requests (EIP-7685)",
    ),
    ("keys.withdrawals", "no withdrawals"),
    ("keys.withdrawalsRoot", "no withdrawals"),
    ("ethersKeys.parentBeaconBlockRoot", "no beacon chain"),
];

fn wallet_python() -> PathBuf {
    match std::env::var_os("LAZYCHAIN_WALLET_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => panic!(
            "LAZYCHAIN_WALLET_PYTHON is not set: run the tests with ./scripts/test.sh, which \
             installs web3.py (tests/wallet/install.sh) and sets it"
        ),
    }
}

fn wallet_js() -> PathBuf {
    match std::env::var_os("LAZYCHAIN_WALLET_JS") {
        Some(p) => PathBuf::from(p),
        None => panic!(
            "LAZYCHAIN_WALLET_JS is not set: run the tests with ./scripts/test.sh, which installs \
             viem, ethers and anvil (tests/wallet/install_js.sh) and sets it"
        ),
    }
}

/// anvil on a free loopback port, stopped when dropped.
struct Anvil {
    child: Child,
    url: String,
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

async fn start_anvil(js: &Path) -> Anvil {
    let binary = js.join("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil");
    let port = free_port();
    let child = Command::new(&binary)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--chain-id", &CHAIN_ID.to_string(), "--silent"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
    let anvil = Anvil {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let client = lazychain_test_utils::net::client(&anvil.url, Duration::from_secs(5));
    let ready =
        lazychain_test_utils::net::poll_until(DEADLINE, Duration::from_millis(100), || async {
            lazychain_test_utils::net::call(&client, "eth_chainId", rpc_params![])
                .await
                .ok()
        })
        .await;
    assert!(ready.is_some(), "anvil did not answer on {}", anvil.url);
    anvil
}

/// Runs one side of the flow (`program script`) against `rpc` and returns its record.
fn run_flow(program: &Path, script: &Path, rpc: &str) -> Value {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let key = dev_account_key(0);
    let output = Command::new(program)
        .arg(script)
        .args(["--rpc", rpc, "--key", &hex0x(&key.secret_bytes())])
        .arg("--token-json")
        .arg(root.join("exec-layer/contracts/build/LazyToken.json"))
        .args(["--timeout", "120"])
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", program.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{} against {rpc} failed ({}):\n{}",
        script.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{} output is not JSON: {e}\n{stdout}", script.display()))
}

/// Both libraries' flows against `rpc`, one after the other (the second continues the first's
/// nonces, the same on both nodes).
fn run_flows(js: &Path, python: &Path, rpc: &str) -> Value {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let viem_ethers = run_flow(Path::new("node"), &js.join("diff_flow.mjs"), rpc);
    let web3 = run_flow(python, &root.join("tests/wallet/web3_diff.py"), rpc);
    serde_json::json!({ "viem_ethers": viem_ethers, "web3": web3 })
}

fn intended(path: &[String]) -> bool {
    INTENDED.iter().any(|(pattern, _)| {
        let want: Vec<&str> = pattern.split('.').collect();
        want.len() <= path.len()
            && want
                .iter()
                .zip(&path[path.len() - want.len()..])
                .all(|(w, p)| *w == "*" || w == p)
    })
}

/// Every field that differs and is not intended, as `path: executor vs anvil`.
fn differences(path: &mut Vec<String>, lazy: &Value, anvil: &Value, out: &mut Vec<String>) {
    if intended(path) {
        return;
    }
    match (lazy, anvil) {
        (Value::Object(l), Value::Object(a)) => {
            let mut keys: Vec<&String> = l.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                path.push(k.clone());
                let (l, a) = (
                    l.get(k).unwrap_or(&Value::Null),
                    a.get(k).unwrap_or(&Value::Null),
                );
                if !intended(path) {
                    differences(path, l, a, out);
                }
                path.pop();
            }
        }
        (Value::Array(l), Value::Array(a)) if l.len() == a.len() => {
            for (i, (l, a)) in l.iter().zip(a).enumerate() {
                path.push(i.to_string());
                differences(path, l, a, out);
                path.pop();
            }
        }
        (l, a) if l == a => {}
        (l, a) => out.push(format!("{}: executor {l} vs anvil {a}", path.join("."))),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn web3_viem_and_ethers_see_an_executor_as_they_see_anvil() {
    let js = wallet_js();
    let net = TestNet::start_full(1, 0, 1);
    let executor = 1;
    net.wait_on(executor, "the executor executing height 2", || async {
        let status = net.call(executor, "lazy_status", rpc_params![]).await;
        status
            .is_ok_and(|s| s["executedHeight"].as_u64().unwrap_or(0) >= 2)
            .then_some(())
    })
    .await;
    let python = wallet_python();
    let anvil = start_anvil(&js).await;
    let on_anvil = run_flows(&js, &python, &anvil.url);
    let on_executor = run_flows(&js, &python, &net.manifest.nodes[executor].rpc_url);
    let mut found = Vec::new();
    differences(&mut Vec::new(), &on_executor, &on_anvil, &mut found);
    assert!(
        found.is_empty(),
        "{} unintended differences between the executor and anvil:\n{}\n\nexecutor log tail:\n{}",
        found.len(),
        found.join("\n"),
        net.log_tail(executor)
    );
}
