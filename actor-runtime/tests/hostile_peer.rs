//! A hostile or broken peer, written against the protocol rather than the runtime's own
//! connection code: garbage before the handshake, oversized, truncated and corrupted frames,
//! messages that do not decode or name no actor. Each is refused without harm: the node keeps
//! serving its other connections, and a message-level fault leaves the connection up.

use std::time::Duration;

use actor_runtime::node::handshake::{self, Hello, Proof, Welcome};
use actor_runtime::node::wire::{Frame, FrameCodec, Kind};
use actor_runtime::node::{Node, NodeConfig, Remote};
use actor_runtime::prelude::*;
use bytes::{BufMut, Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

/// The control messages as the protocol defines them (same variants, same order).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
enum Control {
    Hello {
        hello: Hello,
        max_frame: u32,
        silence_ms: u32,
    },
    Welcome {
        welcome: Welcome,
        max_frame: u32,
        silence_ms: u32,
    },
    Proof(Proof),
    Ready,
    Refused(String),
    Heartbeat,
    Lookup {
        corr: u64,
        name: String,
        kind: String,
    },
    Found {
        corr: u64,
        result: Result<u64, String>,
    },
}

const CAST: u8 = 0;
const CALL: u8 = 1;
const REPLY: u8 = 2;

#[actor]
struct Echo;

#[actor(remote = "hostile.Echo")]
impl Echo {
    #[init]
    fn init() -> Self {
        Echo
    }

    #[handle(call)]
    fn echo(&mut self, n: u64) -> u64 {
        n
    }
}

fn control(message: &Control) -> Frame {
    Frame {
        kind: Kind::Control,
        payload: Bytes::from(rmp_serde::to_vec(message).expect("encode")),
    }
}

fn data(bytes: Vec<u8>) -> Frame {
    Frame {
        kind: Kind::Data,
        payload: Bytes::from(bytes),
    }
}

type Wire = Framed<TcpStream, FrameCodec>;

async fn next(wire: &mut Wire) -> Frame {
    tokio::time::timeout(Duration::from_secs(5), wire.next())
        .await
        .expect("a frame within 5 s")
        .expect("the connection is open")
        .expect("a well-formed frame")
}

/// The next control message that is not a heartbeat (data frames are skipped).
async fn next_control(wire: &mut Wire) -> Control {
    loop {
        let frame = next(wire).await;
        if frame.kind != Kind::Control {
            continue;
        }
        match rmp_serde::from_slice(&frame.payload).expect("a control message") {
            Control::Heartbeat => {}
            other => return other,
        }
    }
}

/// The next data frame.
async fn next_data(wire: &mut Wire) -> Bytes {
    loop {
        let frame = next(wire).await;
        if frame.kind == Kind::Data {
            return frame.payload;
        }
    }
}

/// Dials `node` and completes the handshake as node `mallory`, knowing the cookie.
async fn authenticated(node: &Node) -> Wire {
    let stream = TcpStream::connect(node.local_addr().expect("listens"))
        .await
        .expect("connect");
    let mut wire = Framed::new(stream, FrameCodec::new(64 << 10));
    let hello = Hello {
        name: "mallory".into(),
        creation: 7,
        challenge: handshake::challenge().expect("random"),
    };
    wire.send(control(&Control::Hello {
        hello: hello.clone(),
        max_frame: 64 << 10,
        silence_ms: 60_000,
    }))
    .await
    .expect("hello");
    let Control::Welcome { welcome, .. } = next_control(&mut wire).await else {
        panic!("expected a welcome");
    };
    let proof = handshake::answer(b"secret", &[], &hello, &welcome).expect("their proof");
    wire.send(control(&Control::Proof(proof)))
        .await
        .expect("proof");
    assert!(matches!(next_control(&mut wire).await, Control::Ready));
    wire
}

async fn lookup(wire: &mut Wire, corr: u64) -> u64 {
    wire.send(control(&Control::Lookup {
        corr,
        name: "echo".into(),
        kind: "hostile.Echo".into(),
    }))
    .await
    .expect("lookup");
    match next_control(wire).await {
        Control::Found {
            corr: answered,
            result: Ok(id),
        } if answered == corr => id,
        other => panic!("expected Found for {corr}, got {other:?}"),
    }
}

fn call(to: u64, corr: u64, body: &[u8]) -> Vec<u8> {
    let mut bytes = vec![CALL];
    bytes.put_u64(to);
    bytes.put_u64(corr);
    bytes.extend_from_slice(body);
    bytes
}

/// The node, with an `Echo` registered as `echo`.
async fn target() -> Node {
    let node = Node::start(NodeConfig::new("target", "secret"))
        .await
        .expect("node");
    let echo = Echo::spawn(()).await.expect("echo");
    node.register("echo", &echo).expect("register");
    node
}

/// An honest node still reaches the target's actor.
async fn still_serves(node: &Node) {
    let honest = Node::start(NodeConfig::new("honest", "secret"))
        .await
        .expect("honest");
    honest
        .connect(node.local_addr().expect("listens"))
        .await
        .expect("connect");
    let echo: Remote<Echo> = honest.lookup("target", "echo").await.expect("lookup");
    assert_eq!(echo.echo(42).await, Ok(42));
    honest.shutdown();
}

/// Reads until the node closes the connection; fails after 5 s.
async fn closed_by_node(stream: &mut TcpStream) {
    let mut sink = [0u8; 1024];
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the node kept a broken connection open");
}

#[tokio::test]
async fn garbage_before_the_handshake_is_refused_and_the_node_serves_others() {
    let node = target().await;
    let mut stream = TcpStream::connect(node.local_addr().expect("listens"))
        .await
        .expect("connect");
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: target\r\n\r\n")
        .await
        .expect("write");
    closed_by_node(&mut stream).await;
    assert!(node.peers().is_empty());
    still_serves(&node).await;
}

#[tokio::test]
async fn an_oversized_frame_closes_only_that_connection() {
    let node = target().await;
    let mut wire = authenticated(&node).await;
    assert_eq!(node.peers().len(), 1);
    // A length prefix of 1 GiB: refused from the header alone, nothing reserved for it.
    let stream = wire.get_mut();
    stream
        .write_all(&(1u32 << 30).to_be_bytes())
        .await
        .expect("write");
    closed_by_node(stream).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(node.stats().connections_lost, 1);
    still_serves(&node).await;
}

#[tokio::test]
async fn a_frame_cut_off_by_a_closed_socket_costs_only_that_connection() {
    let node = target().await;
    let mut wire = authenticated(&node).await;
    let stream = wire.get_mut();
    // Announces 1,000 bytes, sends 10, then goes away.
    let mut partial = BytesMut::new();
    partial.put_u32(1000);
    partial.put_u8(Kind::Data as u8);
    partial.put_slice(&[0u8; 9]);
    stream.write_all(&partial).await.expect("write");
    stream.shutdown().await.expect("shutdown");
    drop(wire);
    for _ in 0..100 {
        if node.stats().connections_lost == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(node.stats().connections_lost, 1);
    still_serves(&node).await;
}

#[tokio::test]
async fn bad_messages_are_answered_or_counted_and_the_connection_stays_up() {
    let node = target().await;
    let mut wire = authenticated(&node).await;
    let id = lookup(&mut wire, 1).await;

    // A call whose body is not MessagePack for Echo's messages: the caller is told.
    wire.send(data(call(id, 10, &[0xc1, 0xff, 0x00])))
        .await
        .expect("send");
    let reply = next_data(&mut wire).await;
    assert_eq!(reply[0], REPLY);
    assert_eq!(
        u64::from_be_bytes(reply[1..9].try_into().expect("corr")),
        10
    );
    assert_eq!(reply[9], 1, "the reply says the call failed");

    // A call to an actor that does not exist: told as well.
    wire.send(data(call(id + 1_000_000, 11, &[0x90])))
        .await
        .expect("send");
    let reply = next_data(&mut wire).await;
    assert_eq!(
        u64::from_be_bytes(reply[1..9].try_into().expect("corr")),
        11
    );
    assert_eq!(reply[9], 1);

    // An unknown tag, a header cut short, a fragment with a broken header, a cast that does
    // not decode, a control message that is not one: dropped and counted.
    wire.send(data(vec![9, 1, 2, 3])).await.expect("send");
    wire.send(data(vec![CALL, 0, 0, 1])).await.expect("send");
    wire.send(Frame {
        kind: Kind::Fragment,
        payload: Bytes::from_static(&[1, 2, 3]),
    })
    .await
    .expect("send");
    let mut cast = vec![CAST];
    cast.put_u64(id);
    cast.extend_from_slice(&[0xc1]);
    wire.send(data(cast)).await.expect("send");
    wire.send(Frame {
        kind: Kind::Control,
        payload: Bytes::from_static(&[0xc1, 0xc1]),
    })
    .await
    .expect("send");

    // The same connection still works, in order: the lookup is answered after all of the above.
    assert_eq!(lookup(&mut wire, 2).await, id);
    let stats = node.stats();
    assert!(
        stats.rejected_in >= 7,
        "7 bad messages, {} counted",
        stats.rejected_in
    );
    assert_eq!(stats.connections_lost, 0);
    assert_eq!(node.peers().len(), 1);
    still_serves(&node).await;
}

/// The link and monitor signals as the protocol defines them (same variants, same order; the
/// later ones are not needed here).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
enum SignalMsg {
    Monitor {
        monitor: u64,
        watcher: u64,
        target: u64,
    },
    Demonitor {
        monitor: u64,
        watcher: u64,
        target: u64,
    },
    Down {
        monitor: u64,
        target: u64,
        reason: ExitReason,
    },
    Link {
        from: u64,
        to: u64,
    },
    Unlink {
        from: u64,
        to: u64,
    },
    Exit {
        from: u64,
        to: u64,
        reason: ExitReason,
        link: bool,
    },
    Kill {
        to: u64,
    },
}

const SIGNAL: u8 = 3;

async fn send_signal(wire: &mut Wire, message: &SignalMsg) {
    let mut bytes = vec![SIGNAL];
    bytes.extend_from_slice(&rmp_serde::to_vec(message).expect("encode"));
    wire.send(data(bytes)).await.expect("send");
}

/// The next `Down` the node sends: its monitor and reason.
async fn next_down(wire: &mut Wire) -> (u64, ExitReason) {
    loop {
        let payload = next_data(wire).await;
        if payload[0] != SIGNAL {
            continue;
        }
        if let SignalMsg::Down {
            monitor, reason, ..
        } = rmp_serde::from_slice(&payload[1..]).expect("a signal")
        {
            return (monitor, reason);
        }
    }
}

#[tokio::test]
async fn a_peer_reaches_by_id_only_the_actors_of_the_node_it_is_connected_to() {
    // Two nodes in this process, each with its own actors; the peer is connected to one.
    let node = Node::start(NodeConfig::new("target", "secret").isolated())
        .await
        .expect("node");
    let other = Node::start(NodeConfig::new("other", "secret").isolated())
        .await
        .expect("other");
    let mine = node
        .scope(Echo::spawn(()))
        .await
        .expect("an actor of the node");
    let elsewhere = other
        .scope(Echo::spawn(()))
        .await
        .expect("an actor of the other node");
    let mut wire = authenticated(&node).await;

    // A monitor of the other node's actor, by its id, is answered as for no actor at all,
    // and a kill by id does not reach it.
    send_signal(
        &mut wire,
        &SignalMsg::Monitor {
            monitor: 1,
            watcher: 99,
            target: elsewhere.pid().id(),
        },
    )
    .await;
    assert_eq!(next_down(&mut wire).await, (1, ExitReason::NoProc));
    send_signal(
        &mut wire,
        &SignalMsg::Kill {
            to: elsewhere.pid().id(),
        },
    )
    .await;

    // The node's own actor, not exported, is reached by id as any actor of the node.
    send_signal(
        &mut wire,
        &SignalMsg::Monitor {
            monitor: 2,
            watcher: 99,
            target: mine.pid().id(),
        },
    )
    .await;
    send_signal(
        &mut wire,
        &SignalMsg::Kill {
            to: mine.pid().id(),
        },
    )
    .await;
    assert_eq!(next_down(&mut wire).await, (2, ExitReason::Killed));
    // Signals are handled in order: the kill of the other node's actor came first.
    assert!(elsewhere.is_alive(), "the other node's actor was killed");
    assert_eq!(elsewhere.echo(5).await, Ok(5));
    other.shutdown();
    node.shutdown();
}
