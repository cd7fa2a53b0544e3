//! The local actors other nodes may reach: by id, and by the names they were registered under.

use std::collections::HashMap;
use std::future::Future;
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

/// The node's table of reachable actors.
#[derive(Default)]
pub(crate) struct Exports {
    state: RwLock<State>,
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
