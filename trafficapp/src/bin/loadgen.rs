//! `loadgen`: drives a running trafficapp.
//!
//! `loadgen send` plays N vehicles with stable IDs reporting over UDP at a target rate, one
//! report in 1000 an emergency, with a live progress line and a final summary (with the
//! server's own counts when `--server` is given). `loadgen query` drives the HTTPS API at a
//! target rate and reports latency percentiles.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug, Parser)]
#[command(
    name = "loadgen",
    about = "Load for trafficapp: UDP reports and HTTPS queries"
)]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// Send position reports over UDP.
    Send(Send),
    /// Query the HTTPS API.
    Query(Query),
}

#[derive(Debug, Args)]
struct Send {
    /// Where trafficapp receives reports.
    #[arg(long, default_value = "127.0.0.1:9092")]
    target: SocketAddr,
    /// Simulated vehicles (IDs `vehicle-0` ..).
    #[arg(long, default_value_t = 10_000)]
    vehicles: u32,
    /// Reports per second.
    #[arg(long, default_value_t = 5_000)]
    rate: u64,
    /// Seconds to run.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// One report in this many is an emergency (0: none).
    #[arg(long, default_value_t = 1000)]
    emergency_every: u64,
    /// The app's HTTPS base URL: its counters are read before and after the run.
    #[arg(long)]
    server: Option<String>,
}

#[derive(Debug, Args)]
struct Query {
    /// The app's HTTPS base URL.
    #[arg(long, default_value = "https://127.0.0.1:9090")]
    server: String,
    /// Queries per second.
    #[arg(long, default_value_t = 500)]
    rate: u64,
    /// Seconds to run.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    clients: u64,
}

/// A tiny deterministic generator (xorshift): same vehicles and routes on every run.
struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn bar(len: u64) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap_or_else(|e| fail(&format!("http client: {e}")))
}

fn fail(message: &str) -> ! {
    eprintln!("loadgen: {message}");
    std::process::exit(2)
}

/// The counters of the app's `/metrics` that the summary shows.
async fn server_counts(client: &reqwest::Client, server: &str) -> Option<Vec<(String, f64)>> {
    let text = client
        .get(format!("{server}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    Some(
        text.lines()
            .filter(|l| {
                l.starts_with("traffic_") && !l.contains("_bucket") && !l.contains("_seconds")
            })
            .filter_map(|l| {
                let (name, value) = l.rsplit_once(' ')?;
                Some((name.to_owned(), value.parse().ok()?))
            })
            .collect(),
    )
}

fn send(args: &Send) {
    let socket = UdpSocket::bind(if args.target.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    })
    .unwrap_or_else(|e| fail(&format!("udp socket: {e}")));
    let total = args.rate * args.seconds;
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    // Each vehicle starts somewhere on land-ish latitudes and drifts.
    let mut vehicles: Vec<(String, f64, f64)> = (0..args.vehicles.max(1))
        .map(|i| {
            (
                format!("vehicle-{i}"),
                rng.unit() * 360.0 - 180.0,
                rng.unit() * 120.0 - 60.0,
            )
        })
        .collect();
    let bar = bar(total);
    let started = Instant::now();
    let (mut sent, mut errors, mut emergencies) = (0u64, 0u64, 0u64);
    let mut last_update = Instant::now();
    while sent < total {
        // Pace: send what the schedule says is due, then sleep a little.
        let due = ((started.elapsed().as_secs_f64() * args.rate as f64) as u64).min(total);
        while sent < due {
            let n = vehicles.len();
            let v = &mut vehicles[(sent % n as u64) as usize];
            v.1 = (v.1 + (rng.unit() - 0.5) * 0.001).clamp(-180.0, 180.0);
            v.2 = (v.2 + (rng.unit() - 0.5) * 0.001).clamp(-90.0, 90.0);
            let emergency =
                args.emergency_every > 0 && sent % args.emergency_every == args.emergency_every - 1;
            emergencies += u64::from(emergency);
            let packet = trafficapp::packet::encode(&v.0, v.1, v.2, emergency)
                .unwrap_or_else(|e| fail(&format!("encode: {e}")));
            if socket.send_to(&packet, args.target).is_err() {
                errors += 1;
            }
            sent += 1;
        }
        if last_update.elapsed() >= Duration::from_millis(250) {
            last_update = Instant::now();
            bar.set_position(sent);
            bar.set_message(format!(
                "{:.0}/s, {errors} errors",
                sent as f64 / started.elapsed().as_secs_f64()
            ));
        }
        std::thread::sleep(Duration::from_micros(500));
    }
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    println!(
        "sent {sent} reports ({emergencies} emergencies) from {} vehicles in {:.2} s: {:.0}/s offered, {errors} send errors",
        vehicles.len(),
        elapsed.as_secs_f64(),
        sent as f64 / elapsed.as_secs_f64()
    );
}

async fn query(args: &Query) {
    let client = client();
    let total = args.rate * args.seconds;
    let per_client = (total / args.clients.max(1)).max(1);
    let interval = Duration::from_secs_f64(args.clients.max(1) as f64 / args.rate.max(1) as f64);
    let bar = bar(per_client * args.clients.max(1));
    let started = Instant::now();
    let tasks: Vec<_> = (0..args.clients.max(1))
        .map(|c| {
            let client = client.clone();
            let server = args.server.clone();
            let bar = bar.clone();
            tokio::spawn(async move {
                let mut rng = Rng(0x9e37_79b9 + c);
                let mut latencies =
                    Histogram::<u64>::new(3).unwrap_or_else(|e| fail(&format!("histogram: {e}")));
                let mut errors = 0u64;
                let mut ticks = tokio::time::interval(interval);
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                for _ in 0..per_client {
                    ticks.tick().await;
                    let (lon, lat) = (rng.unit() * 360.0 - 180.0, rng.unit() * 120.0 - 60.0);
                    let t = Instant::now();
                    let ok = match client
                        .get(format!("{server}/?lon={lon}&lat={lat}"))
                        .send()
                        .await
                    {
                        Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                        _ => false,
                    };
                    let micros = u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX);
                    if ok {
                        let _ = latencies.record(micros.max(1));
                    } else {
                        errors += 1;
                    }
                    bar.inc(1);
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut all = Histogram::<u64>::new(3).unwrap_or_else(|e| fail(&format!("histogram: {e}")));
    let mut errors = 0;
    for t in tasks {
        let (h, e) = t
            .await
            .unwrap_or_else(|e| fail(&format!("client task: {e}")));
        let _ = all.add(h);
        errors += e;
    }
    bar.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64();
    let ms = |q: f64| all.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "{} queries in {elapsed:.2} s ({:.0}/s), {errors} errors; latency p50 {:.3} ms, p99 {:.3} ms, p999 {:.3} ms, max {:.3} ms",
        all.len() + errors,
        (all.len() + errors) as f64 / elapsed,
        ms(0.5),
        ms(0.99),
        ms(0.999),
        all.max() as f64 / 1000.0
    );
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    match cli.mode {
        Mode::Send(args) => {
            let client = client();
            let before = match &args.server {
                Some(s) => server_counts(&client, s).await,
                None => None,
            };
            let args = tokio::task::spawn_blocking(move || {
                send(&args);
                args
            })
            .await
            .unwrap_or_else(|e| fail(&format!("sender: {e}")));
            if let Some(server) = &args.server {
                // Let the pipeline drain its last batches before reading its counters.
                tokio::time::sleep(Duration::from_millis(500)).await;
                if let Some(after) = server_counts(&client, server).await {
                    println!("server counters during the run:");
                    for (name, value) in after {
                        let was = before
                            .as_ref()
                            .and_then(|b| b.iter().find(|(n, _)| *n == name).map(|(_, v)| *v))
                            .unwrap_or(0.0);
                        println!("  {name} {}", value - was);
                    }
                } else {
                    eprintln!("loadgen: could not read {server}/metrics");
                }
            }
        }
        Mode::Query(args) => query(&args).await,
    }
}
