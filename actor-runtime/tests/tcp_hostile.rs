//! The TCP bridge against hostile and broken clients: connection caps, idle and write
//! timeouts, oversized headers, and the byte budget per connection. Each test asserts the
//! server's bounds and that a well-behaved client is still served.

use std::sync::Mutex;
use std::time::Duration;

use actor_runtime::io::tcp::{Conn, TcpConfig, TcpServer};
use actor_runtime::prelude::*;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::codec::{Framed, LengthDelimitedCodec};

/// Frames the hoarding actor keeps, so their bytes stay in flight until the test drops them.
static HOARD: Mutex<Vec<Bytes>> = Mutex::new(Vec::new());

/// Echoes frames in upper case; `blast` writes large frames until the connection gives up;
/// `hoard:` frames are kept.
#[actor(mailbox = 1024)]
struct Peer {
    conn: Conn,
}

#[actor]
impl Peer {
    #[init]
    fn init(conn: Conn) -> Self {
        Peer { conn }
    }

    #[handle(cast)]
    async fn frame(&mut self, frame: Bytes) {
        if &frame[..] == b"blast" {
            let big = Bytes::from(vec![b'x'; 32 << 10]);
            while self.conn.send(big.clone()).await.is_ok() {}
        } else if frame.starts_with(b"hoard:") {
            HOARD.lock().expect("hoard").push(frame);
        } else {
            let _ = self.conn.send(frame.to_ascii_uppercase()).await;
        }
    }
}

fn config() -> TcpConfig {
    TcpConfig::new("127.0.0.1:0".parse().expect("addr"))
}

async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let waited = tokio::time::timeout(Duration::from_secs(30), async {
        while !done() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "gave up waiting for: {what}");
}

/// A well-behaved client: one frame there and back.
async fn served(server: &TcpServer) -> Bytes {
    let stream = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    let mut framed = Framed::new(stream, LengthDelimitedCodec::new());
    framed.send(Bytes::from_static(b"hi")).await.expect("send");
    framed.next().await.expect("reply").expect("frame").freeze()
}

#[tokio::test]
async fn connections_beyond_the_cap_are_refused_and_counted_and_idle_ones_are_closed() {
    let mut config = config();
    config.max_connections = 50;
    config.idle_timeout = Some(Duration::from_millis(300));
    let server = TcpServer::bind::<Peer, _>(&config, |frame| PeerMsg::Frame { frame })
        .await
        .expect("bind");
    let mut idle = Vec::new();
    for _ in 0..500 {
        idle.push(
            TcpStream::connect(server.local_addr())
                .await
                .expect("connect"),
        );
    }
    until("every connect accepted", || server.stats().accepted == 500).await;
    let stats = server.stats();
    assert_eq!(stats.refused_connections, 450);
    assert!(stats.open <= 50, "{} open, cap 50", stats.open);
    until("the idle ones closed", || server.stats().open == 0).await;
    assert_eq!(server.stats().idle_closed, 50);
    assert_eq!(served(&server).await, Bytes::from_static(b"HI"));
    // The refused and the idle-closed connections were closed by the server.
    let mut byte = [0u8; 1];
    for stream in &mut idle[..3] {
        assert_eq!(stream.read(&mut byte).await.expect("read"), 0, "closed");
    }
}

#[tokio::test]
async fn an_oversized_header_is_refused_before_its_payload_and_a_trickled_frame_times_out() {
    let mut config = config();
    config.idle_timeout = Some(Duration::from_millis(300));
    let server = TcpServer::bind::<Peer, _>(&config, |frame| PeerMsg::Frame { frame })
        .await
        .expect("bind");

    // A header announcing 8 MiB (the limit is 64 KiB): closed at once, counted.
    let mut hostile = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    hostile
        .write_all(&(8u32 << 20).to_be_bytes())
        .await
        .expect("header");
    let mut byte = [0u8; 1];
    assert_eq!(hostile.read(&mut byte).await.expect("read"), 0, "closed");
    until("counted as malformed", || server.stats().malformed == 1).await;

    // A 60 KiB frame trickled and then stalled: closed by the idle timeout.
    let mut trickle = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    trickle
        .write_all(&(60u32 << 10).to_be_bytes())
        .await
        .expect("header");
    trickle
        .write_all(&[b'x'; 1024])
        .await
        .expect("some payload");
    assert_eq!(trickle.read(&mut byte).await.expect("read"), 0, "closed");
    assert_eq!(server.stats().idle_closed, 1);
    assert_eq!(server.stats().frames, 0);
    assert_eq!(served(&server).await, Bytes::from_static(b"HI"));
}

#[tokio::test]
async fn a_peer_that_never_reads_is_closed_by_the_write_timeout() {
    let mut config = config();
    config.write_timeout = Duration::from_millis(300);
    let server = TcpServer::bind::<Peer, _>(&config, |frame| PeerMsg::Frame { frame })
        .await
        .expect("bind");
    let stream = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    let mut framed = Framed::new(stream, LengthDelimitedCodec::new());
    framed
        .send(Bytes::from_static(b"blast"))
        .await
        .expect("send");
    // Never read: the server's writes fill the socket buffers and then time out.
    until("the write timed out", || server.stats().write_timeouts == 1).await;
    until("the connection closed", || server.stats().open == 0).await;
    assert_eq!(served(&server).await, Bytes::from_static(b"HI"));
}

#[tokio::test]
async fn frames_the_actor_still_holds_count_against_max_buffered() {
    let mut config = config();
    config.max_frame = 16 << 10;
    config.max_buffered = 64 << 10;
    let server = TcpServer::bind::<Peer, _>(&config, |frame| PeerMsg::Frame { frame })
        .await
        .expect("bind");
    let stream = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    let mut framed = Framed::new(stream, LengthDelimitedCodec::new());
    let mut frame = b"hoard:".to_vec();
    frame.resize(16 << 10, b'x');
    for _ in 0..10 {
        framed.send(Bytes::from(frame.clone())).await.expect("send");
    }
    until("the budget is used", || server.stats().frames == 4).await;
    // Whatever the timing, no more than the budget is delivered while the frames are held.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let stats = server.stats();
    assert_eq!(stats.frames, 4);
    assert_eq!(stats.buffered, 64 << 10);
    HOARD.lock().expect("hoard").clear();
    until("the rest delivered as room came back", || {
        HOARD.lock().expect("hoard").clear();
        server.stats().frames == 10
    })
    .await;
    until("nothing held", || server.stats().buffered == 0).await;
}

/// Frames the keeper holds; separate from `HOARD`, which another test clears.
static KEPT: Mutex<Vec<Bytes>> = Mutex::new(Vec::new());

/// Keeps every frame; a `stop` frame is kept too, then the actor stops.
#[actor]
struct Keeper {
    _conn: Conn,
}

#[actor]
impl Keeper {
    #[init]
    fn init(conn: Conn) -> Self {
        Keeper { _conn: conn }
    }

    #[handle(cast)]
    async fn frame(&mut self, frame: Bytes, ctx: &mut Ctx<Self>) {
        let stop = frame.starts_with(b"stop");
        KEPT.lock().expect("kept").push(frame);
        if stop {
            ctx.stop();
        }
    }
}

#[tokio::test]
async fn a_connection_waiting_for_byte_budget_closes_when_its_actor_stops() {
    let mut config = config();
    config.max_frame = 16 << 10;
    config.max_buffered = 64 << 10;
    let server = TcpServer::bind::<Keeper, _>(&config, |frame| KeeperMsg::Frame { frame })
        .await
        .expect("bind");
    let stream = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    let mut framed = Framed::new(stream, LengthDelimitedCodec::new());
    let frame = |head: &[u8]| {
        let mut frame = head.to_vec();
        frame.resize(16 << 10, b'x');
        Bytes::from(frame)
    };
    // The fourth frame fills the budget and stops the actor; the fifth then waits for room
    // that never comes back, because the stopped actor's frames are still held.
    for head in [&b"keep"[..], b"keep", b"keep", b"stop", b"late", b"late"] {
        framed.send(frame(head)).await.expect("send");
    }
    let closed = tokio::time::timeout(Duration::from_secs(10), framed.next()).await;
    assert!(
        matches!(closed, Ok(None | Some(Err(_)))),
        "the connection stays open after its actor stopped: {closed:?}"
    );
    until("the connection counted closed", || server.stats().open == 0).await;
    let stats = server.stats();
    assert_eq!(stats.frames, 4, "only the frames the budget allowed");
    assert_eq!(stats.buffered, 64 << 10, "the kept frames are still held");
    KEPT.lock().expect("kept").clear();
    until("nothing held", || server.stats().buffered == 0).await;
}

/// Lets go of its connection handle on `forget`, and counts every frame.
#[actor]
struct Forgetful {
    conn: Option<Conn>,
    seen: u32,
}

#[actor]
impl Forgetful {
    #[init]
    fn init(conn: Conn) -> Self {
        Forgetful {
            conn: Some(conn),
            seen: 0,
        }
    }

    #[handle(cast)]
    async fn frame(&mut self, frame: Bytes) {
        self.seen += 1;
        if &frame[..] == b"forget" {
            // Answer once, then drop the only handle: nothing more can be written.
            if let Some(conn) = self.conn.take() {
                let _ = conn.send(Bytes::from_static(b"forgot")).await;
            }
        }
    }
}

#[tokio::test]
async fn a_connection_whose_actor_drops_its_conn_keeps_being_read() {
    let mut config = config();
    config.write_timeout = Duration::from_millis(100);
    let server = TcpServer::bind::<Forgetful, _>(&config, |frame| ForgetfulMsg::Frame { frame })
        .await
        .expect("bind");
    let stream = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    let mut framed = Framed::new(stream, LengthDelimitedCodec::new());
    framed
        .send(Bytes::from_static(b"forget"))
        .await
        .expect("send");
    let answer = framed.next().await.expect("answer").expect("frame");
    assert_eq!(&answer[..], b"forgot");
    for _ in 0..5 {
        framed
            .send(Bytes::from_static(b"more"))
            .await
            .expect("send");
    }
    until("the frames after the handle was dropped", || {
        server.stats().frames == 6
    })
    .await;
    // Well past the write timeout: the connection is still open and still read.
    tokio::time::sleep(Duration::from_millis(300)).await;
    framed
        .send(Bytes::from_static(b"last"))
        .await
        .expect("send");
    until("the last frame", || server.stats().frames == 7).await;
    let stats = server.stats();
    assert_eq!(stats.open, 1);
    assert_eq!(stats.write_timeouts, 0);
    drop(framed);
    until("the peer's close ends it", || server.stats().open == 0).await;
}
