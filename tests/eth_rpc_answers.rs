//! Every `eth_*` method an executor serves, asked with representative parameters after a
//! deterministic flow, answers exactly as `tests/eth_rpc_answers.golden.json` records: the
//! contract of the executor's JSON-RPC with wallets and tools, kept while its code changes.
//!
//! One validator and one executor run a fixed sequence of transactions (a transfer, a token
//! deploy with a mint event, a token transfer, a reverting call sent anyway, a legacy and an
//! EIP-2930 transaction, a transaction skipped for its nonce), each in its own block; then the
//! validator stops, so the chain and every tag stand still while the questions are asked.
//!
//! What differs between runs (block hashes, timestamps, roots, the heights blocks land at) is
//! recorded by its form: a block hash as `<blockhash>` (or `<blockhash:NAME>` for the block of
//! the flow's transaction NAME, so a receipt's block is checked to be that block), a height as
//! `<block:NAME>`, a root as `<data32>`, a timestamp as `<quantity>`. Everything else is
//! literal: keys present or absent, null or a value, quantity formatting, addresses, values,
//! nonces, gas, statuses, logs, error codes, messages and data.
//!
//! `LAZYCHAIN_UPDATE_RPC_ANSWERS=1` rewrites the golden file from this run.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use alloy_consensus::{SignableTransaction, TxEip2930, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_eips::eip2930::{AccessList, AccessListItem};
use alloy_primitives::{keccak256, Address, Bytes, Signature, TxKind, B256, U256};
use common::*;
use secp256k1::{Message, SecretKey, SECP256K1};
use serde_json::{json, Value};

const GOLDEN: &str = "tests/eth_rpc_answers.golden.json";
const TOKEN_HEX: &str = include_str!("../exec-layer/contracts/build/LazyToken.bytecode.hex");
const GWEI: u128 = 1_000_000_000;
const ETH: u128 = 1_000_000_000_000_000_000;
/// Keys whose values are heights: recorded as the flow's name for that height.
const HEIGHT_KEYS: &[&str] = &[
    "number",
    "blockNumber",
    "oldestBlock",
    "startingBlock",
    "currentBlock",
    "highestBlock",
    "height",
    "fromBlock",
    "toBlock",
];
/// Keys whose values differ between runs whatever the code does: recorded by form.
const VARYING_KEYS: &[&str] = &[
    "timestamp",
    "stateRoot",
    "preStateRoot",
    "traceRoot",
    "receiptsRoot",
    "transactionsRoot",
    "trace",
    // The body carries the claims and items of the moment, besides the transactions.
    "size",
    // The data header: its proposer's clock and the claims of the moment (the proposer's
    // address is recorded as `<address>`).
    "timestampMs",
    "claimsRoot",
    "bodyBytes",
    "gasAllowance",
];

fn selector(signature: &str) -> Vec<u8> {
    keccak256(signature.as_bytes())[..4].to_vec()
}

fn word(a: Address) -> B256 {
    B256::left_padding_from(a.as_slice())
}

fn token_transfer(to: Address, amount: u64) -> Vec<u8> {
    let mut input = selector("transfer(address,uint256)");
    input.extend_from_slice(word(to).as_slice());
    input.extend_from_slice(&U256::from(amount).to_be_bytes::<32>());
    input
}

fn sign(key: &SecretKey, hash: B256) -> Signature {
    Signature::from(SECP256K1.sign_ecdsa_recoverable(Message::from_digest(hash.0), key))
}

fn legacy_tx(key: &SecretKey, nonce: u64, to: Address, value: u128) -> Vec<u8> {
    let tx = TxLegacy {
        chain_id: Some(CHAIN_ID),
        nonce,
        gas_price: 3 * GWEI,
        gas_limit: 21_000,
        to: TxKind::Call(to),
        value: U256::from(value),
        input: Bytes::new(),
    };
    let sig = sign(key, tx.signature_hash());
    tx.into_signed(sig).encoded_2718()
}

fn eip2930_tx(key: &SecretKey, nonce: u64, to: Address, slot: B256) -> Vec<u8> {
    let tx = TxEip2930 {
        chain_id: CHAIN_ID,
        nonce,
        gas_price: 3 * GWEI,
        gas_limit: 60_000,
        to: TxKind::Call(to),
        value: U256::ZERO,
        access_list: AccessList(vec![AccessListItem {
            address: to,
            storage_keys: vec![slot],
        }]),
        input: Bytes::from(selector("totalSupply()")),
    };
    let sig = sign(key, tx.signature_hash());
    tx.into_signed(sig).encoded_2718()
}

fn qty(n: u64) -> String {
    format!("0x{n:x}")
}

fn is_quantity(s: &str) -> bool {
    s.strip_prefix("0x").is_some_and(|d| {
        d == "0"
            || (!d.is_empty()
                && !d.starts_with('0')
                && d.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    })
}

fn is_data32(s: &str) -> bool {
    s.strip_prefix("0x").is_some_and(|d| {
        d.len() == 64
            && d.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// The form of a value that differs between runs; a value of no known form stays literal,
/// so a change of form shows.
fn form(v: &Value) -> Value {
    match v {
        Value::String(s) if is_data32(s) => json!("<data32>"),
        Value::String(s) if is_quantity(s) => json!("<quantity>"),
        Value::Number(_) => json!("<number>"),
        Value::Array(items) => Value::Array(items.iter().map(form).collect()),
        other => other.clone(),
    }
}

/// The recorded answers and what is needed to normalize them.
struct Recorder<'a> {
    net: &'a TestNet,
    node: usize,
    /// Heights named by the flow (the block of each transaction, genesis, the tip).
    heights: BTreeMap<u64, String>,
    /// Every block hash of the chain, named for the flow's blocks.
    block_hashes: BTreeMap<String, String>,
    tip: u64,
    answers: Vec<Value>,
}

impl Recorder<'_> {
    fn normalize(&self, v: &Value, key: Option<&str>) -> Value {
        match v {
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.normalize(v, Some(k))))
                    .collect(),
            ),
            Value::Array(items) => {
                Value::Array(items.iter().map(|item| self.normalize(item, key)).collect())
            }
            Value::String(s) => {
                if let Some(name) = self.block_hashes.get(s) {
                    // Whether the parent is one of the flow's blocks depends on timing.
                    if key == Some("parentHash") {
                        return json!("<blockhash>");
                    }
                    return json!(name);
                }
                if key.is_some_and(|k| HEIGHT_KEYS.contains(&k)) {
                    if s == "0x0" {
                        // Genesis is the one height every run has in common.
                        return v.clone();
                    }
                    let height = s
                        .strip_prefix("0x")
                        .and_then(|d| u64::from_str_radix(d, 16).ok());
                    if let Some(name) = height.and_then(|h| self.heights.get(&h)) {
                        if is_quantity(s) {
                            return json!(format!("<block:{name}>"));
                        }
                    }
                    return form(v);
                }
                if key.is_some_and(|k| VARYING_KEYS.contains(&k)) {
                    return form(v);
                }
                // The validator's key is made anew for every run.
                if key == Some("proposer") {
                    return json!("<address>");
                }
                v.clone()
            }
            Value::Number(n) if key.is_some_and(|k| HEIGHT_KEYS.contains(&k)) => match n.as_u64() {
                Some(0) => v.clone(),
                Some(h) => match self.heights.get(&h) {
                    Some(name) => json!(format!("<block:{name}>")),
                    None => form(v),
                },
                None => form(v),
            },
            other => other.clone(),
        }
    }

    /// A positional parameter: a height the flow named is recorded by its name. The flow's
    /// heights are all above 2 (it starts after height 2), so the literal small numbers the
    /// questions use (counts, slots, `0x0`..`0x2`) never collide with them.
    fn normalize_param(&self, v: &Value) -> Value {
        let height = match v {
            Value::String(s) if is_quantity(s) => u64::from_str_radix(&s[2..], 16).ok(),
            Value::Number(n) => n.as_u64(),
            _ => None,
        };
        match height.and_then(|h| self.heights.get(&h)) {
            Some(name) => json!(format!("<block:{name}>")),
            None => self.normalize(v, None),
        }
    }

    /// The shape of an answer whose content depends on timing (the `safe` and `finalized`
    /// blocks): its keys, and every value by form.
    fn shape(v: &Value) -> Value {
        match v {
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), Self::shape(v)))
                    .collect(),
            ),
            Value::Array(_) => json!("<array>"),
            Value::String(s) if is_data32(s) => json!("<data32>"),
            Value::String(s) if is_quantity(s) => json!("<quantity>"),
            Value::String(s) if s.len() == 42 && s.starts_with("0x") => json!("<address>"),
            Value::String(s) if s.starts_with("0x") => json!("<data>"),
            Value::Number(_) => json!("<number>"),
            other => other.clone(),
        }
    }

    async fn raw(&self, method: &str, params: &[Value]) -> Result<Value, Value> {
        use jsonrpsee::core::client::ClientT;
        let mut array = jsonrpsee::core::params::ArrayParams::new();
        for p in params {
            array.insert(p).expect("params serialize");
        }
        self.net
            .client(self.node)
            .request::<Value, _>(method, array)
            .await
            .map_err(|e| match e {
                jsonrpsee::core::ClientError::Call(obj) => json!({
                    "code": obj.code(),
                    "message": obj.message(),
                    "data": obj.data().map(|d| serde_json::from_str::<Value>(d.get()).expect("data is JSON")),
                }),
                other => panic!("{method}: no answer: {other}"),
            })
    }

    /// Asks, and records the answer normalized (`shaped`: by its shape only).
    async fn ask_as(&mut self, label: &str, method: &str, params: Vec<Value>, shaped: bool) {
        let answer = self.raw(method, &params).await;
        let tip = format!("({})", self.tip);
        let mut entry = json!({
            "ask": label,
            "method": method,
            "params": Value::Array(params.iter().map(|p| self.normalize_param(p)).collect()),
        });
        match answer {
            Ok(result) if shaped => entry["result"] = Self::shape(&result),
            Ok(result) if method == "eth_blockNumber" => {
                entry["result"] = self.normalize_param(&result)
            }
            Ok(result) => entry["result"] = self.normalize(&result, None),
            Err(mut error) => {
                // Messages naming the latest height name it as the tip.
                if let Some(m) = error["message"].as_str() {
                    error["message"] = json!(m.replace(&tip, "(<tip>)"));
                }
                entry["error"] = self.normalize(&error, None);
            }
        }
        self.answers.push(entry);
    }

    async fn ask(&mut self, label: &str, method: &str, params: Vec<Value>) {
        self.ask_as(label, method, params, false).await;
    }
}

async fn status(net: &TestNet, node: usize) -> Value {
    net.call(node, "lazy_status", jsonrpsee::rpc_params![])
        .await
        .unwrap_or(Value::Null)
}

/// Sends `raw` through the executor and waits for its receipt there.
async fn send_and_wait(net: &TestNet, node: usize, raw: &[u8]) -> Value {
    let hash = net
        .call(
            node,
            "eth_sendRawTransaction",
            jsonrpsee::rpc_params![hex0x(raw)],
        )
        .await
        .expect("transaction accepted");
    let hash = hash.as_str().expect("hash").to_string();
    let start = Instant::now();
    loop {
        let receipt = net
            .call(
                node,
                "eth_getTransactionReceipt",
                jsonrpsee::rpc_params![hash.clone()],
            )
            .await
            .expect("rpc answers");
        if !receipt.is_null() {
            return receipt;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "no receipt for {hash}; log tail:\n{}",
            net.log_tail(node)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn height_of(receipt: &Value) -> u64 {
    let s = receipt["blockNumber"].as_str().expect("block number");
    u64::from_str_radix(s.trim_start_matches("0x"), 16).expect("quantity")
}

/// Where the flow's state changed, for reads at past blocks.
struct History {
    alice: Address,
    bob: Address,
    token: Address,
    transfer: u64,
    deploy: u64,
    token_transfer: u64,
    legacy: u64,
    /// The heights of alice's executed transactions (each takes one nonce).
    nonces: Vec<u64>,
}

/// Every state method answers at every height of the chain as the chain stood after that
/// block, whether the block is named by number, by EIP-1898 object or hash, or by tag.
async fn check_history(rec: &Recorder<'_>, h: &History) {
    let ok = |r: Result<Value, Value>, what: &str| -> Value {
        r.unwrap_or_else(|e| panic!("{what}: {e}"))
    };
    let mut balance_of = selector("balanceOf(address)");
    balance_of.extend_from_slice(word(h.bob).as_slice());
    let call =
        json!({"from": h.alice.to_string(), "to": h.token.to_string(), "data": hex0x(&balance_of)});
    let bob = json!(h.bob.to_string());
    let estimate_before_deploy = ok(
        rec.raw("eth_estimateGas", &[call.clone(), json!("earliest")])
            .await,
        "estimate at genesis",
    );
    for height in 0..=rec.tip {
        let block = ok(
            rec.raw("eth_getBlockByNumber", &[json!(qty(height)), json!(false)])
                .await,
            "block",
        );
        // The data header a block carries is the one its hash and Ethereum fields come from.
        if height > 0 {
            let d = &block["dataHeader"];
            assert_eq!(d["height"], block["number"], "{block}");
            assert_eq!(d["txRoot"], block["transactionsRoot"], "{block}");
            assert_eq!(d["parentHash"], block["parentHash"], "{block}");
            assert_eq!(d["baseFeePerGas"], block["baseFeePerGas"], "{block}");
        }
        let mut by = vec![json!(qty(height)), json!({"blockNumber": qty(height)})];
        // Genesis is no data block: its hash is zero, a name for nothing.
        if height > 0 {
            by.push(json!({"blockHash": block["hash"], "requireCanonical": true}));
        }
        let want_balance = if height < h.transfer {
            0
        } else if height < h.legacy {
            ETH
        } else {
            ETH + 5
        };
        let want_nonce = h.nonces.iter().filter(|&&n| n <= height).count() as u64;
        let want_token = if height < h.deploy {
            "0x".to_string()
        } else {
            let held = if height < h.token_transfer { 0 } else { 1234 };
            hex0x(&U256::from(held).to_be_bytes::<32>())
        };
        for block in by {
            let at = format!("at {block}");
            let balance = ok(
                rec.raw("eth_getBalance", &[bob.clone(), block.clone()])
                    .await,
                &at,
            );
            assert_eq!(
                balance,
                json!(format!("0x{want_balance:x}")),
                "bob's balance {at}"
            );
            let nonce = ok(
                rec.raw(
                    "eth_getTransactionCount",
                    &[json!(h.alice.to_string()), block.clone()],
                )
                .await,
                &at,
            );
            assert_eq!(nonce, json!(qty(want_nonce)), "alice's nonce {at}");
            let code = ok(
                rec.raw("eth_getCode", &[json!(h.token.to_string()), block.clone()])
                    .await,
                &at,
            );
            assert_eq!(code == json!("0x"), height < h.deploy, "token code {at}");
            let slot_count = ok(
                rec.raw(
                    "eth_getStorageAt",
                    &[json!(h.token.to_string()), json!("0x2"), block.clone()],
                )
                .await,
                &at,
            );
            assert!(slot_count.is_string(), "storage {at}");
            let held = ok(
                rec.raw("eth_call", &[call.clone(), block.clone()]).await,
                &at,
            );
            assert_eq!(held, json!(want_token), "bob's tokens {at}");
            let estimate = ok(
                rec.raw("eth_estimateGas", &[call.clone(), block.clone()])
                    .await,
                &at,
            );
            // A call to an account without code costs its intrinsic gas only.
            assert_eq!(
                estimate == estimate_before_deploy,
                height < h.deploy,
                "estimate {at}: {estimate}"
            );
        }
    }
    // Tags read the state of the height they name.
    for tag in ["earliest", "safe", "finalized", "latest", "pending"] {
        let block = ok(
            rec.raw("eth_getBlockByNumber", &[json!(tag), json!(false)])
                .await,
            tag,
        );
        let number = block["number"].clone();
        for (method, params) in [
            ("eth_getBalance", vec![bob.clone()]),
            ("eth_getCode", vec![json!(h.token.to_string())]),
            ("eth_call", vec![call.clone()]),
        ] {
            let mut by_tag = params.clone();
            by_tag.push(json!(tag));
            let mut by_number = params;
            by_number.push(number.clone());
            assert_eq!(
                rec.raw(method, &by_tag).await,
                rec.raw(method, &by_number).await,
                "{method} at {tag} (block {number})"
            );
        }
    }
    // A block not executed (yet), and a hash of no block: geth's words.
    let beyond = rec
        .raw("eth_getBalance", &[bob.clone(), json!(qty(rec.tip + 1))])
        .await;
    assert_eq!(
        beyond.err().map(|e| e["message"].clone()),
        Some(json!("header not found"))
    );
    let unknown = rec
        .raw(
            "eth_call",
            &[call.clone(), json!({"blockHash": hex0x(&[0x5a; 32])})],
        )
        .await;
    assert_eq!(
        unknown.err().map(|e| e["message"].clone()),
        Some(json!("header for hash not found"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_eth_method_answers_as_recorded() {
    let mut net = TestNet::start_spec(&NetSpec {
        validators: 1,
        executors: 1,
        // No execution budget: the base fee stays at its floor, whatever the timing.
        gas_per_second: Some(0),
        ..NetSpec::default()
    });
    let (validator, executor) = (0, 1);
    // The executor executes and gossips with the validator before the first transaction.
    let start = Instant::now();
    loop {
        let s = status(&net, executor).await;
        if s["executedHeight"].as_u64() >= Some(2) && s["gossipPeers"].as_u64() >= Some(1) {
            break;
        }
        assert!(start.elapsed() < DEADLINE, "executor not ready: {s}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The flow: one transaction per block, each sent once the previous one has a receipt.
    let alice_key = dev_account_key(0);
    let alice = address_of(&alice_key);
    let bob = Address::repeat_byte(0xb0);
    let mut receipts: Vec<(&str, Value)> = Vec::new();
    let to_bob = sign_tx(&alice_key, 0, Some(bob), ETH, 21_000, 2 * GWEI, vec![]);
    receipts.push(("transfer", send_and_wait(&net, executor, &to_bob).await));
    let mut deploy = hex::decode(TOKEN_HEX.trim()).expect("fixture hex");
    deploy.extend_from_slice(&U256::from(1_000_000u64).to_be_bytes::<32>());
    let deploy = sign_tx(&alice_key, 1, None, 0, 1_500_000, 2 * GWEI, deploy);
    receipts.push(("deploy", send_and_wait(&net, executor, &deploy).await));
    let token: Address = receipts[1].1["contractAddress"]
        .as_str()
        .expect("contract address")
        .parse()
        .expect("address");
    let token_to_bob = sign_tx(
        &alice_key,
        2,
        Some(token),
        0,
        100_000,
        2 * GWEI,
        token_transfer(bob, 1234),
    );
    receipts.push((
        "token_transfer",
        send_and_wait(&net, executor, &token_to_bob).await,
    ));
    let too_much = token_transfer(bob, 10_000_000);
    let reverting = sign_tx(
        &alice_key,
        3,
        Some(token),
        0,
        100_000,
        2 * GWEI,
        too_much.clone(),
    );
    receipts.push(("revert", send_and_wait(&net, executor, &reverting).await));
    let legacy = legacy_tx(&alice_key, 4, bob, 5);
    receipts.push(("legacy", send_and_wait(&net, executor, &legacy).await));
    let access = eip2930_tx(&alice_key, 5, token, B256::ZERO);
    receipts.push(("eip2930", send_and_wait(&net, executor, &access).await));
    let skipped = sign_tx(&alice_key, 50, Some(bob), 1, 21_000, 2 * GWEI, vec![]);
    receipts.push(("skipped", send_and_wait(&net, executor, &skipped).await));

    // A few empty blocks after the flow (so `latest` ranges are empty), then the validator
    // stops and the executor catches up: from here on nothing moves.
    let last = height_of(&receipts[receipts.len() - 1].1);
    let start = Instant::now();
    while status(&net, executor).await["dataHeight"].as_u64() < Some(last + 6) {
        assert!(start.elapsed() < DEADLINE, "executor did not follow");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    net.stop(validator);
    let start = Instant::now();
    let mut still = (None, 0);
    let tip = loop {
        let s = status(&net, executor).await;
        let (data, executed) = (s["dataHeight"].as_u64(), s["executedHeight"].as_u64());
        if data.is_some() && data == executed && executed >= Some(last + 6) {
            // Caught up, and nothing new for two seconds (blocks in flight have landed).
            if still.0 == executed {
                still.1 += 1;
                if still.1 >= 10 {
                    break executed.unwrap_or_default();
                }
            } else {
                still = (executed, 0);
            }
        }
        assert!(start.elapsed() < DEADLINE, "executor did not catch up: {s}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    let mut rec = Recorder {
        net: &net,
        node: executor,
        heights: BTreeMap::new(),
        block_hashes: BTreeMap::new(),
        tip,
        answers: Vec::new(),
    };
    rec.heights.insert(tip, "tip".into());
    for (name, receipt) in &receipts {
        rec.heights.insert(height_of(receipt), (*name).into());
    }
    for h in 0..=tip {
        let block = rec
            .raw("eth_getBlockByNumber", &[json!(qty(h)), json!(false)])
            .await
            .expect("block");
        let hash = block["hash"].as_str().expect("block hash").to_string();
        if hash == hex0x(B256::ZERO.as_slice()) {
            // Genesis has no parent; a zero word is no block's name elsewhere.
            continue;
        }
        let name = match rec.heights.get(&h) {
            Some(name) => format!("<blockhash:{name}>"),
            None if h == 0 => "<blockhash:genesis>".into(),
            None => "<blockhash>".into(),
        };
        rec.block_hashes.insert(hash, name);
    }
    let at = |name: &str| -> u64 {
        height_of(
            &receipts
                .iter()
                .find(|(n, _)| *n == name)
                .expect("flow step")
                .1,
        )
    };
    let hash_of = |name: &str| -> Value {
        receipts
            .iter()
            .find(|(n, _)| *n == name)
            .expect("flow step")
            .1["blockHash"]
            .clone()
    };
    let tx_of = |name: &str| -> Value {
        receipts
            .iter()
            .find(|(n, _)| *n == name)
            .expect("flow step")
            .1["transactionHash"]
            .clone()
    };

    // A transaction pooled but never ordered (the validator is gone).
    let pooled = sign_tx(&alice_key, 6, Some(bob), 7, 21_000, 2 * GWEI, vec![]);
    rec.ask(
        "pool a transaction",
        "eth_sendRawTransaction",
        vec![json!(hex0x(&pooled))],
    )
    .await;
    let pooled_hash = json!(hex0x(keccak256(&pooled).as_slice()));

    let unknown_hash = json!(hex0x(&[0x5a; 32]));
    let alice_s = json!(alice.to_string());
    let bob_s = json!(bob.to_string());
    let token_s = json!(token.to_string());
    let stranger = json!(Address::repeat_byte(0x77).to_string());
    let transfer_topic = json!(hex0x(
        keccak256("Transfer(address,address,uint256)").as_slice()
    ));
    let mut balance_of = selector("balanceOf(address)");
    balance_of.extend_from_slice(word(bob).as_slice());
    let balance_of = json!(hex0x(&balance_of));
    let too_much = json!(hex0x(&too_much));

    // Chain position and fees.
    rec.ask("height", "eth_blockNumber", vec![]).await;
    rec.ask("gas price", "eth_gasPrice", vec![]).await;
    rec.ask("tip suggestion", "eth_maxPriorityFeePerGas", vec![])
        .await;
    rec.ask("caught up", "eth_syncing", vec![]).await;
    for (label, params) in [
        (
            "fee history, percentiles",
            vec![
                json!("0x2"),
                json!(qty(at("transfer"))),
                json!([25.0, 75.0]),
            ],
        ),
        (
            "fee history, no percentiles",
            vec![json!("0x1"), json!(qty(at("deploy")))],
        ),
        (
            "fee history, empty percentiles",
            vec![json!("0x1"), json!(qty(at("token_transfer"))), json!([])],
        ),
        (
            "fee history, count as a number",
            vec![json!(2), json!("latest"), json!([50])],
        ),
        (
            "fee history, zero count",
            vec![json!("0x0"), json!("latest")],
        ),
        (
            "fee history, newest beyond the tip",
            vec![json!("0x2"), json!("0xffffff")],
        ),
        ("fee history, no params", vec![]),
        (
            "fee history, bad count",
            vec![json!("four"), json!("latest")],
        ),
        (
            "fee history, bad percentiles",
            vec![json!("0x2"), json!("latest"), json!(["high"])],
        ),
    ] {
        rec.ask(label, "eth_feeHistory", params).await;
    }

    // State reads.
    for (label, params) in [
        ("alice, latest", vec![alice_s.clone(), json!("latest")]),
        ("bob, latest", vec![bob_s.clone(), json!("latest")]),
        ("bob, pending", vec![bob_s.clone(), json!("pending")]),
        ("bob, tip number", vec![bob_s.clone(), json!(qty(tip))]),
        ("bob, no tag", vec![bob_s.clone()]),
        ("bob, tip as a JSON number", vec![bob_s.clone(), json!(tip)]),
        (
            "bob, tip by blockNumber object",
            vec![bob_s.clone(), json!({"blockNumber": qty(tip)})],
        ),
        (
            "bob, by blockHash object",
            vec![bob_s.clone(), json!({"blockHash": hash_of("transfer")})],
        ),
        ("bob, earliest", vec![bob_s.clone(), json!("earliest")]),
        (
            "bob, an old height",
            vec![bob_s.clone(), json!(qty(at("transfer")))],
        ),
        ("bob, bad tag", vec![bob_s.clone(), json!("yesterday")]),
        // Tags match exactly, as in geth.
        ("bob, tag in capitals", vec![bob_s.clone(), json!("LATEST")]),
        ("stranger", vec![stranger.clone(), json!("latest")]),
        ("short address", vec![json!("0x1234"), json!("latest")]),
        ("address without 0x", vec![json!("b0".repeat(20))]),
        ("address as a number", vec![json!(42), json!("latest")]),
        ("no params", vec![]),
    ] {
        rec.ask(label, "eth_getBalance", params).await;
    }
    for (label, params) in [
        ("alice, latest", vec![alice_s.clone(), json!("latest")]),
        ("alice, pending", vec![alice_s.clone(), json!("pending")]),
        ("alice, no tag", vec![alice_s.clone()]),
        ("bob, latest", vec![bob_s.clone(), json!("latest")]),
        (
            "stranger, pending",
            vec![stranger.clone(), json!("pending")],
        ),
        ("alice, earliest", vec![alice_s.clone(), json!("earliest")]),
        ("bad address", vec![json!("0xzz"), json!("latest")]),
    ] {
        rec.ask(label, "eth_getTransactionCount", params).await;
    }
    for (label, params) in [
        ("token", vec![token_s.clone(), json!("latest")]),
        ("an account", vec![alice_s.clone(), json!("latest")]),
        (
            "stranger, pending",
            vec![stranger.clone(), json!("pending")],
        ),
        ("token, old height", vec![token_s.clone(), json!("0x1")]),
        ("no params", vec![]),
    ] {
        rec.ask(label, "eth_getCode", params).await;
    }
    for (label, params) in [
        (
            "slot 0",
            vec![token_s.clone(), json!("0x0"), json!("latest")],
        ),
        (
            "slot 2",
            vec![token_s.clone(), json!("0x2"), json!("latest")],
        ),
        (
            "slot 0x00",
            vec![token_s.clone(), json!("0x00"), json!("latest")],
        ),
        (
            "slot as 32 bytes",
            vec![token_s.clone(), json!(hex0x(&[0u8; 32])), json!("latest")],
        ),
        (
            "slot as a number",
            vec![token_s.clone(), json!(1), json!("latest")],
        ),
        ("no tag", vec![token_s.clone(), json!("0x0")]),
        ("bad slot", vec![token_s.clone(), json!("zz")]),
        ("missing slot", vec![token_s.clone()]),
    ] {
        rec.ask(label, "eth_getStorageAt", params).await;
    }

    // Calls.
    for (label, params) in [
        (
            "balanceOf, data",
            vec![json!({"to": token_s, "data": balance_of}), json!("latest")],
        ),
        (
            "balanceOf, input, pending",
            vec![
                json!({"to": token_s, "input": balance_of}),
                json!("pending"),
            ],
        ),
        (
            "balanceOf, input wins over data",
            vec![
                json!({"to": token_s, "input": balance_of, "data": "0x18160ddd"}),
                json!("latest"),
            ],
        ),
        (
            "balanceOf, no tag",
            vec![json!({"to": token_s, "data": balance_of})],
        ),
        (
            "balanceOf, an old height",
            vec![json!({"to": token_s, "data": balance_of}), json!("0x1")],
        ),
        (
            "a revert with a reason",
            vec![
                json!({"from": alice_s, "to": token_s, "input": too_much}),
                json!("latest"),
            ],
        ),
        (
            "out of gas",
            vec![
                json!({"from": alice_s, "to": token_s, "input": balance_of, "gas": "0x5300"}),
                json!("latest"),
            ],
        ),
        (
            "value beyond the balance",
            vec![
                json!({"from": stranger, "to": bob_s, "value": "0xde0b6b3a7640000"}),
                json!("latest"),
            ],
        ),
        (
            "all fields",
            vec![
                json!({
                    "from": alice_s, "to": bob_s, "gas": "0x5208", "maxFeePerGas": "0x77359400",
                    "maxPriorityFeePerGas": "0x1", "value": "0x1", "input": "0x", "nonce": null
                }),
                json!("latest"),
            ],
        ),
        (
            "legacy gas price",
            vec![
                json!({"from": alice_s, "to": bob_s, "gasPrice": "0xb2d05e00", "value": "0x0"}),
                json!("latest"),
            ],
        ),
        ("to a plain account", vec![json!({"to": bob_s})]),
        ("not an object", vec![json!("not an object")]),
        (
            "bad address",
            vec![json!({"to": "0x1234"}), json!("latest")],
        ),
        (
            "bad quantity",
            vec![json!({"to": bob_s, "value": "12"}), json!("latest")],
        ),
        ("no params", vec![]),
    ] {
        rec.ask(label, "eth_call", params).await;
    }
    for (label, params) in [
        (
            "transfer",
            vec![json!({"from": alice_s, "to": bob_s, "value": "0x1"})],
        ),
        (
            "token transfer",
            vec![
                json!({"from": alice_s, "to": token_s, "data": hex0x(&token_transfer(bob, 1))}),
                json!("latest"),
            ],
        ),
        (
            "a revert",
            vec![json!({"from": alice_s, "to": token_s, "input": too_much})],
        ),
        ("not an object", vec![json!([1])]),
        (
            "totalSupply",
            vec![json!({"from": alice_s, "to": token_s, "input": "0x18160ddd"})],
        ),
        // EIP-2930: 2,400 per address and 1,900 per slot, the listed slot then warm.
        (
            "totalSupply with an access list",
            vec![
                json!({"from": alice_s, "to": token_s, "input": "0x18160ddd",
                       "accessList": [{"address": token_s, "storageKeys": [hex0x(&[0u8; 32])]}]}),
            ],
        ),
        (
            "transfer with an access list",
            vec![json!({"from": alice_s, "to": bob_s, "value": "0x1",
                       "accessList": [{"address": token_s, "storageKeys": []}]})],
        ),
    ] {
        rec.ask(label, "eth_estimateGas", params).await;
    }
    // Overrides: the call reads through them; the state is untouched (asked again below).
    // Runtime code that returns one word: `<word> PUSH0 MSTORE PUSH1 32 PUSH0 RETURN`.
    let returning = |word: &str| json!(format!("0x{word}5f5260205ff3"));
    let bob_balance_code = returning(&format!("73{}31", hex::encode(bob)));
    for (label, params) in [
        (
            "code override returns its output",
            vec![
                json!({"to": stranger}),
                json!("latest"),
                json!({stranger.as_str().expect("address"): {"code": returning("602a")}}),
            ],
        ),
        (
            "stateDiff read by overridden code",
            vec![
                json!({"to": stranger}),
                json!("latest"),
                json!({stranger.as_str().expect("address"): {
                    "code": returning("5f54"),
                    "stateDiff": {hex0x(&[0u8; 32]): hex0x(B256::with_last_byte(7).as_slice())},
                }}),
            ],
        ),
        (
            "balance override read by BALANCE",
            vec![
                json!({"to": stranger}),
                json!("latest"),
                json!({
                    stranger.as_str().expect("address"): {"code": bob_balance_code},
                    bob_s.as_str().expect("address"): {"balance": "0x1234"},
                }),
            ],
        ),
        (
            "token storage replaced: balanceOf reads zero",
            vec![
                json!({"to": token_s, "data": balance_of}),
                json!("latest"),
                json!({token_s.as_str().expect("address"): {"state": {}}}),
            ],
        ),
        (
            "value beyond the balance, balance overridden",
            vec![
                json!({"from": stranger, "to": bob_s, "value": "0xde0b6b3a7640000"}),
                json!("latest"),
                json!({stranger.as_str().expect("address"): {"balance": "0xde0b6b3a7640000"}}),
            ],
        ),
        (
            "null overrides",
            vec![
                json!({"to": token_s, "data": balance_of}),
                json!("latest"),
                Value::Null,
                Value::Null,
            ],
        ),
        (
            "block override: number",
            vec![
                json!({"to": stranger}),
                json!("latest"),
                json!({stranger.as_str().expect("address"): {"code": returning("43")}}),
                json!({"number": "0x123456"}),
            ],
        ),
        (
            "block override: time",
            vec![
                json!({"to": stranger}),
                json!("latest"),
                json!({stranger.as_str().expect("address"): {"code": returning("42")}}),
                json!({"time": "0x11223344"}),
            ],
        ),
        (
            "block override: coinbase",
            vec![
                json!({"to": stranger}),
                json!("latest"),
                json!({stranger.as_str().expect("address"): {"code": returning("41")}}),
                json!({"feeRecipient": bob_s}),
            ],
        ),
        (
            "block override: base fee (a priced call)",
            vec![
                json!({"from": alice_s, "to": stranger, "gasPrice": "0x3b9aca00"}),
                json!("latest"),
                json!({stranger.as_str().expect("address"): {"code": returning("48")}}),
                json!({"baseFeePerGas": "0x10"}),
            ],
        ),
        (
            "block override: gas limit",
            vec![
                json!({"to": stranger}),
                json!("latest"),
                json!({stranger.as_str().expect("address"): {"code": returning("45")}}),
                json!({"gasLimit": "0x2000000"}),
            ],
        ),
        (
            "state and stateDiff",
            vec![
                json!({"to": stranger}),
                json!("latest"),
                json!({stranger.as_str().expect("address"): {"state": {}, "stateDiff": {}}}),
            ],
        ),
        (
            "unknown override field",
            vec![
                json!({"to": stranger}),
                json!("latest"),
                json!({stranger.as_str().expect("address"): {"balanse": "0x1"}}),
            ],
        ),
        (
            "bad override address",
            vec![
                json!({"to": stranger}),
                json!("latest"),
                json!({"0x1234": {}}),
            ],
        ),
        (
            "overrides not an object",
            vec![json!({"to": stranger}), json!("latest"), json!([])],
        ),
        (
            "unsupported block override",
            vec![
                json!({"to": stranger}),
                json!("latest"),
                json!({}),
                json!({"blobBaseFee": "0x1"}),
            ],
        ),
    ] {
        rec.ask(label, "eth_call", params).await;
    }
    for (label, params) in [
        (
            "transfer from an overridden balance",
            vec![
                json!({"from": stranger, "to": bob_s, "value": "0xde0b6b3a7640000"}),
                json!("latest"),
                json!({stranger.as_str().expect("address"): {"balance": "0xde0b6b3a7640000"}}),
            ],
        ),
        (
            "overridden code",
            vec![
                json!({"from": alice_s, "to": stranger}),
                json!("latest"),
                json!({stranger.as_str().expect("address"): {"code": returning("5f54")}}),
            ],
        ),
    ] {
        rec.ask(label, "eth_estimateGas", params).await;
    }
    // Nothing an override said was written.
    rec.ask(
        "stranger after overrides",
        "eth_getBalance",
        vec![stranger.clone(), json!("latest")],
    )
    .await;
    rec.ask(
        "stranger after overrides",
        "eth_getCode",
        vec![stranger.clone(), json!("latest")],
    )
    .await;

    for (label, params) in [
        (
            "token transfer",
            vec![
                json!({"from": alice_s, "to": token_s, "data": hex0x(&token_transfer(bob, 1))}),
                json!("latest"),
            ],
        ),
        (
            "balanceOf",
            vec![json!({"to": token_s, "data": balance_of})],
        ),
        (
            "plain transfer (nothing to list)",
            vec![json!({"from": alice_s, "to": bob_s, "value": "0x1"})],
        ),
        (
            "a revert",
            vec![json!({"from": alice_s, "to": token_s, "input": too_much})],
        ),
        ("an old height", vec![json!({"to": token_s}), json!("0x1")]),
        ("not an object", vec![json!("call")]),
        ("no params", vec![]),
    ] {
        rec.ask(label, "eth_createAccessList", params).await;
    }

    // Blocks.
    for name in [
        "transfer",
        "deploy",
        "token_transfer",
        "revert",
        "legacy",
        "eip2930",
        "skipped",
    ] {
        rec.ask(
            &format!("{name}, hashes"),
            "eth_getBlockByNumber",
            vec![json!(qty(at(name))), json!(false)],
        )
        .await;
        rec.ask(
            &format!("{name}, full"),
            "eth_getBlockByNumber",
            vec![json!(qty(at(name))), json!(true)],
        )
        .await;
    }
    for (label, params) in [
        ("latest", vec![json!("latest"), json!(false)]),
        ("pending, full", vec![json!("pending"), json!(true)]),
        ("earliest, full", vec![json!("earliest"), json!(true)]),
        ("no flag", vec![json!(qty(at("transfer")))]),
        ("no params", vec![]),
        ("JSON number", vec![json!(at("transfer")), json!(false)]),
        (
            "blockNumber object",
            vec![json!({"blockNumber": qty(at("deploy"))}), json!(false)],
        ),
        (
            "blockHash object",
            vec![json!({"blockHash": hash_of("deploy")}), json!(false)],
        ),
        ("beyond the tip", vec![json!("0xffffff"), json!(false)]),
        ("bad tag", vec![json!("yesterday"), json!(false)]),
        ("leading zero", vec![json!("0x01"), json!(false)]),
        ("empty hex", vec![json!("0x"), json!(false)]),
        ("flag not a bool", vec![json!("latest"), json!("yes")]),
        ("tag in capitals", vec![json!("Latest"), json!(false)]),
    ] {
        rec.ask(label, "eth_getBlockByNumber", params).await;
    }
    rec.ask_as(
        "safe",
        "eth_getBlockByNumber",
        vec![json!("safe"), json!(false)],
        true,
    )
    .await;
    rec.ask_as(
        "finalized, full",
        "eth_getBlockByNumber",
        vec![json!("finalized"), json!(true)],
        true,
    )
    .await;
    for (label, params) in [
        ("deploy, hashes", vec![hash_of("deploy"), json!(false)]),
        ("deploy, full", vec![hash_of("deploy"), json!(true)]),
        ("legacy, full", vec![hash_of("legacy"), json!(true)]),
        ("no flag", vec![hash_of("transfer")]),
        ("unknown", vec![unknown_hash.clone(), json!(false)]),
        ("short", vec![json!("0x00"), json!(false)]),
        ("no params", vec![]),
    ] {
        rec.ask(label, "eth_getBlockByHash", params).await;
    }
    for (label, params) in [
        ("transfer", vec![json!(qty(at("transfer")))]),
        ("tip (empty)", vec![json!("latest")]),
        ("earliest", vec![json!("earliest")]),
        ("beyond the tip", vec![json!("0xffffff")]),
        ("no params", vec![]),
        ("bad tag", vec![json!("soon")]),
    ] {
        rec.ask(label, "eth_getBlockTransactionCountByNumber", params)
            .await;
    }

    // Transactions and receipts.
    for name in [
        "transfer",
        "deploy",
        "token_transfer",
        "revert",
        "legacy",
        "eip2930",
        "skipped",
    ] {
        rec.ask(name, "eth_getTransactionByHash", vec![tx_of(name)])
            .await;
        rec.ask(name, "eth_getTransactionReceipt", vec![tx_of(name)])
            .await;
    }
    for (label, params) in [
        ("pooled", vec![pooled_hash.clone()]),
        ("unknown", vec![unknown_hash.clone()]),
        ("short", vec![json!("0x1234")]),
        ("no params", vec![]),
    ] {
        rec.ask(label, "eth_getTransactionByHash", params.clone())
            .await;
        rec.ask(label, "eth_getTransactionReceipt", params).await;
    }

    // Logs.
    let from_deploy = json!(qty(at("deploy")));
    for (label, params) in [
        (
            "token, all blocks",
            vec![json!({"fromBlock": "0x0", "toBlock": "latest", "address": token_s})],
        ),
        (
            "address list",
            vec![json!({"fromBlock": "earliest", "address": [stranger, token_s]})],
        ),
        (
            "another address",
            vec![json!({"fromBlock": "0x0", "address": stranger})],
        ),
        (
            "first topic",
            vec![json!({"fromBlock": from_deploy, "topics": [transfer_topic]})],
        ),
        (
            "second topic only",
            vec![json!({"fromBlock": from_deploy, "topics": [null, word(alice)]})],
        ),
        (
            "topic alternatives",
            vec![
                json!({"fromBlock": "0x0", "topics": [[unknown_hash, transfer_topic], null, [word(bob)]]}),
            ],
        ),
        (
            "no matching topic",
            vec![json!({"fromBlock": "0x0", "topics": [unknown_hash]})],
        ),
        (
            "one block by number",
            vec![
                json!({"fromBlock": qty(at("token_transfer")), "toBlock": qty(at("token_transfer"))}),
            ],
        ),
        (
            "one block by hash",
            vec![json!({"blockHash": hash_of("token_transfer")})],
        ),
        (
            "a block without logs",
            vec![json!({"blockHash": hash_of("transfer")})],
        ),
        (
            "unknown block hash",
            vec![json!({"blockHash": unknown_hash})],
        ),
        (
            "to beyond the tip",
            vec![json!({"fromBlock": from_deploy, "toBlock": "0xffffff"})],
        ),
        (
            "from after to",
            vec![json!({"fromBlock": "latest", "toBlock": from_deploy})],
        ),
        ("empty filter (latest only)", vec![json!({})]),
        ("no params", vec![]),
        (
            "five topics",
            vec![json!({"topics": [null, null, null, null, null]})],
        ),
        (
            "topic not 32 bytes",
            vec![json!({"fromBlock": "0x0", "topics": ["0x1234"]})],
        ),
        ("not an object", vec![json!("logs please")]),
        ("tag in capitals", vec![json!({"fromBlock": "LATEST"})]),
    ] {
        rec.ask(label, "eth_getLogs", params).await;
    }

    // Blocks' transactions and receipts by position.
    for (label, params) in [
        ("deploy", vec![hash_of("deploy")]),
        ("unknown", vec![unknown_hash.clone()]),
        ("short", vec![json!("0x00")]),
        ("no params", vec![]),
    ] {
        rec.ask(label, "eth_getBlockTransactionCountByHash", params)
            .await;
    }
    for (label, params) in [
        ("deploy, 0", vec![json!(qty(at("deploy"))), json!("0x0")]),
        ("eip2930, 0", vec![json!(qty(at("eip2930"))), json!(0)]),
        (
            "deploy, 1 (beyond)",
            vec![json!(qty(at("deploy"))), json!("0x1")],
        ),
        ("latest (empty), 0", vec![json!("latest"), json!("0x0")]),
        ("beyond the tip", vec![json!("0xffffff"), json!("0x0")]),
        ("bad index", vec![json!(qty(at("deploy"))), json!("one")]),
        ("missing index", vec![json!(qty(at("deploy")))]),
        ("no params", vec![]),
    ] {
        rec.ask(label, "eth_getTransactionByBlockNumberAndIndex", params)
            .await;
    }
    for (label, params) in [
        ("legacy, 0", vec![hash_of("legacy"), json!("0x0")]),
        ("legacy, 1 (beyond)", vec![hash_of("legacy"), json!("0x1")]),
        ("unknown", vec![unknown_hash.clone(), json!("0x0")]),
        ("short hash", vec![json!("0x00"), json!("0x0")]),
        ("missing index", vec![hash_of("legacy")]),
    ] {
        rec.ask(label, "eth_getTransactionByBlockHashAndIndex", params)
            .await;
    }
    for (label, params) in [
        ("token_transfer", vec![json!(qty(at("token_transfer")))]),
        ("skipped", vec![json!(qty(at("skipped")))]),
        ("deploy by hash", vec![hash_of("deploy")]),
        (
            "revert by blockHash object",
            vec![json!({"blockHash": hash_of("revert")})],
        ),
        ("latest (empty)", vec![json!("latest")]),
        ("earliest", vec![json!("earliest")]),
        ("beyond the tip", vec![json!("0xffffff")]),
        ("unknown hash", vec![unknown_hash.clone()]),
        ("bad tag", vec![json!("soon")]),
        ("no params", vec![]),
    ] {
        rec.ask(label, "eth_getBlockReceipts", params).await;
    }
    rec.ask("no keys", "eth_accounts", vec![]).await;

    // The executor's own view of a block.
    for (label, params) in [
        ("token transfer", vec![json!(qty(at("token_transfer")))]),
        ("latest", vec![json!("latest")]),
        ("genesis", vec![json!(0)]),
        ("beyond the tip", vec![json!("0xffffff")]),
        ("bad tag", vec![json!("now")]),
    ] {
        rec.ask(label, "lazy_getExecution", params).await;
    }

    check_history(
        &rec,
        &History {
            alice,
            bob,
            token,
            transfer: at("transfer"),
            deploy: at("deploy"),
            token_transfer: at("token_transfer"),
            legacy: at("legacy"),
            nonces: receipts[..6].iter().map(|(_, r)| height_of(r)).collect(),
        },
    )
    .await;

    let answers = Value::Array(std::mem::take(&mut rec.answers));
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(GOLDEN);
    if std::env::var_os("LAZYCHAIN_UPDATE_RPC_ANSWERS").is_some_and(|v| v == "1") {
        let text = serde_json::to_string_pretty(&answers).expect("serialize") + "\n";
        std::fs::write(&path, text).expect("write the golden file");
        return;
    }
    let golden: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read the golden file"))
            .expect("golden file is JSON");
    let (Value::Array(got), Value::Array(want)) = (&answers, &golden) else {
        panic!("answers are lists");
    };
    let mut differences = Vec::new();
    for (i, want) in want.iter().enumerate() {
        match got.get(i) {
            Some(got) if got == want => {}
            Some(got) => differences.push(format!(
                "#{i} {} {}:\n  want {want}\n  got  {got}",
                want["method"], want["ask"]
            )),
            None => differences.push(format!("#{i} missing: {want}")),
        }
    }
    for extra in got.iter().skip(want.len()) {
        differences.push(format!("not in the golden file: {extra}"));
    }
    assert!(
        differences.is_empty(),
        "{} answers differ from {GOLDEN} (LAZYCHAIN_UPDATE_RPC_ANSWERS=1 rewrites it):\n{}",
        differences.len(),
        differences.join("\n")
    );
}
