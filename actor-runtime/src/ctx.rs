//! [`Ctx`]: what a handler can do besides changing its own state.

use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::task::AbortHandle;

use crate::actor::{Actor, HandlesDown, start};
use crate::addr::{Addr, Pid};
use crate::error::{SendError, SpawnError};
use crate::event::{Publisher, Topic};
use crate::exit::{Down, Exit, ExitReason, MonitorRef, Signal};
use crate::process::{Cell, Next, Process};
use crate::timer::{self, TimerRef};

/// The context of a running actor, passed to `#[init]`, handlers and hooks that ask for it
/// with a `ctx: &mut Ctx<Self>` argument.
pub struct Ctx<A: Actor> {
    addr: Addr<A>,
    /// The batch of messages taken from the mailbox and not yet handled.
    batch: VecDeque<A::Msg>,
    /// Messages handled since the task last yielded to the scheduler.
    streak: u32,
    /// A pending stop and the running timers: rare, so boxed to keep idle actors small
    /// (guarded by the "memory per idle" rows of `cargo run -p benches --release`).
    extra: Option<Box<Extra>>,
}

#[derive(Default)]
struct Extra {
    stop: Option<ExitReason>,
    /// Set by [`Addr::finish`]: stop with this reason once the mailbox is empty.
    finish: Option<ExitReason>,
    timers: Vec<AbortHandle>,
}

/// After this many messages in a row, the actor yields so that one busy actor cannot starve
/// the others on its worker thread.
const YIELD_EVERY: u32 = 256;

impl<A: Actor> Ctx<A> {
    pub(crate) fn new(addr: Addr<A>) -> Self {
        Ctx {
            addr,
            batch: VecDeque::new(),
            streak: 0,
            extra: None,
        }
    }

    pub(crate) fn cell(&self) -> &Arc<Cell<A::Msg>> {
        self.addr.cell()
    }

    pub(crate) fn process_arc(&self) -> Arc<dyn Process> {
        self.addr.cell().clone()
    }

    pub(crate) fn finish_with(&mut self, reason: ExitReason) {
        self.extra().finish.get_or_insert(reason);
    }

    pub(crate) fn take_stop(&mut self) -> Option<ExitReason> {
        self.extra.as_mut()?.stop.take()
    }

    fn extra(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Box::default)
    }

    pub(crate) async fn next(&mut self) -> Next<A::Msg> {
        poll_fn(|cx| {
            if self.streak >= YIELD_EVERY {
                self.streak = 0;
                cx.waker().wake_by_ref();
                return std::task::Poll::Pending;
            }
            let next = self.addr.cell().poll_next(cx, &mut self.batch);
            if next.is_ready() {
                self.streak += 1;
            } else {
                self.streak = 0;
                if let Some(reason) = self.extra.as_mut().and_then(|e| e.finish.take()) {
                    return std::task::Poll::Ready(Next::Finished(reason));
                }
            }
            next
        })
        .await
    }

    /// The actor this one was started linked to by `spawn_link` or a supervisor, if any. Its
    /// exit signal stops this actor even if it traps exits, as for a supervised OTP process.
    pub fn parent(&self) -> Option<Pid> {
        self.addr.cell().parent()
    }

    /// This actor's own address.
    pub fn addr(&self) -> &Addr<A> {
        &self.addr
    }

    /// This actor's process identifier.
    pub fn pid(&self) -> Pid {
        self.addr.pid()
    }

    /// Stops this actor with reason [`ExitReason::Normal`] once the current handler returns.
    pub fn stop(&mut self) {
        self.stop_with(ExitReason::Normal);
    }

    /// Stops this actor with `reason` once the current handler returns. Linked actors that do
    /// not trap exits stop too unless `reason` is [`ExitReason::Normal`].
    pub fn stop_with(&mut self, reason: ExitReason) {
        self.extra().stop.get_or_insert(reason);
    }

    /// Starts an actor that is not linked to this one.
    ///
    /// # Errors
    /// As [`Actor::spawn`].
    pub async fn spawn<B: Actor>(
        &mut self,
        args: B::Args,
    ) -> Result<Addr<B>, SpawnError<B::Error>> {
        start::<B>(args, None).await
    }

    /// Starts an actor linked to this one: if either exits abnormally, the other receives
    /// the exit signal.
    ///
    /// # Errors
    /// As [`Actor::spawn`]. A child whose `#[init]` fails is never linked.
    pub async fn spawn_link<B: Actor>(
        &mut self,
        args: B::Args,
    ) -> Result<Addr<B>, SpawnError<B::Error>> {
        let me = self.process_arc();
        start::<B>(args, Some(&me)).await
    }

    /// Links this actor to `other`, both ways. If `other` has already stopped, this actor
    /// receives an exit signal with [`ExitReason::NoProc`] (Erlang's `noproc`).
    pub fn link<B: Actor>(&mut self, other: &Addr<B>) {
        let other: Arc<dyn Process> = other.cell().clone();
        link_processes(&self.process_arc(), &other);
    }

    /// Removes the link to `other`, both ways. No exit signal is sent.
    pub fn unlink<B: Actor>(&mut self, other: &Addr<B>) {
        other.cell().remove_link(self.pid());
        self.addr.cell().remove_link(other.pid());
    }

    /// Monitors `other`: when it stops, this actor's `#[on_down]` hook receives a [`Down`]
    /// with the reason. If `other` has already stopped, the `Down` arrives at once with
    /// [`ExitReason::NoProc`]. Monitors are one-way and may be stacked.
    pub fn monitor<B: Actor>(&mut self, other: &Addr<B>) -> MonitorRef
    where
        A: HandlesDown,
    {
        let monitor = MonitorRef(Pid::next().0);
        let me = Arc::downgrade(&self.process_arc());
        let target = other.process();
        if let Err(reason) = other.cell().add_watcher(monitor, me) {
            self.addr.cell().signal(Signal::Down(Down {
                monitor,
                pid: other.pid(),
                reason: normalise_dead(reason),
            }));
        } else {
            self.addr
                .cell()
                .add_monitoring(monitor, (other.pid(), target));
        }
        monitor
    }

    /// Removes a monitor; no `Down` will be delivered for it afterwards.
    pub fn demonitor(&mut self, monitor: MonitorRef) {
        if let Some((_, target)) = self.addr.cell().remove_monitoring(monitor) {
            if let Some(target) = target.upgrade() {
                target.remove_watcher(monitor);
            }
        }
    }

    /// Sends an exit signal to `other` from this actor (see [`Addr::exit`]).
    pub fn exit<B: Actor>(&mut self, other: &Addr<B>, reason: ExitReason) {
        other.cell().signal(Signal::Exit(Exit {
            from: self.pid(),
            reason,
        }));
    }

    /// Creates a topic owned by this actor, keeping the last `buffer` events for late
    /// subscribers. Returns the topic, to hand to subscribers, and the only publisher, to keep
    /// or clone for actors that may publish. When this actor stops, subscribers receive
    /// [`Event::Closed`](crate::Event::Closed) and publishing fails.
    pub fn topic<T: Clone + Send + 'static>(&mut self, buffer: usize) -> (Topic<T>, Publisher<T>) {
        let (topic, publisher) = Topic::new(buffer);
        let closing = topic.clone();
        self.addr
            .cell()
            .on_exit(Box::new(move |reason| closing.close(reason)));
        (topic, publisher)
    }

    /// Calls `send(&self_addr)` once after `delay`, typically to cast a message to
    /// yourself: `ctx.send_after(d, |me| me.tick())`. Cancelled when this actor stops.
    ///
    /// A send that fails (mailbox full) is counted in [`crate::stats`] as a timer miss.
    pub fn send_after<F>(&mut self, delay: Duration, send: F) -> TimerRef
    where
        F: FnOnce(&Addr<A>) -> Result<(), SendError> + Send + 'static,
    {
        let handle = timer::once(self.addr.clone(), delay, send);
        self.track(handle)
    }

    /// Calls `send(&self_addr)` every `period` (at least 1 ms), first after one `period`.
    /// Cancelled when this actor stops. A tick whose send fails because the mailbox is full is
    /// skipped and counted in [`crate::stats`]; ticks do not pile up.
    pub fn interval<F>(&mut self, period: Duration, send: F) -> TimerRef
    where
        F: FnMut(&Addr<A>) -> Result<(), SendError> + Send + 'static,
    {
        let handle = timer::every(self.addr.clone(), period, send);
        self.track(handle)
    }

    fn track(&mut self, handle: AbortHandle) -> TimerRef {
        let timers = &mut self.extra().timers;
        timers.retain(|t| !t.is_finished());
        timers.push(handle.clone());
        TimerRef::new(handle)
    }
}

impl<A: Actor> Drop for Ctx<A> {
    fn drop(&mut self) {
        // Messages the actor had taken from its mailbox but not handled when it stopped.
        if !self.batch.is_empty() {
            crate::system::count_dropped_at_exit(self.batch.len());
        }
        if let Some(extra) = &self.extra {
            for t in &extra.timers {
                t.abort();
            }
        }
    }
}

impl<A: Actor> fmt::Debug for Ctx<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ctx")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

fn normalise_dead(_reason: ExitReason) -> ExitReason {
    // A monitor set on an actor that has already stopped reports `noproc`, as in Erlang.
    ExitReason::NoProc
}

/// Links two processes both ways; if `b` has stopped, `a` gets an exit signal `NoProc`.
pub(crate) fn link_processes(a: &Arc<dyn Process>, b: &Arc<dyn Process>) {
    let weak_a: Weak<dyn Process> = Arc::downgrade(a);
    let weak_b: Weak<dyn Process> = Arc::downgrade(b);
    match b.add_link(a.pid(), weak_a) {
        Ok(()) => {
            if a.add_link(b.pid(), weak_b).is_err() {
                // `a` stopped meanwhile; its exit already ran, so tell `b` ourselves.
                b.remove_link(a.pid());
                if let Some(reason) = a.exit_reason() {
                    b.signal(Signal::Exit(Exit {
                        from: a.pid(),
                        reason,
                    }));
                }
            }
        }
        Err(_) => a.signal(Signal::Exit(Exit {
            from: b.pid(),
            reason: ExitReason::NoProc,
        })),
    }
}
