//! The TCP bridge: an actor per connection, framing, backpressure, malformed frames, and
//! each side's close ending the other.

use std::net::SocketAddr;
use std::sync::Mutex;

use actor_runtime::io::tcp::{Conn, TcpConfig, TcpServer};
use actor_runtime::prelude::*;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_util::codec::{Framed, LengthDelimitedCodec};

/// Opened by the backpressure test when the blocked actor may go on.
static GATE: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(0);

/// Opened by the late-close test.
static LATE_GATE: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(0);

/// The ordinary frames each connection actor handled, by peer address.
static HANDLED: Mutex<Vec<(SocketAddr, String)>> = Mutex::new(Vec::new());

fn handled(peer: SocketAddr) -> Vec<String> {
    HANDLED
        .lock()
        .expect("handled")
        .iter()
        .filter(|(p, _)| *p == peer)
        .map(|(_, f)| f.clone())
        .collect()
}

/// How each connection actor ended, by peer address.
static ENDED: Mutex<Vec<(SocketAddr, ExitReason)>> = Mutex::new(Vec::new());

fn ended(peer: SocketAddr) -> Option<ExitReason> {
    ENDED
        .lock()
        .expect("ended")
        .iter()
        .find(|(p, _)| *p == peer)
        .map(|(_, r)| r.clone())
}

/// Answers each frame in upper case; can be blocked, or told to hang up.
#[actor(mailbox = 2)]
struct Echo {
    conn: Conn,
}

#[actor]
impl Echo {
    #[init]
    fn init(conn: Conn) -> Self {
        Echo { conn }
    }

    #[handle(cast)]
    async fn frame(&mut self, frame: Bytes, ctx: &mut Ctx<Self>) {
        match &frame[..] {
            b"block" => {
                let _ = GATE.acquire().await.map(|permit| permit.forget());
            }
            b"bye" => ctx.stop(),
            b"block-late" => {
                let _ = LATE_GATE.acquire().await.map(|permit| permit.forget());
            }
            _ => {
                HANDLED.lock().expect("handled").push((
                    self.conn.peer(),
                    String::from_utf8_lossy(&frame).into_owned(),
                ));
                let _ = self.conn.send(frame.to_ascii_uppercase()).await;
            }
        }
    }

    #[terminate]
    fn ended(&mut self, reason: &ExitReason) {
        ENDED
            .lock()
            .expect("ended")
            .push((self.conn.peer(), reason.clone()));
    }
}

async fn server(max_frame: usize) -> TcpServer {
    let config = TcpConfig {
        max_frame,
        ..TcpConfig::new("127.0.0.1:0".parse().expect("address"))
    };
    TcpServer::bind::<Echo, _>(&config, |frame| EchoMsg::Frame { frame })
        .await
        .expect("bind")
}

async fn client(server: &TcpServer) -> Framed<TcpStream, LengthDelimitedCodec> {
    let stream = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    Framed::new(stream, LengthDelimitedCodec::new())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_connections_each_get_their_own_actor() {
    let server = server(1024).await;
    let clients: Vec<_> = (0..200)
        .map(|i| {
            let addr = server.local_addr();
            tokio::spawn(async move {
                let stream = TcpStream::connect(addr).await.expect("connect");
                let mut framed = Framed::new(stream, LengthDelimitedCodec::new());
                for j in 0..10 {
                    let text = format!("client {i} frame {j}");
                    framed.send(Bytes::from(text.clone())).await.expect("send");
                    let echo = framed.next().await.expect("echo").expect("frame");
                    assert_eq!(&echo[..], text.to_uppercase().as_bytes());
                }
            })
        })
        .collect();
    for c in clients {
        c.await.expect("client");
    }
    let stats = server.stats();
    assert_eq!(stats.accepted, 200);
    assert_eq!(stats.frames, 2000);
    assert_eq!(stats.malformed, 0);
    while server.stats().open > 0 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_connection_actor_slows_the_socket_and_loses_nothing() {
    let server = server(1024).await;
    let mut c = client(&server).await;
    c.send(Bytes::from_static(b"block")).await.expect("send");
    // Write many frames while the actor sleeps: its mailbox (2) fills, then the server stops
    // reading, whatever the timing: it can have taken at most the blocking frame, two queued
    // ones and one waiting to be queued.
    let (mut sink, mut stream) = c.split();
    let writer = tokio::spawn(async move {
        for i in 0..2000u32 {
            sink.send(Bytes::from(format!("f{i}"))).await.expect("send");
        }
        sink
    });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(
        server.stats().frames <= 4,
        "read ahead of the actor: {:?}",
        server.stats()
    );
    GATE.add_permits(1);
    let _sink = writer.await.expect("writer");
    for i in 0..2000u32 {
        let echo = stream.next().await.expect("echo").expect("frame");
        assert_eq!(&echo[..], format!("F{i}").as_bytes());
    }
    assert_eq!(server.stats().frames, 2001);
}

#[tokio::test]
async fn a_malformed_frame_closes_that_connection_and_is_counted() {
    let server = server(16).await;
    let mut bad = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    let peer = bad.local_addr().expect("local");
    // A length header announcing 1 MiB, over the 16-byte limit.
    tokio::io::AsyncWriteExt::write_all(&mut bad, &(1u32 << 20).to_be_bytes())
        .await
        .expect("write");
    let mut buf = [0u8; 8];
    let read = tokio::io::AsyncReadExt::read(&mut bad, &mut buf).await;
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "the server closed the connection"
    );
    while ended(peer).is_none() {
        tokio::task::yield_now().await;
    }
    assert!(matches!(ended(peer), Some(ExitReason::Error(e)) if e.contains("malformed frame")));
    assert_eq!(server.stats().malformed, 1);

    // Other connections are unaffected.
    let mut good = client(&server).await;
    good.send(Bytes::from_static(b"ok")).await.expect("send");
    assert_eq!(&good.next().await.expect("echo").expect("frame")[..], b"OK");
}

#[tokio::test]
async fn the_peer_closing_stops_the_actor_and_the_actor_stopping_closes_the_peer() {
    let server = server(1024).await;
    let c = client(&server).await;
    let peer = c.get_ref().local_addr().expect("local");
    drop(c);
    while ended(peer).is_none() {
        tokio::task::yield_now().await;
    }
    assert_eq!(ended(peer), Some(ExitReason::Normal));

    let mut c = client(&server).await;
    c.send(Bytes::from_static(b"bye")).await.expect("send");
    assert!(c.next().await.is_none(), "the server closed the connection");
}

/// Speaks lines instead of length-prefixed frames.
#[actor]
struct Shout {
    conn: Conn<String>,
}

#[actor]
impl Shout {
    #[init]
    fn init(conn: Conn<String>) -> Self {
        Shout { conn }
    }

    #[handle(cast)]
    async fn line(&mut self, line: String) {
        let _ = self.conn.send(line.to_uppercase()).await;
    }
}

#[tokio::test]
async fn a_user_codec_frames_the_connection() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio_util::codec::LinesCodec;

    let config = TcpConfig::new("127.0.0.1:0".parse().expect("address"));
    let server = TcpServer::bind_with::<Shout, _, _, _>(
        &config,
        LinesCodec::new_with_max_length(32),
        |line| ShoutMsg::Line { line },
    )
    .await
    .expect("bind");
    let stream = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"hello\nworld\n").await.expect("write");
    assert_eq!(lines.next_line().await.expect("read"), Some("HELLO".into()));
    assert_eq!(lines.next_line().await.expect("read"), Some("WORLD".into()));
    // A line over the codec's limit is a decoding error: counted, connection closed.
    write.write_all(&[b'x'; 64]).await.expect("write");
    write.write_all(b"\n").await.expect("write");
    assert_eq!(lines.next_line().await.ok().flatten(), None);
    assert_eq!(server.stats().malformed, 1);
}

#[tokio::test]
async fn frames_queued_when_the_peer_closes_are_still_handled() {
    let server = server(1024).await;
    let mut c = client(&server).await;
    let peer = c.get_ref().local_addr().expect("local");
    // The actor blocks on the first frame; three more queue behind it; then the peer leaves.
    c.send(Bytes::from_static(b"block-late"))
        .await
        .expect("send");
    for i in 0..3 {
        c.send(Bytes::from(format!("f{i}"))).await.expect("send");
    }
    drop(c);
    tokio::task::yield_now().await;
    LATE_GATE.add_permits(1);
    while ended(peer).is_none() {
        tokio::task::yield_now().await;
    }
    assert_eq!(handled(peer), vec!["f0", "f1", "f2"]);
    assert_eq!(ended(peer), Some(ExitReason::Normal));
}
