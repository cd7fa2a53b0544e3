//! The local actors other nodes may reach: by id, and by the names they were registered under;
//! and the kinds other nodes may spawn here.

use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

use super::kind::RemoteActor;
use crate::addr::{Addr, Rejected};
use crate::call::ReplyRoute;
use crate::error::{CallError, RemoteError, SendError};
use crate::exit::ExitReason;
use crate::pid::Pid;
use crate::sync::{read, write};

/// How a message from another node was handed to its actor.
pub(crate) enum Delivery {
    Done,
    /// The mailbox was full: the connection's reader awaits this (and reads nothing more
    /// meanwhile), so a peer that floods an actor is slowed by TCP, not buffered without end.
    Wait(Pin<Box<dyn Future<Output = ()> + Send>>),
}

/// A local actor reachable from other nodes, with its type erased.
pub(crate) trait Inbound: Send + Sync {
    fn kind(&self) -> &'static str;
    /// Decodes and enqueues a message; `reply` for a call.
    fn deliver(&self, body: &[u8], reply: Option<ReplyRoute>) -> Result<Delivery, RemoteError>;
}

struct Exported<A: RemoteActor> {
    addr: Addr<A>,
}

impl<A: RemoteActor> Inbound for Exported<A> {
    fn kind(&self) -> &'static str {
        A::KIND
    }

    fn deliver(&self, body: &[u8], reply: Option<ReplyRoute>) -> Result<Delivery, RemoteError> {
        let back = reply.as_ref().map(|r| (r.sink.clone(), r.corr));
        let msg = A::__decode(body, reply)?;
        match self.addr.try_send(msg) {
            Ok(()) => Ok(Delivery::Done),
            Err(Rejected { msg, error }) => match error {
                SendError::Full { .. } => {
                    let addr = self.addr.clone();
                    Ok(Delivery::Wait(Box::pin(async move {
                        let _ = addr.send(msg).await;
                    })))
                }
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
    /// Decodes the arguments, starts the actor and exports it by id.
    fn spawn(&self, exports: Arc<Exports>, args: bytes::Bytes) -> Spawned;
}

struct SpawnerOf<A>(PhantomData<fn() -> A>);

impl<A> Spawner for SpawnerOf<A>
where
    A: RemoteActor,
    A::Args: serde::de::DeserializeOwned,
{
    fn spawn(&self, exports: Arc<Exports>, args: bytes::Bytes) -> Spawned {
        Box::pin(async move {
            let args: A::Args = rmp_serde::from_slice(&args)
                .map_err(|e| format!("the arguments for a `{}` do not decode: {e}", A::KIND))?;
            let addr = A::spawn(args)
                .await
                .map_err(|e| format!("a `{}` did not start: {e}", A::KIND))?;
            exports.export(&addr);
            Ok(addr.pid().id())
        })
    }
}

/// The node's table of reachable actors.
#[derive(Default)]
pub(crate) struct Exports {
    state: RwLock<State>,
    spawners: RwLock<HashMap<&'static str, Arc<dyn Spawner>>>,
}

#[derive(Default)]
struct State {
    by_id: HashMap<u64, Arc<dyn Inbound>>,
    names: HashMap<String, u64>,
}

impl Exports {
    /// Makes `addr` reachable under `name`; forgotten when the actor stops.
    pub(crate) fn register<A: RemoteActor>(
        self: &Arc<Self>,
        name: &str,
        addr: &Addr<A>,
    ) -> Result<(), Pid> {
        let id = addr.pid().id();
        {
            let mut state = write(&self.state);
            if let Some(&holder) = state.names.get(name) {
                if holder != id && state.by_id.contains_key(&holder) {
                    return Err(Pid::local(holder));
                }
            }
            state.names.insert(name.to_owned(), id);
            state
                .by_id
                .insert(id, Arc::new(Exported { addr: addr.clone() }));
        }
        let exports = Arc::downgrade(self);
        let name = name.to_owned();
        addr.record().on_exit(Box::new(move |_| {
            if let Some(exports) = exports.upgrade() {
                let mut state = write(&exports.state);
                state.by_id.remove(&id);
                if state.names.get(&name) == Some(&id) {
                    state.names.remove(&name);
                }
            }
        }));
        Ok(())
    }

    /// Makes `addr` reachable by its id alone (a remotely spawned actor); forgotten when it
    /// stops.
    pub(crate) fn export<A: RemoteActor>(self: &Arc<Self>, addr: &Addr<A>) {
        let id = addr.pid().id();
        write(&self.state)
            .by_id
            .insert(id, Arc::new(Exported { addr: addr.clone() }));
        let exports = Arc::downgrade(self);
        addr.record().on_exit(Box::new(move |_| {
            if let Some(exports) = exports.upgrade() {
                write(&exports.state).by_id.remove(&id);
            }
        }));
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
