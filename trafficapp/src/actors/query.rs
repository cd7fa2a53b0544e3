//! Query workers: each owns a read connection and answers nearest-k queries off the
//! runtime's worker threads.

use std::sync::Arc;

use actor_runtime::prelude::*;

use crate::settings::Settings;
use crate::store::{Found, Location, Reader};

/// One worker of the query pool.
#[derive(Debug)]
#[actor(mailbox = 64)]
pub struct Query {
    /// `None` while a query runs on the blocking pool.
    reader: Option<Box<dyn Reader>>,
}

#[actor]
impl Query {
    #[init]
    async fn init(settings: Arc<Settings>) -> Result<Self, String> {
        let location = Location::parse(&settings.store).map_err(|e| e.to_string())?;
        let reader = tokio::task::spawn_blocking(move || location.reader())
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        Ok(Query {
            reader: Some(reader),
        })
    }

    /// The `k` vehicles nearest to (`lon`, `lat`), nearest first.
    #[handle(call)]
    async fn nearest(&mut self, lon: f64, lat: f64, k: usize) -> Result<Vec<Found>, String> {
        let mut reader = self.reader.take().ok_or("reader busy")?;
        let (reader, found) = tokio::task::spawn_blocking(move || {
            let found = reader.nearest(lon, lat, k);
            (reader, found)
        })
        .await
        .map_err(|e| e.to_string())?;
        self.reader = Some(reader);
        found.map_err(|e| e.to_string())
    }

    /// The number of vehicles stored.
    #[handle(call)]
    async fn count(&mut self) -> Result<u64, String> {
        let mut reader = self.reader.take().ok_or("reader busy")?;
        let (reader, n) = tokio::task::spawn_blocking(move || {
            let n = reader.count();
            (reader, n)
        })
        .await
        .map_err(|e| e.to_string())?;
        self.reader = Some(reader);
        n.map_err(|e| e.to_string())
    }
}
