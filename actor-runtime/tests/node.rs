//! Two nodes in one test process: typed casts and calls both ways through the same generated
//! client, deferred replies, errors that name the problem, links and monitors across the
//! connection, and `NoConnection` for everything that crossed it when it is lost.

#[path = "common/wait.rs"]
mod wait;

use std::future::IntoFuture;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use actor_runtime::node::{Node, NodeConfig, NodeError, Remote};
use actor_runtime::prelude::*;
use actor_runtime::{CallError, RemoteError};

/// A counter other nodes may reach.
#[actor]
struct Counter {
    total: u64,
    held: Option<ReplyTo<u64>>,
}

#[actor(remote = "test.Counter")]
impl Counter {
    #[init]
    fn init() -> Self {
        Counter {
            total: 0,
            held: None,
        }
    }

    #[handle(cast)]
    fn add(&mut self, n: u64) {
        self.total += n;
    }

    #[handle(call)]
    fn total(&mut self) -> u64 {
        self.total
    }

    /// Which actor answered (a pool's workers differ).
    #[handle(call)]
    fn who(&mut self, ctx: &mut Ctx<Self>) -> u64 {
        ctx.pid().id()
    }

    #[handle(call)]
    fn size(&mut self, bytes: Vec<u8>) -> usize {
        bytes.len()
    }

    /// Answers once `release` is cast: a deferred reply.
    #[handle(call)]
    fn hold(&mut self, reply: ReplyTo<u64>) {
        self.held = Some(reply);
    }

    #[handle(cast)]
    fn release(&mut self) {
        if let Some(reply) = self.held.take() {
            reply.send(self.total);
        }
    }

    #[handle(cast)]
    fn crash(&mut self) {
        panic!("counter crashed on purpose");
    }

    #[handle(call)]
    fn crash_in_call(&mut self) -> u64 {
        panic!("counter crashed in a call");
    }

    /// Takes back a link, whichever side made it.
    #[handle(call)]
    fn unlink_from(&mut self, linker: Remote<Linker>, ctx: &mut Ctx<Self>) -> bool {
        ctx.unlink(&linker);
        true
    }
}

/// Watches a remote actor and reports what it hears.
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
    fn watch(&mut self, target: Remote<Counter>, ctx: &mut Ctx<Self>) {
        ctx.monitor(&target);
    }

    #[handle(cast)]
    fn link_to(&mut self, target: Remote<Counter>, ctx: &mut Ctx<Self>) {
        ctx.link(&target);
    }

    #[handle(cast)]
    fn watch_linker(&mut self, target: Remote<Linker>, ctx: &mut Ctx<Self>) {
        ctx.monitor(&target);
    }

    #[on_down]
    fn down(&mut self, down: Down) {
        let _ = self.report.send((down.pid, down.reason));
    }

    #[on_exit]
    fn exit(&mut self, exit: Exit) {
        let _ = self.report.send((exit.from, exit.reason));
    }
}

async fn pair() -> (Node, Node) {
    let a = Node::start(NodeConfig::new("a", "secret"))
        .await
        .expect("a");
    let b = Node::start(NodeConfig::new("b", "secret"))
        .await
        .expect("b");
    a.connect(b.local_addr().expect("b listens"))
        .await
        .expect("connect");
    (a, b)
}

#[tokio::test]
async fn casts_and_calls_reach_a_remote_actor_through_the_generated_client() {
    let (a, b) = pair().await;
    let counter = Counter::spawn(()).await.expect("spawn");
    b.register("counter", &counter).expect("register");

    let remote: Remote<Counter> = a.lookup("b", "counter").await.expect("lookup");
    for n in 1..=100 {
        remote.add(n).expect("cast");
    }
    // Casts and the call that follows them keep their order.
    assert_eq!(remote.total().await, Ok(5050));
    assert_eq!(remote.size(vec![7; 1000]).await, Ok(1000));
    assert_eq!(remote.pid().id(), counter.pid().id());
    assert_eq!(remote.node(), "b");
    a.shutdown();
    b.shutdown();
}

#[tokio::test]
async fn both_nodes_call_each_other_over_one_connection() {
    let (a, b) = pair().await;
    let on_a = Counter::spawn(()).await.expect("spawn");
    let on_b = Counter::spawn(()).await.expect("spawn");
    a.register("here", &on_a).expect("register");
    b.register("here", &on_b).expect("register");
    let to_b: Remote<Counter> = a.lookup("b", "here").await.expect("lookup");
    let to_a: Remote<Counter> = b.lookup("a", "here").await.expect("lookup");
    to_b.add(2).expect("cast");
    to_a.add(3).expect("cast");
    assert_eq!(to_b.total().await, Ok(2));
    assert_eq!(to_a.total().await, Ok(3));
    assert_eq!(a.peers().len(), 1, "one connection serves both directions");
}

#[tokio::test]
async fn a_deferred_reply_crosses_the_connection() {
    let (a, b) = pair().await;
    let counter = Counter::spawn(()).await.expect("spawn");
    b.register("counter", &counter).expect("register");
    let remote: Remote<Counter> = a.lookup("b", "counter").await.expect("lookup");
    let mut held = std::pin::pin!(remote.hold().into_future());
    // Poll the call once: its request is queued ahead of the casts that follow.
    tokio::select! {
        biased;
        early = &mut held => panic!("answered before release: {early:?}"),
        () = std::future::ready(()) => {}
    }
    remote.add(41).expect("cast");
    remote.release().expect("cast");
    assert_eq!(held.await, Ok(41));
}

#[tokio::test]
async fn a_message_of_16_mib_arrives_whole() {
    let (a, b) = pair().await;
    let counter = Counter::spawn(()).await.expect("spawn");
    b.register("counter", &counter).expect("register");
    let remote: Remote<Counter> = a.lookup("b", "counter").await.expect("lookup");
    let big = vec![1u8; 16 << 20];
    assert_eq!(
        remote.size(big).timeout(Duration::from_secs(30)).await,
        Ok(16 << 20)
    );
}

#[tokio::test]
async fn lookups_name_what_is_missing() {
    let (a, b) = pair().await;
    let counter = Counter::spawn(()).await.expect("spawn");
    b.register("counter", &counter).expect("register");
    let missing = a
        .lookup::<Counter>("b", "nobody")
        .await
        .expect_err("missing");
    assert_eq!(
        missing.to_string(),
        "no actor is registered as `nobody` on node `b`"
    );
    let no_route = a.lookup::<Counter>("c", "counter").await.expect_err("c");
    assert!(
        matches!(no_route, NodeError::NoRoute(ref n) if n == "c"),
        "{no_route}"
    );
}

#[tokio::test]
async fn a_wrong_cookie_is_refused_on_both_sides() {
    let a = Node::start(NodeConfig::new("a", "secret"))
        .await
        .expect("a");
    let b = Node::start(NodeConfig::new("b", "other")).await.expect("b");
    let refused = a
        .connect(b.local_addr().expect("b listens"))
        .await
        .expect_err("refused");
    assert_eq!(
        refused.to_string(),
        "handshake failed: node `b` failed authentication: its cookie differs from ours"
    );
    assert!(a.peers().is_empty());
    assert!(b.peers().is_empty());
}

#[tokio::test]
async fn a_call_to_a_stopped_remote_actor_says_why() {
    let (a, b) = pair().await;
    let counter = Counter::spawn(()).await.expect("spawn");
    b.register("counter", &counter).expect("register");
    let remote: Remote<Counter> = a.lookup("b", "counter").await.expect("lookup");
    remote.crash_in_call().await.expect_err("crashed");
    counter.wait_for_exit().await;
    // The export went with the actor: the other node says there is no such actor.
    let after = remote.total().await;
    assert!(
        matches!(after, Err(CallError::Remote(RemoteError::Unknown(_)))),
        "{after:?}"
    );
}

#[tokio::test]
async fn a_panicking_handler_gives_the_remote_caller_its_exit_reason() {
    let (a, b) = pair().await;
    let counter = Counter::spawn(()).await.expect("spawn");
    b.register("counter", &counter).expect("register");
    let remote: Remote<Counter> = a.lookup("b", "counter").await.expect("lookup");
    let err = remote.crash_in_call().await.expect_err("crashed");
    assert_eq!(
        err,
        CallError::Stopped(ExitReason::Panic("counter crashed in a call".into()))
    );
}

#[tokio::test]
async fn a_remote_monitor_reports_the_exit_reason() {
    let (a, b) = pair().await;
    let counter = Counter::spawn(()).await.expect("spawn");
    b.register("counter", &counter).expect("register");
    let remote: Remote<Counter> = a.lookup("b", "counter").await.expect("lookup");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let watcher = Watcher::spawn(tx).await.expect("watcher");
    watcher.watch(remote.clone()).expect("cast");
    // The monitor is set once the watcher handled its cast; a call after it proves that.
    let _ = remote.total().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    remote.crash().expect("cast");
    let (pid, reason) = rx.recv().await.expect("down");
    assert_eq!(pid, remote.pid());
    assert_eq!(
        reason,
        ExitReason::Panic("counter crashed on purpose".into())
    );
}

#[tokio::test]
async fn a_lost_connection_fails_calls_and_fires_links_and_monitors_with_no_connection() {
    let (a, b) = pair().await;
    let counter = Counter::spawn(()).await.expect("spawn");
    b.register("counter", &counter).expect("register");
    let remote: Remote<Counter> = a.lookup("b", "counter").await.expect("lookup");

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let watcher = Watcher::spawn(tx.clone()).await.expect("watcher");
    watcher.watch(remote.clone()).expect("cast");
    let linked = Watcher::spawn(tx).await.expect("linked");
    linked.link_to(remote.clone()).expect("cast");
    let _ = remote.total().await;
    tokio::time::sleep(Duration::from_millis(50)).await;

    let in_flight = tokio::spawn({
        let remote = remote.clone();
        async move { remote.hold().timeout(Duration::from_secs(30)).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let node_down = a.monitor_node("b");
    b.shutdown();

    assert_eq!(
        in_flight.await.expect("join"),
        Err(CallError::Stopped(ExitReason::NoConnection))
    );
    assert_eq!(node_down.await, ExitReason::NoConnection);
    // One from the monitor, one from the link.
    let heard = vec![
        rx.recv().await.expect("first"),
        rx.recv().await.expect("second"),
    ];
    assert_eq!(
        heard,
        vec![
            (remote.pid(), ExitReason::NoConnection),
            (remote.pid(), ExitReason::NoConnection)
        ]
    );
    assert_eq!(
        remote.add(1),
        Err(SendError::Stopped(ExitReason::NoConnection))
    );
    assert!(!remote.is_connected());
}

#[tokio::test]
async fn heartbeats_keep_an_idle_connection_up_past_the_silence_limit() {
    // A peer that falls silent is declared lost: tests/processes.rs freezes one with SIGSTOP.
    let a = Node::start(
        NodeConfig::new("a", "secret")
            .heartbeat(Duration::from_millis(50), Duration::from_millis(300)),
    )
    .await
    .expect("a");
    let b = Node::start(
        NodeConfig::new("b", "secret")
            .heartbeat(Duration::from_millis(50), Duration::from_millis(300)),
    )
    .await
    .expect("b");
    a.connect(b.local_addr().expect("listens"))
        .await
        .expect("connect");
    // Heartbeats keep an idle connection up well past the silence limit.
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(a.peers().len(), 1);
    assert_eq!(a.stats().connections_lost, 0);
}

/// A counter that starts at its argument, and refuses to start at 0.
#[actor]
struct Seeded {
    total: u64,
}

#[actor(remote = "test.Seeded")]
impl Seeded {
    #[init]
    fn init(start: u64) -> Result<Self, String> {
        if start == 0 {
            return Err("a seeded counter starts above 0".into());
        }
        Ok(Seeded { total: start })
    }

    #[handle(call)]
    fn total(&mut self) -> u64 {
        self.total
    }
}

#[tokio::test]
async fn a_kind_allowed_for_remote_spawn_starts_there_with_its_arguments() {
    let (a, b) = pair().await;
    b.allow_spawn::<Seeded>();
    let seeded: Remote<Seeded> = a.spawn("b", 41).await.expect("spawned on b");
    assert_eq!(seeded.node(), "b");
    assert_eq!(seeded.total().await, Ok(41));
    // It runs on b, and a's handle reaches it like any other remote actor.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let watcher = Watcher::spawn(tx).await.expect("watcher");
    let counter: Remote<Counter> = {
        b.allow_spawn::<Counter>();
        a.spawn("b", ()).await.expect("a counter on b")
    };
    watcher.watch(counter.clone()).expect("watch");
    counter.add(2).expect("add");
    assert_eq!(counter.total().await, Ok(2));
    counter.kill();
    let (pid, reason) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("a down in time")
        .expect("down");
    assert_eq!((pid, reason), (counter.pid(), ExitReason::Killed));
}

/// Adds up two counters it was given handles to at its start.
#[actor]
struct Summer {
    first: Remote<Counter>,
    second: Remote<Counter>,
}

#[actor(remote = "test.Summer")]
impl Summer {
    #[init]
    fn init(counters: (Remote<Counter>, Remote<Counter>)) -> Self {
        Summer {
            first: counters.0,
            second: counters.1,
        }
    }

    #[handle(call)]
    async fn sum(&mut self) -> Option<u64> {
        Some(self.first.total().await.ok()? + self.second.total().await.ok()?)
    }
}

#[tokio::test]
async fn a_remote_spawn_takes_handles_to_actors_of_either_node_in_its_arguments() {
    let (a, b) = pair().await;
    b.allow_spawn::<Summer>();
    let on_a = Counter::spawn(()).await.expect("a counter on a");
    let on_b = Counter::spawn(()).await.expect("a counter on b");
    b.register("counter", &on_b).expect("register");
    on_a.add(40).expect("add");
    on_b.add(2).expect("add");
    let remote_b: Remote<Counter> = a.lookup("b", "counter").await.expect("lookup");
    let summer: Remote<Summer> = a
        .spawn("b", (a.handle(&on_a), remote_b))
        .await
        .expect("spawned with two handles");
    // One handle reaches back across the connection, the other is local on b.
    assert_eq!(summer.sum().await, Ok(Some(42)));
    a.shutdown();
    b.shutdown();
}

#[tokio::test]
async fn a_remote_spawn_with_a_handle_to_a_third_node_connects_there_first() {
    let (a, b) = pair().await;
    let c = Node::start(NodeConfig::new("c", "secret"))
        .await
        .expect("c");
    // `a` knows `c`; `b` has never heard of it.
    a.connect(c.local_addr().expect("c listens"))
        .await
        .expect("connect");
    b.allow_spawn::<Summer>();
    let on_c = Counter::spawn(()).await.expect("a counter");
    on_c.add(21).expect("add");
    c.register("counter", &on_c).expect("register");
    let remote_c: Remote<Counter> = a.lookup("c", "counter").await.expect("lookup");
    assert!(b.peers().iter().all(|p| p.name != "c"));
    let summer: Remote<Summer> = a
        .spawn("b", (remote_c.clone(), remote_c))
        .await
        .expect("spawned with a third node's handle");
    // `b` connected to `c` before it decoded the arguments, and reaches its counter.
    assert!(b.peers().iter().any(|p| p.name == "c"));
    assert_eq!(summer.sum().await, Ok(Some(42)));
    a.shutdown();
    b.shutdown();
    c.shutdown();
}

#[tokio::test]
async fn remote_spawn_of_a_kind_not_allowed_is_refused_with_the_fix() {
    let (a, _b) = pair().await;
    let refused = a
        .spawn::<Seeded>("b", 1)
        .await
        .expect_err("not allowed on b");
    let NodeError::Spawn(why) = &refused else {
        panic!("expected a spawn error, got {refused:?}");
    };
    assert!(why.contains("node `b` does not allow"), "{why}");
    assert!(why.contains("`test.Seeded`"), "{why}");
    assert!(why.contains("Node::allow_spawn"), "{why}");
}

#[tokio::test]
async fn a_remote_spawn_whose_init_fails_reports_the_init_error() {
    let (a, b) = pair().await;
    b.allow_spawn::<Seeded>();
    let failed = a.spawn::<Seeded>("b", 0).await.expect_err("init refuses 0");
    assert!(
        failed
            .to_string()
            .contains("a seeded counter starts above 0"),
        "{failed}"
    );
    // The connection is unharmed.
    assert_eq!(
        a.spawn::<Seeded>("b", 5)
            .await
            .expect("spawn")
            .total()
            .await,
        Ok(5)
    );
}

/// Actors of kind `Slow` started, and running now, in this test process.
static SLOW_STARTED: AtomicI64 = AtomicI64::new(0);
static SLOW_RUNNING: AtomicI64 = AtomicI64::new(0);

/// An actor whose `#[init]` takes its argument in milliseconds.
#[actor]
struct Slow;

#[actor(remote = "test.Slow")]
impl Slow {
    #[init]
    async fn init(ms: u64) -> Self {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        SLOW_STARTED.fetch_add(1, Ordering::SeqCst);
        SLOW_RUNNING.fetch_add(1, Ordering::SeqCst);
        Slow
    }

    #[handle(call)]
    fn ping(&mut self) -> bool {
        true
    }
}

impl Drop for Slow {
    fn drop(&mut self) {
        SLOW_RUNNING.fetch_sub(1, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn a_remote_spawn_that_times_out_kills_the_actor_that_starts_late() {
    let mut config = NodeConfig::new("impatient", "secret");
    config.handshake_timeout = Duration::from_millis(100);
    let a = Node::start(config).await.expect("a");
    let b = Node::start(NodeConfig::new("b", "secret"))
        .await
        .expect("b");
    a.connect(b.local_addr().expect("b listens"))
        .await
        .expect("connect");
    b.allow_spawn::<Slow>();
    let late = a.spawn::<Slow>("b", 400).await.expect_err("too slow");
    assert!(
        late.to_string().contains("did not answer a spawn"),
        "{late}"
    );
    // The actor started after the spawn gave up, and was killed when its answer came.
    wait::until(
        "the late actor started",
        Duration::from_secs(5),
        async || (SLOW_STARTED.load(Ordering::SeqCst) == 1).then_some(()),
    )
    .await;
    wait::until(
        "the late actor killed",
        Duration::from_secs(5),
        async || (SLOW_RUNNING.load(Ordering::SeqCst) == 0).then_some(()),
    )
    .await;
    // A spawn in time is kept.
    let kept: Remote<Slow> = a.spawn("b", 0).await.expect("in time");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(kept.ping().await, Ok(true));
    assert_eq!(SLOW_RUNNING.load(Ordering::SeqCst), 1);
}

/// Spawns a counter on node `b`, linked to itself, and reports exit signals.
#[actor]
struct Spawner {
    node: Node,
    report: tokio::sync::mpsc::UnboundedSender<(Pid, ExitReason)>,
}

#[actor]
impl Spawner {
    #[init]
    fn init((node, report): (Node, tokio::sync::mpsc::UnboundedSender<(Pid, ExitReason)>)) -> Self {
        Spawner { node, report }
    }

    #[handle(call)]
    async fn spawn_counter(&mut self, ctx: &mut Ctx<Self>) -> Result<Remote<Counter>, NodeError> {
        self.node.spawn_link::<Counter>("b", (), ctx.addr()).await
    }

    #[on_exit]
    fn exit(&mut self, exit: Exit) {
        let _ = self.report.send((exit.from, exit.reason));
    }
}

#[tokio::test]
async fn spawn_link_links_the_remote_actor_to_its_spawner_both_ways() {
    let (a, b) = pair().await;
    b.allow_spawn::<Counter>();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let spawner = Spawner::spawn((a.clone(), tx)).await.expect("spawner");
    // The remote actor's crash reaches its spawner over the link.
    let counter = spawner
        .spawn_counter()
        .await
        .expect("call")
        .expect("spawned linked");
    assert_eq!(counter.node(), "b");
    counter.crash().expect("crash");
    let (from, reason) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("an exit in time")
        .expect("exit");
    assert_eq!(from, counter.pid());
    assert!(matches!(reason, ExitReason::Panic(_)), "{reason:?}");
    // And the spawner's end reaches a remote actor it spawned.
    let second = spawner
        .spawn_counter()
        .await
        .expect("call")
        .expect("spawned linked");
    let (wtx, mut wrx) = tokio::sync::mpsc::unbounded_channel();
    let watcher = Watcher::spawn(wtx).await.expect("watcher");
    watcher.watch(second.clone()).expect("watch");
    assert_eq!(second.total().await, Ok(0));
    spawner.stop_with(ExitReason::Shutdown);
    let (pid, reason) = tokio::time::timeout(Duration::from_secs(5), wrx.recv())
        .await
        .expect("a down in time")
        .expect("down");
    assert_eq!((pid, reason), (second.pid(), ExitReason::Shutdown));
}

#[tokio::test]
async fn spawn_link_to_a_remote_handle_is_refused() {
    let (a, b) = pair().await;
    b.allow_spawn::<Counter>();
    let counter: Remote<Counter> = a.spawn("b", ()).await.expect("spawn");
    let refused = a
        .spawn_link::<Counter>("b", (), &counter)
        .await
        .expect_err("the linker is remote");
    assert!(
        refused
            .to_string()
            .contains("only to an actor of this node"),
        "{refused}"
    );
    assert_eq!(
        a.stats().remote_watched,
        0,
        "the refused linker left no record"
    );
}

/// Monitors and links, then takes it back, over and over.
#[actor]
struct Churner;

#[actor]
impl Churner {
    #[init]
    fn init() -> Self {
        Churner
    }

    #[handle(call)]
    fn churn(&mut self, target: Remote<Counter>, times: u32, ctx: &mut Ctx<Self>) -> u32 {
        for _ in 0..times {
            let monitor = ctx.monitor(&target);
            ctx.demonitor(monitor);
            ctx.link(&target);
            ctx.unlink(&target);
        }
        times
    }

    #[on_down]
    fn down(&mut self, _: Down) {}
}

/// Link and monitor records on both nodes, `(a's remote_watched, b's remote_watchers)`.
fn records(a: &Node, b: &Node) -> (usize, usize) {
    (a.stats().remote_watched, b.stats().remote_watchers)
}

#[tokio::test]
async fn link_and_monitor_records_leave_with_the_last_link_or_monitor() {
    let (a, b) = pair().await;
    b.allow_spawn::<Counter>();
    let mut counters: Vec<Remote<Counter>> = Vec::new();
    for _ in 0..20 {
        counters.push(a.spawn("b", ()).await.expect("spawn"));
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let watcher = Watcher::spawn(tx.clone()).await.expect("watcher");
    let linker = Watcher::spawn(tx).await.expect("linker");
    for counter in &counters {
        watcher.watch(counter.clone()).expect("watch");
        linker.link_to(counter.clone()).expect("link");
    }
    // One record per remote actor on `a`, one per remote watcher on `b`, while they last.
    wait::until(
        "records while watched",
        Duration::from_secs(5),
        async || (records(&a, &b) == (20, 2)).then_some(()),
    )
    .await;

    // Monitors and links taken back leave no record.
    let churner = Churner::spawn(()).await.expect("churner");
    churner
        .churn(counters[0].clone(), 200)
        .await
        .expect("churn");
    wait::until("records after churn", Duration::from_secs(5), async || {
        (records(&a, &b) == (20, 2)).then_some(())
    })
    .await;

    // The actors stop: every Down and exit arrives, and the records go with them.
    for counter in &counters {
        counter.kill();
    }
    for _ in 0..40 {
        tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("a down or an exit in time")
            .expect("report");
    }
    wait::until("no records left", Duration::from_secs(5), async || {
        (records(&a, &b) == (0, 0)).then_some(())
    })
    .await;
}

/// Links to the counter it is given, from its own node; stops on request.
#[actor]
struct Linker;

#[actor(remote = "test.Linker")]
impl Linker {
    #[init]
    fn init() -> Self {
        Linker
    }

    #[handle(call)]
    fn link_with(&mut self, counter: Remote<Counter>, ctx: &mut Ctx<Self>) -> bool {
        ctx.link(&counter);
        true
    }

    #[handle(cast)]
    fn fail(&mut self, ctx: &mut Ctx<Self>) {
        ctx.stop_with(ExitReason::error("on purpose"));
    }
}

async fn until_stopped<A: actor_runtime::Addressable>(addr: &Addr<A>) -> ExitReason {
    wait::until("the actor stopped", Duration::from_secs(5), async || {
        addr.exit_reason()
    })
    .await
}

#[tokio::test]
async fn a_link_the_other_node_made_fires_even_when_its_actor_is_also_monitored_here() {
    let (a, b) = pair().await;
    let counter = Counter::spawn(()).await.expect("counter");
    a.register("counter", &counter).expect("register");
    let linker = Linker::spawn(()).await.expect("linker");
    b.register("linker", &linker).expect("register");
    // `b` links its actor to `a`'s counter: on `a` the link is the other node's.
    let on_a: Remote<Counter> = b.lookup("a", "counter").await.expect("lookup");
    assert_eq!(linker.link_with(on_a).await, Ok(true));
    // And `a` monitors that actor too, so it has a proxy of it as well.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let watcher = Watcher::spawn(tx).await.expect("watcher");
    let on_b: Remote<Linker> = a.lookup("b", "linker").await.expect("lookup");
    watcher.watch_linker(on_b.clone()).expect("watch");
    wait::until("both records on a", Duration::from_secs(5), async || {
        (a.stats().remote_watched == 1 && a.stats().remote_watchers == 1).then_some(())
    })
    .await;

    on_b.fail().expect("fail");
    let (pid, reason) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("a down in time")
        .expect("down");
    assert_eq!(
        (pid, &reason),
        (on_b.pid(), &ExitReason::error("on purpose"))
    );
    // The link fired: the counter stopped with the linker's reason.
    assert_eq!(
        until_stopped(&counter).await,
        ExitReason::error("on purpose")
    );
    wait::until("no records left", Duration::from_secs(5), async || {
        (records(&a, &b) == (0, 0) && a.stats().remote_watchers == 0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn an_unlink_reaches_a_link_the_other_node_made() {
    let (a, b) = pair().await;
    let counter = Counter::spawn(()).await.expect("counter");
    a.register("counter", &counter).expect("register");
    let linker = Linker::spawn(()).await.expect("linker");
    b.register("linker", &linker).expect("register");
    // `b`'s linker links to `a`'s counter: on `a` the link is the other node's.
    let on_a: Remote<Counter> = b.lookup("a", "counter").await.expect("lookup");
    assert_eq!(linker.link_with(on_a).await, Ok(true));
    wait::until("the link's records", Duration::from_secs(5), async || {
        (b.stats().remote_watched == 1 && a.stats().remote_watchers == 1).then_some(())
    })
    .await;
    // The counter takes the link back through its own handle of the linker.
    let on_b: Remote<Linker> = a.lookup("b", "linker").await.expect("lookup");
    assert_eq!(counter.unlink_from(on_b.clone()).await, Ok(true));
    wait::until("no records left", Duration::from_secs(5), async || {
        (records(&a, &b) == (0, 0)
            && b.stats().remote_watched == 0
            && a.stats().remote_watchers == 0)
            .then_some(())
    })
    .await;

    // The linker fails. Were the link still there, its exit would reach the counter on the
    // connection before the `Down` does, and stop it (the counter does not trap exits).
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let watcher = Watcher::spawn(tx).await.expect("watcher");
    watcher.watch_linker(on_b.clone()).expect("watch");
    wait::until("the monitor's record", Duration::from_secs(5), async || {
        (a.stats().remote_watched == 1).then_some(())
    })
    .await;
    on_b.fail().expect("fail");
    let (pid, reason) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("a down in time")
        .expect("down");
    assert_eq!(
        (pid, &reason),
        (on_b.pid(), &ExitReason::error("on purpose"))
    );
    assert_eq!(counter.total().await, Ok(0), "the counter runs on");
    assert!(counter.is_alive(), "{:?}", counter.exit_reason());
}

#[tokio::test]
async fn a_spawn_link_given_up_by_its_caller_leaves_the_linker_running() {
    let (a, b) = pair().await;
    b.allow_spawn::<Slow>();
    // The linker does not trap exits: a link exit would stop it.
    let linker = Churner::spawn(()).await.expect("linker");
    let started = SLOW_STARTED.load(Ordering::SeqCst);
    let given_up = tokio::time::timeout(
        Duration::from_millis(100),
        a.spawn_link::<Slow>("b", 300, &linker),
    )
    .await;
    assert!(given_up.is_err(), "the caller gave up first");
    wait::until(
        "the late actor started",
        Duration::from_secs(5),
        async || (SLOW_STARTED.load(Ordering::SeqCst) > started).then_some(()),
    )
    .await;
    wait::until(
        "the late actor killed",
        Duration::from_secs(5),
        async || (SLOW_RUNNING.load(Ordering::SeqCst) == 0).then_some(()),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(linker.is_alive(), "{:?}", linker.exit_reason());
}

#[tokio::test]
async fn monitors_and_links_taken_back_leave_no_record_on_either_node() {
    let (a, b) = pair().await;
    let counter = Counter::spawn(()).await.expect("counter");
    b.register("counter", &counter).expect("register");
    let remote: Remote<Counter> = a.lookup("b", "counter").await.expect("lookup");
    let churner = Churner::spawn(()).await.expect("churner");
    churner.churn(remote.clone(), 500).await.expect("churn");
    // The actor still runs; nothing watches it any more.
    assert_eq!(remote.total().await, Ok(0));
    wait::until("no records left", Duration::from_secs(5), async || {
        (records(&a, &b) == (0, 0)).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_request_too_large_for_a_frame_is_refused_before_it_is_sent() {
    let (a, b) = pair().await;
    b.allow_spawn::<Counter>();
    let name = "x".repeat(200 << 10);
    let refused = a
        .lookup::<Counter>("b", &name)
        .await
        .expect_err("too large");
    assert!(
        refused.to_string().contains("does not fit in a frame"),
        "{refused}"
    );
    // The connection is still up: nothing oversized went out.
    let counter: Remote<Counter> = a.spawn("b", ()).await.expect("spawn");
    assert_eq!(counter.total().await, Ok(0));
    assert_eq!(a.stats().connections_lost, 0);
}

#[tokio::test]
async fn a_pool_registered_on_a_node_is_reached_through_its_workers_client() {
    let (a, b) = pair().await;
    let pool = actor_runtime::Pool::<Counter>::start(2, ())
        .await
        .expect("pool");
    b.register_pool("counters", &pool).expect("register");
    let remote: Remote<Counter> = a.lookup("b", "counters").await.expect("lookup");
    // Round-robin over the workers, as for a local caller.
    let mut answered = std::collections::HashSet::new();
    for _ in 0..4 {
        answered.insert(remote.who().await.expect("who"));
    }
    assert_eq!(answered.len(), 2, "both workers answered: {answered:?}");
    for _ in 0..10 {
        remote.add(1).expect("cast");
    }
    let mut total = 0;
    for _ in 0..2 {
        total += remote.total().await.expect("total");
    }
    assert_eq!(total, 10, "each cast reached one worker");

    // A monitor from the other node watches the pool's supervisor.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let watcher = Watcher::spawn(tx).await.expect("watcher");
    watcher.watch(remote.clone()).expect("watch");
    assert_eq!(remote.total().await.map(|_| ()), Ok(()));
    actor_runtime::Pool::stop(&pool);
    let (pid, reason) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("a down in time")
        .expect("down");
    assert_eq!((pid, reason), (remote.pid(), ExitReason::Shutdown));
    let gone = a
        .lookup::<Counter>("b", "counters")
        .await
        .expect_err("stopped");
    assert_eq!(
        gone.to_string(),
        "no actor is registered as `counters` on node `b`"
    );
}

/// An actor that links to a peer of its kind on another node, and leaves when told.
#[actor]
struct Pal;

#[actor(remote = "test.Pal")]
impl Pal {
    #[init]
    fn init() -> Self {
        Pal
    }

    #[handle(call)]
    fn link_pal(&mut self, other: Remote<Pal>, ctx: &mut Ctx<Self>) -> bool {
        ctx.link(&other);
        true
    }

    #[handle(cast)]
    fn leave(&mut self, ctx: &mut Ctx<Self>) {
        ctx.stop();
    }
}

/// Every link and monitor record on both nodes: (a's proxies, a's stand-ins, b's, b's).
fn all_records(a: &Node, b: &Node) -> (usize, usize, usize, usize) {
    let (a, b) = (a.stats(), b.stats());
    (
        a.remote_watched,
        a.remote_watchers,
        b.remote_watched,
        b.remote_watchers,
    )
}

#[tokio::test]
async fn a_pair_linked_from_both_nodes_leaves_no_record_once_one_of_them_stops() {
    let (a, b) = pair().await;
    // First a's actor links, then b's; then the other way round.
    for a_links_first in [true, false] {
        let on_a = Pal::spawn(()).await.expect("pal on a");
        let on_b = Pal::spawn(()).await.expect("pal on b");
        a.register("pal", &on_a).expect("register");
        b.register("pal", &on_b).expect("register");
        let to_b: Remote<Pal> = a.lookup("b", "pal").await.expect("lookup");
        let to_a: Remote<Pal> = b.lookup("a", "pal").await.expect("lookup");
        if a_links_first {
            assert_eq!(on_a.link_pal(to_b.clone()).await, Ok(true));
            wait::until("b holds a's link", Duration::from_secs(5), async || {
                (b.stats().remote_watchers == 1).then_some(())
            })
            .await;
            assert_eq!(on_b.link_pal(to_a.clone()).await, Ok(true));
        } else {
            assert_eq!(on_b.link_pal(to_a.clone()).await, Ok(true));
            wait::until("a holds b's link", Duration::from_secs(5), async || {
                (a.stats().remote_watchers == 1).then_some(())
            })
            .await;
            assert_eq!(on_a.link_pal(to_b.clone()).await, Ok(true));
        }
        wait::until(
            "both records on both nodes",
            Duration::from_secs(5),
            async || (all_records(&a, &b) == (1, 1, 1, 1)).then_some(()),
        )
        .await;
        drop((to_a, to_b));
        on_a.leave().expect("leave");
        assert_eq!(until_stopped(&on_a).await, ExitReason::Normal);
        wait::until(
            "no record left on either node",
            Duration::from_secs(5),
            async || (all_records(&a, &b) == (0, 0, 0, 0)).then_some(()),
        )
        .await;
        assert!(
            on_b.is_alive(),
            "a normal exit does not stop its linked pal"
        );
        on_b.stop();
        let _ = until_stopped(&on_b).await;
    }
}
