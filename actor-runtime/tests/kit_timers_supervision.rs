//! Timers and supervision tested through the test kit, on tokio's paused clock: a probe stands
//! in for the actor a timer talks to, and `StandIn` children let a probe watch a supervisor
//! restart them. Nothing sleeps in real time.

use std::sync::OnceLock;
use std::time::Duration;

use actor_runtime::prelude::*;
use actor_runtime::testing::{Probe, StandIn};
use tokio::time::Instant;

/// What a heartbeat talks to.
#[actor]
struct Listener;

#[actor]
impl Listener {
    #[init]
    fn init() -> Self {
        Listener
    }

    #[handle(cast)]
    fn beat(&mut self, n: u32) {
        let _ = n;
    }
}

/// Casts `beat(n)` to its listener every `period`, or once with `once`.
#[actor]
struct Heartbeat {
    listener: Addr<Listener>,
}

#[actor]
impl Heartbeat {
    #[init]
    fn init(listener: Addr<Listener>) -> Self {
        Heartbeat { listener }
    }

    #[handle(call)]
    fn every(&mut self, period: Duration, ctx: &mut Ctx<Self>) -> bool {
        let listener = self.listener.clone();
        let mut n = 0;
        ctx.interval(period, move |_| {
            n += 1;
            listener.beat(n)
        });
        true
    }

    #[handle(call)]
    fn once(&mut self, delay: Duration, ctx: &mut Ctx<Self>) -> bool {
        let listener = self.listener.clone();
        ctx.send_after(delay, move |_| listener.beat(0));
        true
    }
}

fn beat(msg: ListenerMsg) -> Option<u32> {
    match msg {
        ListenerMsg::Beat { n } => Some(n),
    }
}

#[tokio::test(start_paused = true)]
async fn an_interval_beats_at_each_period_on_virtual_time() {
    let mut listener = Probe::<Listener>::new().with_timeout(Duration::from_secs(60));
    let heart = Heartbeat::spawn(listener.addr()).await.expect("starts");
    let started = Instant::now();
    assert!(heart.every(Duration::from_secs(10)).await.expect("armed"));
    for expected in 1..=3 {
        assert_eq!(listener.expect("a beat", beat).await, expected);
        assert_eq!(
            started.elapsed().as_secs(),
            10 * u64::from(expected),
            "beat {expected} on time"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn send_after_fires_once_and_never_again() {
    let mut listener = Probe::<Listener>::new().with_timeout(Duration::from_secs(3600));
    let heart = Heartbeat::spawn(listener.addr()).await.expect("starts");
    assert!(
        heart
            .once(Duration::from_secs(30 * 60))
            .await
            .expect("armed")
    );
    assert_eq!(listener.expect("the beat", beat).await, 0);
    listener
        .expect_no_message(Duration::from_secs(24 * 3600))
        .await;
}

#[tokio::test(start_paused = true)]
async fn timers_stop_with_their_actor() {
    let mut listener = Probe::<Listener>::new().with_timeout(Duration::from_secs(60));
    let heart = Heartbeat::spawn(listener.addr()).await.expect("starts");
    listener.monitor(&heart);
    assert!(heart.every(Duration::from_secs(1)).await.expect("armed"));
    assert_eq!(listener.expect("a beat", beat).await, 1);
    heart.stop();
    let down = listener.expect_down().await;
    assert_eq!((down.pid, down.reason), (heart.pid(), ExitReason::Normal));
    listener.expect_no_message(Duration::from_secs(600)).await;
}

static FIRST: OnceLock<Addr<Listener>> = OnceLock::new();
static SECOND: OnceLock<Addr<Listener>> = OnceLock::new();

#[supervisor(one_for_all, intensity = 2, period = "60s")]
struct Pair {
    #[child(args = FIRST.get().cloned().expect("probe set"))]
    first: Child<StandIn<Listener>>,
    #[child(args = SECOND.get().cloned().expect("probe set"))]
    second: Child<StandIn<Listener>>,
}

#[tokio::test(start_paused = true)]
async fn one_for_all_restarts_the_sibling_and_gives_up_past_its_intensity() {
    let mut first = Probe::<Listener>::new().with_timeout(Duration::from_secs(120));
    let mut second = Probe::<Listener>::new().with_timeout(Duration::from_secs(120));
    FIRST.set(first.addr()).expect("once");
    SECOND.set(second.addr()).expect("once");
    let pair = Pair::start().await.expect("starts");
    let sup = pair.supervisor().expect("runs");

    for round in 1..=2u32 {
        let (a, b) = (
            pair.first.addr().expect("running"),
            pair.second.addr().expect("running"),
        );
        second.monitor(&b);
        // Each incarnation forwards to the same probe.
        a.beat(round).expect("queued");
        assert_eq!(first.expect("a forwarded beat", beat).await, round);
        a.kill();
        // The strategy stops the sibling too, with `Shutdown`.
        let down = second.expect_down().await;
        assert_eq!((down.pid, down.reason), (b.pid(), ExitReason::Shutdown));
        assert_eq!(sup.restart_count().await, Ok(u64::from(round)));
        assert_ne!(pair.second.addr().expect("restarted").pid(), b.pid());
    }

    // A third crash within the period is one too many: the supervisor gives up.
    first.monitor(&sup);
    pair.first.addr().expect("running").kill();
    let down = first.expect_down().await;
    assert_eq!((down.pid, down.reason), (sup.pid(), ExitReason::Shutdown));
}
