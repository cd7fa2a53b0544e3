//! Query workers: each owns a read connection and answers nearest-k queries on a thread of
//! its own. Remote (`traffic.Query`): with `--serve-queries` the pool runs on a node of its
//! own, and the web actor of another process reaches it through the same client.

use std::sync::Arc;

use actor_runtime::prelude::*;

use crate::settings::Settings;
use crate::store::{Found, Location, Reader};

/// One worker of the query pool. Declared `blocking`: a query runs inline on the worker's own
/// thread, so it holds none of the runtime's workers and takes no hop to the blocking pool and
/// back.
#[derive(Debug)]
#[actor(mailbox = 64, blocking)]
pub struct Query {
    reader: Box<dyn Reader>,
}

#[actor(remote = "traffic.Query")]
impl Query {
    /// Runs on the caller's task, like every `#[init]`: opening the reader goes to the
    /// blocking pool.
    #[init]
    async fn init(settings: Arc<Settings>) -> Result<Self, String> {
        let location = Location::parse(&settings.store).map_err(|e| e.to_string())?;
        let reader = tokio::task::spawn_blocking(move || location.reader())
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        Ok(Query { reader })
    }

    /// The `k` vehicles nearest to (`lon`, `lat`), nearest first.
    #[handle(call)]
    fn nearest(&mut self, lon: f64, lat: f64, k: usize) -> Result<Vec<Found>, String> {
        self.reader.nearest(lon, lat, k).map_err(|e| e.to_string())
    }

    /// The number of vehicles stored.
    #[handle(call)]
    fn count(&mut self) -> Result<u64, String> {
        self.reader.count().map_err(|e| e.to_string())
    }
}
