//! [`Remote<A>`]: a typed handle to an actor on another node, with the same generated client
//! as [`Addr<A>`](crate::Addr), that can travel inside messages between nodes.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;
use std::task::{Context, Poll};

use serde::de::Error as _;
use serde::ser::Error as _;

use super::connection::{self, Connection};
use super::envelope::NodeRef;
use super::exports::Found;
use super::kind::RemoteActor;
use crate::addr::{Linkable, ProcessRef};
use crate::error::SendError;
use crate::exit::ExitReason;
use crate::pid::Pid;
use crate::process::{Process, ProcessInfo};
use crate::target::{self, Client, Outbound, Target, Unavailable};

/// A handle to an actor of type `A` on another node, from [`Node::lookup`](super::Node::lookup),
/// [`Node::spawn`](super::Node::spawn), or a message.
///
/// It dereferences to the actor's generated client, exactly as an [`Addr<A>`](crate::Addr)
/// does: `remote.nearby(lon, lat).await?` is the call it would be locally. Casts fail fast
/// with [`SendError::Full`] while the connection's outbound queue is full; calls wait for
/// room within their timeout. Once the connection is lost every send fails with
/// [`ExitReason::NoConnection`], and the handle stays bound to that connection: look the
/// actor up again after the node is back (its new creation makes old pids stale).
///
/// [`Ctx::link`](crate::Ctx::link) and [`Ctx::monitor`](crate::Ctx::monitor) accept it.
///
/// A `Remote` may be a field of a message between nodes: sent to the node it points at, it
/// arrives as a handle to that node's own actor; a handle to a local actor
/// ([`Node::handle`](super::Node::handle)) arrives as a handle back to this node. A handle to
/// an actor of a third node arrives as a handle to that node: the receiver connects to it
/// before it decodes the message (by its own route or registrar, or else where the sender
/// reached it), and the message waits in order meanwhile. If that node cannot be reached, or
/// has restarted since, the handle's sends fail with [`ExitReason::NoConnection`].
pub struct Remote<A: RemoteActor> {
    client: A::Client,
    at: At<A>,
}

/// Where the actor is.
enum At<A> {
    /// On the other end of a connection.
    There(Arc<Route<A>>),
    /// On this node: from [`Node::handle`](super::Node::handle), or a handle of ours that
    /// came back in a message.
    Here {
        id: u64,
        node: Arc<str>,
        process: Arc<dyn Process>,
    },
}

struct Route<A> {
    conn: Arc<Connection>,
    id: u64,
    _kind: PhantomData<fn() -> A>,
}

impl<A: RemoteActor> Outbound<A::Msg> for Route<A> {
    fn poll_send(
        &self,
        cx: &mut Context<'_>,
        msg: &mut Option<A::Msg>,
    ) -> Poll<Result<(), SendError>> {
        match self.conn.out.poll_room(Some(cx)) {
            Poll::Ready(Ok(())) => match msg.take() {
                Some(msg) => Poll::Ready(self.conn.send::<A>(self.id, msg)),
                None => Poll::Ready(Ok(())),
            },
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// A remote actor is a route with no local mailbox: calls take the connection
/// ([`target::Route::outbound`]) instead.
impl<A: RemoteActor> target::Route<A::Msg> for Route<A> {
    fn pick(&self) -> Result<Arc<crate::record::ProcessRecord<A::Msg>>, Unavailable> {
        Err(Unavailable::Stopped(ExitReason::NoConnection))
    }

    fn cast(&self, msg: A::Msg) -> Result<(), SendError> {
        match self.conn.out.poll_room(None) {
            Poll::Ready(Ok(())) => self.conn.send::<A>(self.id, msg),
            Poll::Ready(Err(e)) => Err(e),
            Poll::Pending => Err(SendError::Stopped(ExitReason::NoConnection)),
        }
    }

    fn describe(&self) -> String {
        format!(
            "Remote<{}>({} on {})",
            A::KIND,
            self.conn.remote_pid(self.id),
            self.conn.peer.name
        )
    }

    fn outbound(&self) -> Option<&dyn Outbound<A::Msg>> {
        Some(self)
    }
}

impl<A: RemoteActor> Remote<A> {
    pub(crate) fn new(conn: Arc<Connection>, id: u64) -> Self {
        let route = Arc::new(Route {
            conn,
            id,
            _kind: PhantomData,
        });
        let routed: Arc<dyn target::Route<A::Msg>> = route.clone();
        Remote {
            client: A::Client::__from_target(Target::routed(routed)),
            at: At::There(route),
        }
    }

    /// A handle to the local actor `id` of node `node`, exported there; one that stopped
    /// (no longer exported) gives a handle whose sends fail with [`ExitReason::NoProc`].
    pub(crate) fn here(id: u64, node: Arc<str>, found: Option<Found<A::Msg>>) -> Self {
        let (target, process) = found.unwrap_or_else(|| {
            let gone: Arc<dyn target::Route<A::Msg>> = Arc::new(Gone);
            (Target::routed(gone), Arc::new(Stopped(Pid::local(id))))
        });
        Remote {
            client: A::Client::__from_target(target),
            at: At::Here { id, node, process },
        }
    }

    /// The actor's pid as this node sees it ([`Pid::node`] numbers its node here).
    #[must_use]
    pub fn pid(&self) -> Pid {
        match &self.at {
            At::There(route) => route.conn.remote_pid(route.id),
            At::Here { id, .. } => Pid::local(*id),
        }
    }

    /// The name of the actor's node.
    #[must_use]
    pub fn node(&self) -> &str {
        match &self.at {
            At::There(route) => &route.conn.peer.name,
            At::Here { node, .. } => node,
        }
    }

    /// `false` once the connection to its node is lost (always `true` for an actor of this
    /// node).
    #[must_use]
    pub fn is_connected(&self) -> bool {
        match &self.at {
            At::There(route) => route.conn.out.closed().is_none(),
            At::Here { .. } => true,
        }
    }

    /// Sends a message, waiting while the connection's outbound queue (or, for an actor of
    /// this node, its mailbox) is full.
    ///
    /// # Errors
    /// [`SendError::Stopped`] with [`ExitReason::NoConnection`] once the connection is lost;
    /// [`SendError::Remote`] if the message cannot be encoded or is too large.
    pub async fn send(&self, msg: A::Msg) -> Result<(), SendError> {
        let mut slot = Some(msg);
        match &self.at {
            At::There(route) => std::future::poll_fn(|cx| route.poll_send(cx, &mut slot)).await,
            At::Here { .. } => {
                let record = match Client::__target(&self.client).resolve() {
                    Ok(record) => Arc::clone(&record),
                    Err(Unavailable::Stopped(reason)) => return Err(SendError::Stopped(reason)),
                    Err(Unavailable::Overloaded) => {
                        let msg = slot.take().expect("not sent yet");
                        return Client::__target(&self.client).cast(msg);
                    }
                };
                std::future::poll_fn(|cx| record.poll_send(cx, &mut slot)).await
            }
        }
    }

    /// Kills the actor (reason [`ExitReason::Killed`]), as [`Addr::kill`](crate::Addr::kill).
    pub fn kill(&self) {
        match &self.at {
            At::There(route) => route.conn.kill(route.id),
            At::Here { process, .. } => process.kill(),
        }
    }
}

impl<A: RemoteActor> Deref for Remote<A> {
    type Target = A::Client;

    fn deref(&self) -> &A::Client {
        &self.client
    }
}

impl<A: RemoteActor> Clone for Remote<A> {
    fn clone(&self) -> Self {
        match &self.at {
            At::There(route) => Remote::new(route.conn.clone(), route.id),
            At::Here { id, node, process } => Remote {
                client: A::Client::__from_target(Client::__target(&self.client).clone()),
                at: At::Here {
                    id: *id,
                    node: node.clone(),
                    process: process.clone(),
                },
            },
        }
    }
}

impl<A: RemoteActor> fmt::Debug for Remote<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.at {
            At::There(route) => f.write_str(&target::Route::describe(&**route)),
            At::Here { node, .. } => {
                write!(
                    f,
                    "Remote<{}>({} on {node}, this node)",
                    A::KIND,
                    self.pid()
                )
            }
        }
    }
}

impl<A: RemoteActor> Linkable for Remote<A> {
    fn __process(&self) -> ProcessRef {
        match &self.at {
            At::There(route) => ProcessRef(route.conn.proxy(route.id)),
            At::Here { process, .. } => ProcessRef(process.clone()),
        }
    }

    fn __pid(&self) -> Pid {
        self.pid()
    }
}

/// A handle on the wire: whose actor it is, seen from the sender.
#[derive(serde::Serialize, serde::Deserialize)]
enum Wire {
    /// An actor of the sending node (exported there by this id).
    Sender(u64),
    /// An actor of the receiving node.
    Receiver(u64),
    /// An actor of a third node, of this creation (exported there by this id). The message
    /// is preceded by a `Nodes` signal naming that node, for the receiver to connect first.
    Third {
        node: String,
        creation: u32,
        id: u64,
    },
}

impl<A: RemoteActor> serde::Serialize for Remote<A> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let wire = match &self.at {
            At::Here { id, .. } => {
                if !connection::encoding_for_a_node() {
                    return Err(S::Error::custom(OUTSIDE));
                }
                Wire::Sender(*id)
            }
            At::There(route) => match connection::encoding_on(&route.conn) {
                None => return Err(S::Error::custom(OUTSIDE)),
                Some(true) => Wire::Receiver(route.id),
                Some(false) => {
                    let peer = &route.conn.peer;
                    connection::naming(NodeRef {
                        name: peer.name.clone(),
                        creation: peer.creation,
                        addr: route.conn.dialled,
                    });
                    Wire::Third {
                        node: peer.name.clone(),
                        creation: peer.creation,
                        id: route.id,
                    }
                }
            },
        };
        (A::KIND, wire).serialize(serializer)
    }
}

/// Why a `Remote` was encoded or decoded outside a message between nodes.
const OUTSIDE: &str = "a `Remote` is encoded and decoded only inside messages between nodes";

impl<'de, A: RemoteActor> serde::Deserialize<'de> for Remote<A> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (kind, wire) = <(String, Wire)>::deserialize(deserializer)?;
        if kind != A::KIND {
            return Err(D::Error::custom(format_args!(
                "a handle to a `{kind}` where a `Remote<{}>` was expected",
                A::KIND
            )));
        }
        let conn = connection::decoding_from().ok_or_else(|| D::Error::custom(OUTSIDE))?;
        Ok(match wire {
            Wire::Sender(id) => Remote::new(conn, id),
            Wire::Receiver(id) => {
                Remote::here(id, conn.local.clone(), conn.exports().typed::<A>(id))
            }
            Wire::Third { node, creation, id } => match conn.third(&node, creation) {
                Some(there) => Remote::new(there, id),
                None => Remote::here(id, conn.local.clone(), conn.exports().typed::<A>(id)),
            },
        })
    }
}

/// Where the messages of a handle to a stopped local actor go: nowhere.
struct Gone;

impl<M: Send + 'static> target::Route<M> for Gone {
    fn pick(&self) -> Result<Arc<crate::record::ProcessRecord<M>>, Unavailable> {
        Err(Unavailable::Stopped(ExitReason::NoProc))
    }

    fn cast(&self, _: M) -> Result<(), SendError> {
        Err(SendError::Stopped(ExitReason::NoProc))
    }

    fn describe(&self) -> String {
        "Remote(stopped)".to_owned()
    }
}

/// A stopped local actor, as links and monitors see it: linking or monitoring it gives
/// [`ExitReason::NoProc`] at once, as for any stopped actor.
struct Stopped(Pid);

impl Process for Stopped {
    fn pid(&self) -> Pid {
        self.0
    }

    fn signal(&self, _: crate::exit::Signal) {}

    fn add_link(&self, _: Pid, _: std::sync::Weak<dyn Process>) -> Result<(), ExitReason> {
        Err(ExitReason::NoProc)
    }

    fn remove_link(&self, _: Pid) -> bool {
        true
    }

    fn add_watcher(
        &self,
        _: crate::exit::MonitorRef,
        _: std::sync::Weak<dyn Process>,
    ) -> Result<(), ExitReason> {
        Err(ExitReason::NoProc)
    }

    fn remove_watcher(&self, _: crate::exit::MonitorRef) {}

    fn kill(&self) {}

    fn exit_reason(&self) -> Option<ExitReason> {
        Some(ExitReason::NoProc)
    }

    fn poll_exit(&self, _: &mut Context<'_>) -> Poll<ExitReason> {
        Poll::Ready(ExitReason::NoProc)
    }

    fn parent(&self) -> Option<Pid> {
        None
    }

    fn info(&self) -> Option<ProcessInfo> {
        None
    }
}
