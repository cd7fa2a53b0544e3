//! The storage suite every backend passes: newest position wins, nearest-k is exact against
//! a brute-force answer, distances are geodesic, and data survives reopening.

mod common;

use trafficapp::geo::haversine_m;
use trafficapp::packet::Position;
use trafficapp::store::{Location, Reader, Writer};

fn position(id: &str, lon: f64, lat: f64, received_ms: i64) -> Position {
    Position {
        id: id.to_owned(),
        lon,
        lat,
        received_ms,
        emergency: false,
    }
}

/// A deterministic pseudo-random sequence (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// What keeps a backend's data alive for a test: a directory or a database.
#[derive(Debug)]
enum Scratch {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Database(#[allow(dead_code)] common::Database),
}

/// Every backend, each empty: a SQLite file in a fresh directory, and a fresh database on the
/// test PostgreSQL server.
fn backends() -> Vec<(Scratch, Location)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = Location::Sqlite(dir.path().join("traffic.db"));
    let db = common::Database::create();
    let postgres = Location::Postgres(db.url.clone());
    vec![
        (Scratch::Dir(dir), sqlite),
        (Scratch::Database(db), postgres),
    ]
}

fn open(location: &Location) -> (Box<dyn Writer>, Box<dyn Reader>) {
    let writer = location.writer().expect("writer");
    let reader = location.reader().expect("reader");
    (writer, reader)
}

#[test]
fn the_newest_position_of_a_vehicle_wins_whatever_the_arrival_order() {
    for (_dir, location) in backends() {
        let (mut writer, mut reader) = open(&location);
        writer
            .write(&[
                position("a", 10.0, 10.0, 200),
                position("a", 20.0, 20.0, 100),
            ])
            .expect("write");
        writer
            .write(&[position("a", 30.0, 30.0, 150)])
            .expect("write");
        let found = reader.nearest(10.0, 10.0, 10).expect("query");
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].lon, found[0].lat, found[0].date),
            (10.0, 10.0, 200)
        );
        assert_eq!(found[0].distance_m, 0.0);
        writer
            .write(&[position("a", 40.0, 40.0, 300)])
            .expect("write");
        let found = reader.nearest(10.0, 10.0, 10).expect("query");
        assert_eq!(
            (found[0].lon, found[0].lat, found[0].date),
            (40.0, 40.0, 300)
        );
        assert_eq!(reader.count().expect("count"), 1);
    }
}

#[test]
fn nearest_k_matches_a_brute_force_search_everywhere_on_earth() {
    for (_dir, location) in backends() {
        let (mut writer, mut reader) = open(&location);
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut all = Vec::new();
        // Dense clusters and sparse points, across the antimeridian and near the poles.
        for i in 0..3_000 {
            let (lon, lat) = match i % 3 {
                0 => (179.5 + rng.unit() * 1.0 - 0.5, 10.0 + rng.unit()),
                1 => (rng.unit() * 360.0 - 180.0, 85.0 + rng.unit() * 5.0),
                _ => (rng.unit() * 360.0 - 180.0, rng.unit() * 180.0 - 90.0),
            };
            let lon = if lon > 180.0 { lon - 360.0 } else { lon };
            all.push(position(&format!("v{i}"), lon, lat, i));
        }
        writer.write(&all).expect("write");
        for q in 0..60 {
            let (lon, lat) = match q % 4 {
                0 => (-179.9, 10.5),
                1 => (rng.unit() * 360.0 - 180.0, 89.9),
                2 => (rng.unit() * 360.0 - 180.0, -89.5),
                _ => (rng.unit() * 360.0 - 180.0, rng.unit() * 180.0 - 90.0),
            };
            for k in [1, 10, 37] {
                let found = reader.nearest(lon, lat, k).expect("query");
                let mut expected: Vec<(f64, String)> = all
                    .iter()
                    .map(|p| (haversine_m(lon, lat, p.lon, p.lat), p.id.clone()))
                    .collect();
                expected.sort_by(|a, b| a.0.total_cmp(&b.0));
                expected.truncate(k);
                assert_eq!(found.len(), k);
                for (got, want) in found.iter().zip(&expected) {
                    assert!(
                        (got.distance_m - want.0).abs() < 1e-6,
                        "query ({lon}, {lat}) k={k}: got {} at {} m, want {} at {} m",
                        got.id,
                        got.distance_m,
                        want.1,
                        want.0
                    );
                }
                assert!(found.windows(2).all(|w| w[0].distance_m <= w[1].distance_m));
            }
        }
    }
}

#[test]
fn fewer_vehicles_than_asked_returns_them_all_and_an_empty_store_none() {
    for (_dir, location) in backends() {
        let (mut writer, mut reader) = open(&location);
        assert!(reader.nearest(0.0, 0.0, 10).expect("query").is_empty());
        writer
            .write(&[position("a", 1.0, 1.0, 1), position("b", -170.0, -80.0, 2)])
            .expect("write");
        let found = reader.nearest(0.0, 0.0, 10).expect("query");
        assert_eq!(
            found.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
    }
}

#[test]
fn stored_positions_survive_reopening() {
    for (_dir, location) in backends() {
        {
            let (mut writer, _) = open(&location);
            writer
                .write(&[position("kept", 5.0, 6.0, 42)])
                .expect("write");
        }
        let (_, mut reader) = open(&location);
        let found = reader.nearest(5.0, 6.0, 1).expect("query");
        assert_eq!(found[0].id, "kept");
        assert_eq!(found[0].date, 42);
    }
}

#[test]
fn a_location_is_a_file_path_or_a_postgres_url_and_anything_else_is_refused() {
    assert_eq!(
        Location::parse("postgres://u@localhost/traffic").expect("postgres"),
        Location::Postgres("postgres://u@localhost/traffic".into())
    );
    assert_eq!(
        Location::parse("postgresql://localhost").expect("postgresql"),
        Location::Postgres("postgresql://localhost".into())
    );
    assert_eq!(
        Location::parse("sqlite://data/t.db").expect("sqlite"),
        Location::Sqlite("data/t.db".into())
    );
    assert_eq!(
        Location::parse("t.db").expect("path"),
        Location::Sqlite("t.db".into())
    );
    let err = Location::parse("mysql://localhost/traffic").expect_err("refused");
    assert!(
        err.to_string().contains("unsupported store location"),
        "{err}"
    );
}

#[test]
fn an_unreachable_postgres_server_is_a_clear_error() {
    // Port 1 on loopback: nothing listens there.
    let location = Location::parse("postgres://nobody@127.0.0.1:1/traffic").expect("parse");
    let err = location.writer().expect_err("no server");
    assert!(err.to_string().starts_with("postgres: "), "{err}");
}

#[test]
fn a_lost_postgres_connection_is_opened_again_for_the_next_write_and_query() {
    let db = common::Database::create();
    let location = Location::Postgres(db.url.clone());
    let (mut writer, mut reader) = open(&location);
    writer.write(&[position("a", 1.0, 1.0, 1)]).expect("write");
    db.cut_connections();
    // The first use after the cut may fail (the client learns of it then); the next works.
    let mut attempts = 0;
    while writer.write(&[position("b", 2.0, 2.0, 2)]).is_err() {
        attempts += 1;
        assert!(attempts < 3, "the writer did not reconnect");
    }
    let found = loop {
        match reader.nearest(2.0, 2.0, 2) {
            Ok(found) => break found,
            Err(e) => {
                attempts += 1;
                assert!(attempts < 6, "the reader did not reconnect: {e}");
            }
        }
    };
    assert_eq!(
        found.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(),
        ["b", "a"]
    );
}
