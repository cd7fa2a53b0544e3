//! The emergency notification through real sockets: one POST per emergency from a slow
//! receiver; every retry, then one counted failure, from a failing one; and ingestion that goes
//! on while notifications hang.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use tokio::net::UdpSocket;
use tokio::sync::Notify;
use trafficapp::packet::encode;
use trafficapp::{Running, Settings};

mod common;
use common::{https_client, metrics, one_app_at_a_time, sample, until};

/// How the test receiver answers.
#[derive(Clone)]
enum Answer {
    /// 200, after a pause.
    OkAfter(Duration),
    /// 500 at once.
    Fail,
    /// Nothing until released, then 200.
    HoldUntil(Arc<Notify>),
}

#[derive(Clone)]
struct Receiver {
    answer: Answer,
    /// The vehicle ID of every POST that arrived, in order.
    posts: Arc<Mutex<Vec<String>>>,
}

async fn alert(State(r): State<Receiver>, Json(body): Json<serde_json::Value>) -> StatusCode {
    let id = body["ID"].as_str().unwrap_or_default().to_owned();
    r.posts.lock().expect("posts").push(id);
    match r.answer {
        Answer::OkAfter(pause) => {
            tokio::time::sleep(pause).await;
            StatusCode::OK
        }
        Answer::Fail => StatusCode::INTERNAL_SERVER_ERROR,
        Answer::HoldUntil(release) => {
            release.notified().await;
            StatusCode::OK
        }
    }
}

async fn receiver(
    answer: Answer,
) -> (
    SocketAddr,
    Arc<Mutex<Vec<String>>>,
    actor_runtime::io::http::HttpServer,
) {
    let state = Receiver {
        answer,
        posts: Arc::default(),
    };
    let posts = state.posts.clone();
    let router = axum::Router::new()
        .route("/alert", post(alert))
        .with_state(state);
    let server = actor_runtime::io::http::serve("127.0.0.1:0".parse().expect("addr"), router)
        .await
        .expect("receiver");
    (server.local_addr(), posts, server)
}

struct App {
    running: Running,
    udp: SocketAddr,
    base: String,
    _dir: tempfile::TempDir,
}

async fn app(alert_addr: SocketAddr, timeout_ms: u64, attempts: u32) -> App {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = Settings::defaults();
    settings.udp = "127.0.0.1:0".parse().expect("addr");
    settings.https = "127.0.0.1:0".parse().expect("addr");
    settings.store = dir.path().join("traffic.db").display().to_string();
    settings.emergency_url = Some(format!("http://{alert_addr}/alert"));
    settings.emergency_timeout_ms = timeout_ms;
    settings.emergency_attempts = attempts;
    let running = trafficapp::start(settings).await.expect("start");
    let udp = running.edge.receiver.local_addr().await.expect("receiver");
    let https = running.edge.web.local_addr().await.expect("web");
    App {
        running,
        udp,
        base: format!("https://{https}"),
        _dir: dir,
    }
}

/// The count of emergency notifications with `outcome`, as `/metrics` shows it now.
async fn outcome(client: &reqwest::Client, base: &str, outcome: &str) -> f64 {
    let text = metrics(client, base).await.expect("metrics");
    sample(
        &text,
        &format!("traffic_emergencies_total{{outcome=\"{outcome}\"}}"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_receiver_gets_exactly_one_post_per_emergency() {
    let _turn = one_app_at_a_time().await;
    let (addr, posts, _server) = receiver(Answer::OkAfter(Duration::from_millis(400))).await;
    let app = app(addr, 2_000, 4).await;
    let client = https_client();
    let sent_before = outcome(&client, &app.base, "sent").await;

    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("socket");
    let packet = encode("slow-1", 3.0, 4.0, true).expect("encode");
    socket.send_to(&packet, app.udp).await.expect("send");
    until("the emergency counted as sent", async || {
        (outcome(&client, &app.base, "sent").await > sent_before).then_some(())
    })
    .await;
    // Longer than any retry would wait: no second POST comes.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(*posts.lock().expect("posts"), ["slow-1"]);
    assert_eq!(outcome(&client, &app.base, "sent").await, sent_before + 1.0);
    app.running.controller.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_receiver_gets_every_attempt_then_the_emergency_counts_as_failed() {
    let _turn = one_app_at_a_time().await;
    let (addr, posts, _server) = receiver(Answer::Fail).await;
    let app = app(addr, 2_000, 3).await;
    let client = https_client();
    let failed_before = outcome(&client, &app.base, "failed").await;
    let sent_before = outcome(&client, &app.base, "sent").await;

    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("socket");
    let packet = encode("failing-1", 3.0, 4.0, true).expect("encode");
    socket.send_to(&packet, app.udp).await.expect("send");
    until("the emergency counted as failed", async || {
        (outcome(&client, &app.base, "failed").await > failed_before).then_some(())
    })
    .await;
    assert_eq!(
        *posts.lock().expect("posts"),
        ["failing-1", "failing-1", "failing-1"],
        "three attempts"
    );
    assert_eq!(
        outcome(&client, &app.base, "failed").await,
        failed_before + 1.0
    );
    assert_eq!(outcome(&client, &app.base, "sent").await, sent_before);
    app.running.controller.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingestion_goes_on_while_every_emergency_notification_hangs() {
    let _turn = one_app_at_a_time().await;
    let release = Arc::new(Notify::new());
    let (addr, posts, _server) = receiver(Answer::HoldUntil(release.clone())).await;
    // Long enough that nothing times out while the reports flow.
    let app = app(addr, 60_000, 1).await;
    let client = https_client();
    let stored_before = sample(
        &metrics(&client, &app.base).await.expect("metrics"),
        "traffic_positions_stored_total",
    );

    // 20,000 reports of 2,000 vehicles, one in a hundred an emergency.
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("socket");
    let (reports, emergencies) = (20_000u32, 200usize);
    for i in 0..reports {
        let id = format!("v{}", i % 2_000);
        let packet = encode(&id, f64::from(i % 360) - 179.5, 10.0, i % 100 == 0).expect("encode");
        socket.send_to(&packet, app.udp).await.expect("send");
        if i % 200 == 0 {
            // Loopback UDP drops what outruns the receiver; keep well below that.
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    // Every report stored while no notification has been answered.
    until("every report stored", async || {
        let text = metrics(&client, &app.base).await?;
        let stored = sample(&text, "traffic_positions_stored_total") - stored_before;
        (stored >= f64::from(reports)).then_some(())
    })
    .await;
    until("every emergency posted", async || {
        (posts.lock().expect("posts").len() == emergencies).then_some(())
    })
    .await;
    let sent_before = outcome(&client, &app.base, "sent").await;
    // Released, every one is answered and counted.
    release.notify_waiters();
    until("every emergency counted as sent", async || {
        (outcome(&client, &app.base, "sent").await >= sent_before + 200.0).then_some(())
    })
    .await;
    app.running.controller.stop().await;
}
