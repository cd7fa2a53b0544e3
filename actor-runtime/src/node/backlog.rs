//! Messages from another node that wait behind a large one to the same actor.
//!
//! A message too large for one frame arrives in fragments, interleaved with other traffic,
//! and decoding one of many megabytes takes milliseconds (tens of them for a `Vec<u8>`,
//! which MessagePack decodes byte by byte). Done by the connection's reader, the decoding
//! would hold up everything read after it, for every actor; and a small message sent after a
//! large one to the same actor would arrive whole first.
//!
//! So each actor (key) that a message is on its way to gets a queue here, from the first
//! fragment of that message on: what comes after for the same actor (a message, a link exit,
//! a `Down` of its sender) waits in the queue behind it. When the message is whole, a worker
//! of the key's own delivers it (decoding it on a blocking thread if it is large) and then
//! the rest of the queue, in order. Messages to other actors go on meanwhile, delivered by
//! the reader as before.
//!
//! A message that holds handles to actors of a third node, one this node is not connected
//! to, is queued the same way, behind a job that connects to that node first: a worker of
//! the key's makes the connection (or gives up), and only then hands on the message and what
//! came after it, so the handles arrive connected and the sender's order holds.
//!
//! The bytes waiting in queues are bounded: when they reach the limit the reader waits for
//! room, and reads nothing meanwhile, so a peer that floods is slowed by TCP.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use tokio::sync::{Notify, Semaphore};

use super::envelope::{NodeRef, SignalMsg};
use crate::sync::lock;

/// Messages of at least this many bytes are decoded off the reader, on a blocking thread.
pub(crate) const OFF_READER: usize = 256 << 10;

/// What a small job weighs against the room: a signal, or a message shorter than this.
const MIN_WEIGHT: usize = 64;

/// Whose order a job keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    /// Messages and signals to the local actor with this id.
    Actor(u64),
    /// The reply to the call with this correlation id.
    Reply(u64),
}

/// Something read from the connection, to be handed on.
pub(crate) enum Job {
    /// A whole data message: a cast, a call or a reply.
    Message(Bytes),
    /// A link or monitor signal, decoded.
    Signal(SignalMsg),
    /// A fragmented message that never came whole (refused, or the connection ended).
    Nothing,
    /// Connect to these nodes: what follows for the key holds handles to their actors.
    Connect(Vec<NodeRef>),
}

impl Job {
    /// `true` for a message decoded off the reader.
    pub(crate) fn large(&self) -> bool {
        matches!(self, Job::Message(message) if message.len() >= OFF_READER)
    }

    /// `true` for a job a worker of its key does, never the reader: a large message, or
    /// connecting to other nodes.
    fn off_reader(&self) -> bool {
        self.large() || matches!(self, Job::Connect(_))
    }
}

/// Where a job goes, as the backlog decides.
pub(crate) enum Route {
    /// Nothing for its key waits: the reader hands it on itself.
    Here(Job),
    /// First in its key's queue, which has no worker: a new worker hands it on, then calls
    /// [`Backlog::next`] with its weight until that gives nothing more.
    Worker(Key, Job, u32),
    /// Queued behind what waits for its key.
    Queued,
}

/// A place in a key's queue.
enum Entry {
    Ready(Job, u32),
    /// The message with this fragment id, still arriving.
    Arriving(u64),
}

#[derive(Default)]
struct Queue {
    entries: VecDeque<Entry>,
    /// A worker is handing on this queue's entries.
    worker: bool,
}

#[derive(Default)]
struct State {
    queues: HashMap<Key, Queue>,
    /// Fragmented messages on their way, by fragment id, and the key each holds a place in.
    arriving: HashMap<u64, Key>,
}

/// The queues of one connection's keys that have something waiting or a worker.
pub(crate) struct Backlog {
    state: Mutex<State>,
    /// How many keys have a queue. Only the reader adds to it, so when it reads 0 no queue
    /// exists and it may skip the lock.
    busy: AtomicUsize,
    /// Room left, in bytes, for messages that wait or are decoded off the reader.
    room: Semaphore,
    /// The room when empty.
    capacity: u32,
    /// Told when the last queue goes.
    idle: Notify,
}

impl Backlog {
    /// A backlog for messages of at most `max_message` bytes: room for two of the largest.
    pub(crate) fn new(max_message: usize) -> Backlog {
        let capacity =
            u32::try_from(max_message.saturating_mul(2).max(OFF_READER * 4)).unwrap_or(u32::MAX);
        Backlog {
            state: Mutex::new(State::default()),
            busy: AtomicUsize::new(0),
            room: Semaphore::new(capacity as usize),
            capacity,
            idle: Notify::new(),
        }
    }

    /// `true` if a message of `len` bytes can be handed on at once, by the reader, with no
    /// look at its key: it is small and no key has a queue.
    pub(crate) fn clear_for(&self, len: usize) -> bool {
        len < OFF_READER && self.busy.load(Ordering::Acquire) == 0
    }

    fn weight(&self, job: &Job) -> u32 {
        let bytes = match job {
            Job::Message(message) => message.len().max(MIN_WEIGHT),
            Job::Signal(_) | Job::Nothing | Job::Connect(_) => MIN_WEIGHT,
        };
        u32::try_from(bytes).unwrap_or(u32::MAX).min(self.capacity)
    }

    /// Waits for room for `weight` bytes; `false` if there will never be any.
    async fn room_for(&self, weight: u32) -> bool {
        match self.room.acquire_many(weight).await {
            Ok(permits) => {
                permits.forget();
                true
            }
            // The semaphore is never closed.
            Err(_) => false,
        }
    }

    /// Decides where a whole message or a signal for `key` goes. One that is not handed on
    /// at once first waits for room.
    pub(crate) async fn route(&self, key: Key, job: Job) -> Route {
        let off_reader = job.off_reader();
        if !off_reader && self.busy.load(Ordering::Acquire) == 0 {
            return Route::Here(job);
        }
        let weight = self.weight(&job);
        if !self.room_for(weight).await {
            return Route::Here(job);
        }
        let mut state = lock(&self.state);
        if let Some(queue) = state.queues.get_mut(&key) {
            queue.entries.push_back(Entry::Ready(job, weight));
            return Route::Queued;
        }
        if off_reader {
            state.queues.insert(
                key,
                Queue {
                    entries: VecDeque::new(),
                    worker: true,
                },
            );
            self.busy.fetch_add(1, Ordering::AcqRel);
            return Route::Worker(key, job, weight);
        }
        drop(state);
        self.room.add_permits(weight as usize);
        Route::Here(job)
    }

    /// The first fragment of the message `id`, for `key`, arrived: what comes after for that
    /// key waits behind it.
    pub(crate) fn arriving(&self, id: u64, key: Key) {
        let mut state = lock(&self.state);
        state.arriving.insert(id, key);
        state
            .queues
            .entry(key)
            .or_insert_with(|| {
                self.busy.fetch_add(1, Ordering::AcqRel);
                Queue::default()
            })
            .entries
            .push_back(Entry::Arriving(id));
    }

    /// `true` if the message `id` holds a place in a queue.
    pub(crate) fn is_arriving(&self, id: u64) -> bool {
        lock(&self.state).arriving.contains_key(&id)
    }

    /// The message `id` came whole (`job`), or never will ([`Job::Nothing`]): it takes the
    /// place it holds, if it holds one.
    pub(crate) async fn arrived(&self, id: u64, job: Job) -> Route {
        let weight = self.weight(&job);
        if !self.room_for(weight).await {
            return Route::Here(job);
        }
        let mut state = lock(&self.state);
        let place = state.arriving.remove(&id).and_then(|key| {
            let queue = state.queues.get_mut(&key)?;
            let at = queue
                .entries
                .iter()
                .position(|entry| matches!(entry, Entry::Arriving(i) if *i == id))?;
            Some((key, queue, at))
        });
        let Some((key, queue, at)) = place else {
            drop(state);
            self.room.add_permits(weight as usize);
            return Route::Here(job);
        };
        if at == 0 && !queue.worker {
            queue.entries.pop_front();
            queue.worker = true;
            return Route::Worker(key, job, weight);
        }
        queue.entries[at] = Entry::Ready(job, weight);
        Route::Queued
    }

    /// The fragment ids of every message still arriving (when the connection ends).
    pub(crate) fn still_arriving(&self) -> Vec<u64> {
        lock(&self.state).arriving.keys().copied().collect()
    }

    /// A worker of `key` handed on a job of weight `done`: the next job of its queue, or
    /// `None` when the worker ends (the queue is empty, or its next message is still
    /// arriving).
    pub(crate) fn next(&self, key: Key, done: u32) -> Option<(Job, u32)> {
        self.room.add_permits(done as usize);
        let mut state = lock(&self.state);
        let queue = state.queues.get_mut(&key)?;
        match queue.entries.pop_front() {
            Some(Entry::Ready(job, weight)) => return Some((job, weight)),
            Some(arriving @ Entry::Arriving(_)) => {
                queue.entries.push_front(arriving);
                queue.worker = false;
                return None;
            }
            None => {}
        }
        state.queues.remove(&key);
        drop(state);
        if self.busy.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.idle.notify_waiters();
        }
        None
    }

    /// Waits until no key has a queue: everything read has been handed on.
    pub(crate) async fn settled(&self) {
        loop {
            let notified = self.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.busy.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(len: usize) -> Job {
        Job::Message(Bytes::from(vec![0; len]))
    }

    fn len(job: &Job) -> usize {
        match job {
            Job::Message(m) => m.len(),
            Job::Signal(_) | Job::Nothing | Job::Connect(_) => 0,
        }
    }

    fn full(backlog: &Backlog) -> bool {
        backlog.room.available_permits() == backlog.capacity as usize
    }

    #[tokio::test]
    async fn small_jobs_go_here_while_no_queue_exists() {
        let backlog = Backlog::new(1 << 20);
        assert!(backlog.clear_for(100));
        assert!(!backlog.clear_for(OFF_READER));
        assert!(matches!(
            backlog.route(Key::Actor(1), message(100)).await,
            Route::Here(_)
        ));
    }

    #[tokio::test]
    async fn jobs_behind_a_large_one_queue_in_order_for_its_key_only() {
        let backlog = Backlog::new(1 << 20);
        let Route::Worker(key, first, weight) =
            backlog.route(Key::Actor(1), message(OFF_READER)).await
        else {
            panic!("a large message gets a worker");
        };
        assert_eq!((key, len(&first)), (Key::Actor(1), OFF_READER));
        assert!(!backlog.clear_for(100));
        assert!(matches!(
            backlog.route(Key::Actor(1), message(10)).await,
            Route::Queued
        ));
        assert!(matches!(
            backlog.route(Key::Actor(1), message(20)).await,
            Route::Queued
        ));
        // Another actor's message is not held up.
        assert!(matches!(
            backlog.route(Key::Actor(2), message(30)).await,
            Route::Here(_)
        ));
        let (second, w2) = backlog.next(Key::Actor(1), weight).expect("queued");
        assert_eq!(len(&second), 10);
        let (third, w3) = backlog.next(Key::Actor(1), w2).expect("queued");
        assert_eq!(len(&third), 20);
        assert!(backlog.next(Key::Actor(1), w3).is_none());
        assert!(backlog.clear_for(100));
        assert!(full(&backlog), "all the room came back");
        tokio::time::timeout(std::time::Duration::from_secs(5), backlog.settled())
            .await
            .expect("settled with no queue");
    }

    #[tokio::test]
    async fn a_connect_job_gets_a_worker_and_what_follows_waits_behind_it() {
        let backlog = Backlog::new(1 << 20);
        let key = Key::Reply(3);
        let Route::Worker(_, Job::Connect(nodes), weight) =
            backlog.route(key, Job::Connect(Vec::new())).await
        else {
            panic!("connecting is never done by the reader");
        };
        assert!(nodes.is_empty());
        assert!(matches!(
            backlog.route(key, message(10)).await,
            Route::Queued
        ));
        let (next, weight) = backlog.next(key, weight).expect("queued");
        assert_eq!(len(&next), 10);
        assert!(backlog.next(key, weight).is_none());
        assert!(backlog.clear_for(100));
        assert!(full(&backlog));
    }

    #[tokio::test]
    async fn what_follows_a_message_still_arriving_waits_for_it_in_its_place() {
        let backlog = Backlog::new(1 << 20);
        let key = Key::Actor(5);
        backlog.arriving(1, key);
        assert!(backlog.is_arriving(1));
        assert!(matches!(
            backlog.route(key, message(10)).await,
            Route::Queued
        ));
        backlog.arriving(2, key);
        assert!(matches!(
            backlog.route(key, message(20)).await,
            Route::Queued
        ));
        // The second large message comes whole first: it waits for the first.
        assert!(matches!(
            backlog.arrived(2, message(2000)).await,
            Route::Queued
        ));
        let Route::Worker(_, first, weight) = backlog.arrived(1, message(1000)).await else {
            panic!("the head of the queue gets a worker");
        };
        let mut order = vec![len(&first)];
        let mut done = weight;
        while let Some((job, weight)) = backlog.next(key, done) {
            order.push(len(&job));
            done = weight;
        }
        assert_eq!(order, [1000, 10, 2000, 20]);
        assert!(!backlog.is_arriving(1) && !backlog.is_arriving(2));
        assert!(backlog.clear_for(100));
        assert!(full(&backlog));
    }

    #[tokio::test]
    async fn a_worker_stops_at_a_message_still_arriving_and_the_message_restarts_it() {
        let backlog = Backlog::new(1 << 20);
        let key = Key::Actor(6);
        let Route::Worker(_, _, weight) = backlog.route(key, message(OFF_READER)).await else {
            panic!("a large message gets a worker");
        };
        backlog.arriving(9, key);
        assert!(backlog.next(key, weight).is_none(), "the worker ends");
        assert!(!backlog.clear_for(100), "the queue stays for the message");
        let Route::Worker(_, Job::Nothing, weight) = backlog.arrived(9, Job::Nothing).await else {
            panic!("a new worker takes the message");
        };
        assert!(backlog.next(key, weight).is_none());
        assert!(backlog.clear_for(100));
        assert!(
            matches!(backlog.arrived(9, Job::Nothing).await, Route::Here(_)),
            "no place held"
        );
        assert!(full(&backlog));
    }

    #[tokio::test]
    async fn the_reader_waits_for_room_when_the_backlog_is_full() {
        let backlog = Backlog::new(OFF_READER);
        // Room for four large messages at the least.
        let mut weights = Vec::new();
        for key in 0..4 {
            let Route::Worker(_, _, weight) =
                backlog.route(Key::Actor(key), message(OFF_READER)).await
            else {
                panic!("a large message gets a worker");
            };
            weights.push(weight);
        }
        let fifth = backlog.route(Key::Actor(9), message(OFF_READER));
        tokio::pin!(fifth);
        assert!(
            futures_util::FutureExt::now_or_never(fifth.as_mut()).is_none(),
            "no room left"
        );
        assert!(backlog.next(Key::Actor(0), weights[0]).is_none());
        assert!(matches!(fifth.await, Route::Worker(..)));
    }

    #[tokio::test]
    async fn settled_waits_for_the_last_queue() {
        let backlog = std::sync::Arc::new(Backlog::new(1 << 20));
        let Route::Worker(key, _, weight) = backlog.route(Key::Reply(7), message(OFF_READER)).await
        else {
            panic!("a large message gets a worker");
        };
        let waiting = tokio::spawn({
            let backlog = backlog.clone();
            async move { backlog.settled().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        assert!(backlog.next(key, weight).is_none());
        tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
            .await
            .expect("settled once the worker ended")
            .expect("no panic");
    }
}
