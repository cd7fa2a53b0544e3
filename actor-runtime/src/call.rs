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
use crate::error::{CallError, SendError};
use crate::exit::ExitReason;
use crate::pid::Pid;
use crate::process::Process;
use crate::target::{RecordRef, Target, Unavailable};
use crate::{stats, table, telemetry};

/// The timeout of a call unless overridden with [`Call::timeout`].
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// The reply slot of a call. A `#[handle(call)]` method that takes a `ReplyTo<T>` argument
/// answers later, from anywhere, with [`ReplyTo::send`]; the caller waits meanwhile.
///
/// Dropping it unanswered gives the caller [`CallError::NoReply`] at once.
pub struct ReplyTo<T> {
    tx: Slot<T>,
}

/// The reply sender, and the caller's span when message timing was on at the call (the
/// callee's span is its child). The span is boxed with the sender so that a reply slot stays
/// 16 bytes: 8 more in every call message cost every used actor 128 bytes of task, through
/// the message held across the handler's await (the "memory per idle, after 1 call" row).
enum Slot<T> {
    Taken,
    Plain(oneshot::Sender<Reply<T>>),
    Traced(Box<(oneshot::Sender<Reply<T>>, tracing::span::Id)>),
}

impl<T> Slot<T> {
    fn take(&mut self) -> Option<oneshot::Sender<Reply<T>>> {
        match std::mem::replace(self, Slot::Taken) {
            Slot::Taken => None,
            Slot::Plain(tx) => Some(tx),
            Slot::Traced(traced) => Some(traced.0),
        }
    }

    fn as_ref(&self) -> Option<&oneshot::Sender<Reply<T>>> {
        match self {
            Slot::Taken => None,
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
}

impl<T> ReplyTo<T> {
    /// Answers the call. Returns `false` if the caller is no longer waiting (it timed out);
    /// such late replies are counted in [`crate::stats`].
    pub fn send(mut self, value: T) -> bool {
        let Some(tx) = self.tx.take() else {
            return false;
        };
        if tx.send(Reply::Value(value)).is_ok() {
            true
        } else {
            stats::late_reply();
            false
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
    pub fn is_closed(&self) -> bool {
        self.tx.as_ref().is_none_or(oneshot::Sender::is_closed)
    }
}

impl<T> Drop for ReplyTo<T> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            if let Some(tx) = self.tx.take() {
                let panicking = Pid::current().and_then(table::get);
                let _ = tx.send(Reply::Panicking(panicking));
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

impl<M: Send + 'static, R> Future for CallFuture<'_, M, R> {
    type Output = Result<R, CallError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if this.cell.is_none() {
            match this.target.resolve() {
                Ok(cell) => this.cell = Some(cell),
                Err(Unavailable::Stopped(reason)) => {
                    this.msg = None;
                    stats::undelivered();
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
