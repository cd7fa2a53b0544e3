//! [`Remote<A>`]: a typed handle to an actor on another node, with the same generated client
//! as [`Addr<A>`](crate::Addr).

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::connection::Connection;
use super::kind::RemoteActor;
use crate::addr::{Linkable, ProcessRef};
use crate::error::SendError;
use crate::exit::ExitReason;
use crate::pid::Pid;
use crate::target::{self, Client, Outbound, Target, Unavailable};

/// A handle to an actor of type `A` on another node, from [`Node::lookup`](super::Node::lookup).
///
/// It dereferences to the actor's generated client, exactly as an [`Addr<A>`](crate::Addr)
/// does: `remote.nearby(lon, lat).await?` is the call it would be locally. Casts fail fast
/// with [`SendError::Full`] while the connection's outbound queue is full; calls wait for
/// room within their timeout. Once the connection is lost every send fails with
/// [`ExitReason::NoConnection`], and the handle stays bound to that connection: look the
/// actor up again after the node is back (its new creation makes old pids stale).
///
/// [`Ctx::link`](crate::Ctx::link) and [`Ctx::monitor`](crate::Ctx::monitor) accept it.
pub struct Remote<A: RemoteActor> {
    client: A::Client,
    route: Arc<Route<A>>,
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
            route,
        }
    }

    /// The actor's pid as this node sees it ([`Pid::node`] numbers its node here).
    #[must_use]
    pub fn pid(&self) -> Pid {
        self.route.conn.remote_pid(self.route.id)
    }

    /// The name of the actor's node.
    #[must_use]
    pub fn node(&self) -> &str {
        &self.route.conn.peer.name
    }

    /// `false` once the connection to its node is lost.
    #[must_use]
    pub fn is_connected(&self) -> bool {
        self.route.conn.out.closed().is_none()
    }

    /// Sends a message, waiting while the connection's outbound queue is full.
    ///
    /// # Errors
    /// [`SendError::Stopped`] with [`ExitReason::NoConnection`] once the connection is lost;
    /// [`SendError::Remote`] if the message cannot be encoded or is too large.
    pub async fn send(&self, msg: A::Msg) -> Result<(), SendError> {
        let mut slot = Some(msg);
        std::future::poll_fn(|cx| self.route.poll_send(cx, &mut slot)).await
    }

    /// Kills the actor (reason [`ExitReason::Killed`]), as [`Addr::kill`](crate::Addr::kill).
    pub fn kill(&self) {
        use crate::process::Process;
        self.route.conn.proxy(self.route.id).kill();
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
        Remote::new(self.route.conn.clone(), self.route.id)
    }
}

impl<A: RemoteActor> fmt::Debug for Remote<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&target::Route::describe(&*self.route))
    }
}

impl<A: RemoteActor> Linkable for Remote<A> {
    fn __process(&self) -> ProcessRef {
        ProcessRef(self.route.conn.proxy(self.route.id))
    }
}
