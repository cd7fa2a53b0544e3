//! Typed publish/subscribe: topics owned by an actor, publishers it hands out, subscribers
//! that receive every event in publish order through their own typed handler.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::error::SendError;
use crate::exit::ExitReason;

/// What a subscriber receives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event<T> {
    /// An event, in publish order.
    Published(T),
    /// The topic's owner stopped with this reason; nothing more will come.
    Closed(ExitReason),
}

type Deliver<T> = Box<dyn Fn(Event<T>) -> Result<(), SendError> + Send + Sync>;

struct Subscriber<T> {
    id: u64,
    deliver: Deliver<T>,
    shed: u64,
}

struct State<T> {
    subscribers: Vec<Subscriber<T>>,
    /// The last events, replayed to late subscribers.
    recent: VecDeque<T>,
    closed: Option<ExitReason>,
}

struct Inner<T> {
    state: Mutex<State<T>>,
    buffer: usize,
    published: AtomicU64,
    shed: AtomicU64,
    undelivered: AtomicU64,
    next_id: AtomicU64,
}

impl<T> Inner<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A topic, to subscribe to. Cloning is cheap; every clone is the same topic.
///
/// Created by an actor with [`Ctx::topic`](crate::Ctx::topic), which makes the actor its
/// owner: when the owner stops, every subscriber receives [`Event::Closed`] with its reason.
pub struct Topic<T> {
    inner: Arc<Inner<T>>,
}

/// The right to publish on a topic: only its owner gets one at creation, and may hand out
/// clones. Without a `Publisher<T>` there is no way to publish.
pub struct Publisher<T> {
    inner: Arc<Inner<T>>,
}

/// One subscription, to cancel with [`Topic::unsubscribe`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Subscription(u64);

/// The topic has closed: its owner stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicClosed(pub ExitReason);

impl fmt::Display for TopicClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "topic closed: its owner stopped ({})", self.0)
    }
}

impl std::error::Error for TopicClosed {}

/// Counts of a topic, as returned by [`Topic::stats`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TopicStats {
    /// Events published.
    pub published: u64,
    /// Deliveries refused because a subscriber's mailbox was full (the event is lost for that
    /// subscriber only).
    pub shed: u64,
    /// Deliveries to a subscriber that was not running (a supervised child between crash and
    /// restart, a pool with no worker, or an actor that has stopped).
    pub undelivered: u64,
    /// Current subscribers.
    pub subscribers: usize,
}

impl<T: Clone + Send + 'static> Topic<T> {
    pub(crate) fn new(buffer: usize) -> (Topic<T>, Publisher<T>) {
        let inner = Arc::new(Inner {
            state: Mutex::new(State {
                subscribers: Vec::new(),
                recent: VecDeque::new(),
                closed: None,
            }),
            buffer,
            published: AtomicU64::new(0),
            shed: AtomicU64::new(0),
            undelivered: AtomicU64::new(0),
            next_id: AtomicU64::new(0),
        });
        (
            Topic {
                inner: inner.clone(),
            },
            Publisher { inner },
        )
    }

    pub(crate) fn close(&self, reason: &ExitReason) {
        let subscribers = {
            let mut state = self.inner.lock();
            if state.closed.is_some() {
                return;
            }
            state.closed = Some(reason.clone());
            std::mem::take(&mut state.subscribers)
        };
        // Delivered outside the lock: no ordering is left to keep, and a delivery that starts
        // a dormant actor on a runtime that is shutting down can re-enter topic code.
        for s in subscribers {
            match (s.deliver)(Event::Closed(reason.clone())) {
                Ok(()) => {}
                Err(SendError::Full { .. }) => {
                    self.inner.shed.fetch_add(1, Ordering::Relaxed);
                }
                Err(_) => {
                    self.inner.undelivered.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    /// Subscribes `handle` (an [`Addr`](crate::Addr), a [`Child`](crate::Child), a pool, ...):
    /// `deliver` hands each event to it, usually by casting to one of its handlers:
    ///
    /// `topic.subscribe(addr.clone(), |a, event| a.on_traffic(event))`
    ///
    /// The buffered recent events are delivered first. A delivery refused because the
    /// subscriber's mailbox is full, or because it is not running, is counted
    /// ([`Topic::stats`]) and the subscriber stays: a `Child` or `Pool` handle comes back after a
    /// restart. [`Topic::unsubscribe`] actors that stop for good. If the topic has closed,
    /// `Event::Closed` is delivered at once.
    pub fn subscribe<H, F>(&self, handle: H, deliver: F) -> Subscription
    where
        H: Send + Sync + 'static,
        F: Fn(&H, Event<T>) -> Result<(), SendError> + Send + Sync + 'static,
    {
        let id = Subscription(self.inner.next_id.fetch_add(1, Ordering::Relaxed));
        let deliver: Deliver<T> = Box::new(move |event| deliver(&handle, event));
        let mut state = self.inner.lock();
        if let Some(reason) = state.closed.clone() {
            drop(state);
            let _ = deliver(Event::Closed(reason));
            return id;
        }
        let mut shed = 0;
        for event in state.recent.iter().cloned() {
            if let Err(SendError::Full { .. }) = deliver(Event::Published(event)) {
                shed += 1;
            }
        }
        self.inner.shed.fetch_add(shed, Ordering::Relaxed);
        state.subscribers.push(Subscriber {
            id: id.0,
            deliver,
            shed,
        });
        id
    }

    /// Cancels a subscription; `false` if it was not (or no longer) subscribed.
    pub fn unsubscribe(&self, subscription: Subscription) -> bool {
        let mut state = self.inner.lock();
        let before = state.subscribers.len();
        state.subscribers.retain(|s| s.id != subscription.0);
        state.subscribers.len() != before
    }

    /// Events published, deliveries shed, and subscribers.
    #[must_use]
    pub fn stats(&self) -> TopicStats {
        TopicStats {
            published: self.inner.published.load(Ordering::Relaxed),
            shed: self.inner.shed.load(Ordering::Relaxed),
            undelivered: self.inner.undelivered.load(Ordering::Relaxed),
            subscribers: self.inner.lock().subscribers.len(),
        }
    }

    /// Deliveries shed for one subscription so far.
    #[must_use]
    pub fn shed_for(&self, subscription: Subscription) -> Option<u64> {
        self.inner
            .lock()
            .subscribers
            .iter()
            .find(|s| s.id == subscription.0)
            .map(|s| s.shed)
    }
}

impl<T: Clone + Send + 'static> Publisher<T> {
    /// Publishes `event` to every subscriber, in subscription order; publishes from one
    /// publisher, and from all publishers of a topic, reach every subscriber in one order.
    /// Returns how many subscribers got it.
    ///
    /// # Errors
    /// [`TopicClosed`] once the owner has stopped.
    pub fn publish(&self, event: T) -> Result<usize, TopicClosed> {
        let mut state = self.inner.lock();
        if let Some(reason) = &state.closed {
            return Err(TopicClosed(reason.clone()));
        }
        self.inner.published.fetch_add(1, Ordering::Relaxed);
        if self.inner.buffer > 0 {
            if state.recent.len() == self.inner.buffer {
                state.recent.pop_front();
            }
            state.recent.push_back(event.clone());
        }
        let mut delivered = 0;
        let mut shed = 0;
        let mut undelivered = 0;
        // Delivery under the topic lock is what orders concurrent publishers; each delivery is
        // one non-blocking mailbox push. A subscriber that is not running stays subscribed: a
        // `Child` or a `Pool` comes back after a restart. Unsubscribe actors that stop for good.
        for s in &mut state.subscribers {
            match (s.deliver)(Event::Published(event.clone())) {
                Ok(()) => delivered += 1,
                Err(SendError::Full { .. }) => {
                    s.shed += 1;
                    shed += 1;
                }
                Err(_) => undelivered += 1,
            }
        }
        drop(state);
        if shed > 0 {
            self.inner.shed.fetch_add(shed, Ordering::Relaxed);
        }
        if undelivered > 0 {
            self.inner
                .undelivered
                .fetch_add(undelivered, Ordering::Relaxed);
        }
        Ok(delivered)
    }

    /// The topic this publisher publishes on.
    #[must_use]
    pub fn topic(&self) -> Topic<T> {
        Topic {
            inner: self.inner.clone(),
        }
    }
}

impl<T> Clone for Topic<T> {
    fn clone(&self) -> Self {
        Topic {
            inner: self.inner.clone(),
        }
    }
}

impl<T> Clone for Publisher<T> {
    fn clone(&self) -> Self {
        Publisher {
            inner: self.inner.clone(),
        }
    }
}

impl<T> fmt::Debug for Topic<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Topic")
            .field("type", &std::any::type_name::<T>())
            .field("buffer", &self.inner.buffer)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Publisher<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Publisher")
            .field("type", &std::any::type_name::<T>())
            .finish_non_exhaustive()
    }
}
