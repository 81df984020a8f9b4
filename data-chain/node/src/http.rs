//! Plain HTTP endpoints for operators and orchestrators: `/health` (the process is alive),
//! `/ready` (caught up and connected; 503 with a JSON reason otherwise) and `/metrics`
//! (Prometheus text).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tracing::debug;

use crate::shared::NotReady;

/// What the endpoints report; implemented by validators and (later) executors.
pub trait Health: Send + Sync + 'static {
    /// `Ok` when the node can serve; otherwise the reason.
    fn readiness(&self) -> Result<(), NotReady>;
}

impl Health for crate::shared::NodeShared {
    fn readiness(&self) -> Result<(), NotReady> {
        crate::shared::NodeShared::readiness(self)
    }
}

fn reply(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    if let Ok(v) = content_type.parse() {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

fn route<H: Health>(path: &str, health: &H) -> Response<Full<Bytes>> {
    match path {
        "/health" => reply(
            StatusCode::OK,
            "application/json",
            r#"{"status":"ok"}"#.into(),
        ),
        "/ready" => match health.readiness() {
            Ok(()) => reply(
                StatusCode::OK,
                "application/json",
                r#"{"ready":true}"#.into(),
            ),
            Err(reason) => reply(
                StatusCode::SERVICE_UNAVAILABLE,
                "application/json",
                serde_json::json!({ "ready": false, "reason": reason.to_string() }).to_string(),
            ),
        },
        "/metrics" => reply(
            StatusCode::OK,
            "text/plain; version=0.0.4",
            crate::metrics::export(),
        ),
        _ => reply(StatusCode::NOT_FOUND, "text/plain", "not found\n".into()),
    }
}

/// Binds `addr` and serves the endpoints until the runtime stops. Returns the bound address.
pub async fn serve<H: Health>(addr: SocketAddr, health: Arc<H>) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let health = health.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                    let resp = route(req.uri().path(), health.as_ref());
                    async move { Ok::<_, Infallible>(resp) }
                });
                if let Err(e) = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await
                {
                    debug!(error = %e, "http connection ended with an error");
                }
            });
        }
    });
    Ok(local)
}
