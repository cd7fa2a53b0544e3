//! The benchmark harness: actor-runtime beside raw tokio channels, measured in the same run.
//!
//! `cargo run -p benches --release` prints one table:
//! - tell: 1,000,000 casts to one actor, until all are processed (messages per second);
//! - call: 100,000 sequential request/reply round trips (median and p99);
//! - spawn: 100,000 idle actors (time per spawn; resident memory per actor, once fresh and
//!   once after each has handled one call and gone idle again);
//! - udp: 200,000 64-byte datagrams blasted on loopback to a `UdpServer` feeding a pool of two
//!   counting actors, against a raw tokio `UdpSocket` receive loop (datagrams handled per
//!   second, and the share that survived loopback).
//!
//! - fairness: the latency of calls to an idle actor while 2 or 4 handlers compute without
//!   yielding, declared `#[actor(blocking)]` against undeclared (median and worst);
//! - metrics: tell and call with a Prometheus recorder installed (the runtime's metrics on)
//!   against none;
//! - introspect: one `introspect::snapshot` of 100,000 idle actors, beside a walk that only
//!   counts them;
//! - watchdog: tell throughput with the watchdog on (the default) against off, alternating in
//!   one process.
//!
//! - nodes: two nodes in two OS processes on loopback, 64-byte messages: casts per second with
//!   one and with four senders, call round trips (median, p99), pipelined calls per second,
//!   time from SIGKILL of the peer to a delivered `Down`, and small calls while a 16 MiB message
//!   (as `Vec<u8>` and as `Bytes`) crosses the same connection; beside the local figures and a
//!   raw tokio TCP echo between the same two processes, in the same run.
//!
//! Each measurement runs in its own child process (so one phase's freed memory cannot hide
//! another's growth) and is repeated; the table shows medians and the ratio to the baseline.
//! Options: `--quick` (fewer repetitions and smaller counts, for CI smoke runs).

mod distributed;
mod fairness;
mod peers;
mod telemetry_ab;

use std::process::Command;
use std::time::{Duration, Instant};

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use actor_runtime::Pool;
use actor_runtime::io::http::axum;
use actor_runtime::io::udp::{Datagram, UdpConfig, UdpServer};
use actor_runtime::prelude::*;
use tokio::sync::{mpsc, oneshot};

const TELLS: u64 = 1_000_000;
const CALLS: usize = 100_000;
const ACTORS: usize = 100_000;
const CAPACITY: usize = 1024;

/// Counts datagrams.
#[actor(mailbox = 4096)]
struct Sink {
    count: Arc<AtomicU64>,
}

#[actor]
impl Sink {
    #[init]
    fn init(count: Arc<AtomicU64>) -> Self {
        Sink { count }
    }

    #[handle(cast)]
    fn packet(&mut self, datagram: Datagram) {
        std::hint::black_box(&datagram.payload);
        self.count.fetch_add(1, Ordering::Relaxed);
    }
}

#[actor(mailbox = 1024)]
struct Counter {
    total: u64,
}

#[actor]
impl Counter {
    #[init]
    fn init() -> Self {
        Counter { total: 0 }
    }

    #[handle(cast)]
    fn add(&mut self, n: u64) {
        self.total += n;
    }

    #[handle(call)]
    fn echo(&mut self, n: u64) -> u64 {
        self.total += 1;
        n
    }

    #[handle(call)]
    fn total(&self) -> u64 {
        self.total
    }
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(
            std::env::var("WT")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(2),
        )
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Messages per second.
fn tell_ours(n: u64) -> f64 {
    runtime().block_on(async move {
        let counter = Counter::spawn(()).await.expect("spawn");
        let started = Instant::now();
        let producer = {
            let counter = counter.clone();
            tokio::spawn(async move {
                for i in 0..n {
                    counter.send(CounterMsg::Add { n: i }).await.expect("alive");
                }
            })
        };
        producer.await.expect("producer");
        let total = counter.total().await.expect("total");
        let elapsed = started.elapsed();
        assert_eq!(total, n * (n - 1) / 2);
        per_second(n, elapsed)
    })
}

fn tell_tokio(n: u64) -> f64 {
    runtime().block_on(async move {
        let (tx, mut rx) = mpsc::channel::<u64>(CAPACITY);
        let (done_tx, done_rx) = oneshot::channel();
        tokio::spawn(async move {
            let mut total = 0u64;
            let mut seen = 0;
            while let Some(v) = rx.recv().await {
                total += v;
                seen += 1;
                if seen == n {
                    break;
                }
            }
            let _ = done_tx.send(total);
        });
        let started = Instant::now();
        tokio::spawn(async move {
            for i in 0..n {
                tx.send(i).await.expect("alive");
            }
        })
        .await
        .expect("producer");
        let total = done_rx.await.expect("consumer");
        let elapsed = started.elapsed();
        assert_eq!(total, n * (n - 1) / 2);
        per_second(n, elapsed)
    })
}

/// (median ns, p99 ns) of sequential round trips, measured from a task on the runtime.
fn call_ours(n: usize) -> (f64, f64) {
    runtime().block_on(async move {
        let counter = Counter::spawn(()).await.expect("spawn");
        if std::env::var("ANCHOR").is_ok() {
            tokio::spawn(async {
                loop {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            });
        }
        tokio::spawn(async move {
            let mut samples = Vec::with_capacity(n);
            for i in 0..n as u64 {
                let t = Instant::now();
                let v = counter.echo(i).await.expect("reply");
                samples.push(t.elapsed());
                assert_eq!(v, i);
            }
            percentiles(&mut samples)
        })
        .await
        .expect("caller")
    })
}

fn call_tokio(n: usize) -> (f64, f64) {
    runtime().block_on(async move {
        let (tx, mut rx) = mpsc::channel::<(u64, oneshot::Sender<u64>)>(CAPACITY);
        tokio::spawn(async move {
            let mut total = 0u64;
            while let Some((v, reply)) = rx.recv().await {
                total += 1;
                let _ = reply.send(v);
            }
            total
        });
        tokio::spawn(async move {
            let mut samples = Vec::with_capacity(n);
            for i in 0..n as u64 {
                let t = Instant::now();
                let (reply, answer) = oneshot::channel();
                tx.send((i, reply)).await.expect("server alive");
                let v = if std::env::var("TBASE").is_ok() {
                    tokio::time::timeout(Duration::from_secs(5), answer)
                        .await
                        .expect("t")
                        .expect("reply")
                } else {
                    answer.await.expect("reply")
                };
                samples.push(t.elapsed());
                assert_eq!(v, i);
            }
            percentiles(&mut samples)
        })
        .await
        .expect("caller")
    })
}

/// (ns per spawn, bytes resident per fresh idle actor, bytes per idle actor after one call).
fn spawn_ours(n: usize) -> (f64, f64, f64) {
    runtime().block_on(async move {
        tokio::spawn(async move {
            let mut addrs = Vec::with_capacity(n);
            let before = rss_bytes();
            let started = Instant::now();
            for _ in 0..n {
                addrs.push(Counter::spawn(()).await.expect("spawn"));
            }
            let elapsed = started.elapsed();
            // Let every actor reach its idle receive before measuring.
            tokio::time::sleep(Duration::from_millis(200)).await;
            let grown = rss_bytes().saturating_sub(before);
            // Wake every actor once: it now has a task, parked on an empty mailbox.
            for a in &addrs {
                assert_eq!(a.echo(1).await, Ok(1));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            let grown_used = rss_bytes().saturating_sub(before);
            (
                nanos_each(elapsed, n),
                grown as f64 / n as f64,
                grown_used as f64 / n as f64,
            )
        })
        .await
        .expect("spawner")
    })
}

/// Milliseconds for one `introspect::snapshot` of `n` idle actors (median of 5), and the
/// same for a walk that only counts them (`actor_count`), as the floor.
fn snapshot_ours(n: usize) -> (f64, f64) {
    runtime().block_on(async move {
        let mut addrs = Vec::with_capacity(n);
        for _ in 0..n {
            addrs.push(Counter::spawn(()).await.expect("spawn"));
        }
        let time = |f: &dyn Fn() -> usize| {
            let mut runs: Vec<f64> = (0..5)
                .map(|_| {
                    let t = Instant::now();
                    assert!(std::hint::black_box(f()) >= n);
                    t.elapsed().as_secs_f64() * 1e3
                })
                .collect();
            runs.sort_by(f64::total_cmp);
            runs[2]
        };
        let snapshot = time(&|| actor_runtime::introspect::snapshot().len());
        let count = time(&actor_runtime::actor_count);
        drop(addrs);
        (snapshot, count)
    })
}

fn spawn_tokio(n: usize) -> (f64, f64, f64) {
    runtime().block_on(async move {
        tokio::spawn(async move {
            let mut senders = Vec::with_capacity(n);
            let before = rss_bytes();
            let started = Instant::now();
            for _ in 0..n {
                let (tx, mut rx) = mpsc::channel::<(u64, oneshot::Sender<u64>)>(CAPACITY);
                tokio::spawn(async move {
                    let mut total = 0;
                    while let Some((v, reply)) = rx.recv().await {
                        total += v;
                        let _ = reply.send(total);
                    }
                });
                senders.push(tx);
            }
            let elapsed = started.elapsed();
            tokio::time::sleep(Duration::from_millis(200)).await;
            let grown = rss_bytes().saturating_sub(before);
            for s in &senders {
                let (reply, answer) = oneshot::channel();
                s.send((1, reply)).await.expect("task alive");
                assert_eq!(answer.await, Ok(1));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            let grown_used = rss_bytes().saturating_sub(before);
            (
                nanos_each(elapsed, n),
                grown as f64 / n as f64,
                grown_used as f64 / n as f64,
            )
        })
        .await
        .expect("spawner")
    })
}

const DATAGRAMS: u64 = 200_000;

/// Sends `n` small datagrams to `to` as fast as the socket takes them.
async fn blast(to: std::net::SocketAddr, n: u64) {
    let client = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("client");
    let payload = [7u8; 64];
    for _ in 0..n {
        let _ = client.send_to(&payload, to).await;
    }
}

/// Waits until `count` stops growing for 100 ms; returns (final count, time of last growth).
async fn settle(count: &AtomicU64, started: Instant) -> (u64, Duration) {
    let mut last = (0, started.elapsed());
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = count.load(Ordering::Relaxed);
        if now == last.0 {
            return last;
        }
        last = (now, started.elapsed());
    }
}

/// (datagrams/s received and handled by actors, fraction received).
fn udp_ours(n: u64) -> (f64, f64) {
    runtime().block_on(async move {
        let count = Arc::new(AtomicU64::new(0));
        let pool = Pool::<Sink>::start(2, count.clone()).await.expect("pool");
        let config = UdpConfig {
            readers: 2,
            recv_buffer: Some(8 << 20),
            ..UdpConfig::new("127.0.0.1:0".parse().expect("addr"))
        };
        let target = pool.clone();
        let server = UdpServer::bind(&config, move |d| target.packet(d)).expect("bind");
        let started = Instant::now();
        blast(server.local_addr(), n).await;
        let (got, at) = settle(&count, started).await;
        (got as f64 / at.as_secs_f64(), got as f64 / n as f64)
    })
}

fn udp_tokio(n: u64) -> (f64, f64) {
    runtime().block_on(async move {
        let count = Arc::new(AtomicU64::new(0));
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let to = socket.local_addr().expect("addr");
        let counter = count.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 65_536];
            while let Ok((len, _)) = socket.recv_from(&mut buf).await {
                std::hint::black_box(buf[..len].to_vec());
                counter.fetch_add(1, Ordering::Relaxed);
            }
        });
        let started = Instant::now();
        blast(to, n).await;
        let (got, at) = settle(&count, started).await;
        (got as f64 / at.as_secs_f64(), got as f64 / n as f64)
    })
}

const REQUESTS: usize = 20_000;
const HTTP_CONCURRENCY: usize = 32;

/// Requests per second from `HTTP_CONCURRENCY` keep-alive clients against `url`.
async fn hammer(url: String, n: usize) -> f64 {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let per_task = n / HTTP_CONCURRENCY;
    let tasks: Vec<_> = (0..HTTP_CONCURRENCY)
        .map(|_| {
            let client = client.clone();
            let url = url.clone();
            tokio::spawn(async move {
                for _ in 0..per_task {
                    let response = client.get(&url).send().await.expect("request");
                    assert!(response.status().is_success());
                    response.bytes().await.expect("body");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("client task");
    }
    (per_task * HTTP_CONCURRENCY) as f64 / started.elapsed().as_secs_f64()
}

/// An axum handler that calls an actor for every request.
async fn via_actor(
    axum::extract::State(counter): axum::extract::State<Addr<Counter>>,
) -> Result<String, actor_runtime::io::http::CallRejection> {
    Ok(counter.echo(1).await?.to_string())
}

fn http_ours(n: usize) -> f64 {
    runtime().block_on(async move {
        let counter = Counter::spawn(()).await.expect("spawn");
        let router = axum::Router::new()
            .route("/", axum::routing::get(via_actor))
            .with_state(counter);
        let server = actor_runtime::io::http::serve("127.0.0.1:0".parse().expect("addr"), router)
            .await
            .expect("serve");
        hammer(format!("http://{}/", server.local_addr()), n).await
    })
}

fn http_plain(n: usize) -> f64 {
    runtime().block_on(async move {
        let router = axum::Router::new().route("/", axum::routing::get(|| async { "1" }));
        let server = actor_runtime::io::http::serve("127.0.0.1:0".parse().expect("addr"), router)
            .await
            .expect("serve");
        hammer(format!("http://{}/", server.local_addr()), n).await
    })
}

fn tell_kameo(n: u64) -> f64 {
    runtime().block_on(async move { tokio::spawn(peers::tell(n)).await.expect("producer") })
}

fn call_kameo(n: usize) -> (f64, f64) {
    runtime().block_on(async move {
        let mut samples = tokio::spawn(peers::call(n)).await.expect("caller");
        percentiles(&mut samples)
    })
}

fn rss_bytes() -> u64 {
    // Second field of /proc/self/statm: resident pages.
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn per_second(n: u64, elapsed: Duration) -> f64 {
    n as f64 / elapsed.as_secs_f64()
}

fn nanos_each(elapsed: Duration, n: usize) -> f64 {
    elapsed.as_nanos() as f64 / n as f64
}

fn percentiles(samples: &mut [Duration]) -> (f64, f64) {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize].as_nanos() as f64;
    (at(0.5), at(0.99))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs one phase in this process and prints its numbers on one line.
fn run_phase(phase: &str, quick: bool) {
    if let Some(base) = phase.strip_suffix("+prom") {
        // The same phase with a Prometheus recorder installed: the runtime's metrics on.
        metrics_exporter_prometheus::PrometheusBuilder::new()
            .install_recorder()
            .expect("recorder");
        return run_phase(base, quick);
    }
    if std::env::var_os("WATCHDOG_OFF").is_some() {
        // For A/B runs of any phase by hand: `WATCHDOG_OFF=1 benches --phase call-ours`.
        actor_runtime::watchdog::set_budget(None);
    }
    let scale = if quick { 10 } else { 1 };
    let out = match phase {
        "tell-ours" => format!("{}", tell_ours(TELLS / scale)),
        "tell-tokio" => format!("{}", tell_tokio(TELLS / scale)),
        "call-ours" => {
            let (m, p) = call_ours(CALLS / scale as usize);
            format!("{m} {p}")
        }
        "call-tokio" => {
            let (m, p) = call_tokio(CALLS / scale as usize);
            format!("{m} {p}")
        }
        "spawn-ours" => {
            let (t, b, u) = spawn_ours(ACTORS / scale as usize);
            format!("{t} {b} {u}")
        }
        "spawn-tokio" => {
            let (t, b, u) = spawn_tokio(ACTORS / scale as usize);
            format!("{t} {b} {u}")
        }
        "tell-watchdog-ab" => {
            // On and off alternately in one process, so both see the same machine; `AB_OFF_FIRST`
            // swaps the order, to check the order does not bias the result.
            let (mut on, mut off) = (Vec::new(), Vec::new());
            for _ in 0..if quick { 2 } else { 10 } {
                let off_first = std::env::var_os("AB_OFF_FIRST").is_some();
                for on_now in [!off_first, off_first] {
                    let budget = on_now.then_some(actor_runtime::watchdog::DEFAULT_BUDGET);
                    actor_runtime::watchdog::set_budget(budget);
                    let r = tell_ours(TELLS / scale / 2);
                    if on_now { on.push(r) } else { off.push(r) }
                }
            }
            format!("{} {}", median(on), median(off))
        }
        "fair-declared-2" | "fair-undeclared-2" | "fair-declared-4" | "fair-undeclared-4" => {
            let n = if phase.ends_with('4') { 4 } else { 2 };
            let compute = Duration::from_millis(if quick { 200 } else { 1000 });
            let (m, x) = fairness::idle_call_latency(n, phase.contains("-declared"), compute);
            format!("{m} {x}")
        }
        "tell-metrics-ab" | "tell-timing-ab" => {
            let what = if phase.contains("metrics") {
                "metrics"
            } else {
                "timing"
            };
            let rounds = if quick { 2 } else { 10 };
            let (on, off) = telemetry_ab::on_off(what, rounds, || tell_ours(TELLS / scale / 2));
            format!("{on} {off}")
        }
        "call-metrics-ab" | "call-timing-ab" => {
            let what = if phase.contains("metrics") {
                "metrics"
            } else {
                "timing"
            };
            let rounds = if quick { 2 } else { 10 };
            let (on, off) =
                telemetry_ab::on_off(what, rounds, || call_ours(CALLS / scale as usize / 2).0);
            format!("{on} {off}")
        }
        "snapshot" => {
            let (s, c) = snapshot_ours(ACTORS / scale as usize);
            format!("{s} {c}")
        }
        "node-peer" | "node-tls-peer" => {
            distributed::serve(phase == "node-tls-peer");
            return;
        }
        "tcp-peer" => {
            distributed::serve_tcp();
            return;
        }
        "tcp-call" => {
            let (m, p) = distributed::tcp_calls(CALLS / 5 / scale as usize);
            format!("{m} {p}")
        }
        "node-cast-1" => format!("{}", distributed::casts(TELLS / scale, 1, false)),
        "node-cast-4" => format!("{}", distributed::casts(TELLS / scale, 4, false)),
        "node-tls-cast-1" => format!("{}", distributed::casts(TELLS / scale, 1, true)),
        "node-call" | "node-tls-call" => {
            let (m, p) = distributed::calls(CALLS / 5 / scale as usize, phase.contains("tls"));
            format!("{m} {p}")
        }
        "node-pipelined" => format!("{}", distributed::pipelined(CALLS / scale as usize, 64)),
        "node-down" => format!(
            "{}",
            distributed::down_after_kill(if quick { 2 } else { 5 })
        ),
        "node-bulk" | "node-bulk-bytes" => {
            let binary = phase.ends_with("bytes");
            let (idle, during, p99, worst) = distributed::small_beside_large(binary);
            format!("{idle} {during} {p99} {worst}")
        }
        "tell-kameo" => format!("{}", tell_kameo(TELLS / scale)),
        "call-kameo" => {
            let (m, p) = call_kameo(CALLS / scale as usize);
            format!("{m} {p}")
        }
        "http-ours" => format!("{}", http_ours(REQUESTS / scale as usize)),
        "http-plain" => format!("{}", http_plain(REQUESTS / scale as usize)),
        "udp-ours" => {
            let (r, f) = udp_ours(DATAGRAMS / scale);
            format!("{r} {f}")
        }
        "udp-tokio" => {
            let (r, f) = udp_tokio(DATAGRAMS / scale);
            format!("{r} {f}")
        }
        other => {
            eprintln!("unknown phase `{other}`");
            std::process::exit(2);
        }
    };
    println!("{out}");
}

/// Runs `phase` in a child process `reps` times; returns each run's numbers.
fn measure(phase: &str, reps: usize, quick: bool) -> Vec<Vec<f64>> {
    let exe = std::env::current_exe().expect("own executable");
    (0..reps)
        .map(|rep| {
            eprint!("\r  {phase:<12} run {}/{reps}   ", rep + 1);
            let mut cmd = Command::new(&exe);
            cmd.arg("--phase").arg(phase);
            if quick {
                cmd.arg("--quick");
            }
            let output = cmd.output().expect("run phase");
            if !output.status.success() {
                eprintln!(
                    "\nphase {phase} failed:\n{}",
                    String::from_utf8_lossy(&output.stderr)
                );
                std::process::exit(1);
            }
            String::from_utf8_lossy(&output.stdout)
                .split_whitespace()
                .map(|x| x.parse().expect("number"))
                .collect()
        })
        .collect()
}

fn column(runs: &[Vec<f64>], i: usize) -> f64 {
    median(runs.iter().map(|r| r[i]).collect())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    if let Some(at) = args.iter().position(|a| a == "--phase") {
        run_phase(args.get(at + 1).map_or("", String::as_str), quick);
        return;
    }
    let reps = if quick { 1 } else { 5 };
    eprintln!("measuring ({reps} runs per phase, medians; 2 tokio worker threads)");
    let tell_ours = measure("tell-ours", reps, quick);
    let tell_tokio = measure("tell-tokio", reps, quick);
    let call_ours = measure("call-ours", reps, quick);
    let call_tokio = measure("call-tokio", reps, quick);
    let spawn_ours = measure("spawn-ours", reps.min(3), quick);
    let spawn_tokio = measure("spawn-tokio", reps.min(3), quick);
    let udp_ours = measure("udp-ours", reps.min(3), quick);
    let udp_tokio = measure("udp-tokio", reps.min(3), quick);
    let http_ours = measure("http-ours", reps.min(3), quick);
    let http_plain = measure("http-plain", reps.min(3), quick);
    let tell_kameo = measure("tell-kameo", reps, quick);
    let call_kameo = measure("call-kameo", reps, quick);
    let snapshot = measure("snapshot", reps.min(3), quick);
    let tell_prom = measure("tell-ours+prom", reps, quick);
    let call_prom = measure("call-ours+prom", reps, quick);
    let watchdog_ab = measure("tell-watchdog-ab", reps.min(3), quick);
    let tell_metrics_ab = measure("tell-metrics-ab", reps.min(3), quick);
    let call_metrics_ab = measure("call-metrics-ab", reps.min(3), quick);
    let tell_timing_ab = measure("tell-timing-ab", reps.min(3), quick);
    let call_timing_ab = measure("call-timing-ab", reps.min(3), quick);
    let fair = |p: &str| measure(p, reps.min(3), quick);
    let (fair_d2, fair_u2) = (fair("fair-declared-2"), fair("fair-undeclared-2"));
    let (fair_d4, fair_u4) = (fair("fair-declared-4"), fair("fair-undeclared-4"));
    let node_cast_1 = measure("node-cast-1", reps.min(3), quick);
    let node_cast_4 = measure("node-cast-4", reps.min(3), quick);
    let node_call = measure("node-call", reps.min(3), quick);
    let node_tls_cast_1 = measure("node-tls-cast-1", reps.min(3), quick);
    let node_tls_call = measure("node-tls-call", reps.min(3), quick);
    let node_pipelined = measure("node-pipelined", reps.min(3), quick);
    let node_down = measure("node-down", 1, quick);
    let node_bulk = measure("node-bulk", reps.min(3), quick);
    let node_bulk_bytes = measure("node-bulk-bytes", reps.min(3), quick);
    let tcp_call = measure("tcp-call", reps.min(3), quick);
    eprintln!("\r{:40}", "");

    let row = |name: &str, ours: f64, base: f64, unit: &str, higher_is_better: bool| {
        let ratio = ours / base;
        let note = if higher_is_better {
            "x throughput"
        } else {
            "x cost"
        };
        println!("{name:<28} {ours:>14.1} {base:>14.1}  {unit:<8} {ratio:>6.2}{note}");
    };
    println!(
        "{:<28} {:>14} {:>14}  {:<8} {:>6}",
        "measure", "actor-runtime", "raw tokio", "unit", "ratio"
    );
    row(
        "tell throughput",
        column(&tell_ours, 0) / 1e6,
        column(&tell_tokio, 0) / 1e6,
        "M msg/s",
        true,
    );
    row(
        "call round trip, median",
        column(&call_ours, 0),
        column(&call_tokio, 0),
        "ns",
        false,
    );
    row(
        "call round trip, p99",
        column(&call_ours, 1),
        column(&call_tokio, 1),
        "ns",
        false,
    );
    row(
        "spawn, per actor",
        column(&spawn_ours, 0),
        column(&spawn_tokio, 0),
        "ns",
        false,
    );
    row(
        "memory per idle, never used",
        column(&spawn_ours, 1),
        column(&spawn_tokio, 1),
        "bytes",
        false,
    );
    row(
        "memory per idle, after 1 call",
        column(&spawn_ours, 2),
        column(&spawn_tokio, 2),
        "bytes",
        false,
    );
    row(
        "udp datagrams received",
        column(&udp_ours, 0) / 1e3,
        column(&udp_tokio, 0) / 1e3,
        "k/s",
        true,
    );
    row(
        "udp datagrams kept",
        column(&udp_ours, 1) * 100.0,
        column(&udp_tokio, 1) * 100.0,
        "%",
        true,
    );
    println!("{:<28} {:>14} {:>14}", "", "actor-runtime", "kameo 0.22");
    row(
        "tell throughput",
        column(&tell_ours, 0) / 1e6,
        column(&tell_kameo, 0) / 1e6,
        "M msg/s",
        true,
    );
    row(
        "call round trip, median",
        column(&call_ours, 0),
        column(&call_kameo, 0),
        "ns",
        false,
    );
    println!("{:<28} {:>14} {:>14}", "", "via an actor", "plain axum");
    row(
        "http requests (32 clients)",
        column(&http_ours, 0) / 1e3,
        column(&http_plain, 0) / 1e3,
        "k/s",
        true,
    );
    println!("{:<28} {:>14} {:>14}", "", "metrics on", "metrics off");
    row(
        "tell throughput",
        column(&tell_prom, 0) / 1e6,
        column(&tell_ours, 0) / 1e6,
        "M msg/s",
        true,
    );
    row(
        "call round trip, median",
        column(&call_prom, 0),
        column(&call_ours, 0),
        "ns",
        false,
    );
    println!("{:<28} {:>14} {:>14}", "", "snapshot", "count only");
    row(
        &format!(
            "introspect {}k idle actors",
            ACTORS / if quick { 10_000 } else { 1_000 }
        ),
        column(&snapshot, 0),
        column(&snapshot, 1),
        "ms",
        false,
    );
    println!(
        "{:<28} {:>14} {:>14}",
        "one process, alternating", "metrics on", "metrics off"
    );
    row(
        "tell throughput",
        column(&tell_metrics_ab, 0) / 1e6,
        column(&tell_metrics_ab, 1) / 1e6,
        "M msg/s",
        true,
    );
    row(
        "call round trip, median",
        column(&call_metrics_ab, 0),
        column(&call_metrics_ab, 1),
        "ns",
        false,
    );
    println!(
        "{:<28} {:>14} {:>14}",
        "one process, alternating", "timing on", "timing off"
    );
    row(
        "tell throughput",
        column(&tell_timing_ab, 0) / 1e6,
        column(&tell_timing_ab, 1) / 1e6,
        "M msg/s",
        true,
    );
    row(
        "call round trip, median",
        column(&call_timing_ab, 0),
        column(&call_timing_ab, 1),
        "ns",
        false,
    );
    println!("{:<28} {:>14} {:>14}", "", "watchdog on", "watchdog off");
    row(
        "tell throughput",
        column(&watchdog_ab, 0) / 1e6,
        column(&watchdog_ab, 1) / 1e6,
        "M msg/s",
        true,
    );
    println!(
        "{:<28} {:>14} {:>14}",
        "idle actor's call while", "blocking", "undeclared"
    );
    for (n, d, u) in [(2, &fair_d2, &fair_u2), (4, &fair_d4, &fair_u4)] {
        row(
            &format!("  {n} compute, median"),
            column(d, 0) / 1e3,
            column(u, 0) / 1e3,
            "us",
            false,
        );
        row(
            &format!("  {n} compute, worst"),
            column(d, 1) / 1e3,
            column(u, 1) / 1e3,
            "us",
            false,
        );
    }
    println!(
        "{:<28} {:>14} {:>14}",
        "two OS processes, loopback", "between nodes", "local"
    );
    row(
        "casts, 1 sender",
        column(&node_cast_1, 0) / 1e6,
        column(&tell_ours, 0) / 1e6,
        "M msg/s",
        true,
    );
    row(
        "casts, 4 senders",
        column(&node_cast_4, 0) / 1e6,
        column(&tell_ours, 0) / 1e6,
        "M msg/s",
        true,
    );
    println!(
        "{:<28} {:>14} {:>14}",
        "two OS processes, loopback", "between nodes", "raw tokio TCP"
    );
    row(
        "call round trip, median",
        column(&node_call, 0) / 1e3,
        column(&tcp_call, 0) / 1e3,
        "us",
        false,
    );
    row(
        "call round trip, p99",
        column(&node_call, 1) / 1e3,
        column(&tcp_call, 1) / 1e3,
        "us",
        false,
    );
    println!(
        "{:<28} {:>14} {:>14}",
        "two OS processes, loopback", "over TLS 1.3", "plain TCP"
    );
    row(
        "casts, 1 sender",
        column(&node_tls_cast_1, 0) / 1e6,
        column(&node_cast_1, 0) / 1e6,
        "M msg/s",
        true,
    );
    row(
        "call round trip, median",
        column(&node_tls_call, 0) / 1e3,
        column(&node_call, 0) / 1e3,
        "us",
        false,
    );
    row(
        "call round trip, p99",
        column(&node_tls_call, 1) / 1e3,
        column(&node_call, 1) / 1e3,
        "us",
        false,
    );
    println!(
        "{:<28} {:>14.1} {:>14}  {:<8}",
        "pipelined calls (64)",
        column(&node_pipelined, 0) / 1e3,
        "",
        "k/s"
    );
    println!(
        "{:<28} {:>14.1} {:>14}  {:<8}",
        "SIGKILL to Down",
        column(&node_down, 0),
        "",
        "ms"
    );
    println!(
        "{:<28} {:>14} {:>14}",
        "small call round trip", "16 MiB crossing", "idle"
    );
    for (what, runs) in [("Vec<u8>", &node_bulk), ("Bytes", &node_bulk_bytes)] {
        row(
            &format!("  {what}, median"),
            column(runs, 1),
            column(runs, 0),
            "us",
            false,
        );
        row(
            &format!("  {what}, p99"),
            column(runs, 2),
            column(runs, 0),
            "us",
            false,
        );
        row(
            &format!("  {what}, worst"),
            column(runs, 3) / 1e3,
            column(runs, 0) / 1e3,
            "ms",
            false,
        );
    }
}
