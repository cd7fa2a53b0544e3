//! The networked store: PostgreSQL with PostGIS, selected by a `postgres://` URL.
//!
//! One row per vehicle with its point as a `geography`, indexed by GiST. Nearest-k is
//! PostGIS's index-assisted KNN (`ORDER BY at <-> point LIMIT k`), which orders by distance on
//! the sphere; the distance in each result is the same haversine as the embedded store's, from
//! the stored doubles, so both backends give identical answers.
//!
//! A batch is one statement: the newest report of each vehicle, passed as four arrays and
//! upserted, where a row already holding a newer report is left alone.

use postgres::{Client, NoTls, Statement};

use super::{Found, Reader, StoreError, Writer, newest_per_vehicle};
use crate::geo::haversine_m;
use crate::packet::Position;

const SCHEMA: &str = "
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE TABLE IF NOT EXISTS vehicles (
    id text PRIMARY KEY,
    lon double precision NOT NULL,
    lat double precision NOT NULL,
    received_ms bigint NOT NULL,
    at geography(Point, 4326) NOT NULL
);
CREATE INDEX IF NOT EXISTS vehicles_at ON vehicles USING gist (at);
";

const UPSERT: &str = "
INSERT INTO vehicles (id, lon, lat, received_ms, at)
SELECT id, lon, lat, received_ms, ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography
FROM unnest($1::text[], $2::float8[], $3::float8[], $4::int8[]) AS b(id, lon, lat, received_ms)
ON CONFLICT (id) DO UPDATE
SET lon = excluded.lon, lat = excluded.lat, received_ms = excluded.received_ms, at = excluded.at
WHERE vehicles.received_ms <= excluded.received_ms
";

const NEAREST: &str = "
SELECT id, lon, lat, received_ms FROM vehicles
ORDER BY at <-> ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography
LIMIT $3
";

/// A connection to the PostGIS store, with its statement prepared.
pub struct Postgis {
    url: String,
    /// The statement this handle runs: the upsert (writer) or the KNN query (reader).
    sql: &'static str,
    /// `None` only while dropping.
    client: Option<Client>,
    statement: Statement,
}

impl Drop for Postgis {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            close(client);
        }
    }
}

/// Closes `client`. Closing blocks on the client's own runtime, which may not happen on a
/// runtime worker (where an actor drops its store): it closes on a thread of its own, waited
/// for.
fn close(client: Client) {
    std::thread::scope(|s| {
        s.spawn(move || drop(client));
    });
}

impl std::fmt::Debug for Postgis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgis")
            .field(
                "closed",
                &self.client.as_ref().is_none_or(Client::is_closed),
            )
            .finish_non_exhaustive()
    }
}

impl Postgis {
    /// Connects to `url` for writing, creating the extension, table and index if needed.
    ///
    /// # Errors
    /// The server cannot be reached, refuses the login, or lacks PostGIS.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        let mut client = Client::connect(url, NoTls)?;
        client.batch_execute(SCHEMA)?;
        Postgis::prepare(url, client, UPSERT)
    }

    /// Connects to `url` for queries (the writer has created the schema).
    ///
    /// # Errors
    /// The server cannot be reached or the table does not exist.
    pub fn open_reader(url: &str) -> Result<Self, StoreError> {
        Postgis::prepare(url, Client::connect(url, NoTls)?, NEAREST)
    }

    fn prepare(url: &str, mut client: Client, sql: &'static str) -> Result<Self, StoreError> {
        let statement = client.prepare(sql)?;
        Ok(Postgis {
            url: url.to_owned(),
            sql,
            client: Some(client),
            statement,
        })
    }
}

impl Postgis {
    /// The client and the prepared statement; a connection the server closed (a restart, a
    /// network failure) is opened again first, so the next batch or query after an error
    /// finds a working one.
    fn prepared(&mut self) -> Result<(&mut Client, &Statement), StoreError> {
        if self.client.as_ref().is_none_or(Client::is_closed) {
            let mut client = Client::connect(&self.url, NoTls)?;
            self.statement = client.prepare(self.sql)?;
            tracing::info!("reconnected to the store");
            if let Some(closed) = self.client.replace(client) {
                close(closed);
            }
        }
        let client = self.client.as_mut().expect("the client lives until drop");
        Ok((client, &self.statement))
    }
}

impl Writer for Postgis {
    fn write(&mut self, batch: &[Position]) -> Result<(), StoreError> {
        let newest = newest_per_vehicle(batch);
        let ids: Vec<&str> = newest.iter().map(|p| p.id.as_str()).collect();
        let lons: Vec<f64> = newest.iter().map(|p| p.lon).collect();
        let lats: Vec<f64> = newest.iter().map(|p| p.lat).collect();
        let times: Vec<i64> = newest.iter().map(|p| p.received_ms).collect();
        // One statement is one transaction: all of the batch or none of it.
        let (client, upsert) = self.prepared()?;
        client.execute(upsert, &[&ids, &lons, &lats, &times])?;
        Ok(())
    }
}

impl Reader for Postgis {
    fn nearest(&mut self, lon: f64, lat: f64, k: usize) -> Result<Vec<Found>, StoreError> {
        let limit = i64::try_from(k).unwrap_or(i64::MAX);
        let (client, nearest) = self.prepared()?;
        let rows = client.query(nearest, &[&lon, &lat, &limit])?;
        let mut found: Vec<Found> = rows
            .iter()
            .map(|row| {
                let (vlon, vlat): (f64, f64) = (row.get(1), row.get(2));
                Found {
                    id: row.get(0),
                    lon: vlon,
                    lat: vlat,
                    date: row.get(3),
                    distance_m: haversine_m(lon, lat, vlon, vlat),
                }
            })
            .collect();
        // Already in this order but for rounding between PostGIS's sphere and ours.
        found.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
        Ok(found)
    }

    fn count(&mut self) -> Result<u64, StoreError> {
        let (client, _) = self.prepared()?;
        let row = client.query_one("SELECT count(*) FROM vehicles", &[])?;
        Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
    }
}
