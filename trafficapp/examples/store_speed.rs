//! Times a store's writer: `cargo run --release -p trafficapp --example store_speed [STORE]`,
//! where STORE is a `postgres://` URL of an empty database (PostGIS) or absent (a fresh SQLite
//! file). Writes 500,000 reports of 10,000 vehicles in batches of 4,096 and prints positions
//! per second.

use std::time::Instant;

use trafficapp::packet::Position;
use trafficapp::store::Location;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("store-speed-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let location = match std::env::args().nth(1) {
        Some(store) => Location::parse(&store)?,
        None => Location::Sqlite(dir.join("traffic.db")),
    };
    let mut writer = location.writer()?;
    let total = 500_000i64;
    let mut batch: Vec<Position> = Vec::with_capacity(4096);
    let started = Instant::now();
    for i in 0..total {
        let v = i % 10_000;
        batch.push(Position {
            id: format!("vehicle-{v}"),
            lon: (v as f64 * 0.036) - 180.0 + (i as f64 * 1e-7),
            lat: (v as f64 * 0.0179) % 180.0 - 90.0,
            received_ms: i,
            emergency: false,
        });
        if batch.len() == 4096 {
            writer.write(&batch)?;
            batch.clear();
        }
    }
    writer.write(&batch)?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{total} positions in {secs:.2} s: {:.0}/s",
        total as f64 / secs
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
