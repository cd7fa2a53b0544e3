//! A small supervised system with everything observable: the observer page, Prometheus
//! `/metrics` with the runtime's actor figures, and per-message timing.
//!
//! ```sh
//! cargo run -p actor-runtime --features observer --example observe
//! # then open http://127.0.0.1:9093/ and curl http://127.0.0.1:9093/metrics
//! ```
//!
//! A producer sends work to a pool of three workers; one work item in 3,000 panics, and its
//! supervisor restarts it, so the page shows restarts and exits as they happen.

use std::net::SocketAddr;
use std::time::Duration;

use actor_runtime::io::http;
use actor_runtime::io::observer::Observer;
use actor_runtime::prelude::*;
use actor_runtime::{Pool, introspect, telemetry};
use axum::routing::get;

#[actor(mailbox = 256)]
struct Worker {
    done: u64,
}

#[actor]
impl Worker {
    #[init]
    fn init() -> Self {
        Worker { done: 0 }
    }

    /// Does one piece of work; one in 3,000 fails (about every three seconds).
    #[handle(cast)]
    async fn work(&mut self, n: u64) {
        tokio::time::sleep(Duration::from_micros(200)).await;
        self.done += 1;
        assert!(n % 3_000 != 2_999, "work item {n} failed");
    }
}

#[supervisor(one_for_one, intensity = 100, period = "10s")]
struct System {
    #[child(size = 3)]
    workers: Pool<Worker>,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let prometheus = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .expect("the only recorder");
    telemetry::set_message_timing(true);
    let _sampler = introspect::spawn_metrics_sampler(Duration::from_secs(1));

    let system = System::start().await.expect("the system starts");
    let workers = system.workers.clone();
    tokio::spawn(async move {
        for n in 0.. {
            let _ = workers.work(n);
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    });

    // The observer's routes and `/metrics` on one server.
    let router = Observer::new().allow_kill(true).router().route(
        "/metrics",
        get(move || std::future::ready(prometheus.render())),
    );
    let addr: SocketAddr = std::env::var("OBSERVE_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:9093".into())
        .parse()
        .expect("OBSERVE_ADDR is host:port");
    let server = http::serve(addr, router).await?;
    println!(
        "observer: http://{}/   metrics: http://{}/metrics",
        server.local_addr(),
        server.local_addr()
    );
    tokio::signal::ctrl_c().await?;
    Ok(())
}
