//! The vehicle-monitoring system on actor-runtime: position reports arrive over UDP as
//! msgpack, are published on a `traffic` topic, decoded by an ingest pool, batched into the
//! store by a single writer, and served nearest-first over HTTPS by a query pool, which can
//! run on a node of its own ([`cluster`]).
//!
//! See the book's "Traffic app" chapter for a walk through the code.

pub mod actors;
pub mod cluster;
pub mod geo;
pub mod packet;
pub mod settings;
pub mod store;
pub mod telemetry;

use std::time::Duration;

use actor_runtime::io::http::HttpServer;
use actor_runtime::io::observer::Observer;
use actor_runtime::node::Node;
use actor_runtime::{App, AppController, AppError, introspect, telemetry as runtime_telemetry};

pub use settings::Settings;

/// Why the app did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// One of its applications failed to start.
    #[error(transparent)]
    App(#[from] AppError),
    /// The node for `--query-node` did not start.
    #[error(transparent)]
    Cluster(#[from] cluster::ClusterError),
    /// The observer page could not bind its address.
    #[error("cannot serve the observer on {addr}: {error}")]
    Observer {
        /// The address of `--observer`.
        addr: std::net::SocketAddr,
        /// Why.
        error: std::io::Error,
    },
}

/// A running app: its controller and its two trees.
#[derive(Debug)]
pub struct Running {
    /// Starts and stops the applications; `controller.run()` waits for SIGINT/SIGTERM.
    pub controller: AppController,
    /// The ingest side.
    pub pipeline: actors::Pipeline,
    /// UDP and HTTPS.
    pub edge: actors::Edge,
    /// The observer page, if `--observer` was given.
    pub observer: Option<HttpServer>,
    /// Samples the runtime's per-kind actor figures into `/metrics`.
    pub actor_metrics: tokio::task::JoinHandle<()>,
    /// This process's node, with `--query-node`; shut down when this is dropped.
    pub node: Option<Node>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.actor_metrics.abort();
        if let Some(node) = &self.node {
            node.shutdown();
        }
    }
}

/// Starts the app with `settings`: its node if `--query-node` asks for one, the pipeline,
/// then the network edges.
///
/// # Errors
/// A child failed to start (a port in use, a store that cannot be opened, a query node that
/// cannot be reached), the node could not start, or the observer could not bind its address.
pub async fn start(settings: Settings) -> Result<Running, StartError> {
    let node = cluster::start(&settings).await?;
    let started = start_apps(settings, node.clone()).await;
    if started.is_err()
        && let Some(node) = &node
    {
        node.shutdown();
    }
    started
}

async fn start_apps(settings: Settings, node: Option<Node>) -> Result<Running, StartError> {
    let observer = settings.observer;
    let observer_kill = settings.observer_kill;
    runtime_telemetry::set_message_timing(settings.message_timing);
    let sample_every = Duration::from_millis(settings.actor_metrics_ms);
    settings::install(settings);
    let _ = telemetry::metrics();
    let controller = AppController::new();
    let pipeline = controller
        .start(App::<actors::Pipeline>::new("pipeline"))
        .await?;
    let edge = controller
        .start(App::<actors::Edge>::new("edge").after("pipeline"))
        .await?;
    let observer = match observer {
        Some(addr) => Some(
            Observer::new()
                .allow_kill(observer_kill)
                .serve(addr)
                .await
                .map_err(|error| StartError::Observer { addr, error })?,
        ),
        None => None,
    };
    Ok(Running {
        controller,
        pipeline,
        edge,
        observer,
        actor_metrics: introspect::spawn_metrics_sampler(sample_every),
        node,
    })
}
