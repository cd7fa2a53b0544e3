//! Metrics (through the `metrics` facade, rendered by the Prometheus exporter) and logs.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Packets read from the UDP socket.
pub const RECEIVED: &str = "traffic_packets_received_total";
/// Packets decoded into a valid position and handed to the writer.
pub const DECODED: &str = "traffic_packets_decoded_total";
/// Packets rejected, by `reason`.
pub const REJECTED: &str = "traffic_packets_rejected_total";
/// Positions written to the store.
pub const STORED: &str = "traffic_positions_stored_total";
/// Messages shed because a mailbox was full, by `stage`.
pub const SHED: &str = "traffic_shed_total";
/// Write batches that failed (their positions are kept and retried).
pub const STORE_FAILURES: &str = "traffic_store_failures_total";
/// Emergency notifications, by `outcome` (`sent`, `failed`, `dropped`).
pub const EMERGENCIES: &str = "traffic_emergencies_total";
/// Query latency in seconds.
pub const QUERY_SECONDS: &str = "traffic_query_seconds";
/// Queries answered, by `status`.
pub const QUERIES: &str = "traffic_queries_total";
/// Restarts of the app's actors seen (storage, ingest).
pub const RESTARTS: &str = "traffic_restarts_total";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process's Prometheus recorder once; later calls return the same handle.
pub fn metrics() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        PrometheusBuilder::new()
            .set_buckets_for_metric(
                metrics_exporter_prometheus::Matcher::Full(QUERY_SECONDS.to_owned()),
                &[
                    0.000_25, 0.000_5, 0.001, 0.002, 0.005, 0.01, 0.05, 0.25, 1.0,
                ],
            )
            .expect("static buckets are valid")
            .install_recorder()
            .expect("no other metrics recorder is installed in this process")
    })
}

/// Structured logs to stderr, filtered by `RUST_LOG` (default `info`).
pub fn logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Logs the first rejects and then one in `every`, so a flood of bad packets cannot flood
/// the log; every reject is counted regardless.
#[derive(Debug, Default)]
pub struct RateLimitedLog {
    seen: u64,
}

impl RateLimitedLog {
    /// `true` if this occurrence should be logged.
    pub fn should_log(&mut self) -> bool {
        self.seen += 1;
        self.seen <= 10 || self.seen % 10_000 == 0
    }

    /// Occurrences so far.
    #[must_use]
    pub fn seen(&self) -> u64 {
        self.seen
    }
}
