//! Storage behind one trait: the latest position of every vehicle, and nearest-k queries.
//!
//! One writer (the storage actor) and any number of readers (the query workers) each own a
//! handle; every backend passes the same test suite (`tests/store.rs`). Two backends: the
//! embedded [`Sqlite`] (a file path) and [`Postgis`] (a `postgres://` URL).
//!
//! Every method blocks: call them off the runtime's workers (`spawn_blocking` or a thread of
//! one's own). The PostgreSQL client drives its own small runtime and refuses to run on a
//! runtime worker.

use serde::{Deserialize, Serialize};

use crate::packet::Position;

mod postgis;
mod sqlite;

pub use postgis::Postgis;
pub use sqlite::Sqlite;

/// A stored position found by a query, with its distance from the query point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Found {
    /// The vehicle's identifier.
    #[serde(rename = "ID")]
    pub id: String,
    /// Longitude in degrees.
    #[serde(rename = "Lon")]
    pub lon: f64,
    /// Latitude in degrees.
    #[serde(rename = "Lat")]
    pub lat: f64,
    /// When this position was received, in Unix milliseconds.
    #[serde(rename = "Date")]
    pub date: i64,
    /// Geodesic distance from the query point, in metres.
    #[serde(rename = "Distance")]
    pub distance_m: f64,
}

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The embedded database failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The PostgreSQL server failed or could not be reached.
    #[error("postgres: {0}")]
    Postgres(#[from] postgres::Error),
    /// The store's location is not understood.
    #[error("unsupported store location `{0}`: give a file path (SQLite) or a postgres:// URL")]
    Location(String),
}

/// What the storage actor writes through.
pub trait Writer: Send + std::fmt::Debug + 'static {
    /// Stores `batch` in one transaction: for each vehicle, its newest position wins (by
    /// receive time). When this returns `Ok`, every position in it is durable.
    ///
    /// # Errors
    /// Nothing of the batch is stored.
    fn write(&mut self, batch: &[Position]) -> Result<(), StoreError>;
}

/// What a query worker reads through.
pub trait Reader: Send + std::fmt::Debug + 'static {
    /// The `k` stored vehicles nearest to (`lon`, `lat`), nearest first.
    ///
    /// # Errors
    /// The backend failed.
    fn nearest(&mut self, lon: f64, lat: f64, k: usize) -> Result<Vec<Found>, StoreError>;

    /// The number of vehicles stored.
    ///
    /// # Errors
    /// The backend failed.
    fn count(&mut self) -> Result<u64, StoreError>;
}

/// Where the data lives: a file path for the embedded SQLite store, or a PostgreSQL server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A SQLite database file.
    Sqlite(std::path::PathBuf),
    /// A PostgreSQL server with PostGIS: a `postgres://` (or `postgresql://`) URL.
    Postgres(String),
}

impl Location {
    /// Parses `--store`: a `postgres://` URL or a file path (`sqlite://path` also accepted).
    ///
    /// # Errors
    /// A scheme that is not supported.
    pub fn parse(text: &str) -> Result<Location, StoreError> {
        if let Some(path) = text.strip_prefix("sqlite://") {
            return Ok(Location::Sqlite(path.into()));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(Location::Postgres(text.to_owned()));
        }
        if text.contains("://") {
            return Err(StoreError::Location(text.to_owned()));
        }
        Ok(Location::Sqlite(text.into()))
    }

    /// Opens the writer (creating the schema if needed).
    ///
    /// # Errors
    /// The store cannot be opened.
    pub fn writer(&self) -> Result<Box<dyn Writer>, StoreError> {
        match self {
            Location::Sqlite(path) => Ok(Box::new(Sqlite::open(path)?)),
            Location::Postgres(url) => Ok(Box::new(Postgis::open(url)?)),
        }
    }

    /// Opens a reader; the writer must have been opened once before (it creates the schema).
    ///
    /// # Errors
    /// The store cannot be opened.
    pub fn reader(&self) -> Result<Box<dyn Reader>, StoreError> {
        match self {
            Location::Sqlite(path) => Ok(Box::new(Sqlite::open_reader(path)?)),
            Location::Postgres(url) => Ok(Box::new(Postgis::open_reader(url)?)),
        }
    }
}

/// The `k` nearest of `candidates`, nearest first, if `k` of them lie within `radius_m`
/// (then no point outside the searched area can be nearer); `None` otherwise.
pub(crate) fn nearest_within(
    mut candidates: Vec<Found>,
    k: usize,
    radius_m: f64,
    complete: bool,
) -> Option<Vec<Found>> {
    candidates.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
    let within = candidates
        .iter()
        .take_while(|f| f.distance_m <= radius_m)
        .count();
    if within >= k || complete {
        candidates.truncate(k);
        Some(candidates)
    } else {
        None
    }
}

/// The newest report of each vehicle in `batch` (by receive time; the later one of equals):
/// the others are superseded and need not be written.
pub(crate) fn newest_per_vehicle(batch: &[Position]) -> Vec<&Position> {
    let mut newest: std::collections::HashMap<&str, &Position> =
        std::collections::HashMap::with_capacity(batch.len());
    for p in batch {
        newest
            .entry(p.id.as_str())
            .and_modify(|q| {
                if p.received_ms >= q.received_ms {
                    *q = p;
                }
            })
            .or_insert(p);
    }
    newest.into_values().collect()
}
