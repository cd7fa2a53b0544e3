//! The vehicle-monitoring system on actor-runtime: position reports arrive over UDP as
//! msgpack, are published on a `traffic` topic, decoded by an ingest pool, batched into the
//! store by a single writer, and served nearest-first over HTTPS by a query pool.
//!
//! See the book's "Traffic app" chapter for a walk through the code.

pub mod actors;
pub mod geo;
pub mod packet;
pub mod settings;
pub mod store;
pub mod telemetry;

use actor_runtime::{App, AppController, AppError};

pub use settings::Settings;

/// A running app: its controller and its two trees.
#[derive(Debug)]
pub struct Running {
    /// Starts and stops the applications; `controller.run()` waits for SIGINT/SIGTERM.
    pub controller: AppController,
    /// The ingest side.
    pub pipeline: actors::Pipeline,
    /// UDP and HTTPS.
    pub edge: actors::Edge,
}

/// Starts the app with `settings`: the pipeline first, then the network edges.
///
/// # Errors
/// A child failed to start (a port in use, a store that cannot be opened).
pub async fn start(settings: Settings) -> Result<Running, AppError> {
    settings::install(settings);
    let _ = telemetry::metrics();
    let controller = AppController::new();
    let pipeline = controller
        .start(App::<actors::Pipeline>::new("pipeline"))
        .await?;
    let edge = controller
        .start(App::<actors::Edge>::new("edge").after("pipeline"))
        .await?;
    Ok(Running {
        controller,
        pipeline,
        edge,
    })
}
