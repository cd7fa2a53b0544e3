//! The watchdog: finds the handler that holds a tokio worker too long.
//!
//! tokio schedules cooperatively: a task gives its worker back only at an `.await` that is
//! not ready. A handler that computes for a second without awaiting holds its worker for that
//! second, and with every worker held the whole node waits. The actor's task times each poll
//! (the stretch between two suspensions, which is what holds a worker) and, when one outlasts
//! the budget, reports it here once: a `tracing` warning naming the actor, pid, message
//! variant and duration, the metric `actor_slow_polls_total`, and [`Stats::slow_polls`].
//!
//! Handlers are timed on a coarse clock rather than by reading the system clock around each:
//! a thread (`actor-watchdog`) sleeps a tenth of the budget (1 to 10 ms) at a time and adds
//! each sleep to one atomic, which the actor's task reads when a poll starts, before each
//! message and when the poll ends. A sleep never returns early, so the counter never runs
//! ahead of real time: a stretch during which it moved by more than the budget plus one tick
//! surely took longer than the budget, even if the ticker thread itself was held up. Each
//! message (or hook) is timed on its own, so the report names the handler that was slow, not
//! whichever ran last in the poll; a run of many quick messages is not reported.
//!
//! The label of what is being handled travels in a thread-local that the actor's task sets
//! before each poll and reads back after it, so a handler that moves to another worker at an
//! `.await` is still named correctly.
//!
//! [`Stats::slow_polls`]: crate::Stats::slow_polls

use std::cell::Cell;
use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::pid::Pid;
use crate::stats;

/// The budget a handler may hold a worker for before it is reported, unless
/// [`set_budget`] changes it.
pub const DEFAULT_BUDGET: Duration = Duration::from_millis(100);

/// The smallest budget: the coarse clock ticks at most once a millisecond.
pub const MIN_BUDGET: Duration = Duration::from_millis(1);

/// The budget in microseconds; 0 turns the watchdog off.
static BUDGET_US: AtomicU64 = AtomicU64::new(micros(DEFAULT_BUDGET));
/// The coarse clock: the sum, in microseconds, of the ticker's completed sleeps.
static SLEPT_US: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// What the actor polled on this thread is handling: a message variant, or a hook.
    static LABEL: Cell<u16> = const { Cell::new(IDLE) };
    /// When that began on the coarse clock, and the budget it is held to (0: not timed).
    static SINCE: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
    /// The actor being polled, for a report.
    static ACTOR: Cell<Watched> = const { Cell::new((Pid::EXTERNAL, unnamed, unnamed_variant)) };
}

/// Shown for a slow stretch before the actor took any message.
pub(crate) const IDLE: u16 = u16::MAX;
/// The labels of the hooks, beside the message variants `0..n`.
pub(crate) const ON_EXIT: u16 = u16::MAX - 1;
pub(crate) const ON_DOWN: u16 = u16::MAX - 2;
pub(crate) const TERMINATE: u16 = u16::MAX - 3;

/// The actor being polled: its pid, its type's name, and its variants' names.
type Watched = (Pid, fn() -> &'static str, fn(u16) -> &'static str);

fn unnamed() -> &'static str {
    ""
}

fn unnamed_variant(_: u16) -> &'static str {
    ""
}

/// The name of a label: a hook's, or the actor's variant's.
fn label_name(label: u16, variants: fn(u16) -> &'static str) -> &'static str {
    match label {
        IDLE => "(waiting)",
        ON_EXIT => "#[on_exit]",
        ON_DOWN => "#[on_down]",
        TERMINATE => "#[terminate]",
        variant => variants(variant),
    }
}

const fn micros(d: Duration) -> u64 {
    let n = d.as_micros();
    if n > u64::MAX as u128 {
        u64::MAX
    } else {
        n as u64
    }
}

/// The coarse clock's period for a budget: a tenth of it, between 1 and 10 ms.
fn tick_us(budget_us: u64) -> u64 {
    (budget_us / 10).clamp(1_000, 10_000)
}

/// Starts the thread that keeps the coarse clock, once per process. Called when an actor
/// starts, so a program without actors has no such thread. It wakes once a tick (100 times
/// a second with the default budget) for the life of the process.
pub(crate) fn ensure_ticker() {
    static STARTED: Once = Once::new();
    STARTED.call_once(|| {
        let spawned = std::thread::Builder::new()
            .name("actor-watchdog".to_owned())
            .spawn(|| {
                loop {
                    let tick = tick_us(BUDGET_US.load(Ordering::Relaxed));
                    std::thread::sleep(Duration::from_micros(tick));
                    SLEPT_US.fetch_add(tick, Ordering::Relaxed);
                }
            });
        if let Err(error) = spawned {
            tracing::warn!(%error, "could not start the watchdog's clock: slow handlers will not be reported");
        }
    });
}

/// Sets how long a handler may hold a worker without yielding before the watchdog reports it;
/// `None` turns the watchdog off. Node-wide; the default is [`DEFAULT_BUDGET`]. A budget below
/// [`MIN_BUDGET`] is raised to it. A change applies to handlers that start after it.
pub fn set_budget(budget: Option<Duration>) {
    let us = budget.map_or(0, |b| micros(b.max(MIN_BUDGET)));
    BUDGET_US.store(us, Ordering::Relaxed);
}

/// The watchdog's budget now, `None` when it is off.
#[must_use]
pub fn budget() -> Option<Duration> {
    match BUDGET_US.load(Ordering::Relaxed) {
        0 => None,
        n => Some(Duration::from_micros(n)),
    }
}

/// Starts a poll of `actor`, which was handling `label` when it last suspended. With `timed`
/// false (an actor on a thread of its own), only the label is kept.
pub(crate) fn begin(
    label: u16,
    pid: Pid,
    actor: fn() -> &'static str,
    variants: fn(u16) -> &'static str,
    timed: bool,
) {
    LABEL.with(|l| l.set(label));
    let budget = if timed {
        BUDGET_US.load(Ordering::Relaxed)
    } else {
        0
    };
    if budget != 0 {
        ACTOR.with(|a| a.set((pid, actor, variants)));
    }
    SINCE.with(|s| s.set((SLEPT_US.load(Ordering::Relaxed), budget)));
}

/// Called by the receive loop before it hands a message or signal to the actor: ends the
/// stretch of what it handled before (reporting it if it was slow) and starts this one.
pub(crate) fn handling(label: u16) {
    let now = SLEPT_US.load(Ordering::Relaxed);
    let (since, budget) = SINCE.with(Cell::get);
    if budget != 0 {
        check(now.saturating_sub(since), budget);
        SINCE.with(|s| s.set((now, budget)));
    }
    LABEL.with(|l| l.set(label));
}

/// Ends the poll, checking the last stretch; returns what the task is handling now, for the
/// next [`begin`].
pub(crate) fn end() -> u16 {
    let (since, budget) = SINCE.with(Cell::get);
    if budget != 0 {
        check(
            SLEPT_US.load(Ordering::Relaxed).saturating_sub(since),
            budget,
        );
        SINCE.with(|s| s.set((0, 0)));
    }
    LABEL.with(Cell::get)
}

/// Reports the stretch that just ended if the coarse clock moved by `held_us` during it and
/// that surely exceeds the budget: real time is at least `held_us` minus one tick.
fn check(held_us: u64, budget_us: u64) {
    if outlasted(held_us, budget_us) {
        let (pid, actor, variants) = ACTOR.with(Cell::get);
        let label = LABEL.with(Cell::get);
        report(
            pid,
            actor(),
            label_name(label, variants),
            Duration::from_micros(held_us),
            Duration::from_micros(budget_us),
        );
    }
}

fn outlasted(held_us: u64, budget_us: u64) -> bool {
    held_us > budget_us.saturating_add(tick_us(budget_us))
}

#[cold]
fn report(pid: Pid, actor: &'static str, message: &'static str, held: Duration, budget: Duration) {
    stats::slow_poll();
    metrics::counter!("actor_slow_polls_total", "actor" => actor, "message" => message)
        .increment(1);
    tracing::warn!(
        actor,
        %pid,
        handling = message,
        held_ms = held.as_millis() as u64,
        budget_ms = budget.as_millis() as u64,
        "a handler held a runtime worker for about {held:.0?} without yielding (budget \
         {budget:?}); every other actor on that worker waited. Declare the actor \
         `#[actor(blocking)]` to give it a thread of its own, or move the work into \
         `tokio::task::spawn_blocking`"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tests below share the process-wide budget: one at a time.
    fn serial() -> std::sync::MutexGuard<'static, ()> {
        static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
        crate::sync::lock(&LOCK)
    }

    #[test]
    fn only_a_stretch_longer_than_the_budget_plus_a_tick_counts_as_slow() {
        assert!(!outlasted(100_000, 100_000));
        assert!(
            !outlasted(110_000, 100_000),
            "within a tick of the budget: maybe not slow"
        );
        assert!(outlasted(110_001, 100_000));
        assert!(!outlasted(2_000, 1_000));
        assert!(outlasted(2_001, 1_000));
    }

    fn a() -> &'static str {
        "A"
    }

    fn a_variants(i: u16) -> &'static str {
        ["AMsg::Slow", "AMsg::Quick"][usize::from(i)]
    }

    /// Waits until the coarse clock has moved by `us` from `from`.
    fn clock_moves(from: u64, us: u64) {
        let give_up = std::time::Instant::now() + Duration::from_secs(30);
        while SLEPT_US.load(Ordering::Relaxed) < from + us && std::time::Instant::now() < give_up {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn the_slow_handler_of_a_poll_is_reported_once_under_its_own_name() {
        let _one = serial();
        ensure_ticker();
        let before = stats::slow_polls();
        let start = SLEPT_US.load(Ordering::Relaxed);
        begin(IDLE, Pid::EXTERNAL, a, a_variants, true);
        handling(0);
        clock_moves(start, 130_000);
        handling(1);
        assert_eq!(stats::slow_polls(), before + 1);
        assert_eq!(end(), 1);
        assert_eq!(
            stats::slow_polls(),
            before + 1,
            "the quick one is not reported"
        );
    }

    #[test]
    fn an_untimed_poll_is_never_reported() {
        let _one = serial();
        ensure_ticker();
        let before = stats::slow_polls();
        let start = SLEPT_US.load(Ordering::Relaxed);
        begin(IDLE, Pid::EXTERNAL, a, a_variants, false);
        handling(0);
        clock_moves(start, 130_000);
        assert_eq!(end(), 0);
        assert_eq!(stats::slow_polls(), before);
    }

    #[test]
    fn the_budget_can_be_set_and_read_back() {
        let _one = serial();
        let old = budget();
        set_budget(Some(Duration::ZERO));
        assert_eq!(budget(), Some(MIN_BUDGET));
        set_budget(None);
        assert_eq!(budget(), None);
        set_budget(old);
        assert_eq!(budget(), old);
    }
}
