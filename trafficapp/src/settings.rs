//! Configuration, by flags and environment variables (clap).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use clap::Parser;

/// What the app listens on, where it stores, and how it sizes its pools.
#[derive(Clone, Debug, Parser)]
#[command(
    name = "trafficapp",
    version,
    about = "Vehicle monitoring: UDP position reports in, nearest vehicles out over HTTPS"
)]
pub struct Settings {
    /// UDP address position reports arrive on.
    #[arg(long, env = "TRAFFIC_UDP", default_value = "0.0.0.0:9092")]
    pub udp: SocketAddr,
    /// Reader tasks on the UDP port (SO_REUSEPORT).
    #[arg(long, env = "TRAFFIC_UDP_READERS", default_value_t = 2)]
    pub udp_readers: usize,
    /// The UDP socket receive buffer in bytes.
    #[arg(long, env = "TRAFFIC_UDP_BUFFER", default_value_t = 8 << 20)]
    pub udp_buffer: usize,
    /// HTTPS address of the query API.
    #[arg(long, env = "TRAFFIC_HTTPS", default_value = "0.0.0.0:9090")]
    pub https: SocketAddr,
    /// PEM certificate chain for HTTPS; a self-signed one is generated when absent.
    #[arg(long, env = "TRAFFIC_CERT", requires = "key")]
    pub cert: Option<PathBuf>,
    /// PEM private key for `--cert`.
    #[arg(long, env = "TRAFFIC_KEY", requires = "cert")]
    pub key: Option<PathBuf>,
    /// Where positions are stored: a SQLite file path (created if missing), or a
    /// `postgres://` URL of a PostgreSQL server with PostGIS.
    #[arg(long, env = "TRAFFIC_STORE", default_value = "traffic.db")]
    pub store: String,
    /// Ingest workers (decode and validate).
    #[arg(long, env = "TRAFFIC_INGEST_WORKERS", default_value_t = 5)]
    pub ingest_workers: usize,
    /// Query workers (each with its own read connection).
    #[arg(long, env = "TRAFFIC_QUERY_WORKERS", default_value_t = 3)]
    pub query_workers: usize,
    /// Positions written per transaction at most.
    #[arg(long, env = "TRAFFIC_BATCH", default_value_t = 4096)]
    pub batch: usize,
    /// Pending positions are written at least this often, in milliseconds.
    #[arg(long, env = "TRAFFIC_FLUSH_MS", default_value_t = 20)]
    pub flush_ms: u64,
    /// A query not answered within this many milliseconds gets 504.
    #[arg(long, env = "TRAFFIC_QUERY_TIMEOUT_MS", default_value_t = 1000)]
    pub query_timeout_ms: u64,
    /// URL an emergency report is POSTed to (JSON); emergencies are only logged when absent.
    #[arg(long, env = "TRAFFIC_EMERGENCY_URL")]
    pub emergency_url: Option<String>,
    /// Timeout of one emergency POST, in milliseconds.
    #[arg(long, env = "TRAFFIC_EMERGENCY_TIMEOUT_MS", default_value_t = 2000)]
    pub emergency_timeout_ms: u64,
    /// Attempts per emergency before it is counted as failed.
    #[arg(long, env = "TRAFFIC_EMERGENCY_ATTEMPTS", default_value_t = 4)]
    pub emergency_attempts: u32,
    /// Emergency notifications in flight at most; more are counted as dropped at once.
    #[arg(long, env = "TRAFFIC_EMERGENCY_INFLIGHT", default_value_t = 256)]
    pub emergency_inflight: usize,
    /// Serve the observer page (the live supervision tree) on this address; off unless set.
    /// Keep it on loopback or a private network: it shows the node's inside.
    #[arg(long, env = "TRAFFIC_OBSERVER")]
    pub observer: Option<SocketAddr>,
    /// Let the observer page kill actors (their supervisors restart them).
    #[arg(long, env = "TRAFFIC_OBSERVER_KILL")]
    pub observer_kill: bool,
    /// Time every handled message: the `actor_handle_seconds` histogram on `/metrics`, and a
    /// DEBUG span per message (`RUST_LOG=actor_runtime::message=debug`).
    #[arg(long, env = "TRAFFIC_MESSAGE_TIMING")]
    pub message_timing: bool,
    /// How often the per-kind actor figures (`actor_messages_handled_total`, mailbox depths)
    /// are sampled into `/metrics`, in milliseconds.
    #[arg(long, env = "TRAFFIC_ACTOR_METRICS_MS", default_value_t = 1000)]
    pub actor_metrics_ms: u64,
    /// Run only the query pool, on a node other processes reach with `--query-node`; it
    /// listens on `--node-listen` and reads the same `--store`.
    #[arg(
        long,
        env = "TRAFFIC_SERVE_QUERIES",
        requires = "cookie",
        requires = "node_listen"
    )]
    pub serve_queries: bool,
    /// Send queries to the pool of the node `NAME@HOST:PORT` (started with
    /// `--serve-queries`) instead of starting one here.
    #[arg(long, env = "TRAFFIC_QUERY_NODE", value_parser = parse_node, requires = "cookie", conflicts_with = "serve_queries")]
    pub query_node: Option<(String, SocketAddr)>,
    /// This process's node name, unique among the nodes that talk to each other.
    #[arg(long, env = "TRAFFIC_NODE_NAME", default_value = "traffic")]
    pub node_name: String,
    /// Where this process's node listens for other nodes.
    #[arg(long, env = "TRAFFIC_NODE_LISTEN")]
    pub node_listen: Option<SocketAddr>,
    /// The secret the nodes share (never sent: the handshake proves it with an HMAC).
    #[arg(long, env = "TRAFFIC_COOKIE", hide_env_values = true)]
    pub cookie: Option<Cookie>,
}

/// The secret the nodes share. `Debug` does not print it, so logging the settings does not
/// leak it.
#[derive(Clone, PartialEq, Eq)]
pub struct Cookie(String);

impl Cookie {
    /// The secret itself.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Cookie {
    fn from(secret: String) -> Cookie {
        Cookie(secret)
    }
}

impl std::fmt::Debug for Cookie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cookie(<hidden>)")
    }
}

/// `NAME@HOST:PORT`, as `--query-node` takes it.
fn parse_node(text: &str) -> Result<(String, SocketAddr), String> {
    let (name, addr) = text
        .split_once('@')
        .ok_or_else(|| format!("`{text}` is not NAME@HOST:PORT (e.g. queries@127.0.0.1:4370)"))?;
    if name.is_empty() {
        return Err(format!("`{text}` has no node name before `@`"));
    }
    let addr = addr
        .parse()
        .map_err(|e| format!("`{addr}` is not HOST:PORT: {e}"))?;
    Ok((name.to_owned(), addr))
}

impl Settings {
    /// The defaults, as with no flags and no environment.
    #[must_use]
    pub fn defaults() -> Settings {
        Settings::parse_from(["trafficapp"])
    }

    /// How often pending positions are written.
    #[must_use]
    pub fn flush_every(&self) -> Duration {
        Duration::from_millis(self.flush_ms.max(1))
    }

    /// The query timeout.
    #[must_use]
    pub fn query_timeout(&self) -> Duration {
        Duration::from_millis(self.query_timeout_ms.max(1))
    }
}

/// The settings the app's supervision trees start their children with. A `#[child(args)]`
/// expression is evaluated at every (re)start, so children read the settings here.
static CURRENT: RwLock<Option<Arc<Settings>>> = RwLock::new(None);

/// Sets the settings children start with from now on.
pub fn install(settings: Settings) {
    *CURRENT
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Arc::new(settings));
}

/// The settings children start with (the defaults if none were installed).
#[must_use]
pub fn current() -> Arc<Settings> {
    CURRENT
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
        .unwrap_or_else(|| Arc::new(Settings::defaults()))
}
