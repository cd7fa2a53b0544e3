//! Handles to supervised children, valid across restarts, and the starters that fill them.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use super::server::Supervisor;
use super::spec::{
    ChildId, ChildSpec, Restart, Shutdown, StartFuture, Started, Starter, Supervise,
};
use crate::actor::{Actor, start};
use crate::addr::Addr;
use crate::exit::ExitReason;
use crate::process::Process;
use crate::record::ProcessRecord;
use crate::target::{ChildSlot, Client, Target};
use crate::{registry, table};

/// A supervised child of actor type `A`: dereferences to `A`'s typed client, like an
/// [`Addr<A>`], but always reaches the child's *current* incarnation.
///
/// When the child is restarted, messages sent through this handle go to the new one. While it
/// is not running (between a crash and its restart, or after it stopped for good), sends fail
/// with `SendError::Stopped` and calls with `CallError::Stopped`, carrying the reason of the
/// last exit. Messages queued in the old incarnation when it crashed are not carried over:
/// their callers get `CallError::Stopped` at once.
pub struct Child<A: Actor> {
    slot: Arc<ChildSlot<A::Msg>>,
    client: A::Client,
    /// Its identity in its supervisor, stable across restarts.
    id: ChildId,
}

impl<A: Actor> Child<A> {
    /// A handle that points nowhere yet; its supervisor fills it.
    #[doc(hidden)]
    #[must_use]
    pub fn __new() -> Self {
        let slot = Arc::new(ChildSlot::new());
        Child {
            client: A::Client::__from_target(Target::routed(slot.clone())),
            slot,
            id: ChildId::next(),
        }
    }

    /// Its identity in its supervisor, as `terminate_child` takes it.
    #[doc(hidden)]
    #[must_use]
    pub fn __id(&self) -> ChildId {
        self.id
    }

    pub(crate) fn slot(&self) -> &Arc<ChildSlot<A::Msg>> {
        &self.slot
    }

    /// The address of the current incarnation, if the child is running.
    #[must_use]
    pub fn addr(&self) -> Option<Addr<A>> {
        self.slot.current().ok().map(Addr::from_record)
    }

    /// Why the child is not running, or `None` while it runs.
    #[must_use]
    pub fn exit_reason(&self) -> Option<ExitReason> {
        self.slot.current().err()
    }

    fn set(&self, value: Result<Arc<ProcessRecord<A::Msg>>, ExitReason>) {
        self.slot.set(value);
    }
}

/// A child between restarts is not gone: events it misses are counted, and it receives the
/// next ones once its supervisor has restarted it.
impl<A: Actor> crate::event::Subscriber for Child<A> {
    fn is_gone(&self) -> bool {
        false
    }
}

impl<A: Actor> Clone for Child<A> {
    fn clone(&self) -> Self {
        Child {
            client: A::Client::__from_target(Target::routed(self.slot.clone())),
            slot: self.slot.clone(),
            id: self.id,
        }
    }
}

impl<A: Actor> Deref for Child<A> {
    type Target = A::Client;

    fn deref(&self) -> &A::Client {
        &self.client
    }
}

impl<A: Actor> fmt::Debug for Child<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.addr() {
            Some(addr) => write!(f, "Child<{}>({})", std::any::type_name::<A>(), addr.pid()),
            None => write!(f, "Child<{}>(not running)", std::any::type_name::<A>()),
        }
    }
}

/// Where a supervisor handle's own supervisor runs (the hidden field of a `#[supervisor]`
/// struct).
#[doc(hidden)]
#[derive(Clone)]
pub struct SupervisorSlot(Child<Supervisor>);

impl SupervisorSlot {
    #[must_use]
    pub fn __new() -> Self {
        SupervisorSlot(Child::__new())
    }

    /// The supervisor's address while it runs.
    #[must_use]
    pub fn addr(&self) -> Option<Addr<Supervisor>> {
        self.0.addr()
    }

    pub(crate) fn child(&self) -> &Child<Supervisor> {
        &self.0
    }

    pub(crate) fn set(&self, addr: Addr<Supervisor>) {
        self.0.set(Ok(addr.record().clone()));
    }

    pub(crate) fn clear(&self, reason: ExitReason) {
        self.0.set(Err(reason));
    }

    pub(crate) fn id(&self) -> ChildId {
        self.0.id
    }

    /// Why the supervisor is not running, or `None` while it runs.
    pub(crate) fn exit_reason(&self) -> Option<ExitReason> {
        self.0.exit_reason()
    }
}

impl fmt::Debug for SupervisorSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

struct ActorStarter<A: Actor, F> {
    child: Child<A>,
    name: Option<&'static str>,
    args: F,
}

impl<A, F> Starter for ActorStarter<A, F>
where
    A: Actor,
    F: Fn() -> A::Args + Send + Sync + 'static,
{
    fn start<'a>(&'a self, parent: &'a Arc<dyn Process>) -> StartFuture<'a> {
        Box::pin(async move {
            let addr = start::<A>((self.args)(), Some(parent), Some(table::of(&**parent)))
                .await
                .map_err(|e| e.to_string())?;
            if let Some(name) = self.name {
                if let Err(e) = registry::register(name, &addr) {
                    // Unlink first so the kill is not taken for a crash of a child.
                    addr.record().remove_link(parent.pid());
                    parent.remove_link(addr.pid());
                    addr.kill();
                    addr.wait_for_exit().await;
                    return Err(e.to_string());
                }
            }
            self.child.set(Ok(addr.record().clone()));
            let process: Arc<dyn Process> = addr.record().clone();
            Ok(Started {
                pid: addr.pid(),
                process,
            })
        })
    }

    fn clear(&self, reason: ExitReason) {
        self.child.set(Err(reason));
    }
}

/// The spec of an actor child: started with `args()` at every (re)start.
#[doc(hidden)]
pub fn actor_child<A, F>(
    child: &Child<A>,
    field: &'static str,
    restart: Restart,
    shutdown: Option<Shutdown>,
    name: Option<&'static str>,
    args: F,
) -> ChildSpec
where
    A: Actor,
    F: Fn() -> A::Args + Send + Sync + 'static,
{
    ChildSpec {
        id: child.id,
        name: field,
        restart,
        shutdown: shutdown.unwrap_or(Shutdown::Timeout(std::time::Duration::from_secs(5))),
        starter: Box::new(ActorStarter {
            child: child.clone(),
            name,
            args,
        }),
    }
}

struct SupervisorStarter<S: Supervise> {
    handle: S,
}

impl<S: Supervise> Starter for SupervisorStarter<S> {
    fn start<'a>(&'a self, parent: &'a Arc<dyn Process>) -> StartFuture<'a> {
        Box::pin(async move {
            let spec = self.handle.__spec();
            let addr = start::<Supervisor>(spec, Some(parent), Some(table::of(&**parent)))
                .await
                .map_err(|e| e.to_string())?;
            self.handle
                .__supervisor()
                .child()
                .set(Ok(addr.record().clone()));
            let process: Arc<dyn Process> = addr.record().clone();
            Ok(Started {
                pid: addr.pid(),
                process,
            })
        })
    }

    fn clear(&self, reason: ExitReason) {
        self.handle.__supervisor().child().set(Err(reason));
    }
}

/// The spec of a nested supervisor child.
#[doc(hidden)]
pub fn supervisor_child<S: Supervise>(
    handle: &S,
    field: &'static str,
    restart: Restart,
    shutdown: Option<Shutdown>,
) -> ChildSpec {
    ChildSpec {
        id: handle.__supervisor().child().id,
        name: field,
        restart,
        shutdown: shutdown.unwrap_or(Shutdown::Infinity),
        starter: Box::new(SupervisorStarter {
            handle: handle.clone(),
        }),
    }
}
