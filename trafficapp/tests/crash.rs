//! Killing the storage actor under load: rest_for_one restarts only it (it is the last
//! child), and no position acknowledged as stored is lost.

use std::time::Duration;

use tokio::net::UdpSocket;
use trafficapp::Settings;
use trafficapp::packet::encode;
use trafficapp::store::Location;

mod common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_writer_is_restarted_alone_and_loses_nothing_it_acknowledged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = Settings::defaults();
    settings.udp = "127.0.0.1:0".parse().expect("addr");
    settings.https = "127.0.0.1:0".parse().expect("addr");
    settings.store = dir.path().join("traffic.db").display().to_string();
    settings.batch = 64;
    let store = settings.store.clone();
    let running = trafficapp::start(settings).await.expect("start");
    let udp = running.edge.receiver.local_addr().await.expect("receiver");
    let pipeline = &running.pipeline;
    let dispatcher = pipeline.dispatcher.addr().expect("dispatcher").pid();
    let emergency = pipeline.emergency.addr().expect("emergency").pid();
    let first = pipeline.storage.addr().expect("storage");

    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("socket");
    let sender = tokio::spawn(async move {
        // Every report a new vehicle, so the store's vehicle count is the positions kept.
        for i in 0..20_000u32 {
            let packet = encode(&format!("v{i}"), 1.0, 1.0, false).expect("encode");
            let _ = socket.send_to(&packet, udp).await;
            if i % 200 == 0 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    });
    // Kill the writer once it has acknowledged some batches.
    while first.stored().await.unwrap_or(0) < 2_000 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    first.kill();
    let acknowledged_before_kill = {
        // What the dead incarnation acknowledged: every batch it committed.
        first.wait_for_exit().await;
        common::sample(
            &trafficapp::telemetry::metrics().render(),
            "traffic_positions_stored_total",
        )
    };
    let second = loop {
        match pipeline.storage.addr() {
            Some(addr) if addr.pid() != first.pid() => break addr,
            _ => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    };
    sender.await.expect("sender");
    // rest_for_one: storage is the last child, so nothing before it restarted.
    assert_eq!(
        pipeline.dispatcher.addr().expect("dispatcher").pid(),
        dispatcher
    );
    assert_eq!(
        pipeline.emergency.addr().expect("emergency").pid(),
        emergency
    );
    // The new writer carries on.
    let _ = second.sync().await.expect("sync");
    let mut reader = Location::parse(&store)
        .expect("location")
        .reader()
        .expect("reader");
    let kept = reader.count().expect("count") as f64;
    assert!(acknowledged_before_kill >= 2_000.0);
    assert!(
        kept >= acknowledged_before_kill,
        "{kept} stored, but {acknowledged_before_kill} were acknowledged before the kill"
    );
    running.controller.stop().await;
}
