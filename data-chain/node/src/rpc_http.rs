//! What the JSON-RPC server does at the HTTP level beyond jsonrpsee, so that clients written
//! against geth and anvil see what they expect: a `POST` without `Content-Type` is read as
//! JSON (anvil reads it; jsonrpsee alone refuses it with 415), and a notification (a request
//! without `id`) is acknowledged with an empty body, not with `null`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http_body_util::BodyExt;
use hyper::body::Body as _;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, StatusCode};
use jsonrpsee::core::BoxError;
use jsonrpsee::server::{HttpBody, HttpRequest, HttpResponse};

/// Wraps the server's HTTP service in [`EthereumHttp`].
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct EthereumHttpLayer;

impl<S> tower::Layer<S> for EthereumHttpLayer {
    type Service = EthereumHttp<S>;

    fn layer(&self, inner: S) -> Self::Service {
        EthereumHttp { inner }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct EthereumHttp<S> {
    inner: S,
}

type ResponseFuture = Pin<Box<dyn Future<Output = Result<HttpResponse, BoxError>> + Send>>;

impl<S> tower::Service<HttpRequest> for EthereumHttp<S>
where
    S: tower::Service<HttpRequest, Response = HttpResponse, Error = BoxError>,
    S::Future: Send + 'static,
{
    type Response = HttpResponse;
    type Error = BoxError;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: HttpRequest) -> Self::Future {
        if request.method() == Method::POST && !request.headers().contains_key(CONTENT_TYPE) {
            request
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        let response = self.inner.call(request);
        Box::pin(async move { Ok(acknowledge_notifications(response.await?).await) })
    }
}

/// jsonrpsee answers a single notification with the body `null`; an answer to a call is an
/// object and to a batch an array, so a whole body of `null` is a notification's, and it gets
/// no body, as in geth.
async fn acknowledge_notifications(response: HttpResponse) -> HttpResponse {
    if response.status() != StatusCode::OK || response.body().size_hint().exact() != Some(4) {
        return response;
    }
    let (parts, body) = response.into_parts();
    match body.collect().await {
        Ok(collected) => {
            let bytes = collected.to_bytes();
            let body = if bytes.as_ref() == b"null" {
                HttpBody::empty()
            } else {
                HttpBody::from(bytes.to_vec())
            };
            HttpResponse::from_parts(parts, body)
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot read a JSON-RPC response body");
            let mut failed = HttpResponse::new(HttpBody::empty());
            *failed.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            failed
        }
    }
}
