//! The node-wide process table, counters, and graceful shutdown.
//!
//! Like an Erlang node, one OS process is one node: the process table and the registry are
//! global to it. Every live actor is in the table so that [`shutdown`] can reach it.

use std::collections::BTreeMap;
use std::future::poll_fn;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError, Weak};
use std::time::Duration;

use crate::addr::Pid;
use crate::exit::{ExitReason, Signal};
use crate::process::Process;

const SHARDS: usize = 16;

type Shard = Mutex<BTreeMap<u64, Weak<dyn Process>>>;

static TABLE: [Shard; SHARDS] = [const { Mutex::new(BTreeMap::new()) }; SHARDS];

fn shard(pid: Pid) -> &'static Shard {
    // Pids are sequential, so the low bits spread consecutive spawns over all shards.
    #[allow(clippy::cast_possible_truncation)]
    &TABLE[(pid.0 as usize) % SHARDS]
}

pub(crate) fn register(pid: Pid, process: Weak<dyn Process>) {
    shard(pid)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(pid.0, process);
}

pub(crate) fn unregister(pid: Pid) {
    shard(pid)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(&pid.0);
}

fn live() -> Vec<(Pid, Weak<dyn Process>)> {
    let mut all = Vec::new();
    for shard in &TABLE {
        let shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
        all.extend(shard.iter().map(|(id, p)| (Pid(*id), p.clone())));
    }
    all.sort_by_key(|(pid, _)| std::cmp::Reverse(*pid));
    all
}

/// The number of actors currently running on this node.
#[must_use]
pub fn actor_count() -> usize {
    TABLE
        .iter()
        .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).len())
        .sum()
}

static REFUSED: AtomicU64 = AtomicU64::new(0);
static UNDELIVERED: AtomicU64 = AtomicU64::new(0);
static DROPPED_AT_EXIT: AtomicU64 = AtomicU64::new(0);
static LATE_REPLIES: AtomicU64 = AtomicU64::new(0);
static TIMER_MISSES: AtomicU64 = AtomicU64::new(0);

pub(crate) fn count_refused() {
    REFUSED.fetch_add(1, Ordering::Relaxed);
}
pub(crate) fn count_undelivered() {
    UNDELIVERED.fetch_add(1, Ordering::Relaxed);
}
pub(crate) fn count_dropped_at_exit(n: usize) {
    DROPPED_AT_EXIT.fetch_add(n as u64, Ordering::Relaxed);
}
pub(crate) fn count_late_reply() {
    LATE_REPLIES.fetch_add(1, Ordering::Relaxed);
}
pub(crate) fn count_timer_miss() {
    TIMER_MISSES.fetch_add(1, Ordering::Relaxed);
}

/// Node-wide counts of every message that was not delivered or not answered.
///
/// Nothing is dropped silently: each way a message can be lost has its counter here.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Fail-fast sends refused because the mailbox was full.
    pub refused_full: u64,
    /// Sends to an actor that had already stopped.
    pub sent_to_stopped: u64,
    /// Messages still queued when their actor stopped (their callers got an error).
    pub dropped_at_exit: u64,
    /// Replies that arrived after their caller had timed out.
    pub late_replies: u64,
    /// Timer messages not delivered because the target's mailbox was full or it had stopped.
    /// These are also counted in `refused_full` or `sent_to_stopped`: this field tells how many
    /// of those came from timers.
    pub timer_misses: u64,
    /// Actors running now.
    pub actors: usize,
}

/// A snapshot of the node's [`Stats`].
#[must_use]
pub fn stats() -> Stats {
    Stats {
        refused_full: REFUSED.load(Ordering::Relaxed),
        sent_to_stopped: UNDELIVERED.load(Ordering::Relaxed),
        dropped_at_exit: DROPPED_AT_EXIT.load(Ordering::Relaxed),
        late_replies: LATE_REPLIES.load(Ordering::Relaxed),
        timer_misses: TIMER_MISSES.load(Ordering::Relaxed),
        actors: actor_count(),
    }
}

/// What [`shutdown`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Actors that stopped within the grace period, running their `#[terminate]` hooks.
    pub stopped: usize,
    /// Actors that were still running at the end of the grace period and were killed.
    pub killed: usize,
}

/// Stops every actor on the node: each gets a stop signal with reason
/// [`ExitReason::Shutdown`] (newest first, so actors started later, usually children, are asked
/// first), runs its `#[terminate]` hook after its current message, and the call waits for all of
/// them up to `grace`. Actors still running after `grace` are killed.
///
/// Call it at the end of `main`, or on SIGINT/SIGTERM, before the tokio runtime is dropped:
/// dropping the runtime instead cancels every actor without running `#[terminate]`.
pub async fn shutdown(grace: Duration) -> ShutdownReport {
    let all = live();
    for (_, process) in &all {
        if let Some(p) = process.upgrade() {
            p.signal(Signal::Stop(ExitReason::Shutdown));
        }
    }
    let deadline = tokio::time::Instant::now() + grace;
    let mut killed = 0;
    let mut stopped = 0;
    for (_, process) in &all {
        let Some(p) = process.upgrade() else {
            stopped += 1;
            continue;
        };
        let exited = tokio::time::timeout_at(deadline, wait_exit(&*p)).await;
        if exited.is_ok() {
            stopped += 1;
        } else {
            p.kill();
            killed += 1;
        }
    }
    ShutdownReport { stopped, killed }
}

async fn wait_exit(p: &dyn Process) -> ExitReason {
    poll_fn(|cx| p.poll_exit(cx)).await
}
