//! The web actor: the HTTPS query API (nearest vehicles), `/healthz` and `/metrics`. It starts
//! the query pool linked to itself, so the two live and restart together; with
//! `--query-node` it looks up the pool of that node instead and links to it, so a lost
//! connection stops the web actor (`NoConnection`) and its supervisor restarts it, which
//! looks the pool up again (for up to [`QUERY_NODE_WAIT`](crate::cluster::QUERY_NODE_WAIT)
//! per start).

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actor_runtime::Pool;
use actor_runtime::io::http::{CallRejection, HttpServer, serve_tls};
use actor_runtime::io::tls::TlsConfig;
use actor_runtime::node::Remote;
use actor_runtime::prelude::*;
use axum::Json;
use axum::Router;
use axum::extract::{Query as QueryString, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::query::{Query, QueryClient};
use crate::cluster;
use crate::settings::Settings;
use crate::telemetry;

/// Vehicles returned when the query does not say.
pub const DEFAULT_K: usize = 10;
/// Vehicles returned at most.
pub const MAX_K: usize = 1000;

/// Serves the HTTPS API; stopping it stops the server and the query pool.
#[derive(Debug)]
#[actor]
pub struct Web {
    server: HttpServer,
    _queries: Queries,
}

/// Where queries go: the pool this actor started, or the pool of the query node. Both are
/// called through the same generated client.
#[derive(Clone, Debug)]
enum Queries {
    Here(Pool<Query>),
    There(Remote<Query>),
}

impl Deref for Queries {
    type Target = QueryClient;

    fn deref(&self) -> &QueryClient {
        match self {
            Queries::Here(pool) => pool,
            Queries::There(remote) => remote,
        }
    }
}

#[derive(Clone)]
struct Api {
    queries: Queries,
    timeout: Duration,
}

#[actor]
impl Web {
    #[init]
    async fn init(settings: Arc<Settings>, ctx: &mut Ctx<Self>) -> Result<Self, String> {
        let queries = match (&settings.query_node, cluster::node()) {
            (Some((name, addr)), Some(node)) => {
                let remote = cluster::lookup_queries(&node, name)
                    .await
                    .map_err(|e| format!("query pool on node `{name}` at {addr}: {e}"))?;
                ctx.link(&remote);
                tracing::info!(node = %name, %addr, "queries go to the query node");
                Queries::There(remote)
            }
            (Some((name, _)), None) => {
                return Err(format!(
                    "--query-node {name} is set but this process has no node: start the app with trafficapp::start"
                ));
            }
            (None, _) => Queries::Here(
                Pool::<Query>::start_link(ctx, settings.query_workers.max(1), settings.clone())
                    .await
                    .map_err(|e| format!("query pool: {e}"))?,
            ),
        };
        let tls = match (&settings.cert, &settings.key) {
            (Some(cert), Some(key)) => TlsConfig::from_pem_files(cert, key),
            _ => TlsConfig::self_signed(&["localhost", "127.0.0.1"]),
        }
        .map_err(|e| format!("tls: {e}"))?;
        let api = Api {
            queries: queries.clone(),
            timeout: settings.query_timeout(),
        };
        let router = Router::new()
            .route("/", get(nearest))
            .route("/healthz", get(healthz))
            .route("/metrics", get(metrics))
            .with_state(api);
        let server = serve_tls(settings.https, router, tls)
            .await
            .map_err(|e| format!("cannot listen on https {}: {e}", settings.https))?;
        tracing::info!(https = %server.local_addr(), "query API up");
        Ok(Web {
            server,
            _queries: queries,
        })
    }

    /// The bound address.
    #[handle(call)]
    fn local_addr(&self) -> std::net::SocketAddr {
        self.server.local_addr()
    }
}

fn bad_request(message: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(serde_json::json!({ "error": message })),
    )
        .into_response()
}

/// A coordinate from the query string, finite and within `bound`.
fn coordinate(params: &HashMap<String, String>, key: &str, bound: f64) -> Result<f64, String> {
    let text = params
        .get(key)
        .ok_or_else(|| format!("missing `{key}`: give ?lon=..&lat=.. in degrees"))?;
    let value: f64 = text
        .parse()
        .map_err(|_| format!("`{key}` must be a number of degrees, got `{text}`"))?;
    if !value.is_finite() || value.abs() > bound {
        return Err(format!(
            "`{key}` must be within [-{bound}, {bound}], got `{text}`"
        ));
    }
    Ok(value)
}

async fn nearest(
    State(api): State<Api>,
    QueryString(params): QueryString<HashMap<String, String>>,
) -> Response {
    let started = Instant::now();
    let parsed = coordinate(&params, "lon", 180.0).and_then(|lon| {
        let lat = coordinate(&params, "lat", 90.0)?;
        let k = match params.get("k") {
            None => DEFAULT_K,
            Some(text) => match text.parse::<usize>() {
                Ok(k) if (1..=MAX_K).contains(&k) => k,
                _ => {
                    return Err(format!(
                        "`k` must be a whole number from 1 to {MAX_K}, got `{text}`"
                    ));
                }
            },
        };
        Ok((lon, lat, k))
    });
    let (lon, lat, k) = match parsed {
        Ok(query) => query,
        Err(message) => {
            metrics::counter!(telemetry::QUERIES, "status" => "400").increment(1);
            return bad_request(message);
        }
    };
    let response = match api.queries.nearest(lon, lat, k).timeout(api.timeout).await {
        Ok(Ok(found)) => Json(found).into_response(),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "query failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(serde_json::json!({ "error": e })),
            )
                .into_response()
        }
        Err(e) => CallRejection(e).into_response(),
    };
    metrics::counter!(telemetry::QUERIES, "status" => response.status().as_str().to_owned())
        .increment(1);
    metrics::histogram!(telemetry::QUERY_SECONDS).record(started.elapsed().as_secs_f64());
    response
}

async fn healthz(State(api): State<Api>) -> Response {
    match api.queries.count().timeout(api.timeout).await {
        Ok(Ok(vehicles)) => {
            Json(serde_json::json!({ "status": "ok", "vehicles": vehicles })).into_response()
        }
        Ok(Err(e)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": "store failing", "error": e })),
        )
            .into_response(),
        Err(e) => CallRejection(e).into_response(),
    }
}

async fn metrics() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        telemetry::metrics().render(),
    )
        .into_response()
}
