//! HTTP and HTTPS (feature `http`). Two ways in, both typed:
//!
//! - call actors from ordinary axum handlers, and let [`CallRejection`] map a failed call to
//!   `503` (unavailable, overloaded) or `504` (timeout);
//! - route requests into a [`Pool`] as messages with [`pool_router`]: a full pool answers
//!   `503` at once instead of queueing.
//!
//! [`serve`] and [`serve_tls`] run a router; [`TlsConfig::self_signed`] makes a certificate at
//! start when none is given.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use axum;
use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tokio::task::AbortHandle;

pub use super::tls::TlsConfig;
use crate::actor::Actor;
use crate::call::Call;
use crate::error::CallError;
use crate::pool::Pool;

/// The status a failed call maps to: `504 Gateway Timeout` for a timeout, `503 Service
/// Unavailable` for everything else (overloaded pool, stopped actor, dropped reply).
#[must_use]
pub fn status_for(error: &CallError) -> StatusCode {
    match error {
        CallError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// A failed call as an HTTP response: the status of [`status_for`] and a JSON body
/// `{"error": "..."}`. Return `Result<_, CallRejection>` from an axum handler and use `?` on
/// calls.
#[derive(Debug)]
pub struct CallRejection(pub CallError);

impl From<CallError> for CallRejection {
    fn from(error: CallError) -> Self {
        CallRejection(error)
    }
}

impl IntoResponse for CallRejection {
    fn into_response(self) -> Response {
        let mut response = HttpResponse::json(
            status_for(&self.0),
            &serde_json::json!({ "error": self.0.to_string() }),
        )
        .into_response();
        if matches!(self.0, CallError::Overloaded) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

/// An HTTP request as a message: owned, so it can travel to an actor.
#[derive(Clone, Debug)]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The URI (path and query).
    pub uri: Uri,
    /// The headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

impl HttpRequest {
    /// The value of the query parameter `key` (keys and values percent-decoded), if present.
    #[must_use]
    pub fn query(&self, key: &str) -> Option<String> {
        let query = self.uri.query()?;
        query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k) == key).then(|| percent_decode(v))
        })
    }
}

fn percent_decode(text: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = match bytes[i] {
            b'+' => Some((b' ', 1)),
            b'%' => match (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            ) {
                (Some(h), Some(l)) => Some((h * 16 + l, 3)),
                _ => None,
            },
            _ => None,
        };
        let (byte, width) = decoded.unwrap_or((bytes[i], 1));
        out.push(byte);
        i += width;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An HTTP response built by an actor.
#[derive(Clone, Debug)]
pub struct HttpResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl HttpResponse {
    /// A JSON response.
    pub fn json<T: serde::Serialize + ?Sized>(status: StatusCode, value: &T) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        let body = match serde_json::to_vec(value) {
            Ok(body) => body,
            Err(e) => {
                return HttpResponse::text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("response not serialisable: {e}"),
                );
            }
        };
        HttpResponse {
            status,
            headers,
            body: body.into(),
        }
    }

    /// A plain-text response.
    pub fn text(status: StatusCode, text: impl Into<String>) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        HttpResponse {
            status,
            headers,
            body: Bytes::from(text.into()),
        }
    }
}

impl IntoResponse for HttpResponse {
    fn into_response(self) -> Response {
        (self.status, self.headers, self.body).into_response()
    }
}

/// How [`pool_router`] hands requests to the pool.
#[derive(Clone, Copy, Debug)]
pub struct PoolRouting {
    /// Larger bodies are answered `413 Payload Too Large` without reaching the pool.
    pub max_body: usize,
    /// A call not answered in time is answered `504`.
    pub timeout: Duration,
}

impl Default for PoolRouting {
    fn default() -> Self {
        PoolRouting {
            max_body: 1 << 20,
            timeout: Duration::from_secs(5),
        }
    }
}

/// A router that turns every request into a call on `pool` (`call` picks the handler, e.g.
/// `|pool, req| pool.serve(req)`). A full pool answers `503` with `Retry-After` at once;
/// nothing queues without bound.
pub fn pool_router<W, F>(pool: Pool<W>, routing: PoolRouting, call: F) -> Router
where
    W: Actor,
    W::Args: Clone + Sync,
    F: for<'a> Fn(&'a Pool<W>, HttpRequest) -> Call<'a, W::Msg, HttpResponse>
        + Clone
        + Send
        + Sync
        + 'static,
{
    let pool = Arc::new(pool);
    Router::new().fallback(move |request: axum::extract::Request| {
        let pool = pool.clone();
        let call = call.clone();
        async move {
            let (parts, body) = request.into_parts();
            let Ok(body) = axum::body::to_bytes(body, routing.max_body).await else {
                return HttpResponse::text(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("request body larger than {} bytes", routing.max_body),
                )
                .into_response();
            };
            let request = HttpRequest {
                method: parts.method,
                uri: parts.uri,
                headers: parts.headers,
                body,
            };
            match call(&pool, request).timeout(routing.timeout).await {
                Ok(response) => response.into_response(),
                Err(error) => CallRejection(error).into_response(),
            }
        }
    })
}

/// A running HTTP(S) server; stopped by [`HttpServer::stop`] or when dropped.
pub struct HttpServer {
    local: SocketAddr,
    task: AbortHandle,
}

impl fmt::Debug for HttpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpServer")
            .field("local", &self.local)
            .finish()
    }
}

impl HttpServer {
    /// The bound address.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Stops accepting connections.
    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Serves `router` over plain HTTP on `addr`.
///
/// # Errors
/// Binding failed.
pub async fn serve(addr: SocketAddr, router: Router) -> io::Result<HttpServer> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "http server stopped");
        }
    })
    .abort_handle();
    Ok(HttpServer { local, task })
}

/// Serves `router` over HTTPS on `addr`. A failed handshake (or one taking over 10 s) ends
/// that connection only, and is logged.
///
/// # Errors
/// Binding failed, or the certificate and key do not match.
pub async fn serve_tls(addr: SocketAddr, router: Router, tls: TlsConfig) -> io::Result<HttpServer> {
    let acceptor = tls.acceptor(&[b"h2".as_slice(), b"http/1.1".as_slice()])?;
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let (stream, peer) = super::tcp::accept_next(&listener).await;
            let acceptor = acceptor.clone();
            let router = router.clone();
            tokio::spawn(async move {
                let handshake =
                    tokio::time::timeout(super::tcp::HANDSHAKE_LIMIT, acceptor.accept(stream));
                let stream = match handshake.await {
                    Ok(Ok(s)) => s,
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(%peer, "TLS handshake timed out");
                        return;
                    }
                };
                let service = hyper_util::service::TowerToHyperService::new(router);
                let served = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection_with_upgrades(hyper_util::rt::TokioIo::new(stream), service)
                .await;
                if let Err(e) = served {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
            });
        }
    })
    .abort_handle();
    Ok(HttpServer { local, task })
}
