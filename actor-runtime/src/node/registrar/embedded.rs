//! The embedded registrar of this host. See [`Embedded`].

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;
use tokio_util::codec::{Framed, LinesCodec};

use super::{Registrar, RegistrarError, check_name};
use crate::sync::lock;

/// The port the embedded registrar serves on when not told another (EPMD's is 4369).
pub const DEFAULT_EMBEDDED_PORT: u16 = 4371;

/// The longest line of the protocol.
pub(crate) const MAX_LINE: usize = 256;

/// How long a request waits for its answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a publish waits for the registrar.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(5);

/// How long [`Embedded::resolve`] keeps trying while no process serves (a takeover takes a
/// few milliseconds).
const RESOLVE_PATIENCE: Duration = Duration::from_secs(1);

/// Connections a serving registrar keeps at once; more are closed at accept.
const MAX_CLIENTS: usize = 1024;

/// The embedded registrar of this host: the first node on a host to publish binds a well-known port and
/// serves name look-ups for the host; the others register with it over a connection they
/// keep open. A name lives as long as that connection: when a node's process dies, its
/// names go with it. When the serving process dies, the others race to bind the port; one
/// wins and serves, and the rest register with it again.
///
/// The protocol is lines of text, at most `MAX_LINE` (256) bytes:
///
/// ```text
/// REGISTER <name> <port>   ->  OK | TAKEN | ERROR <why>
/// RESOLVE <name>           ->  AT <port> | UNKNOWN | ERROR <why>
/// WITHDRAW <name>          ->  OK
/// ```
///
/// Anyone on the host may register, as with EPMD: the cookie, not the registrar, decides who
/// may talk to a node.
///
/// Cheap to clone; clones share one registration.
#[derive(Clone, Debug)]
pub struct Embedded {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    at: SocketAddr,
    /// What this process publishes, kept to register again after a takeover.
    published: Mutex<HashMap<String, u16>>,
    /// The keeper task, started by the first publish.
    keeper: Mutex<Option<Keeper>>,
    /// When this process serves: its table.
    serving: Mutex<Option<Arc<Table>>>,
}

#[derive(Debug)]
struct Keeper {
    requests: mpsc::UnboundedSender<Request>,
    task: AbortHandle,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(keeper) = lock(&self.keeper).take() {
            keeper.task.abort();
        }
    }
}

/// A registration (or withdrawal) for the keeper to carry out.
#[derive(Debug)]
struct Request {
    line: String,
    answer: Option<oneshot::Sender<Result<(), RegistrarError>>>,
}

/// The names a serving process knows: each with its port and the connection that holds it
/// (0: this process).
#[derive(Debug, Default)]
struct Table {
    names: Mutex<HashMap<String, (u16, u64)>>,
}

impl Table {
    fn register(&self, name: &str, port: u16, owner: u64) -> bool {
        let mut names = lock(&self.names);
        match names.get(name) {
            Some(&(_, held_by)) if held_by != owner => false,
            _ => {
                names.insert(name.to_owned(), (port, owner));
                true
            }
        }
    }

    fn resolve(&self, name: &str) -> Option<u16> {
        lock(&self.names).get(name).map(|&(port, _)| port)
    }

    fn withdraw(&self, name: &str, owner: u64) {
        let mut names = lock(&self.names);
        if names
            .get(name)
            .is_some_and(|&(_, held_by)| held_by == owner)
        {
            names.remove(name);
        }
    }

    fn drop_owner(&self, owner: u64) {
        lock(&self.names).retain(|_, &mut (_, held_by)| held_by != owner);
    }
}

impl Embedded {
    /// The registrar on this host's loopback, port [`DEFAULT_EMBEDDED_PORT`].
    #[must_use]
    pub fn new() -> Embedded {
        Embedded::at(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            DEFAULT_EMBEDDED_PORT,
        ))
    }

    /// The registrar serving at `at`: nodes it names are found at `at`'s host, on the port
    /// they published.
    #[must_use]
    pub fn at(at: SocketAddr) -> Embedded {
        Embedded {
            inner: Arc::new(Inner {
                at,
                published: Mutex::new(HashMap::new()),
                keeper: Mutex::new(None),
                serving: Mutex::new(None),
            }),
        }
    }

    /// Stops serving (another process takes over) or being registered (this process's names
    /// are forgotten), as if the process had exited. Publishing again starts over.
    pub fn close(&self) {
        lock(&self.inner.published).clear();
        *lock(&self.inner.serving) = None;
        if let Some(keeper) = lock(&self.inner.keeper).take() {
            keeper.task.abort();
        }
    }

    /// Whether this process serves the host's look-ups now.
    #[must_use]
    pub fn is_serving(&self) -> bool {
        lock(&self.inner.serving).is_some()
    }

    /// The keeper's request queue, starting the keeper if it is not running.
    fn keeper(&self) -> mpsc::UnboundedSender<Request> {
        let mut keeper = lock(&self.inner.keeper);
        if let Some(k) = keeper.as_ref() {
            return k.requests.clone();
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(keep(Arc::downgrade(&self.inner), rx));
        *keeper = Some(Keeper {
            requests: tx.clone(),
            task: task.abort_handle(),
        });
        tx
    }
}

impl Default for Embedded {
    fn default() -> Self {
        Embedded::new()
    }
}

impl Registrar for Embedded {
    fn publish<'a>(
        &'a self,
        node: &'a str,
        addr: SocketAddr,
    ) -> BoxFuture<'a, Result<(), RegistrarError>> {
        Box::pin(async move {
            check_name(node)?;
            let (tx, rx) = oneshot::channel();
            let request = Request {
                line: format!("REGISTER {node} {}", addr.port()),
                answer: Some(tx),
            };
            if self.keeper().send(request).is_err() {
                return Err(RegistrarError::Unreachable(
                    "the registrar's keeper stopped".into(),
                ));
            }
            let answer = match tokio::time::timeout(PUBLISH_TIMEOUT, rx).await {
                Ok(Ok(answer)) => answer,
                Ok(Err(_)) => Err(RegistrarError::Unreachable(
                    "the registrar's keeper stopped".into(),
                )),
                Err(_) => Err(RegistrarError::Unreachable(format!(
                    "{}: no registrar answered within {PUBLISH_TIMEOUT:?} (is the port held by another program?)",
                    self.inner.at
                ))),
            };
            if answer.is_ok() {
                lock(&self.inner.published).insert(node.to_owned(), addr.port());
            }
            answer
        })
    }

    fn resolve<'a>(
        &'a self,
        node: &'a str,
    ) -> BoxFuture<'a, Result<Option<SocketAddr>, RegistrarError>> {
        Box::pin(async move {
            check_name(node)?;
            let host = self.inner.at.ip();
            let deadline = tokio::time::Instant::now() + RESOLVE_PATIENCE;
            loop {
                let table = lock(&self.inner.serving).clone();
                let answer = match table {
                    Some(table) => Ok(table.resolve(node)),
                    None => ask_resolve(self.inner.at, node).await,
                };
                match answer {
                    Ok(port) => return Ok(port.map(|p| SocketAddr::new(host, p))),
                    Err(e) if tokio::time::Instant::now() >= deadline => return Err(e),
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
        })
    }

    fn withdraw(&self, node: &str) {
        if lock(&self.inner.published).remove(node).is_none() {
            return;
        }
        if let Some(keeper) = lock(&self.inner.keeper).as_ref() {
            let _ = keeper.requests.send(Request {
                line: format!("WITHDRAW {node}"),
                answer: None,
            });
        }
    }

    /// It serves the nodes of one host.
    fn same_host(&self) -> bool {
        true
    }
}

/// One `RESOLVE` over a connection of its own.
async fn ask_resolve(at: SocketAddr, node: &str) -> Result<Option<u16>, RegistrarError> {
    let unreachable = |e: String| RegistrarError::Unreachable(format!("{at}: {e}"));
    let exchange = async {
        let stream = TcpStream::connect(at)
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        let mut lines = Framed::new(stream, LinesCodec::new_with_max_length(MAX_LINE));
        lines
            .send(format!("RESOLVE {node}"))
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        match lines.next().await {
            Some(Ok(line)) => parse_resolved(&line).ok_or_else(|| unreachable(line)),
            Some(Err(e)) => Err(unreachable(e.to_string())),
            None => Err(unreachable("closed without an answer".into())),
        }
    };
    tokio::time::timeout(ANSWER_TIMEOUT, exchange)
        .await
        .unwrap_or_else(|_| Err(unreachable("no answer in time".into())))
}

fn parse_resolved(line: &str) -> Option<Option<u16>> {
    if line == "UNKNOWN" {
        return Some(None);
    }
    line.strip_prefix("AT ")?.parse().ok().map(Some)
}

/// The keeper: serves the port when it can bind it, and otherwise registers this process's
/// names with the process that serves, again after every takeover.
async fn keep(inner: Weak<Inner>, mut requests: mpsc::UnboundedReceiver<Request>) {
    // A request whose connection broke before its answer: carried to the next one.
    let mut carried = None;
    loop {
        let Some(at) = inner.upgrade().map(|i| i.at) else {
            return;
        };
        match TcpListener::bind(at).await {
            Ok(listener) => {
                serve(&inner, listener, &mut requests, carried.take()).await;
                return;
            }
            Err(_) => match TcpStream::connect(at).await {
                Ok(stream) => {
                    if !client(&inner, stream, &mut requests, &mut carried).await {
                        return;
                    }
                }
                Err(_) => {
                    if requests.is_closed() {
                        return;
                    }
                }
            },
        }
        // The server is gone (or the port is between owners): try again soon, a little
        // apart from the other processes racing for it.
        let mut jitter = [0u8; 1];
        let _ = getrandom::fill(&mut jitter);
        tokio::time::sleep(Duration::from_millis(10 + u64::from(jitter[0] % 40))).await;
    }
}

/// Serving: this process's names go straight into the table; other processes' come over
/// their connections.
async fn serve(
    inner: &Weak<Inner>,
    listener: TcpListener,
    requests: &mut mpsc::UnboundedReceiver<Request>,
    carried: Option<Request>,
) {
    let table = Arc::new(Table::default());
    let Some(strong) = inner.upgrade() else {
        return;
    };
    for (name, &port) in lock(&strong.published).iter() {
        table.register(name, port, 0);
    }
    *lock(&strong.serving) = Some(table.clone());
    drop(strong);
    tracing::debug!(at = ?listener.local_addr().ok(), "serving the embedded registrar");
    if let Some(request) = carried {
        answer_here(&table, request);
    }
    let next_owner = AtomicU64::new(1);
    // Owned here, so that when serving stops (the keeper aborted) every client's
    // connection closes with it and the others notice at once.
    let mut clients = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                if clients.len() >= MAX_CLIENTS {
                    continue;
                }
                let owner = next_owner.fetch_add(1, Ordering::Relaxed);
                clients.spawn(serve_client(table.clone(), stream, owner));
            }
            Some(_) = clients.join_next(), if !clients.is_empty() => {}
            request = requests.recv() => {
                let Some(request) = request else { return };
                answer_here(&table, request);
            }
        }
    }
}

/// A request of this process, answered by its own table.
fn answer_here(table: &Table, request: Request) {
    let reply = answer(table, &request.line, 0);
    settle(request, &reply);
}

/// Gives a request the outcome its reply line says.
fn settle(request: Request, reply: &str) {
    if let Some(tx) = request.answer {
        let _ = tx.send(match reply {
            "OK" => Ok(()),
            "TAKEN" => Err(RegistrarError::Taken(name_of(&request.line))),
            other => Err(RegistrarError::Unreachable(other.to_owned())),
        });
    }
}

/// The name a `REGISTER` or `WITHDRAW` line carries.
fn name_of(line: &str) -> String {
    line.split(' ').nth(1).unwrap_or_default().to_owned()
}

/// One connection to the serving process: its names live as long as it does.
async fn serve_client(table: Arc<Table>, stream: TcpStream, owner: u64) {
    let mut lines = Framed::new(stream, LinesCodec::new_with_max_length(MAX_LINE));
    while let Some(Ok(line)) = lines.next().await {
        let reply = answer(&table, &line, owner);
        if lines.send(reply).await.is_err() {
            break;
        }
    }
    table.drop_owner(owner);
}

/// The answer to one request line from `owner`.
fn answer(table: &Table, line: &str, owner: u64) -> String {
    let mut words = line.split(' ');
    match (words.next(), words.next(), words.next(), words.next()) {
        (Some("REGISTER"), Some(name), Some(port), None) => {
            match (check_name(name), port.parse::<u16>()) {
                (Ok(()), Ok(port)) if port != 0 => {
                    if table.register(name, port, owner) {
                        "OK".into()
                    } else {
                        "TAKEN".into()
                    }
                }
                _ => format!("ERROR bad REGISTER: `{line}`"),
            }
        }
        (Some("RESOLVE"), Some(name), None, None) => match table.resolve(name) {
            Some(port) => format!("AT {port}"),
            None => "UNKNOWN".into(),
        },
        (Some("WITHDRAW"), Some(name), None, None) => {
            table.withdraw(name, owner);
            "OK".into()
        }
        _ => "ERROR expected REGISTER <name> <port>, RESOLVE <name> or WITHDRAW <name>".into(),
    }
}

/// Registered with the serving process: sends this process's names, then carries requests
/// until the connection closes. `false` when this registrar is gone and the keeper should
/// stop.
async fn client(
    inner: &Weak<Inner>,
    stream: TcpStream,
    requests: &mut mpsc::UnboundedReceiver<Request>,
    carried: &mut Option<Request>,
) -> bool {
    let mut lines = Framed::new(stream, LinesCodec::new_with_max_length(MAX_LINE));
    let names: Vec<(String, u16)> = match inner.upgrade() {
        Some(strong) => lock(&strong.published)
            .iter()
            .map(|(n, &p)| (n.clone(), p))
            .collect(),
        None => return false,
    };
    for (name, port) in names {
        if lines.send(format!("REGISTER {name} {port}")).await.is_err() {
            return true;
        }
        match lines.next().await {
            Some(Ok(reply)) if reply == "OK" => {}
            Some(Ok(reply)) => {
                // Another process took the name while the port changed hands: the name
                // is theirs now; say so.
                tracing::warn!(node = %name, %reply, "the embedded registrar refused a name this node held");
            }
            _ => return true,
        }
    }
    loop {
        let request = match carried.take() {
            Some(request) => request,
            None => tokio::select! {
                request = requests.recv() => match request {
                    Some(request) => request,
                    None => return false,
                },
                // The server says nothing unasked: anything here is its end.
                _ = lines.next() => return true,
            },
        };
        if lines.send(request.line.clone()).await.is_err() {
            *carried = Some(request);
            return true;
        }
        match tokio::time::timeout(ANSWER_TIMEOUT, lines.next()).await {
            Ok(Some(Ok(reply))) => settle(request, &reply),
            Ok(_) => {
                *carried = Some(request);
                return true;
            }
            Err(_) => {
                fail(request, "the registrar did not answer in time");
                return true;
            }
        }
    }
}

fn fail(request: Request, why: &str) {
    if let Some(tx) = request.answer {
        let _ = tx.send(Err(RegistrarError::Unreachable(why.to_owned())));
    }
}
