//! The mailbox: a bounded user lane and an unbounded system lane behind one short lock.
//!
//! Shape, and why (guarded by `cargo run -p benches --release`, "tell" and "call" rows):
//! - Senders take the lock only to push and to take the receiver's waker: no allocation per
//!   message beyond the queue's own amortised growth, and a wake-up only when the actor sleeps.
//! - The actor swaps the whole user queue out under the lock and processes the batch without
//!   it, so a busy actor pays one lock per batch, not per message. Queue storage is allocated
//!   lazily: an idle actor that never received a message owns no buffer.
//! - The batch still counts against the capacity until the actor comes back for the next one,
//!   so the number of unprocessed messages never exceeds the capacity.
//! - Signals (stop, exit, down) sit in their own lane, flagged by an atomic the actor checks
//!   before every message, so they overtake queued user messages.

use std::collections::VecDeque;
use std::task::Waker;

use crate::exit::Signal;

/// The lanes of one mailbox. Always accessed under the owning cell's lock.
#[derive(Debug)]
pub(crate) struct Lanes<M> {
    user: VecDeque<M>,
    /// Messages the actor has taken in its current batch and not yet released.
    in_batch: usize,
    sys: VecDeque<Signal>,
    rx_waker: Option<Waker>,
    /// Senders waiting for capacity.
    waiters: Vec<Waker>,
}

/// Why a push did not enqueue.
pub(crate) enum PushError {
    Full,
}

impl<M> Lanes<M> {
    pub(crate) const fn new() -> Self {
        Lanes {
            user: VecDeque::new(),
            in_batch: 0,
            sys: VecDeque::new(),
            rx_waker: None,
            waiters: Vec::new(),
        }
    }

    /// Messages queued and not yet processed (including the actor's current batch).
    pub(crate) fn len(&self) -> usize {
        self.user.len() + self.in_batch
    }

    /// Enqueues `msg` if there is room; returns the receiver's waker to wake outside the lock.
    pub(crate) fn push(
        &mut self,
        msg: M,
        capacity: usize,
    ) -> Result<Option<Waker>, (M, PushError)> {
        if self.len() >= capacity {
            return Err((msg, PushError::Full));
        }
        self.user.push_back(msg);
        Ok(self.rx_waker.take())
    }

    /// Enqueues a signal; signals are never refused.
    pub(crate) fn push_signal(&mut self, signal: Signal) -> Option<Waker> {
        self.sys.push_back(signal);
        self.rx_waker.take()
    }

    pub(crate) fn pop_signal(&mut self) -> Option<Signal> {
        self.sys.pop_front()
    }

    pub(crate) fn has_signals(&self) -> bool {
        !self.sys.is_empty()
    }

    /// The actor finished its previous batch: release its capacity and hand it the next one.
    /// Returns the waiters to wake (outside the lock) because capacity was released.
    pub(crate) fn take_batch(&mut self, batch: &mut VecDeque<M>) -> Vec<Waker> {
        debug_assert!(batch.is_empty());
        let released = self.in_batch > 0 || !self.user.is_empty();
        std::mem::swap(batch, &mut self.user);
        self.in_batch = batch.len();
        if released {
            std::mem::take(&mut self.waiters)
        } else {
            Vec::new()
        }
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

    /// Empties the mailbox at exit; the caller drops the messages outside the lock.
    pub(crate) fn close(&mut self) -> (VecDeque<M>, Vec<Waker>) {
        self.sys.clear();
        self.in_batch = 0;
        self.rx_waker = None;
        (
            std::mem::take(&mut self.user),
            std::mem::take(&mut self.waiters),
        )
    }
}
