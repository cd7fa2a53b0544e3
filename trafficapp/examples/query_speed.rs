//! Times a store's nearest-k query: `cargo run --release -p trafficapp --example query_speed
//! [STORE]` (a `postgres://` URL of an empty database, or a fresh SQLite file when absent).
//! Stores 10,000 vehicles spread over a 1° x 1° area, then runs 5,000 queries for the 10
//! nearest at points in that area and prints the mean time per query.

use std::time::Instant;

use trafficapp::packet::Position;
use trafficapp::store::Location;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("query-speed-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let location = match std::env::args().nth(1) {
        Some(store) => Location::parse(&store)?,
        None => Location::Sqlite(dir.join("traffic.db")),
    };
    let mut writer = location.writer()?;
    // A fixed pseudo-random sequence (xorshift): the same points every run.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut unit = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let vehicles: Vec<Position> = (0..10_000)
        .map(|v| Position {
            id: format!("vehicle-{v}"),
            lon: 10.0 + unit(),
            lat: 45.0 + unit(),
            received_ms: v,
            emergency: false,
        })
        .collect();
    writer.write(&vehicles)?;
    let mut reader = location.reader()?;
    let queries = 5_000u32;
    let started = Instant::now();
    let mut found = 0;
    for _ in 0..queries {
        found += reader.nearest(10.0 + unit(), 45.0 + unit(), 10)?.len();
    }
    let elapsed = started.elapsed();
    println!(
        "{queries} queries (k = 10, {found} found) in {:.2} s: {:.1} µs per query",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / f64::from(queries)
    );
    drop(reader);
    drop(writer);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
