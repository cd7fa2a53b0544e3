//! Handles inside messages between nodes: a handle to a local actor travels to another node
//! and reaches back through the generated client, links and monitors; a handle sent to its
//! own node arrives as a local one; replies carry handles too; a handle to an actor of a
//! third node arrives connected to that node, in order, or fails with `NoConnection` if that
//! node cannot be reached.

use std::time::Duration;

use actor_runtime::SendError;
use actor_runtime::node::{Node, NodeConfig, Remote};
use actor_runtime::prelude::*;
use tokio::sync::mpsc;

/// Hears what boards publish.
#[actor]
struct Listener {
    heard: mpsc::UnboundedSender<String>,
    count: u64,
}

#[actor(remote = "handles.Listener")]
impl Listener {
    #[init]
    fn init(heard: mpsc::UnboundedSender<String>) -> Self {
        Listener { heard, count: 0 }
    }

    #[handle(cast)]
    fn hear(&mut self, text: String) {
        self.count += 1;
        let _ = self.heard.send(text);
    }

    #[handle(call)]
    fn count(&mut self) -> u64 {
        self.count
    }
}

/// Keeps the listeners it is given, and watches them.
#[actor]
struct Board {
    node: Node,
    listeners: Vec<Remote<Listener>>,
    downs: Vec<ExitReason>,
}

#[actor(remote = "handles.Board")]
impl Board {
    #[init]
    fn init(node: Node) -> Self {
        Board {
            node,
            listeners: Vec::new(),
            downs: Vec::new(),
        }
    }

    /// Keeps `listener`, monitors it, and answers with the node it is on.
    #[handle(call)]
    fn subscribe(&mut self, listener: Remote<Listener>, ctx: &mut Ctx<Self>) -> String {
        ctx.monitor(&listener);
        let node = listener.node().to_owned();
        self.listeners.push(listener);
        node
    }

    /// Keeps `listener` without a word back.
    #[handle(cast)]
    fn add(&mut self, listener: Remote<Listener>) {
        self.listeners.push(listener);
    }

    #[handle(cast)]
    fn publish(&mut self, text: String) {
        for listener in &self.listeners {
            let _ = listener.hear(text.clone());
        }
    }

    /// Asks the first listener, over the handle it sent, how much it heard.
    #[handle(call)]
    async fn first_count(&mut self) -> Option<u64> {
        let first = self.listeners.first()?.clone();
        first.count().await.ok()
    }

    /// Whether `board` is this very actor, seen as a handle of this node.
    #[handle(call)]
    fn is_me(&mut self, board: Remote<Board>, ctx: &mut Ctx<Self>) -> (String, bool) {
        (board.node().to_owned(), board.pid() == ctx.pid())
    }

    /// A handle to this board, in a reply.
    #[handle(call)]
    fn me(&mut self, ctx: &mut Ctx<Self>) -> Remote<Board> {
        self.node.handle(ctx.addr())
    }

    /// The listeners, handed back.
    #[handle(call)]
    fn listeners(&mut self) -> Vec<Remote<Listener>> {
        self.listeners.clone()
    }

    #[handle(call)]
    fn downs(&mut self) -> Vec<ExitReason> {
        self.downs.clone()
    }

    #[on_down]
    fn down(&mut self, down: Down) {
        if self.listeners.iter().any(|l| l.pid() == down.pid) {
            self.downs.push(down.reason);
        }
    }
}

async fn node(name: &str) -> Node {
    Node::start(NodeConfig::new(name, "secret"))
        .await
        .expect("node")
}

/// Nodes `a` and `b`, connected, with a board registered on `b` and looked up from `a`.
async fn board_on_b() -> (Node, Node, Remote<Board>) {
    let (a, b) = (node("a").await, node("b").await);
    let board = Board::spawn(b.clone()).await.expect("board");
    b.register("board", &board).expect("register");
    a.connect(b.local_addr().expect("b listens"))
        .await
        .expect("connect");
    let board = a.lookup("b", "board").await.expect("lookup");
    (a, b, board)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("in time")
        .expect("a message")
}

/// The downs the board has seen, once it has seen one.
async fn first_downs(board: &Remote<Board>) -> Vec<ExitReason> {
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let downs = board.downs().await.expect("downs");
            if !downs.is_empty() {
                return downs;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("a down in time")
}

#[tokio::test]
async fn a_handle_to_a_local_actor_travels_and_the_other_node_reaches_back_through_it() {
    let (a, _b, board) = board_on_b().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let listener = Listener::spawn(tx).await.expect("listener");
    // Locally the handle goes straight to the mailbox.
    let handle = a.handle(&listener);
    assert_eq!(handle.node(), "a");
    assert_eq!(handle.pid(), listener.pid());
    handle.hear("local".into()).expect("hear");
    assert_eq!(next(&mut rx).await, "local");
    // On `b` it is a handle to an actor of `a`.
    assert_eq!(board.subscribe(handle).await.as_deref(), Ok("a"));
    board.publish("hello".into()).expect("publish");
    assert_eq!(next(&mut rx).await, "hello");
    assert_eq!(board.first_count().await, Ok(Some(2)));
}

#[tokio::test]
async fn a_handle_sent_to_its_own_node_arrives_as_that_nodes_actor() {
    let (_a, _b, board) = board_on_b().await;
    assert_eq!(board.is_me(board.clone()).await, Ok(("b".to_owned(), true)));
}

#[tokio::test]
async fn a_reply_carries_a_handle_that_reaches_its_actor() {
    let (_a, _b, board) = board_on_b().await;
    let me = board.me().await.expect("a handle");
    assert_eq!(me.node(), "b");
    assert_eq!(me.pid(), board.pid());
    assert_eq!(me.downs().await, Ok(Vec::new()));
}

#[tokio::test]
async fn the_other_node_monitors_an_actor_through_a_handle_it_received() {
    let (a, _b, board) = board_on_b().await;
    let (tx, _rx) = mpsc::unbounded_channel();
    let listener = Listener::spawn(tx).await.expect("listener");
    assert_eq!(
        board.subscribe(a.handle(&listener)).await.as_deref(),
        Ok("a")
    );
    listener.kill();
    let downs = first_downs(&board).await;
    assert_eq!(downs, vec![ExitReason::Killed]);
}

/// `a` and `b` as [`board_on_b`], and `c`, dialled by `a`, with a listener registered on it
/// and looked up from `a`: a handle `b` has no connection for.
async fn listener_on_c(
    a: &Node,
) -> (
    Node,
    Remote<Listener>,
    mpsc::UnboundedReceiver<String>,
    Addr<Listener>,
) {
    let c = node("c").await;
    let (tx, rx) = mpsc::unbounded_channel();
    let listener = Listener::spawn(tx).await.expect("listener");
    c.register("listener", &listener).expect("register");
    a.connect(c.local_addr().expect("c listens"))
        .await
        .expect("connect");
    let on_c: Remote<Listener> = a.lookup("c", "listener").await.expect("lookup");
    (c, on_c, rx, listener)
}

fn peer_names(node: &Node) -> Vec<String> {
    node.peers().into_iter().map(|p| p.name).collect()
}

#[tokio::test]
async fn a_handle_to_an_actor_of_a_third_node_connects_the_receiver_to_that_node() {
    let (a, b, board) = board_on_b().await;
    let (c, on_c, mut rx, listener) = listener_on_c(&a).await;
    assert_eq!(peer_names(&b), ["a"]);
    // `b` has no route to `c`: it connects where `a` reached it.
    assert_eq!(board.subscribe(on_c).await.as_deref(), Ok("c"));
    assert_eq!(peer_names(&b), ["a", "c"]);
    assert_eq!(peer_names(&c), ["a", "b"]);
    // `b` casts and calls `c` directly, and monitors its actor.
    board.publish("direct".into()).expect("publish");
    assert_eq!(next(&mut rx).await, "direct");
    assert_eq!(board.first_count().await, Ok(Some(1)));
    listener.kill();
    let downs = first_downs(&board).await;
    assert_eq!(downs, vec![ExitReason::Killed]);
}

#[tokio::test]
async fn what_follows_a_third_nodes_handle_waits_for_the_connection_and_keeps_its_order() {
    let (a, _b, board) = board_on_b().await;
    let (_c, on_c, mut rx, _listener) = listener_on_c(&a).await;
    // The cast that carries the handle makes `b` connect to `c` first; the casts sent after
    // it wait, in order, or the listener would miss them.
    board.add(on_c).expect("add");
    for i in 0..50 {
        board.publish(format!("{i}")).expect("publish");
    }
    for i in 0..50 {
        assert_eq!(next(&mut rx).await, format!("{i}"));
    }
}

#[tokio::test]
async fn a_reply_with_a_third_nodes_handle_connects_the_caller_to_that_node() {
    let (a, b, board) = board_on_b().await;
    let (_c, on_c, mut rx, _listener) = listener_on_c(&a).await;
    assert_eq!(board.subscribe(on_c).await.as_deref(), Ok("c"));
    // `d` knows only `b`; the board's reply names `c`'s listener, which `b` reached.
    let d = node("d").await;
    d.connect(b.local_addr().expect("b listens"))
        .await
        .expect("connect");
    let board_from_d: Remote<Board> = d.lookup("b", "board").await.expect("lookup");
    let listeners = board_from_d.listeners().await.expect("listeners");
    assert_eq!(peer_names(&d), ["b", "c"]);
    assert_eq!(listeners.len(), 1);
    assert_eq!(listeners[0].node(), "c");
    listeners[0].hear("from d".into()).expect("hear");
    assert_eq!(next(&mut rx).await, "from d");
    assert_eq!(listeners[0].count().await, Ok(1));
}

#[tokio::test]
async fn a_handle_to_a_node_the_receiver_cannot_reach_fails_with_noconnection() {
    let (a, b, board) = board_on_b().await;
    // `c` dials `a`: `a` knows no address of `c` to pass on, and `b` has no route to it.
    let c = node("c").await;
    let (tx, _rx) = mpsc::unbounded_channel();
    c.register("listener", &Listener::spawn(tx).await.expect("listener"))
        .expect("register");
    c.connect(a.local_addr().expect("a listens"))
        .await
        .expect("connect");
    let on_c: Remote<Listener> = a.lookup("c", "listener").await.expect("lookup");
    assert_eq!(board.subscribe(on_c).await.as_deref(), Ok("c"));
    assert_eq!(peer_names(&b), ["a"]);
    // The handle arrived, unreachable: its calls fail, and the monitor fires at once.
    assert_eq!(board.first_count().await, Ok(None));
    assert_eq!(board.downs().await, Ok(vec![ExitReason::NoConnection]));
    // The connection that carried it is unharmed.
    assert_eq!(b.stats().connections_lost, 0);
}

#[tokio::test]
async fn a_handle_to_a_third_node_that_restarted_since_fails_with_noconnection() {
    let (a, b, board) = board_on_b().await;
    let (c, stale, _rx, _listener) = listener_on_c(&a).await;
    let old_creation = c.creation();
    c.shutdown();
    // `c` comes back under the same name, another creation, and `b` connects to it.
    let c = node("c").await;
    assert_ne!(c.creation(), old_creation);
    b.connect(c.local_addr().expect("c listens"))
        .await
        .expect("connect");
    // `a` still holds a handle of the old `c`: on `b` it names no live actor.
    assert_eq!(board.subscribe(stale).await.as_deref(), Ok("c"));
    assert_eq!(board.first_count().await, Ok(None));
    assert_eq!(board.downs().await, Ok(vec![ExitReason::NoConnection]));
    // The new `c` and the connection that carried the handle are unharmed.
    assert_eq!(peer_names(&b), ["a", "c"]);
    assert_eq!(b.stats().connections_lost, 0);
}

#[tokio::test]
async fn a_handle_is_not_encoded_outside_a_message_between_nodes() {
    let a = node("a").await;
    let (tx, _rx) = mpsc::unbounded_channel();
    let listener = Listener::spawn(tx).await.expect("listener");
    let encoded = rmp_serde::to_vec(&a.handle(&listener));
    let why = encoded
        .expect_err("no connection to encode for")
        .to_string();
    assert!(why.contains("only inside messages between nodes"), "{why}");
}

#[tokio::test]
async fn handles_of_ours_that_come_back_are_local_and_a_stopped_ones_sends_fail_with_noproc() {
    let (a, _b, board) = board_on_b().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let kept = Listener::spawn(tx.clone()).await.expect("listener");
    let stopping = Listener::spawn(tx).await.expect("listener");
    for listener in [&kept, &stopping] {
        assert_eq!(
            board.subscribe(a.handle(listener)).await.as_deref(),
            Ok("a")
        );
    }
    stopping.stop();
    wait_until_stopped(&stopping).await;
    let back = board.listeners().await.expect("listeners");
    assert_eq!(back.len(), 2);
    assert_eq!(
        back.iter().map(|l| (l.node(), l.pid())).collect::<Vec<_>>(),
        vec![("a", kept.pid()), ("a", stopping.pid())]
    );
    back[0].hear("back home".into()).expect("hear");
    assert_eq!(next(&mut rx).await, "back home");
    assert_eq!(
        back[1].hear("nobody".into()),
        Err(SendError::Stopped(ExitReason::NoProc))
    );
}

async fn wait_until_stopped<A: actor_runtime::Addressable>(addr: &Addr<A>) {
    tokio::time::timeout(Duration::from_secs(5), async {
        while addr.is_alive() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("stopped in time");
}
