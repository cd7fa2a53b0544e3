//! The [`Actor`] trait the `#[actor]` macro implements, and an actor's life: start, run, stop.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::addr::{Addr, Addressable};
use crate::ctx::{Ctx, link_processes};
use crate::error::SpawnError;
use crate::exit::{Down, Exit, ExitReason, Signal};
use crate::pid::{Pid, with_current};
use crate::process::Process;
use crate::record::{Dormant, Next, ProcessRecord};
use crate::tables::{self, TablesRef};
use crate::{blocking, registry, table, telemetry, watchdog};

/// The mailbox capacity of an actor that does not set `#[actor(mailbox = N)]`.
pub const DEFAULT_MAILBOX: usize = 1024;

/// An actor: state plus the handlers that own it. Implemented by `#[actor]`; do not implement
/// it by hand.
///
/// The provided [`Actor::spawn`] starts one.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an actor",
    label = "not an actor",
    note = "add `#[actor]` to both the struct `{Self}` and its `impl` block that holds `#[init]` and the `#[handle(..)]` methods"
)]
pub trait Actor: Addressable + Sized + Send + 'static {
    /// The argument of `#[init]`, given to [`Actor::spawn`].
    type Args: Send + 'static;
    /// The error `#[init]` may return (`Infallible` when it returns `Self`).
    type Error: std::fmt::Display + Send + 'static;

    #[doc(hidden)]
    const MAILBOX: usize;
    #[doc(hidden)]
    const NAME: Option<&'static str>;
    #[doc(hidden)]
    const TRAPS_EXITS: bool;
    #[doc(hidden)]
    const BLOCKING: bool;

    #[doc(hidden)]
    fn __init(
        args: Self::Args,
        ctx: &mut Ctx<Self>,
    ) -> impl Future<Output = Result<Self, Self::Error>> + Send;

    #[doc(hidden)]
    fn __handle(&mut self, msg: Self::Msg, ctx: &mut Ctx<Self>) -> impl Future<Output = ()> + Send;

    #[doc(hidden)]
    fn __on_exit(&mut self, exit: Exit, ctx: &mut Ctx<Self>) -> impl Future<Output = ()> + Send {
        let _ = (exit, ctx);
        std::future::ready(())
    }

    #[doc(hidden)]
    fn __on_down(&mut self, down: Down, ctx: &mut Ctx<Self>) -> impl Future<Output = ()> + Send {
        let _ = (down, ctx);
        std::future::ready(())
    }

    #[doc(hidden)]
    fn __terminate(
        &mut self,
        reason: &ExitReason,
        ctx: &mut Ctx<Self>,
    ) -> impl Future<Output = ()> + Send {
        let _ = (reason, ctx);
        std::future::ready(())
    }

    /// Starts the actor: runs `#[init]` with `args` and returns its address once `#[init]` has
    /// succeeded. Messages sent meanwhile wait in the mailbox.
    ///
    /// # Errors
    /// [`SpawnError::Init`] with `#[init]`'s error, [`SpawnError::Panicked`] if it panicked,
    /// [`SpawnError::NameTaken`] if `#[actor(name = "..")]` is registered already.
    fn spawn(
        args: Self::Args,
    ) -> impl Future<Output = Result<Addr<Self>, SpawnError<Self::Error>>> + Send {
        start::<Self>(args, None, None)
    }
}

/// Options set on the struct with `#[actor(..)]`, read by the impl's expansion.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is missing `#[actor]` on its struct definition",
    label = "the `impl` has `#[actor]` but the struct does not",
    note = "add `#[actor]` above `struct {Self}` (options such as `mailbox = N` go there)"
)]
pub trait ActorOptions {
    const MAILBOX: usize;
    const NAME: Option<&'static str>;
    const BLOCKING: bool;
}

/// Starts an actor of type `A`; [`Actor::spawn`] in function form.
///
/// # Errors
/// As [`Actor::spawn`].
pub async fn spawn<A: Actor>(args: A::Args) -> Result<Addr<A>, SpawnError<A::Error>> {
    start::<A>(args, None, None).await
}

impl<A: Actor> Ctx<A> {
    /// Starts an actor that is not linked to this one.
    ///
    /// # Errors
    /// As [`Actor::spawn`].
    pub async fn spawn<B: Actor>(
        &mut self,
        args: B::Args,
    ) -> Result<Addr<B>, SpawnError<B::Error>> {
        start::<B>(args, None, Some(self.record().tables().clone())).await
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
        start::<B>(args, Some(&me), Some(self.record().tables().clone())).await
    }
}

/// Creates the process on the node of `tables` (`None`: the current node where the future is
/// first polled, so that `node.scope(A::spawn(args))` starts it there), runs `#[init]` on the
/// caller's task (so spawning costs no extra task switch, and the caller waits for init as
/// OTP's `start_link` does), links it to `parent` once init has succeeded, then hands the state
/// to its own task.
pub(crate) async fn start<A: Actor>(
    args: A::Args,
    parent: Option<&Arc<dyn Process>>,
    tables: Option<TablesRef>,
) -> Result<Addr<A>, SpawnError<A::Error>> {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return Err(SpawnError::NoRuntime);
    };
    let tables = tables.unwrap_or_else(table::current);
    if tables.shutting_down() {
        return Err(SpawnError::ShuttingDown);
    }
    let cell = ProcessRecord::<A::Msg>::new(tables, A::MAILBOX, A::TRAPS_EXITS);
    // Closes the cell if this future is dropped before the actor is handed over (a `spawn`
    // cancelled by a timeout or a `select!` during `#[init]`), so no half-made actor keeps
    // its name or its place in the process table.
    let mut guard = StartGuard(Some(cell.clone()));
    let addr = Addr::<A>::from_record(cell.clone());
    if let Some(name) = A::NAME {
        if let Err(holder) = registry::register_new(name, &addr) {
            guard.close(ExitReason::Normal);
            return Err(SpawnError::NameTaken {
                name: name.to_owned(),
                holder,
            });
        }
    }
    let mut ctx = Ctx::new(addr.clone());
    let init = CatchUnwind {
        pid: cell.pid(),
        tables: cell.tables().clone(),
        fut: A::__init(args, &mut ctx),
    };
    let state = match init.await {
        Ok(Ok(state)) => state,
        Ok(Err(error)) => {
            guard.close(ExitReason::error(&error));
            drop(ctx);
            return Err(SpawnError::Init(error));
        }
        Err(message) => {
            guard.close(ExitReason::Panic(message.as_str().into()));
            drop(ctx);
            return Err(SpawnError::Panicked(message));
        }
    };
    if let Some(parent) = parent {
        // The parent first: its exit signal must be recognised as the parent's from the start.
        cell.set_parent(parent.pid());
        let child: Arc<dyn Process> = cell.clone();
        link_processes(parent, &child);
    }
    guard.0 = None;
    cell.set_dormant(Box::new(DormantActor {
        state,
        ctx,
        runtime,
    }));
    Ok(addr)
}

struct StartGuard<M: Send + 'static>(Option<Arc<ProcessRecord<M>>>);

impl<M: Send + 'static> StartGuard<M> {
    fn close(&mut self, reason: ExitReason) {
        if let Some(cell) = self.0.take() {
            cell.close(reason);
        }
    }
}

impl<M: Send + 'static> Drop for StartGuard<M> {
    fn drop(&mut self) {
        self.close(ExitReason::Shutdown);
    }
}

/// A started actor waiting for its first message (see `Dormant`).
struct DormantActor<A: Actor> {
    state: A,
    ctx: Ctx<A>,
    /// The runtime that spawned the actor, so a sender outside it can still start it.
    runtime: tokio::runtime::Handle,
}

impl<A: Actor> Dormant for DormantActor<A> {
    fn start(self: Box<Self>) -> tokio::task::AbortHandle {
        let DormantActor {
            state,
            ctx,
            runtime,
        } = *self;
        let task = ActorTask::<A, _> {
            cell: ctx.record().clone(),
            done: false,
            handling: watchdog::IDLE,
            fut: run(state, ctx),
        };
        watchdog::ensure_ticker();
        if A::BLOCKING {
            let cell = task.cell.clone();
            blocking::start(task, &runtime, move |error| {
                cell.close(ExitReason::error(format!(
                    "could not start the actor's thread: {error}"
                )));
            })
        } else {
            runtime.spawn(task).abort_handle()
        }
    }
}

/// The receive loop. Returns after recording the exit reason and only then drops the state,
/// so pending deferred replies see the reason (see `Cell::close`).
async fn run<A: Actor>(mut state: A, mut ctx: Ctx<A>) {
    let reason = loop {
        if let Some(reason) = ctx.take_stop() {
            break reason;
        }
        match ctx.next().await {
            // `ctx.next` has told the watchdog which variant this is: naming it here would
            // borrow `msg` in this future and grow every actor's task by 24 bytes.
            Next::Message(msg) => state.__handle(msg, &mut ctx).await,
            Next::Signal(Signal::Stop(reason)) | Next::Finished(reason) => break reason,
            Next::Signal(Signal::Finish(reason)) => ctx.finish_with(reason),
            Next::Signal(Signal::Exit { exit, .. }) => {
                if A::TRAPS_EXITS && Some(exit.from) == ctx.parent() {
                    // The parent is gone (or asks us to go): trapping does not apply, and, as
                    // for an OTP gen_server, even a normal exit of the parent ends the child
                    // (a supervisor or pool started by an actor must not outlive it).
                    break exit.reason;
                } else if A::TRAPS_EXITS {
                    watchdog::handling(watchdog::ON_EXIT);
                    state.__on_exit(*exit, &mut ctx).await;
                } else if !exit.reason.is_normal() {
                    break exit.reason;
                }
            }
            Next::Signal(Signal::Down(down)) => {
                // The monitor has fired: forget it here, so a long-lived watcher of many
                // short-lived actors does not keep a record per monitor.
                ctx.record().remove_monitoring(down.monitor);
                watchdog::handling(watchdog::ON_DOWN);
                state.__on_down(*down, &mut ctx).await;
            }
        }
    };
    ctx.end_timing();
    watchdog::handling(watchdog::TERMINATE);
    state.__terminate(&reason, &mut ctx).await;
    ctx.record().close(reason);
    drop(state);
    drop(ctx);
}

pin_project! {
    /// The task of one actor: catches a panic as exit reason `Panic`, records an exit
    /// when the task is aborted (kill) or dropped with its runtime, and times each poll for
    /// the watchdog.
    /// Its fields beyond the future take 2 bytes of padding: tokio rounds a task to 128
    /// bytes, and 16 more bytes here cost every used actor 128 (the "memory per idle, after
    /// 1 call" row). The actor's type, its variant names and whether it is watched come from
    /// `A` itself.
    struct ActorTask<A, F> where A: Actor {
        cell: Arc<ProcessRecord<A::Msg>>,
        done: bool,
        // What the actor was handling when it last suspended (a `watchdog` label).
        handling: u16,
        #[pin]
        fut: F,
    }

    impl<A, F> PinnedDrop for ActorTask<A, F> where A: Actor {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if !*this.done && this.cell.exit_reason().is_none() {
                let reason = if this.cell.kill_requested() {
                    ExitReason::Killed
                } else {
                    ExitReason::Shutdown
                };
                // The cell is closed before `fut` (and the state in it) is dropped.
                this.cell.close(reason);
            }
            if let Some(reason) = this.cell.exit_reason() {
                telemetry::exited(std::any::type_name::<A>(), &reason);
            }
        }
    }
}

impl<A: Actor, F: Future<Output = ()>> Future for ActorTask<A, F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        if *this.done {
            return Poll::Ready(());
        }
        let pid = this.cell.pid();
        let fut = this.fut;
        watchdog::begin(
            *this.handling,
            pid,
            std::any::type_name::<A>,
            A::__variant_name,
            // An actor on a thread of its own holds no worker: nothing to watch.
            !A::BLOCKING,
        );
        // Spans are entered around each poll only when a subscriber records them.
        let timed = telemetry::message_timing() && telemetry::spans_enabled();
        if timed {
            if let Some(span) = this.cell.span() {
                telemetry::enter(&span);
            }
        }
        let polled = catch_unwind(AssertUnwindSafe(|| with_current(pid, || fut.poll(cx))));
        if timed {
            // The message may have changed during the poll: exit the span that is current now.
            if let Some(span) = this.cell.span() {
                telemetry::exit(&span);
            }
        }
        *this.handling = watchdog::end();
        match polled {
            Ok(Poll::Pending) => {
                // The actor suspends (in a handler's `.await`, or parked): senders waiting for
                // room it has made must not wait for the next group wake-up, which may never
                // come if the actor awaits one of them.
                this.cell.wake_waiters();
                Poll::Pending
            }
            Ok(Poll::Ready(())) => {
                *this.done = true;
                Poll::Ready(())
            }
            Err(payload) => {
                let message = panic_message(payload.as_ref());
                *this.done = true;
                this.cell.close(ExitReason::Panic(message.as_str().into()));
                tracing::error!(%pid, panic = %message, "actor panicked");
                Poll::Ready(())
            }
        }
    }
}

pin_project! {
    /// Runs `#[init]` as the new actor, on its node (for `Pid::current`, and for what the
    /// registry, `spawn` and `stats` act on, whatever node the caller's task is on), and
    /// turns a panic into an error.
    struct CatchUnwind<F> {
        pid: Pid,
        tables: TablesRef,
        #[pin]
        fut: F,
    }
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, String>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let pid = *this.pid;
        let fut = this.fut;
        let tables = this.tables.clone();
        match catch_unwind(AssertUnwindSafe(|| {
            tables::within(tables, || with_current(pid, || fut.poll(cx)))
        })) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(payload) => Poll::Ready(Err(panic_message(payload.as_ref()))),
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}
