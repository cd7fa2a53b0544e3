//! The real binary: SIGTERM writes every pending position before the process exits, and a
//! restarted app serves what the previous one stored; with either store.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use trafficapp::packet::encode;
use trafficapp::store::Location;

mod common;

fn free_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("port")
}

fn spawn(store: &str, udp: u16, https: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_trafficapp"))
        .args(["--store", store, "--udp", &format!("127.0.0.1:{udp}")])
        .args(["--https", &format!("127.0.0.1:{https}")])
        // Nothing is written on a timer or by batch size: only shutdown writes.
        .args(["--flush-ms", "600000", "--batch", "1000000"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start trafficapp")
}

/// A running app and its ports. A port found free by binding and releasing it can be taken by
/// another socket before the app binds it (an outgoing connection's local port, say): the app
/// then exits with "Address already in use", and it is started again on other ports.
struct App {
    child: Child,
    udp: u16,
    https: u16,
    health: serde_json::Value,
}

async fn start(client: &reqwest::Client, store: &str) -> App {
    for _ in 0..5 {
        let (udp, https) = (free_port(), free_port());
        let mut child = spawn(store, udp, https);
        if let Some(health) = healthy(client, &mut child, https).await {
            return App {
                child,
                udp,
                https,
                health,
            };
        }
    }
    panic!("trafficapp exited at start five times");
}

/// The app's health once it answers, or `None` when the process exited first.
async fn healthy(
    client: &reqwest::Client,
    child: &mut Child,
    https: u16,
) -> Option<serde_json::Value> {
    for _ in 0..400 {
        if let Ok(r) = client
            .get(format!("https://127.0.0.1:{https}/healthz"))
            .send()
            .await
        {
            if let Ok(v) = r.json::<serde_json::Value>().await {
                return Some(v);
            }
        }
        if child.try_wait().expect("try_wait").is_some() {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("trafficapp did not come up");
}

fn terminate(child: &mut Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = child.wait().expect("wait");
    assert!(exit.success(), "trafficapp exited with {exit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_writes_pending_positions_and_a_restart_serves_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    sigterm_then_restart(&dir.path().join("traffic.db").display().to_string()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_with_postgis_selected_by_a_postgres_url() {
    let db = common::Database::create();
    sigterm_then_restart(&db.url).await;
}

async fn sigterm_then_restart(store: &str) {
    let client = common::https_client();

    let mut app = start(&client, store).await;
    assert_eq!(app.health["vehicles"], 0);
    let (udp, https) = (app.udp, app.https);
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("socket");
    for i in 0..500 {
        let packet = encode(&format!("v{i}"), f64::from(i) * 0.01, 45.0, false).expect("encode");
        socket
            .send_to(&packet, ("127.0.0.1", udp))
            .await
            .expect("send");
    }
    // Every report decoded and waiting in the writer, none written yet.
    let mut decoded = 0.0;
    for _ in 0..400 {
        let metrics = common::metrics(&client, &format!("https://127.0.0.1:{https}"))
            .await
            .expect("metrics");
        decoded = common::sample(&metrics, "traffic_packets_decoded_total");
        if decoded >= 500.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(decoded, 500.0);
    let health = healthy(&client, &mut app.child, https)
        .await
        .expect("still running");
    assert_eq!(health["vehicles"], 0, "nothing written before SIGTERM");
    terminate(&mut app.child);

    // The store's clients block: off the runtime's workers.
    let location = Location::parse(store).expect("location");
    let count = tokio::task::spawn_blocking(move || {
        location.reader().expect("reader").count().expect("count")
    })
    .await
    .expect("count");
    assert_eq!(count, 500, "SIGTERM flushed every pending position");

    let mut again = start(&client, store).await;
    assert_eq!(again.health["vehicles"], 500);
    let https = again.https;
    let near = common::nearest(
        &client,
        &format!("https://127.0.0.1:{https}"),
        "?lon=0&lat=45&k=2",
    )
    .await
    .expect("query");
    assert_eq!(near[0]["ID"], "v0");
    assert_eq!(near[1]["ID"], "v1");
    terminate(&mut again.child);
}
