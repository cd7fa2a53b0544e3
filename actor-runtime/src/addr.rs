//! Addresses: [`Pid`], the typed [`Addr<A>`], and the transport behind generated clients.

use std::fmt;
use std::future::poll_fn;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use crate::actor::Actor;
use crate::call::{self, Call, ReplyTo};
use crate::error::SendError;
use crate::exit::{Exit, ExitReason, Signal};
use crate::process::{Cell, MailboxStats, Process};

/// A process identifier: unique on this node for the life of the node, printed as `<0.N>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pid(pub(crate) u64);

impl Pid {
    /// The sender of signals that do not come from an actor (`main`, a test, a plain task).
    pub const EXTERNAL: Pid = Pid(0);

    pub(crate) fn next() -> Pid {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Pid(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The number in `<0.N>`.
    #[must_use]
    pub fn id(self) -> u64 {
        self.0
    }

    /// The actor whose handler is running on this task, if any.
    #[must_use]
    pub fn current() -> Option<Pid> {
        call::current_pid()
    }
}

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<0.{}>", self.0)
    }
}

impl fmt::Debug for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The transport behind a generated client: where its messages go.
///
/// Generated code builds messages and hands them to a `Target`; users never name it. A target
/// is either one actor's mailbox (an [`Addr`]) or a supervised child's slot, which always
/// points at the child's current incarnation (a [`Child`](crate::Child)).
#[doc(hidden)]
pub struct Target<M> {
    kind: Kind<M>,
}

enum Kind<M> {
    Local(Arc<Cell<M>>),
    Slot(Arc<ChildSlot<M>>),
    Pool(Arc<crate::pool::Workers<M>>),
}

impl<M> Clone for Target<M> {
    fn clone(&self) -> Self {
        Target {
            kind: match &self.kind {
                Kind::Local(c) => Kind::Local(c.clone()),
                Kind::Slot(s) => Kind::Slot(s.clone()),
                Kind::Pool(p) => Kind::Pool(p.clone()),
            },
        }
    }
}

impl<M> fmt::Debug for Target<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Local(c) => fmt::Debug::fmt(c, f),
            Kind::Slot(_) => f.write_str("Child"),
            Kind::Pool(_) => f.write_str("Pool"),
        }
    }
}

/// A target's mailbox, borrowed from an address or taken from a child's slot.
pub(crate) enum CellRef<'a, M> {
    Borrowed(&'a Arc<Cell<M>>),
    Owned(Arc<Cell<M>>),
}

impl<M> std::ops::Deref for CellRef<'_, M> {
    type Target = Arc<Cell<M>>;
    fn deref(&self) -> &Arc<Cell<M>> {
        match self {
            CellRef::Borrowed(c) => c,
            CellRef::Owned(c) => c,
        }
    }
}

impl<M: Send + 'static> Target<M> {
    pub(crate) fn local(cell: Arc<Cell<M>>) -> Self {
        Target {
            kind: Kind::Local(cell),
        }
    }

    /// The mailbox of a target built by [`Target::local`].
    fn local_cell(&self) -> Option<&Arc<Cell<M>>> {
        match &self.kind {
            Kind::Local(c) => Some(c),
            Kind::Slot(_) | Kind::Pool(_) => None,
        }
    }

    pub(crate) fn pool(workers: Arc<crate::pool::Workers<M>>) -> Self {
        Target {
            kind: Kind::Pool(workers),
        }
    }

    pub(crate) fn slot(slot: Arc<ChildSlot<M>>) -> Self {
        Target {
            kind: Kind::Slot(slot),
        }
    }

    /// The mailbox a call goes to now; `Err` if there is none (a child that is not running,
    /// a pool whose workers are all full or stopped).
    pub(crate) fn resolve(&self) -> Result<CellRef<'_, M>, Unavailable> {
        match &self.kind {
            Kind::Local(c) => Ok(CellRef::Borrowed(c)),
            Kind::Slot(s) => s
                .current()
                .map(CellRef::Owned)
                .map_err(Unavailable::Stopped),
            Kind::Pool(p) => p.pick().map(CellRef::Owned),
        }
    }

    /// Fail-fast send of a cast message.
    pub fn cast(&self, msg: M) -> Result<(), SendError> {
        let cell = match &self.kind {
            Kind::Local(c) => CellRef::Borrowed(c),
            Kind::Slot(s) => match s.current() {
                Ok(c) => CellRef::Owned(c),
                Err(reason) => {
                    crate::system::count_undelivered();
                    return Err(SendError::Stopped(reason));
                }
            },
            Kind::Pool(p) => return p.cast(msg),
        };
        cell.try_send(msg).map_err(|(_, e)| e)
    }

    /// Builds a call: `build` wraps the reply slot into the message.
    pub fn call<R>(&self, build: impl FnOnce(ReplyTo<R>) -> M) -> Call<'_, M, R> {
        let (reply, rx) = call::reply_pair();
        Call::new(self, build(reply), rx)
    }
}

/// Why a target has no mailbox to take a message now.
pub(crate) enum Unavailable {
    Stopped(ExitReason),
    /// Every worker of a pool is full.
    Overloaded,
}

/// Where a supervised child lives now: replaced by its supervisor at every restart.
pub(crate) struct ChildSlot<M> {
    current: std::sync::RwLock<Result<Arc<Cell<M>>, ExitReason>>,
}

impl<M: Send + 'static> ChildSlot<M> {
    pub(crate) fn new() -> Self {
        ChildSlot {
            current: std::sync::RwLock::new(Err(ExitReason::NoProc)),
        }
    }

    pub(crate) fn current(&self) -> Result<Arc<Cell<M>>, ExitReason> {
        let current = self
            .current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match &*current {
            Ok(cell) => match cell.exit_reason() {
                None => Ok(cell.clone()),
                Some(reason) => Err(reason),
            },
            Err(reason) => Err(reason.clone()),
        }
    }

    pub(crate) fn set(&self, value: Result<Arc<Cell<M>>, ExitReason>) {
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = value;
    }
}

/// The generated client type of an actor: `FooClient` for `#[actor] struct Foo`.
#[doc(hidden)]
pub trait Client<M>: Send + Sync + Sized + 'static {
    fn __from_target(target: Target<M>) -> Self;
    fn __target(&self) -> &Target<M>;
}

/// A typed handle to a running actor of type `A`.
///
/// It dereferences to the actor's generated client, so the actor's handlers are methods on it:
/// `addr.store(pos)?` for a `#[handle(cast)]`, `addr.nearby(lon, lat).await?` for a
/// `#[handle(call)]`. Cloning is cheap (one reference count); every clone reaches the same actor.
pub struct Addr<A: Actor> {
    /// Always built from [`Target::local`]: an address names one actor.
    client: A::Client,
}

impl<A: Actor> Addr<A> {
    pub(crate) fn from_cell(cell: Arc<Cell<A::Msg>>) -> Self {
        Addr {
            client: A::Client::__from_target(Target::local(cell)),
        }
    }

    pub(crate) fn cell(&self) -> &Arc<Cell<A::Msg>> {
        // Cannot fail: `from_cell` is the only constructor of an `Addr`, and it builds the
        // client from `Target::local`; generated clients hand back the target they were given.
        #[allow(clippy::expect_used)]
        self.client
            .__target()
            .local_cell()
            .expect("an Addr's target is local")
    }

    pub(crate) fn process(&self) -> Weak<dyn Process> {
        let erased: Arc<dyn Process> = self.cell().clone();
        Arc::downgrade(&erased)
    }

    /// The actor's process identifier.
    #[must_use]
    pub fn pid(&self) -> Pid {
        self.cell().pid()
    }

    /// `false` once the actor has stopped.
    #[must_use]
    pub fn is_alive(&self) -> bool {
        self.cell().exit_reason().is_none()
    }

    /// The reason the actor stopped, or `None` while it runs.
    #[must_use]
    pub fn exit_reason(&self) -> Option<ExitReason> {
        self.cell().exit_reason()
    }

    /// Waits until the actor has stopped and returns why.
    pub async fn wait_for_exit(&self) -> ExitReason {
        poll_fn(|cx| self.cell().poll_exit(cx)).await
    }

    /// Sends a message, waiting for mailbox space when the mailbox is full (backpressure).
    ///
    /// # Errors
    /// [`SendError::Stopped`] if the actor has stopped (before or while waiting).
    pub async fn send(&self, msg: A::Msg) -> Result<(), SendError> {
        let mut slot = Some(msg);
        poll_fn(|cx| self.cell().poll_send(cx, &mut slot)).await
    }

    /// Sends a message if there is room now; on failure the message is handed back.
    ///
    /// # Errors
    /// [`SendError::Full`] or [`SendError::Stopped`], with the message.
    pub fn try_send(&self, msg: A::Msg) -> Result<(), Rejected<A::Msg>> {
        self.cell()
            .try_send(msg)
            .map_err(|(msg, error)| Rejected { msg, error })
    }

    /// Asks the actor to stop with reason [`ExitReason::Normal`] after its current message.
    /// The request travels on the system lane, ahead of queued messages; their callers get
    /// [`CallError::Stopped`](crate::CallError::Stopped). `#[terminate]` runs.
    pub fn stop(&self) {
        self.stop_with(ExitReason::Normal);
    }

    /// As [`Addr::stop`], with `reason` as the exit reason (e.g. [`ExitReason::Shutdown`] to
    /// stop a supervisor and its tree). Unlike [`Addr::exit`], this is a request to stop, not
    /// an exit signal: it cannot be trapped and it is never mistaken for the sender's exit.
    pub fn stop_with(&self, reason: ExitReason) {
        self.cell().signal(Signal::Stop(reason));
    }

    /// Asks the actor to stop with `reason` once it has handled every message queued before
    /// this request (and any that arrive meanwhile, until its mailbox is empty). Unlike
    /// [`Addr::stop`], nothing queued is dropped. `#[terminate]` runs.
    pub fn finish(&self, reason: ExitReason) {
        self.cell().signal(Signal::Finish(reason));
    }

    /// Sends an exit signal, as if from a linked actor that exited with `reason`: an actor
    /// that traps exits (has an `#[on_exit]` hook) receives it; any other stops with `reason`
    /// unless it is [`ExitReason::Normal`].
    pub fn exit(&self, reason: ExitReason) {
        self.cell().signal(Signal::Exit(Exit {
            from: Pid::current().unwrap_or(Pid::EXTERNAL),
            reason,
        }));
    }

    /// Kills the actor at its next `.await` point: reason [`ExitReason::Killed`], no
    /// `#[terminate]`, cannot be trapped. A handler stuck in a loop without `.await` cannot be
    /// interrupted.
    pub fn kill(&self) {
        self.cell().kill();
    }

    /// The mailbox's current length, capacity and refused-send count.
    #[must_use]
    pub fn mailbox(&self) -> MailboxStats {
        self.cell().stats()
    }
}

/// A message [`Addr::try_send`] could not enqueue, handed back with the reason.
pub struct Rejected<M> {
    /// The message, unsent.
    pub msg: M,
    /// Why.
    pub error: SendError,
}

impl<M> fmt::Debug for Rejected<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rejected")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl<M> fmt::Display for Rejected<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl<M> std::error::Error for Rejected<M> {}

impl<A: Actor> Deref for Addr<A> {
    type Target = A::Client;

    fn deref(&self) -> &A::Client {
        &self.client
    }
}

impl<A: Actor> Clone for Addr<A> {
    fn clone(&self) -> Self {
        Addr::from_cell(self.cell().clone())
    }
}

impl<A: Actor> PartialEq for Addr<A> {
    fn eq(&self, other: &Self) -> bool {
        self.pid() == other.pid()
    }
}

impl<A: Actor> Eq for Addr<A> {}

impl<A: Actor> Hash for Addr<A> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.pid().hash(state);
    }
}

impl<A: Actor> fmt::Debug for Addr<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Addr<{}>({})", std::any::type_name::<A>(), self.pid())
    }
}
