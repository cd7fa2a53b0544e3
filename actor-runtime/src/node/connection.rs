//! One authenticated connection to another node: its reader, its writer, the calls waiting
//! for replies, and the links and monitors that cross it.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::sync::{oneshot, watch};
use tokio_util::codec::Framed;

use super::backlog::{Backlog, Job, Key, Route};
use super::envelope::{
    Control, Envelope, Failure, Header, Intro, NodeRef, SIGNAL, SignalMsg, pack, unpack,
};
use super::exports::{Delivery, Exports, Wait};
use super::kind::{Pending, RemoteActor};
use super::outbox::Outbox;
use super::proxy::{Proxies, RemoteProcess, StandIns};
use super::stream::{ReadHalf, WriteHalf};
use super::wire::{FrameCodec, Kind, MAX_PARTIAL, Reassembly, fragment_of};
use crate::call::{ReplyRoute, ReplySink};
use crate::ctx::link_processes;
use crate::error::{CallError, RemoteError, SendError};
use crate::exit::{Exit, ExitReason, MonitorRef, Signal};
use crate::pid::Pid;
use crate::process::{self, Process};
use crate::sync::lock;
use crate::table;

/// Another node, as this node knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerInfo {
    /// Its name.
    pub name: String,
    /// Its creation: changes every time it starts.
    pub creation: u32,
    /// The number its actors' pids carry here ([`Pid::node`]).
    pub index: u32,
}

/// The local actor a message goes to, from its first bytes (a cast's or a call's header).
fn actor_of(start: &[u8]) -> Option<Key> {
    match Envelope::parse(start) {
        Ok(Envelope::Cast { to, .. } | Envelope::Call { to, .. }) => Some(Key::Actor(to)),
        _ => None,
    }
}

/// Counters of one node's traffic and of what it refused.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) messages_in: AtomicU64,
    /// Messages from other nodes that did not decode or had no actor to go to.
    pub(crate) rejected_in: AtomicU64,
    /// Casts of ours the other node reported as dropped.
    pub(crate) rejected_out: AtomicU64,
    pub(crate) connections_lost: AtomicU64,
}

/// What a connection needs of its node: the node's other connections, for handles to actors
/// of a third node that arrive in messages.
pub(crate) trait Directory: Send + Sync {
    /// This node's creation.
    fn creation(&self) -> u32;
    /// The live connection to node `name`, if there is one, and the number its pids carry
    /// here either way.
    fn find(&self, name: &str) -> (Option<Arc<Connection>>, u32);
    /// Connects to node `name`: by this node's route or registrar, or else at `hint`.
    fn connect(
        &self,
        name: String,
        hint: Option<SocketAddr>,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
}

pub(crate) struct Connection {
    pub(crate) peer: PeerInfo,
    /// This node's name.
    pub(crate) local: Arc<str>,
    /// Where this node dialled the other, if it did: passed on with handles to its actors.
    pub(crate) dialled: Option<SocketAddr>,
    directory: Option<Arc<dyn Directory>>,
    pub(crate) out: Arc<Outbox>,
    exports: Arc<Exports>,
    counters: Arc<Counters>,
    pending: Mutex<HashMap<u64, Pending>>,
    asked: Mutex<HashMap<u64, Asked>>,
    proxies: Arc<Proxies>,
    standins: Arc<StandIns>,
    next_corr: AtomicU64,
    down: watch::Sender<Option<ExitReason>>,
}

/// A look-up or a spawn this node asked the other for, not answered yet.
enum Asked {
    /// Someone waits for the answer; `link` is a spawn's local linker.
    Waiting {
        answer: oneshot::Sender<Result<u64, String>>,
        link: Option<Arc<dyn Process>>,
    },
    /// A spawn whose asker gave up waiting: the actor, if it starts after all, is killed
    /// (and first unlinked from `link`, which was told the spawn failed).
    Abandoned { link: Option<Pid> },
}

/// The most a thread's encoding buffer keeps between sends.
const SCRATCH_KEEP: usize = 256 << 10;

thread_local! {
    /// The encoding buffer of this thread's sends: no allocation per message.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    /// The connection a message is being encoded for on this thread (its address), so that a
    /// `Remote` inside it knows where it goes.
    static ENCODING_FOR: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// The third nodes whose actors the message being encoded on this thread names.
    static NAMED: std::cell::RefCell<Vec<NodeRef>> = const { std::cell::RefCell::new(Vec::new()) };
    /// The reply slots the message being encoded on this thread carries, by the correlation
    /// id their answer will come back with.
    static EXPORTED: std::cell::RefCell<Vec<(u64, Pending)>> =
        const { std::cell::RefCell::new(Vec::new()) };
    /// The connection a message is being decoded from on this thread, so that a `Remote`
    /// inside it is bound to the right node.
    static DECODING_FROM: std::cell::RefCell<Option<Arc<Connection>>> =
        const { std::cell::RefCell::new(None) };
}

/// What an encoding found besides the bytes: the third nodes whose actors the message names,
/// and the reply slots it carries.
#[derive(Default)]
struct Found {
    named: Vec<NodeRef>,
    replies: Vec<(u64, Pending)>,
}

/// Runs `f` (an encoding) with `conn` as the connection the message goes out on; with it,
/// what the encoding found.
fn encoding_for<R>(conn: &Connection, f: impl FnOnce() -> R) -> (R, Found) {
    /// Puts the previous context back, even if the encoding panics.
    struct Restore(usize, Found);
    impl Drop for Restore {
        fn drop(&mut self) {
            ENCODING_FOR.set(self.0);
            let found = std::mem::take(&mut self.1);
            NAMED.set(found.named);
            // Reply slots of an encoding that panicked are dropped: their callers are told.
            EXPORTED.set(found.replies);
        }
    }
    let _restore = Restore(
        ENCODING_FOR.replace(std::ptr::from_ref(conn) as usize),
        Found {
            named: NAMED.take(),
            replies: EXPORTED.take(),
        },
    );
    let encoded = f();
    let found = Found {
        named: NAMED.take(),
        replies: EXPORTED.take(),
    };
    (encoded, found)
}

/// Correlation ids of reply slots sent to other nodes: the high half, so they never meet the
/// ids of a connection's own calls, which count up from 1.
static EXPORTED_CORR: AtomicU64 = AtomicU64::new(1 << 63);

/// The message being encoded on this thread carries `reply`, a caller's reply slot: it waits
/// here, under the id returned, for the other node's answer.
pub(crate) fn exporting(reply: Pending) -> u64 {
    let corr = EXPORTED_CORR.fetch_add(1, Ordering::Relaxed);
    EXPORTED.with_borrow_mut(|exported| exported.push((corr, reply)));
    corr
}

/// The message being encoded on this thread names an actor of `node`, a third node: the
/// receiver is told to connect to it first.
pub(crate) fn naming(node: NodeRef) {
    NAMED.with_borrow_mut(|named| {
        if !named.contains(&node) {
            named.push(node);
        }
    });
}

/// `true` if the message being encoded on this thread goes out on `conn`; `None` if no
/// message to another node is being encoded.
pub(crate) fn encoding_on(conn: &Connection) -> Option<bool> {
    match ENCODING_FOR.get() {
        0 => None,
        at => Some(at == std::ptr::from_ref(conn) as usize),
    }
}

/// `true` while a message to another node is being encoded on this thread.
pub(crate) fn encoding_for_a_node() -> bool {
    ENCODING_FOR.get() != 0
}

/// The connection the message being decoded on this thread came from.
pub(crate) fn decoding_from() -> Option<Arc<Connection>> {
    DECODING_FROM.with_borrow(Clone::clone)
}

impl Connection {
    pub(crate) fn new(
        peer: PeerInfo,
        local: Arc<str>,
        out: Arc<Outbox>,
        exports: Arc<Exports>,
        counters: Arc<Counters>,
        (directory, dialled): (Option<Arc<dyn Directory>>, Option<SocketAddr>),
    ) -> Connection {
        let standins = Arc::new(StandIns::default());
        Connection {
            peer,
            local,
            dialled,
            directory,
            out,
            exports,
            counters,
            pending: Mutex::new(HashMap::new()),
            asked: Mutex::new(HashMap::new()),
            proxies: Proxies::new(standins.clone()),
            standins,
            next_corr: AtomicU64::new(1),
            down: watch::channel(None).0,
        }
    }

    /// This node's exported actors.
    pub(crate) fn exports(&self) -> &Arc<Exports> {
        &self.exports
    }

    /// The pid, here, of the other node's actor `id`.
    pub(crate) fn remote_pid(&self, id: u64) -> Pid {
        Pid::remote(self.peer.index, self.peer.creation, id)
    }

    /// Why the connection ended, once it has.
    pub(crate) fn down(&self) -> watch::Receiver<Option<ExitReason>> {
        self.down.subscribe()
    }

    /// Encodes `msg` for the other node's actor `to` and queues it; room was checked.
    pub(crate) fn send<A: RemoteActor>(&self, to: u64, msg: A::Msg) -> Result<(), SendError> {
        SCRATCH.with_borrow_mut(|body| {
            if body.capacity() > SCRATCH_KEEP {
                // A large message grew it: give the memory back rather than keep it per thread.
                *body = Vec::new();
            }
            body.clear();
            let (pending, Found { named, replies }) = encoding_for(self, || A::__encode(msg, body));
            let pending = match pending {
                Ok(pending) => pending,
                Err(e) => {
                    fail(replies, &CallError::Remote(e.clone()));
                    return Err(SendError::Remote(e));
                }
            };
            if !named.is_empty() {
                self.introduce(Intro::Actor(to), named);
            }
            let corrs = self.await_replies(replies);
            // A large body leaves the scratch buffer (which would give its memory back
            // anyway) and is fragmented in place.
            let queue = |header: &[u8], body: &mut Vec<u8>| {
                if self.out.is_bulk(header, body.len()) {
                    self.out.data_owned(header, std::mem::take(body))
                } else {
                    self.out.data(header, body)
                }
            };
            let sent = match pending {
                None => queue(Header::cast(to).as_bytes(), body),
                Some(pending) => {
                    let corr = self.next_corr.fetch_add(1, Ordering::Relaxed);
                    self.insert_pending(corr, pending);
                    let sent = queue(Header::call(to, corr).as_bytes(), body);
                    if sent.is_err() {
                        // The caller gets the send's error; its slot goes unanswered.
                        drop(lock(&self.pending).remove(&corr));
                    }
                    sent
                }
            };
            if let Err(e) = &sent {
                self.unsent(&corrs, e);
            }
            sent
        })
    }

    /// Keeps the reply slots a message carries until the other node answers them; their ids.
    fn await_replies(&self, replies: Vec<(u64, Pending)>) -> Vec<u64> {
        let corrs = replies.iter().map(|(corr, _)| *corr).collect();
        for (corr, reply) in replies {
            self.insert_pending(corr, reply);
        }
        corrs
    }

    /// The message that carried the reply slots `corrs` was not sent: their callers get why.
    fn unsent(&self, corrs: &[u64], why: &SendError) {
        let unsent: Vec<_> = {
            let mut table = lock(&self.pending);
            corrs.iter().filter_map(|corr| table.remove(corr)).collect()
        };
        for reply in unsent {
            reply.complete(Err(CallError::from_send(why.clone())));
        }
    }

    fn insert_pending(&self, corr: u64, pending: Pending) {
        let mut table = lock(&self.pending);
        // Calls that timed out leave their entry until a reply comes; sweep them now and
        // then, so a callee that never answers does not grow the table.
        if corr % 1024 == 0 {
            table.retain(|_, p| !p.abandoned());
        }
        table.insert(corr, pending);
    }

    /// Tells the other node that what follows for `of` names actors of `nodes`.
    fn introduce(&self, of: Intro, nodes: Vec<NodeRef>) {
        self.signal_back(&SignalMsg::Nodes { of, nodes });
    }

    /// The connection a handle to actor `creation` of node `name`, found in a message from
    /// this one, reaches it by; `None` if the node is this one. A node that is not connected
    /// (it could not be reached) or has restarted since (another creation) gives a connection
    /// that is already lost: the handle's sends fail with [`ExitReason::NoConnection`].
    pub(crate) fn third(&self, name: &str, creation: u32) -> Option<Arc<Connection>> {
        let directory = self.directory.as_ref();
        if *name == *self.local && directory.is_none_or(|d| d.creation() == creation) {
            return None;
        }
        let (found, index) = directory.map_or((None, 0), |d| d.find(name));
        if let Some(conn) = found.filter(|c| c.peer.creation == creation) {
            return Some(conn);
        }
        let lost = Connection::new(
            PeerInfo {
                name: name.to_owned(),
                creation,
                index,
            },
            self.local.clone(),
            Arc::new(Outbox::new(1, 64, 64)),
            self.exports.clone(),
            self.counters.clone(),
            (None, None),
        );
        lost.out.close(ExitReason::NoConnection);
        lost.down.send_replace(Some(ExitReason::NoConnection));
        Some(Arc::new(lost))
    }

    /// `true` if every node of `nodes` is this one or connected (to a creation that may not
    /// be the one named: a handle of another creation is stale, and connecting again would
    /// not make it less so).
    fn all_connected(&self, nodes: &[NodeRef]) -> bool {
        let Some(directory) = &self.directory else {
            return true;
        };
        nodes.iter().all(|node| self.reached(&**directory, node))
    }

    /// `true` if `node` is this one or connected.
    fn reached(&self, directory: &dyn Directory, node: &NodeRef) -> bool {
        *node.name == *self.local || directory.find(&node.name).0.is_some()
    }

    /// Connects to the nodes of `nodes` not connected yet, one after the other. One that
    /// cannot be reached is logged: the handles to its actors arrive unreachable.
    async fn connect_all(&self, nodes: Vec<NodeRef>) {
        let Some(directory) = &self.directory else {
            return;
        };
        for node in nodes {
            if self.reached(&**directory, &node) {
                continue;
            }
            if let Err(e) = directory.connect(node.name.clone(), node.addr).await {
                tracing::warn!(
                    peer = %self.peer.name,
                    node = %node.name,
                    "a message names actors of a node this one cannot reach: {e}"
                );
            }
        }
    }

    /// Asks the other node for the id of the actor of `kind` registered as `name`.
    pub(crate) async fn lookup(
        &self,
        name: &str,
        kind: &str,
        timeout: Duration,
    ) -> Result<u64, String> {
        self.ask(
            |corr| Control::Lookup {
                corr,
                name: name.to_owned(),
                kind: kind.to_owned(),
            },
            None,
            timeout,
        )
        .await
    }

    /// The MessagePack of the arguments of a spawn of `kind` on the other node, and the third
    /// nodes whose actors they name (the other node connects to those before it decodes
    /// them). They may hold handles (`Remote`) to actors of any node; a caller's reply slot
    /// is refused, because only a message can carry one.
    pub(crate) fn encode_spawn_args<T: serde::Serialize>(
        &self,
        kind: &str,
        args: &T,
    ) -> Result<(bytes::Bytes, Vec<NodeRef>), String> {
        let (encoded, Found { named, replies }) = encoding_for(self, || rmp_serde::to_vec(args));
        let encoded =
            encoded.map_err(|e| format!("the arguments for a `{kind}` do not encode: {e}"))?;
        if !replies.is_empty() {
            // Dropped here: their callers hear that no reply will come.
            return Err(format!(
                "the arguments for a `{kind}` hold a caller's reply slot (`Forwarded`), which only a message can carry"
            ));
        }
        Ok((bytes::Bytes::from(encoded), named))
    }

    /// Asks the other node to start an actor of `kind` with `args` (MessagePack), linked to
    /// the local process `link` if given; its id. An actor that starts after `timeout` is
    /// killed when its id arrives.
    pub(crate) async fn spawn(
        &self,
        kind: &str,
        (args, nodes): (bytes::Bytes, Vec<NodeRef>),
        link: Option<Arc<dyn Process>>,
        timeout: Duration,
    ) -> Result<u64, String> {
        let link_id = link.as_ref().map(|l| l.pid().id());
        self.ask(
            |corr| Control::Spawn {
                corr,
                kind: kind.to_owned(),
                args,
                link: link_id,
                nodes,
            },
            Some(link),
            timeout,
        )
        .await
    }

    /// Sends the request `ask` builds around a fresh correlation id and waits for the
    /// other node's answer. `spawn` is `Some` for a spawn, with its linker.
    async fn ask(
        &self,
        ask: impl FnOnce(u64) -> Control,
        spawn: Option<Option<Arc<dyn Process>>>,
        timeout: Duration,
    ) -> Result<u64, String> {
        let what = if spawn.is_some() {
            "a spawn"
        } else {
            "a look-up"
        };
        let corr = self.next_corr.fetch_add(1, Ordering::Relaxed);
        let request = pack(&ask(corr));
        // A control frame is never split, and the other node closes a connection that sends
        // one over its limit.
        if request.len() + 1 > self.out.max_frame() {
            return Err(format!(
                "{what} of {} bytes does not fit in a frame to node `{}` (at most {} bytes)",
                request.len(),
                self.peer.name,
                self.out.max_frame() - 1
            ));
        }
        let (answer, mut rx) = oneshot::channel();
        let is_spawn = spawn.is_some();
        let link = spawn.flatten();
        let linker = link.as_ref().map(|l| l.pid());
        lock(&self.asked).insert(corr, Asked::Waiting { answer, link });
        let lost = || format!("the connection to node `{}` was lost", self.peer.name);
        // `lost` closes the queue before it clears `asked`: a request that was put in `asked`
        // after that is failed here, one put in before is failed by `lost`.
        if self.out.closed().is_some() {
            lock(&self.asked).remove(&corr);
            return Err(lost());
        }
        self.out.control(&request);
        if let Ok(answer) = tokio::time::timeout(timeout, &mut rx).await {
            return answer.unwrap_or_else(|_| Err(lost()));
        }
        let delivering = {
            let mut asked = lock(&self.asked);
            let waiting = asked.remove(&corr).is_some();
            if waiting && is_spawn {
                asked.insert(corr, Asked::Abandoned { link: linker });
            }
            !waiting
        };
        if delivering {
            // The answer is being delivered right now: take it after all.
            return rx.await.unwrap_or_else(|_| Err(lost()));
        }
        Err(format!(
            "node `{}` did not answer {what} within {timeout:?}",
            self.peer.name
        ))
    }

    /// The proxy of the other node's actor `id`, for links and monitors.
    pub(crate) fn proxy(&self, id: u64) -> Arc<RemoteProcess> {
        let proxy = self.proxies.proxy(id, self.remote_pid(id), &self.out);
        if let Some(reason) = self.out.closed() {
            proxy.lost(&reason);
        }
        proxy
    }

    /// Kills the other node's actor `id`.
    pub(crate) fn kill(&self, id: u64) {
        self.signal_back(&SignalMsg::Kill { to: id });
    }

    /// Link and monitor records held for this connection: proxies of the other node's actors
    /// that local actors link to or monitor, and stand-ins of its actors that link to or
    /// monitor local ones.
    pub(crate) fn records(&self) -> (usize, usize) {
        (self.proxies.len(), self.standins.len())
    }

    /// Ends the connection: every waiting call fails, every link and monitor across it fires,
    /// with [`ExitReason::NoConnection`]. Runs once.
    pub(crate) fn lost(&self, why: &str) {
        let reason = ExitReason::NoConnection;
        if self.down.borrow().is_some() {
            return;
        }
        self.down.send_replace(Some(reason.clone()));
        self.counters
            .connections_lost
            .fetch_add(1, Ordering::Relaxed);
        tracing::warn!(peer = %self.peer.name, "connection lost: {why}");
        self.out.close(reason.clone());
        let pending = std::mem::take(&mut *lock(&self.pending));
        for (_, call) in pending {
            call.complete(Err(CallError::Stopped(reason.clone())));
        }
        lock(&self.asked).clear();
        for proxy in self.proxies.take_all() {
            proxy.lost(&reason);
        }
        for standin in self.standins.take_all() {
            standin.lost(&reason);
        }
    }

    /// Reads frames until the connection ends; returns why it ended, once what was read has
    /// been handed on (for at most `silence` more). A silent peer is declared lost after
    /// `silence` (its heartbeats stopped).
    pub(crate) async fn read(
        self: &Arc<Self>,
        frames: Framed<ReadHalf, FrameCodec>,
        silence: Duration,
        max_message: usize,
    ) -> String {
        let backlog = Arc::new(Backlog::new(max_message));
        let why = self
            .read_frames(frames, silence, max_message, &backlog)
            .await;
        // Messages already read reach their actors before the exits of a lost connection;
        // those that never came whole give up their places.
        let _ = tokio::time::timeout(silence, async {
            for id in backlog.still_arriving() {
                let route = backlog.arrived(id, Job::Nothing).await;
                self.dispatch(route, &backlog).await;
            }
            backlog.settled().await;
        })
        .await;
        why
    }

    async fn read_frames(
        self: &Arc<Self>,
        mut frames: Framed<ReadHalf, FrameCodec>,
        silence: Duration,
        max_message: usize,
        backlog: &Arc<Backlog>,
    ) -> String {
        let mut reassembly = Reassembly::new(max_message, MAX_PARTIAL);
        loop {
            let frame = match tokio::time::timeout(silence, frames.next()).await {
                Err(_) => {
                    return format!(
                        "node `{}` sent nothing, not even a heartbeat, for {silence:?}",
                        self.peer.name
                    );
                }
                Ok(None) => return format!("node `{}` closed the connection", self.peer.name),
                Ok(Some(Err(e))) => return format!("node `{}`: {e}", self.peer.name),
                Ok(Some(Ok(frame))) => frame,
            };
            if frame.kind == Kind::Control {
                match unpack::<Control>(&frame.payload) {
                    Ok(control) => self.control(control),
                    Err(e) => self.reject(&e),
                }
                continue;
            }
            // The first fragment of a message to an actor holds its place in that actor's
            // line: what follows for the actor waits until the message is whole.
            let (bulk, place) = match fragment_of(&frame.payload) {
                Some((id, index, part)) if frame.kind == Kind::Fragment => {
                    (Some(id), if index == 0 { actor_of(part) } else { None })
                }
                _ => (None, None),
            };
            match reassembly.push(frame) {
                Ok(None) => {
                    if let (Some(id), Some(key)) = (bulk, place) {
                        backlog.arriving(id, key);
                    }
                }
                Ok(Some(message)) => {
                    self.counters.messages_in.fetch_add(1, Ordering::Relaxed);
                    match bulk {
                        Some(id) if backlog.is_arriving(id) => {
                            let route = backlog.arrived(id, Job::Message(message)).await;
                            self.dispatch(route, backlog).await;
                        }
                        // Signals go through `queue`: one may ask for a connection first.
                        _ if backlog.clear_for(message.len())
                            && message.first() != Some(&SIGNAL) =>
                        {
                            self.data(&message).await;
                        }
                        _ => self.queue(message, backlog).await,
                    }
                }
                Err(e) => {
                    self.reject(&e);
                    if let Some(id) = bulk.filter(|id| backlog.is_arriving(*id)) {
                        let route = backlog.arrived(id, Job::Nothing).await;
                        self.dispatch(route, backlog).await;
                    }
                }
            }
        }
    }

    /// Hands on a message while something waits in the backlog, or a large one: in order
    /// behind what waits for the same actor (or reply), if anything does.
    async fn queue(self: &Arc<Self>, message: bytes::Bytes, backlog: &Arc<Backlog>) {
        let key = match Envelope::parse(&message) {
            Err(e) => return self.reject(&e),
            Ok(Envelope::Cast { to, .. } | Envelope::Call { to, .. }) => Key::Actor(to),
            Ok(Envelope::Reply { corr, .. }) => Key::Reply(corr),
            Ok(Envelope::Signal(body)) => {
                let signal = match unpack::<SignalMsg>(body) {
                    Ok(signal) => signal,
                    Err(e) => return self.reject(&e),
                };
                let Some(key) = self.signal_key(&signal) else {
                    return self.signal(signal);
                };
                let job = match signal {
                    SignalMsg::Nodes { nodes, .. } if self.all_connected(&nodes) => return,
                    SignalMsg::Nodes { nodes, .. } => Job::Connect(nodes),
                    signal => Job::Signal(signal),
                };
                let route = backlog.route(key, job).await;
                return self.dispatch(route, backlog).await;
            }
        };
        let route = backlog.route(key, Job::Message(message)).await;
        self.dispatch(route, backlog).await;
    }

    /// Hands on a job where the backlog says: here, or by a new worker of its key that then
    /// hands on the rest of the key's queue.
    async fn dispatch(self: &Arc<Self>, route: Route, backlog: &Arc<Backlog>) {
        match route {
            Route::Here(job) => self.hand_on(job).await,
            Route::Worker(key, job, weight) => {
                let conn = self.clone();
                let backlog = backlog.clone();
                table::spawn(async move {
                    let mut next = Some((job, weight));
                    while let Some((job, weight)) = next {
                        conn.hand_on(job).await;
                        next = backlog.next(key, weight);
                    }
                });
            }
            Route::Queued => {}
        }
    }

    /// The actor (or reply) whose order `signal` keeps: the local actor it is for. `None` for
    /// answers to this node's own requests.
    fn signal_key(&self, signal: &SignalMsg) -> Option<Key> {
        match *signal {
            SignalMsg::Monitor { target, .. } | SignalMsg::Demonitor { target, .. } => {
                Some(Key::Actor(target))
            }
            SignalMsg::Down {
                monitor, target, ..
            } => self
                .proxies
                .get(target)
                .and_then(|proxy| proxy.watcher(MonitorRef::from_raw(monitor)))
                .map(Key::Actor),
            SignalMsg::Link { to, .. }
            | SignalMsg::Unlink { to, .. }
            | SignalMsg::Exit { to, .. }
            | SignalMsg::Kill { to } => Some(Key::Actor(to)),
            SignalMsg::Nodes {
                of: Intro::Actor(to),
                ..
            } => Some(Key::Actor(to)),
            SignalMsg::Nodes {
                of: Intro::Reply(corr),
                ..
            } => Some(Key::Reply(corr)),
            SignalMsg::Spawned { .. } | SignalMsg::Rejected { .. } => None,
        }
    }

    /// Delivers a job; a large message is decoded on a blocking thread.
    async fn hand_on(self: &Arc<Self>, job: Job) {
        let large = job.large();
        match job {
            Job::Nothing => {}
            Job::Signal(signal) => self.signal(signal),
            Job::Connect(nodes) => self.connect_all(nodes).await,
            Job::Message(message) if large => {
                let conn = self.clone();
                let kept = message.clone();
                match tokio::task::spawn_blocking(move || conn.take(&message)).await {
                    Ok(Some(wait)) => wait.await,
                    Ok(None) => {}
                    // A `Deserialize` of the message's types panicked.
                    Err(e) => self.panicked(&kept, &e),
                }
            }
            Job::Message(message) => self.data(&message).await,
        }
    }

    fn reject(&self, error: &dyn std::fmt::Display) {
        self.counters.rejected_in.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(peer = %self.peer.name, "message from another node dropped: {error}");
    }

    fn control(self: &Arc<Self>, control: Control) {
        match control {
            Control::Heartbeat => {}
            Control::Lookup { corr, name, kind } => {
                let result = self.exports.lookup(&name, &kind, "this node");
                self.out.control(&pack(&Control::Found { corr, result }));
            }
            Control::Found { corr, result } => {
                let asked = lock(&self.asked).remove(&corr);
                if let Some(Asked::Waiting { answer, .. }) = asked {
                    let _ = answer.send(result);
                }
            }
            Control::Spawn {
                corr,
                kind,
                args,
                link,
                nodes,
            } => {
                let Some(spawner) = self.exports.spawner(&kind) else {
                    let result = Err(format!(
                        "this node does not allow other nodes to spawn a `{kind}` (`Node::allow_spawn` there lets them)"
                    ));
                    self.signal_back(&SignalMsg::Spawned { corr, result });
                    return;
                };
                // The arguments are decoded in this connection's context, so that a handle in
                // them is bound to it, once the third nodes they name are connected; the
                // connecting and `#[init]` may take their time: the reader goes on meanwhile.
                let conn = self.clone();
                table::spawn(async move {
                    if !nodes.is_empty() {
                        conn.connect_all(nodes).await;
                    }
                    let spawning = conn.decoding(|| spawner.spawn(conn.exports.clone(), &args));
                    let result = spawning.await;
                    let spawned = result.as_ref().ok().copied();
                    // The answer goes first: an exit signal of the new actor travels behind
                    // it, so the other node knows the actor before it hears of its end.
                    conn.signal_back(&SignalMsg::Spawned { corr, result });
                    if let (Some(id), Some(from)) = (spawned, link) {
                        conn.signal(SignalMsg::Link { from, to: id });
                    }
                });
            }
            other => self.reject(&format!("unexpected control message {other:?}")),
        }
    }

    /// The decoding of `message` off the reader panicked: it is dropped, counted, and its
    /// sender told, as for a message that does not decode.
    fn panicked(&self, message: &[u8], panic: &tokio::task::JoinError) {
        let error = RemoteError::Decode(format!("decoding it panicked: {panic}"));
        self.reject(&error);
        match Envelope::parse(message) {
            Ok(Envelope::Cast { to, .. }) => self.signal_back(&SignalMsg::Rejected {
                to,
                error: error.to_string(),
            }),
            Ok(Envelope::Call { corr, .. }) => self.reply(corr, Err(CallError::Remote(error))),
            // A reply's caller hears of it when its slot, dropped by the panic, goes.
            _ => {}
        }
    }

    /// Runs `f` (a decoding) with this connection as the one the message came from.
    fn decoding<R>(self: &Arc<Self>, f: impl FnOnce() -> R) -> R {
        /// Puts the previous context back, even if the decoding panics.
        struct Restore(Option<Arc<Connection>>);
        impl Drop for Restore {
            fn drop(&mut self) {
                DECODING_FROM.set(self.0.take());
            }
        }
        let _restore = Restore(DECODING_FROM.replace(Some(self.clone())));
        f()
    }

    async fn data(self: &Arc<Self>, message: &[u8]) {
        if let Some(wait) = self.take(message) {
            wait.await;
        }
    }

    /// Decodes a message and hands it on; `Some` if its actor's mailbox is full and the
    /// message waits for room.
    fn take(self: &Arc<Self>, message: &[u8]) -> Option<Wait> {
        let envelope = match Envelope::parse(message) {
            Ok(envelope) => envelope,
            Err(e) => {
                self.reject(&e);
                return None;
            }
        };
        match envelope {
            Envelope::Cast { to, body } => {
                let outcome = match self.exports.get(to) {
                    None => Err(RemoteError::Unknown(format!(
                        "actor {to} is not exported by this node (stopped, or never registered)"
                    ))),
                    Some(inbound) => self.decoding(|| inbound.deliver(body, None)),
                };
                match outcome {
                    Ok(Delivery::Done) => None,
                    Ok(Delivery::Wait(wait)) => Some(wait),
                    Err(error) => {
                        self.reject(&error);
                        self.signal_back(&SignalMsg::Rejected {
                            to,
                            error: error.to_string(),
                        });
                        None
                    }
                }
            }
            Envelope::Call { to, corr, body } => {
                let outcome = match self.exports.get(to) {
                    None => Err(RemoteError::Unknown(format!(
                        "actor {to} is not exported by this node (stopped, or never registered)"
                    ))),
                    Some(inbound) => self.decoding(|| {
                        inbound.deliver(
                            body,
                            Some(ReplyRoute {
                                sink: self.clone(),
                                corr,
                            }),
                        )
                    }),
                };
                match outcome {
                    Ok(Delivery::Done) => None,
                    Ok(Delivery::Wait(wait)) => Some(wait),
                    Err(error) => {
                        self.reject(&error);
                        self.reply(corr, Err(CallError::Remote(error)));
                        None
                    }
                }
            }
            Envelope::Reply { corr, ok, body } => {
                let Some(call) = lock(&self.pending).remove(&corr) else {
                    // The caller timed out and the entry was swept, or a duplicate.
                    return None;
                };
                if ok {
                    self.decoding(|| call.complete(Ok(body)));
                } else {
                    match unpack::<Failure>(body) {
                        Ok(failure) => call.complete(Err(failure.into_error())),
                        Err(e) => call.complete(Err(CallError::Remote(RemoteError::Decode(
                            format!("the error reply: {e}"),
                        )))),
                    }
                }
                None
            }
            Envelope::Signal(body) => {
                match unpack::<SignalMsg>(body) {
                    Ok(signal) => self.signal(signal),
                    Err(e) => self.reject(&e),
                }
                None
            }
        }
    }

    fn signal_back(&self, signal: &SignalMsg) {
        let _ = self.out.data(Header::signal().as_bytes(), &pack(signal));
    }

    fn signal(&self, signal: SignalMsg) {
        match signal {
            SignalMsg::Monitor {
                monitor,
                watcher,
                target,
            } => {
                let monitor_ref = MonitorRef::from_raw(monitor);
                let held = self
                    .standins
                    .hold(watcher, self.remote_pid(watcher), &self.out);
                held.standin.will_monitor(monitor_ref);
                let erased: Arc<dyn Process> = held.standin.clone();
                let added = match self.exports.resolve(target) {
                    Some(process) => process.add_watcher(monitor_ref, Arc::downgrade(&erased)),
                    None => Err(ExitReason::NoProc),
                };
                if let Err(reason) = added {
                    held.standin.monitor_ended(monitor_ref);
                    self.signal_back(&SignalMsg::Down {
                        monitor,
                        target,
                        reason,
                    });
                }
            }
            SignalMsg::Demonitor {
                monitor,
                watcher,
                target,
            } => {
                let monitor = MonitorRef::from_raw(monitor);
                if let Some(process) = self.exports.resolve(target) {
                    process.remove_watcher(monitor);
                }
                if let Some(standin) = self.standins.get(watcher) {
                    standin.monitor_ended(monitor);
                }
            }
            SignalMsg::Down {
                monitor,
                target,
                reason,
            } => {
                if let Some(proxy) = self.proxies.get(target) {
                    proxy.down(MonitorRef::from_raw(monitor), reason);
                }
            }
            SignalMsg::Link { from, to } => {
                let held = self.standins.hold(from, self.remote_pid(from), &self.out);
                let standin: Arc<dyn Process> = held.standin.clone();
                match self.exports.resolve(to) {
                    Some(process) => link_processes(&standin, &process),
                    None => self.signal_back(&SignalMsg::Exit {
                        from: to,
                        to: from,
                        reason: ExitReason::NoProc,
                        link: true,
                    }),
                }
            }
            SignalMsg::Unlink { from, to } => {
                // The link is in the stand-in if the other node made it, in the proxy if
                // this one did.
                if let Some(standin) = self.standins.get(from) {
                    standin.remove_link(Pid::local(to));
                }
                if let Some(proxy) = self.proxies.get(from) {
                    proxy.forget_link(Pid::local(to));
                }
                if let Some(process) = self.exports.resolve(to) {
                    process.remove_link(self.remote_pid(from));
                }
            }
            SignalMsg::Exit {
                from,
                to,
                reason,
                link,
            } => {
                let local = Pid::local(to);
                // A link exit goes through whichever record holds the link: the proxy if this
                // node made it, the stand-in if the other node did. A link exit over no link
                // (unlinked meanwhile, or a spawn given up) is dropped. If both nodes made the
                // link, both records hold it, and both let it go.
                let handled = self.proxies.get(from).is_some_and(|proxy| {
                    proxy.exit_to(local, || self.exports.resolve(to), reason.clone(), link)
                });
                let fired = link
                    && self
                        .standins
                        .get(from)
                        .is_some_and(|standin| standin.link_fired(local));
                if !handled && (!link || fired) {
                    if let Some(process) = self.exports.resolve(to) {
                        let from = self.remote_pid(from);
                        if link {
                            process.remove_link(from);
                        }
                        process.signal(Signal::exit(Exit { from, reason }, link));
                    }
                }
            }
            SignalMsg::Kill { to } => {
                if let Some(process) = self.exports.resolve(to) {
                    process.kill();
                }
            }
            SignalMsg::Spawned { corr, result } => self.spawned(corr, result),
            SignalMsg::Rejected { to, error } => {
                self.counters.rejected_out.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    peer = %self.peer.name,
                    "a cast to {} was dropped by node `{}`: {error}",
                    self.remote_pid(to),
                    self.peer.name
                );
            }
            // Connecting is done in order by the backlog (`queue`): a `Nodes` seen here came
            // with nothing to connect to, or this node cannot connect.
            SignalMsg::Nodes { .. } => {}
        }
    }
}

impl Connection {
    /// The other node answers a spawn of ours.
    fn spawned(&self, corr: u64, result: Result<u64, String>) {
        let asked = lock(&self.asked).remove(&corr);
        match (asked, result) {
            (Some(Asked::Waiting { answer, link }), Ok(id)) => {
                if answer.is_closed() {
                    // The asker went away before the answer (its future was dropped).
                    self.abandon(id, link.as_ref().map(|l| l.pid()));
                    return;
                }
                if let Some(linker) = &link {
                    self.adopt_link(id, linker);
                }
                let _ = answer.send(Ok(id));
            }
            (Some(Asked::Waiting { answer, .. }), Err(e)) => {
                let _ = answer.send(Err(e));
            }
            (Some(Asked::Abandoned { link }), Ok(id)) => self.abandon(id, link),
            // An answer to nothing asked: nobody holds that actor either.
            (None, Ok(id)) => self.abandon(id, None),
            (Some(Asked::Abandoned { .. }) | None, Err(_)) => {}
        }
    }

    /// Kills the actor `id` of the other node that a spawn nobody waits for any more
    /// started, unlinking it first from `link`, which was told the spawn failed.
    fn abandon(&self, id: u64, link: Option<Pid>) {
        tracing::warn!(
            peer = %self.peer.name,
            "{} started after its spawn timed out: killed",
            self.remote_pid(id)
        );
        if let Some(linker) = link {
            self.signal_back(&SignalMsg::Unlink {
                from: linker.id(),
                to: id,
            });
        }
        self.signal_back(&SignalMsg::Kill { to: id });
    }

    /// Records here the link the other node made at spawn between its new actor `id` and
    /// the local `linker`.
    fn adopt_link(&self, id: u64, linker: &Arc<dyn Process>) {
        let proxy = self.proxy(id);
        let erased: Arc<dyn Process> = proxy.clone();
        if let Err(reason) = proxy.adopt_link(linker.pid(), Arc::downgrade(linker)) {
            // The connection was lost meanwhile.
            linker.signal(Signal::exit(
                Exit {
                    from: proxy.pid(),
                    reason,
                },
                true,
            ));
            return;
        }
        if linker
            .add_link(proxy.pid(), Arc::downgrade(&erased))
            .is_err()
        {
            // The linker stopped meanwhile: the new actor hears it as it would over the link.
            let reason = linker.exit_reason().unwrap_or(ExitReason::NoProc);
            erased.signal(Signal::exit(
                Exit {
                    from: linker.pid(),
                    reason,
                },
                true,
            ));
        }
    }
}

/// Ends the calls whose reply slots were to travel in a message that could not be encoded.
fn fail(replies: Vec<(u64, Pending)>, why: &CallError) {
    for (_, reply) in replies {
        reply.complete(Err(why.clone()));
    }
}

impl ReplySink for Connection {
    fn encoding(&self, corr: u64, encode: &mut dyn FnMut() -> Result<(), String>) -> Vec<u64> {
        let (encoded, Found { named, replies }) = encoding_for(self, encode);
        if let Err(e) = encoded {
            fail(
                replies,
                &CallError::Remote(RemoteError::Encode(format!("the reply: {e}"))),
            );
            return Vec::new();
        }
        if !named.is_empty() {
            self.introduce(Intro::Reply(corr), named);
        }
        // The reply is queued after this returns: its slots wait from now, and are answered
        // only once it has arrived.
        self.await_replies(replies)
    }

    fn reply_carrying(&self, corr: u64, outcome: Result<Vec<u8>, CallError>, carried: &[u64]) {
        // Replies answer admitted calls: they skip the room check.
        let sent = match outcome {
            Ok(body) => match self
                .out
                .data_owned(Header::reply(corr, true).as_bytes(), body)
            {
                Err(SendError::Remote(e)) => Err(e),
                _ => Ok(()),
            },
            Err(error) => Err(match error {
                CallError::Remote(e) => e,
                other => {
                    let _ = self.out.data(
                        Header::reply(corr, false).as_bytes(),
                        &pack(&Failure::from_error(other)),
                    );
                    return;
                }
            }),
        };
        if let Err(e) = sent {
            // The slots it carried will never reach the other node: their callers hear why.
            self.unsent(carried, &SendError::Remote(e.clone()));
            let _ = self.out.data(
                Header::reply(corr, false).as_bytes(),
                &pack(&Failure::from_error(CallError::Remote(e))),
            );
        }
    }

    fn panicking(&self, corr: u64, process: Option<Arc<dyn Process>>) {
        let Some(process) = process else {
            self.reply(corr, Err(CallError::NoReply));
            return;
        };
        let out = self.out.clone();
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            let reason = process::wait_for_exit(&*process).await;
            let _ = out.data(
                Header::reply(corr, false).as_bytes(),
                &pack(&Failure::Stopped(reason)),
            );
        });
    }
}

/// Writes what the outbox holds until it is closed and drained, or the socket fails. Sends a
/// heartbeat after `heartbeat` of silence.
pub(crate) async fn write(
    out: Arc<Outbox>,
    mut socket: WriteHalf,
    heartbeat: Duration,
) -> io::Result<()> {
    let beat = pack(&Control::Heartbeat);
    loop {
        let batch = out.take();
        if batch.is_empty() {
            if out.closed().is_some() {
                let _ = socket.shutdown().await;
                return Ok(());
            }
            if tokio::time::timeout(heartbeat, out.queued()).await.is_err() {
                out.control(&beat);
            }
            continue;
        }
        if !batch.control.is_empty() {
            socket.write_all(&batch.control).await?;
        }
        if !batch.data.is_empty() {
            socket.write_all(&batch.data).await?;
        }
        if let Some(fragment) = batch.fragment {
            socket.write_all(&fragment.head).await?;
            socket.write_all(&fragment.piece).await?;
        }
        // TLS keeps records in its session until flushed; plain TCP has nothing to do.
        socket.flush().await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection() -> Connection {
        let peer = PeerInfo {
            name: "b".to_owned(),
            creation: 1,
            index: 1,
        };
        Connection::new(
            peer,
            Arc::from("a"),
            Arc::new(Outbox::new(1 << 20, 1 << 16, 1 << 20)),
            Arc::new(Exports::new(crate::tables::TablesRef::fresh())),
            Arc::new(Counters::default()),
            (None, None),
        )
    }

    /// A look-up or spawn asked of a connection already lost fails at once with the loss, not
    /// after its timeout (paused time: waiting would advance the clock by the timeout).
    #[tokio::test(start_paused = true)]
    async fn asking_a_lost_connection_fails_at_once() {
        let conn = connection();
        conn.lost("test");
        let started = tokio::time::Instant::now();
        let looked = conn.lookup("x", "kind", Duration::from_secs(10)).await;
        let spawned = conn
            .spawn(
                "kind",
                (bytes::Bytes::new(), Vec::new()),
                None,
                Duration::from_secs(10),
            )
            .await;
        assert_eq!(started.elapsed(), Duration::ZERO);
        for outcome in [looked, spawned] {
            let error = outcome.expect_err("the connection is lost");
            assert!(error.contains("was lost"), "{error}");
        }
        assert!(lock(&conn.asked).is_empty(), "nothing is left waiting");
    }

    /// Lost while the question is out: the asker is told at once, not at its timeout.
    #[tokio::test(start_paused = true)]
    async fn a_connection_lost_while_asking_fails_the_question() {
        let conn = Arc::new(connection());
        let asking = tokio::spawn({
            let conn = conn.clone();
            async move { conn.lookup("x", "kind", Duration::from_secs(10)).await }
        });
        while lock(&conn.asked).is_empty() {
            tokio::task::yield_now().await;
        }
        let started = tokio::time::Instant::now();
        conn.lost("test");
        let error = asking.await.expect("no panic").expect_err("lost");
        assert_eq!(started.elapsed(), Duration::ZERO);
        assert!(error.contains("was lost"), "{error}");
    }
}
