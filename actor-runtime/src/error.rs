//! The errors the runtime returns. Each one says what happened and what to do about it.

use std::fmt;
use std::time::Duration;

use crate::exit::ExitReason;
use crate::pid::Pid;

/// A fire-and-forget send (a `#[handle(cast)]` method) did not enqueue its message.
///
/// The message was not delivered and is counted in [`crate::stats`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// The mailbox holds `capacity` messages already. Retry later, shed the work, or use the
    /// waiting send ([`Addr::send`](crate::Addr::send)).
    Full {
        /// The mailbox capacity.
        capacity: usize,
    },
    /// The actor has stopped; its exit reason is attached.
    Stopped(ExitReason),
    /// A waiting send ([`Addr::send`](crate::Addr::send)) from an actor to itself found its own
    /// mailbox full: only the sender could make room, so waiting would never end.
    OwnMailboxFull {
        /// The mailbox capacity.
        capacity: usize,
    },
    /// The actor is on another node and the message could not go there (see [`RemoteError`]).
    Remote(RemoteError),
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Full { capacity } => {
                write!(
                    f,
                    "mailbox full ({capacity} messages): the message was not sent"
                )
            }
            SendError::Stopped(reason) => write!(f, "actor has stopped ({reason})"),
            SendError::OwnMailboxFull { capacity } => write!(
                f,
                "own mailbox full ({capacity} messages): a waiting send to yourself would wait forever; handle the work inline or use the fail-fast cast"
            ),
            SendError::Remote(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl std::error::Error for SendError {}

/// A request/reply (a `#[handle(call)]` method) did not produce a reply.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallError {
    /// No reply within the timeout (5 s unless overridden with `.timeout(..)`). The request may
    /// still be processed; its late reply is discarded and counted.
    Timeout(Duration),
    /// The actor was not running when the call was made, or stopped before replying.
    Stopped(ExitReason),
    /// The actor dropped the [`ReplyTo`](crate::ReplyTo) of a deferred call without answering.
    NoReply,
    /// An actor called itself; it would wait forever for its own reply.
    CallToSelf(Pid),
    /// Every worker of a pool had a full mailbox: the call was shed (and counted) rather than
    /// queued. Answer "busy" (HTTP 503) or retry later.
    Overloaded,
    /// The actor is on another node and the request or its reply could not travel (see
    /// [`RemoteError`]).
    Remote(RemoteError),
}

impl CallError {
    /// The call's error for a request that could not be sent.
    pub(crate) fn from_send(error: SendError) -> CallError {
        match error {
            SendError::Stopped(reason) => CallError::Stopped(reason),
            SendError::Remote(e) => CallError::Remote(e),
            SendError::Full { .. } | SendError::OwnMailboxFull { .. } => CallError::Overloaded,
        }
    }
}

/// Why a message to an actor on another node did not arrive, or its reply did not come back.
/// The connection stays up: each of these concerns one message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RemoteError {
    /// The message (or reply) could not be encoded; the text is serde's.
    Encode(String),
    /// The other node could not decode the message (its type differs from ours: the nodes
    /// run different builds), or the reply did not decode here.
    Decode(String),
    /// The other node has no actor of this kind at this address (it was never exported, or
    /// the kinds differ).
    Unknown(String),
    /// The message is larger than the connection allows (`max_message`).
    TooLarge {
        /// Its encoded size in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RemoteError::Encode(e) => write!(f, "the message could not be encoded: {e}"),
            RemoteError::Decode(e) => write!(
                f,
                "the message did not decode on the other side ({e}): do both nodes run the same build of its type?"
            ),
            RemoteError::Unknown(e) => write!(f, "no such remote actor: {e}"),
            RemoteError::TooLarge { len, max } => write!(
                f,
                "the message is {len} bytes, more than the {max} the connection accepts"
            ),
        }
    }
}

impl std::error::Error for RemoteError {}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Timeout(d) => write!(f, "no reply within {d:?}"),
            CallError::Stopped(reason) => write!(f, "actor stopped before replying ({reason})"),
            CallError::NoReply => f.write_str("actor dropped the reply without answering"),
            CallError::Overloaded => {
                f.write_str("every worker is busy (mailboxes full): the call was shed")
            }
            CallError::Remote(e) => fmt::Display::fmt(e, f),
            CallError::CallToSelf(pid) => write!(
                f,
                "actor {pid} called itself and would deadlock; handle the work inline or cast to yourself"
            ),
        }
    }
}

impl std::error::Error for CallError {}

/// Starting an actor failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpawnError<E> {
    /// The actor's `#[init]` returned this error.
    Init(E),
    /// The actor's `#[init]` panicked; the text is the panic message.
    Panicked(String),
    /// The name in `#[actor(name = "...")]` is taken by another running actor.
    NameTaken {
        /// The name.
        name: String,
        /// Its current holder.
        holder: Pid,
    },
    /// `spawn` was awaited outside a tokio runtime; actors run on tokio.
    NoRuntime,
    /// The node is shutting down ([`crate::shutdown`]): no new actors start.
    ShuttingDown,
}

impl<E: fmt::Display> fmt::Display for SpawnError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpawnError::Init(e) => write!(f, "actor init failed: {e}"),
            SpawnError::Panicked(msg) => write!(f, "actor init panicked: {msg}"),
            SpawnError::NameTaken { name, holder } => {
                write!(f, "name `{name}` is already registered by {holder}")
            }
            SpawnError::NoRuntime => f.write_str(
                "no tokio runtime: spawn actors from inside a tokio runtime (e.g. under #[tokio::main])",
            ),
            SpawnError::ShuttingDown => {
                f.write_str("the node is shutting down: no new actors start")
            }
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for SpawnError<E> {}
