//! [`Ctx`]: what a handler can do besides changing its own state.

use std::fmt;
use std::future::poll_fn;
use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::task::AbortHandle;

use crate::addr::{Addr, Addressable, Linkable};
use crate::error::SendError;
use crate::event::{Publisher, Topic};
use crate::exit::{Down, Exit, ExitReason, MonitorRef, Signal};
use crate::mailbox::Inbox;
use crate::pid::Pid;
use crate::process::Process;
use crate::record::{Next, ProcessRecord};
use crate::telemetry::{self, Handling, Timing};
use crate::timer::{self, TimerRef};
use crate::watchdog;

/// Marks actors that handle [`Down`] notifications, which [`Ctx::monitor`] requires.
/// Implemented by `#[actor]` for actors with an `#[on_down]` hook.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot monitor other actors: it has no `#[on_down]` hook",
    label = "`{Self}` would never see the `Down` notification",
    note = "add `#[on_down] fn down(&mut self, down: Down) {{ .. }}` to the `#[actor]` impl of `{Self}`"
)]
pub trait HandlesDown: Addressable {}

/// The context of a running actor, passed to `#[init]`, handlers and hooks that ask for it
/// with a `ctx: &mut Ctx<Self>` argument.
pub struct Ctx<A: Addressable> {
    addr: Addr<A>,
    /// The batch of messages taken from the mailbox and not yet handled.
    inbox: Inbox<A::Msg>,
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
    /// Message timing, once the actor has handled a message with it on.
    timing: Option<Timing>,
}

/// After this many messages in a row, the actor yields so that one busy actor cannot starve
/// the others on its worker thread.
const YIELD_EVERY: u32 = 256;

impl<A: Addressable> Ctx<A> {
    pub(crate) fn new(addr: Addr<A>) -> Self {
        Ctx {
            addr,
            inbox: Inbox::new(),
            extra: None,
        }
    }

    pub(crate) fn record(&self) -> &Arc<ProcessRecord<A::Msg>> {
        self.addr.record()
    }

    pub(crate) fn process_arc(&self) -> Arc<dyn Process> {
        self.addr.record().clone()
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
            if self.inbox.streak >= YIELD_EVERY {
                self.inbox.streak = 0;
                cx.waker().wake_by_ref();
                return std::task::Poll::Pending;
            }
            let next = self.addr.record().poll_next(cx, &mut self.inbox);
            if let std::task::Poll::Ready(Next::Message(msg)) = &next {
                let variant = A::__variant(msg);
                watchdog::handling(variant);
                if telemetry::message_timing() {
                    self.time_message(variant, A::__caller_span(msg));
                } else if self.extra.is_some() {
                    // Timing was turned off: the message timed last still ends here.
                    self.switch_timing(None);
                }
            } else if self.extra.is_some() {
                self.switch_timing(None);
            }
            if next.is_ready() {
                self.inbox.streak += 1;
            } else {
                self.inbox.streak = 0;
                if let Some(reason) = self.extra.as_mut().and_then(|e| e.finish.take()) {
                    return std::task::Poll::Ready(Next::Finished(reason));
                }
            }
            next
        })
        .await
    }

    #[cold]
    fn time_message(&mut self, variant: u16, caller: Option<tracing::span::Id>) {
        let handling = Handling::start(
            std::any::type_name::<A>(),
            self.pid(),
            A::__variant_name(variant),
            caller,
        );
        self.switch_timing(Some(handling));
    }

    /// Ends the timed message, if any, and starts timing `next`. The state is the actor's
    /// own (no lock per message); only a span a subscriber records is published to the
    /// record, for the task to enter around later polls.
    fn switch_timing(&mut self, next: Option<Handling>) {
        if next.is_none()
            && self
                .extra
                .as_ref()
                .is_none_or(|e| e.timing.as_ref().is_none_or(|t| !t.is_timing()))
        {
            return;
        }
        let timing = self
            .extra()
            .timing
            .get_or_insert_with(|| Timing::new(std::any::type_name::<A>()));
        let (exit, enter) = timing.switch(next);
        let publish = exit.is_some() || enter.is_some();
        if let Some(span) = &exit {
            telemetry::exit(span);
        }
        if let Some(span) = &enter {
            telemetry::enter(span);
        }
        if publish {
            self.addr.record().set_span(enter);
        }
    }

    /// Ends the timing of the last message (the actor is about to stop).
    pub(crate) fn end_timing(&mut self) {
        self.switch_timing(None);
    }

    /// The actor this one was started linked to by `spawn_link`, a supervisor or
    /// `Pool::start_link`, if any. Its exit signal, whatever the reason, stops this actor even
    /// if it traps exits, as for a supervised OTP process.
    pub fn parent(&self) -> Option<Pid> {
        self.addr.record().parent()
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

    /// Links this actor to `other`, both ways. If `other` has already stopped, this actor
    /// receives an exit signal with [`ExitReason::NoProc`] (Erlang's `noproc`).
    pub fn link(&mut self, other: &impl Linkable) {
        link_processes(&self.process_arc(), &other.__process().0);
    }

    /// Removes the link to `other`, both ways. No exit signal from that link reaches this actor
    /// afterwards, not even one that was already queued.
    pub fn unlink(&mut self, other: &impl Linkable) {
        let other = other.__process().0;
        other.remove_link(self.pid());
        self.addr.record().remove_link(other.pid());
        self.addr.record().cancel_link_exit(other.pid());
    }

    /// Monitors `other`: when it stops, this actor's `#[on_down]` hook receives a [`Down`]
    /// with the reason. If `other` has already stopped, the `Down` arrives at once with
    /// [`ExitReason::NoProc`]. Monitors are one-way and may be stacked. The `Down` arrives
    /// after every message `other` sent this actor before it stopped.
    pub fn monitor(&mut self, other: &impl Linkable) -> MonitorRef
    where
        A: HandlesDown,
    {
        monitor_from(self.addr.record(), &other.__process().0)
    }

    /// Removes a monitor; no `Down` is delivered for it afterwards, not even one that was
    /// already queued.
    pub fn demonitor(&mut self, monitor: MonitorRef) {
        if let Some((_, target)) = self.addr.record().remove_monitoring(monitor) {
            if let Some(target) = target.upgrade() {
                target.remove_watcher(monitor);
            }
        }
        self.addr.record().cancel_down(monitor);
    }

    /// Sends an exit signal to `other` from this actor (see [`Addr::exit`]).
    pub fn exit<B: Addressable>(&mut self, other: &Addr<B>, reason: ExitReason) {
        other.record().signal(Signal::exit(
            Exit {
                from: self.pid(),
                reason,
            },
            false,
        ));
    }

    /// Creates a topic owned by this actor, keeping the last `buffer` events for late
    /// subscribers. Returns the topic, to hand to subscribers, and the only publisher, to keep
    /// or clone for actors that may publish. When this actor stops, subscribers receive
    /// [`Event::Closed`](crate::Event::Closed) and publishing fails.
    pub fn topic<T: Clone + Send + 'static>(&mut self, buffer: usize) -> (Topic<T>, Publisher<T>) {
        let (topic, publisher) = Topic::new(buffer);
        let closing = topic.clone();
        self.addr
            .record()
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

impl<A: Addressable> Drop for Ctx<A> {
    fn drop(&mut self) {
        // Messages the actor had taken from its mailbox but not handled when it stopped.
        if !self.inbox.batch.is_empty() {
            self.record()
                .tables()
                .counters
                .dropped_at_exit(self.inbox.batch.len());
        }
        if let Some(extra) = &self.extra {
            for t in &extra.timers {
                t.abort();
            }
        }
    }
}

impl<A: Addressable> fmt::Debug for Ctx<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ctx")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// Links two processes both ways; if `b` has stopped, `a` gets an exit signal `NoProc`.
/// Makes the process `watcher` monitor `other` (see [`Ctx::monitor`]); shared with the test
/// kit's probes.
pub(crate) fn monitor_from<M: Send + 'static>(
    watcher: &Arc<ProcessRecord<M>>,
    other: &Arc<dyn Process>,
) -> MonitorRef {
    let monitor = MonitorRef::next();
    let erased: Arc<dyn Process> = watcher.clone();
    match other.add_watcher(monitor, Arc::downgrade(&erased)) {
        Ok(()) => watcher.add_monitoring(monitor, (other.pid(), Arc::downgrade(other))),
        Err(why) => {
            // A monitor set on an actor that has already stopped reports `noproc`, and one set
            // across a connection that is lost (or was never made) `noconnection`, as in Erlang.
            let reason = match why {
                ExitReason::NoConnection => ExitReason::NoConnection,
                _ => ExitReason::NoProc,
            };
            watcher.signal(Signal::down(Down {
                monitor,
                pid: other.pid(),
                reason,
            }));
        }
    }
    monitor
}

pub(crate) fn link_processes(a: &Arc<dyn Process>, b: &Arc<dyn Process>) {
    let weak_a: Weak<dyn Process> = Arc::downgrade(a);
    let weak_b: Weak<dyn Process> = Arc::downgrade(b);
    match b.add_link(a.pid(), weak_a) {
        Ok(()) => {
            if a.add_link(b.pid(), weak_b).is_err() {
                // `a` stopped meanwhile; its exit already ran, so tell `b` ourselves.
                b.remove_link(a.pid());
                if let Some(reason) = a.exit_reason() {
                    b.signal(Signal::exit(
                        Exit {
                            from: a.pid(),
                            reason,
                        },
                        true,
                    ));
                }
            }
        }
        Err(_) => a.signal(Signal::exit(
            Exit {
                from: b.pid(),
                reason: ExitReason::NoProc,
            },
            true,
        )),
    }
}
