//! A real wallet library against a local network: web3.py with eth-account (installed by
//! `tests/wallet/install.sh`, which `scripts/test.sh` runs) drives `tests/wallet/web3_flow.py`
//! against an executor's JSON-RPC: balance, signed transfers with "pending" nonces, receipts,
//! deploy, calls, logs, and a transaction that reverts.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;
use jsonrpsee::rpc_params;

fn wallet_python() -> PathBuf {
    match std::env::var_os("LAZYCHAIN_WALLET_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => panic!(
            "LAZYCHAIN_WALLET_PYTHON is not set: run the tests with ./scripts/test.sh, which \
             installs web3.py (tests/wallet/install.sh) and sets it"
        ),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn web3_py_wallet_flow_against_an_executor() {
    let python = wallet_python();
    let net = TestNet::start_full(4, 0, 1);
    let executor = 4;
    net.wait_on(executor, "the executor executing height 2", || async {
        let status = net.call(executor, "lazy_status", rpc_params![]).await;
        status
            .is_ok_and(|s| s["executedHeight"].as_u64().unwrap_or(0) >= 2)
            .then_some(())
    })
    .await;
    let key = dev_account_key(0);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(&python)
        .arg(root.join("tests/wallet/web3_flow.py"))
        .arg("--rpc")
        .arg(&net.manifest.nodes[executor].rpc_url)
        .arg("--key")
        .arg(hex0x(&key.secret_bytes()))
        .arg("--token-json")
        .arg(root.join("exec-layer/contracts/build/LazyToken.json"))
        .arg("--timeout")
        .arg("120")
        .output()
        .expect("run the wallet flow");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success() && stdout.contains("web3 flow passed"),
        "web3 flow failed ({}):\n{stdout}\n{stderr}\nexecutor log tail:\n{}",
        output.status,
        net.log_tail(executor)
    );
}
