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
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::task::AbortHandle;

use super::accept::{Gate, accept_next};
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

/// What one HTTP server will hold for its clients. Worst case: `max_connections` ×
/// (`max_header_bytes` while headers are read, then a request body of at most the router's
/// body limit, 2 MiB by axum's default and `PoolRouting::max_body` for pool routes).
#[derive(Clone, Debug)]
pub struct HttpLimits {
    /// Connections open at once; more are closed at accept.
    pub max_connections: usize,
    /// TLS handshakes in progress at once (`serve_tls`); more are closed at accept.
    pub max_handshakes: usize,
    /// A client must send its request headers within this time, or the connection is closed
    /// (slow-header clients cannot hold connections).
    pub header_read_timeout: Duration,
    /// The most a connection buffers while reading headers (at least 8 KiB).
    pub max_header_bytes: usize,
}

impl Default for HttpLimits {
    /// 10,000 connections, 128 concurrent handshakes, headers within 10 s and 64 KiB.
    fn default() -> Self {
        HttpLimits {
            max_connections: 10_000,
            max_handshakes: 128,
            header_read_timeout: Duration::from_secs(10),
            max_header_bytes: 64 << 10,
        }
    }
}

/// Serves `router` over plain HTTP on `addr`, with [`HttpLimits::default`].
///
/// # Errors
/// Binding failed.
pub async fn serve(addr: SocketAddr, router: Router) -> io::Result<HttpServer> {
    serve_limited(addr, router, HttpLimits::default()).await
}

/// Serves `router` over plain HTTP on `addr` within `limits`.
///
/// # Errors
/// Binding failed.
pub async fn serve_limited(
    addr: SocketAddr,
    router: Router,
    limits: HttpLimits,
) -> io::Result<HttpServer> {
    let listener = super::accept::bind(addr)?;
    let local = listener.local_addr()?;
    let gate = Gate::new(limits.max_connections, limits.max_handshakes);
    let task = crate::table::spawn(async move {
        loop {
            let (stream, peer) = accept_next(&listener).await;
            let Some(place) = gate.admit(peer) else {
                continue;
            };
            let (router, limits) = (router.clone(), limits.clone());
            crate::table::spawn(async move {
                serve_connection(stream, peer, router, &limits).await;
                drop(place);
            });
        }
    })
    .abort_handle();
    Ok(HttpServer { local, task })
}

/// Serves `router` over HTTPS on `addr`, with [`HttpLimits::default`]. A failed handshake (or
/// one taking over 10 s) ends that connection only, and is logged.
///
/// # Errors
/// Binding failed, or the certificate and key do not match.
pub async fn serve_tls(addr: SocketAddr, router: Router, tls: TlsConfig) -> io::Result<HttpServer> {
    serve_tls_limited(addr, router, tls, HttpLimits::default()).await
}

/// As [`serve_tls`], within `limits`.
///
/// # Errors
/// Binding failed, or the certificate and key do not match.
pub async fn serve_tls_limited(
    addr: SocketAddr,
    router: Router,
    tls: TlsConfig,
    limits: HttpLimits,
) -> io::Result<HttpServer> {
    let acceptor = tls.acceptor(&[b"h2".as_slice(), b"http/1.1".as_slice()])?;
    let listener = super::accept::bind(addr)?;
    let local = listener.local_addr()?;
    let gate = Gate::new(limits.max_connections, limits.max_handshakes);
    let task = crate::table::spawn(async move {
        loop {
            let (stream, peer) = accept_next(&listener).await;
            let Some(place) = gate.admit(peer) else {
                continue;
            };
            let Some(handshaking) = gate.handshake(peer) else {
                continue;
            };
            let (acceptor, router, limits) = (acceptor.clone(), router.clone(), limits.clone());
            crate::table::spawn(async move {
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
                drop(handshaking);
                serve_connection(stream, peer, router, &limits).await;
                drop(place);
            });
        }
    })
    .abort_handle();
    Ok(HttpServer { local, task })
}

/// One HTTP/1.1 or HTTP/2 connection, with WebSocket upgrades, a header-read timeout and a
/// header buffer limit.
async fn serve_connection<S>(stream: S, peer: SocketAddr, router: Router, limits: &HttpLimits)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let service = hyper_util::service::TowerToHyperService::new(router);
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192));
    builder.http2().timer(TokioTimer::new());
    let served = builder
        .serve_connection_with_upgrades(TokioIo::new(stream), service)
        .await;
    if let Err(e) = served {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}
