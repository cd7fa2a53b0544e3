//! The local actors other nodes may reach: by id, and by the names they were registered under;
//! and the kinds other nodes may spawn here.

use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

use super::kind::RemoteActor;
use crate::addr::{Addr, Addressable};
use crate::call::ReplyRoute;
use crate::error::{CallError, RemoteError, SendError};
use crate::exit::ExitReason;
use crate::pid::Pid;
use crate::process::Process;
use crate::sync::{read, write};
use crate::table;
use crate::tables::TablesRef;
use crate::target::{Client, Target, Unavailable};

/// How a message from another node was handed to its actor.
pub(crate) enum Delivery {
    Done,
    /// The mailbox was full: the connection's reader awaits this (and reads nothing more
    /// meanwhile), so a peer that floods an actor is slowed by TCP, not buffered without end.
    Wait(Wait),
}

/// A message that waits for room in its actor's mailbox.
pub(crate) type Wait = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Where an exported actor's messages go, and the process links and monitors attach to.
pub(crate) type Found<M> = (Target<M>, Arc<dyn Process>);

/// A local actor reachable from other nodes, with its type erased.
pub(crate) trait Inbound: Send + Sync {
    fn kind(&self) -> &'static str;
    /// For [`Exports::typed`]: the entry as its concrete type.
    fn as_any(&self) -> &dyn std::any::Any;
    /// Decodes and enqueues a message; `reply` for a call.
    fn deliver(&self, body: &[u8], reply: Option<ReplyRoute>) -> Result<Delivery, RemoteError>;
    /// The actor whose life the entry follows, for links and monitors.
    fn lives(&self) -> Arc<dyn Process>;
}

/// An actor's mailbox, or a route that picks one (a pool's next worker with room).
struct Exported<A: RemoteActor> {
    target: Target<A::Msg>,
    /// The actor whose life the entry follows (a pool's supervisor), for links and monitors.
    lives: Arc<dyn Process>,
}

impl<A: RemoteActor> Inbound for Exported<A> {
    fn kind(&self) -> &'static str {
        A::KIND
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn lives(&self) -> Arc<dyn Process> {
        self.lives.clone()
    }

    fn deliver(&self, body: &[u8], reply: Option<ReplyRoute>) -> Result<Delivery, RemoteError> {
        let back = reply.as_ref().map(|r| (r.sink.clone(), r.corr));
        let msg = A::__decode(body, reply)?;
        let record = match self.target.resolve() {
            Ok(record) => Arc::clone(&record),
            // Every worker of a pool is full: a call is refused as it would be locally, and a
            // cast is shed (and counted) by the pool.
            Err(Unavailable::Overloaded) => {
                match back {
                    Some((sink, corr)) => sink.reply(corr, Err(CallError::Overloaded)),
                    None => drop(self.target.cast(msg)),
                }
                return Ok(Delivery::Done);
            }
            Err(Unavailable::Stopped(reason)) => {
                if let Some((sink, corr)) = back {
                    sink.reply(corr, Err(CallError::Stopped(reason)));
                }
                return Ok(Delivery::Done);
            }
        };
        match record.try_send(msg) {
            Ok(()) => Ok(Delivery::Done),
            Err((msg, error)) => match error {
                SendError::Full { .. } => Ok(Delivery::Wait(Box::pin(async move {
                    let mut slot = Some(msg);
                    let _ = std::future::poll_fn(|cx| record.poll_send(cx, &mut slot)).await;
                }))),
                error => {
                    // Answer before the message (and its reply slot) is dropped, so the caller
                    // hears why and not "no reply".
                    if let Some((sink, corr)) = back {
                        let reason = match error {
                            SendError::Stopped(reason) => reason,
                            other => ExitReason::error(other),
                        };
                        sink.reply(corr, Err(CallError::Stopped(reason)));
                    }
                    drop(msg);
                    Ok(Delivery::Done)
                }
            },
        }
    }
}

/// The outcome of a spawn asked for by another node: the new actor's id, or why there is none.
pub(crate) type Spawned = Pin<Box<dyn Future<Output = Result<u64, String>> + Send>>;

/// A kind other nodes may spawn here, with its type erased.
pub(crate) trait Spawner: Send + Sync {
    /// Decodes the arguments (at once, in the caller's decoding context), then starts the
    /// actor and exports it by id.
    fn spawn(&self, exports: Arc<Exports>, args: &[u8]) -> Spawned;
}

struct SpawnerOf<A>(PhantomData<fn() -> A>);

impl<A> Spawner for SpawnerOf<A>
where
    A: RemoteActor,
    A::Args: serde::de::DeserializeOwned,
{
    fn spawn(&self, exports: Arc<Exports>, args: &[u8]) -> Spawned {
        let args: Result<A::Args, String> = rmp_serde::from_slice(args)
            .map_err(|e| format!("the arguments for a `{}` do not decode: {e}", A::KIND));
        Box::pin(async move {
            let args = args?;
            let addr = crate::actor::start::<A>(args, None, Some(exports.tables.clone()))
                .await
                .map_err(|e| format!("a `{}` did not start: {e}", A::KIND))?;
            exports.export(&addr);
            Ok(addr.pid().id())
        })
    }
}

/// The node's table of reachable actors.
pub(crate) struct Exports {
    state: RwLock<State>,
    spawners: RwLock<HashMap<&'static str, Arc<dyn Spawner>>>,
    /// The node's tables: where remote spawns start their actors, and where an id that was
    /// not exported is looked for.
    tables: TablesRef,
}

#[derive(Default)]
struct State {
    by_id: HashMap<u64, Arc<dyn Inbound>>,
    names: HashMap<String, u64>,
}

impl Exports {
    pub(crate) fn new(tables: TablesRef) -> Exports {
        Exports {
            state: RwLock::default(),
            spawners: RwLock::default(),
            tables,
        }
    }

    /// The local actor `id` as another node may reach it for links, monitors and exit
    /// signals: an exported actor (or a pool's supervisor), else any actor of this node.
    /// Another node of this OS process has its actors reached only where this node exported
    /// them (`Node::register` and `Node::handle` are explicit).
    pub(crate) fn resolve(&self, id: u64) -> Option<Arc<dyn Process>> {
        match self.get(id) {
            Some(exported) => Some(exported.lives()),
            None => table::get_in(&self.tables, Pid::local(id)),
        }
    }

    /// Makes the actor (or pool) behind `target` reachable by the id of `lives`, and under
    /// `name` if given; both are forgotten when `lives` stops (a pool's supervisor).
    pub(crate) fn register<A: RemoteActor, L: Addressable>(
        self: &Arc<Self>,
        name: Option<&str>,
        target: Target<A::Msg>,
        lives: &Addr<L>,
    ) -> Result<(), Pid> {
        let id = lives.pid().id();
        {
            let mut state = write(&self.state);
            if let Some(name) = name {
                if let Some(&holder) = state.names.get(name) {
                    if holder != id && state.by_id.contains_key(&holder) {
                        return Err(Pid::local(holder));
                    }
                }
                state.names.insert(name.to_owned(), id);
            }
            let lives: Arc<dyn Process> = lives.record().clone();
            state
                .by_id
                .insert(id, Arc::new(Exported::<A> { target, lives }));
        }
        let exports = Arc::downgrade(self);
        let name = name.map(str::to_owned);
        lives.record().on_exit(Box::new(move |_| {
            if let Some(exports) = exports.upgrade() {
                let mut state = write(&exports.state);
                state.by_id.remove(&id);
                if let Some(name) = name {
                    if state.names.get(&name) == Some(&id) {
                        state.names.remove(&name);
                    }
                }
            }
        }));
        Ok(())
    }

    /// Makes `addr` reachable by its id alone (a remotely spawned actor); forgotten when it
    /// stops.
    pub(crate) fn export<A: RemoteActor>(self: &Arc<Self>, addr: &Addr<A>) {
        let target = Client::__target(&**addr).clone();
        // An id alone is never taken.
        let _ = self.register::<A, A>(None, target, addr);
    }

    /// Lets other nodes spawn actors of kind `A` here.
    pub(crate) fn allow_spawn<A>(&self)
    where
        A: RemoteActor,
        A::Args: serde::de::DeserializeOwned,
    {
        write(&self.spawners).insert(A::KIND, Arc::new(SpawnerOf::<A>(PhantomData)));
    }

    /// The spawner of `kind`, if other nodes may spawn it here.
    pub(crate) fn spawner(&self, kind: &str) -> Option<Arc<dyn Spawner>> {
        read(&self.spawners).get(kind).cloned()
    }

    pub(crate) fn get(&self, id: u64) -> Option<Arc<dyn Inbound>> {
        read(&self.state).by_id.get(&id).cloned()
    }

    /// The exported actor `id`, if it is of kind `A`: where its messages go, and the process
    /// that links and monitors attach to.
    pub(crate) fn typed<A: RemoteActor>(&self, id: u64) -> Option<Found<A::Msg>> {
        let inbound = self.get(id)?;
        let exported = inbound.as_any().downcast_ref::<Exported<A>>()?;
        Some((exported.target.clone(), exported.lives.clone()))
    }

    /// The id registered as `name`, checked to be of `kind`.
    pub(crate) fn lookup(&self, name: &str, kind: &str, node: &str) -> Result<u64, String> {
        let state = read(&self.state);
        let Some(id) = state.names.get(name) else {
            return Err(format!(
                "no actor is registered as `{name}` on node `{node}`"
            ));
        };
        match state.by_id.get(id) {
            Some(inbound) if inbound.kind() == kind => Ok(*id),
            Some(inbound) => Err(format!(
                "`{name}` on node `{node}` is a `{}`, not a `{kind}`",
                inbound.kind()
            )),
            None => Err(format!(
                "no actor is registered as `{name}` on node `{node}`"
            )),
        }
    }
}
