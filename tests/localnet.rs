//! `lazychain localnet` as a user drives it: a detached network with a faulty executor whose
//! wrong root is reverted while the honest root becomes final (visible in RPC and in
//! `localnet status`), `localnet kill` / `restart` of a validator and an executor that then
//! catch up, `localnet down` leaving no process behind, and bad flags refused before anything
//! starts.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use jsonrpsee::rpc_params;
use lazychain_localnet::Manifest;
use lazychain_test_utils::net;
use serde_json::Value;

const DEADLINE: Duration = Duration::from_secs(180);

fn lazychain(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lazychain"))
        .args(args)
        .output()
        .expect("runs lazychain")
}

fn ok(out: &Output, what: &str) -> String {
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        text,
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

async fn call(url: &str, method: &str, params: jsonrpsee::core::params::ArrayParams) -> Value {
    let client = net::client(url, Duration::from_secs(5));
    net::call(&client, method, params)
        .await
        .unwrap_or(Value::Null)
}

async fn wait_until<F, Fut>(what: &str, check: F) -> Value
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<Value>>,
{
    net::poll_until(DEADLINE, Duration::from_millis(300), check)
        .await
        .unwrap_or_else(|| panic!("{what}: not reached within {DEADLINE:?}"))
}

/// Where the CLI tests send value.
const DEAD: &str = "0x000000000000000000000000000000000000dEaD";

/// `lazychain tx send --value value` to [`DEAD`] through `rpc`, as a user types it; asserts
/// the transfer succeeded.
fn send_to_dead(rpc: &str, value: &str) {
    let sent = ok(
        &lazychain(&["tx", "send", "--to", DEAD, "--value", value, "--rpc", rpc]),
        "tx send",
    );
    assert!(sent.contains("status success"), "{sent}");
}

/// The balance of [`DEAD`] as `rpc` answers it (a hex quantity).
async fn dead_balance(rpc: &str) -> Value {
    call(rpc, "eth_getBalance", rpc_params![DEAD, "latest"]).await
}

fn pid_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.contains(") Z "))
        .unwrap_or(false)
}

/// `lazychain localnet up --detach --dir d` with `args`.
fn up_detached(d: &str, args: &[&str]) -> Output {
    lazychain(&[&["localnet", "up", "--detach", "--dir", d], args].concat())
}

/// A temporary directory, the network folder `net` in it and that folder as a `--dir`
/// argument.
fn net_dir() -> (tempfile::TempDir, PathBuf, String) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("net");
    let d = dir.display().to_string();
    (tmp, dir, d)
}

/// Stops whatever is left if the test fails half-way.
struct Down<'a>(&'a Path);

impl Drop for Down<'_> {
    fn drop(&mut self) {
        let _ = lazychain(&["localnet", "down", "--dir", &self.0.display().to_string()]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faulty_executor_reverted_kill_restart_and_down() {
    let (_tmp, dir, d) = net_dir();
    let _down = Down(&dir);
    let up = up_detached(
        &d,
        &[
            "--validators",
            "4",
            "--executors",
            "2",
            "--faulty-executors",
            "1",
            "--full-nodes",
            "1",
            // Short enough to see the honest root final soon (the default is 90 s), and both
            // executors must agree until the liar is slashed.
            "--challenge-window-ms",
            "7000",
            "--min-corroboration",
            "2",
        ],
    );
    let banner = ok(&up, "localnet up");
    assert!(banner.contains("Ethereum JSON-RPC for wallets"), "{banner}");
    let manifest = Manifest::load(&dir).expect("manifest");
    let faulty: Vec<&str> = manifest
        .nodes
        .iter()
        .filter(|n| n.fault.is_some())
        .map(|n| n.name.as_str())
        .collect();
    assert_eq!(faulty, vec!["executor-1"]);
    let v0 = manifest.nodes[0].rpc_url.clone();

    // The first things a user tries: a transfer with `tx send`, `status`, `config show`.
    let executor_rpc = manifest
        .nodes
        .iter()
        .find(|n| n.name == "executor-0")
        .expect("executor-0")
        .rpc_url
        .clone();
    send_to_dead(&executor_rpc, "0.5");
    assert_eq!(
        dead_balance(&executor_rpc).await,
        "0x6f05b59d3b20000",
        "0.5 ETH arrived"
    );
    let status = ok(&lazychain(&["status", "--rpc", &executor_rpc]), "status");
    assert!(
        status.contains("(executor)") && status.contains("executed"),
        "{status}"
    );
    let home = manifest.nodes[0].home.display().to_string();
    let shown = ok(
        &lazychain(&[
            "config",
            "show",
            "--home",
            &home,
            "--set",
            "mempool.max_txs=123456",
        ]),
        "config show",
    );
    assert!(shown.contains("max_txs = 123456"), "{shown}");
    assert!(shown.contains("private key not shown"), "{shown}");
    let key_file = std::fs::read_to_string(manifest.nodes[0].home.join("validator_key.json"))
        .expect("key file");
    let secret: Value = serde_json::from_str(&key_file).expect("key json");
    let private = secret["private_key"].as_str().expect("private_key");
    assert!(
        !shown.contains(private.trim_start_matches("0x")),
        "config show prints the private key"
    );
    let dev0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
    assert!(
        banner.contains(dev0),
        "the banner lists the dev accounts: {banner}"
    );

    // Load, so that the faulty executor has transactions to lie about.
    let dev = &manifest.dev_accounts[0];
    let key = secp256k1::SecretKey::from_byte_array(
        hex::decode(dev.private_key.trim_start_matches("0x"))
            .expect("hex key")
            .try_into()
            .expect("32 bytes"),
    )
    .expect("key");
    for nonce in 1..6u64 {
        let raw = transfer(&key, manifest.chain_id, nonce);
        let _ = call(
            &v0,
            "eth_sendRawTransaction",
            rpc_params![lazychain_test_utils::hex0x(&raw)],
        )
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // The bad root is reverted and the honest one becomes final, in RPC...
    let proof = wait_until("an accepted fraud proof", || {
        let v0 = v0.clone();
        async move {
            let proofs = call(&v0, "lazy_getFraudProofs", rpc_params![1]).await;
            proofs
                .as_array()?
                .iter()
                .find(|p| p["outcome"] == "accepted")
                .cloned()
        }
    })
    .await;
    let height = proof["targetHeight"].as_u64().expect("height");
    let claims = wait_until("the honest claim final", || {
        let v0 = v0.clone();
        async move {
            let c = call(&v0, "lazy_getClaims", rpc_params![height]).await;
            let list = c["claims"].as_array()?;
            let statuses: Vec<&str> = list.iter().filter_map(|c| c["status"].as_str()).collect();
            (statuses.contains(&"final") && statuses.contains(&"reverted")).then_some(c)
        }
    })
    .await;
    assert!(!claims["canonicalRoot"].is_null(), "{claims}");

    // ... and in `localnet status`: the faulty executor is marked, one executor is slashed.
    let status = ok(&lazychain(&["localnet", "status", "--dir", &d]), "status");
    assert!(status.contains("executor!"), "{status}");
    let validator_row = status
        .lines()
        .find(|l| l.starts_with("validator-0"))
        .expect("validator-0 row");
    let cols: Vec<&str> = validator_row.split_whitespace().collect();
    assert_eq!(cols[9], "1", "one executor slashed: {status}");
    let liar_row = status
        .lines()
        .find(|l| l.starts_with("executor-1"))
        .expect("executor-1 row");
    assert!(liar_row.ends_with("slashed"), "{status}");
    wait_until("the honest executor's latest claim in the table", || {
        let d = d.clone();
        async move {
            let status = ok(&lazychain(&["localnet", "status", "--dir", &d]), "status");
            let row = status
                .lines()
                .find(|l| l.starts_with("executor-0"))?
                .to_owned();
            row.split_whitespace()
                .last()
                .is_some_and(|c| c.starts_with("final@") || c.starts_with("pending@"))
                .then_some(Value::Null)
        }
    })
    .await;
    let logs = ok(
        &lazychain(&[
            "localnet",
            "logs",
            "validator-0",
            "--lines",
            "5",
            "--dir",
            &d,
        ]),
        "logs",
    );
    assert_eq!(logs.trim_end().lines().count(), 5, "{logs}");

    // Kill and restart a validator and an executor: both come back and catch up.
    for name in ["validator-1", "executor-0", "fullnode-0"] {
        let node = manifest
            .nodes
            .iter()
            .find(|n| n.name == name)
            .expect("node")
            .clone();
        let killed = ok(&lazychain(&["localnet", "kill", name, "--dir", &d]), "kill");
        assert!(killed.contains("SIGKILL"), "{killed}");
        let pid = node.pid.expect("pid");
        assert!(!pid_alive(pid), "{name} still alive");
        let status = ok(&lazychain(&["localnet", "status", "--dir", &d]), "status");
        let row = status.lines().find(|l| l.starts_with(name)).expect("row");
        assert!(row.contains("down"), "{status}");
        let v0_status = call(&v0, "lazy_status", rpc_params![]).await;
        // A lazy validator holds no execution state at all.
        assert!(v0_status["coupled"].is_null(), "{v0_status}");
        let target = v0_status["height"].as_u64().expect("height");
        ok(
            &lazychain(&["localnet", "restart", name, "--dir", &d]),
            "restart",
        );
        let field = if name.starts_with("executor") {
            "executedHeight"
        } else {
            "height"
        };
        wait_until("the restarted node catches up", || {
            let url = node.rpc_url.clone();
            async move {
                let s = call(&url, "lazy_status", rpc_params![]).await;
                (s[field].as_u64()? > target).then_some(s)
            }
        })
        .await;
    }

    // `down` stops every node, restarted ones included.
    let pids: Vec<u32> = Manifest::load(&dir)
        .expect("manifest")
        .nodes
        .iter()
        .filter_map(|n| n.pid)
        .collect();
    assert_eq!(pids.len(), 7);
    ok(&lazychain(&["localnet", "down", "--dir", &d]), "down");
    for pid in pids {
        assert!(!pid_alive(pid), "pid {pid} survived `localnet down`");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreground_up_stops_every_node_on_ctrl_c() {
    let (tmp, dir, d) = net_dir();
    let _down = Down(&dir);
    let log = std::fs::File::create(tmp.path().join("up.log")).expect("log");
    let mut up = Command::new(env!("CARGO_BIN_EXE_lazychain"))
        .args([
            "localnet",
            "up",
            "--dir",
            &d,
            "--validators",
            "1",
            "--executors",
            "1",
        ])
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("starts");
    let manifest = wait_until("the network is up", || {
        let dir = dir.clone();
        async move {
            let m = Manifest::load(&dir).ok()?;
            let s = call(&m.nodes[1].rpc_url, "lazy_status", rpc_params![]).await;
            (s["executedHeight"].as_u64()? >= 2).then(|| serde_json::to_value(&m).ok())?
        }
    })
    .await;
    let pids: Vec<u64> = manifest["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["pid"].as_u64())
        .collect();
    assert_eq!(pids.len(), 2);
    // Ctrl-C.
    let status = Command::new("kill")
        .args(["-INT", &up.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let start = Instant::now();
    while up.try_wait().expect("wait").is_none() {
        assert!(start.elapsed() < Duration::from_secs(60), "up did not stop");
        std::thread::sleep(Duration::from_millis(100));
    }
    let text = std::fs::read_to_string(tmp.path().join("up.log")).unwrap_or_default();
    assert!(text.contains("stopping"), "{text}");
    for pid in pids {
        assert!(!pid_alive(pid as u32), "pid {pid} survived Ctrl-C");
    }
}

#[test]
fn a_port_in_use_is_reported_before_anything_starts() {
    let held = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = held.local_addr().expect("addr").port();
    let (_tmp, dir, d) = net_dir();
    // The held port is the RPC port of node 0 when the base port is two below it.
    let base = (port - 2).to_string();
    let out = up_detached(
        &d,
        &[
            "--validators",
            "1",
            "--executors",
            "0",
            "--base-port",
            &base,
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    // Usually the held port; another port of the range may be taken first on a busy machine.
    assert!(err.contains("already in use"), "{err}");
    assert!(!dir.join("localnet.json").exists(), "nothing was generated");
}

#[test]
fn bad_localnet_flags_are_refused_before_anything_starts() {
    let (_tmp, dir, d) = net_dir();
    for (args, needle) in [
        (
            vec!["--executors", "1", "--faulty-executors", "2"],
            "--faulty-executors",
        ),
        (vec!["--validators", "0"], "validators"),
        (
            vec!["--challenge-window-ms", "5000"],
            "--challenge-window-ms 5000 is below 6201",
        ),
        (vec!["--min-corroboration", "0"], "--min-corroboration"),
    ] {
        let mut all = vec!["localnet", "up", "--detach", "--dir", &d];
        all.extend(args.iter().copied());
        let out = lazychain(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{all:?} succeeded");
        assert!(err.contains(needle), "{all:?}: {err}");
        // Nothing runs: no manifest with live pids.
        if let Ok(m) = Manifest::load(&dir) {
            assert!(m.nodes.iter().filter_map(|n| n.pid).all(|p| !pid_alive(p)));
        }
    }
    for cmd in ["kill", "restart"] {
        let out = lazychain(&["localnet", cmd, "nobody", "--dir", &d]);
        assert!(!out.status.success());
    }
}

/// A transfer of 1,000 wei with a max fee of 10 gwei.
fn transfer(key: &secp256k1::SecretKey, chain_id: u64, nonce: u64) -> Vec<u8> {
    lazychain_test_utils::sign(
        key,
        alloy_consensus::TxEip1559 {
            max_fee_per_gas: 10_000_000_000,
            value: alloy_primitives::U256::from(1_000u64),
            ..lazychain_test_utils::transfer_tx(chain_id, nonce)
        },
    )
}

/// Needs root and iproute2, as this machine and CI have: every node in its own namespace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partition_halts_both_halves_and_healing_resumes() {
    let (_tmp, dir, d) = net_dir();
    let _down = Down(&dir);
    ok(
        &up_detached(&d, &["--netns", "--validators", "4", "--executors", "0"]),
        "localnet up --netns",
    );
    let manifest = Manifest::load(&dir).expect("manifest");
    let net = manifest.namespaces.clone().expect("namespaces recorded");
    assert!(manifest.nodes.iter().all(|n| n.netns.is_some()));
    assert!(!manifest.nodes[0].rpc_url.contains("127.0.0.1"));
    let urls: Vec<String> = manifest.nodes.iter().map(|n| n.rpc_url.clone()).collect();
    let heights = |urls: Vec<String>| async move {
        let mut out = Vec::new();
        for u in &urls {
            out.push(
                call(u, "lazy_status", rpc_params![]).await["height"]
                    .as_u64()
                    .unwrap_or(0),
            );
        }
        out
    };
    wait_until("all four deciding", || {
        let urls = urls.clone();
        async move { (heights(urls).await.iter().all(|h| *h >= 3)).then_some(Value::Null) }
    })
    .await;

    // Two against two: neither half has more than 2/3 of the voting power.
    ok(
        &lazychain(&[
            "localnet",
            "partition",
            "validator-0,validator-1",
            "validator-2,validator-3",
            "--dir",
            &d,
        ]),
        "partition",
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = heights(urls.clone()).await.into_iter().max().unwrap_or(0);
    tokio::time::sleep(Duration::from_secs(6)).await;
    let during = heights(urls.clone()).await.into_iter().max().unwrap_or(0);
    assert!(
        during <= before + 1,
        "decisions went on across the partition: {before} -> {during}"
    );

    ok(&lazychain(&["localnet", "heal", "--dir", &d]), "heal");
    wait_until("decisions resume after healing", || {
        let urls = urls.clone();
        async move { (heights(urls).await.iter().all(|h| *h >= during + 3)).then_some(Value::Null) }
    })
    .await;

    ok(&lazychain(&["localnet", "down", "--dir", &d]), "down");
    let listed = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip netns list");
    let listed = String::from_utf8_lossy(&listed.stdout);
    for node in &net.nodes {
        assert!(!listed.contains(&node.netns), "{} left behind", node.netns);
    }
}

/// The benchmark-only coupled mode: validators started with `localnet up --coupled` execute
/// every block themselves, and the state they reach is the one the lazy executor computes for
/// the same decided blocks; lazy validators carry no such state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coupled_validators_execute_and_agree_with_the_executor() {
    let (_tmp, dir, d) = net_dir();
    let _down = Down(&dir);
    ok(
        &up_detached(&d, &["--validators", "4", "--executors", "1", "--coupled"]),
        "localnet up --coupled",
    );
    let manifest = Manifest::load(&dir).expect("manifest");
    let executor = manifest
        .nodes_with_role("executor")
        .next()
        .expect("executor")
        .rpc_url
        .clone();
    let validators = manifest.rpc_urls("validator");
    for value in ["0.25", "0.5"] {
        send_to_dead(&executor, value);
    }
    assert_eq!(
        dead_balance(&executor).await,
        "0xa688906bd8b0000",
        "0.75 ETH arrived"
    );
    // No transaction follows, so every later root equals the one after the second transfer:
    // each validator's coupled root must reach exactly the executor's.
    let executed_root = wait_until("the executor's latest root", || {
        let executor = executor.clone();
        async move {
            let block = call(
                &executor,
                "eth_getBlockByNumber",
                rpc_params!["latest", false],
            )
            .await;
            block["stateRoot"]
                .as_str()
                .map(|r| Value::from(r.to_owned()))
        }
    })
    .await;
    for url in &validators {
        wait_until("a coupled validator reaching the executor's root", || {
            let url = url.clone();
            let executed_root = executed_root.clone();
            async move {
                let status = call(&url, "lazy_status", rpc_params![]).await;
                let coupled = &status["coupled"];
                let height = coupled["executedHeight"].as_u64()?;
                (height > 0
                    && height + 2 >= status["height"].as_u64()?
                    && coupled["stateRoot"] == executed_root)
                    .then(|| status.clone())
            }
        })
        .await;
    }
    ok(
        &lazychain(&["localnet", "down", "--dir", &d]),
        "localnet down",
    );
}
