//! The watchdog: finds the handler that holds a tokio worker too long.
//!
//! tokio schedules cooperatively: a task gives its worker back only at an `.await` that is
//! not ready. A handler that computes for a second without awaiting holds its worker for that
//! second, and with every worker held the whole node waits. The actor's task times each poll
//! (the stretch between two suspensions, which is what holds a worker) and, when one outlasts
//! the budget, reports it here once: a `tracing` warning naming the actor, pid, message
//! variant and duration, the metric `actor_slow_polls_total`, and [`Stats::slow_polls`].
//!
//! Polls are timed on a coarse clock rather than by reading the system clock at both ends of
//! each: a thread (`actor-watchdog`) stores the time every tenth of the budget (1 to 10 ms) in
//! one atomic that polls read. A poll is reported when the coarse
//! clock moved by more than the budget plus one tick while it ran, so every report is a poll
//! that really held its worker longer than the budget; the duration given is within a tick.
//!
//! The message variant being handled travels in a thread-local that the actor's task sets
//! before each poll and reads back after it, so a handler that moves to another worker at an
//! `.await` is still named correctly.
//!
//! [`Stats::slow_polls`]: crate::Stats::slow_polls

use std::cell::Cell;
use std::sync::Once;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::pid::Pid;
use crate::stats;

/// The budget a handler may hold a worker for before it is reported, unless
/// [`set_budget`] changes it.
pub const DEFAULT_BUDGET: Duration = Duration::from_millis(100);

/// The smallest budget: the coarse clock ticks at most once a millisecond.
pub const MIN_BUDGET: Duration = Duration::from_millis(1);

/// The budget in microseconds; 0 turns the watchdog off.
static BUDGET_US: AtomicU64 = AtomicU64::new(micros(DEFAULT_BUDGET));
/// The coarse clock: microseconds since [`epoch`], stored by the ticker thread.
static NOW_US: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// What the actor polled on this thread is handling: a message variant, or a hook.
    static HANDLING: Cell<&'static str> = const { Cell::new(IDLE) };
}

/// Shown for a slow poll that started before the actor took any message.
pub(crate) const IDLE: &str = "(waiting)";

const fn micros(d: Duration) -> u64 {
    let n = d.as_micros();
    if n > u64::MAX as u128 {
        u64::MAX
    } else {
        n as u64
    }
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// The coarse clock's period for a budget: a tenth of it, between 1 and 10 ms.
fn tick_us(budget_us: u64) -> u64 {
    (budget_us / 10).clamp(1_000, 10_000)
}

/// Starts the thread that keeps the coarse clock, once per process. Called when an actor
/// starts, so a program without actors has no such thread.
pub(crate) fn ensure_ticker() {
    static STARTED: Once = Once::new();
    STARTED.call_once(|| {
        let epoch = epoch();
        let spawned = std::thread::Builder::new()
            .name("actor-watchdog".to_owned())
            .spawn(move || {
                loop {
                    let budget = BUDGET_US.load(Ordering::Relaxed);
                    std::thread::sleep(Duration::from_micros(tick_us(budget)));
                    NOW_US.store(micros(epoch.elapsed()), Ordering::Relaxed);
                }
            });
        if let Err(error) = spawned {
            tracing::warn!(%error, "could not start the watchdog's clock: slow handlers will not be reported");
        }
    });
}

/// Sets how long a handler may hold a worker without yielding before the watchdog reports it;
/// `None` turns the watchdog off. Node-wide; the default is [`DEFAULT_BUDGET`]. A budget below
/// [`MIN_BUDGET`] is raised to it.
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

/// Called by the receive loop before it hands a message or signal to the actor.
pub(crate) fn handling(what: &'static str) {
    HANDLING.with(|h| h.set(what));
}

/// One timed poll of an actor's task.
pub(crate) struct PollTimer {
    started_us: u64,
    budget_us: u64,
}

/// Starts timing a poll, with `what` the task was handling when it last suspended. `None`
/// when the watchdog is off.
pub(crate) fn begin(what: &'static str) -> Option<PollTimer> {
    HANDLING.with(|h| h.set(what));
    let budget_us = BUDGET_US.load(Ordering::Relaxed);
    (budget_us != 0).then(|| PollTimer {
        started_us: NOW_US.load(Ordering::Relaxed),
        budget_us,
    })
}

impl PollTimer {
    /// Ends the poll; reports it when it outlasted the budget. Returns what the task is
    /// handling now, to be given to the next [`begin`].
    pub(crate) fn end(self, pid: Pid, actor: &'static str) -> &'static str {
        let what = HANDLING.with(Cell::get);
        let held_us = NOW_US
            .load(Ordering::Relaxed)
            .saturating_sub(self.started_us);
        if self.outlasted(held_us) {
            report(
                pid,
                actor,
                what,
                Duration::from_micros(held_us),
                Duration::from_micros(self.budget_us),
            );
        }
        what
    }

    /// Whether a poll during which the coarse clock moved by `held_us` surely took longer
    /// than the budget: the clock lags real time by up to one tick at either end.
    fn outlasted(&self, held_us: u64) -> bool {
        held_us > self.budget_us.saturating_add(tick_us(self.budget_us))
    }
}

/// Reads back what the task handled, for a poll that was not timed.
pub(crate) fn current() -> &'static str {
    HANDLING.with(Cell::get)
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

    fn timer(budget: Duration) -> PollTimer {
        PollTimer {
            started_us: 0,
            budget_us: micros(budget),
        }
    }

    #[test]
    fn only_a_poll_longer_than_the_budget_plus_a_tick_counts_as_slow() {
        let t = timer(Duration::from_millis(100));
        assert!(!t.outlasted(100_000));
        assert!(
            !t.outlasted(110_000),
            "within a tick of the budget: maybe not slow"
        );
        assert!(t.outlasted(110_001));
        let t = timer(MIN_BUDGET);
        assert!(!t.outlasted(2_000));
        assert!(t.outlasted(2_001));
    }

    #[test]
    fn a_slow_poll_is_counted_once_and_names_what_it_handled() {
        let _one = serial();
        let before = stats::Stats::counters().slow_polls;
        ensure_ticker();
        let t = begin("AMsg::Work").expect("the watchdog is on by default");
        std::thread::sleep(Duration::from_millis(150));
        // The ticker may lag on a loaded machine: wait until its clock has moved far enough.
        let give_up = Instant::now() + Duration::from_secs(30);
        while NOW_US.load(Ordering::Relaxed) < t.started_us + 120_000 && Instant::now() < give_up {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(t.end(Pid::EXTERNAL, "A"), "AMsg::Work");
        assert_eq!(stats::Stats::counters().slow_polls, before + 1);
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
