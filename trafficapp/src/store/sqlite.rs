//! The embedded store: SQLite (bundled) in WAL mode, the latest position per vehicle in a
//! table and its point in an R*Tree index.
//!
//! R*Tree answers box queries, not nearest-k, so a query searches a spherical cap around the
//! point whose radius grows (x4) until it holds `k` vehicles: every vehicle nearer than the
//! k-th found is inside the cap, so the answer is exact. Distances are haversine metres
//! computed from the stored doubles (the index keeps 32-bit boxes, rounded outwards).

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, params};

use super::{Found, Reader, StoreError, Writer, nearest_within};
use crate::geo::{EARTH_RADIUS_M, bounding_boxes, haversine_m};
use crate::packet::Position;

/// The first search radius of a query.
const FIRST_RADIUS_M: f64 = 2_000.0;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS vehicles (
    vid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    lon REAL NOT NULL,
    lat REAL NOT NULL,
    received_ms INTEGER NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS vehicles_at USING rtree(vid, min_lon, max_lon, min_lat, max_lat);
";

/// A connection to the SQLite store.
#[derive(Debug)]
pub struct Sqlite {
    conn: Connection,
}

impl Sqlite {
    /// Opens (creating if needed) the database at `path` for writing.
    ///
    /// # Errors
    /// The file cannot be opened or the schema created.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        // WAL: readers never block the writer nor the writer them. `NORMAL` syncs at
        // checkpoints: a committed batch survives a killed process, as WAL guarantees.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(SCHEMA)?;
        Ok(Sqlite { conn })
    }

    /// Opens the database at `path` read-only (it must exist).
    ///
    /// # Errors
    /// The file cannot be opened.
    pub fn open_reader(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(5))?;
        Ok(Sqlite { conn })
    }

    fn candidates(&self, lon: f64, lat: f64, radius_m: f64) -> Result<Vec<Found>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT v.id, v.lon, v.lat, v.received_ms FROM vehicles_at a
             JOIN vehicles v ON v.vid = a.vid
             WHERE a.max_lon >= ?1 AND a.min_lon <= ?2 AND a.max_lat >= ?3 AND a.min_lat <= ?4",
        )?;
        let mut found = Vec::new();
        for b in bounding_boxes(lon, lat, radius_m) {
            let rows =
                stmt.query_map(params![b.min_lon, b.max_lon, b.min_lat, b.max_lat], |row| {
                    let (vlon, vlat): (f64, f64) = (row.get(1)?, row.get(2)?);
                    Ok(Found {
                        id: row.get(0)?,
                        lon: vlon,
                        lat: vlat,
                        date: row.get(3)?,
                        distance_m: haversine_m(lon, lat, vlon, vlat),
                    })
                })?;
            for row in rows {
                found.push(row?);
            }
        }
        Ok(found)
    }
}

impl Writer for Sqlite {
    fn write(&mut self, batch: &[Position]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            // The newest report of a vehicle wins, whatever order the batches arrive in.
            let mut upsert = tx.prepare_cached(
                "INSERT INTO vehicles (id, lon, lat, received_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET lon = excluded.lon, lat = excluded.lat,
                     received_ms = excluded.received_ms
                 WHERE excluded.received_ms >= vehicles.received_ms
                 RETURNING vid",
            )?;
            let mut place = tx.prepare_cached(
                "INSERT OR REPLACE INTO vehicles_at (vid, min_lon, max_lon, min_lat, max_lat)
                 VALUES (?1, ?2, ?2, ?3, ?3)",
            )?;
            for p in batch {
                let vid: Option<i64> = upsert
                    .query_row(params![p.id, p.lon, p.lat, p.received_ms], |row| row.get(0))
                    .map(Some)
                    .or_else(|e| match e {
                        rusqlite::Error::QueryReturnedNoRows => Ok(None),
                        e => Err(e),
                    })?;
                if let Some(vid) = vid {
                    place.execute(params![vid, p.lon, p.lat])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }
}

impl Reader for Sqlite {
    fn nearest(&mut self, lon: f64, lat: f64, k: usize) -> Result<Vec<Found>, StoreError> {
        if k == 0 {
            return Ok(Vec::new());
        }
        let whole_earth = std::f64::consts::PI * EARTH_RADIUS_M;
        let mut radius = FIRST_RADIUS_M;
        loop {
            let complete = radius >= whole_earth;
            let candidates = self.candidates(lon, lat, radius.min(whole_earth))?;
            if let Some(found) = nearest_within(candidates, k, radius, complete) {
                return Ok(found);
            }
            radius *= 4.0;
        }
    }

    fn count(&mut self) -> Result<u64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM vehicles", [], |row| row.get(0))?)
    }
}
