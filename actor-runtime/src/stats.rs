//! The counters of every message that was not delivered or not answered, and of every stall
//! the watchdog saw.
//!
//! Nothing is dropped silently: each way a message can be lost has its counter here, bumped
//! by the layer that loses it and read by [`crate::stats`]. The counters of lost messages
//! belong to a node (one [`Counters`] in its tables); the count of slow polls is one for the
//! OS process, because the workers a handler holds belong to the tokio runtime, which every
//! node of the process shares.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::sync::lock;

static SLOW_POLLS: AtomicU64 = AtomicU64::new(0);

pub(crate) fn slow_poll() {
    SLOW_POLLS.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn slow_polls() -> u64 {
    SLOW_POLLS.load(Ordering::Relaxed)
}

/// Counts of every message that was not delivered or not answered, on one node.
///
/// Nothing is dropped silently: each way a message can be lost has its counter here. A send
/// refused by an actor, or made to one that had stopped, is counted on that actor's node, and
/// a cast a pool sheds or cannot deliver on the pool's node; a cast through a supervised
/// child's handle between its restarts, or a call through a child's or a pool's handle that
/// finds no actor to ask, is counted on the sender's current node.
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
    /// yielding (see [`watchdog`](crate::watchdog)). Not a lost message: a stalled runtime.
    /// Counted for the whole OS process, whose nodes share the runtime's workers.
    pub slow_polls: u64,
    /// Actors running now.
    pub actors: usize,
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

impl Retired {
    fn add(&mut self, other: &Retired) {
        self.stopped += other.stopped;
        self.handled += other.handled;
        self.refused += other.refused;
        self.high_water = self.high_water.max(other.high_water);
    }
}

const RETIRED_SHARDS: usize = 8;

/// One node's counters of lost messages and of its stopped actors.
pub(crate) struct Counters {
    refused: AtomicU64,
    undelivered: AtomicU64,
    dropped_at_exit: AtomicU64,
    late_replies: AtomicU64,
    timer_misses: AtomicU64,
    /// Sharded, because every exit writes here.
    retired: [Mutex<BTreeMap<&'static str, Retired>>; RETIRED_SHARDS],
}

impl Counters {
    pub(crate) const fn new() -> Counters {
        Counters {
            refused: AtomicU64::new(0),
            undelivered: AtomicU64::new(0),
            dropped_at_exit: AtomicU64::new(0),
            late_replies: AtomicU64::new(0),
            timer_misses: AtomicU64::new(0),
            retired: [const { Mutex::new(BTreeMap::new()) }; RETIRED_SHARDS],
        }
    }

    pub(crate) fn refused(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn undelivered(&self) {
        self.undelivered.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn dropped_at_exit(&self, n: usize) {
        self.dropped_at_exit.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(crate) fn late_reply(&self) {
        self.late_replies.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn timer_miss(&self) {
        self.timer_misses.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters now; `actors` is filled in by the caller.
    pub(crate) fn snapshot(&self) -> Stats {
        Stats {
            refused_full: self.refused.load(Ordering::Relaxed),
            sent_to_stopped: self.undelivered.load(Ordering::Relaxed),
            dropped_at_exit: self.dropped_at_exit.load(Ordering::Relaxed),
            late_replies: self.late_replies.load(Ordering::Relaxed),
            timer_misses: self.timer_misses.load(Ordering::Relaxed),
            slow_polls: slow_polls(),
            actors: 0,
        }
    }

    /// Adds a stopped actor's figures to its kind's totals; `shard` spreads exits (a pid).
    pub(crate) fn retire(&self, message_type: &'static str, shard: u64, figures: &Retired) {
        #[allow(clippy::cast_possible_truncation)]
        let mut totals = lock(&self.retired[shard as usize % RETIRED_SHARDS]);
        totals.entry(message_type).or_default().add(figures);
    }

    /// The totals of stopped actors, by message type.
    pub(crate) fn retired(&self) -> BTreeMap<&'static str, Retired> {
        let mut all: BTreeMap<&'static str, Retired> = BTreeMap::new();
        for shard in &self.retired {
            for (kind, r) in lock(shard).iter() {
                all.entry(kind).or_default().add(r);
            }
        }
        all
    }
}
