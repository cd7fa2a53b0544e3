//! `#[actor]`: an actor on a thread of its own behaves as any other actor (typed
//! client, calls, casts, supervision, kill, shutdown) while its computation holds no worker.
//!
//! Nothing here is timed: a handler spins until the test releases it, and the tests check
//! what was served *while* it spun. Without the declaration, these tests fail (after the
//! handler gives up spinning, 20 s later).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use actor_runtime::prelude::*;

/// A latch the test opens; a spinning handler polls it, giving up after 20 s (so that, were
/// the handler to hold the node, the test fails instead of hanging).
#[derive(Clone, Debug, Default)]
struct Latch(Arc<AtomicBool>);

impl Latch {
    fn open(&self) {
        self.0.store(true, Ordering::Release);
    }
    fn is_open(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
    fn spin_until_open(&self) {
        let give_up = Instant::now() + Duration::from_secs(20);
        while !self.is_open() && Instant::now() < give_up {
            std::hint::spin_loop();
        }
    }
    async fn wait_open(&self) {
        while !self.is_open() {
            tokio::task::yield_now().await;
        }
    }
}

/// Tells the test, from the thread that drops it, that the actor's state was dropped.
#[derive(Debug)]
struct DropSignal(mpsc::Sender<String>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        let thread = std::thread::current().name().unwrap_or("").to_owned();
        let _ = self.0.send(thread);
    }
}

#[actor(blocking)]
#[derive(Debug)]
struct Cruncher {
    crunched: u32,
    _dropped: Option<DropSignal>,
    helper: Option<Addr<Echo>>,
}

#[actor]
impl Cruncher {
    #[init]
    fn init(dropped: Option<mpsc::Sender<String>>) -> Self {
        Cruncher {
            crunched: 0,
            _dropped: dropped.map(DropSignal),
            helper: None,
        }
    }

    /// Computes (spins) until `release` opens, opening `started` first and `done` last.
    #[handle(cast)]
    fn crunch(&mut self, started: Latch, release: Latch, done: Latch) {
        started.open();
        release.spin_until_open();
        self.crunched += 1;
        done.open();
    }

    #[handle(call)]
    fn crunched(&self) -> u32 {
        self.crunched
    }

    /// The name of the thread the handler runs on.
    #[handle(call)]
    fn thread(&self) -> String {
        std::thread::current().name().unwrap_or("").to_owned()
    }

    /// Starts a linked child, an ordinary actor, and keeps its address.
    #[handle(call)]
    async fn start_helper(&mut self, ctx: &mut Ctx<Self>) -> Addr<Echo> {
        let helper = ctx.spawn_link::<Echo>(()).await.expect("helper starts");
        self.helper = Some(helper.clone());
        helper
    }

    #[handle(cast)]
    fn crash(&mut self) {
        panic!("cruncher crashed");
    }

    /// Does what a synchronous client such as `postgres::Client` does inside: runs a runtime
    /// of its own and blocks on it, here to wait for a timer of that runtime.
    #[handle(call)]
    fn use_sync_client(&mut self) -> u32 {
        let client = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("the client's runtime");
        client.block_on(async {
            tokio::time::sleep(Duration::from_millis(1)).await;
            7
        })
    }

    /// Sets a timer of the node's runtime and waits for it.
    #[handle(call)]
    async fn nap(&mut self) -> u32 {
        tokio::time::sleep(Duration::from_millis(1)).await;
        8
    }
}

#[actor]
#[derive(Debug)]
struct Echo;

#[actor]
impl Echo {
    #[init]
    fn init(_: ()) -> Self {
        Echo
    }

    #[handle(call)]
    fn echo(&self, n: u32) -> u32 {
        n
    }
}

#[tokio::test]
async fn a_blocking_actor_answers_through_its_typed_client_on_a_thread_of_its_own() {
    let cruncher = Cruncher::spawn(None).await.expect("starts");
    let release = Latch::default();
    release.open();
    cruncher
        .crunch(Latch::default(), release, Latch::default())
        .expect("queued");
    assert_eq!(cruncher.crunched().await, Ok(1));
    assert_eq!(cruncher.thread().await.as_deref(), Ok("actor-blocking"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_blocking_actor_can_use_a_synchronous_client_that_runs_a_runtime_of_its_own() {
    // On a tokio worker this panics ("Cannot start a runtime from within a runtime").
    let cruncher = Cruncher::spawn(None).await.expect("starts");
    assert_eq!(cruncher.use_sync_client().await, Ok(7));
    // And the handlers still have the node's runtime for their own timers.
    assert_eq!(cruncher.nap().await, Ok(8));
    assert_eq!(cruncher.use_sync_client().await, Ok(7));
}

#[tokio::test]
async fn a_one_thread_runtime_serves_other_actors_while_a_blocking_actor_computes() {
    // `#[tokio::test]` is a current-thread runtime: one computing handler on it would hold
    // the only thread there is, and the call below would never be answered.
    let cruncher = Cruncher::spawn(None).await.expect("starts");
    let echo = Echo::spawn(()).await.expect("starts");
    let (started, release, done) = (Latch::default(), Latch::default(), Latch::default());
    cruncher
        .crunch(started.clone(), release.clone(), done.clone())
        .expect("queued");
    started.wait_open().await;
    for n in 0..100 {
        assert_eq!(echo.echo(n).await, Ok(n));
    }
    let slept = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::time::sleep(Duration::from_millis(5)),
    )
    .await;
    assert!(slept.is_ok(), "the timer fired while the actor computed");
    assert!(
        !done.is_open(),
        "all of it happened while the handler computed"
    );
    release.open();
    assert_eq!(cruncher.crunched().await, Ok(1));
}

#[tokio::test]
async fn children_a_blocking_actor_starts_run_on_the_runtime_not_on_its_thread() {
    let cruncher = Cruncher::spawn(None).await.expect("starts");
    let helper = cruncher.start_helper().await.expect("answers");
    let (started, release, done) = (Latch::default(), Latch::default(), Latch::default());
    cruncher
        .crunch(started.clone(), release.clone(), done.clone())
        .expect("queued");
    started.wait_open().await;
    assert_eq!(helper.echo(7).await, Ok(7));
    assert!(
        !done.is_open(),
        "the child answered while its parent computed"
    );
    release.open();
    // The link holds both ways, as for any parent.
    cruncher.kill();
    assert_eq!(helper.wait_for_exit().await, ExitReason::Killed);
}

#[tokio::test]
async fn killing_a_blocking_actor_drops_its_state_on_its_thread_and_reports_killed() {
    let (tx, rx) = mpsc::channel();
    let cruncher = Cruncher::spawn(Some(tx)).await.expect("starts");
    assert_eq!(cruncher.crunched().await, Ok(0));
    cruncher.kill();
    assert_eq!(cruncher.wait_for_exit().await, ExitReason::Killed);
    let thread = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("state dropped");
    assert_eq!(thread, "actor-blocking");
}

#[test]
fn dropping_the_runtime_stops_a_blocking_actor_as_it_stops_any_actor() {
    let (tx, rx) = mpsc::channel();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let cruncher = runtime.block_on(async {
        let c = Cruncher::spawn(Some(tx)).await.expect("starts");
        assert_eq!(c.crunched().await, Ok(0));
        c
    });
    drop(runtime);
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the actor's state is dropped when its runtime is");
    assert_eq!(cruncher.exit_reason(), Some(ExitReason::Shutdown));
}

#[supervisor(one_for_one, intensity = 3, period = "10s")]
struct Crunchers {
    #[child(args = None)]
    cruncher: Child<Cruncher>,
}

#[tokio::test]
async fn a_supervisor_restarts_a_blocking_actor_that_panicked() {
    let tree = Crunchers::start().await.expect("starts");
    let first = tree.cruncher.addr().expect("running");
    first.crash().expect("queued");
    assert!(matches!(first.wait_for_exit().await, ExitReason::Panic(_)));
    let sup = tree.supervisor().expect("runs");
    // The restart has happened once the supervisor answers with a count of one.
    let mut restarts = sup.restart_count().await;
    while restarts != Ok(1) {
        tokio::task::yield_now().await;
        restarts = sup.restart_count().await;
    }
    let second = tree.cruncher.addr().expect("restarted");
    assert_ne!(first.pid(), second.pid());
    assert_eq!(second.thread().await.as_deref(), Ok("actor-blocking"));
}
