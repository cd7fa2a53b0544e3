//! A caller's reply slot handed on to another node in a `Forwarded`: an actor there answers
//! the caller directly; drops it (the caller gets `NoReply`); is cut off (the caller gets
//! `NoConnection` at once); or the message cannot travel (the caller gets the encoding's
//! error). A call that came from another node can be handed on too. A remote spawn refuses a
//! slot in its arguments (the caller gets `NoReply`).

use std::future::IntoFuture;
use std::time::Duration;

use actor_runtime::node::{Forwarded, Node, NodeConfig, Remote};
use actor_runtime::prelude::*;
use actor_runtime::{CallError, RemoteError, ReplyTo};

/// Work for a squarer: the number, and the slot of the caller waiting for its square.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Job {
    n: u64,
    reply: Forwarded<u64>,
}

/// A field that never encodes.
#[derive(Debug, serde::Deserialize)]
struct Poison;

impl serde::Serialize for Poison {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("poison does not encode"))
    }
}

/// A job that cannot travel: its slot is encoded, then the encoding fails.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Poisoned {
    reply: Forwarded<u64>,
    poison: Poison,
}

/// Squares numbers for callers it never sees.
#[actor]
struct Squarer {
    kept: Vec<Forwarded<u64>>,
}

#[actor(remote = "replies.Squarer")]
impl Squarer {
    #[init]
    fn init() -> Self {
        Squarer { kept: Vec::new() }
    }

    #[handle(cast)]
    fn square(&mut self, job: Job) {
        job.reply.send(job.n * job.n);
    }

    /// Drops the slot unanswered.
    #[handle(cast)]
    fn drop_job(&mut self, job: Job) {
        drop(job);
    }

    /// Tries to encode its own reply slot outside any message, and answers with the error.
    #[handle(call)]
    fn encode_own_reply(&mut self, reply: ReplyTo<String>) {
        let reply = Forwarded::from(reply);
        let why = rmp_serde::to_vec(&reply).map_or_else(|e| e.to_string(), |_| "encoded".into());
        assert!(!reply.is_closed(), "the slot is still there");
        reply.send(why);
    }

    /// Never called: its message does not encode.
    #[handle(cast)]
    fn poisoned(&mut self, job: Poisoned) {
        drop(job);
    }

    /// Keeps the slot, unanswered, for as long as it lives.
    #[handle(cast)]
    fn keep(&mut self, job: Job) {
        self.kept.push(job.reply);
    }
}

/// What a front desk does with a number.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
enum Mode {
    Square,
    Drop,
    Keep,
    Poison,
}

/// Takes calls and hands each caller's slot to a squarer on another node.
#[actor]
struct Desk {
    squarer: Remote<Squarer>,
}

#[actor(remote = "replies.Desk")]
impl Desk {
    #[init]
    fn init(squarer: Remote<Squarer>) -> Self {
        Desk { squarer }
    }

    #[handle(call)]
    fn ask(&mut self, n: u64, mode: Mode, reply: ReplyTo<u64>) {
        let job = Job {
            n,
            reply: reply.into(),
        };
        let sent = match mode {
            Mode::Square => self.squarer.square(job),
            Mode::Drop => self.squarer.drop_job(job),
            Mode::Keep => self.squarer.keep(job),
            Mode::Poison => self.squarer.poisoned(Poisoned {
                reply: job.reply,
                poison: Poison,
            }),
        };
        if mode != Mode::Poison {
            sent.expect("sent to the squarer");
        }
    }
}

async fn node(name: &str) -> Node {
    Node::start(NodeConfig::new(name, "secret"))
        .await
        .expect("node")
}

/// A squarer on `b`, and on `a` a desk that hands its callers' slots to it.
async fn desk_on_a() -> (Node, Node, Addr<Desk>) {
    let (a, b) = (node("a").await, node("b").await);
    let squarer = Squarer::spawn(()).await.expect("squarer");
    b.register("squarer", &squarer).expect("register");
    a.connect(b.local_addr().expect("b listens"))
        .await
        .expect("connect");
    let squarer = a.lookup("b", "squarer").await.expect("lookup");
    let desk = Desk::spawn(squarer).await.expect("desk");
    (a, b, desk)
}

#[tokio::test]
async fn a_reply_slot_handed_to_another_node_is_answered_from_there() {
    let (_a, _b, desk) = desk_on_a().await;
    assert_eq!(desk.ask(7, Mode::Square).await, Ok(49));
    // Many at once, each to its own caller.
    let answers =
        futures_util::future::join_all((0..100).map(|n| desk.ask(n, Mode::Square).into_future()))
            .await;
    assert_eq!(answers, (0..100).map(|n| Ok(n * n)).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_reply_slot_dropped_on_the_other_node_gives_the_caller_noreply() {
    let (_a, _b, desk) = desk_on_a().await;
    assert_eq!(desk.ask(3, Mode::Drop).await, Err(CallError::NoReply));
}

#[tokio::test]
async fn a_message_whose_encoding_fails_after_its_reply_slot_fails_the_caller_with_the_error() {
    let (_a, _b, desk) = desk_on_a().await;
    match desk.ask(3, Mode::Poison).await {
        Err(CallError::Remote(RemoteError::Encode(why))) => {
            assert!(why.contains("poison does not encode"), "{why}");
        }
        other => panic!("expected the encoding error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_reply_slot_held_on_a_node_that_is_lost_fails_its_caller_with_noconnection() {
    let (_a, b, desk) = desk_on_a().await;
    let call = tokio::spawn({
        let desk = desk.clone();
        async move {
            desk.ask(3, Mode::Keep)
                .timeout(Duration::from_secs(60))
                .await
        }
    });
    // The slot waits on `b` until `b` goes; the caller is told then, not at its timeout.
    tokio::time::sleep(Duration::from_millis(50)).await;
    b.shutdown();
    let outcome = tokio::time::timeout(Duration::from_secs(20), call)
        .await
        .expect("told long before the call's timeout")
        .expect("the caller's task");
    assert_eq!(outcome, Err(CallError::Stopped(ExitReason::NoConnection)));
}

#[tokio::test]
async fn a_call_from_another_node_can_be_handed_on_and_answered_by_a_third() {
    let (a, _b, desk) = desk_on_a().await;
    a.register("desk", &desk).expect("register");
    // `c` calls the desk on `a`, whose squarer on `b` answers `c`.
    let c = node("c").await;
    c.connect(a.local_addr().expect("a listens"))
        .await
        .expect("connect");
    let desk: Remote<Desk> = c.lookup("a", "desk").await.expect("lookup");
    assert_eq!(desk.ask(9, Mode::Square).await, Ok(81));
    assert_eq!(desk.ask(9, Mode::Drop).await, Err(CallError::NoReply));
}

#[tokio::test]
async fn a_reply_slot_is_not_encoded_outside_a_message_between_nodes_and_stays_usable() {
    let squarer = Squarer::spawn(()).await.expect("squarer");
    let why = squarer.encode_own_reply().await.expect("answered");
    assert!(why.contains("only inside messages between nodes"), "{why}");
}

/// Answers, as it starts, the caller whose slot it was started with.
#[actor]
struct Greeter;

#[actor(remote = "replies.Greeter")]
impl Greeter {
    #[init]
    fn init(reply: Forwarded<u64>) -> Self {
        reply.send(1);
        Greeter
    }
}

/// Tries to hand its caller's slot to a remote spawn, and reports why that was refused.
#[actor]
struct Starter {
    node: Node,
    why: tokio::sync::mpsc::UnboundedSender<String>,
}

#[actor]
impl Starter {
    #[init]
    fn init(with: (Node, tokio::sync::mpsc::UnboundedSender<String>)) -> Self {
        Starter {
            node: with.0,
            why: with.1,
        }
    }

    #[handle(call)]
    async fn start_greeter(&mut self, reply: ReplyTo<u64>) {
        let why = match self.node.spawn::<Greeter>("b", reply.into()).await {
            Err(actor_runtime::node::NodeError::Spawn(why)) => why,
            other => format!("not refused: {other:?}"),
        };
        let _ = self.why.send(why);
    }
}

#[tokio::test]
async fn a_reply_slot_in_the_arguments_of_a_remote_spawn_is_refused_and_its_caller_told() {
    let (a, b, _desk) = desk_on_a().await;
    b.allow_spawn::<Greeter>();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let starter = Starter::spawn((a.clone(), tx)).await.expect("starter");
    assert_eq!(starter.start_greeter().await, Err(CallError::NoReply));
    let why = rx.recv().await.expect("the spawn's error");
    assert!(why.contains("a caller's reply slot (`Forwarded`)"), "{why}");
}

/// A reply that hands on a waiting caller's slot, with padding to make it large.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Handover {
    slot: Option<Forwarded<u64>>,
    padding: Vec<u8>,
}

/// Keeps a caller waiting, then hands its slot to whoever asks, inside the reply.
#[actor]
struct Broker {
    waiting: Option<Forwarded<u64>>,
}

#[actor(remote = "replies.Broker")]
impl Broker {
    #[init]
    fn init() -> Self {
        Broker { waiting: None }
    }

    #[handle(call)]
    fn wait(&mut self, reply: ReplyTo<u64>) {
        self.waiting = Some(reply.into());
    }

    #[handle(call)]
    fn holding(&mut self) -> bool {
        self.waiting.is_some()
    }

    #[handle(call)]
    fn hand_over(&mut self, padding: usize) -> Handover {
        Handover {
            slot: self.waiting.take(),
            padding: vec![1; padding],
        }
    }
}

#[tokio::test]
async fn a_reply_slot_in_a_reply_too_large_to_send_fails_its_caller_at_once() {
    let a = node("a").await;
    let mut config = NodeConfig::new("b", "secret");
    config.max_message = 64 << 10;
    let b = Node::start(config).await.expect("b");
    let broker = Broker::spawn(()).await.expect("broker");
    b.register("broker", &broker).expect("register");
    a.connect(b.local_addr().expect("b listens"))
        .await
        .expect("connect");
    let remote: Remote<Broker> = a.lookup("b", "broker").await.expect("lookup");

    let waiting = tokio::spawn({
        let broker = broker.clone();
        async move { broker.wait().timeout(Duration::from_secs(60)).await }
    });
    let held = tokio::time::timeout(Duration::from_secs(5), async {
        while !broker.holding().await.expect("holding") {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    held.await
        .expect("the broker holds the waiting caller's slot");
    // A reply of 1 MiB, over b's limit, carries the slot: it is never sent.
    match remote.hand_over(1 << 20).await {
        Err(CallError::Remote(RemoteError::TooLarge { .. })) => {}
        other => panic!("expected the reply to be too large, got {other:?}"),
    }
    let answer = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("the waiting caller is told at once, not at its timeout")
        .expect("the caller's task");
    match answer {
        Err(CallError::Remote(RemoteError::TooLarge { .. })) => {}
        other => {
            panic!("expected the waiting caller to hear the reply was too large, got {other:?}")
        }
    }
}
