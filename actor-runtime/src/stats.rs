//! Node-wide counters of every message that was not delivered or not answered, and of every
//! stall the watchdog saw.
//!
//! Nothing is dropped silently: each way a message can be lost has its counter here, bumped
//! by the layer that loses it and read by [`crate::stats`].

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::sync::lock;

static REFUSED: AtomicU64 = AtomicU64::new(0);
static UNDELIVERED: AtomicU64 = AtomicU64::new(0);
static DROPPED_AT_EXIT: AtomicU64 = AtomicU64::new(0);
static LATE_REPLIES: AtomicU64 = AtomicU64::new(0);
static TIMER_MISSES: AtomicU64 = AtomicU64::new(0);
static SLOW_POLLS: AtomicU64 = AtomicU64::new(0);

pub(crate) fn refused() {
    REFUSED.fetch_add(1, Ordering::Relaxed);
}
pub(crate) fn undelivered() {
    UNDELIVERED.fetch_add(1, Ordering::Relaxed);
}
pub(crate) fn dropped_at_exit(n: usize) {
    DROPPED_AT_EXIT.fetch_add(n as u64, Ordering::Relaxed);
}
pub(crate) fn late_reply() {
    LATE_REPLIES.fetch_add(1, Ordering::Relaxed);
}
pub(crate) fn timer_miss() {
    TIMER_MISSES.fetch_add(1, Ordering::Relaxed);
}
pub(crate) fn slow_poll() {
    SLOW_POLLS.fetch_add(1, Ordering::Relaxed);
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
    /// Times a handler held a runtime worker longer than the watchdog's budget without
    /// yielding (see [`watchdog`](crate::watchdog)). Not a lost message: a stalled node.
    pub slow_polls: u64,
    /// Actors running now.
    pub actors: usize,
}

impl Stats {
    /// The counters now; `actors` is filled in by the caller.
    pub(crate) fn counters() -> Stats {
        Stats {
            refused_full: REFUSED.load(Ordering::Relaxed),
            sent_to_stopped: UNDELIVERED.load(Ordering::Relaxed),
            dropped_at_exit: DROPPED_AT_EXIT.load(Ordering::Relaxed),
            late_replies: LATE_REPLIES.load(Ordering::Relaxed),
            timer_misses: TIMER_MISSES.load(Ordering::Relaxed),
            slow_polls: SLOW_POLLS.load(Ordering::Relaxed),
            actors: 0,
        }
    }
}

/// What the stopped actors of one message type did, kept so that per-kind totals
/// ([`crate::introspect::kinds`]) do not fall when actors stop.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Retired {
    pub(crate) stopped: u64,
    pub(crate) handled: u64,
    pub(crate) refused: u64,
    pub(crate) high_water: usize,
}

const RETIRED_SHARDS: usize = 8;
type RetiredShard = Mutex<BTreeMap<&'static str, Retired>>;
static RETIRED: [RetiredShard; RETIRED_SHARDS] =
    [const { Mutex::new(BTreeMap::new()) }; RETIRED_SHARDS];

/// Adds a stopped actor's figures to its kind's totals; `shard` spreads exits (a pid).
pub(crate) fn retire(message_type: &'static str, shard: u64, figures: Retired) {
    #[allow(clippy::cast_possible_truncation)]
    let mut totals = lock(&RETIRED[shard as usize % RETIRED_SHARDS]);
    let entry = totals.entry(message_type).or_default();
    entry.stopped += figures.stopped;
    entry.handled += figures.handled;
    entry.refused += figures.refused;
    entry.high_water = entry.high_water.max(figures.high_water);
}

/// The totals of stopped actors, by message type.
pub(crate) fn retired() -> BTreeMap<&'static str, Retired> {
    let mut all: BTreeMap<&'static str, Retired> = BTreeMap::new();
    for shard in &RETIRED {
        for (kind, r) in lock(shard).iter() {
            let entry = all.entry(kind).or_default();
            entry.stopped += r.stopped;
            entry.handled += r.handled;
            entry.refused += r.refused;
            entry.high_water = entry.high_water.max(r.high_water);
        }
    }
    all
}
