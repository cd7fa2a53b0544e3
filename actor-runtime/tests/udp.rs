//! The UDP bridge on loopback: end-to-end counts, replies, oversized datagrams, stop.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use actor_runtime::Pool;
use actor_runtime::io::udp::{Datagram, UdpConfig, UdpServer};
use actor_runtime::prelude::*;
use tokio::net::UdpSocket;

/// Counts the datagrams it receives.
#[actor(mailbox = 4096)]
struct Ingest {
    count: Arc<AtomicU64>,
}

#[actor]
impl Ingest {
    #[init]
    fn init(count: Arc<AtomicU64>) -> Self {
        Ingest { count }
    }

    #[handle(cast)]
    fn packet(&mut self, datagram: Datagram) {
        assert!(!datagram.payload.is_empty());
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// Echoes the payload back, with the receive time it saw.
    #[handle(cast)]
    fn echo(&mut self, datagram: Datagram) {
        assert!(datagram.received <= SystemTime::now());
        let _ = datagram.reply(&datagram.payload);
    }
}

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().expect("address")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_datagrams_are_counted_end_to_end() {
    let count = Arc::new(AtomicU64::new(0));
    let pool = Pool::<Ingest>::start(4, count.clone()).await.expect("pool");
    let config = UdpConfig {
        readers: 2,
        recv_buffer: Some(4 << 20),
        ..UdpConfig::new(loopback())
    };
    let target = pool.clone();
    let server = UdpServer::bind(&config, move |d| target.packet(d)).expect("bind");
    let client = UdpSocket::bind(loopback()).await.expect("client");
    let to = server.local_addr();
    const N: u64 = 100_000;
    for i in 0..N {
        client.send_to(&i.to_le_bytes(), to).await.expect("send");
        // Paced so the kernel's receive buffer never overflows: the test counts what the
        // server does, not what loopback may drop.
        if i % 256 == 255 {
            while server.stats().received < i + 1 - 64 {
                tokio::task::yield_now().await;
            }
        }
    }
    // `received` is counted before the hand-over; wait until every datagram is accounted for.
    let settled = |s: &actor_runtime::io::udp::UdpStats| {
        s.received == N && s.delivered + s.shed + s.undeliverable + s.oversized == N
    };
    while !settled(&server.stats()) {
        tokio::task::yield_now().await;
    }
    let stats = server.stats();
    assert_eq!(stats.received, N);
    assert_eq!(stats.delivered + stats.shed, N);
    assert_eq!(
        (stats.oversized, stats.errors, stats.undeliverable),
        (0, 0, 0)
    );
    while count.load(Ordering::Relaxed) < stats.delivered {
        tokio::task::yield_now().await;
    }
    assert_eq!(count.load(Ordering::Relaxed), stats.delivered);
    server.stop();
}

#[tokio::test]
async fn datagrams_carry_their_source_and_can_be_answered() {
    let echo = Ingest::spawn(Arc::default()).await.expect("echo");
    let server = UdpServer::bind(&UdpConfig::new(loopback()), move |d| echo.echo(d)).expect("bind");
    let client = UdpSocket::bind(loopback()).await.expect("client");
    client
        .send_to(b"ping", server.local_addr())
        .await
        .expect("send");
    let mut buf = [0u8; 16];
    let (n, from) = client.recv_from(&mut buf).await.expect("reply");
    assert_eq!(&buf[..n], b"ping");
    assert_eq!(from, server.local_addr());
}

#[tokio::test]
async fn oversized_datagrams_are_counted_not_delivered() {
    let count = Arc::new(AtomicU64::new(0));
    let ingest = Ingest::spawn(count.clone()).await.expect("ingest");
    let config = UdpConfig {
        max_datagram: 8,
        ..UdpConfig::new(loopback())
    };
    let server = UdpServer::bind(&config, move |d| ingest.packet(d)).expect("bind");
    let client = UdpSocket::bind(loopback()).await.expect("client");
    client
        .send_to(&[1; 9], server.local_addr())
        .await
        .expect("send");
    client
        .send_to(&[1; 8], server.local_addr())
        .await
        .expect("send");
    while server.stats().delivered + server.stats().oversized < 2 {
        tokio::task::yield_now().await;
    }
    let stats = server.stats();
    assert_eq!((stats.oversized, stats.delivered), (1, 1));
}

#[tokio::test]
async fn a_dead_receiver_is_counted_as_undeliverable() {
    let ingest = Ingest::spawn(Arc::default()).await.expect("ingest");
    ingest.stop();
    ingest.wait_for_exit().await;
    let server =
        UdpServer::bind(&UdpConfig::new(loopback()), move |d| ingest.packet(d)).expect("bind");
    let client = UdpSocket::bind(loopback()).await.expect("client");
    client
        .send_to(b"x", server.local_addr())
        .await
        .expect("send");
    while server.stats().undeliverable < 1 {
        tokio::task::yield_now().await;
    }
    assert_eq!(server.stats().received, 1);
}

#[tokio::test]
async fn stop_closes_the_socket() {
    let server = UdpServer::bind(&UdpConfig::new(loopback()), |_| Ok(())).expect("bind");
    let addr = server.local_addr();
    server.stop();
    drop(server);
    // The reader task releases its socket once aborted; binding the port again proves it.
    let mut attempts = 0;
    loop {
        match std::net::UdpSocket::bind(addr) {
            Ok(_) => break,
            Err(e) => {
                attempts += 1;
                assert!(attempts < 1000, "port still held: {e}");
                tokio::task::yield_now().await;
            }
        }
    }
}
