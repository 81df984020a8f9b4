//! Client commands that talk to a running node over JSON-RPC: `tx send` (a signed transfer
//! from a dev account, waiting for its receipt) and `status`.

use std::path::Path;
use std::time::{Duration, Instant};

use alloy_consensus::{SignableTransaction, TxEip1559};
use alloy_eips::eip2718::Encodable2718;
use alloy_network::TxSignerSync;
use alloy_primitives::utils::{ParseUnits, Unit};
use alloy_primitives::{Address, Bytes, TxKind, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use eyre::{bail, eyre, Result, WrapErr};
use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::params::ArrayParams;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use serde_json::Value;

/// Where `tx send` and `status` go without `--rpc`: the first executor of the local network
/// in `.localnet`, else the default executor port.
pub fn default_rpc(localnet_dir: &Path, role: &str) -> String {
    lazychain_localnet::Manifest::load(localnet_dir)
        .ok()
        .and_then(|m| m.nodes.into_iter().find(|n| n.role == role))
        .map(|n| n.rpc_url)
        .unwrap_or_else(|| "http://127.0.0.1:8545".to_owned())
}

fn client(url: &str) -> Result<HttpClient> {
    HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(10))
        .build(url)
        .wrap_err_with(|| format!("bad RPC URL {url:?}"))
}

async fn call(c: &HttpClient, url: &str, method: &str, params: ArrayParams) -> Result<Value> {
    c.request::<Value, _>(method, params)
        .await
        .map_err(|e| eyre!("{method} at {url}: {e}"))
}

fn quantity(v: &Value, what: &str) -> Result<U256> {
    let s = v
        .as_str()
        .ok_or_else(|| eyre!("{what}: expected a hex quantity, got {v}"))?;
    U256::from_str_radix(s.trim_start_matches("0x"), 16).wrap_err_with(|| format!("{what}: {s}"))
}

/// `1.5`, `1.5eth`, `20gwei`, `1000wei` as wei. A bare number is ether.
pub fn parse_value(s: &str) -> Result<U256> {
    let t = s.trim().to_ascii_lowercase();
    let (number, unit) = if let Some(n) = t.strip_suffix("gwei") {
        (n, Unit::GWEI)
    } else if let Some(n) = t.strip_suffix("wei") {
        (n, Unit::WEI)
    } else if let Some(n) = t.strip_suffix("eth") {
        (n, Unit::ETHER)
    } else {
        (t.as_str(), Unit::ETHER)
    };
    let number = number.trim();
    // alloy's `parse_units` takes a sign and drops decimals beyond the unit's: a value is
    // refused instead, as plain digits and exactly representable in wei.
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !fraction.chars().all(|c| c.is_ascii_digit())
    {
        bail!("value {s:?}: expected a number with an optional unit (eth, gwei, wei)");
    }
    let decimals = unit.get();
    if fraction.len() > usize::from(decimals) {
        bail!("value {s:?}: more decimals than the unit allows ({decimals})");
    }
    ParseUnits::parse_units(number, unit)
        .map(ParseUnits::get_absolute)
        .map_err(|e| eyre!("value {s:?}: {e}"))
}

fn parse_key(hex_key: &str) -> Result<PrivateKeySigner> {
    let bytes: B256 = hex_key
        .trim()
        .parse()
        .map_err(|e| eyre!("--key: expected 32 bytes of hex ({e})"))?;
    PrivateKeySigner::from_bytes(&bytes).map_err(|_| {
        eyre!("--key: not a secp256k1 private key (zero, or not below the curve order)")
    })
}

pub struct SendOptions {
    pub rpc: String,
    pub to: Address,
    pub value: U256,
    /// Hex private key; dev account 0 of the standard mnemonic when absent.
    pub key: Option<String>,
    pub wait: Duration,
}

/// Signs an EIP-1559 transfer with the chain's id and the sender's pending nonce, sends it,
/// and waits for its receipt.
pub async fn send(opts: &SendOptions) -> Result<()> {
    let signer = match &opts.key {
        Some(k) => parse_key(k)?,
        None => {
            let dev = lazychain_config::dev_accounts(0, 1);
            let first = dev.first().ok_or_else(|| eyre!("no dev account"))?;
            PrivateKeySigner::from_bytes(&first.private_key).map_err(|e| eyre!("dev key: {e}"))?
        }
    };
    let from = signer.address();
    let url = &opts.rpc;
    let c = client(url)?;
    let chain_id = quantity(
        &call(&c, url, "eth_chainId", rpc_params![]).await?,
        "chain id",
    )?;
    let nonce = quantity(
        &call(
            &c,
            url,
            "eth_getTransactionCount",
            rpc_params![from, "pending"],
        )
        .await?,
        "nonce",
    )?;
    let gas_price = quantity(
        &call(&c, url, "eth_gasPrice", rpc_params![]).await?,
        "gas price",
    )?;
    let tip = quantity(
        &call(&c, url, "eth_maxPriorityFeePerGas", rpc_params![]).await?,
        "priority fee",
    )?;
    let mut tx = TxEip1559 {
        chain_id: chain_id.to::<u64>(),
        nonce: nonce.to::<u64>(),
        gas_limit: 21_000,
        max_fee_per_gas: (gas_price.to::<u128>()).saturating_mul(2),
        max_priority_fee_per_gas: tip.to::<u128>(),
        to: TxKind::Call(opts.to),
        value: opts.value,
        access_list: Default::default(),
        input: Bytes::new(),
    };
    let signature = signer
        .sign_transaction_sync(&mut tx)
        .wrap_err("signing the transfer")?;
    let raw = tx.into_signed(signature).encoded_2718();
    let hash = call(
        &c,
        url,
        "eth_sendRawTransaction",
        rpc_params![format!("0x{}", hex::encode(&raw))],
    )
    .await?;
    let hash: B256 = hash
        .as_str()
        .and_then(|h| h.parse().ok())
        .ok_or_else(|| eyre!("unexpected transaction hash {hash}"))?;
    println!("sent {hash}");
    println!(
        "  from {from} (nonce {nonce}) to {} value {} wei",
        opts.to, opts.value
    );
    let started = Instant::now();
    loop {
        let receipt = call(&c, url, "eth_getTransactionReceipt", rpc_params![hash]).await?;
        if !receipt.is_null() {
            let status = receipt["status"].as_str().unwrap_or("?");
            let block = quantity(&receipt["blockNumber"], "block number")?;
            let gas = quantity(&receipt["gasUsed"], "gas used")?;
            println!(
                "  included in block {block}, status {}, gas used {gas}",
                if status == "0x1" { "success" } else { "failed" }
            );
            if status != "0x1" {
                bail!("the transaction failed (status {status})");
            }
            return Ok(());
        }
        if started.elapsed() > opts.wait {
            bail!(
                "no receipt for {hash} after {:?} (is an executor following the chain at {url}?)",
                opts.wait
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A few lines about a node: role, heights, lag, state consensus, peers, readiness.
pub async fn status(url: &str) -> Result<String> {
    let c = client(url)?;
    let s = call(&c, url, "lazy_status", rpc_params![]).await?;
    let sc = &s["stateConsensus"];
    let mut out = format!(
        "{} ({}) at {url}: chain {}, data height {}, peers {}, mempool {}, ready {}\n",
        s["moniker"].as_str().unwrap_or("?"),
        s["role"].as_str().unwrap_or("?"),
        s["chainId"],
        s["height"],
        s["peers"],
        s["mempoolSize"],
        s["ready"],
    );
    if let Some(executed) = s["executedHeight"].as_u64() {
        out.push_str(&format!(
            "  executed {executed} (lag {}), state root {}\n",
            s["lag"],
            s["stateRoot"].as_str().unwrap_or("?")
        ));
    }
    out.push_str(&format!(
        "  state consensus: finalized {} (root {}), safe {}, slashed executors {}\n",
        sc["finalizedHeight"],
        sc["finalizedRoot"].as_str().unwrap_or("-"),
        sc["safeHeight"],
        sc["slashed"].as_object().map(|m| m.len()).unwrap_or(0)
    ));
    if let Some(reason) = s["notReadyReason"].as_str() {
        out.push_str(&format!("  not ready: {reason}\n"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_with_units() {
        let eth = U256::from(10u64).pow(U256::from(18));
        assert_eq!(parse_value("1").unwrap_or_default(), eth);
        assert_eq!(
            parse_value("1.5eth").unwrap_or_default(),
            eth * U256::from(3) / U256::from(2)
        );
        assert_eq!(
            parse_value("20gwei").unwrap_or_default(),
            U256::from(20_000_000_000u64)
        );
        assert_eq!(parse_value("7wei").unwrap_or_default(), U256::from(7));
        assert_eq!(
            parse_value("0.000000001").unwrap_or_default(),
            U256::from(1_000_000_000u64)
        );
        for bad in [
            "",
            "eth",
            "1.2.3",
            "-1",
            "1.5wei",
            "0x10",
            "1e18",
            "0.0000000000000000001",
        ] {
            assert!(parse_value(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keys_give_their_address() {
        // Dev account 0 of the standard mnemonic, with and without the 0x prefix.
        let hex = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
        let expected: Address = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
            .parse()
            .unwrap_or_default();
        for k in [hex.to_owned(), format!("0x{hex}"), format!(" 0x{hex}\n")] {
            let signer = parse_key(&k).unwrap_or_else(|e| panic!("{k:?}: {e}"));
            assert_eq!(signer.address(), expected);
        }
        for bad in ["", "0x12", "zz", &"00".repeat(32), &"ff".repeat(32)] {
            let err = parse_key(bad)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.starts_with("--key: "), "{bad:?}: {err:?}");
        }
    }

    #[test]
    fn a_signed_transfer_recovers_to_its_sender() {
        use alloy_consensus::transaction::SignerRecoverable;
        use alloy_consensus::TxEnvelope;
        use alloy_eips::eip2718::Decodable2718;

        let signer = parse_key(&"11".repeat(32)).unwrap_or_else(|e| panic!("{e}"));
        let mut tx = TxEip1559 {
            chain_id: 1337,
            gas_limit: 21_000,
            to: TxKind::Call(Address::repeat_byte(0x42)),
            ..Default::default()
        };
        let sig = signer
            .sign_transaction_sync(&mut tx)
            .unwrap_or_else(|e| panic!("{e}"));
        let raw = tx.into_signed(sig).encoded_2718();
        let decoded =
            TxEnvelope::decode_2718(&mut raw.as_slice()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(decoded.recover_signer().ok(), Some(signer.address()));
    }
}
