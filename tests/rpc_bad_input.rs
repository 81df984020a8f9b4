//! Bad input over JSON-RPC gets a clear error and changes nothing: malformed RLP, wrong chain
//! id, bad signature, oversized and underpriced transactions, wrong parameter types, unknown
//! methods. Requests without `params` are accepted.

mod common;

use common::*;
use jsonrpsee::rpc_params;
use serde_json::Value;

async fn mempool_size(net: &TestNet) -> u64 {
    net.call(0, "lazy_status", rpc_params![])
        .await
        .expect("status")["mempoolSize"]
        .as_u64()
        .expect("size")
}

/// Submits `raw`, expects geth's "transaction rejected" code, returns the message.
async fn rejected(net: &TestNet, raw: &[u8]) -> String {
    let err = net
        .call(0, "eth_sendRawTransaction", rpc_params![hex0x(raw)])
        .await
        .expect_err("must be rejected");
    assert_eq!(err.code, -32000, "{err:?}");
    err.message
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_transactions_are_rejected_and_change_nothing() {
    let net = TestNet::start(1);
    net.wait_height(0, 1).await;
    let good = transfer(&dev_key(2), CHAIN_ID, 0, 2_000_000_000);

    let err = rejected(&net, &[0xf8, 0x01, 0x02]).await;
    assert!(err.contains("rlp"), "{err}");

    let err = rejected(&net, &transfer(&dev_key(2), CHAIN_ID + 1, 0, 2_000_000_000)).await;
    assert!(err.contains("chain id"), "{err}");

    let err = rejected(&net, &transfer(&dev_key(2), CHAIN_ID, 0, 1)).await;
    assert!(err.contains("underpriced"), "{err}");

    // A signature whose r is not below the curve order recovers no key at all. The encoding
    // ends with r (0xa0 ‖ 32 bytes) then s (0xa0 ‖ 32 bytes).
    let mut bad_sig = good.clone();
    let n = bad_sig.len();
    assert_eq!(
        bad_sig[n - 66],
        0xa0,
        "r is a full 32-byte string in this fixture"
    );
    bad_sig[n - 65..n - 33].fill(0xff);
    let err = rejected(&net, &bad_sig).await;
    assert!(err.contains("invalid sender"), "{err}");

    // 0x00 followed by a legacy transaction is a second encoding of the same transaction.
    let mut prefixed = vec![0u8];
    prefixed.extend_from_slice(&good);
    let err = rejected(&net, &prefixed).await;
    assert!(err.contains("non-canonical"), "{err}");

    let err = rejected(&net, &vec![0xc0; 200 * 1024]).await;
    assert!(err.contains("oversized") || err.contains("size"), "{err}");

    let err = net
        .call(0, "eth_sendRawTransaction", rpc_params!["0xzz"])
        .await
        .expect_err("bad hex");
    assert_eq!(err.code, -32602, "{err:?}");
    let err = net
        .call(0, "eth_sendRawTransaction", rpc_params![42])
        .await
        .expect_err("wrong type");
    assert_eq!(err.code, -32602, "{err:?}");

    assert_eq!(
        mempool_size(&net).await,
        0,
        "nothing bad reached the mempool"
    );

    // The node keeps working: a good transaction goes through.
    let ok: Value = net
        .call(0, "eth_sendRawTransaction", rpc_params![hex0x(&good)])
        .await
        .expect("good transaction accepted");
    assert!(ok.as_str().is_some_and(|h| h.starts_with("0x")));
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_methods_and_missing_params() {
    let net = TestNet::start(1);
    net.wait_height(0, 1).await;
    let err = net
        .call(0, "eth_notAMethod", rpc_params![])
        .await
        .expect_err("unknown method");
    assert_eq!(err.code, -32601, "{err:?}");

    // A raw request without a `params` member, as cast sends it.
    let url = net.manifest.nodes[0].rpc_url.clone();
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(format!(
            "import urllib.request,sys;r=urllib.request.Request('{url}',data=b'{body}',headers={{'Content-Type':'application/json'}});print(urllib.request.urlopen(r).read().decode())"
        ))
        .output()
        .expect("python3 runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("\"result\":\"0x539\""),
        "eth_chainId without params: {text} {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let v = net
        .call(0, "net_version", rpc_params![])
        .await
        .expect("net_version");
    assert_eq!(v, Value::String(CHAIN_ID.to_string()));

    // Without a Content-Type a request is read as JSON (anvil does); another type is refused.
    let host = url.trim_start_matches("http://");
    let (status, answer) = lazychain_test_utils::net::http_post(host, None, body);
    assert_eq!(status, 200, "no Content-Type: {answer}");
    assert!(answer.contains("\"result\":\"0x539\""), "{answer}");
    let (status, _) = lazychain_test_utils::net::http_post(host, Some("text/html"), body);
    assert_eq!(status, 415);
    // A notification (no `id`) is acknowledged with an empty body, alone; in a batch it has
    // no entry.
    let notification = r#"{"jsonrpc":"2.0","method":"eth_chainId","params":[]}"#;
    let (status, answer) =
        lazychain_test_utils::net::http_post(host, Some("application/json"), notification);
    assert_eq!((status, answer.as_str()), (200, ""));
    let batch = format!("[{notification},{body}]");
    let (status, answer) =
        lazychain_test_utils::net::http_post(host, Some("application/json"), &batch);
    assert_eq!(status, 200);
    let answer: Value = serde_json::from_str(&answer).expect("a batch answer is JSON");
    assert_eq!(answer.as_array().map(Vec::len), Some(1), "{answer}");
}

/// Posts `body` to `url` as JSON (with python3, so the client adds no limit of its own) and
/// returns the answer's JSON.
fn post_json(url: &str, body: &str) -> Value {
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(
            "import urllib.request,sys;r=urllib.request.Request(sys.argv[1],data=sys.stdin.buffer.read(),headers={'Content-Type':'application/json'});print(urllib.request.urlopen(r).read().decode())",
        )
        .arg(url)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("stdin is piped")
                .write_all(body.as_bytes())?;
            child.wait_with_output()
        })
        .expect("python3 runs");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {} {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn batch_of(len: usize) -> String {
    let calls: Vec<String> = (0..len)
        .map(|id| format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"eth_chainId","params":[]}}"#))
        .collect();
    format!("[{}]", calls.join(","))
}

/// viem batches up to 1,000 calls by default: a batch that size is answered call by call, a
/// larger one is refused whole with jsonrpsee's "batch too large" error.
#[tokio::test(flavor = "multi_thread")]
async fn a_batch_of_a_thousand_calls_is_answered() {
    let net = TestNet::start(1);
    net.wait_height(0, 1).await;
    let url = net.manifest.nodes[0].rpc_url.clone();

    let answers = post_json(&url, &batch_of(1_000));
    let answers = answers.as_array().expect("a batch answer is a list");
    assert_eq!(answers.len(), 1_000);
    assert!(
        answers.iter().all(|a| a["result"] == "0x539"),
        "every call answered: {:?}",
        answers.iter().find(|a| a["result"] != "0x539")
    );

    let refused = post_json(&url, &batch_of(1_001));
    assert_eq!(refused["error"]["code"], -32010, "{refused}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_claims_and_state_queries_are_refused_and_change_nothing() {
    let net = TestNet::start(1);
    net.wait_height(0, 2).await;
    let before = net
        .call(0, "lazy_getStateConsensus", rpc_params![])
        .await
        .expect("state consensus");
    // Not hex, truncated, and a well-formed container whose claim nobody signed.
    let mut unsigned = vec![0u8; 268];
    unsigned.extend_from_slice(&272u32.to_le_bytes());
    for bad in ["zz".to_owned(), "0x1234".to_owned(), hex0x(&unsigned)] {
        let e = net
            .call(0, "lazy_submitClaim", rpc_params![bad.clone()])
            .await
            .expect_err("refused");
        assert_eq!(e.code, -32602, "{bad}: {e:?}");
    }
    for bad in [rpc_params!["yesterday"], rpc_params![true]] {
        let e = net
            .call(0, "lazy_getClaims", bad)
            .await
            .expect_err("refused");
        assert_eq!(e.code, -32602, "{e:?}");
    }
    let e = net
        .call(0, "lazy_getFraudProofs", rpc_params![10, 5])
        .await
        .expect_err("descending range");
    assert_eq!(e.code, -32602, "{e:?}");
    let e = net
        .call(0, "lazy_submitFraudProof", rpc_params!["0x00", "0x1234"])
        .await
        .expect_err("short submitter");
    assert_eq!(e.code, -32602, "{e:?}");
    // Equivocation evidence (kind 4: two 268-byte signed claims) that is not equivocation:
    // the two claims name different executors, neither registered.
    let mut evidence = vec![4u8];
    evidence.extend_from_slice(&5u32.to_le_bytes());
    evidence.extend_from_slice(&[1u8; 268]);
    evidence.extend_from_slice(&[2u8; 268]);
    let e = net
        .call(0, "lazy_submitFraudProof", rpc_params![hex0x(&evidence)])
        .await
        .expect_err("not equivocation");
    assert_eq!(e.code, -32602, "{e:?}");
    assert!(e.message.contains("not equivocation evidence"), "{e:?}");
    // Nothing was pooled or recorded; the node still answers.
    let after = net
        .call(0, "lazy_getStateConsensus", rpc_params![])
        .await
        .expect("state consensus");
    assert_eq!(after["pooledClaims"], 0);
    assert_eq!(after["pooledFraudProofs"], 0);
    assert_eq!(before["bonds"], after["bonds"]);
    let empty = net
        .call(0, "lazy_getClaims", rpc_params![1])
        .await
        .expect("claims");
    assert_eq!(empty["claims"], serde_json::json!([]));
}
