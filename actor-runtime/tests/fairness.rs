//! Fairness on a 2-worker runtime: two actors that compute for a second must not freeze the
//! node when they are declared `#[actor(blocking)]`, and, when they are not, the watchdog
//! names them.
//!
//! The bound stated for the declared case: while both compute, every call to a third actor
//! and every timer is served within 50 ms (the undeclared case waits for the whole
//! computation). The typical figure is well under a millisecond (see the `fairness` rows of
//! the benchmark harness); 50 ms leaves room for a shared, noisy machine. The two tests run
//! one after the other (they share the process-wide watchdog counters and the cores).

use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use actor_runtime::prelude::*;

const BOUND: Duration = Duration::from_millis(50);

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

/// The slowest call to `idle` and the latest timer, sampled every 10 ms for `for_`.
async fn sample(idle: &Addr<Idle>, for_: Duration) -> (Duration, Duration, usize) {
    let (mut call, mut timer, mut n) = (Duration::ZERO, Duration::ZERO, 0);
    let end = Instant::now() + for_;
    while Instant::now() < end {
        let t = Instant::now();
        idle.ping().await.expect("answered");
        call = call.max(t.elapsed());
        let t = Instant::now();
        tokio::time::sleep(Duration::from_millis(10)).await;
        timer = timer.max(t.elapsed().saturating_sub(Duration::from_millis(10)));
        n += 1;
    }
    (call, timer, n)
}

#[test]
fn while_two_blocking_actors_compute_calls_and_timers_are_served_within_50ms() {
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
        let (call, timer, n) = sample(&idle, Duration::from_millis(600)).await;
        assert!(
            !busy.is_finished(),
            "the samples were taken while both computed"
        );
        assert!(n >= 10, "only {n} samples in 600 ms");
        assert!(call <= BOUND, "a call waited {call:?} (bound {BOUND:?})");
        assert!(
            timer <= BOUND,
            "a timer fired {timer:?} late (bound {BOUND:?})"
        );
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
