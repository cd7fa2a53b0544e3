//! Request/reply: [`Call`], its timeout, and [`ReplyTo`] for deferred replies.
//!
//! A call is one message carrying a one-shot reply slot: the only allocation per call
//! (guarded by `cargo run -p benches --release`, "call" row).

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::deadline::{self, Registration};
use crate::error::{CallError, RemoteError, SendError};
use crate::exit::ExitReason;
use crate::pid::Pid;
use crate::process::Process;
use crate::target::{Outbound, RecordRef, Target, Unavailable};
use crate::{table, telemetry};

/// The timeout of a call unless overridden with [`Call::timeout`].
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// The reply slot of a call. A `#[handle(call)]` method that takes a `ReplyTo<T>` argument
/// answers later, from anywhere, with [`ReplyTo::send`]; the caller waits meanwhile.
///
/// Dropping it unanswered gives the caller [`CallError::NoReply`] at once.
///
/// To hand the slot to an actor on another node, inside a message, wrap it in a
/// [`Forwarded`](crate::node::Forwarded) (feature `node`).
pub struct ReplyTo<T> {
    tx: Slot<T>,
}

/// The reply sender, and the caller's span when message timing was on at the call (the
/// callee's span is its child). The span is boxed with the sender so that a reply slot stays
/// 16 bytes: 8 more in every call message cost every used actor 128 bytes of task, through
/// the message held across the handler's await (the "memory per idle, after 1 call" row).
/// A call that came from another node has no local sender: its slot is the correlation id of
/// the request and the connection it came on, boxed for the same reason.
enum Slot<T> {
    Taken,
    Plain(oneshot::Sender<Reply<T>>),
    Traced(Box<(oneshot::Sender<Reply<T>>, tracing::span::Id)>),
    #[cfg_attr(not(feature = "node"), allow(dead_code))]
    Remote(Box<RemoteSlot<T>>),
}

/// Where the reply to a call from another node goes, and how it is encoded for the wire.
struct RemoteSlot<T> {
    route: ReplyRoute,
    encode: fn(&T) -> Result<Vec<u8>, String>,
}

/// The way back to a caller on another node: the connection the request came on (the node
/// layer implements `ReplySink`) and the request's correlation id.
#[doc(hidden)]
#[allow(missing_debug_implementations)]
#[cfg_attr(not(feature = "node"), allow(unreachable_pub, dead_code))]
pub struct ReplyRoute {
    pub(crate) sink: Arc<dyn ReplySink>,
    pub(crate) corr: u64,
}

/// What the node layer does with the outcome of a call from another node: send it back.
pub(crate) trait ReplySink: Send + Sync {
    /// Runs `encode` (the encoding of the reply to `corr`) as the encoding of a message to
    /// this sink's node; the reply slots the reply carries, which wait for their answers from
    /// now (to pass to [`ReplySink::reply_carrying`]).
    fn encoding(&self, corr: u64, encode: &mut dyn FnMut() -> Result<(), String>) -> Vec<u64>;
    /// The encoded reply, or why there is none.
    fn reply(&self, corr: u64, outcome: Result<Vec<u8>, CallError>) {
        self.reply_carrying(corr, outcome, &[]);
    }
    /// As `reply`, for a reply that carries the reply slots `carried`: if it cannot be sent,
    /// their callers are told at once.
    fn reply_carrying(&self, corr: u64, outcome: Result<Vec<u8>, CallError>, carried: &[u64]);
    /// The reply slot was dropped by a panicking handler of `process`: the caller gets that
    /// actor's exit reason once it is recorded.
    fn panicking(&self, corr: u64, process: Option<Arc<dyn Process>>);
}

/// Either end of a reply slot that is not [`Slot::Remote`].
enum Local<T> {
    Sender(oneshot::Sender<Reply<T>>),
    Remote(Box<RemoteSlot<T>>),
}

impl<T> Slot<T> {
    fn take(&mut self) -> Option<Local<T>> {
        match std::mem::replace(self, Slot::Taken) {
            Slot::Taken => None,
            Slot::Plain(tx) => Some(Local::Sender(tx)),
            Slot::Traced(traced) => Some(Local::Sender(traced.0)),
            Slot::Remote(remote) => Some(Local::Remote(remote)),
        }
    }

    fn as_ref(&self) -> Option<&oneshot::Sender<Reply<T>>> {
        match self {
            Slot::Taken | Slot::Remote(_) => None,
            Slot::Plain(tx) => Some(tx),
            Slot::Traced(traced) => Some(&traced.0),
        }
    }
}

/// What travels back to the caller.
pub(crate) enum Reply<T> {
    Value(T),
    /// The reply slot was dropped while its thread was panicking, in a handler of this actor
    /// (the callee, or another actor it was forwarded to; `None`: a task that is not an actor).
    /// That actor is about to record its exit reason: unwinding drops the handler's locals
    /// before the panic is caught.
    Panicking(Option<Arc<dyn Process>>),
    /// No reply will come, for this reason (a lost connection, a reply that did not decode).
    #[cfg_attr(not(feature = "node"), allow(dead_code))]
    Failed(CallError),
}

impl<T> ReplyTo<T> {
    /// Answers the call. Returns `false` if the caller is no longer waiting (it timed out);
    /// such late replies are counted in [`crate::stats`].
    ///
    /// The reply to a call from another node is sent back on its connection; `true` then
    /// means it was handed to the connection, not that the caller still waits.
    pub fn send(mut self, value: T) -> bool {
        match self.tx.take() {
            None => false,
            Some(Local::Sender(tx)) => {
                if tx.send(Reply::Value(value)).is_ok() {
                    true
                } else {
                    table::current().counters.late_reply();
                    false
                }
            }
            Some(Local::Remote(remote)) => {
                let mut encoded = None;
                let carried = remote.route.sink.encoding(remote.route.corr, &mut || {
                    let result = (remote.encode)(&value);
                    let ok = result.as_ref().map(|_| ()).map_err(Clone::clone);
                    encoded = Some(result);
                    ok
                });
                let outcome = encoded
                    .unwrap_or_else(|| Err("not encoded".to_owned()))
                    .map_err(|e| CallError::Remote(RemoteError::Encode(format!("the reply: {e}"))));
                remote
                    .route
                    .sink
                    .reply_carrying(remote.route.corr, outcome, &carried);
                true
            }
        }
    }

    /// A reply slot that answers a caller on another node through `route`.
    #[cfg_attr(not(feature = "node"), allow(dead_code))]
    pub(crate) fn remote(route: ReplyRoute, encode: fn(&T) -> Result<Vec<u8>, String>) -> Self {
        ReplyTo {
            tx: Slot::Remote(Box::new(RemoteSlot { route, encode })),
        }
    }

    /// Ends the call with `error` instead of a reply.
    #[cfg_attr(not(feature = "node"), allow(dead_code))]
    pub(crate) fn fail(mut self, error: CallError) {
        match self.tx.take() {
            None => {}
            Some(Local::Sender(tx)) => {
                let _ = tx.send(Reply::Failed(error));
            }
            Some(Local::Remote(remote)) => remote.route.sink.reply(remote.route.corr, Err(error)),
        }
    }

    #[doc(hidden)]
    pub fn __caller_span(&self) -> Option<tracing::span::Id> {
        match &self.tx {
            Slot::Traced(traced) => Some(traced.1.clone()),
            _ => None,
        }
    }

    /// `true` if the caller has stopped waiting (timed out or was cancelled).
    #[must_use]
    ///
    /// For a caller on another node this is `false` until the reply is sent: the caller's
    /// timeout is not known here.
    pub fn is_closed(&self) -> bool {
        match &self.tx {
            Slot::Remote(_) => false,
            tx => tx.as_ref().is_none_or(oneshot::Sender::is_closed),
        }
    }
}

impl<T> Drop for ReplyTo<T> {
    fn drop(&mut self) {
        match &self.tx {
            Slot::Taken => {}
            // A local caller notices a dropped sender by itself.
            Slot::Plain(_) | Slot::Traced(_) => {
                if std::thread::panicking() {
                    if let Some(Local::Sender(tx)) = self.tx.take() {
                        let panicking = Pid::current().and_then(table::get);
                        let _ = tx.send(Reply::Panicking(panicking));
                    }
                }
            }
            // A caller on another node is told.
            Slot::Remote(_) => {
                if let Some(Local::Remote(remote)) = self.tx.take() {
                    if std::thread::panicking() {
                        let panicking = Pid::current().and_then(table::get);
                        remote.route.sink.panicking(remote.route.corr, panicking);
                    } else {
                        remote
                            .route
                            .sink
                            .reply(remote.route.corr, Err(CallError::NoReply));
                    }
                }
            }
        }
    }
}

impl<T> fmt::Debug for ReplyTo<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplyTo").finish_non_exhaustive()
    }
}

pub(crate) fn reply_pair<T>() -> (ReplyTo<T>, oneshot::Receiver<Reply<T>>) {
    let (tx, rx) = oneshot::channel();
    (
        ReplyTo {
            tx: match telemetry::caller_span() {
                None => Slot::Plain(tx),
                Some(span) => Slot::Traced(Box::new((tx, span))),
            },
        },
        rx,
    )
}

impl<M: Send + 'static> Target<M> {
    /// Builds a call: `build` wraps the reply slot into the message.
    pub fn call<R>(&self, build: impl FnOnce(ReplyTo<R>) -> M) -> Call<'_, M, R> {
        let (reply, rx) = reply_pair();
        Call::new(self, build(reply), rx)
    }
}

/// A pending call to an actor, returned by every `#[handle(call)]` client method.
///
/// `.await` it for `Result<Reply, CallError>`. Nothing is sent until it is awaited.
/// [`Call::timeout`] overrides the default of 5 s ([`DEFAULT_CALL_TIMEOUT`]); the timeout covers
/// waiting for mailbox space and waiting for the reply.
#[must_use = "a call does nothing until it is awaited"]
pub struct Call<'a, M, R> {
    target: &'a Target<M>,
    msg: M,
    rx: oneshot::Receiver<Reply<R>>,
    timeout: Duration,
}

impl<'a, M: Send + 'static, R> Call<'a, M, R> {
    pub(crate) fn new(target: &'a Target<M>, msg: M, rx: oneshot::Receiver<Reply<R>>) -> Self {
        Call {
            target,
            msg,
            rx,
            timeout: DEFAULT_CALL_TIMEOUT,
        }
    }

    /// Overrides the timeout of this call.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

impl<M, R> fmt::Debug for Call<'_, M, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("target", self.target)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl<'a, M: Send + 'static, R> IntoFuture for Call<'a, M, R> {
    type Output = Result<R, CallError>;
    type IntoFuture = CallFuture<'a, M, R>;

    fn into_future(self) -> Self::IntoFuture {
        CallFuture {
            target: self.target,
            cell: None,
            msg: Some(self.msg),
            rx: self.rx,
            timeout: self.timeout,
            deadline: None,
            dying: None,
        }
    }
}

/// The future of an awaited [`Call`]: sends the request (waiting for mailbox space), then
/// waits for the reply, until the deadline.
#[must_use = "futures do nothing unless polled"]
pub struct CallFuture<'a, M, R> {
    target: &'a Target<M>,
    /// The mailbox the request went to, resolved once: a supervised child may be restarted
    /// meanwhile, and the call belongs to the incarnation that received it.
    cell: Option<RecordRef<'a, M>>,
    /// `Some` until the request is in the mailbox.
    msg: Option<M>,
    rx: oneshot::Receiver<Reply<R>>,
    timeout: Duration,
    /// Set at the first poll that has to wait: the timeout counts from there.
    deadline: Option<(Instant, Option<Registration>)>,
    /// The reply slot was dropped by a panicking handler: wait for that actor's exit reason
    /// (the callee's, or that of the actor the slot was forwarded to).
    dying: Option<Arc<dyn Process>>,
}

impl<M, R> fmt::Debug for CallFuture<'_, M, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallFuture")
            .field("target", self.target)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

// The message and the receiver are moved, never pinned in place.
impl<M, R> Unpin for CallFuture<'_, M, R> {}

impl<M: Send + 'static, R> CallFuture<'_, M, R> {
    /// Called whenever the call has to wait: arms the deadline the first time, fails it once
    /// it has passed.
    fn wait(&mut self, cx: &mut Context<'_>) -> Poll<Result<R, CallError>> {
        match &self.deadline {
            None => {
                let now = Instant::now();
                // A timeout too large to represent never fires.
                let registration = now.checked_add(self.timeout).map(|at| {
                    let registration = deadline::register(at, cx.waker());
                    if registration.is_none() {
                        tracing::warn!(
                            "a call awaited outside a tokio runtime cannot time out; await calls inside the runtime"
                        );
                    }
                    (at, registration)
                });
                self.deadline = Some(registration.unwrap_or((now, None)));
                Poll::Pending
            }
            Some((at, Some(registration))) => {
                if Instant::now() >= *at {
                    Poll::Ready(Err(CallError::Timeout(self.timeout)))
                } else {
                    registration.update(cx.waker());
                    Poll::Pending
                }
            }
            Some((_, None)) => Poll::Pending,
        }
    }
}

impl<M: Send + 'static, R> CallFuture<'_, M, R> {
    /// A call to an actor on another node: the request goes into the connection's outbound
    /// queue (waiting for room), and the connection completes the reply slot, or fails it
    /// with [`ExitReason::NoConnection`] when it is lost.
    fn poll_remote(
        &mut self,
        cx: &mut Context<'_>,
        remote: &dyn Outbound<M>,
    ) -> Poll<Result<R, CallError>> {
        if self.msg.is_some() {
            match remote.poll_send(cx, &mut self.msg) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(error)) => {
                    self.msg = None;
                    return Poll::Ready(Err(CallError::from_send(error)));
                }
                Poll::Pending => return self.wait(cx),
            }
        }
        match Pin::new(&mut self.rx).poll(cx) {
            Poll::Ready(Ok(Reply::Value(reply))) => Poll::Ready(Ok(reply)),
            Poll::Ready(Ok(Reply::Failed(error))) => Poll::Ready(Err(error)),
            // Neither is sent for a remote call: the connection fails the slot instead.
            Poll::Ready(Ok(Reply::Panicking(_)) | Err(_)) => {
                Poll::Ready(Err(CallError::Stopped(ExitReason::NoConnection)))
            }
            Poll::Pending => self.wait(cx),
        }
    }
}

impl<M: Send + 'static, R> Future for CallFuture<'_, M, R> {
    type Output = Result<R, CallError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(remote) = this.target.remote() {
            return this.poll_remote(cx, remote);
        }
        if this.cell.is_none() {
            match this.target.resolve() {
                Ok(cell) => this.cell = Some(cell),
                Err(Unavailable::Stopped(reason)) => {
                    this.msg = None;
                    table::current().counters.undelivered();
                    return Poll::Ready(Err(CallError::Stopped(reason)));
                }
                Err(Unavailable::Overloaded) => {
                    this.msg = None;
                    return Poll::Ready(Err(CallError::Overloaded));
                }
            }
        }
        let Some(cell) = this.cell.as_deref() else {
            return Poll::Ready(Err(CallError::Stopped(ExitReason::NoProc)));
        };
        if this.msg.is_some() {
            if Pid::current() == Some(cell.pid()) {
                return Poll::Ready(Err(CallError::CallToSelf(cell.pid())));
            }
            match cell.poll_send(cx, &mut this.msg) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(SendError::Stopped(reason))) => {
                    return Poll::Ready(Err(CallError::Stopped(reason)));
                }
                // A local mailbox never reports it.
                Poll::Ready(Err(SendError::Remote(e))) => {
                    return Poll::Ready(Err(CallError::Remote(e)));
                }
                // `poll_send` waits for space instead of failing.
                Poll::Ready(Err(SendError::Full { .. } | SendError::OwnMailboxFull { .. }))
                | Poll::Pending => return this.wait(cx),
            }
        }
        if let Some(dying) = &this.dying {
            return match dying.poll_exit(cx) {
                Poll::Ready(reason) => Poll::Ready(Err(CallError::Stopped(reason))),
                Poll::Pending => this.wait(cx),
            };
        }
        match Pin::new(&mut this.rx).poll(cx) {
            Poll::Ready(Ok(Reply::Value(reply))) => Poll::Ready(Ok(reply)),
            // The slot was dropped by a panicking handler; its exit reason follows shortly. If
            // the slot had been forwarded, that is another actor's reason: the healthy callee
            // is not waited for.
            Poll::Ready(Ok(Reply::Panicking(Some(process)))) => {
                this.dying = Some(process);
                Pin::new(this).poll(cx)
            }
            // A plain task panicked with the slot: there is no exit reason to wait for.
            Poll::Ready(Ok(Reply::Panicking(None))) => Poll::Ready(Err(CallError::NoReply)),
            Poll::Ready(Ok(Reply::Failed(error))) => Poll::Ready(Err(error)),
            // The reply slot was dropped without a panic. The record stores its exit reason
            // before it drops anything that holds a reply slot, so "no reason yet" means the
            // actor is alive and dropped a deferred reply.
            Poll::Ready(Err(_)) => Poll::Ready(Err(match cell.exit_reason() {
                Some(reason) => CallError::Stopped(reason),
                None => CallError::NoReply,
            })),
            Poll::Pending => this.wait(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_reply_slot_is_two_words() {
        // Every call message carries one; see `Slot`.
        assert_eq!(size_of::<super::ReplyTo<u64>>(), 16);
    }
}
