//! Finding nodes by name: static routes shared by the nodes of a process, and the embedded
//! registrar (the first node on a host serves, another takes over when it stops, a name
//! held by a live node is refused, bad requests are answered and do no harm); a node on
//! `0.0.0.0` is published at loopback for the nodes of its host.

#[path = "common/wait.rs"]
mod wait;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actor_runtime::node::registrar::{Embedded, Registrar, RegistrarError, StaticRoutes};
use actor_runtime::node::{Node, NodeConfig, NodeError};
use actor_runtime::prelude::*;
use futures_util::{SinkExt, StreamExt};
use tokio_util::codec::{Framed, LinesCodec};

#[actor]
struct Echo;

#[actor(remote = "test.Echo")]
impl Echo {
    #[init]
    fn init() -> Self {
        Echo
    }

    #[handle(call)]
    fn echo(&mut self, text: String) -> String {
        text
    }
}

const COOKIE: &str = "registrar-test-cookie";

/// A loopback port no one listens on now: where a test's own embedded registrar serves.
fn free_port() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
}

/// A node named `name` with `registrar`, offering an `Echo` registered as `echo`.
async fn node_with(name: &str, registrar: impl Registrar) -> Node {
    let node = Node::start(NodeConfig::new(name, COOKIE).registrar(registrar))
        .await
        .unwrap_or_else(|e| panic!("node {name}: {e}"));
    let echo = Echo::spawn(()).await.expect("echo");
    node.register("echo", &echo).expect("register");
    node
}

/// `from` reaches the `Echo` of node `to` by name alone.
async fn echo_through(from: &Node, to: &str) -> Result<String, NodeError> {
    let remote = from.lookup::<Echo>(to, "echo").await?;
    Ok(remote
        .echo(format!("hello {to}"))
        .timeout(Duration::from_secs(5))
        .await
        .expect("call"))
}

async fn until<T>(what: &str, probe: impl AsyncFnMut() -> Option<T>) -> T {
    wait::until(what, Duration::from_secs(10), probe).await
}

#[tokio::test]
async fn nodes_sharing_static_routes_find_each_other_by_name() {
    let routes = Arc::new(StaticRoutes::new());
    let a = node_with("static-a", routes.clone()).await;
    let b = node_with("static-b", routes.clone()).await;
    assert_eq!(
        routes.resolve("static-b").await.expect("resolve"),
        b.local_addr()
    );
    assert_eq!(
        echo_through(&a, "static-b").await.expect("a to b"),
        "hello static-b"
    );
    assert_eq!(
        echo_through(&b, "static-a").await.expect("b to a"),
        "hello static-a"
    );
    let unknown = a
        .lookup::<Echo>("nobody", "echo")
        .await
        .expect_err("unknown");
    assert!(matches!(unknown, NodeError::NoRoute(_)), "{unknown}");
    assert!(
        unknown.to_string().contains("NodeConfig::registrar"),
        "{unknown}"
    );
    b.shutdown();
    assert_eq!(routes.resolve("static-b").await.expect("resolve"), None);
}

#[tokio::test]
async fn the_first_node_on_a_host_serves_the_embedded_registrar_and_the_others_register_with_it() {
    let at = free_port();
    let (ra, rb) = (Embedded::at(at), Embedded::at(at));
    let a = node_with("embedded-a", ra.clone()).await;
    let b = node_with("embedded-b", rb.clone()).await;
    assert!(ra.is_serving(), "the first to publish serves");
    assert!(!rb.is_serving(), "the second registers with it");
    assert_eq!(
        echo_through(&a, "embedded-b").await.expect("a to b"),
        "hello embedded-b"
    );
    assert_eq!(
        echo_through(&b, "embedded-a").await.expect("b to a"),
        "hello embedded-a"
    );
    // A node that only asks needs no registration of its own.
    let asker = Embedded::at(at);
    assert_eq!(
        asker.resolve("embedded-b").await.expect("resolve"),
        b.local_addr()
            .map(|addr| SocketAddr::new(at.ip(), addr.port()))
    );
    assert_eq!(asker.resolve("nobody").await.expect("resolve"), None);
    // Shutting a node down withdraws its name.
    b.shutdown();
    until("embedded-b withdrawn", async || {
        asker
            .resolve("embedded-b")
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_name_held_by_a_live_node_is_refused_with_the_fix() {
    let at = free_port();
    let _first = node_with("taken", Embedded::at(at)).await;
    let second = Node::start(NodeConfig::new("taken", COOKIE).registrar(Embedded::at(at)))
        .await
        .expect_err("the name is taken");
    assert_eq!(
        second,
        NodeError::Registrar(RegistrarError::Taken("taken".into()))
    );
    assert!(
        second.to_string().contains("give this node another name"),
        "{second}"
    );
    let bad = Node::start(NodeConfig::new("two words", COOKIE).registrar(Embedded::at(at)))
        .await
        .expect_err("a name with a space");
    assert!(
        matches!(bad, NodeError::Registrar(RegistrarError::BadName(_))),
        "{bad}"
    );
}

#[tokio::test]
async fn when_the_serving_process_stops_another_takes_over_and_every_live_name_is_kept() {
    let at = free_port();
    let (ra, rb, rc) = (Embedded::at(at), Embedded::at(at), Embedded::at(at));
    let a = node_with("takeover-a", ra.clone()).await;
    let b = node_with("takeover-b", rb.clone()).await;
    let c = node_with("takeover-c", rc.clone()).await;
    assert!(ra.is_serving());

    // As if a's process exited: it stops serving, and its names go with it.
    a.shutdown();
    ra.close();
    until("exactly one other process serves", async || {
        (rb.is_serving() != rc.is_serving()).then_some(())
    })
    .await;
    let asker = Embedded::at(at);
    until("both live names registered again", async || {
        let b_at = asker.resolve("takeover-b").await.ok()??;
        let c_at = asker.resolve("takeover-c").await.ok()??;
        Some((b_at, c_at))
    })
    .await;
    assert_eq!(asker.resolve("takeover-a").await.expect("resolve"), None);
    // The nodes still find each other, through whichever now serves.
    assert_eq!(
        echo_through(&b, "takeover-c").await.expect("b to c"),
        "hello takeover-c"
    );
    c.disconnect("takeover-b");
    assert_eq!(
        echo_through(&c, "takeover-b").await.expect("c to b"),
        "hello takeover-b"
    );
    // And a new node registers with the new server.
    let d = node_with("takeover-d", Embedded::at(at)).await;
    assert_eq!(
        echo_through(&d, "takeover-b").await.expect("d to b"),
        "hello takeover-b"
    );
}

#[tokio::test]
async fn bad_requests_to_the_embedded_registrar_are_answered_and_harm_no_one() {
    let at = free_port();
    let a = node_with("sturdy-a", Embedded::at(at)).await;
    let stream = tokio::net::TcpStream::connect(at).await.expect("connect");
    let mut lines = Framed::new(stream, LinesCodec::new());
    for bad in [
        "HELLO",
        "REGISTER",
        "REGISTER x",
        "REGISTER x notaport",
        "REGISTER x 0",
        "RESOLVE a b",
        "",
    ] {
        lines.send(bad).await.expect("send");
        let reply = lines.next().await.expect("a reply").expect("a line");
        assert!(reply.starts_with("ERROR"), "{bad:?} answered {reply:?}");
    }
    // Another process's name cannot be taken over, nor withdrawn by a stranger.
    lines.send("REGISTER sturdy-a 1").await.expect("send");
    assert_eq!(lines.next().await.expect("reply").expect("line"), "TAKEN");
    lines.send("WITHDRAW sturdy-a").await.expect("send");
    assert_eq!(lines.next().await.expect("reply").expect("line"), "OK");
    lines.send("RESOLVE sturdy-a").await.expect("send");
    let port = a.local_addr().expect("listening").port();
    assert_eq!(
        lines.next().await.expect("reply").expect("line"),
        format!("AT {port}")
    );
    // A line longer than the protocol allows ends that connection only.
    let mut raw = tokio::net::TcpStream::connect(at).await.expect("connect");
    tokio::io::AsyncWriteExt::write_all(&mut raw, &vec![b'A'; 64 * 1024])
        .await
        .expect("write");
    let mut rest = Vec::new();
    // Ends with EOF or a reset; either way it ends, and nothing is answered.
    let ended = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::io::AsyncReadExt::read_to_end(&mut raw, &mut rest),
    )
    .await;
    assert!(ended.is_ok(), "the registrar closed the connection");
    assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
    let b = node_with("sturdy-b", Embedded::at(at)).await;
    assert_eq!(
        echo_through(&b, "sturdy-a").await.expect("b to a"),
        "hello sturdy-a"
    );
}

#[tokio::test]
async fn asking_a_host_where_no_registrar_serves_fails_with_its_address() {
    let at = free_port();
    let error = Embedded::at(at)
        .resolve("anyone")
        .await
        .expect_err("no registrar");
    assert!(matches!(error, RegistrarError::Unreachable(_)), "{error}");
    assert!(error.to_string().contains(&at.to_string()), "{error}");
}

#[tokio::test]
async fn a_node_listening_on_every_address_is_published_at_loopback_for_the_nodes_of_its_host() {
    let routes = Arc::new(StaticRoutes::new());
    let wild = Node::start(
        NodeConfig::new("static-wild", COOKIE)
            .listen(Some("0.0.0.0:0".parse().expect("addr")))
            .registrar(routes.clone()),
    )
    .await
    .expect("node");
    let echo = Echo::spawn(()).await.expect("echo");
    wild.register("echo", &echo).expect("register");
    let port = wild.local_addr().expect("listens").port();
    assert_eq!(
        routes.resolve("static-wild").await.expect("resolve"),
        Some(SocketAddr::from(([127, 0, 0, 1], port)))
    );
    let other = node_with("static-other", routes.clone()).await;
    assert_eq!(
        echo_through(&other, "static-wild").await.expect("reached"),
        "hello static-wild"
    );
    wild.shutdown();
    other.shutdown();
}
