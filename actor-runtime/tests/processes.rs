//! Nodes as separate OS processes on loopback: the peer (`src/bin/node-peer.rs`) is killed,
//! stopped and restarted under a test node, and the test node sees what Erlang's would:
//! `NoConnection` at once for a killed peer, a heartbeat timeout for a frozen one, and a new
//! creation that old handles never reach.

#[path = "common/peer.rs"]
mod peer;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use actor_runtime::CallError;
use actor_runtime::node::{Node, NodeConfig, Remote};
use actor_runtime::prelude::*;
use peer::Tally;

/// A `node-peer` process; killed when dropped.
struct Peer {
    child: Child,
    _stdin: ChildStdin,
    addr: SocketAddr,
    creation: u32,
}

impl Peer {
    fn start(name: &str) -> Peer {
        Peer::start_with(name, &[])
    }

    /// A peer that publishes itself with the embedded registrar on loopback `port`.
    fn published(name: &str, port: u16) -> Peer {
        Peer::start_with(name, &[&port.to_string()])
    }

    fn start_with(name: &str, more: &[&str]) -> Peer {
        let mut child = Command::new(env!("CARGO_BIN_EXE_node-peer"))
            .args([name, "secret"])
            .args(more)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start node-peer");
        let stdin = child.stdin.take().expect("stdin");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the peer's first line");
        // "listening 127.0.0.1:PORT creation N"
        let words: Vec<&str> = line.split_whitespace().collect();
        let [_, addr, _, creation] = words[..] else {
            panic!("unexpected first line from node-peer: {line:?}");
        };
        Peer {
            child,
            _stdin: stdin,
            addr: addr.parse().expect("an address"),
            creation: creation.parse().expect("a creation"),
        }
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {signal} failed");
    }

    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn node(heartbeat: Duration, silence: Duration) -> Node {
    Node::start(NodeConfig::new("test", "secret").heartbeat(heartbeat, silence))
        .await
        .expect("start the test node")
}

async fn tally_on(node: &Node, peer: &Peer) -> Remote<Tally> {
    let info = node.connect(peer.addr).await.expect("connect to the peer");
    assert_eq!(info.creation, peer.creation);
    node.lookup("peer", "tally").await.expect("lookup tally")
}

#[tokio::test]
async fn typed_casts_and_calls_reach_an_actor_in_another_process() {
    let peer = Peer::start("peer");
    let node = node(Duration::from_secs(1), Duration::from_secs(5)).await;
    let tally = tally_on(&node, &peer).await;
    for n in 1..=1000 {
        tally.add(n).expect("cast");
    }
    assert_eq!(tally.total().await, Ok(500_500));
}

#[tokio::test]
async fn sigkill_mid_call_fails_the_call_and_fires_the_monitor_with_no_connection_at_once() {
    let mut peer = Peer::start("peer");
    let node = node(Duration::from_secs(1), Duration::from_secs(5)).await;
    let tally = tally_on(&node, &peer).await;
    let down = node.monitor_node("peer");
    let call = tokio::spawn({
        let tally = tally.clone();
        async move { tally.hold().timeout(Duration::from_secs(30)).await }
    });
    // The call is on the peer (a call behind it answers, so it was delivered first).
    assert_eq!(tally.total().await, Ok(0));
    let killed = Instant::now();
    peer.kill();
    assert_eq!(
        call.await.expect("join"),
        Err(CallError::Stopped(ExitReason::NoConnection))
    );
    assert_eq!(down.await, ExitReason::NoConnection);
    // Noticed from the closed socket, not from the 5 s heartbeat timeout.
    let noticed = killed.elapsed();
    assert!(
        noticed < Duration::from_secs(4),
        "a killed peer was noticed only after {noticed:?}"
    );
    assert_eq!(
        tally.add(1),
        Err(SendError::Stopped(ExitReason::NoConnection))
    );
}

#[tokio::test]
async fn a_stopped_process_is_declared_lost_by_the_heartbeat_timeout() {
    let peer = Peer::start("peer");
    let node = node(Duration::from_millis(100), Duration::from_millis(600)).await;
    let tally = tally_on(&node, &peer).await;
    assert_eq!(tally.total().await, Ok(0));
    // Idle for well past our 600 ms limit: the peer's own setting is 1 s between heartbeats,
    // but it heartbeats as often as our limit asked for in the handshake.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        tally.is_connected(),
        "an idle, running peer was declared lost"
    );
    let down = node.monitor_node("peer");
    let call = tokio::spawn({
        let tally = tally.clone();
        async move { tally.total().timeout(Duration::from_secs(30)).await }
    });
    // SIGSTOP freezes the peer; its socket stays open, so only its silence can tell.
    peer.signal("-STOP");
    let reason = tokio::time::timeout(Duration::from_secs(10), down).await;
    peer.signal("-CONT");
    assert_eq!(reason, Ok(ExitReason::NoConnection));
    let answer = call.await.expect("join");
    // The call was either answered before the freeze took hold or failed with the connection.
    assert!(
        matches!(
            answer,
            Ok(0) | Err(CallError::Stopped(ExitReason::NoConnection))
        ),
        "{answer:?}"
    );
    assert!(!tally.is_connected());
    assert_eq!(node.stats().connections_lost, 1);
}

#[tokio::test]
async fn a_restarted_node_has_a_new_creation_that_old_handles_do_not_reach() {
    let mut first = Peer::start("peer");
    let node = node(Duration::from_secs(1), Duration::from_secs(5)).await;
    let old = tally_on(&node, &first).await;
    old.add(7).expect("cast");
    assert_eq!(old.total().await, Ok(7));
    let down = node.monitor_node("peer");
    first.kill();
    assert_eq!(down.await, ExitReason::NoConnection);

    let second = Peer::start("peer");
    assert_ne!(
        second.creation, first.creation,
        "a restart changes the creation"
    );
    let new = tally_on(&node, &second).await;
    // The new incarnation starts from scratch; the old handle stays dead even though a node of
    // the same name is connected again.
    assert_eq!(new.total().await, Ok(0));
    assert!(!old.is_connected());
    assert_eq!(
        old.total().await,
        Err(CallError::Stopped(ExitReason::NoConnection))
    );
    assert_ne!(old.pid(), new.pid());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_process_serving_the_embedded_registrar_is_killed_another_takes_over() {
    use actor_runtime::node::registrar::{Embedded, Registrar};
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let at: SocketAddr = ([127, 0, 0, 1], port).into();
    // The peer publishes first, so its process serves the host's look-ups.
    let mut first = Peer::published("served-by-peer", port);
    let here = Embedded::at(at);
    let node = Node::start(NodeConfig::new("test", "secret").registrar(here.clone()))
        .await
        .expect("start the test node");
    assert!(!here.is_serving(), "the peer's process serves");
    let tally = node
        .lookup::<Tally>("served-by-peer", "tally")
        .await
        .expect("found by name");
    tally.add(1).expect("cast");

    first.kill();
    let started = Instant::now();
    while !here.is_serving() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "this process did not take over"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let took_over = started.elapsed();
    assert_eq!(
        here.resolve("served-by-peer").await.expect("resolve"),
        None,
        "the killed node's name went with it"
    );
    assert_eq!(
        here.resolve("test").await.expect("resolve"),
        node.local_addr(),
        "this node's name was kept"
    );
    // A new process registers with this one, and is found by name.
    let second = Peer::published("registered-here", port);
    let tally = node
        .lookup::<Tally>("registered-here", "tally")
        .await
        .expect("found by name");
    assert_eq!(tally.total().await, Ok(0), "a new process, a new tally");
    assert_eq!(
        second.addr.port(),
        tally_port(&here, "registered-here").await
    );
    eprintln!("took over {took_over:?} after the kill");
}

async fn tally_port(registrar: &actor_runtime::node::registrar::Embedded, name: &str) -> u16 {
    use actor_runtime::node::registrar::Registrar;
    registrar
        .resolve(name)
        .await
        .expect("resolve")
        .expect("published")
        .port()
}
