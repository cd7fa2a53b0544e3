//! Running the query pool on a node of its own.
//!
//! `trafficapp --serve-queries` starts a node that runs only the query pool and registers it
//! as [`QUERIES`]; `trafficapp --query-node NAME@HOST:PORT` starts the rest of the app with a
//! node of its own that reaches that pool. The web actor then looks the pool up instead of
//! starting one and calls it through the same generated client (`Queries` in the web actor):
//! the handlers do not know where the workers run.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use actor_runtime::Pool;
use actor_runtime::node::{Node, NodeConfig, NodeError, Remote};

use crate::actors::Query;
use crate::settings::Settings;
use crate::store::Location;

/// The name the query pool is registered under on its node.
pub const QUERIES: &str = "queries";

/// How long the web actor's start waits for the query node before it fails. Its supervisor
/// restarts it, so while the query node is away the HTTPS port is closed and reopens once
/// the node is back; a wait this long keeps those restarts under the supervisor's intensity
/// (five per five seconds), so an outage never takes the rest of the app down.
pub const QUERY_NODE_WAIT: Duration = Duration::from_secs(5);

/// The pause between two look-ups while waiting for the query node.
const RETRY_EVERY: Duration = Duration::from_millis(200);

/// Why a node of the app did not start.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// `--serve-queries` and `--query-node` need the shared secret.
    #[error("a node needs the cookie its peers share: give --cookie or TRAFFIC_COOKIE")]
    NoCookie,
    /// `--serve-queries` needs an address other nodes reach.
    #[error("--serve-queries needs --node-listen HOST:PORT, where the other nodes reach it")]
    NoListen,
    /// The node could not start (its listener, or the remote kinds linked in).
    #[error("cannot start node `{name}`: {error}")]
    Node {
        /// `--node-name`.
        name: String,
        /// Why.
        error: NodeError,
    },
    /// The store cannot be opened.
    #[error("store {store}: {error}")]
    Store {
        /// `--store`.
        store: String,
        /// Why.
        error: String,
    },
    /// The query pool could not start.
    #[error("query pool: {0}")]
    Pool(String),
    /// The pool could not be registered under [`QUERIES`].
    #[error("cannot register the query pool: {0}")]
    Register(NodeError),
}

/// A running query node: the node and the pool it serves.
#[derive(Debug)]
pub struct QueryNode {
    /// The node; its [`Node::local_addr`] is what `--query-node` names.
    pub node: Node,
    /// The query pool other nodes reach as [`QUERIES`].
    pub pool: Pool<Query>,
}

impl Drop for QueryNode {
    fn drop(&mut self) {
        self.node.shutdown();
    }
}

/// The node configuration the settings describe: name, cookie, listener and, with
/// `--query-node`, the route to the query node.
///
/// # Errors
/// [`ClusterError::NoCookie`] without a cookie.
pub fn config(settings: &Settings) -> Result<NodeConfig, ClusterError> {
    let cookie = settings.cookie.as_ref().ok_or(ClusterError::NoCookie)?;
    let mut config =
        NodeConfig::new(&settings.node_name, cookie.expose()).listen(settings.node_listen);
    if let Some((name, addr)) = &settings.query_node {
        config = config.route(name, *addr);
    }
    Ok(config)
}

/// Starts the node the settings describe.
async fn start_node(settings: &Settings) -> Result<Node, ClusterError> {
    Node::start(config(settings)?)
        .await
        .map_err(|error| ClusterError::Node {
            name: settings.node_name.clone(),
            error,
        })
}

/// Starts a node that serves the query pool, as `--serve-queries` does. The store is opened
/// once as a writer first, which creates its schema if the app has not yet, so the query
/// node may start before the app.
///
/// # Errors
/// No cookie or listen address, a listener that cannot bind, or a store that cannot be
/// opened.
pub async fn serve_queries(settings: Arc<Settings>) -> Result<QueryNode, ClusterError> {
    if settings.node_listen.is_none() {
        return Err(ClusterError::NoListen);
    }
    let store_error = |error: String| ClusterError::Store {
        store: settings.store.clone(),
        error,
    };
    let location = Location::parse(&settings.store).map_err(|e| store_error(e.to_string()))?;
    // The PostgreSQL client refuses to run on a runtime worker.
    tokio::task::spawn_blocking(move || location.writer().map(drop))
        .await
        .map_err(|e| store_error(e.to_string()))?
        .map_err(|e| store_error(e.to_string()))?;
    let node = start_node(&settings).await?;
    let pool = match Pool::<Query>::start(settings.query_workers.max(1), settings.clone()).await {
        Ok(pool) => pool,
        Err(e) => {
            node.shutdown();
            return Err(ClusterError::Pool(e.to_string()));
        }
    };
    let query_node = QueryNode { node, pool };
    query_node
        .node
        .register_pool(QUERIES, &query_node.pool)
        .map_err(ClusterError::Register)?;
    Ok(query_node)
}

/// The node of this process, when the app reaches its queries on another one.
static NODE: RwLock<Option<Node>> = RwLock::new(None);

/// Starts this process's node if `--query-node` asks for one, and keeps it for the web actor
/// ([`node`]). Without `--query-node`, nothing starts and [`node`] is `None`.
///
/// # Errors
/// No cookie, or the node could not start.
pub async fn start(settings: &Settings) -> Result<Option<Node>, ClusterError> {
    if settings.query_node.is_none() {
        *NODE
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        return Ok(None);
    }
    let node = start_node(settings).await?;
    let previous = NODE
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .replace(node.clone());
    if let Some(previous) = previous {
        previous.shutdown();
    }
    Ok(Some(node))
}

/// This process's node, if [`start`] started one.
#[must_use]
pub fn node() -> Option<Node> {
    NODE.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}

/// The query pool registered on node `name`, retried for [`QUERY_NODE_WAIT`] while that node
/// cannot be reached or has not registered it yet.
///
/// # Errors
/// The last look-up's error, once the wait is over.
pub async fn lookup_queries(node: &Node, name: &str) -> Result<Remote<Query>, NodeError> {
    let deadline = tokio::time::Instant::now() + QUERY_NODE_WAIT;
    loop {
        match node.lookup::<Query>(name, QUERIES).await {
            Ok(remote) => return Ok(remote),
            Err(e) if tokio::time::Instant::now() + RETRY_EVERY >= deadline => return Err(e),
            Err(e) => {
                tracing::warn!(node = %name, error = %e, "query node not reachable yet");
                tokio::time::sleep(RETRY_EVERY).await;
            }
        }
    }
}
