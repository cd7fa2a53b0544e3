//! The query pool on a node of its own: the app's web actor reaches it through the same
//! client, in one process and across two; a killed query node is found again when it comes
//! back; bad node flags are refused with the fix.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use clap::Parser;
use tokio::net::UdpSocket;
use trafficapp::Settings;

mod common;
use common::{https_client, nearest, one_app_at_a_time, until};

/// The original system's sample packet: vehicle 4e091396-… at (-77.32, -36.47).
const SAMPLE: &str = "hKJJRNkkNGUwOTEzOTYtNjJhZS00ZjNiLTg3MTUtN2I0ZmM5YzY0ZDE0o0xvbsvAU1R+Qxkx1qNMYXTLwEI9Ghs6ciCpRW1lcmdlbmN5wg==";
const SAMPLE_ID: &str = "4e091396-62ae-4f3b-8715-7b4fc9c64d14";
const COOKIE: &str = "query-node-test-cookie";

/// The app's settings with its queries sent to the node `queries` at `addr`.
fn app_settings(store: &str, addr: SocketAddr) -> Settings {
    let mut settings = Settings::defaults();
    settings.udp = "127.0.0.1:0".parse().expect("addr");
    settings.https = "127.0.0.1:0".parse().expect("addr");
    settings.store = store.to_owned();
    settings.cookie = Some(COOKIE.to_owned().into());
    settings.query_node = Some(("queries".to_owned(), addr));
    settings
}

async fn send_sample(running: &trafficapp::Running) {
    let udp = running.edge.receiver.local_addr().await.expect("receiver");
    let packet = base64::engine::general_purpose::STANDARD
        .decode(SAMPLE)
        .expect("base64");
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("socket");
    socket.send_to(&packet, udp).await.expect("send");
}

/// Polls the app's query API (at the web actor's current address: a restarted web actor
/// listens on a new port) until the sample vehicle is found.
async fn sample_found(running: &trafficapp::Running, what: &str) -> Vec<serde_json::Value> {
    let client = https_client();
    until(what, async || {
        let https = running.edge.web.local_addr().await.ok()?;
        let found = nearest(
            &client,
            &format!("https://{https}"),
            "?lon=-77.32&lat=-36.47",
        )
        .await?;
        (!found.is_empty()).then_some(found)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_are_answered_by_the_pool_of_another_node_in_the_same_process() {
    let _turn = one_app_at_a_time().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("traffic.db").display().to_string();

    let mut served = Settings::defaults();
    served.store = store.clone();
    served.serve_queries = true;
    served.node_name = "queries".to_owned();
    served.node_listen = Some("127.0.0.1:0".parse().expect("addr"));
    served.cookie = Some(COOKIE.to_owned().into());
    served.query_workers = 2;
    let query_node = trafficapp::cluster::serve_queries(Arc::new(served))
        .await
        .expect("query node");
    let addr = query_node.node.local_addr().expect("listening");

    let running = trafficapp::start(app_settings(&store, addr))
        .await
        .expect("start");
    assert!(running.node.is_some(), "--query-node starts a node");
    send_sample(&running).await;
    let found = sample_found(&running, "the sample found through the query node").await;
    assert_eq!(found[0]["ID"], SAMPLE_ID);

    let stats = query_node.node.stats();
    assert!(
        stats.messages_in > 0,
        "the queries reached the query node: {stats:?}"
    );
    assert_eq!(stats.rejected_in, 0, "{stats:?}");
}

/// A free TCP port on loopback (free when asked: see `start_query_node`).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("port")
}

/// `trafficapp --serve-queries` on `port`, once it accepts connections; `None` if the process
/// exited first (the port was taken meanwhile).
async fn start_query_node(store: &str, port: u16) -> Option<Child> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_trafficapp"))
        .args([
            "--serve-queries",
            "--node-name",
            "queries",
            "--cookie",
            COOKIE,
        ])
        .args(["--node-listen", &format!("127.0.0.1:{port}")])
        .args(["--store", store, "--query-workers", "2"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start trafficapp --serve-queries");
    for _ in 0..800 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some(child);
        }
        if child.try_wait().expect("try_wait").is_some() {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let _ = child.kill();
    panic!("the query node did not listen on port {port} within 20 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_node_in_another_process_is_found_again_after_it_is_killed_and_restarted() {
    let _turn = one_app_at_a_time().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("traffic.db").display().to_string();
    let mut started = None;
    for _ in 0..5 {
        let port = free_port();
        if let Some(child) = start_query_node(&store, port).await {
            started = Some((child, port));
            break;
        }
    }
    let (mut child, port) = started.expect("the query node exited at start five times");
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();

    let running = trafficapp::start(app_settings(&store, addr))
        .await
        .expect("start");
    send_sample(&running).await;
    let found = sample_found(&running, "the sample found through the query process").await;
    assert_eq!(found[0]["ID"], SAMPLE_ID);

    // SIGKILL: the connection closes, the link fires `NoConnection`, the web actor stops
    // and its supervisor restarts it, which waits for the query node to come back.
    let first_web = running.edge.web.addr().expect("web running").pid();
    child.kill().expect("kill");
    child.wait().expect("wait");
    let node = running.node.clone().expect("the app's node");
    until("the app's node to see the connection lost", async || {
        (node.stats().connections_lost >= 1).then_some(())
    })
    .await;
    let mut child = start_query_node(&store, port)
        .await
        .expect("the query node restarted on its port");
    let found = sample_found(
        &running,
        "the sample found through the restarted query process",
    )
    .await;
    assert_eq!(found[0]["ID"], SAMPLE_ID);
    let web = running.edge.web.addr().expect("web running").pid();
    assert_ne!(web, first_web, "the web actor was restarted");
    child.kill().expect("kill");
    child.wait().expect("wait");
}

#[test]
fn node_flags_are_checked_with_the_fix_in_the_message() {
    let no_at = Settings::try_parse_from(["trafficapp", "--query-node", "127.0.0.1:4370"])
        .expect_err("no name");
    assert!(
        no_at.to_string().contains("is not NAME@HOST:PORT"),
        "{no_at}"
    );
    let bad_addr = Settings::try_parse_from(["trafficapp", "--query-node", "q@nowhere"])
        .expect_err("bad address");
    assert!(
        bad_addr.to_string().contains("`nowhere` is not HOST:PORT"),
        "{bad_addr}"
    );
    let no_cookie = Settings::try_parse_from(["trafficapp", "--query-node", "q@127.0.0.1:4370"])
        .expect_err("no cookie");
    assert!(no_cookie.to_string().contains("--cookie"), "{no_cookie}");
    let no_listen = Settings::try_parse_from(["trafficapp", "--serve-queries", "--cookie", "c"])
        .expect_err("no listen address");
    assert!(
        no_listen.to_string().contains("--node-listen"),
        "{no_listen}"
    );
    let both = Settings::try_parse_from([
        "trafficapp",
        "--serve-queries",
        "--node-listen",
        "127.0.0.1:4370",
        "--cookie",
        "c",
        "--query-node",
        "q@127.0.0.1:4371",
    ])
    .expect_err("both roles");
    assert!(both.to_string().contains("cannot be used with"), "{both}");
    let fine = Settings::try_parse_from([
        "trafficapp",
        "--query-node",
        "queries@127.0.0.1:4370",
        "--cookie",
        "s3cr3t",
    ])
    .expect("valid");
    assert_eq!(
        fine.query_node,
        Some((
            "queries".to_owned(),
            "127.0.0.1:4370".parse().expect("addr")
        ))
    );
    assert!(
        !format!("{fine:?}").contains("s3cr3t"),
        "Debug hides the cookie"
    );
    assert_eq!(fine.cookie.as_ref().map(|c| c.expose()), Some("s3cr3t"));
}
