//! The process record: one per actor, shared by its task and every handle to it.
//!
//! It holds the mailbox lanes, the links and monitors, and the exit reason once the actor has
//! stopped, all behind one lock that is only ever held for a few instructions and never across
//! user code.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, Waker};

use tokio::task::AbortHandle;

use crate::error::SendError;
use crate::exit::{Down, Exit, ExitReason, MonitorRef, Signal, SignalLane};
use crate::mailbox::{Inbox, Lanes, is_link_exit_from};
use crate::pid::Pid;
use crate::process::{Peer, Process, ProcessInfo, SupervisorInfo};
use crate::sync::lock;

use crate::tables::TablesRef;
use crate::{stats, table, telemetry};

/// An actor that has not been scheduled yet: its state waits here until the first message
/// or signal arrives, so an actor that was spawned and never used costs no task.
pub(crate) trait Dormant: Send {
    /// Spawns the actor's task; returns the handle that can abort it.
    fn start(self: Box<Self>) -> AbortHandle;
}

/// Links, monitors and the registered name: most actors have none, so they live in a box
/// allocated on first use.
#[derive(Default)]
struct Relations {
    links: Vec<Peer>,
    /// Monitors other processes hold on this one.
    watchers: Vec<(MonitorRef, Weak<dyn Process>)>,
    /// Monitors this process holds on others, removed from them when it stops.
    monitoring: Vec<(MonitorRef, Peer)>,
    name: Option<Arc<str>>,
    /// Tasks waiting for this actor's exit (`wait_for_exit`, dying calls, shutdown).
    exit_waiters: Vec<Waker>,
    /// The actor this one was started linked to (kept here: linked actors have this record).
    parent: Option<Pid>,
    /// Run once with the exit reason when the actor stops (topics it owns close).
    exit_hooks: Vec<ExitHook>,
    /// What a supervisor publishes of its state for introspection.
    supervisor: Option<Box<SupervisorInfo>>,
    /// The span of the message being handled, while message timing is on and a subscriber
    /// records spans: the actor's task enters it around each poll.
    span: Option<tracing::Span>,
}

/// The actor's state of scheduling: never started (its state waits, dormant), or running as a
/// tokio task that `kill` can abort. One field for both keeps the record small.
enum Task {
    None,
    Dormant(Box<dyn Dormant>),
    Running(AbortHandle),
}

impl Task {
    fn take_dormant(&mut self) -> Option<Box<dyn Dormant>> {
        if !matches!(self, Task::Dormant(_)) {
            return None;
        }
        match std::mem::replace(self, Task::None) {
            Task::Dormant(d) => Some(d),
            other => {
                *self = other;
                None
            }
        }
    }
}

/// Work the runtime does when an actor stops, beyond links and monitors.
pub(crate) type ExitHook = Box<dyn FnOnce(&ExitReason) + Send>;

/// `repr(C)`: what a sender reads or writes per message first (the exit, the task, the
/// lanes' queue), then what it rarely touches, which keeps the sender's lines apart from the
/// line after the lock that the actor writes per message (see `ProcessRecord`).
#[repr(C)]
struct Inner<M> {
    /// `Some` once the actor has stopped.
    exit: Option<ExitReason>,
    task: Task,
    lanes: Lanes<M>,
    relations: Option<Box<Relations>>,
    refused: u64,
    kill_requested: bool,
}

impl<M> Inner<M> {
    fn relations(&mut self) -> &mut Relations {
        self.relations.get_or_insert_with(Box::default)
    }
}

/// One actor's shared state. `M` is the actor's message type.
///
/// `repr(C)` keeps what the actor touches per message (`consumed` and the flags it checks)
/// together after the lock and the mailbox, off the cache line of the lock word that every
/// sender takes: with them beside the lock, a producer pushing while the actor drains its
/// batch made every check a cache miss and halved the "tell" row. `Inner` and `Lanes` are
/// `repr(C)` as well, ordered so that what a sender writes per message ends a full cache line
/// before `consumed`: in the order rustc chose, `high_water` sat 32 bytes before it, whether
/// the two shared a line depended on the record's address, and "tell" measured between 6 and
/// 10 M/s from one build to the next (13 M/s with the order fixed).
#[repr(C)]
pub(crate) struct ProcessRecord<M> {
    /// The id of its pid (a record is always of this process: the rest of the pid is known).
    id: u64,
    /// The tables of the node it runs on (read when a send fails and at exit).
    tables: TablesRef,
    inner: Mutex<Inner<M>>,
    /// Messages the actor has taken since it started. Written only by the actor's task;
    /// senders read it when their snapshot says the mailbox is full.
    consumed: AtomicU64,
    /// The stamp of the oldest queued notification (`u64::MAX` if none): it is due once
    /// `consumed` reaches it.
    ordered_at: AtomicU64,
    /// Set while the urgent lane is non-empty: the actor's per-message check is one load.
    urgent: AtomicBool,
    /// Set while senders wait for room, so the actor takes the lock to wake them only then.
    waiting: AtomicBool,
    /// The actor traps exits: exit signals from links (but its parent's) are notifications.
    traps_exits: bool,
    /// The mailbox capacity (a `u32` here, beside the flags, keeps the record small).
    capacity: u32,
}

impl<M> std::fmt::Debug for ProcessRecord<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessRecord")
            .field("id", &self.id)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

/// Why an actor could not take a name.
pub(crate) enum NameConflict {
    Stopped(ExitReason),
    Named(Arc<str>),
}

/// What the actor's receive loop gets next.
pub(crate) enum Next<M> {
    Signal(Signal),
    Message(M),
    /// The mailbox is empty and the actor was asked to finish.
    Finished(ExitReason),
}

/// Mailbox figures, as returned by [`Addr::mailbox`](crate::Addr::mailbox).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MailboxStats {
    /// Messages queued and not yet processed.
    pub len: usize,
    /// The mailbox capacity.
    pub capacity: usize,
    /// Sends refused because the mailbox was full, since the actor started.
    pub refused: u64,
}

impl<M: Send + 'static> ProcessRecord<M> {
    pub(crate) fn new(tables: TablesRef, capacity: usize, traps_exits: bool) -> Arc<Self> {
        tables.joined();
        let cell = Arc::new(ProcessRecord {
            id: crate::pid::next_id(),
            tables,
            capacity: u32::try_from(capacity.max(1)).unwrap_or(u32::MAX),
            traps_exits,
            urgent: AtomicBool::new(false),
            ordered_at: AtomicU64::new(u64::MAX),
            consumed: AtomicU64::new(0),
            waiting: AtomicBool::new(false),
            inner: Mutex::new(Inner {
                lanes: Lanes::new(),
                exit: None,
                relations: None,
                task: Task::None,
                kill_requested: false,
                refused: 0,
            }),
        });
        let erased: Arc<dyn Process> = cell.clone();
        table::insert(cell.pid(), Arc::downgrade(&erased));
        cell
    }

    pub(crate) fn pid(&self) -> Pid {
        Pid::local(self.id)
    }

    /// The tables of the node it runs on.
    pub(crate) fn tables(&self) -> &TablesRef {
        &self.tables
    }

    fn lock(&self) -> MutexGuard<'_, Inner<M>> {
        lock(&self.inner)
    }

    fn capacity(&self) -> usize {
        self.capacity as usize
    }

    fn consumed(&self) -> u64 {
        self.consumed.load(Ordering::Acquire)
    }

    /// Fail-fast send: enqueue or say why not.
    pub(crate) fn try_send(&self, msg: M) -> Result<(), (M, SendError)> {
        self.push(msg, true)
    }

    /// As `try_send`, but a refusal is not counted: a pool trying its workers in turn counts
    /// once, for the whole pool, if none takes the message.
    pub(crate) fn try_send_uncounted(&self, msg: M) -> Result<(), (M, SendError)> {
        self.push(msg, false)
    }

    /// `true` if a message would fit now.
    pub(crate) fn has_room(&self) -> bool {
        let inner = self.lock();
        inner.exit.is_none() && inner.lanes.len(self.consumed()) < self.capacity()
    }

    fn push(&self, msg: M, count: bool) -> Result<(), (M, SendError)> {
        let mut inner = self.lock();
        if let Some(reason) = &inner.exit {
            let reason = reason.clone();
            drop(inner);
            if count {
                self.tables.counters.undelivered();
            }
            return Err((msg, SendError::Stopped(reason)));
        }
        match inner.lanes.push(msg, self.capacity(), || self.consumed()) {
            Ok(waker) => {
                let dormant = inner.task.take_dormant();
                drop(inner);
                self.wake(waker, dormant);
                Ok(())
            }
            Err(msg) => {
                if count {
                    inner.refused += 1;
                }
                drop(inner);
                if count {
                    self.tables.counters.refused();
                }
                Err((
                    msg,
                    SendError::Full {
                        capacity: self.capacity(),
                    },
                ))
            }
        }
    }

    /// Waiting send: enqueue, or park until the actor takes a message. A waiting send to
    /// oneself with a full mailbox would wait forever: it fails instead.
    pub(crate) fn poll_send(
        &self,
        cx: &mut Context<'_>,
        msg: &mut Option<M>,
    ) -> Poll<Result<(), SendError>> {
        let Some(m) = msg.take() else {
            return Poll::Ready(Ok(()));
        };
        let mut inner = self.lock();
        if let Some(reason) = &inner.exit {
            let reason = reason.clone();
            drop(inner);
            drop(m);
            self.tables.counters.undelivered();
            return Poll::Ready(Err(SendError::Stopped(reason)));
        }
        match inner.lanes.push(m, self.capacity(), || self.consumed()) {
            Ok(waker) => {
                let dormant = inner.task.take_dormant();
                drop(inner);
                self.wake(waker, dormant);
                Poll::Ready(Ok(()))
            }
            Err(m) if Pid::current() == Some(self.pid()) => {
                inner.refused += 1;
                drop(inner);
                drop(m);
                self.tables.counters.refused();
                Poll::Ready(Err(SendError::OwnMailboxFull {
                    capacity: self.capacity(),
                }))
            }
            Err(m) => {
                inner.lanes.park_waiter(cx.waker());
                self.waiting.store(true, Ordering::Release);
                *msg = Some(m);
                Poll::Pending
            }
        }
    }

    /// The actor's receive: due signals first, then the current batch, then the next batch.
    ///
    /// The common case, no signal due and a message in the batch, is inlined into the actor's
    /// loop; the rest is out of line (measured with callgrind: the out-of-line prologue of the
    /// whole function cost as much as the work per message).
    #[inline]
    pub(crate) fn poll_next(&self, cx: &mut Context<'_>, inbox: &mut Inbox<M>) -> Poll<Next<M>> {
        let signal_due = self.urgent.load(Ordering::Acquire)
            || inbox.consumed >= self.ordered_at.load(Ordering::Acquire);
        if !signal_due {
            if let Some(msg) = inbox.batch.pop_front() {
                self.took_one(inbox);
                return Poll::Ready(Next::Message(msg));
            }
        }
        self.poll_next_slow(cx, inbox, signal_due)
    }

    #[inline(never)]
    fn poll_next_slow(
        &self,
        cx: &mut Context<'_>,
        inbox: &mut Inbox<M>,
        signal_due: bool,
    ) -> Poll<Next<M>> {
        if signal_due {
            let mut inner = self.lock();
            if let Some(signal) = self.pop_signal(&mut inner, inbox.consumed) {
                return Poll::Ready(Next::Signal(signal));
            }
        }
        if let Some(msg) = inbox.batch.pop_front() {
            self.took_one(inbox);
            return Poll::Ready(Next::Message(msg));
        }
        let mut inner = self.lock();
        if let Some(signal) = self.pop_signal(&mut inner, inbox.consumed) {
            return Poll::Ready(Next::Signal(signal));
        }
        inner.lanes.take_batch(&mut inbox.batch, inbox.consumed);
        let waiters = if inbox.batch.is_empty() {
            inner.lanes.park_receiver(cx.waker());
            // Empty: every waiting sender has room now (a waker woken for an earlier message
            // may have belonged to a sender that gave up).
            self.waiting.store(false, Ordering::Release);
            inner.lanes.take_waiters()
        } else {
            Vec::new()
        };
        drop(inner);
        wake_all(waiters);
        match inbox.batch.pop_front() {
            Some(msg) => {
                self.took_one(inbox);
                Poll::Ready(Next::Message(msg))
            }
            None => Poll::Pending,
        }
    }

    /// Wakes every waiting sender if there is any (one load otherwise): called whenever the
    /// actor's task suspends, so room it made is never left unannounced.
    pub(crate) fn wake_waiters(&self) {
        if self.waiting.load(Ordering::Acquire) {
            let mut inner = self.lock();
            self.waiting.store(false, Ordering::Release);
            let waiters = inner.lanes.take_waiters();
            drop(inner);
            wake_all(waiters);
        }
    }

    /// The actor took one message: its room is free now. Waiting senders are woken together
    /// once a quarter of the capacity has been taken since the last wake-up.
    #[inline]
    fn took_one(&self, inbox: &mut Inbox<M>) {
        inbox.consumed += 1;
        // Only this task writes `consumed`: a plain store, no read-modify-write.
        self.consumed.store(inbox.consumed, Ordering::Release);
        if self.waiting.load(Ordering::Acquire) {
            inbox.since_wake += 1;
            if inbox.since_wake >= (self.capacity / 4).max(1) {
                inbox.since_wake = 0;
                self.wake_waiters();
            }
        }
    }

    /// Wakes the actor after a push: its parked task, or its dormant state into a task.
    fn wake(&self, waker: Option<Waker>, dormant: Option<Box<dyn Dormant>>) {
        if let Some(w) = waker {
            w.wake();
        }
        if let Some(d) = dormant {
            self.set_abort(d.start());
        }
    }

    /// Parks a freshly initialised actor until its first message or signal; starts it at
    /// once if one arrived during `#[init]`.
    pub(crate) fn set_dormant(&self, dormant: Box<dyn Dormant>) {
        let mut inner = self.lock();
        let start_now = inner.exit.is_none()
            && (inner.lanes.len(self.consumed()) > 0
                || inner.lanes.has_signals()
                || inner.kill_requested);
        if start_now {
            drop(inner);
            self.set_abort(dormant.start());
        } else if inner.exit.is_some() {
            drop(inner);
            drop(dormant);
        } else {
            inner.task = Task::Dormant(dormant);
        }
    }

    fn pop_signal(&self, inner: &mut Inner<M>, consumed: u64) -> Option<Signal> {
        let signal = inner.lanes.pop_signal(consumed);
        if signal.is_some() {
            self.sync_flags(inner);
        }
        signal
    }

    /// Publishes the lanes' state to the flags the actor checks before every message.
    fn sync_flags(&self, inner: &Inner<M>) {
        self.urgent
            .store(inner.lanes.has_urgent(), Ordering::Release);
        self.ordered_at
            .store(inner.lanes.next_ordered(), Ordering::Release);
    }

    /// Drops a queued exit signal that came over the link to `peer` (`unlink`).
    pub(crate) fn cancel_link_exit(&self, peer: Pid) {
        let mut inner = self.lock();
        inner.lanes.cancel_signals(|s| is_link_exit_from(s, peer));
        self.sync_flags(&inner);
    }

    /// Drops a queued `Down` of `monitor` (`demonitor`).
    pub(crate) fn cancel_down(&self, monitor: MonitorRef) {
        let mut inner = self.lock();
        inner
            .lanes
            .cancel_signals(|s| matches!(s, Signal::Down(d) if d.monitor == monitor));
        self.sync_flags(&inner);
    }

    pub(crate) fn stats(&self) -> MailboxStats {
        let inner = self.lock();
        MailboxStats {
            len: inner.lanes.len(self.consumed()),
            capacity: self.capacity(),
            refused: inner.refused,
        }
    }

    /// Resolves once the actor has stopped, with its exit reason.
    pub(crate) fn poll_exit(&self, cx: &mut Context<'_>) -> Poll<ExitReason> {
        let mut inner = self.lock();
        match &inner.exit {
            Some(reason) => Poll::Ready(reason.clone()),
            None => {
                let waiters = &mut inner.relations().exit_waiters;
                if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
                    waiters.push(cx.waker().clone());
                }
                Poll::Pending
            }
        }
    }

    /// Records the task that runs the actor, so [`Process::kill`] can abort it.
    pub(crate) fn set_abort(&self, handle: AbortHandle) {
        let mut inner = self.lock();
        if inner.kill_requested || inner.exit.is_some() {
            handle.abort();
        }
        if inner.exit.is_none() {
            inner.task = Task::Running(handle);
        }
    }

    pub(crate) fn kill_requested(&self) -> bool {
        self.lock().kill_requested
    }

    /// Records the registered name. An actor has at most one name.
    pub(crate) fn set_name(&self, name: Arc<str>) -> Result<(), NameConflict> {
        let mut inner = self.lock();
        if let Some(reason) = &inner.exit {
            return Err(NameConflict::Stopped(reason.clone()));
        }
        let relations = inner.relations();
        if let Some(current) = &relations.name {
            return Err(NameConflict::Named(current.clone()));
        }
        relations.name = Some(name);
        Ok(())
    }

    /// Runs `hook` when the actor stops, or now if it has stopped already.
    pub(crate) fn on_exit(&self, hook: ExitHook) {
        let mut inner = self.lock();
        if let Some(reason) = inner.exit.clone() {
            drop(inner);
            hook(&reason);
        } else {
            inner.relations().exit_hooks.push(hook);
        }
    }

    pub(crate) fn set_parent(&self, parent: Pid) {
        self.lock().relations().parent = Some(parent);
    }

    pub(crate) fn parent(&self) -> Option<Pid> {
        self.lock().relations.as_ref().and_then(|r| r.parent)
    }

    /// Sets the span of the message being handled (see `Relations::span`).
    pub(crate) fn set_span(&self, span: Option<tracing::Span>) {
        let mut inner = self.lock();
        if inner.exit.is_none() && (span.is_some() || inner.relations.is_some()) {
            inner.relations().span = span;
        }
    }

    /// The span of the message being handled, if any.
    pub(crate) fn span(&self) -> Option<tracing::Span> {
        self.lock().relations.as_ref()?.span.clone()
    }

    /// Publishes a supervisor's state for introspection (replacing what it published before).
    pub(crate) fn publish_supervisor(&self, info: SupervisorInfo) {
        let mut inner = self.lock();
        if inner.exit.is_none() {
            inner.relations().supervisor = Some(Box::new(info));
        }
    }

    /// Forgets the registered name if it is `name` (after `registry::unregister`).
    pub(crate) fn clear_name(&self, name: &str) {
        let mut inner = self.lock();
        if let Some(r) = inner.relations.as_mut() {
            if r.name.as_deref() == Some(name) {
                r.name = None;
            }
        }
    }

    /// Remembers a monitor this process holds, so it is removed from the target at exit.
    pub(crate) fn add_monitoring(&self, monitor: MonitorRef, target: Peer) {
        self.lock().relations().monitoring.push((monitor, target));
    }

    pub(crate) fn remove_monitoring(&self, monitor: MonitorRef) -> Option<Peer> {
        let mut inner = self.lock();
        let monitoring = &mut inner.relations.as_mut()?.monitoring;
        let at = monitoring.iter().position(|(m, _)| *m == monitor)?;
        Some(monitoring.swap_remove(at).1)
    }

    /// Marks the actor stopped with `reason` and tells everyone who needs to know. Idempotent:
    /// the first reason wins.
    ///
    /// Order matters: the reason is recorded *before* queued messages (and their pending
    /// replies) are dropped, so a caller that sees its reply dropped always finds the reason.
    pub(crate) fn close(&self, reason: ExitReason) {
        let mut inner = self.lock();
        if inner.exit.is_some() {
            return;
        }
        inner.exit = Some(reason.clone());
        self.urgent.store(false, Ordering::Release);
        self.ordered_at.store(u64::MAX, Ordering::Release);
        let refused = inner.refused;
        let high_water = inner.lanes.high_water();
        let (queued, waiters) = inner.lanes.close();
        let relations = inner.relations.take().map(|r| *r).unwrap_or_default();
        let task = std::mem::replace(&mut inner.task, Task::None);
        drop(inner);

        if !queued.is_empty() {
            self.tables.counters.dropped_at_exit(queued.len());
        }
        drop(queued);
        drop(task);
        let Relations {
            links,
            watchers,
            monitoring,
            name,
            exit_waiters,
            parent,
            exit_hooks,
            supervisor: _,
            span: _,
        } = relations;
        telemetry::note_exit(self.pid(), std::any::type_name::<M>(), parent, &reason);
        self.tables.counters.retire(
            std::any::type_name::<M>(),
            self.id,
            &stats::Retired {
                stopped: 1,
                handled: self.consumed(),
                refused,
                high_water,
            },
        );
        // Release the name and the table entry before anyone hears of the exit: a supervisor
        // reacting to the exit may restart the actor under the same name at once.
        if let Some(name) = name {
            self.tables.release(&name, self.pid());
        }
        table::remove(self.pid());
        self.tables.left();
        wake_all(exit_waiters);
        for hook in exit_hooks {
            hook(&reason);
        }
        if reason.is_abnormal() {
            tracing::debug!(pid = %self.pid(), %reason, "actor exited");
        }
        for (_, process) in links {
            if let Some(process) = process.upgrade() {
                process.remove_link(self.pid());
                process.signal(Signal::exit(
                    Exit {
                        from: self.pid(),
                        reason: reason.clone(),
                    },
                    true,
                ));
            }
        }
        for (monitor, watcher) in watchers {
            if let Some(watcher) = watcher.upgrade() {
                watcher.signal(Signal::down(Down {
                    monitor,
                    pid: self.pid(),
                    reason: reason.clone(),
                }));
            }
        }
        for (monitor, (_, target)) in monitoring {
            if let Some(target) = target.upgrade() {
                target.remove_watcher(monitor);
            }
        }
        wake_all(waiters);
    }
}

impl<M: Send + 'static> Process for ProcessRecord<M> {
    fn pid(&self) -> Pid {
        ProcessRecord::pid(self)
    }

    fn signal(&self, signal: Signal) {
        let mut inner = self.lock();
        if inner.exit.is_some() {
            return;
        }
        let parent = inner.relations.as_ref().and_then(|r| r.parent);
        let lane = signal.lane(self.traps_exits, parent);
        let (waker, first) = inner.lanes.push_signal(signal, lane);
        match (lane, first) {
            (SignalLane::Urgent, _) => self.urgent.store(true, Ordering::Release),
            (SignalLane::Ordered, Some(at)) => self.ordered_at.store(at, Ordering::Release),
            (SignalLane::Ordered, None) => {}
        }
        let dormant = inner.task.take_dormant();
        drop(inner);
        self.wake(waker, dormant);
    }

    fn add_link(&self, peer: Pid, process: Weak<dyn Process>) -> Result<(), ExitReason> {
        let mut inner = self.lock();
        if let Some(reason) = &inner.exit {
            return Err(reason.clone());
        }
        let links = &mut inner.relations().links;
        if !links.iter().any(|(p, _)| *p == peer) {
            links.push((peer, process));
        }
        Ok(())
    }

    fn remove_link(&self, peer: Pid) -> bool {
        let mut inner = self.lock();
        if let Some(r) = inner.relations.as_mut() {
            r.links.retain(|(p, _)| *p != peer);
        }
        inner.exit.is_some()
    }

    fn add_watcher(
        &self,
        monitor: MonitorRef,
        watcher: Weak<dyn Process>,
    ) -> Result<(), ExitReason> {
        let mut inner = self.lock();
        if let Some(reason) = &inner.exit {
            return Err(reason.clone());
        }
        inner.relations().watchers.push((monitor, watcher));
        Ok(())
    }

    fn remove_watcher(&self, monitor: MonitorRef) {
        if let Some(r) = self.lock().relations.as_mut() {
            r.watchers.retain(|(m, _)| *m != monitor);
        }
    }

    fn kill(&self) {
        let mut inner = self.lock();
        if inner.exit.is_some() {
            return;
        }
        inner.kill_requested = true;
        if let Task::Running(handle) = &inner.task {
            handle.abort();
        }
        if matches!(inner.task, Task::Dormant(_)) {
            // Never scheduled: nothing to abort, record the exit here.
            drop(inner);
            self.close(ExitReason::Killed);
        }
    }

    fn exit_reason(&self) -> Option<ExitReason> {
        self.lock().exit.clone()
    }

    fn poll_exit(&self, cx: &mut Context<'_>) -> Poll<ExitReason> {
        ProcessRecord::poll_exit(self, cx)
    }

    fn parent(&self) -> Option<Pid> {
        ProcessRecord::parent(self)
    }

    fn tables(&self) -> Option<&TablesRef> {
        Some(&self.tables)
    }

    fn info(&self) -> Option<ProcessInfo> {
        let inner = self.lock();
        if inner.exit.is_some() {
            return None;
        }
        let relations = inner.relations.as_deref();
        Some(ProcessInfo {
            pid: self.pid(),
            message_type: std::any::type_name::<M>(),
            name: relations.and_then(|r| r.name.as_deref().map(str::to_owned)),
            parent: relations.and_then(|r| r.parent),
            links: relations.map_or_else(Vec::new, |r| r.links.iter().map(|(p, _)| *p).collect()),
            monitors: relations.map_or_else(Vec::new, |r| {
                r.monitoring.iter().map(|(_, (p, _))| *p).collect()
            }),
            monitored_by: relations.map_or(0, |r| r.watchers.len()),
            mailbox_len: inner.lanes.len(self.consumed()),
            mailbox_capacity: self.capacity(),
            mailbox_high_water: inner.lanes.high_water(),
            handled: self.consumed(),
            refused: inner.refused,
            scheduled: matches!(inner.task, Task::Running(_)),
            supervisor: relations
                .and_then(|r| r.supervisor.as_deref().map(SupervisorInfo::as_of_now)),
        })
    }
}

fn wake_all(wakers: impl IntoIterator<Item = Waker>) {
    for w in wakers {
        w.wake();
    }
}

#[cfg(test)]
mod tests {
    use super::ProcessRecord;
    use crate::tables::TablesRef;

    /// The "tell" row halved when a field the sender writes per message shared a cache line
    /// with `consumed`, which the actor writes per message: whether it did depended on where
    /// the allocator put the record. Whatever the record's address, the sender's fields of
    /// the lanes must end a full line (64 bytes) before `consumed`.
    #[test]
    fn what_a_sender_writes_stays_a_cache_line_away_from_what_the_actor_writes() {
        let record = ProcessRecord::<u64>::new(TablesRef::DEFAULT, 8, false);
        let base = std::ptr::from_ref(&*record) as usize;
        let inner = record.lock();
        let lanes = std::ptr::from_ref(&inner.lanes) as usize - base;
        let exit = std::ptr::from_ref(&inner.exit) as usize - base;
        let task = std::ptr::from_ref(&inner.task) as usize - base;
        let senders_end = lanes + inner.lanes.sender_fields_end();
        drop(inner);
        let consumed = std::mem::offset_of!(ProcessRecord<u64>, consumed);
        assert!(
            exit < lanes && task < lanes,
            "the exit and task, read per send, come first"
        );
        assert!(
            senders_end + 64 <= consumed,
            "the sender's fields end at {senders_end}, `consumed` is at {consumed}"
        );
        record.close(crate::exit::ExitReason::Normal);
    }
}
