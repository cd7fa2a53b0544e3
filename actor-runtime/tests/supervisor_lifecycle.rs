//! Starting and stopping trees: start order, failed starts, shutdown timeouts and brutal
//! kill, what handles see across restarts, and what siblings keep.

mod common;

use std::time::Duration;

use actor_runtime::prelude::*;
use common::supervision::{Journal, Worker};

#[actor]
struct Failing;

#[actor]
impl Failing {
    #[init]
    fn init() -> Result<Self, String> {
        Err("no disk".to_owned())
    }
}

#[tokio::test]
async fn failed_child_start_stops_the_started_ones_and_fails_the_supervisor() {
    #[supervisor(one_for_one)]
    struct Tree {
        #[child(args = ("a", Journal::named("failed-start")))]
        a: Child<Worker>,
        #[child(args = ("b", Journal::named("failed-start")))]
        b: Child<Worker>,
        broken: Child<Failing>,
        #[child(args = ("c", Journal::named("failed-start")))]
        c: Child<Worker>,
    }
    let result = Tree::start().await;
    assert_eq!(
        result.err(),
        Some(SpawnError::Init(SupervisorError::ChildStart {
            child: "broken",
            error: "actor init failed: no disk".to_owned(),
        }))
    );
    assert_eq!(
        Journal::named("failed-start").take(),
        vec!["start a", "start b", "exit b: shutdown", "exit a: shutdown"]
    );
}

#[tokio::test(start_paused = true)]
async fn child_that_ignores_shutdown_is_killed_after_its_timeout() {
    #[supervisor(one_for_one)]
    struct Tree {
        #[child(shutdown = "2s", args = ("stuck", Journal::named("brutal")))]
        stuck: Child<Worker>,
        #[child(shutdown = brutal_kill, args = ("brutal", Journal::named("brutal")))]
        brutal: Child<Worker>,
    }
    let journal = Journal::named("brutal");
    let tree = Tree::start().await.expect("start");
    journal.take();
    let stuck = tree.stuck.addr().expect("running");
    let brutal = tree.brutal.addr().expect("running");
    stuck.stall().expect("queued");
    tokio::task::yield_now().await;

    let started = tokio::time::Instant::now();
    tree.stop();
    assert_eq!(brutal.wait_for_exit().await, ExitReason::Killed);
    assert_eq!(stuck.wait_for_exit().await, ExitReason::Killed);
    assert_eq!(started.elapsed(), Duration::from_secs(2));
    // Neither ran #[terminate]: one was killed at once, the other after its timeout.
    assert_eq!(journal.take(), Vec::<String>::new());
}

#[tokio::test]
async fn handle_stays_usable_across_restarts_and_calls_in_flight_fail_fast() {
    #[supervisor(one_for_one)]
    struct Tree {
        #[child(args = ("w", Journal::named("in-flight")))]
        w: Child<Worker>,
    }
    let tree = Tree::start().await.expect("start");
    let first = tree.w.addr().expect("running");

    // A call the first incarnation never answers is in flight when it crashes.
    let in_flight = {
        let handle = tree.w.clone();
        tokio::spawn(async move { handle.hang().await })
    };
    while first.mailbox().len > 0 {
        tokio::task::yield_now().await;
    }
    tree.w.crash().expect("queued");
    assert_eq!(
        in_flight.await.expect("caller"),
        Err(CallError::Stopped(ExitReason::error("crash")))
    );
    first.wait_for_exit().await;
    tree.supervisor()
        .expect("runs")
        .children()
        .await
        .expect("restart done");

    // The same handle now reaches the second incarnation.
    let second = tree.w.addr().expect("restarted");
    assert_ne!(second.pid(), first.pid());
    assert_eq!(tree.w.name().await, Ok("w"));
    tree.w.work().expect("cast through the handle");
    assert_eq!(second.handled().await, Ok(1));
}

#[tokio::test]
async fn surviving_siblings_lose_no_queued_message() {
    #[supervisor(one_for_one)]
    struct Tree {
        #[child(args = ("busy", Journal::named("siblings")))]
        busy: Child<Worker>,
        #[child(args = ("victim", Journal::named("siblings")))]
        victim: Child<Worker>,
    }
    let tree = Tree::start().await.expect("start");
    let busy = tree.busy.addr().expect("running");
    for _ in 0..500 {
        tree.busy.work().expect("room");
    }
    let victim = tree.victim.addr().expect("running");
    victim.crash().expect("queued");
    for _ in 0..500 {
        tree.busy.work().expect("room");
    }
    victim.wait_for_exit().await;
    assert_eq!(tree.busy.handled().await, Ok(1000));
    assert_eq!(tree.busy.addr().map(|a| a.pid()), Some(busy.pid()));
}

#[tokio::test]
async fn registered_child_keeps_its_name_across_restarts() {
    #[supervisor(one_for_one)]
    struct Tree {
        #[child(name = "lifecycle-named-worker", args = ("named", Journal::named("named")))]
        named: Child<Worker>,
    }
    let tree = Tree::start().await.expect("start");
    let first =
        actor_runtime::registry::lookup::<Worker>("lifecycle-named-worker").expect("registered");
    first.crash().expect("queued");
    first.wait_for_exit().await;
    tree.supervisor()
        .expect("runs")
        .children()
        .await
        .expect("restarted");
    let second = actor_runtime::registry::lookup::<Worker>("lifecycle-named-worker")
        .expect("registered again");
    assert_ne!(first.pid(), second.pid());
    assert_eq!(tree.named.addr().map(|a| a.pid()), Some(second.pid()));
}

#[tokio::test]
async fn simple_one_for_one_starts_children_at_run_time_with_typed_arguments() {
    #[supervisor(simple_one_for_one)]
    struct Pool {
        #[child(restart = transient)]
        worker: Child<Worker>,
    }
    let journal = Journal::named("dynamic");
    let pool = Pool::start().await.expect("start");
    let one = pool
        .start_child(("one", journal.clone()))
        .await
        .expect("one");
    let two = pool
        .start_child(("two", journal.clone()))
        .await
        .expect("two");
    assert_eq!(one.name().await, Ok("one"));
    assert_eq!(two.name().await, Ok("two"));
    assert_eq!(journal.take(), vec!["start one", "start two"]);

    // A crash restarts only that child, with the same arguments.
    let first_two = two.addr().expect("running");
    first_two.crash().expect("queued");
    first_two.wait_for_exit().await;
    let sup = pool.supervisor().expect("runs");
    assert_eq!(sup.children().await.map(|c| c.len()), Ok(2));
    assert_eq!(journal.take(), vec!["exit two: error: crash", "start two"]);
    assert_eq!(two.name().await, Ok("two"));

    // A transient child that exits normally is removed.
    let first_one = one.addr().expect("running");
    first_one.quit().expect("queued");
    first_one.wait_for_exit().await;
    assert_eq!(sup.children().await.map(|c| c.len()), Ok(1));
}

#[tokio::test]
async fn start_child_returns_a_handle_that_terminate_child_accepts() {
    #[supervisor(simple_one_for_one)]
    struct Pool {
        worker: Child<Worker>,
    }
    let journal = Journal::named("terminate");
    let pool = Pool::start().await.expect("start");
    let one = pool
        .start_child(("one", journal.clone()))
        .await
        .expect("one");
    let two = pool
        .start_child(("two", journal.clone()))
        .await
        .expect("two");
    let first = one.addr().expect("running");
    assert_eq!(pool.terminate_child(&one).await, Ok(true));
    assert_eq!(first.wait_for_exit().await, ExitReason::Shutdown);
    assert_eq!(one.exit_reason(), Some(ExitReason::Shutdown));
    assert_eq!(two.name().await, Ok("two"), "the other child runs on");
    assert_eq!(
        pool.terminate_child(&one).await,
        Ok(false),
        "a child is terminated once"
    );
    let sup = pool.supervisor().expect("runs");
    assert_eq!(sup.children().await.map(|c| c.len()), Ok(1));
}

/// Stops the tree it belongs to from inside one of its handlers.
#[actor]
struct Quitter {
    tree: Option<QuitTree>,
}

#[actor]
impl Quitter {
    #[init]
    fn init() -> Self {
        Quitter { tree: None }
    }

    #[handle(cast)]
    fn stop_tree(&mut self, tree: QuitTree) {
        tree.stop();
        self.tree = Some(tree);
    }
}

#[supervisor(one_for_one)]
struct QuitTree {
    quitter: Child<Quitter>,
}

#[tokio::test]
async fn a_child_can_stop_its_own_tree() {
    let tree = QuitTree::start().await.expect("start");
    let sup = tree.supervisor().expect("runs");
    let child = tree.quitter.addr().expect("running");
    tree.quitter.stop_tree(tree.clone()).expect("queued");
    assert_eq!(sup.wait_for_exit().await, ExitReason::Shutdown);
    assert_eq!(child.wait_for_exit().await, ExitReason::Shutdown);
}

/// Sends exit signals it has no business sending.
#[actor]
struct Meddler;

#[actor]
impl Meddler {
    #[init]
    fn init() -> Self {
        Meddler
    }

    #[handle(call)]
    fn meddle(&mut self, target: Addr<actor_runtime::Supervisor>) -> bool {
        target.exit(ExitReason::error("meddling"));
        true
    }
}

#[tokio::test]
async fn exit_signals_from_non_children_do_not_stop_a_supervisor() {
    #[supervisor(one_for_one)]
    struct Tree {
        #[child(args = ("w", Journal::named("non-child")))]
        w: Child<Worker>,
    }
    let tree = Tree::start().await.expect("start");
    let sup = tree.supervisor().expect("runs");
    let before = tree.w.addr().expect("running").pid();
    let meddler = Meddler::spawn(()).await.expect("spawn");
    assert_eq!(meddler.meddle(sup.clone()).await, Ok(true));
    // The signal is handled before this call is answered.
    let children = sup.children().await.expect("still answering");
    assert_eq!(children[0].pid, Some(before), "nothing was restarted");
    assert!(sup.is_alive());
}

#[tokio::test]
async fn a_trapping_child_stops_when_its_supervisor_is_killed() {
    /// Traps exits and ignores them.
    #[actor]
    struct Stubborn;

    #[actor]
    impl Stubborn {
        #[init]
        fn init() -> Self {
            Stubborn
        }

        #[on_exit]
        fn ignore(&mut self, _exit: Exit) {}
    }

    #[supervisor(one_for_one)]
    struct Tree {
        s: Child<Stubborn>,
    }
    let tree = Tree::start().await.expect("start");
    let child = tree.s.addr().expect("running");
    tree.supervisor().expect("runs").kill();
    assert_eq!(child.wait_for_exit().await, ExitReason::Killed);
}
