//! Timers: a message to an actor after a delay or at an interval.

use std::fmt;
use std::time::Duration;

use tokio::task::AbortHandle;
use tokio::time::MissedTickBehavior;

use crate::addr::Addr;
use crate::addr::Addressable;
use crate::error::SendError;
use crate::tables::Tables;

/// A running timer, returned by [`Ctx::send_after`](crate::Ctx::send_after) and
/// [`Ctx::interval`](crate::Ctx::interval).
pub struct TimerRef {
    handle: AbortHandle,
}

impl TimerRef {
    pub(crate) fn new(handle: AbortHandle) -> Self {
        TimerRef { handle }
    }

    /// Cancels the timer. A message it already sent stays in the mailbox.
    pub fn cancel(&self) {
        self.handle.abort();
    }

    /// `true` once a one-shot timer has fired or any timer was cancelled.
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }
}

impl fmt::Debug for TimerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerRef")
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// Counts a missed tick on `tables` (the node of the actor that set the timer, which is its
/// target); `false` once the target has stopped.
fn record(result: Result<(), SendError>, tables: &Tables) -> bool {
    match result {
        Ok(()) => true,
        Err(SendError::Full { .. }) => {
            tables.counters.timer_miss();
            true
        }
        Err(_) => {
            tables.counters.timer_miss();
            false
        }
    }
}

pub(crate) fn once<A, F>(addr: Addr<A>, delay: Duration, send: F) -> AbortHandle
where
    A: Addressable,
    F: FnOnce(&Addr<A>) -> Result<(), SendError> + Send + 'static,
{
    let tables = addr.record().tables().clone();
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        record(send(&addr), &tables);
    })
    .abort_handle()
}

/// The shortest interval period; shorter ones are raised to it.
pub(crate) const MIN_PERIOD: Duration = Duration::from_millis(1);

pub(crate) fn every<A, F>(addr: Addr<A>, period: Duration, mut send: F) -> AbortHandle
where
    A: Addressable,
    F: FnMut(&Addr<A>) -> Result<(), SendError> + Send + 'static,
{
    let period = period.max(MIN_PERIOD);
    let Some(first) = tokio::time::Instant::now().checked_add(period) else {
        // A period too long to represent never elapses.
        return tokio::spawn(async {}).abort_handle();
    };
    let tables = addr.record().tables().clone();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval_at(first, period);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if !record(send(&addr), &tables) {
                break;
            }
        }
    })
    .abort_handle()
}
