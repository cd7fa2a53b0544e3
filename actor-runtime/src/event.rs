//! Typed publish/subscribe: topics owned by an actor, publishers it hands out, subscribers
//! that receive every event in publish order through their own typed handler.
//!
//! Delivery runs user code (the `deliver` closure given to [`Topic::subscribe`]), so it never
//! runs under the topic's lock. One order for every subscriber is kept by a queue of delivery
//! jobs: whoever finds nobody delivering drains the queue; a publish (or subscribe) that
//! arrives meanwhile, from another thread or from inside a delivery, queues its job behind the
//! current one and returns. A subscriber may therefore publish and subscribe from its own
//! delivery without deadlocking.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::addr::{Addr, Addressable};
use crate::error::SendError;
use crate::exit::ExitReason;
use crate::sync::lock;

/// What a subscriber receives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event<T> {
    /// An event, in publish order.
    Published(T),
    /// The topic's owner stopped with this reason; nothing more will come.
    Closed(ExitReason),
}

/// A handle a topic can deliver to: an [`Addr`], a [`Child`](crate::Child), a
/// [`Pool`](crate::Pool). It tells the topic when it has stopped for good, so that its
/// subscription is removed instead of kept forever.
pub trait Subscriber: Send + Sync + 'static {
    /// `true` once nothing delivered to this handle can ever be handled again (an actor that
    /// has stopped). A supervised child or a pool between restarts is not gone.
    fn is_gone(&self) -> bool;
}

impl<A: Addressable> Subscriber for Addr<A> {
    fn is_gone(&self) -> bool {
        !self.is_alive()
    }
}

type Deliver<T> = Box<dyn Fn(Event<T>) -> Result<(), SendError> + Send + Sync>;

struct Sub<T> {
    id: u64,
    deliver: Deliver<T>,
    gone: Box<dyn Fn() -> bool + Send + Sync>,
    shed: AtomicU64,
}

/// The subscribers, shared with deliveries in progress (copy-on-write).
type Subs<T> = Arc<Vec<Arc<Sub<T>>>>;

/// A delivery waiting its turn.
enum Job<T> {
    /// An event, to the subscribers there were when it was published.
    Publish { seq: u64, event: T, to: Subs<T> },
    /// The buffered events, to a new subscriber.
    Replay { to: Arc<Sub<T>>, events: Vec<T> },
    /// The owner stopped: the last job.
    Close { reason: ExitReason, to: Subs<T> },
}

struct State<T> {
    subscribers: Subs<T>,
    /// The last events, replayed to late subscribers.
    recent: VecDeque<T>,
    closed: Option<ExitReason>,
    jobs: VecDeque<Job<T>>,
    /// Someone is draining `jobs`.
    delivering: bool,
    /// Publishes so far: the sequence number of the next one.
    seq: u64,
    /// Subscribers after the last sweep for gone ones.
    swept_at: usize,
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
        lock(&self.state)
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
    /// restart, a pool with no worker, or an actor that has stopped, which is then removed).
    pub undelivered: u64,
    /// Current subscribers.
    pub subscribers: usize,
}

/// Clears `delivering` even if a `deliver` closure panics, so the topic is never wedged; the
/// jobs left behind are counted as undelivered.
struct Draining<'a, T>(&'a Inner<T>);

impl<T> Drop for Draining<'_, T> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut state = self.0.lock();
            state.delivering = false;
            let lost = state.jobs.len() as u64;
            state.jobs.clear();
            drop(state);
            self.0.undelivered.fetch_add(lost, Ordering::Relaxed);
        }
    }
}

impl<T: Clone + Send + 'static> Inner<T> {
    /// Queues `job` and, if nobody is delivering, drains the queue on this thread. Returns how
    /// many subscribers took the publish numbered `mine`, if this thread delivered it.
    fn run<'a>(
        &'a self,
        mut state: MutexGuard<'a, State<T>>,
        job: Job<T>,
        mine: u64,
    ) -> Option<usize> {
        state.jobs.push_back(job);
        if state.delivering {
            return None;
        }
        state.delivering = true;
        let guard = Draining(self);
        let mut taken = None;
        loop {
            let Some(job) = state.jobs.pop_front() else {
                state.delivering = false;
                break;
            };
            drop(state);
            let gone = self.deliver(job, mine, &mut taken);
            state = self.lock();
            if !gone.is_empty() {
                Arc::make_mut(&mut state.subscribers).retain(|s| !gone.contains(&s.id));
            }
        }
        drop(state);
        drop(guard);
        taken
    }

    /// Delivers one job outside the lock. Returns the subscribers found gone for good.
    fn deliver(&self, job: Job<T>, mine: u64, taken: &mut Option<usize>) -> Vec<u64> {
        let mut gone = Vec::new();
        let mut delivered = 0;
        let mut offer = |s: &Sub<T>, event: Event<T>| match (s.deliver)(event) {
            Ok(()) => delivered += 1,
            Err(SendError::Full { .. } | SendError::OwnMailboxFull { .. }) => {
                s.shed.fetch_add(1, Ordering::Relaxed);
                self.shed.fetch_add(1, Ordering::Relaxed);
            }
            Err(SendError::Stopped(_) | SendError::Remote(_)) => {
                self.undelivered.fetch_add(1, Ordering::Relaxed);
                if (s.gone)() {
                    gone.push(s.id);
                }
            }
        };
        match job {
            Job::Publish { seq, event, to } => {
                for s in to.iter() {
                    offer(s, Event::Published(event.clone()));
                }
                if seq == mine {
                    *taken = Some(delivered);
                }
            }
            Job::Replay { to, events } => {
                for event in events {
                    offer(&to, Event::Published(event));
                }
            }
            Job::Close { reason, to } => {
                for s in to.iter() {
                    offer(s, Event::Closed(reason.clone()));
                }
            }
        }
        gone
    }
}

impl<T: Clone + Send + 'static> Topic<T> {
    pub(crate) fn new(buffer: usize) -> (Topic<T>, Publisher<T>) {
        let inner = Arc::new(Inner {
            state: Mutex::new(State {
                subscribers: Arc::new(Vec::new()),
                recent: VecDeque::new(),
                closed: None,
                jobs: VecDeque::new(),
                delivering: false,
                seq: 0,
                swept_at: 0,
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
        let mut state = self.inner.lock();
        if state.closed.is_some() {
            return;
        }
        state.closed = Some(reason.clone());
        let to = std::mem::take(&mut state.subscribers);
        state.recent.clear();
        let job = Job::Close {
            reason: reason.clone(),
            to,
        };
        self.inner.run(state, job, u64::MAX);
    }

    /// Subscribes `handle` (an [`Addr`], a [`Child`](crate::Child), a pool, ...): `deliver`
    /// hands each event to it, usually by casting to one of its handlers:
    ///
    /// `topic.subscribe(addr.clone(), |a, event| a.on_traffic(event))`
    ///
    /// The buffered recent events are delivered first. A delivery refused because the
    /// subscriber's mailbox is full is counted as shed ([`Topic::stats`]). One refused because
    /// the subscriber is not running is counted as undelivered; the subscriber stays if it may
    /// come back (a [`Child`](crate::Child) or a pool after a restart) and is removed if it has
    /// stopped for good (an [`Addr`] whose actor stopped), so subscribers that exit leave
    /// nothing behind. If the topic has closed, `Event::Closed` is delivered at once.
    pub fn subscribe<H, F>(&self, handle: H, deliver: F) -> Subscription
    where
        H: Subscriber,
        F: Fn(&H, Event<T>) -> Result<(), SendError> + Send + Sync + 'static,
    {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let handle = Arc::new(handle);
        let sub = Arc::new(Sub {
            id,
            deliver: {
                let handle = handle.clone();
                Box::new(move |event| deliver(&handle, event))
            },
            gone: Box::new(move || handle.is_gone()),
            shed: AtomicU64::new(0),
        });
        let mut state = self.inner.lock();
        if let Some(reason) = state.closed.clone() {
            drop(state);
            let _ = (sub.deliver)(Event::Closed(reason));
            return Subscription(id);
        }
        // Amortised sweep: subscribers that stopped while nothing was published are removed
        // once the list has doubled since the last sweep.
        if state.subscribers.len() >= (2 * state.swept_at).max(16) {
            Arc::make_mut(&mut state.subscribers).retain(|s| !(s.gone)());
            state.swept_at = state.subscribers.len();
        }
        Arc::make_mut(&mut state.subscribers).push(sub.clone());
        if state.recent.is_empty() {
            return Subscription(id);
        }
        let events = state.recent.iter().cloned().collect();
        self.inner
            .run(state, Job::Replay { to: sub, events }, u64::MAX);
        Subscription(id)
    }

    /// Cancels a subscription; `false` if it was not (or no longer) subscribed.
    pub fn unsubscribe(&self, subscription: Subscription) -> bool {
        let mut state = self.inner.lock();
        let before = state.subscribers.len();
        Arc::make_mut(&mut state.subscribers).retain(|s| s.id != subscription.0);
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
            .map(|s| s.shed.load(Ordering::Relaxed))
    }
}

impl<T: Clone + Send + 'static> Publisher<T> {
    /// Publishes `event` to every subscriber, in subscription order; publishes from one
    /// publisher, and from all publishers of a topic, reach every subscriber in one order.
    ///
    /// Returns how many subscribers took the event. If another delivery is in progress (on
    /// another thread, or this publish comes from inside a subscriber's delivery), the event
    /// is queued behind it and the count is of the subscribers it will be offered to.
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
        let seq = state.seq;
        state.seq += 1;
        let to = state.subscribers.clone();
        let offered = to.len();
        let job = Job::Publish { seq, event, to };
        Ok(self.inner.run(state, job, seq).unwrap_or(offered))
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
