//! Two nodes talking through a TCP proxy that misbehaves on demand: it delays every chunk,
//! cuts every connection, or black-holes the traffic (swallows it and keeps the sockets
//! open). Delay costs time and nothing else; a cut is noticed at once; a black hole is
//! noticed by the heartbeats; in each case a new look-up reaches the same actor again.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actor_runtime::node::{Node, NodeConfig, Remote};
use actor_runtime::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// Keeps what it is told, in order.
#[actor]
struct Log {
    seen: Vec<u32>,
    held: Option<ReplyTo<usize>>,
}

#[actor(remote = "proxy.Log")]
impl Log {
    #[init]
    fn init() -> Self {
        Log {
            seen: Vec::new(),
            held: None,
        }
    }

    #[handle(cast)]
    fn push(&mut self, n: u32) {
        self.seen.push(n);
    }

    #[handle(call)]
    fn seen(&mut self) -> Vec<u32> {
        self.seen.clone()
    }

    /// Never answered unless the test releases it: a call that stays in flight.
    #[handle(call)]
    fn hold(&mut self, reply: ReplyTo<usize>) {
        self.held = Some(reply);
    }
}

/// Reports the downs of the actors it monitors.
#[actor]
struct Watcher {
    report: tokio::sync::mpsc::UnboundedSender<(Pid, ExitReason)>,
}

#[actor]
impl Watcher {
    #[init]
    fn init(report: tokio::sync::mpsc::UnboundedSender<(Pid, ExitReason)>) -> Self {
        Watcher { report }
    }

    #[handle(cast)]
    fn watch(&mut self, target: Remote<Log>, ctx: &mut Ctx<Self>) {
        ctx.monitor(&target);
    }

    #[on_down]
    fn down(&mut self, down: Down) {
        let _ = self.report.send((down.pid, down.reason));
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Pass,
    Delay(Duration),
    BlackHole,
}

/// A TCP proxy in front of one node.
struct Proxy {
    addr: SocketAddr,
    mode: Arc<Mutex<Mode>>,
    pumps: Arc<Mutex<Vec<AbortHandle>>>,
    accepted: Arc<Mutex<usize>>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("proxy address");
        let mode = Arc::new(Mutex::new(Mode::Pass));
        let pumps = Arc::new(Mutex::new(Vec::new()));
        let accepted = Arc::new(Mutex::new(0));
        let (m, p, n) = (mode.clone(), pumps.clone(), accepted.clone());
        tokio::spawn(async move {
            while let Ok((down, _)) = listener.accept().await {
                let Ok(up) = TcpStream::connect(upstream).await else {
                    continue;
                };
                *n.lock().expect("proxy lock") += 1;
                let (down_read, down_write) = down.into_split();
                let (up_read, up_write) = up.into_split();
                let there = tokio::spawn(pump(down_read, up_write, m.clone()));
                let back = tokio::spawn(pump(up_read, down_write, m.clone()));
                p.lock()
                    .expect("proxy lock")
                    .extend([there.abort_handle(), back.abort_handle()]);
            }
        });
        Proxy {
            addr,
            mode,
            pumps,
            accepted,
        }
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().expect("proxy lock") = mode;
    }

    /// Closes every connection through the proxy, both ways; new ones are still accepted.
    fn cut(&self) {
        for pump in self.pumps.lock().expect("proxy lock").drain(..) {
            pump.abort();
        }
    }

    fn accepted(&self) -> usize {
        *self.accepted.lock().expect("proxy lock")
    }
}

/// Copies one direction, as the mode says at the time each chunk arrives.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mode: Arc<Mutex<Mode>>,
) {
    let mut buf = vec![0; 64 << 10];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let now = *mode.lock().expect("proxy lock");
        match now {
            Mode::Pass => {}
            Mode::Delay(d) => tokio::time::sleep(d).await,
            Mode::BlackHole => continue,
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// Node `b` with a `Log` registered as `log`, and node `a` whose route to `b` goes through
/// a proxy; both send heartbeats every 50 ms and give up after 1 s of silence.
async fn through_proxy() -> (Node, Node, Proxy, Addr<Log>) {
    let fast = |c: NodeConfig| c.heartbeat(Duration::from_millis(50), SILENCE);
    let b = Node::start(fast(NodeConfig::new("b", "secret")))
        .await
        .expect("b");
    let proxy = Proxy::start(b.local_addr().expect("b listens")).await;
    let a = Node::start(fast(
        NodeConfig::new("a", "secret")
            .listen(None)
            .route("b", proxy.addr),
    ))
    .await
    .expect("a");
    let log = Log::spawn(()).await.expect("log");
    b.register("log", &log).expect("register");
    (a, b, proxy, log)
}

const SILENCE: Duration = Duration::from_secs(1);
const PATIENCE: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_delaying_link_slows_messages_but_keeps_them_all_in_order() {
    let (a, _b, proxy, _log) = through_proxy().await;
    let log: Remote<Log> = a.lookup("b", "log").await.expect("lookup");
    proxy.set(Mode::Delay(Duration::from_millis(30)));
    let started = Instant::now();
    for n in 0..200 {
        log.push(n).expect("cast");
    }
    let seen = log
        .seen()
        .timeout(PATIENCE)
        .await
        .expect("answered through the delay");
    // The request and its reply each waited at least one delay.
    assert!(started.elapsed() >= Duration::from_millis(60));
    assert_eq!(seen, (0..200).collect::<Vec<_>>());
    // Heartbeats delayed by 30 ms stay well inside the silence limit: still one connection.
    tokio::time::sleep(SILENCE + SILENCE / 2).await;
    assert_eq!(log.seen().timeout(PATIENCE).await.map(|s| s.len()), Ok(200));
    assert_eq!(a.stats().connections_lost, 0);
    assert_eq!(proxy.accepted(), 1);
}

#[tokio::test]
async fn a_cut_link_fails_calls_in_flight_and_downs_monitors_then_a_new_lookup_reconnects() {
    let (a, b, proxy, _log) = through_proxy().await;
    let log: Remote<Log> = a.lookup("b", "log").await.expect("lookup");
    log.push(7).expect("cast");
    assert_eq!(log.seen().await, Ok(vec![7]));

    let (tx, mut downs) = tokio::sync::mpsc::unbounded_channel();
    let watcher = Watcher::spawn(tx).await.expect("watcher");
    watcher.watch(log.clone()).expect("watch");
    let a_lost_b = a.monitor_node("b");
    let b_lost_a = b.monitor_node("a");
    let holder = log.clone();
    let in_flight = tokio::spawn(async move { holder.hold().await });
    // The call and the monitor have crossed once the log answers behind them.
    assert_eq!(log.seen().await, Ok(vec![7]));

    proxy.cut();
    let call = tokio::time::timeout(PATIENCE, in_flight)
        .await
        .expect("the call ends")
        .expect("task");
    assert_eq!(call, Err(CallError::Stopped(ExitReason::NoConnection)));
    let down = tokio::time::timeout(PATIENCE, downs.recv())
        .await
        .expect("a down");
    assert_eq!(down, Some((log.pid(), ExitReason::NoConnection)));
    assert_eq!(
        tokio::time::timeout(PATIENCE, a_lost_b).await,
        Ok(ExitReason::NoConnection)
    );
    assert_eq!(
        tokio::time::timeout(PATIENCE, b_lost_a).await,
        Ok(ExitReason::NoConnection)
    );
    // The old handle says so; a new look-up dials through the proxy again and finds the
    // same actor, which never stopped.
    assert_eq!(
        log.push(8),
        Err(SendError::Stopped(ExitReason::NoConnection))
    );
    let again: Remote<Log> = a.lookup("b", "log").await.expect("lookup again");
    assert_eq!(again.seen().await, Ok(vec![7]));
    assert_eq!(proxy.accepted(), 2);
}

#[tokio::test]
async fn a_black_holed_link_is_declared_lost_by_heartbeats() {
    let (a, b, proxy, _log) = through_proxy().await;
    let log: Remote<Log> = a.lookup("b", "log").await.expect("lookup");
    assert_eq!(log.seen().await, Ok(vec![]));
    let a_lost_b = a.monitor_node("b");
    let b_lost_a = b.monitor_node("a");
    let holder = log.clone();
    let in_flight = tokio::spawn(async move { holder.hold().await });
    assert_eq!(log.seen().await, Ok(vec![]));

    // Both sockets stay open; nothing gets through either way.
    proxy.set(Mode::BlackHole);
    let started = Instant::now();
    let call = tokio::time::timeout(PATIENCE, in_flight)
        .await
        .expect("the call ends")
        .expect("task");
    assert_eq!(call, Err(CallError::Stopped(ExitReason::NoConnection)));
    // Not before the silence limit: both nodes heard each other just before the black hole.
    assert!(
        started.elapsed() >= SILENCE * 4 / 5,
        "declared lost after {:?}",
        started.elapsed()
    );
    assert_eq!(
        tokio::time::timeout(PATIENCE, a_lost_b).await,
        Ok(ExitReason::NoConnection)
    );
    assert_eq!(
        tokio::time::timeout(PATIENCE, b_lost_a).await,
        Ok(ExitReason::NoConnection)
    );
    assert_eq!(a.stats().connections_lost, 1);
    assert_eq!(b.stats().connections_lost, 1);

    // Once the network heals, a new look-up gets through.
    proxy.set(Mode::Pass);
    proxy.cut();
    let again: Remote<Log> = a.lookup("b", "log").await.expect("lookup again");
    again.push(1).expect("cast");
    assert_eq!(again.seen().await, Ok(vec![1]));
}
