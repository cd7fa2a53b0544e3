//! Helpers shared by the app's integration tests.

// Each test binary uses a part of these.
#![allow(dead_code)]

use std::sync::{Mutex, OnceLock};

/// The value of one series in Prometheus text (`/metrics`), 0 if absent.
pub(crate) fn sample(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| {
            l.strip_prefix(series)
                .and_then(|rest| rest.trim().parse().ok())
        })
        .unwrap_or(0.0)
}

/// The test PostgreSQL server: `TRAFFICAPP_TEST_POSTGRES` (a `postgres://user@host:port` URL
/// without a database) when set, as `scripts/test-all` sets it; otherwise the throwaway cluster
/// that `scripts/postgres-up` starts (installing PostgreSQL and PostGIS if needed). A test that
/// needs the server fails, never skips, when neither works.
fn postgres_server() -> &'static str {
    static SERVER: OnceLock<String> = OnceLock::new();
    SERVER.get_or_init(|| {
        if let Ok(url) = std::env::var("TRAFFICAPP_TEST_POSTGRES") {
            return url.trim_end_matches('/').to_owned();
        }
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/postgres-up");
        let out = std::process::Command::new(script)
            .stderr(std::process::Stdio::inherit())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {script}: {e}"));
        assert!(
            out.status.success(),
            "{script} failed ({}): the PostgreSQL tests need its server",
            out.status
        );
        String::from_utf8(out.stdout)
            .expect("a URL")
            .trim()
            .to_owned()
    })
}

/// A database of its own on the test server, made from `traffic_template` (PostGIS installed)
/// and dropped when this goes.
#[derive(Debug)]
pub(crate) struct Database {
    pub(crate) url: String,
    name: String,
}

impl Database {
    /// Usable from sync and async tests alike: the blocking client runs on a thread of its own.
    pub(crate) fn create() -> Database {
        std::thread::scope(|s| s.spawn(Database::create_here).join()).expect("create database")
    }

    fn create_here() -> Database {
        static NEXT: Mutex<u32> = Mutex::new(0);
        let server = postgres_server();
        // One at a time: a template cannot be copied by two sessions at once.
        let mut next = NEXT
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *next += 1;
        let name = format!("traffic_{}_{}", std::process::id(), *next);
        let mut admin = postgres::Client::connect(&format!("{server}/postgres"), postgres::NoTls)
            .unwrap_or_else(|e| panic!("cannot reach the test server {server}: {e}"));
        admin
            .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE traffic_template"))
            .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
        Database {
            url: format!("{server}/{name}"),
            name,
        }
    }
}

impl Database {
    /// Ends every server session connected to this database, as a server restart would.
    pub(crate) fn cut_connections(&self) {
        let server = postgres_server();
        let sql = format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}'",
            self.name
        );
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut admin =
                    postgres::Client::connect(&format!("{server}/postgres"), postgres::NoTls)
                        .expect("admin connection");
                admin.batch_execute(&sql).expect("terminate sessions");
            });
        });
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let server = postgres_server();
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        std::thread::scope(|s| {
            s.spawn(|| {
                if let Ok(mut admin) =
                    postgres::Client::connect(&format!("{server}/postgres"), postgres::NoTls)
                {
                    let _ = admin.batch_execute(&drop);
                }
            });
        });
    }
}

/// Held by a test while its app runs: an app's actors have process-wide names, so two apps in
/// one test process take turns.
pub(crate) async fn one_app_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    TURN.lock().await
}

/// Waits (polling every 20 ms, at most 20 s) until `probe` gives a value.
pub(crate) async fn until<T>(what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting for: {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The app's `/metrics` text over HTTPS at `base`.
pub(crate) async fn metrics(client: &reqwest::Client, base: &str) -> Option<String> {
    client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()
}

/// The app's answer to a nearest-vehicle query (`query` like `?lon=1&lat=2&k=3`) over HTTPS
/// at `base`.
pub(crate) async fn nearest(
    client: &reqwest::Client,
    base: &str,
    query: &str,
) -> Option<Vec<serde_json::Value>> {
    client
        .get(format!("{base}/{query}"))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()
}

/// A client for the app's self-signed HTTPS.
pub(crate) fn https_client() -> reqwest::Client {
    reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .expect("client")
}
