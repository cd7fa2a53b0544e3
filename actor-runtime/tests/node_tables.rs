//! Several nodes in one OS process, each with its own actors, names and counters
//! (`NodeConfig::isolated`): what one node does to its tables leaves the others' alone.

use std::time::Duration;

use actor_runtime::node::{Node, NodeConfig, Remote};
use actor_runtime::prelude::*;
use actor_runtime::{actor_count, registry, shutdown, stats};

#[actor]
struct Cell {
    value: u64,
}

#[actor(remote = "tables.Cell")]
impl Cell {
    #[init]
    fn init(value: u64) -> Self {
        Cell { value }
    }

    #[handle(call)]
    fn value(&mut self) -> u64 {
        self.value
    }

    #[handle(cast)]
    fn set(&mut self, value: u64) {
        self.value = value;
    }

    /// Starts a cell beside this one, unlinked, and registers it: both on this cell's node.
    #[handle(call)]
    async fn start_named(&mut self, name: String, value: u64, ctx: &mut Ctx<Self>) -> bool {
        match ctx.spawn::<Cell>(value).await {
            Ok(cell) => registry::register(&name, &cell).is_ok(),
            Err(_) => false,
        }
    }

    /// The value of the cell registered as `name`, as a handler of this node sees the registry.
    #[handle(call)]
    async fn value_of(&mut self, name: String) -> Option<u64> {
        let cell = registry::lookup::<Cell>(&name).ok()?;
        cell.value().await.ok()
    }

    /// How many actors run on this cell's node, as its handler counts them.
    #[handle(call)]
    fn actors_here(&mut self) -> usize {
        actor_count()
    }
}

#[actor]
struct Watcher {
    report: tokio::sync::mpsc::UnboundedSender<ExitReason>,
}

#[actor]
impl Watcher {
    #[init]
    fn init(report: tokio::sync::mpsc::UnboundedSender<ExitReason>) -> Self {
        Watcher { report }
    }

    #[handle(call)]
    fn watch(&mut self, target: Addr<Cell>, ctx: &mut Ctx<Self>) -> bool {
        ctx.monitor(&target);
        true
    }

    #[handle(call)]
    fn link_to(&mut self, target: Addr<Cell>, ctx: &mut Ctx<Self>) -> bool {
        ctx.link(&target);
        true
    }

    #[on_down]
    fn down(&mut self, down: Down) {
        let _ = self.report.send(down.reason);
    }

    #[on_exit]
    fn exit(&mut self, exit: Exit) {
        let _ = self.report.send(exit.reason);
    }
}

async fn isolated(name: &str) -> Node {
    Node::start(NodeConfig::new(name, "secret").isolated())
        .await
        .expect("node")
}

/// Two isolated nodes, `a` connected to `b`, which lets `a` spawn cells there.
async fn connected_pair() -> (Node, Node) {
    let (a, b) = (isolated("a").await, isolated("b").await);
    a.connect(b.local_addr().expect("b listens"))
        .await
        .expect("connect");
    b.allow_spawn::<Cell>();
    (a, b)
}

#[tokio::test]
async fn two_nodes_in_one_process_register_the_same_name_each_for_its_own_actor() {
    let (a, b) = (isolated("a").await, isolated("b").await);
    let on_a = a.scope(Cell::spawn(1)).await.expect("a cell");
    let on_b = b.scope(Cell::spawn(2)).await.expect("b cell");
    registry::register("cell", &on_a).expect("a takes the name on a");
    registry::register("cell", &on_b).expect("b takes the same name on b");

    let from_a = a.scope(async { registry::lookup::<Cell>("cell") }).await;
    let from_b = b.scope(async { registry::lookup::<Cell>("cell") }).await;
    assert_eq!(from_a.expect("on a").pid(), on_a.pid());
    assert_eq!(from_b.expect("on b").pid(), on_b.pid());
    assert!(
        registry::lookup::<Cell>("cell").is_err(),
        "the default node has no such name"
    );
    assert_eq!(
        a.scope(async { registry::registered() }).await,
        vec![("cell".to_owned(), on_a.pid())]
    );

    // A handler's registry is its own node's, and so are the actors it spawns.
    assert!(on_b.start_named("child".into(), 20).await.expect("call"));
    assert_eq!(on_b.value_of("child".into()).await, Ok(Some(20)));
    assert_eq!(on_a.value_of("child".into()).await, Ok(None));
    assert_eq!(on_b.actors_here().await, Ok(2));
    assert_eq!(on_a.actors_here().await, Ok(1));
    a.shutdown();
    b.shutdown();
}

#[tokio::test]
async fn actor_counts_and_counters_are_per_node() {
    let (a, b) = (isolated("a").await, isolated("b").await);
    let mut cells = Vec::new();
    for n in 0..3 {
        cells.push(a.scope(Cell::spawn(n)).await.expect("a cell"));
    }
    let on_b = b.scope(Cell::spawn(9)).await.expect("b cell");
    assert_eq!(a.scope(async { actor_count() }).await, 3);
    assert_eq!(b.scope(async { stats().actors }).await, 1);

    // A send to a stopped actor is counted on the node the actor ran on.
    on_b.stop();
    let _ = on_b.wait_for_exit().await;
    assert!(on_b.value().await.is_err());
    let (on_a_stats, on_b_stats) = (
        a.scope(async { stats() }).await,
        b.scope(async { stats() }).await,
    );
    assert_eq!(on_b_stats.actors, 0);
    assert!(on_b_stats.sent_to_stopped >= 1, "{on_b_stats:?}");
    assert_eq!(on_a_stats.sent_to_stopped, 0, "{on_a_stats:?}");
    assert_eq!(on_a_stats.actors, 3);
    a.shutdown();
    b.shutdown();
}

#[tokio::test]
async fn shutdown_in_a_nodes_scope_stops_only_that_nodes_actors() {
    let (a, b) = (isolated("a").await, isolated("b").await);
    let on_a = a.scope(Cell::spawn(1)).await.expect("a cell");
    let on_b = b.scope(Cell::spawn(2)).await.expect("b cell");
    let report = b.scope(shutdown(Duration::from_secs(5))).await;
    assert_eq!((report.stopped, report.killed), (1, 0));
    assert!(!on_b.is_alive());
    assert!(on_a.is_alive());
    assert_eq!(on_a.value().await, Ok(1));
    // Node b takes spawns again once its shutdown is over; node a never stopped taking them.
    assert!(b.scope(Cell::spawn(3)).await.is_ok());
    a.shutdown();
    b.shutdown();
}

#[tokio::test]
async fn links_and_monitors_work_between_actors_of_two_nodes_in_one_process() {
    let (a, b) = (isolated("a").await, isolated("b").await);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let watcher = a.scope(Watcher::spawn(tx)).await.expect("watcher");
    let watched = b.scope(Cell::spawn(1)).await.expect("watched");
    let linked = b.scope(Cell::spawn(2)).await.expect("linked");
    watcher.watch(watched.clone()).await.expect("monitor");
    watcher.link_to(linked.clone()).await.expect("link");
    watched.kill();
    let heard = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
    assert_eq!(heard.expect("a down"), Some(ExitReason::Killed));
    // The watcher traps exits (it has `#[on_exit]`): the link's exit signal is a message.
    linked.kill();
    let heard = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
    assert_eq!(heard.expect("the link fires"), Some(ExitReason::Killed));
    assert!(watcher.is_alive());
    a.shutdown();
    b.shutdown();
}

#[tokio::test]
async fn a_remote_spawn_starts_the_actor_on_the_node_asked() {
    let (a, b) = connected_pair().await;
    let before = (
        a.scope(async { actor_count() }).await,
        b.scope(async { actor_count() }).await,
    );
    let cell: Remote<Cell> = a.spawn("b", 5).await.expect("spawned on b");
    assert_eq!(cell.value().await, Ok(5));
    assert_eq!(a.scope(async { actor_count() }).await, before.0);
    assert_eq!(b.scope(async { actor_count() }).await, before.1 + 1);
    // Its handler is on b: the actors it counts are b's.
    assert_eq!(cell.actors_here().await, Ok(before.1 + 1));
    a.shutdown();
    b.shutdown();
}

#[tokio::test]
async fn a_node_that_is_not_isolated_shares_the_tables_of_the_code_that_starts_it() {
    let node = Node::start(NodeConfig::new("shared", "secret"))
        .await
        .expect("node");
    let cell = node.scope(Cell::spawn(7)).await.expect("cell");
    registry::register("shared-cell", &cell).expect("register");
    // Outside the scope, on the process's default node, the same actor and name are seen.
    assert_eq!(
        registry::lookup::<Cell>("shared-cell").map(|c| c.pid()),
        Ok(cell.pid())
    );
    node.shutdown();
}

#[tokio::test]
async fn spawn_link_refuses_a_linker_of_another_node_in_the_process() {
    let (a, b) = connected_pair().await;
    // Spawned outside any scope: an actor of the process's default node, not of `a`.
    let elsewhere = Cell::spawn(0).await.expect("a cell");
    let refused = a
        .spawn_link::<Cell>("b", 1, &elsewhere)
        .await
        .expect_err("the linker is not on a");
    assert!(
        refused
            .to_string()
            .contains("runs on another node of this process"),
        "{refused}"
    );
    let mine = a.scope(Cell::spawn(0)).await.expect("a cell on a");
    let linked: Remote<Cell> = a
        .spawn_link("b", 1, &mine)
        .await
        .expect("a linker of a's own");
    assert_eq!(linked.value().await, Ok(1));
    a.shutdown();
    b.shutdown();
}

/// Reports, from its `#[init]`, whether it sees the name `marker` in the registry.
#[actor]
struct Census;

#[actor]
impl Census {
    #[init]
    fn init(report: tokio::sync::mpsc::UnboundedSender<bool>) -> Self {
        let _ = report.send(registry::lookup::<Cell>("marker").is_ok());
        Census
    }
}

/// Starts a `Census` beside itself while its handler is inside another node's scope.
#[actor]
struct Starter {
    other: Node,
}

#[actor]
impl Starter {
    #[init]
    fn init(other: Node) -> Self {
        Starter { other }
    }

    #[handle(call)]
    async fn start_census(
        &mut self,
        report: tokio::sync::mpsc::UnboundedSender<bool>,
        ctx: &mut Ctx<Self>,
    ) -> bool {
        let other = self.other.clone();
        other.scope(ctx.spawn::<Census>(report)).await.is_ok()
    }
}

#[tokio::test]
async fn init_runs_on_the_new_actors_node_whatever_node_its_caller_is_on() {
    let (a, b) = (isolated("a").await, isolated("b").await);
    let marker = b.scope(Cell::spawn(0)).await.expect("a cell on b");
    registry::register("marker", &marker).expect("register on b");
    let starter = b
        .scope(Starter::spawn(a.clone()))
        .await
        .expect("starter on b");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    assert_eq!(starter.start_census(tx).await, Ok(true));
    // The census runs on b (`Ctx::spawn` starts it beside the starter), and its `#[init]`
    // sees b's names, although the starter's handler was inside a's scope.
    assert_eq!(rx.recv().await, Some(true));
    assert_eq!(b.scope(async { actor_count() }).await, 3);
    assert_eq!(a.scope(async { actor_count() }).await, 0);
    a.shutdown();
    b.shutdown();
}

#[tokio::test]
async fn a_cast_a_pool_cannot_deliver_is_counted_on_the_pools_node() {
    let a = isolated("a").await;
    let pool = a
        .scope(actor_runtime::Pool::<Cell>::start(0, 0))
        .await
        .expect("a pool without workers");
    // Sent from outside any node's scope: the pool's node counts it all the same.
    assert!(pool.set(1).is_err());
    assert_eq!(a.scope(async { stats() }).await.sent_to_stopped, 1);
    a.shutdown();
}
