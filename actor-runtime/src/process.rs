//! The process control block: one per actor, shared by its task and every handle to it.
//!
//! It holds the mailbox lanes, the links and monitors, and the exit reason once the actor has
//! stopped, all behind one lock that is only ever held for a few instructions and never across
//! user code.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, Waker};

use tokio::task::AbortHandle;

use crate::addr::Pid;
use crate::error::SendError;
use crate::exit::{Down, Exit, ExitReason, MonitorRef, Signal};
use crate::mailbox::{Lanes, PushError};
use crate::{registry, system};

/// The type-erased face of a process: what links, monitors, the registry and the node need.
pub(crate) trait Process: Send + Sync {
    fn pid(&self) -> Pid;
    /// Delivers a signal on the system lane; a dead process ignores it.
    fn signal(&self, signal: Signal);
    /// Links `peer` to this process; `Err` with the exit reason if this process has stopped.
    fn add_link(&self, peer: Pid, process: Weak<dyn Process>) -> Result<(), ExitReason>;
    /// Removes the link to `peer`; `true` if this process had already stopped (its exit
    /// signal to `peer`, if they were linked, is then already on its way).
    fn remove_link(&self, peer: Pid) -> bool;
    /// Registers a monitor on this process; `Err` with the exit reason if it has stopped.
    fn add_watcher(
        &self,
        monitor: MonitorRef,
        watcher: Weak<dyn Process>,
    ) -> Result<(), ExitReason>;
    fn remove_watcher(&self, monitor: MonitorRef);
    fn kill(&self);
    fn exit_reason(&self) -> Option<ExitReason>;
    /// Resolves with the exit reason once the process has stopped.
    fn poll_exit(&self, cx: &mut Context<'_>) -> Poll<ExitReason>;
}

/// A link or monitor target held weakly, so relations never keep a dead process alive.
type Peer = (Pid, Weak<dyn Process>);

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
}

/// Work the runtime does when an actor stops, beyond links and monitors.
pub(crate) type ExitHook = Box<dyn FnOnce(&ExitReason) + Send>;

struct Inner<M> {
    lanes: Lanes<M>,
    /// `Some` once the actor has stopped.
    exit: Option<ExitReason>,
    relations: Option<Box<Relations>>,
    dormant: Option<Box<dyn Dormant>>,
    abort: Option<AbortHandle>,
    kill_requested: bool,
    refused: u64,
}

impl<M> Inner<M> {
    fn relations(&mut self) -> &mut Relations {
        self.relations.get_or_insert_with(Box::default)
    }
}

/// One actor's shared state. `M` is the actor's message type.
pub(crate) struct Cell<M> {
    pid: Pid,
    capacity: usize,
    /// Set while the system lane is non-empty: the actor's per-message check is one load.
    signals: AtomicBool,
    inner: Mutex<Inner<M>>,
}

impl<M> std::fmt::Debug for Cell<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cell")
            .field("pid", &self.pid)
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

impl<M: Send + 'static> Cell<M> {
    pub(crate) fn new(capacity: usize) -> Arc<Self> {
        let cell = Arc::new(Cell {
            pid: Pid::next(),
            capacity: capacity.max(1),
            signals: AtomicBool::new(false),
            inner: Mutex::new(Inner {
                lanes: Lanes::new(),
                exit: None,
                relations: None,
                dormant: None,
                abort: None,
                kill_requested: false,
                refused: 0,
            }),
        });
        let erased: Arc<dyn Process> = cell.clone();
        system::register(cell.pid, Arc::downgrade(&erased));
        cell
    }

    pub(crate) fn pid(&self) -> Pid {
        self.pid
    }

    // The lock is never held across user code or a panic point, but a panic in a `Drop` of a
    // waker is not ours to forbid: recover the guard instead of propagating poison.
    fn lock(&self) -> MutexGuard<'_, Inner<M>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
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
        inner.exit.is_none() && inner.lanes.len() < self.capacity
    }

    fn push(&self, msg: M, count: bool) -> Result<(), (M, SendError)> {
        let mut inner = self.lock();
        if let Some(reason) = &inner.exit {
            let reason = reason.clone();
            drop(inner);
            if count {
                system::count_undelivered();
            }
            return Err((msg, SendError::Stopped(reason)));
        }
        match inner.lanes.push(msg, self.capacity) {
            Ok(waker) => {
                let dormant = inner.dormant.take();
                drop(inner);
                self.wake(waker, dormant);
                Ok(())
            }
            Err((msg, PushError::Full)) => {
                if count {
                    inner.refused += 1;
                }
                drop(inner);
                if count {
                    system::count_refused();
                }
                Err((
                    msg,
                    SendError::Full {
                        capacity: self.capacity,
                    },
                ))
            }
        }
    }

    /// Waiting send: enqueue, or park until the actor releases capacity.
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
            system::count_undelivered();
            return Poll::Ready(Err(SendError::Stopped(reason)));
        }
        match inner.lanes.push(m, self.capacity) {
            Ok(waker) => {
                let dormant = inner.dormant.take();
                drop(inner);
                self.wake(waker, dormant);
                Poll::Ready(Ok(()))
            }
            Err((m, PushError::Full)) => {
                inner.lanes.park_waiter(cx.waker());
                *msg = Some(m);
                Poll::Pending
            }
        }
    }

    /// The actor's receive: signals first, then the current batch, then the next batch.
    pub(crate) fn poll_next(&self, cx: &mut Context<'_>, batch: &mut VecDeque<M>) -> Poll<Next<M>> {
        if self.signals.load(Ordering::Acquire) {
            let mut inner = self.lock();
            if let Some(signal) = self.pop_signal(&mut inner) {
                return Poll::Ready(Next::Signal(signal));
            }
        }
        if let Some(msg) = batch.pop_front() {
            return Poll::Ready(Next::Message(msg));
        }
        let mut inner = self.lock();
        if let Some(signal) = self.pop_signal(&mut inner) {
            return Poll::Ready(Next::Signal(signal));
        }
        let waiters = inner.lanes.take_batch(batch);
        if batch.is_empty() {
            inner.lanes.park_receiver(cx.waker());
        }
        drop(inner);
        wake_all(waiters);
        match batch.pop_front() {
            Some(msg) => Poll::Ready(Next::Message(msg)),
            None => Poll::Pending,
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
            && (inner.lanes.len() > 0 || inner.lanes.has_signals() || inner.kill_requested);
        if start_now {
            drop(inner);
            self.set_abort(dormant.start());
        } else if inner.exit.is_some() {
            drop(inner);
            drop(dormant);
        } else {
            inner.dormant = Some(dormant);
        }
    }

    fn pop_signal(&self, inner: &mut Inner<M>) -> Option<Signal> {
        let signal = inner.lanes.pop_signal();
        if !inner.lanes.has_signals() {
            self.signals.store(false, Ordering::Release);
        }
        signal
    }

    pub(crate) fn stats(&self) -> MailboxStats {
        let inner = self.lock();
        MailboxStats {
            len: inner.lanes.len(),
            capacity: self.capacity,
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
            inner.abort = Some(handle);
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
        self.signals.store(false, Ordering::Release);
        let (queued, waiters) = inner.lanes.close();
        let relations = inner.relations.take().map(|r| *r).unwrap_or_default();
        let dormant = inner.dormant.take();
        inner.abort = None;
        drop(inner);

        if !queued.is_empty() {
            system::count_dropped_at_exit(queued.len());
        }
        drop(queued);
        drop(dormant);
        let Relations {
            links,
            watchers,
            monitoring,
            name,
            exit_waiters,
            parent: _,
            exit_hooks,
        } = relations;
        // Release the name and the table entry before anyone hears of the exit: a supervisor
        // reacting to the exit may restart the actor under the same name at once.
        if let Some(name) = name {
            registry::unregister_pid(&name, self.pid);
        }
        system::unregister(self.pid);
        wake_all(exit_waiters);
        for hook in exit_hooks {
            hook(&reason);
        }
        if reason.is_abnormal() {
            tracing::debug!(pid = %self.pid, %reason, "actor exited");
        }
        for (_, process) in links {
            if let Some(process) = process.upgrade() {
                process.remove_link(self.pid);
                process.signal(Signal::Exit(Exit {
                    from: self.pid,
                    reason: reason.clone(),
                }));
            }
        }
        for (monitor, watcher) in watchers {
            if let Some(watcher) = watcher.upgrade() {
                watcher.signal(Signal::Down(Down {
                    monitor,
                    pid: self.pid,
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

impl<M: Send + 'static> Process for Cell<M> {
    fn pid(&self) -> Pid {
        self.pid
    }

    fn signal(&self, signal: Signal) {
        let mut inner = self.lock();
        if inner.exit.is_some() {
            return;
        }
        let waker = inner.lanes.push_signal(signal);
        self.signals.store(true, Ordering::Release);
        let dormant = inner.dormant.take();
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
        if let Some(handle) = &inner.abort {
            handle.abort();
        }
        if inner.dormant.is_some() {
            // Never scheduled: nothing to abort, record the exit here.
            drop(inner);
            self.close(ExitReason::Killed);
        }
    }

    fn exit_reason(&self) -> Option<ExitReason> {
        self.lock().exit.clone()
    }

    fn poll_exit(&self, cx: &mut Context<'_>) -> Poll<ExitReason> {
        Cell::poll_exit(self, cx)
    }
}

fn wake_all(wakers: Vec<Waker>) {
    for w in wakers {
        w.wake();
    }
}
