//! Where a generated client's messages go: one actor's mailbox, or a route that picks one
//! (a supervised child's current incarnation, a pool's next worker with room).

use std::fmt;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};

use crate::error::SendError;
use crate::exit::ExitReason;
use crate::process::Process;
use crate::record::ProcessRecord;
use crate::sync::{read, write};
use crate::table;

/// The transport behind a generated client: where its messages go.
///
/// Generated code builds messages and hands them to a `Target`; users never name it. A target
/// is either one actor's mailbox (an [`Addr`](crate::Addr)) or a [`Route`]: a supervised child's
/// slot, which always points at the child's current incarnation, or a pool.
#[doc(hidden)]
pub struct Target<M> {
    kind: Kind<M>,
}

/// Two variants, not three: a route's pointer leaves one niche for `Local`, so a target (and
/// every `Addr` and `Ctx`) stays 16 bytes. A third variant for remote actors made it 24 and
/// cost every used idle actor 128 bytes of task; remote actors are routes instead.
enum Kind<M> {
    Local(Arc<ProcessRecord<M>>),
    Routed(Arc<dyn Route<M>>),
}

/// An actor on another node: messages are encoded into its connection's outbound queue.
/// Implemented by the node layer, so this layer never names connections.
/// Casts go through [`Route::cast`]; this is what a waiting call needs beyond that.
pub(crate) trait Outbound<M>: Send + Sync {
    /// Waiting send: `Pending` while the connection's queue is full; takes the message out of
    /// `msg` once it is queued.
    fn poll_send(&self, cx: &mut Context<'_>, msg: &mut Option<M>) -> Poll<Result<(), SendError>>;
}

/// Picks the mailbox a message goes to now. Implemented by the layers above addressing
/// (supervised child slots, pools, and remote actors, which have none), so this layer never
/// names them.
pub(crate) trait Route<M>: Send + Sync {
    /// The mailbox a call goes to now.
    fn pick(&self) -> Result<Arc<ProcessRecord<M>>, Unavailable>;
    /// Fail-fast send of a cast message.
    fn cast(&self, msg: M) -> Result<(), SendError>;
    /// What `Debug` prints for a target on this route.
    fn describe(&self) -> String;
    /// The connection, if the route leads to an actor on another node.
    fn outbound(&self) -> Option<&dyn Outbound<M>> {
        None
    }
}

impl<M> Clone for Target<M> {
    fn clone(&self) -> Self {
        Target {
            kind: match &self.kind {
                Kind::Local(c) => Kind::Local(c.clone()),
                Kind::Routed(r) => Kind::Routed(r.clone()),
            },
        }
    }
}

impl<M> fmt::Debug for Target<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Local(c) => fmt::Debug::fmt(c, f),
            Kind::Routed(r) => f.write_str(&r.describe()),
        }
    }
}

/// A target's mailbox, borrowed from an address or taken from a route.
pub(crate) enum RecordRef<'a, M> {
    Borrowed(&'a Arc<ProcessRecord<M>>),
    Owned(Arc<ProcessRecord<M>>),
}

impl<M> std::ops::Deref for RecordRef<'_, M> {
    type Target = Arc<ProcessRecord<M>>;
    fn deref(&self) -> &Arc<ProcessRecord<M>> {
        match self {
            RecordRef::Borrowed(c) => c,
            RecordRef::Owned(c) => c,
        }
    }
}

/// Why a target has no mailbox to take a message now.
pub(crate) enum Unavailable {
    Stopped(ExitReason),
    /// Every worker of a pool is full.
    Overloaded,
}

impl<M: Send + 'static> Target<M> {
    pub(crate) fn local(record: Arc<ProcessRecord<M>>) -> Self {
        Target {
            kind: Kind::Local(record),
        }
    }

    pub(crate) fn routed(route: Arc<dyn Route<M>>) -> Self {
        Target {
            kind: Kind::Routed(route),
        }
    }

    /// The mailbox of a target built by [`Target::local`].
    pub(crate) fn local_record(&self) -> Option<&Arc<ProcessRecord<M>>> {
        match &self.kind {
            Kind::Local(c) => Some(c),
            Kind::Routed(_) => None,
        }
    }

    /// The connection, if the target is an actor on another node.
    pub(crate) fn remote(&self) -> Option<&dyn Outbound<M>> {
        match &self.kind {
            Kind::Routed(r) => r.outbound(),
            Kind::Local(_) => None,
        }
    }

    /// The mailbox a call goes to now; `Err` if there is none (a child that is not running,
    /// a pool whose workers are all full or stopped).
    pub(crate) fn resolve(&self) -> Result<RecordRef<'_, M>, Unavailable> {
        match &self.kind {
            Kind::Local(c) => Ok(RecordRef::Borrowed(c)),
            Kind::Routed(r) => r.pick().map(RecordRef::Owned),
        }
    }

    /// Fail-fast send of a cast message.
    pub fn cast(&self, msg: M) -> Result<(), SendError> {
        match &self.kind {
            Kind::Local(c) => c.try_send(msg).map_err(|(_, e)| e),
            Kind::Routed(r) => r.cast(msg),
        }
    }
}

/// Where a supervised child lives now: replaced by its supervisor at every restart.
pub(crate) struct ChildSlot<M> {
    current: RwLock<Result<Arc<ProcessRecord<M>>, ExitReason>>,
}

impl<M: Send + 'static> ChildSlot<M> {
    pub(crate) fn new() -> Self {
        ChildSlot {
            current: RwLock::new(Err(ExitReason::NoProc)),
        }
    }

    pub(crate) fn current(&self) -> Result<Arc<ProcessRecord<M>>, ExitReason> {
        match &*read(&self.current) {
            Ok(record) => match record.exit_reason() {
                None => Ok(record.clone()),
                Some(reason) => Err(reason),
            },
            Err(reason) => Err(reason.clone()),
        }
    }

    pub(crate) fn set(&self, value: Result<Arc<ProcessRecord<M>>, ExitReason>) {
        *write(&self.current) = value;
    }
}

impl<M: Send + 'static> Route<M> for ChildSlot<M> {
    fn pick(&self) -> Result<Arc<ProcessRecord<M>>, Unavailable> {
        self.current().map_err(Unavailable::Stopped)
    }

    fn cast(&self, msg: M) -> Result<(), SendError> {
        match self.current() {
            Ok(record) => record.try_send(msg).map_err(|(_, e)| e),
            Err(reason) => {
                table::current().counters.undelivered();
                Err(SendError::Stopped(reason))
            }
        }
    }

    fn describe(&self) -> String {
        "Child".to_owned()
    }
}

/// The generated client type of an actor: `FooClient` for `#[actor] struct Foo`.
#[doc(hidden)]
pub trait Client<M>: Send + Sync + Sized + 'static {
    fn __from_target(target: Target<M>) -> Self;
    fn __target(&self) -> &Target<M>;
}
