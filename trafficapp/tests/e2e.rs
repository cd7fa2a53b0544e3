//! End to end through the real sockets: UDP reports in, HTTPS queries out, an emergency
//! POSTed to a local receiver, bad packets and bad queries counted and answered.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::extract::State;
use axum::routing::post;
use base64::Engine;
use tokio::net::UdpSocket;
use trafficapp::Settings;
use trafficapp::packet::encode;

mod common;
use common::{https_client, metrics, nearest, sample, until};

const SAMPLE: &str = "hKJJRNkkNGUwOTEzOTYtNjJhZS00ZjNiLTg3MTUtN2I0ZmM5YzY0ZDE0o0xvbsvAU1R+Qxkx1qNMYXTLwEI9Ghs6ciCpRW1lcmdlbmN5wg==";

type Posts = Arc<Mutex<Vec<serde_json::Value>>>;

async fn emergency_receiver() -> (SocketAddr, Posts, actor_runtime::io::http::HttpServer) {
    let posts = Posts::default();
    let router = axum::Router::new()
        .route(
            "/alert",
            post(
                |State(posts): State<Posts>, Json(body): Json<serde_json::Value>| async move {
                    posts.lock().expect("posts").push(body);
                    "ok"
                },
            ),
        )
        .with_state(posts.clone());
    let server = actor_runtime::io::http::serve("127.0.0.1:0".parse().expect("addr"), router)
        .await
        .expect("receiver");
    (server.local_addr(), posts, server)
}

fn now_ms() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_millis(),
    )
    .expect("ms")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_in_over_udp_nearest_vehicles_out_over_https() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (alert_addr, posts, _receiver) = emergency_receiver().await;
    let mut settings = Settings::defaults();
    settings.udp = "127.0.0.1:0".parse().expect("addr");
    settings.https = "127.0.0.1:0".parse().expect("addr");
    settings.store = dir.path().join("traffic.db").display().to_string();
    settings.emergency_url = Some(format!("http://{alert_addr}/alert"));
    settings.observer = Some("127.0.0.1:0".parse().expect("addr"));
    settings.actor_metrics_ms = 100;
    let running = trafficapp::start(settings).await.expect("start");
    let udp = running.edge.receiver.local_addr().await.expect("receiver");
    let https = running.edge.web.local_addr().await.expect("web");
    let client = https_client();
    let base = format!("https://{https}");
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("socket");

    // The original system's sample packet, then a query near it.
    let before = now_ms();
    let packet = base64::engine::general_purpose::STANDARD
        .decode(SAMPLE)
        .expect("base64");
    socket.send_to(&packet, udp).await.expect("send");
    let found: Vec<serde_json::Value> = until("the sample packet stored", async || {
        let found = nearest(&client, &base, "?lon=-77.32&lat=-36.47").await?;
        (!found.is_empty()).then_some(found)
    })
    .await;
    let after = now_ms();
    assert_eq!(found[0]["ID"], "4e091396-62ae-4f3b-8715-7b4fc9c64d14");
    let date = found[0]["Date"].as_i64().expect("Date");
    assert!(
        (before..=after).contains(&date),
        "Date {date} is the receive time"
    );
    let distance = found[0]["Distance"].as_f64().expect("Distance");
    assert!(distance > 0.0 && distance < 2_000.0, "{distance} m");

    // Bad packets are counted and rejected; good ones keep flowing.
    let bad: Vec<Vec<u8>> = vec![
        b"not msgpack at all".to_vec(),
        packet[..packet.len() / 2].to_vec(),
        encode("x", f64::NAN, 1.0, false).expect("encode"),
        encode("x", 200.0, 1.0, false).expect("encode"),
        encode("", 1.0, 1.0, false).expect("encode"),
    ];
    for (i, datagram) in bad.iter().enumerate() {
        socket.send_to(datagram, udp).await.expect("send");
        let good =
            encode(&format!("good-{i}"), 10.0 + i as f64 * 0.001, 20.0, false).expect("encode");
        socket.send_to(&good, udp).await.expect("send");
    }
    let metrics = until("every packet counted", async || {
        let text = metrics(&client, &base).await?;
        (sample(&text, "traffic_positions_stored_total") >= 6.0).then_some(text)
    })
    .await;
    assert_eq!(
        sample(&metrics, "traffic_packets_received_total"),
        11.0,
        "{metrics}"
    );
    assert_eq!(sample(&metrics, "traffic_packets_decoded_total"), 6.0);
    assert_eq!(
        sample(
            &metrics,
            "traffic_packets_rejected_total{reason=\"malformed\"}"
        ),
        2.0
    );
    assert_eq!(
        sample(
            &metrics,
            "traffic_packets_rejected_total{reason=\"not_finite\"}"
        ),
        1.0
    );
    assert_eq!(
        sample(
            &metrics,
            "traffic_packets_rejected_total{reason=\"out_of_range\"}"
        ),
        1.0
    );
    assert_eq!(
        sample(
            &metrics,
            "traffic_packets_rejected_total{reason=\"empty_id\"}"
        ),
        1.0
    );
    // The runtime's per-kind actor figures are sampled into the same `/metrics`.
    let stored_by_storage = until("actor figures on /metrics", async || {
        let text = common::metrics(&client, &base).await?;
        let handled = sample(
            &text,
            "actor_messages_handled_total{actor=\"trafficapp::actors::storage::Storage\"}",
        );
        (handled >= 1.0).then_some(text)
    })
    .await;
    assert_eq!(
        sample(
            &stored_by_storage,
            "actor_live{actor=\"trafficapp::actors::storage::Storage\"}"
        ),
        1.0
    );

    // The observer shows the app's trees: the storage actor under a supervisor.
    let observer = running.observer.as_ref().expect("observer served");
    let snap: serde_json::Value =
        reqwest::get(format!("http://{}/api/snapshot", observer.local_addr()))
            .await
            .expect("observer answers")
            .json()
            .await
            .expect("json");
    let actors = snap["actors"].as_array().expect("actors");
    let storage = actors
        .iter()
        .find(|a| a["kind"] == "trafficapp::actors::storage::Storage")
        .expect("the storage actor is listed");
    let parent = &storage["parent"]["id"];
    assert!(
        actors
            .iter()
            .any(|a| &a["pid"]["id"] == parent && a["supervisor"].is_object()),
        "its parent is a supervisor: {snap}"
    );

    let near = nearest(&client, &base, "?lon=10&lat=20&k=3")
        .await
        .expect("query");
    assert_eq!(near.len(), 3);
    assert_eq!(near[0]["ID"], "good-0");

    // Bad queries get 400 with a JSON error.
    for query in [
        "?lat=1",
        "?lon=abc&lat=1",
        "?lon=1&lat=91",
        "?lon=1&lat=1&k=0",
    ] {
        let response = client
            .get(format!("{base}/{query}"))
            .send()
            .await
            .expect("query");
        assert_eq!(response.status(), 400, "{query}");
        let body: serde_json::Value = response.json().await.expect("json");
        assert!(body["error"].is_string(), "{query}: {body}");
    }

    // One emergency, one POST.
    let alert = encode("help-1", 1.5, 2.5, true).expect("encode");
    socket.send_to(&alert, udp).await.expect("send");
    until("the emergency posted", async || {
        (posts.lock().expect("posts").len() == 1).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let posts = posts.lock().expect("posts").clone();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(posts[0]["ID"], "help-1");

    let health: serde_json::Value = client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("healthz")
        .json()
        .await
        .expect("json");
    assert_eq!(health["status"], "ok");
    // The sample vehicle, five good ones and the one in distress.
    assert_eq!(health["vehicles"], 7, "{health}");

    running.controller.stop().await;
}
