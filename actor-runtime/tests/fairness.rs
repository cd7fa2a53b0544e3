//! Fairness on a 2-worker runtime: two actors that compute for a second must not freeze the
//! node when they are declared `#[actor(blocking)]`, and, when they are not, the watchdog
//! names them.
//!
//! The bounds stated for the declared case: while both compute, calls to a third actor and
//! timers are served within 10 ms at the median, and every one within 250 ms (the undeclared
//! case waits for the whole computation). The typical figures are tens of microseconds and a
//! few milliseconds at worst (see the `fairness` rows of the benchmark harness); the worst-case
//! bound leaves room for a shared, noisy machine. The two tests run one after the other (they
//! share the process-wide watchdog counters and the cores).

use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use actor_runtime::prelude::*;

const MEDIAN_BOUND: Duration = Duration::from_millis(10);
const WORST_BOUND: Duration = Duration::from_millis(250);

/// Computes without yielding for the time it is told.
#[actor(blocking)]
#[derive(Debug)]
struct Declared;

#[actor]
impl Declared {
    #[init]
    fn init(_: ()) -> Self {
        Declared
    }

    #[handle(call)]
    fn compute(&mut self, for_: Duration) -> u64 {
        spin(for_)
    }
}

/// The same, without the declaration.
#[actor]
#[derive(Debug)]
struct Undeclared;

#[actor]
impl Undeclared {
    #[init]
    fn init(_: ()) -> Self {
        Undeclared
    }

    #[handle(call)]
    fn compute(&mut self, for_: Duration) -> u64 {
        spin(for_)
    }
}

#[actor]
#[derive(Debug)]
struct Idle;

#[actor]
impl Idle {
    #[init]
    fn init(_: ()) -> Self {
        Idle
    }

    #[handle(call)]
    fn ping(&self) -> u8 {
        1
    }
}

fn spin(for_: Duration) -> u64 {
    let end = Instant::now() + for_;
    let mut n = 0u64;
    while Instant::now() < end {
        n = n.wrapping_add(1);
        std::hint::spin_loop();
    }
    n
}

fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn two_workers() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// The calls to `idle` and the timers' lateness, sampled every 10 ms for `for_`, sorted.
async fn sample(idle: &Addr<Idle>, for_: Duration) -> (Vec<Duration>, Vec<Duration>) {
    let (mut calls, mut timers) = (Vec::new(), Vec::new());
    let end = Instant::now() + for_;
    while Instant::now() < end {
        let t = Instant::now();
        idle.ping().await.expect("answered");
        calls.push(t.elapsed());
        let t = Instant::now();
        tokio::time::sleep(Duration::from_millis(10)).await;
        timers.push(t.elapsed().saturating_sub(Duration::from_millis(10)));
    }
    calls.sort_unstable();
    timers.sort_unstable();
    (calls, timers)
}

fn check(what: &str, sorted: &[Duration]) {
    let median = sorted[sorted.len() / 2];
    let worst = sorted[sorted.len() - 1];
    assert!(
        median <= MEDIAN_BOUND,
        "{what}: median {median:?} (bound {MEDIAN_BOUND:?}), all: {sorted:?}"
    );
    assert!(
        worst <= WORST_BOUND,
        "{what}: worst {worst:?} (bound {WORST_BOUND:?}), all: {sorted:?}"
    );
}

#[test]
fn while_two_blocking_actors_compute_calls_and_timers_are_served_within_10ms_at_the_median() {
    let _one = one_at_a_time();
    two_workers().block_on(async {
        let idle = Idle::spawn(()).await.expect("starts");
        let a = Declared::spawn(()).await.expect("starts");
        let b = Declared::spawn(()).await.expect("starts");
        let compute = Duration::from_millis(1000);
        let busy = tokio::spawn(async move {
            let (x, y) = tokio::join!(
                a.compute(compute).timeout(Duration::from_secs(30)),
                b.compute(compute).timeout(Duration::from_secs(30))
            );
            x.expect("a computed");
            y.expect("b computed");
        });
        // Let both handlers start computing.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let (calls, timers) = sample(&idle, Duration::from_millis(600)).await;
        assert!(
            !busy.is_finished(),
            "the samples were taken while both computed"
        );
        assert!(calls.len() >= 10, "only {} samples in 600 ms", calls.len());
        check("calls to an idle actor", &calls);
        check("timer lateness", &timers);
        busy.await.expect("both computed");
    });
}

/// A `tracing` writer into a buffer the test reads.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        let bytes = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

#[test]
fn without_the_declaration_the_node_waits_and_the_watchdog_names_the_handler() {
    let _one = one_at_a_time();
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _logging = tracing::subscriber::set_global_default(subscriber);
    two_workers().block_on(async {
        let idle = Idle::spawn(()).await.expect("starts");
        let a = Undeclared::spawn(()).await.expect("starts");
        let b = Undeclared::spawn(()).await.expect("starts");
        let before = actor_runtime::stats().slow_polls;
        let compute = Duration::from_millis(400);
        let busy = tokio::spawn(async move {
            let (x, y) = tokio::join!(
                a.compute(compute).timeout(Duration::from_secs(30)),
                b.compute(compute).timeout(Duration::from_secs(30))
            );
            x.expect("a computed");
            y.expect("b computed");
        });
        // Timers are driven by the workers: with both held, this one fires late.
        let t = Instant::now();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let late = t.elapsed().saturating_sub(Duration::from_millis(50));
        idle.ping().await.expect("answered");
        busy.await.expect("both computed");
        assert!(
            late >= Duration::from_millis(200),
            "with both workers held, the timer was only {late:?} late"
        );
        let reported = actor_runtime::stats().slow_polls - before;
        assert!(
            reported >= 2,
            "{reported} slow polls reported, expected one per handler"
        );
    });
    let text = log.text();
    let warnings: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("held a runtime worker"))
        .collect();
    assert!(
        warnings.len() >= 2,
        "expected a warning per handler, the log was:\n{text}"
    );
    for w in warnings {
        assert!(w.contains("WARN"), "{w}");
        assert!(w.contains("fairness::Undeclared"), "names the actor: {w}");
        assert!(
            w.contains("handling=\"UndeclaredMsg::Compute\""),
            "names the message: {w}"
        );
        assert!(w.contains("pid=<"), "names the pid: {w}");
        assert!(w.contains("held_ms="), "gives the duration: {w}");
    }
}
