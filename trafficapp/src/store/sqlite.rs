//! The embedded store: SQLite (bundled) in WAL mode, the latest position per vehicle in a
//! table and its point in an R*Tree index.
//!
//! R*Tree answers box queries, not nearest-k, so a query searches a spherical cap around the
//! point whose radius grows (x4) until it holds `k` vehicles: every vehicle nearer than the
//! k-th found is inside the cap, so the answer is exact. The first cap is sized from the
//! reader's previous answer, so a dense city and a sparse continent both take about one round. Distances are haversine metres
//! computed from the stored doubles.
//!
//! The index holds each vehicle's grid cell (0.01°, about 1 km), not its point: a report that
//! stays in its cell updates one row of the table by rowid and leaves the R*Tree alone, which
//! is what makes the writer fast (R*Tree updates are the expensive part). A query's box meets
//! the cell of every point inside it, so the search stays exact. The writer remembers each
//! vehicle's row, cell and newest receive time, and writes only the newest report of each
//! vehicle in a batch.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, params};

use super::{Found, Reader, StoreError, Writer, nearest_within, newest_per_vehicle};
use crate::geo::{EARTH_RADIUS_M, bounding_boxes, haversine_m};
use crate::packet::Position;

/// The first search radius of a query.
const FIRST_RADIUS_M: f64 = 2_000.0;

/// The smallest first search radius (vehicles stacked on one spot).
const MIN_RADIUS_M: f64 = 50.0;

/// The side of an index cell, in degrees.
const CELL_DEG: f64 = 0.01;

/// The index cell of a point.
fn cell(lon: f64, lat: f64) -> (i32, i32) {
    // In range by validation: at most 36,000 x 18,000 cells.
    #[allow(clippy::cast_possible_truncation)]
    (
        ((lon + 180.0) / CELL_DEG).floor() as i32,
        ((lat + 90.0) / CELL_DEG).floor() as i32,
    )
}

/// The box of an index cell: (min_lon, max_lon, min_lat, max_lat).
fn cell_box((x, y): (i32, i32)) -> (f64, f64, f64, f64) {
    let min_lon = f64::from(x) * CELL_DEG - 180.0;
    let min_lat = f64::from(y) * CELL_DEG - 90.0;
    (min_lon, min_lon + CELL_DEG, min_lat, min_lat + CELL_DEG)
}

/// What the writer remembers of a stored vehicle.
#[derive(Clone, Copy, Debug)]
struct Known {
    vid: i64,
    cell: (i32, i32),
    received_ms: i64,
}

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
    /// The writer's memory of stored vehicles, filled from the table on first sight.
    known: HashMap<String, Known>,
    /// A reader's distance to the k-th vehicle of its last query, to size the next search.
    last_kth_m: Option<f64>,
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
        Ok(Sqlite {
            conn,
            known: HashMap::new(),
            last_kth_m: None,
        })
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
        Ok(Sqlite {
            conn,
            known: HashMap::new(),
            last_kth_m: None,
        })
    }

    /// Where a query's search starts: a little beyond the distance of the k-th vehicle found
    /// by this reader's previous query, which holds about `k` vehicles wherever the density is
    /// like the last query's (one round, sometimes two); 2 km for the first query.
    fn first_radius(&self) -> f64 {
        self.last_kth_m
            .map_or(FIRST_RADIUS_M, |d| (d * 1.5).max(MIN_RADIUS_M))
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
        let newest = newest_per_vehicle(batch);
        let tx = self.conn.transaction()?;
        let mut learned: Vec<(String, Known)> = Vec::new();
        {
            let mut lookup =
                tx.prepare_cached("SELECT vid, lon, lat, received_ms FROM vehicles WHERE id = ?1")?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO vehicles (id, lon, lat, received_ms) VALUES (?1, ?2, ?3, ?4)",
            )?;
            let mut update = tx.prepare_cached(
                "UPDATE vehicles SET lon = ?2, lat = ?3, received_ms = ?4 WHERE vid = ?1",
            )?;
            let mut place = tx.prepare_cached(
                "INSERT OR REPLACE INTO vehicles_at (vid, min_lon, max_lon, min_lat, max_lat)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for p in newest {
                let known = match self.known.get(&p.id) {
                    Some(k) => Some(*k),
                    None => lookup
                        .query_row(params![p.id], |row| {
                            let (lon, lat): (f64, f64) = (row.get(1)?, row.get(2)?);
                            Ok(Known {
                                vid: row.get(0)?,
                                cell: cell(lon, lat),
                                received_ms: row.get(3)?,
                            })
                        })
                        .map(Some)
                        .or_else(|e| match e {
                            rusqlite::Error::QueryReturnedNoRows => Ok(None),
                            e => Err(e),
                        })?,
                };
                let here = cell(p.lon, p.lat);
                let vid = match known {
                    // An older report than the stored one changes nothing.
                    Some(k) if k.received_ms > p.received_ms => {
                        learned.push((p.id.clone(), k));
                        continue;
                    }
                    Some(k) => {
                        update.execute(params![k.vid, p.lon, p.lat, p.received_ms])?;
                        if k.cell == here {
                            learned.push((
                                p.id.clone(),
                                Known {
                                    received_ms: p.received_ms,
                                    ..k
                                },
                            ));
                            continue;
                        }
                        k.vid
                    }
                    None => {
                        insert.execute(params![p.id, p.lon, p.lat, p.received_ms])?;
                        tx.last_insert_rowid()
                    }
                };
                let (min_lon, max_lon, min_lat, max_lat) = cell_box(here);
                place.execute(params![vid, min_lon, max_lon, min_lat, max_lat])?;
                learned.push((
                    p.id.clone(),
                    Known {
                        vid,
                        cell: here,
                        received_ms: p.received_ms,
                    },
                ));
            }
        }
        tx.commit()?;
        // Remembered only once committed: a failed batch leaves the memory as the table is.
        self.known.extend(learned);
        Ok(())
    }
}

impl Reader for Sqlite {
    fn nearest(&mut self, lon: f64, lat: f64, k: usize) -> Result<Vec<Found>, StoreError> {
        if k == 0 {
            return Ok(Vec::new());
        }
        let whole_earth = std::f64::consts::PI * EARTH_RADIUS_M;
        let mut radius = self.first_radius();
        loop {
            let complete = radius >= whole_earth;
            let candidates = self.candidates(lon, lat, radius.min(whole_earth))?;
            if let Some(found) = nearest_within(candidates, k, radius, complete) {
                self.last_kth_m = found.last().map(|f| f.distance_m);
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
