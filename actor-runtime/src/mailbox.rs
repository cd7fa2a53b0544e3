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
//!   were pushed. The number of untaken messages never exceeds the capacity.
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
}

impl<M> Inbox<M> {
    pub(crate) const fn new() -> Self {
        Inbox {
            batch: VecDeque::new(),
            consumed: 0,
        }
    }
}

/// The lanes of one mailbox. Always accessed under the owning process's lock.
#[derive(Debug)]
pub(crate) struct Lanes<M> {
    user: VecDeque<M>,
    /// User messages enqueued since the actor started.
    pushed: u64,
    /// Signals that act at once: stop, finish, exit signals the actor does not trap.
    urgent: VecDeque<Signal>,
    /// Notifications kept in message order: `(messages pushed before it, signal)`.
    ordered: VecDeque<(u64, Signal)>,
    rx_waker: Option<Waker>,
    /// Senders waiting for capacity, woken one per message taken.
    waiters: VecDeque<Waker>,
}

impl<M> Lanes<M> {
    pub(crate) const fn new() -> Self {
        Lanes {
            user: VecDeque::new(),
            pushed: 0,
            urgent: VecDeque::new(),
            ordered: VecDeque::new(),
            rx_waker: None,
            waiters: VecDeque::new(),
        }
    }

    /// Messages queued and not yet taken by the actor.
    pub(crate) fn len(&self, consumed: u64) -> usize {
        usize::try_from(self.pushed.saturating_sub(consumed)).unwrap_or(usize::MAX)
    }

    /// Enqueues `msg` if there is room; returns the receiver's waker to wake outside the lock.
    pub(crate) fn push(
        &mut self,
        msg: M,
        capacity: usize,
        consumed: u64,
    ) -> Result<Option<Waker>, M> {
        if self.len(consumed) >= capacity {
            return Err(msg);
        }
        self.user.push_back(msg);
        self.pushed += 1;
        Ok(self.rx_waker.take())
    }

    /// Enqueues a signal in `lane`; signals are never refused. Returns the receiver's waker
    /// and, for the ordered lane, the stamp of its first entry if this one became it.
    pub(crate) fn push_signal(
        &mut self,
        signal: Signal,
        lane: SignalLane,
    ) -> (Option<Waker>, Option<u64>) {
        let first = match lane {
            SignalLane::Urgent => {
                self.urgent.push_back(signal);
                None
            }
            SignalLane::Ordered => {
                self.ordered.push_back((self.pushed, signal));
                (self.ordered.len() == 1).then_some(self.pushed)
            }
        };
        (self.rx_waker.take(), first)
    }

    /// The next signal due once `consumed` messages have been taken: urgent ones first, then
    /// the oldest notification if every message queued ahead of it has been taken.
    pub(crate) fn pop_signal(&mut self, consumed: u64) -> Option<Signal> {
        if let Some(signal) = self.urgent.pop_front() {
            return Some(signal);
        }
        match self.ordered.front() {
            Some((after, _)) if *after <= consumed => self.ordered.pop_front().map(|(_, s)| s),
            _ => None,
        }
    }

    pub(crate) fn has_urgent(&self) -> bool {
        !self.urgent.is_empty()
    }

    /// The stamp of the oldest notification, `u64::MAX` if there is none.
    pub(crate) fn next_ordered(&self) -> u64 {
        self.ordered.front().map_or(u64::MAX, |(after, _)| *after)
    }

    pub(crate) fn has_signals(&self) -> bool {
        !self.urgent.is_empty() || !self.ordered.is_empty()
    }

    /// Removes queued signals for which `cancel` is true (`unlink`, `demonitor`).
    pub(crate) fn cancel_signals(&mut self, cancel: impl Fn(&Signal) -> bool) {
        self.urgent.retain(|s| !cancel(s));
        self.ordered.retain(|(_, s)| !cancel(s));
    }

    /// Hands the actor every queued message. Capacity is released as it takes them.
    pub(crate) fn take_batch(&mut self, batch: &mut VecDeque<M>) {
        debug_assert!(batch.is_empty());
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
            self.waiters.push_back(waker.clone());
        }
    }

    /// One waiting sender, for the room one taken message made.
    pub(crate) fn take_waiter(&mut self) -> Option<Waker> {
        self.waiters.pop_front()
    }

    pub(crate) fn take_waiters(&mut self) -> VecDeque<Waker> {
        std::mem::take(&mut self.waiters)
    }

    pub(crate) fn has_waiters(&self) -> bool {
        !self.waiters.is_empty()
    }

    /// Empties the mailbox at exit; the caller drops the messages outside the lock.
    pub(crate) fn close(&mut self) -> (VecDeque<M>, VecDeque<Waker>) {
        self.urgent.clear();
        self.ordered.clear();
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
