//! Distribution between nodes (feature `node`): a [`Node`] has a name and a cookie, listens
//! on TCP, authenticates every connection by challenge and response over the cookie
//! ([`handshake`]), and exchanges length-prefixed MessagePack frames ([`wire`]).
//!
//! Actors whose impl carries `#[actor(remote)]` are reached from other nodes through
//! [`Remote<A>`], which has the same generated client methods as an [`Addr<A>`]: casts, calls
//! with timeouts, deferred replies. Links and monitors cross connections, and a lost
//! connection delivers [`ExitReason::NoConnection`] to every one of them and fails every call
//! waiting on it. Heartbeats on idle connections declare a silent node lost.
//!
//! With feature `tls` as well, [`NodeConfig::tls`] puts connections under TLS 1.3, and the
//! cookie proofs are bound to the TLS session.
//!
//! Floors, from the ground up: `wire`, `stream`, `handshake`, `envelope`, `kind`,
//! `registrar`, `backlog`; `tls`; `outbox`; `proxy`; `exports`; `connection`; `remote`;
//! this module.

pub mod handshake;
pub mod registrar;
pub mod wire;

mod backlog;
mod connection;
mod envelope;
mod exports;
mod kind;
mod outbox;
mod proxy;
mod remote;
mod reply;
mod stream;
#[cfg(feature = "tls")]
mod tls;

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;
use tokio_util::codec::{Framed, FramedParts};

use crate::addr::Addr;
use crate::exit::ExitReason;
use crate::pid::Pid;
use crate::pool::Pool;
use crate::sync::lock;
use crate::table;
use crate::tables::{self, TablesRef};
use crate::target::Client;
use connection::{Connection, Counters, Directory};
use envelope::{Control, pack, unpack};
use exports::Exports;
use outbox::Outbox;
use registrar::{Registrar, RegistrarError};
use stream::{ReadHalf, Stream, WriteHalf};
use wire::{Frame, FrameCodec, Kind};

pub use connection::PeerInfo;
pub use kind::{KindCollision, RemoteActor, kinds};
pub use outbox::DEFAULT_OUTBOUND;
pub use remote::Remote;
pub use reply::Forwarded;

#[doc(hidden)]
pub use kind::{KindEntry, Pending, decode, encode, no_reply_expected, pending, reply_to};

/// How a node is set up. [`NodeConfig::new`] gives the defaults.
#[derive(Clone)]
#[non_exhaustive]
pub struct NodeConfig {
    /// The node's name, unique in the cluster.
    pub name: String,
    cookie: Vec<u8>,
    /// Where to listen for other nodes (`None`: dial out only).
    pub listen: Option<SocketAddr>,
    /// A heartbeat is sent after this much silence on a connection (default 1 s), or sooner
    /// if the peer's `silence` asks for it: each side tells the other its limit in the
    /// handshake, and heartbeats come at least three times within it.
    pub heartbeat: Duration,
    /// A connection silent this long is declared lost (default 5 s).
    pub silence: Duration,
    /// Each handshake step, and the answer to a look-up or a remote spawn, must arrive
    /// within this (default 5 s).
    pub handshake_timeout: Duration,
    /// The largest frame this node accepts; the handshake agrees on the smaller of two
    /// (default [`wire::DEFAULT_MAX_FRAME`], 64 KiB). Larger messages travel in fragments.
    pub max_frame: usize,
    /// The largest message, in fragments or not (default 64 MiB).
    pub max_message: usize,
    /// Bytes of data one connection queues before casts fail and calls wait (default
    /// [`DEFAULT_OUTBOUND`], 4 MiB).
    pub outbound: usize,
    /// The address other nodes dial to reach this one, which the registrar publishes
    /// (see [`NodeConfig::advertise`]). Without it the registrar publishes the address the
    /// listener is bound to; for one bound to `0.0.0.0` or `::`, the loopback address if the
    /// registrar serves one host, and `Node::start` refuses if it spans hosts.
    pub advertise: Option<SocketAddr>,
    /// Where nodes are found by name (see [`NodeConfig::route`]), before the registrar.
    pub routes: HashMap<String, SocketAddr>,
    /// Where this node is published and other nodes are found by name
    /// (see [`NodeConfig::registrar`]).
    pub registrar: Option<Arc<dyn Registrar>>,
    /// This node's certificate, if its connections use TLS (see [`NodeConfig::tls`]).
    #[cfg(feature = "tls")]
    tls: Option<Arc<crate::tls::TlsConfig>>,
    /// The node gets actors, names and counters of its own (see [`NodeConfig::isolated`]).
    isolated: bool,
}

impl fmt::Debug for NodeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeConfig")
            .field("name", &self.name)
            .field("cookie", &"<hidden>")
            .field("listen", &self.listen)
            .field("advertise", &self.advertise)
            .field("heartbeat", &self.heartbeat)
            .field("silence", &self.silence)
            .field("registrar", &self.registrar.is_some())
            .field("tls", &self.uses_tls())
            .field("isolated", &self.isolated)
            .finish_non_exhaustive()
    }
}

impl NodeConfig {
    /// A node named `name` that shares `cookie` with the nodes it may talk to, listening on
    /// `127.0.0.1` on a port the system picks.
    pub fn new(name: impl Into<String>, cookie: impl AsRef<[u8]>) -> NodeConfig {
        NodeConfig {
            name: name.into(),
            cookie: cookie.as_ref().to_vec(),
            listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            heartbeat: Duration::from_secs(1),
            silence: Duration::from_secs(5),
            handshake_timeout: Duration::from_secs(5),
            max_frame: wire::DEFAULT_MAX_FRAME,
            max_message: 64 << 20,
            outbound: DEFAULT_OUTBOUND,
            advertise: None,
            routes: HashMap::new(),
            registrar: None,
            #[cfg(feature = "tls")]
            tls: None,
            isolated: false,
        }
    }

    fn uses_tls(&self) -> bool {
        #[cfg(feature = "tls")]
        return self.tls.is_some();
        #[cfg(not(feature = "tls"))]
        false
    }

    /// Puts every connection of this node under TLS 1.3 (feature `tls`), with `identity` as
    /// the certificate it shows to nodes that dial it ([`TlsConfig::self_signed`] is enough).
    /// The other nodes must use TLS too: a node without it is refused, with a message that
    /// says so.
    ///
    /// TLS encrypts; the cookie still decides who may connect. A dialler accepts any
    /// certificate, because both proofs of the handshake are computed over a secret exported
    /// from the TLS session: a proof made on one session fails on any other, so a machine in
    /// the middle that ends TLS on both sides cannot pass one on. No certificate authority
    /// is needed, and a stolen certificate alone lets no one in.
    ///
    /// [`TlsConfig::self_signed`]: crate::io::tls::TlsConfig::self_signed
    #[cfg(feature = "tls")]
    #[must_use]
    pub fn tls(mut self, identity: crate::tls::TlsConfig) -> NodeConfig {
        self.tls = Some(Arc::new(identity));
        self
    }

    /// Gives the node actors, names and counters of its own, apart from the rest of the OS
    /// process: for several nodes in one process, as in a test of a cluster. Without it a
    /// node shares those of the code that starts it (the process's default node, usually),
    /// which is what a program with one node per process wants: every actor it runs is
    /// reachable through the node.
    ///
    /// Code runs on an isolated node inside [`Node::scope`]; the actors it spawns there, and
    /// the actors they spawn, stay on the node.
    #[must_use]
    pub fn isolated(mut self) -> NodeConfig {
        self.isolated = true;
        self
    }

    /// Publishes `addr` with the registrar as where this node is reached, instead of the
    /// address its listener is bound to: for a node that listens on `0.0.0.0` (which no other
    /// host can dial) behind a routable address, or behind NAT or a port mapping.
    #[must_use]
    pub fn advertise(mut self, addr: SocketAddr) -> NodeConfig {
        self.advertise = Some(addr);
        self
    }

    /// Listens on `addr` (`None`: accepts no connections).
    #[must_use]
    pub fn listen(mut self, addr: Option<SocketAddr>) -> NodeConfig {
        self.listen = addr;
        self
    }

    /// Sends heartbeats after `every` of silence and declares a connection lost after
    /// `silence` without a frame.
    #[must_use]
    pub fn heartbeat(mut self, every: Duration, silence: Duration) -> NodeConfig {
        self.heartbeat = every;
        self.silence = silence;
        self
    }

    /// A static route: node `name` listens at `addr`. [`Node::lookup`] connects by it.
    #[must_use]
    pub fn route(mut self, name: impl Into<String>, addr: SocketAddr) -> NodeConfig {
        self.routes.insert(name.into(), addr);
        self
    }

    /// Publishes this node with `registrar` once it listens (withdrawn at
    /// [`Node::shutdown`]) and asks it for nodes that have no static route:
    /// [`registrar::Embedded`] for the nodes of one host, `registrar::Etcd` (feature `etcd`)
    /// for a cluster, [`registrar::StaticRoutes`] for a table shared by the nodes of one
    /// process.
    #[must_use]
    pub fn registrar(mut self, registrar: impl Registrar) -> NodeConfig {
        self.registrar = Some(Arc::new(registrar));
        self
    }
}

/// What went wrong starting a node, connecting, or finding an actor.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeError {
    /// The listener could not be bound.
    Listen(String),
    /// Two actor types claim one remote kind name.
    Kinds(KindCollision),
    /// The TLS set-up was refused (a certificate or key rustls cannot use), or a TLS
    /// handshake failed.
    Tls(String),
    /// The TCP connection could not be made, or broke during the handshake.
    Connect(String),
    /// The other node is not who we think, or does not know our cookie, or refused us.
    Handshake(String),
    /// No route to a node of that name, and no connection to it.
    NoRoute(String),
    /// The registrar could not publish this node, or could not be asked about another.
    Registrar(RegistrarError),
    /// The other node has no such actor, or it is of another kind.
    NotFound(String),
    /// The other node refused to spawn the actor (its kind is not allowed there, or its
    /// arguments do not decode), or the actor's `#[init]` failed.
    Spawn(String),
    /// An actor is already registered under that name on this node.
    NameTaken {
        /// The name.
        name: String,
        /// Its holder.
        holder: Pid,
    },
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeError::Listen(e) => write!(f, "cannot listen for other nodes: {e}"),
            NodeError::Kinds(e) => fmt::Display::fmt(e, f),
            NodeError::Tls(e) => write!(f, "TLS: {e}"),
            NodeError::Connect(e) => write!(f, "cannot connect: {e}"),
            NodeError::Handshake(e) => write!(f, "handshake failed: {e}"),
            NodeError::NoRoute(name) => write!(
                f,
                "no route to node `{name}`: connect to it first, give its address with `NodeConfig::route`, or find it with `NodeConfig::registrar`"
            ),
            NodeError::Registrar(e) => fmt::Display::fmt(e, f),
            NodeError::NotFound(e) => f.write_str(e),
            NodeError::Spawn(e) => write!(f, "remote spawn failed: {e}"),
            NodeError::NameTaken { name, holder } => {
                write!(
                    f,
                    "name `{name}` is already registered by {holder} on this node"
                )
            }
        }
    }
}

impl std::error::Error for NodeError {}

/// Counters of a node's traffic (see [`Node::stats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NodeStats {
    /// Messages received from other nodes.
    pub messages_in: u64,
    /// Messages received that did not decode, or had no actor to go to (dropped, and the
    /// sender told).
    pub rejected_in: u64,
    /// Casts of ours that other nodes reported dropped.
    pub rejected_out: u64,
    /// Connections lost.
    pub connections_lost: u64,
    /// Connections up now.
    pub connected: usize,
    /// Actors of other nodes that local actors link to or monitor now (one record each).
    pub remote_watched: usize,
    /// Actors of other nodes that link to or monitor local actors now (one record each).
    pub remote_watchers: usize,
}

/// A running node: cheap to clone, every clone the same node. [`Node::shutdown`] closes it.
#[derive(Clone)]
pub struct Node {
    inner: Arc<Inner>,
}

struct Inner {
    config: NodeConfig,
    /// The node's actors, names and counters.
    tables: TablesRef,
    creation: u32,
    local_addr: Option<SocketAddr>,
    exports: Arc<Exports>,
    counters: Arc<Counters>,
    peers: Mutex<Peers>,
    listener: Mutex<Option<AbortHandle>>,
    #[cfg(feature = "tls")]
    tls: Option<tls::NodeTls>,
}

#[derive(Default)]
struct Peers {
    by_name: HashMap<String, Arc<Connection>>,
    /// The number each node's pids carry here, kept across reconnections.
    index: HashMap<String, u32>,
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node")
            .field("name", &self.inner.config.name)
            .field("creation", &self.inner.creation)
            .field("listen", &self.inner.local_addr)
            .finish_non_exhaustive()
    }
}

/// Which side of a connection this node is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Dialler,
    Acceptor,
}

impl Node {
    /// Starts a node: checks the remote kinds linked into the program for collisions, picks a
    /// fresh creation, and listens if the configuration says so.
    ///
    /// # Errors
    /// [`NodeError::Kinds`] if two types claim one kind name; [`NodeError::Listen`] if the
    /// address cannot be bound.
    pub async fn start(config: NodeConfig) -> Result<Node, NodeError> {
        kind::check_kinds().map_err(NodeError::Kinds)?;
        #[cfg(feature = "tls")]
        let tls = match &config.tls {
            Some(identity) => Some(
                tls::NodeTls::new(identity)
                    .map_err(|e| NodeError::Tls(format!("the node's certificate: {e}")))?,
            ),
            None => None,
        };
        let mut creation = [0u8; 4];
        getrandom::fill(&mut creation).map_err(|e| NodeError::Listen(e.to_string()))?;
        let creation = u32::from_be_bytes(creation).max(1);
        let listener = match config.listen {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|e| NodeError::Listen(format!("{addr}: {e}")))?,
            ),
            None => None,
        };
        let local_addr = listener.as_ref().and_then(|l| l.local_addr().ok());
        let tables = if config.isolated {
            TablesRef::fresh()
        } else {
            table::current()
        };
        let node = Node {
            inner: Arc::new(Inner {
                config,
                tables: tables.clone(),
                creation,
                local_addr,
                exports: Arc::new(Exports::new(tables)),
                counters: Arc::new(Counters::default()),
                peers: Mutex::new(Peers::default()),
                listener: Mutex::new(None),
                #[cfg(feature = "tls")]
                tls,
            }),
        };
        if let Some(listener) = listener {
            let weak = Arc::downgrade(&node.inner);
            let task = node.spawn_task(async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        // Out of descriptors, say: wait rather than spin.
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    };
                    let Some(inner) = weak.upgrade() else { return };
                    let node = Node { inner };
                    table::spawn(async move {
                        if let Err(e) = node.handshake(stream, Side::Acceptor, None).await {
                            tracing::warn!(node = %node.name(), "refused a connection: {e}");
                        }
                    });
                }
            });
            *lock(&node.inner.listener) = Some(task.abort_handle());
        }
        if let (Some(registrar), Some(bound)) = (&node.inner.config.registrar, local_addr) {
            let addr = match published(node.inner.config.advertise, bound, registrar.same_host()) {
                Ok(addr) => addr,
                Err(e) => {
                    node.shutdown();
                    return Err(e);
                }
            };
            if let Err(e) = registrar.publish(node.name(), addr).await {
                node.shutdown();
                return Err(NodeError::Registrar(e));
            }
        }
        Ok(node)
    }

    /// Runs `fut` on this node: the actors it spawns with [`spawn`](crate::spawn) or
    /// `Actor::spawn` start here, and [`registry`](crate::registry) look-ups,
    /// [`actor_count`](crate::actor_count), [`stats`](crate::stats),
    /// [`shutdown`](crate::shutdown) and [`introspect`](crate::introspect) act on this
    /// node's tables. The actors started there stay on the node, and so do the actors they
    /// spawn. Only needed for a node started with [`NodeConfig::isolated`]; other nodes share
    /// the tables of the code that started them.
    ///
    /// The scope is the task's: a task started inside it with a plain `tokio::spawn` is not
    /// on the node.
    pub fn scope<F: Future>(&self, fut: F) -> impl Future<Output = F::Output> {
        tables::scope(self.inner.tables.clone(), fut)
    }

    /// Starts one of the node's own tasks (a listener, a connection), on the node.
    fn spawn_task<F>(&self, fut: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        tokio::spawn(tables::scope(self.inner.tables.clone(), fut))
    }

    /// The node's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.inner.config.name
    }

    /// The node's creation: a random number fixed at start, different on every start.
    #[must_use]
    pub fn creation(&self) -> u32 {
        self.inner.creation
    }

    /// Where the node listens, if it does.
    #[must_use]
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.inner.local_addr
    }

    /// The nodes connected now.
    #[must_use]
    pub fn peers(&self) -> Vec<PeerInfo> {
        let mut peers: Vec<_> = lock(&self.inner.peers)
            .by_name
            .values()
            .map(|c| c.peer.clone())
            .collect();
        peers.sort_by(|a, b| a.name.cmp(&b.name));
        peers
    }

    /// The node's counters.
    #[must_use]
    pub fn stats(&self) -> NodeStats {
        let c = &self.inner.counters;
        let (connected, (remote_watched, remote_watchers)) = {
            let peers = lock(&self.inner.peers);
            let records = peers.by_name.values().map(|c| c.records());
            (
                peers.by_name.len(),
                records.fold((0, 0), |(p, s), (dp, ds)| (p + dp, s + ds)),
            )
        };
        NodeStats {
            messages_in: c.messages_in.load(Ordering::Relaxed),
            rejected_in: c.rejected_in.load(Ordering::Relaxed),
            rejected_out: c.rejected_out.load(Ordering::Relaxed),
            connections_lost: c.connections_lost.load(Ordering::Relaxed),
            connected,
            remote_watched,
            remote_watchers,
        }
    }

    /// Makes `addr` reachable from other nodes as `name` (until it stops).
    ///
    /// # Errors
    /// [`NodeError::NameTaken`] if a running actor holds the name already.
    pub fn register<A: RemoteActor>(&self, name: &str, addr: &Addr<A>) -> Result<(), NodeError> {
        let target = Client::__target(&**addr).clone();
        self.inner
            .exports
            .register::<A, A>(Some(name), target, addr)
            .map_err(|holder| NodeError::NameTaken {
                name: name.to_owned(),
                holder,
            })
    }

    /// A handle to the local actor `addr` to put in messages to other nodes: they receive a
    /// [`Remote<A>`] that reaches it through the generated client, links to it and monitors
    /// it. The actor is reachable from other nodes by its id from now until it stops. Locally
    /// the handle sends straight to the mailbox.
    pub fn handle<A: RemoteActor>(&self, addr: &Addr<A>) -> Remote<A> {
        self.inner.exports.export(addr);
        let id = addr.pid().id();
        Remote::here(id, self.name().into(), self.inner.exports.typed::<A>(id))
    }

    /// Makes a pool of `W` reachable from other nodes as `name`, until the pool stops. They
    /// look it up as any `W` (`lookup::<W>(node, name)`), and each message goes to the pool's
    /// next worker with room, as it does locally: when every worker is full a call fails
    /// with [`CallError::Overloaded`](crate::CallError::Overloaded) and a cast is shed. Links
    /// and monitors from other nodes attach to the pool's supervisor.
    ///
    /// # Errors
    /// [`NodeError::NameTaken`] if a running actor holds the name already;
    /// [`NodeError::NotFound`] if the pool is not running (a pool in a `#[supervisor]`
    /// between restarts).
    pub fn register_pool<W: RemoteActor>(
        &self,
        name: &str,
        pool: &Pool<W>,
    ) -> Result<(), NodeError> {
        let Some(supervisor) = Pool::supervisor(pool) else {
            return Err(NodeError::NotFound(format!(
                "the pool to register as `{name}` is not running"
            )));
        };
        let target = Client::__target(&**pool).clone();
        self.inner
            .exports
            .register::<W, _>(Some(name), target, &supervisor)
            .map_err(|holder| NodeError::NameTaken {
                name: name.to_owned(),
                holder,
            })
    }

    /// Connects to the node listening at `addr`, or returns the connection already up to
    /// that node.
    ///
    /// # Errors
    /// [`NodeError::Connect`] if there is no such listener; [`NodeError::Handshake`] if the
    /// cookies differ, a step times out, or the other node refuses.
    pub async fn connect(&self, addr: SocketAddr) -> Result<PeerInfo, NodeError> {
        let stream = tokio::time::timeout(
            self.inner.config.handshake_timeout,
            TcpStream::connect(addr),
        )
        .await
        .map_err(|_| NodeError::Connect(format!("{addr}: no answer within the handshake timeout")))?
        .map_err(|e| NodeError::Connect(format!("{addr}: {e}")))?;
        self.handshake(stream, Side::Dialler, None)
            .await
            .map(|c| c.peer.clone())
    }

    /// The connection to node `name`: the one up now, or a new one by its route.
    async fn peer(&self, name: &str) -> Result<Arc<Connection>, NodeError> {
        self.peer_via(name, None).await
    }

    /// As [`Node::peer`], connecting at `hint` if neither a route nor the registrar knows
    /// the node.
    async fn peer_via(
        &self,
        name: &str,
        hint: Option<SocketAddr>,
    ) -> Result<Arc<Connection>, NodeError> {
        if let Some(conn) = lock(&self.inner.peers).by_name.get(name) {
            if conn.out.closed().is_none() {
                return Ok(conn.clone());
            }
        }
        let resolved = match self.inner.config.routes.get(name) {
            Some(&addr) => Some(addr),
            None => match &self.inner.config.registrar {
                Some(registrar) => registrar
                    .resolve(name)
                    .await
                    .map_err(NodeError::Registrar)?,
                None => None,
            },
        };
        let addr = resolved
            .or(hint)
            .ok_or_else(|| NodeError::NoRoute(name.to_owned()))?;
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| NodeError::Connect(format!("node `{name}` at {addr}: {e}")))?;
        self.handshake(stream, Side::Dialler, Some(name)).await
    }

    /// The actor of type `A` registered as `name` on node `node`, connecting to that node by
    /// its route if needed.
    ///
    /// # Errors
    /// [`NodeError::NotFound`] if nothing of that kind is registered under that name there;
    /// [`NodeError::NoRoute`], [`NodeError::Connect`] or [`NodeError::Handshake`] if the node
    /// cannot be reached.
    pub async fn lookup<A: RemoteActor>(
        &self,
        node: &str,
        name: &str,
    ) -> Result<Remote<A>, NodeError> {
        let conn = self.peer(node).await?;
        let id = conn
            .lookup(name, A::KIND, self.inner.config.handshake_timeout)
            .await
            .map_err(|e| NodeError::NotFound(e.replace("this node", node)))?;
        Ok(Remote::new(conn, id))
    }

    /// Lets other nodes start actors of kind `A` on this node with [`Node::spawn`]. Kinds not
    /// allowed are refused: a node runs only the code its owner chose to offer.
    pub fn allow_spawn<A>(&self)
    where
        A: RemoteActor,
        A::Args: serde::de::DeserializeOwned,
    {
        self.inner.exports.allow_spawn::<A>();
    }

    /// Starts an actor of type `A` on node `node` with `args` (its `#[init]` runs there) and
    /// returns its handle. The actor is linked to nothing: [`Node::spawn_link`] starts it
    /// linked, and [`Ctx::link`](crate::Ctx::link) or [`Ctx::monitor`](crate::Ctx::monitor)
    /// attach to it later.
    ///
    /// # Errors
    /// [`NodeError::Spawn`] if that node does not [allow](Node::allow_spawn) the kind, the
    /// arguments do not encode or decode or do not fit in one frame, or `#[init]` fails;
    /// as [`Node::lookup`] if the node cannot be reached. If the answer does not come within
    /// [`NodeConfig::handshake_timeout`] the spawn fails, and an actor that starts there
    /// after all is killed as soon as its answer arrives: no actor runs on that nobody holds.
    pub async fn spawn<A>(&self, node: &str, args: A::Args) -> Result<Remote<A>, NodeError>
    where
        A: RemoteActor,
        A::Args: serde::Serialize,
    {
        self.spawn_on(node, args, None).await
    }

    /// Starts an actor of type `A` on node `node` with `args`, linked to the local actor
    /// `linker` from its first moment (Erlang's `spawn_link` on a remote node): if either
    /// stops, the other gets the exit signal, and if the connection is lost both ends hear
    /// [`ExitReason::NoConnection`]. Inside a handler, `linker` is `ctx.addr()`.
    ///
    /// # Errors
    /// As [`Node::spawn`]; [`NodeError::Spawn`] as well if `linker` is not an actor of this
    /// node. A spawn that times out unlinks and kills the late actor, so `linker` hears
    /// nothing from it.
    pub async fn spawn_link<A>(
        &self,
        node: &str,
        args: A::Args,
        linker: &impl crate::Linkable,
    ) -> Result<Remote<A>, NodeError>
    where
        A: RemoteActor,
        A::Args: serde::Serialize,
    {
        // Checked by pid first: a handle to another node's actor gets no record here.
        let pid = linker.__pid();
        if !pid.is_local() {
            return Err(NodeError::Spawn(format!(
                "a `{}` can be spawned linked only to an actor of this node, and {pid} is on another",
                A::KIND,
            )));
        }
        let linker = linker.__process().0;
        if !linker
            .tables()
            .is_some_and(|tables| tables.same(&self.inner.tables))
        {
            return Err(NodeError::Spawn(format!(
                "a `{}` can be spawned linked only to an actor of this node, and {pid} runs on another node of this process (spawn it inside that node's `Node::scope`)",
                A::KIND,
            )));
        }
        self.spawn_on(node, args, Some(linker)).await
    }

    async fn spawn_on<A>(
        &self,
        node: &str,
        args: A::Args,
        linker: Option<Arc<dyn crate::process::Process>>,
    ) -> Result<Remote<A>, NodeError>
    where
        A: RemoteActor,
        A::Args: serde::Serialize,
    {
        let conn = self.peer(node).await?;
        let args = conn
            .encode_spawn_args(A::KIND, &args)
            .map_err(NodeError::Spawn)?;
        let id = conn
            .spawn(A::KIND, args, linker, self.inner.config.handshake_timeout)
            .await
            .map_err(|e| NodeError::Spawn(e.replace("this node", &format!("node `{node}`"))))?;
        Ok(Remote::new(conn, id))
    }

    /// Resolves with why the connection to `node` ended (always
    /// [`ExitReason::NoConnection`]): Erlang's `monitor_node`. Resolves at once if the node is
    /// not connected.
    pub fn monitor_node(&self, node: &str) -> impl Future<Output = ExitReason> + Send + 'static {
        let down = lock(&self.inner.peers).by_name.get(node).map(|c| c.down());
        async move {
            let Some(mut down) = down else {
                return ExitReason::NoConnection;
            };
            match down.wait_for(Option::is_some).await {
                Ok(reason) => reason.clone().unwrap_or(ExitReason::NoConnection),
                Err(_) => ExitReason::NoConnection,
            }
        }
    }

    /// Disconnects from `node`, as if the connection were lost: links and monitors across it
    /// fire with [`ExitReason::NoConnection`].
    pub fn disconnect(&self, node: &str) {
        let conn = lock(&self.inner.peers).by_name.remove(node);
        if let Some(conn) = conn {
            conn.lost("disconnected by this node");
        }
    }

    /// Stops listening, withdraws the node from its registrar and closes every connection.
    pub fn shutdown(&self) {
        if let Some(listener) = lock(&self.inner.listener).take() {
            listener.abort();
            if let Some(registrar) = &self.inner.config.registrar {
                registrar.withdraw(self.name());
            }
        }
        let conns: Vec<_> = lock(&self.inner.peers).by_name.drain().collect();
        for (_, conn) in conns {
            conn.lost("this node shut down");
        }
    }

    /// Starts TLS on `tcp` if this node uses it; the stream and the handshake's binding (a
    /// secret of the TLS session, or nothing). A node that speaks TLS and one that does not
    /// are told apart by the first byte the dialler sends: a TLS record starts with 22, a
    /// frame with a length far below 22 << 24.
    async fn secure(&self, tcp: TcpStream, side: Side) -> Result<(Stream, Vec<u8>), NodeError> {
        const TLS_HANDSHAKE: u8 = 22;
        let step = self.inner.config.handshake_timeout;
        #[cfg(feature = "tls")]
        let tls = self.inner.tls.as_ref();
        #[cfg(not(feature = "tls"))]
        let tls: Option<&()> = None;
        if side == Side::Acceptor {
            let mut first = [0u8; 1];
            let speaks_tls = match tokio::time::timeout(step, tcp.peek(&mut first)).await {
                Ok(Ok(0)) => {
                    return Err(NodeError::Handshake(
                        "the other node closed the connection before its hello".to_owned(),
                    ));
                }
                Ok(Ok(_)) => first[0] == TLS_HANDSHAKE,
                Ok(Err(e)) => return Err(NodeError::Connect(e.to_string())),
                Err(_) => {
                    return Err(NodeError::Handshake(format!("no hello within {step:?}")));
                }
            };
            if speaks_tls != tls.is_some() {
                let why = if speaks_tls {
                    format!(
                        "node `{}` does not use TLS, and the dialling node does: give both `NodeConfig::tls`, or neither",
                        self.name()
                    )
                } else {
                    format!(
                        "node `{}` uses TLS, and the dialling node does not: give both `NodeConfig::tls`, or neither",
                        self.name()
                    )
                };
                if !speaks_tls {
                    // A plain dialler reads frames: tell it why.
                    let mut framed = Framed::new(Stream::Plain(tcp), FrameCodec::new(64 << 10));
                    let _ = send(&mut framed, &Control::Refused(why.clone())).await;
                }
                return Err(NodeError::Handshake(why));
            }
        }
        #[cfg(feature = "tls")]
        if let Some(tls) = tls {
            let secured = match side {
                Side::Acceptor => tokio::time::timeout(step, tls.accept(tcp)).await,
                Side::Dialler => {
                    let addr = tcp
                        .peer_addr()
                        .map_err(|e| NodeError::Connect(e.to_string()))?;
                    tokio::time::timeout(step, tls.connect(tcp, addr)).await
                }
            };
            return match secured {
                Err(_) => Err(NodeError::Tls(format!("no TLS handshake within {step:?}"))),
                Ok(Err(e)) => Err(NodeError::Tls(match side {
                    Side::Dialler => format!(
                        "the TLS handshake failed ({e}); a node without `NodeConfig::tls` closes TLS connections"
                    ),
                    Side::Acceptor => format!("the TLS handshake failed: {e}"),
                })),
                Ok(Ok(secured)) => Ok(secured),
            };
        }
        let _ = tls;
        Ok((Stream::Plain(tcp), Vec::new()))
    }

    /// Runs the handshake on `stream` and installs the connection.
    async fn handshake(
        &self,
        tcp: TcpStream,
        side: Side,
        expect: Option<&str>,
    ) -> Result<Arc<Connection>, NodeError> {
        let _ = tcp.set_nodelay(true);
        let dialled = if side == Side::Dialler {
            tcp.peer_addr().ok()
        } else {
            None
        };
        let (stream, binding) = self.secure(tcp, side).await?;
        let binding = binding.as_slice();
        let config = &self.inner.config;
        let step = config.handshake_timeout;
        let mut framed = Framed::new(stream, FrameCodec::new(config.max_frame));
        let cookie = config.cookie.as_slice();
        #[allow(clippy::cast_possible_truncation)]
        let my_max = config.max_frame.min(u32::MAX as usize) as u32;
        let my_silence = u32::try_from(config.silence.as_millis()).unwrap_or(u32::MAX);
        let (peer_name, peer_creation, max_frame, their_silence) = match side {
            Side::Dialler => {
                let hello = handshake::Hello {
                    name: config.name.clone(),
                    creation: self.inner.creation,
                    challenge: handshake::challenge()
                        .map_err(|e| NodeError::Handshake(e.to_string()))?,
                };
                send(
                    &mut framed,
                    &Control::Hello {
                        hello: hello.clone(),
                        max_frame: my_max,
                        silence_ms: my_silence,
                    },
                )
                .await?;
                let (welcome, their_max, their_silence) =
                    match recv(&mut framed, step, "welcome").await? {
                        Control::Welcome {
                            welcome,
                            max_frame,
                            silence_ms,
                        } => (welcome, max_frame, silence_ms),
                        Control::Refused(why) => return Err(NodeError::Handshake(why)),
                        other => return Err(unexpected("a welcome", &other)),
                    };
                if let Some(expect) = expect {
                    if welcome.name != expect {
                        return Err(NodeError::Handshake(format!(
                            "the node at that address is `{}`, not `{expect}`",
                            welcome.name
                        )));
                    }
                }
                let proof = handshake::answer(cookie, binding, &hello, &welcome)
                    .map_err(|e| NodeError::Handshake(failed_proof(&e, binding)))?;
                send(&mut framed, &Control::Proof(proof)).await?;
                match recv(&mut framed, step, "the acceptor's verdict").await? {
                    Control::Ready => {}
                    Control::Refused(why) => return Err(NodeError::Handshake(why)),
                    other => return Err(unexpected("ready", &other)),
                }
                (welcome.name, welcome.creation, their_max, their_silence)
            }
            Side::Acceptor => {
                let (hello, their_max, their_silence) =
                    match recv(&mut framed, step, "hello").await? {
                        Control::Hello {
                            hello,
                            max_frame,
                            silence_ms,
                        } => (hello, max_frame, silence_ms),
                        other => return Err(unexpected("a hello", &other)),
                    };
                if hello.name == config.name {
                    let why = format!("a node named `{}` is this node", hello.name);
                    let _ = send(&mut framed, &Control::Refused(why.clone())).await;
                    return Err(NodeError::Handshake(why));
                }
                let welcome = handshake::welcome(
                    cookie,
                    binding,
                    &config.name,
                    self.inner.creation,
                    handshake::challenge().map_err(|e| NodeError::Handshake(e.to_string()))?,
                    &hello,
                );
                send(
                    &mut framed,
                    &Control::Welcome {
                        welcome: welcome.clone(),
                        max_frame: my_max,
                        silence_ms: my_silence,
                    },
                )
                .await?;
                let proof = match recv(&mut framed, step, "proof").await? {
                    Control::Proof(proof) => proof,
                    other => return Err(unexpected("a proof", &other)),
                };
                if let Err(e) = handshake::verify(cookie, binding, &hello, &welcome, &proof) {
                    let why = failed_proof(&e, binding);
                    let _ = send(&mut framed, &Control::Refused(why.clone())).await;
                    return Err(NodeError::Handshake(why));
                }
                send(&mut framed, &Control::Ready).await?;
                (hello.name, hello.creation, their_max, their_silence)
            }
        };
        let max_frame = config.max_frame.min(max_frame as usize).max(64);
        // Often enough that the peer hears from us well within its silence limit, whatever
        // our own heartbeat setting.
        let beat = config
            .heartbeat
            .min(Duration::from_millis(u64::from(their_silence)) / 3)
            .max(Duration::from_millis(1));
        let parts = framed.into_parts();
        let (read, write) = parts.io.split();
        let mut read_parts = FramedParts::new::<Frame>(read, FrameCodec::new(max_frame));
        read_parts.read_buf = parts.read_buf;
        let reader = Framed::from_parts(read_parts);
        self.install(
            peer_name,
            peer_creation,
            (side, dialled),
            (max_frame, beat),
            reader,
            write,
        )
    }

    /// Puts an authenticated connection in the peer table and starts its reader and writer.
    /// Two connections to one node (both dialled at once) are resolved the same way on both
    /// sides: the one dialled by the node whose name sorts first is kept.
    fn install(
        &self,
        name: String,
        creation: u32,
        (side, dialled): (Side, Option<SocketAddr>),
        (max_frame, beat): (usize, Duration),
        reader: Framed<ReadHalf, FrameCodec>,
        writer: WriteHalf,
    ) -> Result<Arc<Connection>, NodeError> {
        let config = &self.inner.config;
        let dialler_first = match side {
            Side::Dialler => config.name < name,
            Side::Acceptor => name < config.name,
        };
        let mut peers = lock(&self.inner.peers);
        if let Some(existing) = peers.by_name.get(&name) {
            let live = existing.out.closed().is_none();
            if live && existing.peer.creation == creation && !dialler_first {
                // The other connection wins; this one is dropped.
                return Ok(existing.clone());
            }
        }
        let next = u32::try_from(peers.index.len() + 1).unwrap_or(u32::MAX);
        let index = *peers.index.entry(name.clone()).or_insert(next);
        let out = Arc::new(Outbox::new(config.outbound, max_frame, config.max_message));
        let conn = Arc::new(Connection::new(
            PeerInfo {
                name: name.clone(),
                creation,
                index,
            },
            config.name.as_str().into(),
            out.clone(),
            self.inner.exports.clone(),
            self.inner.counters.clone(),
            (
                Some(Arc::new(NodeDirectory(Arc::downgrade(&self.inner)))),
                dialled,
            ),
        ));
        let stale = peers.by_name.insert(name.clone(), conn.clone());
        drop(peers);
        if let Some(stale) = stale {
            let why = if stale.peer.creation == creation {
                "replaced by a connection dialled at the same time"
            } else {
                "the node restarted (new creation)"
            };
            stale.lost(why);
        }
        self.spawn_task(connection::write(out, writer, beat));
        let weak = Arc::downgrade(&self.inner);
        let reading = conn.clone();
        let (silence, max_message) = (config.silence, config.max_message);
        self.spawn_task(async move {
            let why = reading.read(reader, silence, max_message).await;
            reading.lost(&why);
            if let Some(inner) = weak.upgrade() {
                let mut peers = lock(&inner.peers);
                if peers
                    .by_name
                    .get(&reading.peer.name)
                    .is_some_and(|c| Arc::ptr_eq(c, &reading))
                {
                    peers.by_name.remove(&reading.peer.name);
                }
            }
        });
        tracing::debug!(node = %config.name, peer = %name, "connected");
        Ok(conn)
    }
}

/// The address the registrar publishes for a node bound to `bound`: `advertise` if given;
/// else the bound address, with an unspecified IP (`0.0.0.0`, `::`) made loopback for a
/// registrar of one host, and refused for one that spans hosts, whose other nodes could not
/// dial it.
fn published(
    advertise: Option<SocketAddr>,
    bound: SocketAddr,
    same_host: bool,
) -> Result<SocketAddr, NodeError> {
    if let Some(addr) = advertise {
        return Ok(addr);
    }
    if !bound.ip().is_unspecified() {
        return Ok(bound);
    }
    if same_host {
        let loopback: std::net::IpAddr = if bound.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        };
        return Ok(SocketAddr::new(loopback, bound.port()));
    }
    Err(NodeError::Listen(format!(
        "the node listens on {bound}, which nodes on other hosts cannot dial: give the address they should use with `NodeConfig::advertise`"
    )))
}

/// A connection's view of its node: the node's other connections, for handles to a third
/// node's actors. Weak, so that connections do not keep a node that was dropped.
struct NodeDirectory(std::sync::Weak<Inner>);

impl Directory for NodeDirectory {
    fn creation(&self) -> u32 {
        self.0.upgrade().map_or(0, |inner| inner.creation)
    }

    fn find(&self, name: &str) -> (Option<Arc<Connection>>, u32) {
        let Some(inner) = self.0.upgrade() else {
            return (None, 0);
        };
        let mut peers = lock(&inner.peers);
        let live = peers
            .by_name
            .get(name)
            .filter(|c| c.out.closed().is_none())
            .cloned();
        let next = u32::try_from(peers.index.len() + 1).unwrap_or(u32::MAX);
        let index = *peers.index.entry(name.to_owned()).or_insert(next);
        (live, index)
    }

    fn connect(
        &self,
        name: String,
        hint: Option<SocketAddr>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>> {
        let inner = self.0.upgrade();
        Box::pin(async move {
            let node = Node {
                inner: inner.ok_or_else(|| "this node was shut down".to_owned())?,
            };
            // Each handshake step has its timeout; so has finding the node and dialling it.
            let limit = node.inner.config.handshake_timeout * 4;
            match tokio::time::timeout(limit, node.peer_via(&name, hint)).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err(format!("node `{name}` not connected within {limit:?}")),
            }
        })
    }
}

/// Why a proof failed; under TLS it may also have been made on another session.
fn failed_proof(error: &handshake::HandshakeError, binding: &[u8]) -> String {
    if binding.is_empty() {
        error.to_string()
    } else {
        format!(
            "{error}, or its proof was made on another TLS session (something between the two nodes ends TLS)"
        )
    }
}

fn unexpected(wanted: &str, got: &Control) -> NodeError {
    NodeError::Handshake(format!("expected {wanted}, got {got:?}"))
}

async fn send(framed: &mut Framed<Stream, FrameCodec>, control: &Control) -> Result<(), NodeError> {
    framed
        .send(Frame {
            kind: Kind::Control,
            payload: pack(control).into(),
        })
        .await
        .map_err(|e| NodeError::Connect(e.to_string()))
}

async fn recv(
    framed: &mut Framed<Stream, FrameCodec>,
    step: Duration,
    what: &str,
) -> Result<Control, NodeError> {
    match tokio::time::timeout(step, framed.next()).await {
        Err(_) => Err(NodeError::Handshake(format!("no {what} within {step:?}"))),
        Ok(None) => Err(NodeError::Handshake(format!(
            "the other node closed the connection before its {what}"
        ))),
        Ok(Some(Err(e))) => Err(NodeError::Handshake(format!("waiting for {what}: {e}"))),
        Ok(Some(Ok(frame))) if frame.kind == Kind::Control => {
            unpack(&frame.payload).map_err(|e| NodeError::Handshake(format!("{what}: {e}")))
        }
        Ok(Some(Ok(_))) => Err(NodeError::Handshake(format!(
            "a data frame where {what} was due"
        ))),
    }
}
