//! The test kit: probes stand in for actors (as an argument, by registered name), see exits
//! and downs, and fail with what arrived instead; paused time makes timers instant.

use std::time::Duration;

use actor_runtime::prelude::*;
use actor_runtime::testing::{self, Notice, Probe, expect_exit};

/// What the actor under test talks to; only its message type matters to a probe.
#[actor]
struct Store;

#[actor]
impl Store {
    #[init]
    fn init() -> Self {
        Store
    }

    #[handle(cast)]
    fn put(&mut self, key: String, value: u64) {
        let _ = (key, value);
    }

    #[handle(cast)]
    fn flush(&mut self) {}
}

/// The actor under test: doubles what it is given and stores it; flushes after an hour.
#[actor]
struct Doubler {
    store: Addr<Store>,
}

#[actor]
impl Doubler {
    #[init]
    fn init(store: Addr<Store>) -> Self {
        Doubler { store }
    }

    #[handle(cast)]
    fn take(&mut self, key: String, n: u64) {
        let _ = self.store.put(key, 2 * n);
    }

    #[handle(cast)]
    fn flush_later(&mut self, ctx: &mut Ctx<Self>) {
        let store = self.store.clone();
        ctx.send_after(Duration::from_secs(3600), move |_| store.flush());
    }

    #[handle(cast)]
    fn crash(&mut self) {
        panic!("doubler crashed");
    }

    /// Looks `Store` up by name and stores through it.
    #[handle(cast)]
    fn take_via_registry(&mut self, n: u64) {
        let store = actor_runtime::registry::lookup::<Store>("store").expect("registered");
        let _ = store.put("registry".to_owned(), n);
    }
}

async fn put(probe: &mut Probe<Store>) -> (String, u64) {
    probe
        .expect("a put", |m| match m {
            StoreMsg::Put { key, value } => Some((key, value)),
            _ => None,
        })
        .await
}

#[tokio::test]
async fn a_probe_stands_in_for_an_actor_and_receives_its_typed_messages() {
    let mut store = Probe::<Store>::new();
    let doubler = Doubler::spawn(store.addr()).await.expect("starts");
    doubler.take("a".to_owned(), 21).expect("queued");
    doubler.take("b".to_owned(), 1).expect("queued");
    assert_eq!(put(&mut store).await, ("a".to_owned(), 42));
    assert_eq!(put(&mut store).await, ("b".to_owned(), 2));
    store.expect_no_message(Duration::from_millis(20)).await;
}

#[tokio::test]
async fn a_probe_registered_by_name_is_what_a_lookup_finds() {
    let mut store = Probe::<Store>::new();
    store.register("store").expect("name free");
    let doubler = Doubler::spawn(store.addr()).await.expect("starts");
    doubler.take_via_registry(5).expect("queued");
    assert_eq!(put(&mut store).await, ("registry".to_owned(), 5));
}

#[tokio::test(start_paused = true)]
async fn under_paused_time_an_hour_long_timer_fires_without_waiting() {
    let started = std::time::Instant::now();
    let mut store = Probe::<Store>::new().with_timeout(Duration::from_secs(2 * 3600));
    let doubler = Doubler::spawn(store.addr()).await.expect("starts");
    doubler.flush_later().expect("queued");
    store
        .expect("a flush", |m| matches!(m, StoreMsg::Flush {}).then_some(()))
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the hour passed on tokio's clock, not the wall clock"
    );
}

#[tokio::test]
async fn a_probe_sees_the_exit_of_an_actor_it_linked_and_the_down_of_one_it_monitors() {
    let mut parent = Probe::<Store>::new();
    let store = Probe::<Store>::new();
    let linked = parent
        .spawn_link::<Doubler>(store.addr())
        .await
        .expect("starts");
    let watched = Doubler::spawn(store.addr()).await.expect("starts");
    let monitor = parent.monitor(&watched);

    linked.crash().expect("queued");
    let exit = parent.expect_exit_signal().await;
    assert_eq!(exit.from, linked.pid());
    assert!(matches!(exit.reason, ExitReason::Panic(_)), "{exit:?}");

    watched.stop();
    let down = parent.expect_down().await;
    assert_eq!((down.monitor, down.pid), (monitor, watched.pid()));
    assert_eq!(down.reason, ExitReason::Normal);
    assert_eq!(
        expect_exit(&watched, Duration::from_secs(1)).await,
        ExitReason::Normal
    );
}

#[tokio::test]
async fn a_stopped_probe_reports_it_and_its_monitors_see_the_reason() {
    let mut watcher = Probe::<Store>::new();
    let mut probe = Probe::<Store>::new();
    let addr = probe.addr();
    // A probe can be monitored like any actor: here by another probe, through its Addr.
    watcher.monitor(&addr);
    addr.stop();
    assert_eq!(
        probe.expect_notice().await,
        Notice::Stopped(ExitReason::Normal)
    );
    assert_eq!(watcher.expect_down().await.reason, ExitReason::Normal);
    assert!(addr.store_is_gone());
}

trait Gone {
    fn store_is_gone(&self) -> bool;
}

impl Gone for Addr<Store> {
    fn store_is_gone(&self) -> bool {
        !self.is_alive() && self.put("late".to_owned(), 0).is_err()
    }
}

#[tokio::test]
#[should_panic(expected = "expected a put within 50ms, got no message")]
async fn an_expectation_that_times_out_says_what_it_waited_for() {
    let mut store = Probe::<Store>::new().with_timeout(Duration::from_millis(50));
    put(&mut store).await;
}

#[tokio::test]
#[should_panic(expected = "expected a put, got StoreMsg::Flush")]
async fn an_expectation_that_gets_another_message_names_the_one_that_arrived() {
    let mut store = Probe::<Store>::new();
    store.addr().flush().expect("queued");
    put(&mut store).await;
}

#[tokio::test]
#[should_panic(expected = "expected no message for 20ms, got StoreMsg::Put")]
async fn expecting_silence_fails_when_a_message_arrives() {
    let mut store = Probe::<Store>::new();
    store.addr().put("x".to_owned(), 1).expect("queued");
    store.expect_no_message(Duration::from_millis(20)).await;
}

#[tokio::test]
#[should_panic(expected = "still running after 20ms")]
async fn expect_exit_fails_for_an_actor_that_keeps_running() {
    let store = Probe::<Store>::new();
    let doubler = Doubler::spawn(store.addr()).await.expect("starts");
    expect_exit(&doubler, Duration::from_millis(20)).await;
}

#[actor]
struct Fragile;

#[actor]
impl Fragile {
    #[init]
    fn init() -> Self {
        Fragile
    }

    #[handle(cast)]
    fn crash(&mut self) {
        panic!("fragile crashed");
    }
}

#[supervisor(one_for_one, intensity = 1, period = "60s")]
struct Tree {
    fragile: Child<Fragile>,
}

/// Crashes the tree's child and returns the `Down` a probe monitoring it receives.
async fn crash_child(tree: &Tree, probe: &mut Probe<Store>) -> Down {
    let child = loop {
        // Between a crash and its restart the handle may still hold the stopped child.
        match tree.fragile.addr() {
            Some(a) if a.is_alive() => break a,
            _ => tokio::task::yield_now().await,
        }
    };
    probe.monitor(&child);
    child.crash().expect("queued");
    probe.expect_down().await
}

#[tokio::test(start_paused = true)]
async fn the_intensity_period_runs_on_virtual_time() {
    let mut probe = Probe::<Store>::new().with_timeout(Duration::from_secs(600));
    let tree = Tree::start().await.expect("starts");
    let sup = tree.supervisor().expect("runs");
    probe.monitor(&sup);

    // One restart is allowed per 60 s: crash, wait 61 s of virtual time, crash again.
    let down = crash_child(&tree, &mut probe).await;
    assert!(matches!(down.reason, ExitReason::Panic(_)), "{down:?}");
    tokio::time::sleep(Duration::from_secs(61)).await;
    crash_child(&tree, &mut probe).await;
    assert!(sup.is_alive(), "the first restart had left the period");

    // A second crash within the period is one too many: the supervisor gives up.
    crash_child(&tree, &mut probe).await;
    let down = probe.expect_down().await;
    assert_eq!((down.pid, down.reason), (sup.pid(), ExitReason::Shutdown));
}

#[tokio::test]
async fn an_exit_sent_to_a_probe_arrives_as_a_notice_because_a_probe_traps_exits() {
    let mut probe = Probe::<Store>::new();
    let addr = probe.addr();
    addr.exit(ExitReason::error("go away"));
    let exit = probe.expect_exit_signal().await;
    assert_eq!(exit.reason, ExitReason::error("go away"));
    assert!(addr.is_alive(), "trapped, not stopped");
}

/// Starts a linked helper and monitors whatever it is told to.
#[actor]
struct Foreman {
    helper: Option<Addr<Fragile>>,
}

#[actor]
impl Foreman {
    #[init]
    fn init() -> Self {
        Foreman { helper: None }
    }

    #[handle(call)]
    async fn hire(&mut self, ctx: &mut Ctx<Self>) -> Pid {
        let helper = ctx.spawn_link::<Fragile>(()).await.expect("starts");
        let pid = helper.pid();
        self.helper = Some(helper);
        pid
    }

    #[handle(call)]
    fn watch(&mut self, store: Addr<Store>, ctx: &mut Ctx<Self>) -> bool {
        ctx.monitor(&store);
        true
    }

    #[on_down]
    fn down(&mut self, _down: Down) {}
}

#[tokio::test]
async fn the_kit_tells_whom_an_actor_spawned_linked_and_monitors() {
    let foreman = Foreman::spawn(()).await.expect("starts");
    let helper = foreman.hire().await.expect("answers");
    let store = Probe::<Store>::new();
    assert!(foreman.watch(store.addr()).await.expect("answers"));

    let spawned: Vec<(Pid, String)> = testing::spawned_by(&foreman)
        .iter()
        .map(|c| (c.pid, c.kind()))
        .collect();
    assert_eq!(spawned, [(helper, "testkit::Fragile".to_owned())]);
    let me = testing::info(&foreman);
    assert_eq!(me.links, [helper]);
    assert_eq!(me.monitors, [store.pid()]);

    foreman.stop();
    foreman.wait_for_exit().await;
    let stopped =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| testing::info(&foreman)))
            .expect_err("stopped");
    let text = stopped.downcast_ref::<String>().expect("a message");
    assert!(
        text.contains("testkit::Foreman") && text.contains("has stopped (normal)"),
        "{text}"
    );
}
