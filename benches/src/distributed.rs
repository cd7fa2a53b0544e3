//! Two nodes in two OS processes on loopback: the peer is this executable started again with
//! `--phase node-peer`, exporting a `Sink`; the measuring process connects to it and drives it
//! through the generated client, exactly as an application would.

use std::hint::black_box;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use actor_runtime::io::tls::TlsConfig;
use actor_runtime::node::{Node, NodeConfig, Remote};
use actor_runtime::prelude::*;
use tokio::sync::mpsc;

use crate::{median, per_second, percentiles, runtime};

/// The bytes of one benchmark message.
const PAYLOAD: usize = 64;

/// Counts what it is sent.
#[actor(mailbox = 4096)]
pub(crate) struct Sink {
    taken: u64,
}

#[actor(remote = "bench.Sink")]
impl Sink {
    #[init]
    fn init() -> Self {
        Sink { taken: 0 }
    }

    #[handle(cast)]
    fn take(&mut self, payload: Vec<u8>) {
        black_box(&payload);
        self.taken += 1;
    }

    #[handle(call)]
    fn taken(&mut self) -> u64 {
        self.taken
    }

    #[handle(call)]
    fn echo(&mut self, n: u64) -> u64 {
        n
    }

    #[handle(call)]
    fn size(&mut self, bytes: Vec<u8>) -> usize {
        bytes.len()
    }

    #[handle(call)]
    fn blob(&mut self, bytes: bytes::Bytes) -> usize {
        bytes.len()
    }
}

/// A node's configuration, under TLS if `tls`.
fn config(name: &str, tls: bool) -> NodeConfig {
    let config = NodeConfig::new(name, "bench");
    if tls {
        config.tls(TlsConfig::self_signed(&["localhost"]).expect("a certificate"))
    } else {
        config
    }
}

/// The peer process: serves a `Sink` named `sink` until its stdin closes.
pub(crate) fn serve(tls: bool) {
    runtime().block_on(async {
        let node = Node::start(config("peer", tls))
            .await
            .expect("start the peer node");
        let sink = Sink::spawn(()).await.expect("spawn the sink");
        node.register("sink", &sink).expect("register");
        let other = Sink::spawn(()).await.expect("spawn the other sink");
        node.register("other", &other).expect("register");
        println!("{}", node.local_addr().expect("listening"));
        let _ = tokio::task::spawn_blocking(|| {
            std::io::copy(&mut std::io::stdin(), &mut std::io::sink())
        })
        .await;
        node.shutdown();
    });
}

/// A running peer process; killed when dropped.
struct Peer {
    child: Child,
    _stdin: ChildStdin,
    addr: SocketAddr,
}

impl Peer {
    fn start() -> Peer {
        Peer::start_phase("node-peer")
    }

    fn start_tls(tls: bool) -> Peer {
        Peer::start_phase(if tls { "node-tls-peer" } else { "node-peer" })
    }

    fn start_phase(phase: &str) -> Peer {
        let mut child = Command::new(std::env::current_exe().expect("own executable"))
            .args(["--phase", phase])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the peer");
        let stdin = child.stdin.take().expect("stdin");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the peer's address");
        let addr = line.trim().parse().expect("an address");
        Peer {
            child,
            _stdin: stdin,
            addr,
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn connect(peer: &Peer) -> (Node, Remote<Sink>) {
    connect_tls(peer, false).await
}

async fn connect_tls(peer: &Peer, tls: bool) -> (Node, Remote<Sink>) {
    let node = Node::start(config("bench", tls))
        .await
        .expect("start the node");
    node.connect(peer.addr).await.expect("connect");
    let sink = node.lookup("peer", "sink").await.expect("lookup");
    (node, sink)
}

/// Casts per second from `senders` tasks to one remote actor, until the last is handled;
/// over TLS if `tls`.
pub(crate) fn casts(n: u64, senders: u64, tls: bool) -> f64 {
    let peer = Peer::start_tls(tls);
    runtime().block_on(async move {
        let (_node, sink) = connect_tls(&peer, tls).await;
        let each = n / senders;
        let started = Instant::now();
        let tasks: Vec<_> = (0..senders)
            .map(|_| {
                let sink = sink.clone();
                tokio::spawn(async move {
                    let payload = vec![7u8; PAYLOAD];
                    for _ in 0..each {
                        sink.send(SinkMsg::Take {
                            payload: payload.clone(),
                        })
                        .await
                        .expect("cast");
                    }
                    // Behind this sender's casts: it returns once they are all handled.
                    sink.taken().await.expect("taken")
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("sender");
        }
        let elapsed = started.elapsed();
        assert_eq!(sink.taken().await, Ok(each * senders));
        per_second(each * senders, elapsed)
    })
}

/// Median and p99 of sequential call round trips, in ns; over TLS if `tls`.
pub(crate) fn calls(n: usize, tls: bool) -> (f64, f64) {
    let peer = Peer::start_tls(tls);
    runtime().block_on(async move {
        let (_node, sink) = connect_tls(&peer, tls).await;
        for i in 0..1000 {
            sink.echo(i).await.expect("warm-up");
        }
        let mut samples = Vec::with_capacity(n);
        for i in 0..n as u64 {
            let t = Instant::now();
            assert_eq!(sink.echo(i).await, Ok(i));
            samples.push(t.elapsed());
        }
        percentiles(&mut samples)
    })
}

/// Calls per second with `window` calls in flight at a time.
pub(crate) fn pipelined(n: usize, window: usize) -> f64 {
    let peer = Peer::start();
    runtime().block_on(async move {
        let (_node, sink) = connect(&peer).await;
        let each = n / window;
        let started = Instant::now();
        let tasks: Vec<_> = (0..window)
            .map(|_| {
                let sink = sink.clone();
                tokio::spawn(async move {
                    for i in 0..each as u64 {
                        assert_eq!(sink.echo(i).await, Ok(i));
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("caller");
        }
        per_second((each * window) as u64, started.elapsed())
    })
}

/// Reports the instant its monitor fires.
#[actor]
struct Watcher {
    report: mpsc::UnboundedSender<Instant>,
}

#[actor]
impl Watcher {
    #[init]
    fn init(report: mpsc::UnboundedSender<Instant>) -> Self {
        Watcher { report }
    }

    #[handle(call)]
    fn watch(&mut self, target: Remote<Sink>, ctx: &mut Ctx<Self>) -> MonitorRef {
        ctx.monitor(&target)
    }

    #[on_down]
    fn down(&mut self, _down: Down) {
        let _ = self.report.send(Instant::now());
    }
}

/// Milliseconds from SIGKILL of the peer to the `Down` handled by a local monitor: median of
/// `rounds` kills.
pub(crate) fn down_after_kill(rounds: usize) -> f64 {
    let samples = (0..rounds)
        .map(|_| {
            let mut peer = Peer::start();
            runtime().block_on(async {
                let (node, sink) = connect(&peer).await;
                let (tx, mut rx) = mpsc::unbounded_channel();
                let watcher = Watcher::spawn(tx).await.expect("watcher");
                watcher.watch(sink.clone()).await.expect("watch");
                // The monitor signal went out before this call's request.
                sink.taken().await.expect("taken");
                let killed = Instant::now();
                peer.child.kill().expect("SIGKILL");
                let down = rx.recv().await.expect("down");
                node.shutdown();
                (down - killed).as_secs_f64() * 1e3
            })
        })
        .collect();
    median(samples)
}

/// Round trips of small calls to one actor, in µs: median while idle, then median, p99 and
/// worst while a 16 MiB message to another actor crosses the same connection.
pub(crate) fn small_beside_large(binary: bool) -> (f64, f64, f64, f64) {
    let peer = Peer::start();
    runtime().block_on(async move {
        let (node, large) = connect(&peer).await;
        let sink: Remote<Sink> = node.lookup("peer", "other").await.expect("lookup");
        let mut idle = Vec::new();
        for i in 0..2000 {
            let t = Instant::now();
            sink.echo(i).await.expect("echo");
            idle.push(t.elapsed());
        }
        let mut during = Vec::new();
        for _ in 0..3 {
            let big = tokio::spawn({
                let large = large.clone();
                async move {
                    if binary {
                        large.blob(bytes::Bytes::from(vec![1u8; 16 << 20])).await
                    } else {
                        large.size(vec![1u8; 16 << 20]).await
                    }
                }
            });
            // Let the large message start before the small ones queue behind or beside it.
            tokio::task::yield_now().await;
            let mut i = 0;
            while !big.is_finished() {
                let t = Instant::now();
                sink.echo(i).await.expect("echo");
                during.push(t.elapsed());
                i += 1;
            }
            assert_eq!(big.await.expect("join"), Ok(16 << 20));
        }
        let (idle_median, _) = percentiles(&mut idle);
        let (during_median, during_p99) = percentiles(&mut during);
        let worst = during.iter().max().copied().unwrap_or(Duration::ZERO);
        (
            idle_median / 1e3,
            during_median / 1e3,
            during_p99 / 1e3,
            worst.as_nanos() as f64 / 1e3,
        )
    })
}

/// The baseline peer: a raw tokio TCP echo of 8-byte requests, no actors, no framing beyond
/// the fixed size.
pub(crate) fn serve_tcp() {
    runtime().block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        println!("{}", listener.local_addr().expect("address"));
        let (mut stream, _) = listener.accept().await.expect("accept");
        stream.set_nodelay(true).expect("nodelay");
        let mut buf = [0u8; 8];
        while stream.read_exact(&mut buf).await.is_ok() {
            if stream.write_all(&buf).await.is_err() {
                break;
            }
        }
    });
}

/// Median and p99 round trip (ns) of the raw TCP echo in another process.
pub(crate) fn tcp_calls(n: usize) -> (f64, f64) {
    let peer = Peer::start_phase("tcp-peer");
    runtime().block_on(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(peer.addr)
            .await
            .expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let mut buf = [0u8; 8];
        let mut samples = Vec::with_capacity(n);
        for i in 0..(n + 1000) as u64 {
            let t = Instant::now();
            stream.write_all(&i.to_le_bytes()).await.expect("write");
            stream.read_exact(&mut buf).await.expect("read");
            assert_eq!(u64::from_le_bytes(buf), i);
            if i >= 1000 {
                samples.push(t.elapsed());
            }
        }
        percentiles(&mut samples)
    })
}
