//! The etcd registrar against a real etcd (`scripts/etcd-up`, which `scripts/test-all`
//! runs; `ACTOR_RUNTIME_TEST_ETCD` names another): nodes find each other by name, a live
//! node's name is refused to another, a withdrawn node is forgotten at once and a dead one
//! when its lease runs out, the watch shows nodes arriving, and a node on `0.0.0.0` publishes
//! only the address it is told to advertise.

#[path = "common/wait.rs"]
mod wait;

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use actor_runtime::node::registrar::{Etcd, EtcdOptions, Registrar, RegistrarError};
use actor_runtime::node::{Node, NodeConfig, NodeError};
use actor_runtime::prelude::*;

#[actor]
struct Echo;

#[actor(remote = "test.EtcdEcho")]
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

const COOKIE: &str = "etcd-test-cookie";

/// The test etcd: `ACTOR_RUNTIME_TEST_ETCD` when set, otherwise the one `scripts/etcd-up`
/// starts (installing etcd if needed). A test fails, never skips, when neither works.
fn endpoint() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| {
        if let Ok(endpoint) = std::env::var("ACTOR_RUNTIME_TEST_ETCD") {
            return endpoint;
        }
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/etcd-up");
        let out = std::process::Command::new(script)
            .stderr(std::process::Stdio::inherit())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {script}: {e}"));
        assert!(
            out.status.success(),
            "{script} failed ({}): the etcd tests need its server",
            out.status
        );
        String::from_utf8(out.stdout)
            .expect("an endpoint")
            .trim()
            .to_owned()
    })
}

/// A registrar on a prefix of the test's own, so tests do not see each other's nodes.
async fn registrar(prefix: &str, ttl: Duration) -> Etcd {
    let unique = format!("/actor-runtime-test/{}/{prefix}/", std::process::id());
    Etcd::connect(
        &[endpoint()],
        EtcdOptions::default().prefix(unique).ttl(ttl),
    )
    .await
    .unwrap_or_else(|e| panic!("etcd at {}: {e}", endpoint()))
}

async fn node_with(name: &str, registrar: Etcd) -> Node {
    let node = Node::start(NodeConfig::new(name, COOKIE).registrar(registrar))
        .await
        .unwrap_or_else(|e| panic!("node {name}: {e}"));
    let echo = Echo::spawn(()).await.expect("echo");
    node.register("echo", &echo).expect("register");
    node
}

async fn until<T>(what: &str, probe: impl AsyncFnMut() -> Option<T>) -> T {
    wait::until(what, Duration::from_secs(15), probe).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_published_in_etcd_find_each_other_by_name() {
    let a = node_with("etcd-a", registrar("find", Duration::from_secs(10)).await).await;
    let b = node_with("etcd-b", registrar("find", Duration::from_secs(10)).await).await;
    for (from, to) in [(&a, "etcd-b"), (&b, "etcd-a")] {
        let remote = from.lookup::<Echo>(to, "echo").await.expect("lookup");
        let answer = remote
            .echo(format!("hi {to}"))
            .timeout(Duration::from_secs(5))
            .await
            .expect("call");
        assert_eq!(answer, format!("hi {to}"));
    }
    let unknown = a
        .lookup::<Echo>("etcd-nobody", "echo")
        .await
        .expect_err("unknown");
    assert!(matches!(unknown, NodeError::NoRoute(_)), "{unknown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_held_by_a_live_node_is_refused() {
    let first = registrar("taken", Duration::from_secs(10)).await;
    let addr: SocketAddr = "127.0.0.1:4000".parse().expect("addr");
    first.publish("etcd-taken", addr).await.expect("first");
    let second = registrar("taken", Duration::from_secs(10)).await;
    assert_eq!(
        second.publish("etcd-taken", addr).await,
        Err(RegistrarError::Taken("etcd-taken".into()))
    );
    first.withdraw("etcd-taken");
    until("the name free again", async || {
        second.publish("etcd-taken", addr).await.ok()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watch_sees_nodes_arrive_and_withdraw() {
    let watcher = registrar("watch", Duration::from_secs(10)).await;
    let publisher = registrar("watch", Duration::from_secs(10)).await;
    let addr: SocketAddr = "127.0.0.1:4001".parse().expect("addr");
    publisher
        .publish("etcd-arrives", addr)
        .await
        .expect("publish");
    until("the watch to show the new node", async || {
        (watcher.nodes().get("etcd-arrives") == Some(&addr)).then_some(())
    })
    .await;
    assert_eq!(
        watcher.resolve("etcd-arrives").await.expect("resolve"),
        Some(addr)
    );
    publisher.withdraw("etcd-arrives");
    until("the watch to drop the withdrawn node", async || {
        (!watcher.nodes().contains_key("etcd-arrives")).then_some(())
    })
    .await;
    assert_eq!(
        watcher.resolve("etcd-arrives").await.expect("resolve"),
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_dies_is_forgotten_when_its_lease_runs_out() {
    let watcher = registrar("lease", Duration::from_secs(1)).await;
    let addr: SocketAddr = "127.0.0.1:4002".parse().expect("addr");
    {
        // Published, then gone without withdrawing: its lease is no longer renewed.
        let dying = registrar("lease", Duration::from_secs(1)).await;
        dying.publish("etcd-dies", addr).await.expect("publish");
        until("the watch to show the node", async || {
            watcher.nodes().contains_key("etcd-dies").then_some(())
        })
        .await;
    }
    let started = tokio::time::Instant::now();
    until("the lease to run out", async || {
        (!watcher.nodes().contains_key("etcd-dies")).then_some(())
    })
    .await;
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "forgotten after its lease, not at once: {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_etcd_is_a_clear_error() {
    let nowhere = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .to_string();
    let options = EtcdOptions::default();
    let error = Etcd::connect(&[nowhere.as_str()], options)
        .await
        .expect_err("nothing listens there");
    assert!(matches!(error, RegistrarError::Unreachable(_)), "{error}");
    assert!(error.to_string().contains(&nowhere), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_listening_on_every_address_publishes_in_etcd_only_the_address_it_is_given() {
    let every: SocketAddr = "0.0.0.0:0".parse().expect("addr");
    let refused = Node::start(
        NodeConfig::new("etcd-wild", COOKIE)
            .listen(Some(every))
            .registrar(registrar("wild", Duration::from_secs(10)).await),
    )
    .await
    .expect_err("0.0.0.0 is no address for other hosts");
    assert!(matches!(refused, NodeError::Listen(_)), "{refused}");
    assert!(
        refused.to_string().contains("NodeConfig::advertise"),
        "{refused}"
    );

    let advertised: SocketAddr = "127.0.0.1:4555".parse().expect("addr");
    let node = Node::start(
        NodeConfig::new("etcd-wild", COOKIE)
            .listen(Some(every))
            .advertise(advertised)
            .registrar(registrar("wild", Duration::from_secs(10)).await),
    )
    .await
    .expect("a node that says where it is reached");
    let asker = registrar("wild", Duration::from_secs(10)).await;
    assert_eq!(
        asker.resolve("etcd-wild").await.expect("resolve"),
        Some(advertised)
    );
    node.shutdown();
}
