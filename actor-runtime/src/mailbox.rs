//! The mailbox: a bounded user lane, an urgent lane for signals that end the actor, and an
//! ordered lane for notifications, behind one short lock.
//!
//! Shape, and why (guarded by `cargo run -p benches --release`, "tell" and "call" rows):
//! - Senders take the lock only to push and to take the receiver's waker: no allocation per
//!   message beyond the queue's own amortised growth, and a wake-up only when the actor sleeps.
//! - The actor swaps the whole user queue out under the lock and processes the batch without
//!   it, so a busy actor pays one lock per batch, not per message.
//! - Capacity is released per message, not per batch: the actor publishes how many messages it
//!   has taken (`consumed`, one counter only it writes) and senders compare it with how many
//!   were pushed. The number of untaken messages never exceeds the capacity. Senders waiting
//!   for room are woken together once a quarter of the capacity is free (or the mailbox is
//!   empty), not one per message: waking per message made a flooded actor and its producer
//!   ping-pong and cost 2.5x in the "tell" row.
//! - Signals that end the actor (stop, kill, an exit signal it does not trap) sit in the urgent
//!   lane and overtake queued messages. Notifications it receives as data (`Down`, a trapped
//!   `Exit`) sit in the ordered lane, stamped with the number of messages pushed before them:
//!   one is delivered only once the actor has taken every message queued ahead of it, so a
//!   message its sender sent before dying is always seen before the `Down`.
//! - Queue storage is allocated lazily: an idle actor that never received a message owns no
//!   buffer.

use std::collections::VecDeque;
use std::task::Waker;

use crate::exit::{Signal, SignalLane};
use crate::pid::Pid;

/// What the actor's task owns of its mailbox: the batch it took, and how many it has taken.
#[derive(Debug)]
pub(crate) struct Inbox<M> {
    pub(crate) batch: VecDeque<M>,
    /// Messages taken from the mailbox since the actor started (the mirror of `consumed`).
    pub(crate) consumed: u64,
    /// Messages taken while senders waited, since they were last woken.
    pub(crate) since_wake: u32,
    /// Messages handled since the task last yielded to the scheduler.
    pub(crate) streak: u32,
}

impl<M> Inbox<M> {
    pub(crate) const fn new() -> Self {
        Inbox {
            batch: VecDeque::new(),
            consumed: 0,
            since_wake: 0,
            streak: 0,
        }
    }
}

/// The lanes of one mailbox. Always accessed under the owning process's lock.
///
/// `repr(C)`: what a sender touches per message comes first, what it rarely touches last,
/// so that the rare fields stand between the sender's cache lines and the line the actor
/// writes per message (see `ProcessRecord`).
#[derive(Debug)]
#[repr(C)]
pub(crate) struct Lanes<M> {
    user: VecDeque<M>,
    rx_waker: Option<Waker>,
    /// User messages enqueued since the actor started.
    pushed: u64,
    /// A lower bound of the messages taken, refreshed when the actor takes a batch: while
    /// `pushed - seen` is below the capacity a sender need not read the actor's counter (whose
    /// cache line the actor writes per message).
    seen: u64,
    /// The longest the queue of messages not yet taken into a batch has been.
    high_water: u32,
    /// Senders waiting for capacity, woken in groups as the actor takes messages.
    waiters: Vec<Waker>,
    /// Signals, in arrival order, each with its lane: `None` acts at once (stop, finish, an
    /// exit signal the actor does not trap); `Some(n)` is a notification kept in message
    /// order, due once `n` messages (those pushed before it) have been taken. One queue for
    /// both keeps an idle actor small; signals are rare, so scanning it costs nothing.
    signals: VecDeque<(Option<u64>, Signal)>,
}

impl<M> Lanes<M> {
    pub(crate) const fn new() -> Self {
        Lanes {
            user: VecDeque::new(),
            pushed: 0,
            seen: 0,
            signals: VecDeque::new(),
            rx_waker: None,
            waiters: Vec::new(),
            high_water: 0,
        }
    }

    /// The longest the queue has been: the most messages that waited at once for the actor
    /// to take them (messages of the batch it was working through are not counted).
    pub(crate) fn high_water(&self) -> usize {
        self.high_water as usize
    }

    /// Messages queued and not yet taken by the actor.
    pub(crate) fn len(&self, consumed: u64) -> usize {
        usize::try_from(self.pushed.saturating_sub(consumed)).unwrap_or(usize::MAX)
    }

    /// Enqueues `msg` if there is room; returns the receiver's waker to wake outside the lock.
    /// `consumed` reads the actor's exact count, only when the snapshot says "full".
    pub(crate) fn push(
        &mut self,
        msg: M,
        capacity: usize,
        consumed: impl FnOnce() -> u64,
    ) -> Result<Option<Waker>, M> {
        if self.len(self.seen) >= capacity {
            self.seen = consumed();
            if self.len(self.seen) >= capacity {
                return Err(msg);
            }
        }
        self.user.push_back(msg);
        self.pushed += 1;
        // Under the lock the sender holds anyway, on a line it has just written: no cost a
        // benchmark can see (the "tell" row).
        self.high_water = self
            .high_water
            .max(u32::try_from(self.user.len()).unwrap_or(u32::MAX));
        Ok(self.rx_waker.take())
    }

    /// Enqueues a signal in `lane`; signals are never refused. Returns the receiver's waker
    /// and, for the ordered lane, the stamp of the oldest notification if this one became it.
    pub(crate) fn push_signal(
        &mut self,
        signal: Signal,
        lane: SignalLane,
    ) -> (Option<Waker>, Option<u64>) {
        let first = match lane {
            SignalLane::Urgent => {
                self.signals.push_back((None, signal));
                None
            }
            SignalLane::Ordered => {
                let first = self.next_ordered() == u64::MAX;
                self.signals.push_back((Some(self.pushed), signal));
                first.then_some(self.pushed)
            }
        };
        (self.rx_waker.take(), first)
    }

    /// The next signal due once `consumed` messages have been taken: urgent ones first, then
    /// the oldest notification if every message queued ahead of it has been taken.
    pub(crate) fn pop_signal(&mut self, consumed: u64) -> Option<Signal> {
        let at = match self.signals.iter().position(|(stamp, _)| stamp.is_none()) {
            Some(urgent) => urgent,
            None => self
                .signals
                .iter()
                .position(|(stamp, _)| stamp.is_some_and(|after| after <= consumed))?,
        };
        // Notifications are stamped in order, so the first due one is the oldest.
        self.signals.remove(at).map(|(_, s)| s)
    }

    pub(crate) fn has_urgent(&self) -> bool {
        self.signals.iter().any(|(stamp, _)| stamp.is_none())
    }

    /// The stamp of the oldest notification, `u64::MAX` if there is none.
    pub(crate) fn next_ordered(&self) -> u64 {
        self.signals
            .iter()
            .find_map(|(stamp, _)| *stamp)
            .unwrap_or(u64::MAX)
    }

    pub(crate) fn has_signals(&self) -> bool {
        !self.signals.is_empty()
    }

    /// Removes queued signals for which `cancel` is true (`unlink`, `demonitor`).
    pub(crate) fn cancel_signals(&mut self, cancel: impl Fn(&Signal) -> bool) {
        self.signals.retain(|(_, s)| !cancel(s));
    }

    /// Hands the actor every queued message, `consumed` being its count so far. Capacity is
    /// released as it takes them.
    pub(crate) fn take_batch(&mut self, batch: &mut VecDeque<M>, consumed: u64) {
        debug_assert!(batch.is_empty());
        self.seen = consumed;
        std::mem::swap(batch, &mut self.user);
    }

    pub(crate) fn park_receiver(&mut self, waker: &Waker) {
        match &self.rx_waker {
            Some(w) if w.will_wake(waker) => {}
            _ => self.rx_waker = Some(waker.clone()),
        }
    }

    pub(crate) fn park_waiter(&mut self, waker: &Waker) {
        if !self.waiters.iter().any(|w| w.will_wake(waker)) {
            self.waiters.push(waker.clone());
        }
    }

    pub(crate) fn take_waiters(&mut self) -> Vec<Waker> {
        std::mem::take(&mut self.waiters)
    }

    /// Empties the mailbox at exit; the caller drops the messages outside the lock.
    pub(crate) fn close(&mut self) -> (VecDeque<M>, Vec<Waker>) {
        self.signals.clear();
        self.rx_waker = None;
        (
            std::mem::take(&mut self.user),
            std::mem::take(&mut self.waiters),
        )
    }
}

/// `true` for a queued exit signal that came over the link to `peer`.
pub(crate) fn is_link_exit_from(signal: &Signal, peer: Pid) -> bool {
    matches!(signal, Signal::Exit { exit, link: true } if exit.from == peer)
}

#[cfg(test)]
impl<M> Lanes<M> {
    /// Where, from the start of the lanes, the fields a sender touches per message end.
    pub(crate) fn sender_fields_end(&self) -> usize {
        let base = std::ptr::from_ref(self) as usize;
        let end = std::ptr::from_ref(&self.high_water) as usize + size_of::<u32>();
        for field in [
            std::ptr::from_ref(&self.user) as usize,
            std::ptr::from_ref(&self.rx_waker) as usize,
            std::ptr::from_ref(&self.pushed) as usize,
            std::ptr::from_ref(&self.seen) as usize,
        ] {
            assert!(field < end, "a sender's field after `high_water`");
        }
        end - base
    }
}
