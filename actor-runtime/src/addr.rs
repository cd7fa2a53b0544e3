//! Addresses: the typed [`Addr<A>`] and what it needs to know of an actor type.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

use crate::error::SendError;
use crate::exit::{Exit, ExitReason, Signal};
use crate::pid::Pid;
use crate::process::{self, Process};
use crate::record::{MailboxStats, ProcessRecord};
use crate::target::{Client, Target};

/// What addressing needs to know of an actor type: its message enum and its generated client.
/// Implemented by `#[actor]` (with [`Actor`](crate::Actor), which extends it); do not implement
/// it by hand.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an actor",
    label = "not an actor",
    note = "add `#[actor]` to both the struct `{Self}` and its `impl` block that holds `#[init]` and the `#[handle(..)]` methods"
)]
pub trait Addressable: Send + 'static {
    /// The generated message enum, `FooMsg` for `Foo`.
    type Msg: Send + 'static;
    /// The generated client, `FooClient` for `Foo`; [`Addr<Foo>`] dereferences to it.
    #[doc(hidden)]
    type Client: Client<Self::Msg>;

    /// The message's variant, as an index for [`Addressable::__variant_name`] (small, to keep
    /// the actor's task small).
    #[doc(hidden)]
    fn __variant(msg: &Self::Msg) -> u16;

    /// The name of a variant, as `KindMsg::Variant`, for the watchdog and the test kit.
    #[doc(hidden)]
    fn __variant_name(index: u16) -> &'static str;

    /// The tracing span of the caller waiting on this message, if it is a call made while
    /// [`telemetry::set_message_timing`](crate::telemetry::set_message_timing) was on.
    #[doc(hidden)]
    fn __caller_span(msg: &Self::Msg) -> Option<tracing::span::Id>;
}

/// What [`Ctx::link`](crate::Ctx::link) and [`Ctx::monitor`](crate::Ctx::monitor) accept: an
/// [`Addr`], or a handle to an actor on another node (`node::Remote`, feature `node`).
pub trait Linkable {
    /// The process behind the handle.
    #[doc(hidden)]
    fn __process(&self) -> ProcessRef;
    /// The pid behind the handle, without making a record for it.
    #[doc(hidden)]
    fn __pid(&self) -> Pid;
}

/// An erased process, as [`Linkable`] hands it out.
#[doc(hidden)]
#[allow(missing_debug_implementations)]
pub struct ProcessRef(pub(crate) Arc<dyn Process>);

impl<A: Addressable> Linkable for Addr<A> {
    fn __process(&self) -> ProcessRef {
        ProcessRef(self.record().clone())
    }

    fn __pid(&self) -> Pid {
        self.pid()
    }
}

/// A typed handle to a running actor of type `A`.
///
/// It dereferences to the actor's generated client, so the actor's handlers are methods on it:
/// `addr.store(pos)?` for a `#[handle(cast)]`, `addr.nearby(lon, lat).await?` for a
/// `#[handle(call)]`. Cloning is cheap (one reference count); every clone reaches the same actor.
pub struct Addr<A: Addressable> {
    /// Always built from [`Target::local`]: an address names one actor.
    client: A::Client,
}

impl<A: Addressable> Addr<A> {
    pub(crate) fn from_record(record: Arc<ProcessRecord<A::Msg>>) -> Self {
        Addr {
            client: A::Client::__from_target(Target::local(record)),
        }
    }

    pub(crate) fn record(&self) -> &Arc<ProcessRecord<A::Msg>> {
        // Cannot fail: `from_record` is the only constructor of an `Addr`, and it builds the
        // client from `Target::local`; generated clients hand back the target they were given.
        #[allow(clippy::expect_used)]
        self.client
            .__target()
            .local_record()
            .expect("an Addr's target is local")
    }

    /// The actor's process identifier.
    #[must_use]
    pub fn pid(&self) -> Pid {
        self.record().pid()
    }

    /// `false` once the actor has stopped.
    #[must_use]
    pub fn is_alive(&self) -> bool {
        self.record().exit_reason().is_none()
    }

    /// The reason the actor stopped, or `None` while it runs.
    #[must_use]
    pub fn exit_reason(&self) -> Option<ExitReason> {
        self.record().exit_reason()
    }

    /// Waits until the actor has stopped and returns why.
    pub async fn wait_for_exit(&self) -> ExitReason {
        process::wait_for_exit(&**self.record()).await
    }

    /// Sends a message, waiting for mailbox space when the mailbox is full (backpressure).
    ///
    /// # Errors
    /// [`SendError::Stopped`] if the actor has stopped (before or while waiting);
    /// [`SendError::OwnMailboxFull`] if an actor sends to itself and its mailbox is full.
    pub async fn send(&self, msg: A::Msg) -> Result<(), SendError> {
        let mut slot = Some(msg);
        std::future::poll_fn(|cx| self.record().poll_send(cx, &mut slot)).await
    }

    /// Sends a message if there is room now; on failure the message is handed back.
    ///
    /// # Errors
    /// [`SendError::Full`] or [`SendError::Stopped`], with the message.
    pub fn try_send(&self, msg: A::Msg) -> Result<(), Rejected<A::Msg>> {
        self.record()
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
        self.record().signal(Signal::Stop(reason));
    }

    /// Asks the actor to stop with `reason` once it has handled every message queued before
    /// this request (and any that arrive meanwhile, until its mailbox is empty). Unlike
    /// [`Addr::stop`], nothing queued is dropped. `#[terminate]` runs.
    pub fn finish(&self, reason: ExitReason) {
        self.record().signal(Signal::Finish(reason));
    }

    /// Sends an exit signal, as if from a linked actor that exited with `reason`: an actor
    /// that traps exits (has an `#[on_exit]` hook) receives it; any other stops with `reason`
    /// unless it is [`ExitReason::Normal`].
    pub fn exit(&self, reason: ExitReason) {
        self.record().signal(Signal::exit(
            Exit {
                from: Pid::current().unwrap_or(Pid::EXTERNAL),
                reason,
            },
            false,
        ));
    }

    /// Kills the actor at its next `.await` point: reason [`ExitReason::Killed`], no
    /// `#[terminate]`, cannot be trapped. A handler stuck in a loop without `.await` cannot be
    /// interrupted.
    pub fn kill(&self) {
        self.record().kill();
    }

    /// The mailbox's current length, capacity and refused-send count.
    #[must_use]
    pub fn mailbox(&self) -> MailboxStats {
        self.record().stats()
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

impl<A: Addressable> Deref for Addr<A> {
    type Target = A::Client;

    fn deref(&self) -> &A::Client {
        &self.client
    }
}

impl<A: Addressable> Clone for Addr<A> {
    fn clone(&self) -> Self {
        Addr::from_record(self.record().clone())
    }
}

impl<A: Addressable> PartialEq for Addr<A> {
    fn eq(&self, other: &Self) -> bool {
        self.pid() == other.pid()
    }
}

impl<A: Addressable> Eq for Addr<A> {}

impl<A: Addressable> Hash for Addr<A> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.pid().hash(state);
    }
}

impl<A: Addressable> fmt::Debug for Addr<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Addr<{}>({})", std::any::type_name::<A>(), self.pid())
    }
}
