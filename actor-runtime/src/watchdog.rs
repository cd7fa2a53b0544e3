//! The watchdog: finds the handler that holds a tokio worker too long.
//!
//! tokio schedules cooperatively: a task gives its worker back only at an `.await` that is
//! not ready. A handler that computes for a second without awaiting holds its worker for that
//! second, and with every worker held the whole node waits. The actor's task times each poll
//! (the stretch between two suspensions, which is what holds a worker) and, when one outlasts
//! the budget, reports it here once: a `tracing` warning naming the actor, pid, message
//! variant and duration, the metric `actor_slow_polls_total`, and [`Stats::slow_polls`].
//!
//! The message variant being handled travels in a thread-local that the actor's task sets
//! before each poll and reads back after it, so a handler that moves to another worker at an
//! `.await` is still named correctly.
//!
//! [`Stats::slow_polls`]: crate::Stats::slow_polls

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::pid::Pid;
use crate::stats;

/// The budget a handler may hold a worker for before it is reported, unless
/// [`set_budget`] changes it.
pub const DEFAULT_BUDGET: Duration = Duration::from_millis(100);

/// The budget in nanoseconds; 0 turns the watchdog off.
static BUDGET_NANOS: AtomicU64 = AtomicU64::new(duration_nanos(DEFAULT_BUDGET));

thread_local! {
    /// What the actor polled on this thread is handling: a message variant, or a hook.
    static HANDLING: Cell<&'static str> = const { Cell::new(IDLE) };
}

/// Shown when the slow poll started before any message (it cannot, but the field is total).
pub(crate) const IDLE: &str = "(waiting)";

const fn duration_nanos(d: Duration) -> u64 {
    let n = d.as_nanos();
    if n > u64::MAX as u128 {
        u64::MAX
    } else {
        n as u64
    }
}

/// Sets how long a handler may hold a worker without yielding before the watchdog reports it;
/// `None` turns the watchdog off. Node-wide; the default is [`DEFAULT_BUDGET`]. A zero budget
/// is treated as one nanosecond (every poll is reported), not as off.
pub fn set_budget(budget: Option<Duration>) {
    let nanos = budget.map_or(0, |b| duration_nanos(b).max(1));
    BUDGET_NANOS.store(nanos, Ordering::Relaxed);
}

/// The watchdog's budget now, `None` when it is off.
#[must_use]
pub fn budget() -> Option<Duration> {
    match BUDGET_NANOS.load(Ordering::Relaxed) {
        0 => None,
        n => Some(Duration::from_nanos(n)),
    }
}

/// Called by the receive loop before it hands a message or signal to the actor.
pub(crate) fn handling(what: &'static str) {
    HANDLING.with(|h| h.set(what));
}

/// One timed poll of an actor's task.
pub(crate) struct PollTimer {
    started: Instant,
    budget: u64,
}

/// Starts timing a poll, with `what` the task was handling when it last suspended. `None`
/// when the watchdog is off.
pub(crate) fn begin(what: &'static str) -> Option<PollTimer> {
    HANDLING.with(|h| h.set(what));
    let budget = BUDGET_NANOS.load(Ordering::Relaxed);
    (budget != 0).then(|| PollTimer {
        started: Instant::now(),
        budget,
    })
}

impl PollTimer {
    /// Ends the poll; reports it when it outlasted the budget. Returns what the task is
    /// handling now, to be given to the next [`begin`].
    pub(crate) fn end(self, pid: Pid, actor: &'static str) -> &'static str {
        let what = HANDLING.with(Cell::get);
        let held = self.started.elapsed();
        if duration_nanos(held) > self.budget {
            report(pid, actor, what, held, Duration::from_nanos(self.budget));
        }
        what
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
        held_ms = held.as_secs_f64() * 1e3,
        budget_ms = budget.as_secs_f64() * 1e3,
        "a handler held a runtime worker for {held:.1?} without yielding (budget {budget:?}); \
         every other actor on that worker waited. Declare the actor `#[actor(blocking)]` to give \
         it a thread of its own, or move the work into `tokio::task::spawn_blocking`"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poll_within_the_budget_is_not_reported_and_a_longer_one_is_reported_once() {
        let before = stats::Stats::counters().slow_polls;
        let t = PollTimer {
            started: Instant::now(),
            budget: duration_nanos(Duration::from_secs(60)),
        };
        assert_eq!(t.end(Pid::EXTERNAL, "A"), current());
        assert_eq!(stats::Stats::counters().slow_polls, before);
        handling("AMsg::Work");
        let t = PollTimer {
            started: Instant::now() - Duration::from_millis(5),
            budget: duration_nanos(Duration::from_millis(1)),
        };
        assert_eq!(t.end(Pid::EXTERNAL, "A"), "AMsg::Work");
        assert!(
            stats::Stats::counters().slow_polls > before,
            "the slow poll was not counted"
        );
    }

    #[test]
    fn the_budget_can_be_read_back() {
        // One test changes the process-wide budget, and restores it.
        let old = budget();
        set_budget(Some(Duration::ZERO));
        assert_eq!(budget(), Some(Duration::from_nanos(1)));
        set_budget(None);
        assert_eq!(budget(), None);
        set_budget(old);
        assert_eq!(budget(), old);
    }
}
