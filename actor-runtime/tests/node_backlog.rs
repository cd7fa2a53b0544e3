//! Large messages from another node are decoded off the connection's reader: small messages
//! to other actors go on meanwhile, and what follows a large message to the same actor
//! (a message, a `Down`) waits for it.
//!
//! The large message here is a `Gated` value whose decoding blocks until its test opens the
//! gate, so each test knows the decoding is under way, and for how long.

#[path = "common/wait.rs"]
mod wait;

use std::collections::BTreeSet;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use actor_runtime::node::{Node, NodeConfig, Remote};
use actor_runtime::prelude::*;
use actor_runtime::{CallError, RemoteError};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Above the size from which messages are decoded off the reader (256 KiB).
const LARGE: usize = 300 << 10;

/// The gates held closed, and the tags whose decoding has begun.
#[derive(Default)]
struct Gates {
    held: BTreeSet<u32>,
    entered: BTreeSet<u32>,
}

static GATES: Mutex<Gates> = Mutex::new(Gates {
    held: BTreeSet::new(),
    entered: BTreeSet::new(),
});
static OPENED: Condvar = Condvar::new();

fn gates() -> MutexGuard<'static, Gates> {
    GATES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn hold(tag: u32) {
    gates().held.insert(tag);
}

fn open(tag: u32) {
    gates().held.remove(&tag);
    OPENED.notify_all();
}

fn entered(tag: u32) -> bool {
    gates().entered.contains(&tag)
}

/// A tag that makes the decoding panic.
const PANICS: u32 = 999;

/// A large value whose decoding waits while its tag's gate is held (for 30 s at most).
#[derive(Debug, PartialEq)]
struct Gated {
    tag: u32,
    pad: String,
}

impl Gated {
    fn new(tag: u32) -> Gated {
        Gated {
            tag,
            pad: "x".repeat(LARGE),
        }
    }
}

impl Serialize for Gated {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (self.tag, &self.pad).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Gated {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (tag, pad) = <(u32, String)>::deserialize(deserializer)?;
        assert_ne!(tag, PANICS, "this value panics when decoded");
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut gates = gates();
        gates.entered.insert(tag);
        while gates.held.contains(&tag) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            gates = OPENED
                .wait_timeout(gates, left)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
        Ok(Gated { tag, pad })
    }
}

/// Records what it receives, in order.
#[actor]
struct Sink {
    log: Vec<String>,
}

#[actor(remote = "test.BacklogSink")]
impl Sink {
    #[init]
    fn init() -> Self {
        Sink { log: Vec::new() }
    }

    #[handle(cast)]
    fn take(&mut self, gated: Gated) {
        self.log.push(format!("gated {}", gated.tag));
    }

    #[handle(cast)]
    fn note(&mut self, n: u32) {
        self.log.push(format!("note {n}"));
    }

    #[handle(cast)]
    fn blob(&mut self, n: u32, _bytes: Vec<u8>) {
        self.log.push(format!("blob {n}"));
    }

    #[handle(call)]
    fn echo(&mut self, n: u32) -> u32 {
        n
    }

    #[handle(call)]
    fn make(&mut self, tag: u32) -> Gated {
        Gated::new(tag)
    }

    #[handle(call)]
    fn size_of(&mut self, gated: Gated) -> usize {
        gated.pad.len()
    }

    #[handle(call)]
    fn log(&mut self) -> Vec<String> {
        self.log.clone()
    }

    #[handle(cast)]
    fn watch(&mut self, target: Remote<Sink>, ctx: &mut Ctx<Self>) {
        ctx.monitor(&target);
    }

    /// Sends a large message to `to`, then stops.
    #[handle(cast)]
    fn send_and_stop(&mut self, to: Remote<Sink>, tag: u32, ctx: &mut Ctx<Self>) {
        to.take(Gated::new(tag)).expect("room for the message");
        ctx.stop();
    }

    #[on_down]
    fn down(&mut self, _down: Down) {
        self.log.push("down".to_owned());
    }
}

async fn pair() -> (Node, Node) {
    let a = Node::start(NodeConfig::new("a", "secret"))
        .await
        .expect("a");
    let b = Node::start(NodeConfig::new("b", "secret"))
        .await
        .expect("b");
    a.connect(b.local_addr().expect("b listens"))
        .await
        .expect("connect");
    (a, b)
}

/// Two sinks on `b`, as `a` reaches them.
async fn sinks(a: &Node, b: &Node) -> (Addr<Sink>, Remote<Sink>, Remote<Sink>) {
    let sink = Sink::spawn(()).await.expect("spawn");
    let other = Sink::spawn(()).await.expect("spawn");
    b.register("sink", &sink).expect("register");
    b.register("other", &other).expect("register");
    let to_sink = a.lookup("b", "sink").await.expect("lookup");
    let to_other = a.lookup("b", "other").await.expect("lookup");
    (sink, to_sink, to_other)
}

async fn log_is(sink: &Addr<Sink>, expected: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let log = sink.log().await.expect("the sink answers");
        if log == expected {
            return;
        }
        assert!(
            Instant::now() < deadline && log.len() < expected.len(),
            "the sink's log reads {log:?}, not {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_small_call_to_another_actor_is_answered_while_a_large_message_is_decoded() {
    let (a, b) = pair().await;
    let (sink, to_sink, to_other) = sinks(&a, &b).await;
    hold(1);
    to_sink.take(Gated::new(1)).expect("cast");
    wait::until(
        "the decoding to begin",
        Duration::from_secs(20),
        async || entered(1).then_some(()),
    )
    .await;
    // The reader is not held up by the decoding, which waits on its gate.
    assert_eq!(
        to_other.echo(5).timeout(Duration::from_secs(20)).await,
        Ok(5)
    );
    assert_eq!(sink.log().await, Ok(vec![]), "still being decoded");
    open(1);
    log_is(&sink, &["gated 1"]).await;
}

#[tokio::test]
async fn a_small_message_to_the_same_actor_waits_for_the_large_one_before_it() {
    let (a, b) = pair().await;
    let (sink, to_sink, to_other) = sinks(&a, &b).await;
    hold(2);
    to_sink.take(Gated::new(2)).expect("cast");
    to_sink.note(7).expect("cast");
    // Once another actor answers, the reader has read the note too (it came first).
    assert_eq!(
        to_other.echo(1).timeout(Duration::from_secs(20)).await,
        Ok(1)
    );
    wait::until(
        "the decoding to begin",
        Duration::from_secs(20),
        async || entered(2).then_some(()),
    )
    .await;
    assert_eq!(sink.log().await, Ok(vec![]), "the note waits behind");
    open(2);
    log_is(&sink, &["gated 2", "note 7"]).await;
}

#[tokio::test]
async fn messages_in_fragments_and_small_ones_to_one_actor_arrive_in_the_order_sent() {
    let (a, b) = pair().await;
    let (sink, to_sink, _) = sinks(&a, &b).await;
    let mut expected = Vec::new();
    for n in 0..40u32 {
        // Above one frame (64 KiB), below the size decoded off the reader, and above it.
        match n % 4 {
            0 => to_sink.blob(n, vec![1; 100 << 10]),
            2 => to_sink.blob(n, vec![2; 300 << 10]),
            _ => to_sink.note(n),
        }
        .expect("cast");
        expected.push(if n % 2 == 0 {
            format!("blob {n}")
        } else {
            format!("note {n}")
        });
    }
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    log_is(&sink, &expected).await;
}

#[tokio::test]
async fn a_down_does_not_overtake_the_large_message_its_actor_sent_before_stopping() {
    let (a, b) = pair().await;
    // The sender on `a`, the watcher on `b`.
    let sender = Sink::spawn(()).await.expect("spawn");
    a.register("sender", &sender).expect("register");
    let watcher = Sink::spawn(()).await.expect("spawn");
    b.register("watcher", &watcher).expect("register");
    let to_sender: Remote<Sink> = b.lookup("a", "sender").await.expect("lookup");
    watcher.watch(to_sender).expect("cast");
    wait::until(
        "the monitor to reach node a",
        Duration::from_secs(20),
        async || (a.stats().remote_watchers == 1).then_some(()),
    )
    .await;
    let to_watcher: Remote<Sink> = a.lookup("b", "watcher").await.expect("lookup");
    hold(3);
    let read = b.stats().messages_in;
    sender.send_and_stop(to_watcher, 3).expect("cast");
    // Both the message and the `Down` behind it have been read.
    wait::until(
        "the message and the Down to be read",
        Duration::from_secs(20),
        async || (entered(3) && b.stats().messages_in >= read + 2).then_some(()),
    )
    .await;
    assert_eq!(watcher.log().await, Ok(vec![]), "the Down waits behind");
    open(3);
    log_is(&watcher, &["gated 3", "down"]).await;
}

#[tokio::test]
async fn a_small_reply_is_not_held_up_by_a_large_one_being_decoded() {
    let (a, b) = pair().await;
    let (_sink, to_sink, to_other) = sinks(&a, &b).await;
    hold(4);
    let large = tokio::spawn({
        let to_sink = to_sink.clone();
        async move { to_sink.make(4).timeout(Duration::from_secs(30)).await }
    });
    wait::until(
        "the large reply's decoding to begin",
        Duration::from_secs(20),
        async || entered(4).then_some(()),
    )
    .await;
    assert_eq!(
        to_other.echo(9).timeout(Duration::from_secs(20)).await,
        Ok(9)
    );
    assert!(!large.is_finished());
    open(4);
    assert_eq!(large.await.expect("no panic"), Ok(Gated::new(4)));
}

#[tokio::test]
async fn a_large_message_whose_decoding_panics_is_refused_and_the_connection_stays() {
    let (a, b) = pair().await;
    let (sink, to_sink, to_other) = sinks(&a, &b).await;
    let refused = b.stats().rejected_in;
    let error = to_sink
        .size_of(Gated::new(PANICS))
        .timeout(Duration::from_secs(20))
        .await;
    assert!(
        matches!(error, Err(CallError::Remote(RemoteError::Decode(ref why))) if why.contains("panicked")),
        "{error:?}"
    );
    assert_eq!(b.stats().rejected_in, refused + 1);
    assert_eq!(b.stats().connections_lost, 0);
    assert_eq!(to_other.echo(2).await, Ok(2));
    assert_eq!(sink.log().await, Ok(vec![]));
}
