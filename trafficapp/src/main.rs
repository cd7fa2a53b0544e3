//! The vehicle-monitoring system, rebuilt on actor-runtime: UDP ingestion, an event topic,
//! ingest and query pools, storage and an HTTPS API.
//!
//! It needs supervision, events, pools and the I/O bridges, which are not part of the
//! runtime yet; until then this binary says so and exits with status 2.

fn main() {
    eprintln!(
        "trafficapp needs supervisors, events, pools and the UDP/HTTP bridges, which this \
         version of actor-runtime does not have yet.\n\
         To see actors talking now, run: cargo run --release -p actor-runtime --example ping_pong"
    );
    std::process::exit(2);
}
