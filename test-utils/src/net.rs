//! Talking to running nodes: JSON-RPC calls and subscriptions, plain HTTP, and polling for a
//! condition until a deadline.

use std::future::Future;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use alloy_primitives::U256;
use jsonrpsee::core::client::{ClientT, Subscription, SubscriptionClientT};
use jsonrpsee::core::params::ArrayParams;
use jsonrpsee::core::ClientError;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::ws_client::{WsClient, WsClientBuilder};
use serde_json::Value;

/// A JSON-RPC error answer (code 0: the call got no answer, e.g. the node is down).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcFailure {
    pub code: i32,
    pub message: String,
}

/// An HTTP JSON-RPC client of `url` whose requests give up after `timeout`.
pub fn client(url: &str, timeout: Duration) -> HttpClient {
    HttpClientBuilder::default()
        .request_timeout(timeout)
        .build(url)
        .unwrap_or_else(|e| panic!("JSON-RPC client of {url}: {e}"))
}

/// Calls `method`; an error answer keeps its code and message.
pub async fn call(
    client: &HttpClient,
    method: &str,
    params: ArrayParams,
) -> Result<Value, RpcFailure> {
    client
        .request::<Value, _>(method, params)
        .await
        .map_err(|e| match e {
            ClientError::Call(obj) => RpcFailure {
                code: obj.code(),
                message: obj.message().to_string(),
            },
            other => RpcFailure {
                code: 0,
                message: other.to_string(),
            },
        })
}

/// A JSON-RPC quantity (`"0x1a"`) as a number; `None` if `v` is not one or does not fit.
pub fn quantity(v: &Value) -> Option<u64> {
    u64::from_str_radix(v.as_str()?.strip_prefix("0x")?, 16).ok()
}

/// A JSON-RPC quantity as a 256-bit number (balances, values); `None` if `v` is not one.
pub fn quantity_u256(v: &Value) -> Option<U256> {
    U256::from_str_radix(v.as_str()?.strip_prefix("0x")?, 16).ok()
}

/// Subscribes to `method` over the WebSocket at `ws_url` (`unsubscribe` ends it). Keep the
/// client as long as the subscription: dropping it closes the connection.
pub async fn subscribe(
    ws_url: &str,
    method: &str,
    unsubscribe: &str,
) -> (WsClient, Subscription<Value>) {
    let ws = WsClientBuilder::default()
        .build(ws_url)
        .await
        .unwrap_or_else(|e| panic!("WebSocket {ws_url}: {e}"));
    let subscription = ws
        .subscribe(method, ArrayParams::new(), unsubscribe)
        .await
        .unwrap_or_else(|e| panic!("{method} at {ws_url}: {e}"));
    (ws, subscription)
}

/// Runs `check` every `every` until it returns `Some`, and returns that; `None` once
/// `deadline` has passed since the first check without one. `check` runs at least once.
pub async fn poll_until<T, F, Fut>(deadline: Duration, every: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if start.elapsed() >= deadline {
            return None;
        }
        tokio::time::sleep(every).await;
    }
}

/// A plain HTTP/1.1 GET of `path` on `host` (`ip:port`); returns the status code and body.
pub fn http_get(host: &str, path: &str) -> (u16, String) {
    http_exchange(
        host,
        &format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
    )
}

/// A plain HTTP/1.1 POST of `body` to `/` on `host`, with `content_type` as its
/// `Content-Type` header (`None`: no such header); returns the status code and body.
pub fn http_post(host: &str, content_type: Option<&str>, body: &str) -> (u16, String) {
    let content_type = content_type
        .map(|t| format!("Content-Type: {t}\r\n"))
        .unwrap_or_default();
    http_exchange(
        host,
        &format!(
            "POST / HTTP/1.1\r\nHost: {host}\r\n{content_type}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

fn http_exchange(host: &str, request: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(host).unwrap_or_else(|e| panic!("connect {host}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("set read timeout");
    stream.write_all(request.as_bytes()).expect("send request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read response");
    let text = String::from_utf8(raw).expect("response is UTF-8");
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no header/body separator in:\n{text}"));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status code in:\n{head}"));
    (status, body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[tokio::test]
    async fn poll_until_returns_the_first_answer() {
        let calls = Cell::new(0);
        let got = poll_until(Duration::from_secs(5), Duration::from_millis(1), || {
            calls.set(calls.get() + 1);
            let n = calls.get();
            async move { (n == 3).then_some(n) }
        })
        .await;
        assert_eq!(got, Some(3));
    }

    #[tokio::test]
    async fn poll_until_gives_up_after_the_deadline_having_checked_once() {
        let calls = Cell::new(0);
        let got: Option<()> = poll_until(Duration::ZERO, Duration::from_millis(1), || {
            calls.set(calls.get() + 1);
            async { None }
        })
        .await;
        assert_eq!(got, None);
        assert_eq!(calls.get(), 1);
    }

    #[tokio::test]
    async fn a_call_to_nobody_fails_with_code_0() {
        // Port 9 (discard) on loopback: nothing listens there in a test environment.
        let c = client("http://127.0.0.1:9", Duration::from_secs(2));
        let err = call(&c, "lazy_status", ArrayParams::new())
            .await
            .expect_err("no node");
        assert_eq!(err.code, 0);
    }

    #[test]
    fn quantities() {
        assert_eq!(quantity(&Value::from("0x1a")), Some(26));
        assert_eq!(quantity(&Value::from("0x0")), Some(0));
        assert_eq!(quantity(&Value::from("1a")), None);
        assert_eq!(quantity(&Value::from(26)), None);
        assert_eq!(quantity(&Value::from("0x1ffffffffffffffff")), None);
        assert_eq!(
            quantity_u256(&Value::from("0x1ffffffffffffffff")),
            Some(U256::from(u64::MAX) * U256::from(2) + U256::from(1))
        );
    }

    #[test]
    fn http_get_reads_status_and_body() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let host = listener.local_addr().expect("addr").to_string();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().expect("accept");
            // Read the whole request first: closing a socket with unread bytes makes the
            // kernel reset the connection, and the client would see that instead of the answer.
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = s.read(&mut buf).expect("read");
                assert!(n > 0, "the client closed before ending its request");
                request.extend_from_slice(&buf[..n]);
            }
            s.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n\r\nno")
                .expect("write");
        });
        assert_eq!(http_get(&host, "/ready"), (503, "no".to_string()));
        server.join().expect("server");
    }
}
