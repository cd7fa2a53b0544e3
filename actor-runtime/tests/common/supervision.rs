//! A worker that journals its starts and exits, and a reference model of OTP restarts.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use actor_runtime::Strategy;
use actor_runtime::prelude::*;

/// An ordered log shared by the workers of one test, found by the test's key.
#[derive(Clone, Default, Debug)]
pub struct Journal(Arc<Mutex<Vec<String>>>);

static JOURNALS: LazyLock<Mutex<HashMap<&'static str, Journal>>> = LazyLock::new(Default::default);

impl Journal {
    /// The journal of test `key` (one per key for the whole test binary).
    pub fn named(key: &'static str) -> Journal {
        JOURNALS
            .lock()
            .expect("journals")
            .entry(key)
            .or_default()
            .clone()
    }
    pub fn push(&self, event: String) {
        self.0.lock().expect("journal").push(event);
    }
    /// Everything recorded so far, leaving it.
    pub fn peek(&self) -> Vec<String> {
        self.0.lock().expect("journal").clone()
    }
    /// Everything recorded since the last take.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().expect("journal"))
    }
}

/// A worker named `name` that journals `start name` and `exit name: reason`.
#[actor]
#[derive(Debug)]
pub struct Worker {
    name: &'static str,
    journal: Journal,
    handled: u32,
}

#[actor]
impl Worker {
    #[init]
    fn init((name, journal): (&'static str, Journal)) -> Self {
        journal.push(format!("start {name}"));
        Worker {
            name,
            journal,
            handled: 0,
        }
    }

    /// Stops with an abnormal reason (a crash, with `#[terminate]` journalling it).
    #[handle(cast)]
    fn crash(&mut self, ctx: &mut Ctx<Self>) {
        ctx.stop_with(ExitReason::error("crash"));
    }

    /// Stops normally.
    #[handle(cast)]
    fn quit(&mut self, ctx: &mut Ctx<Self>) {
        ctx.stop();
    }

    /// Counts a message.
    #[handle(cast)]
    fn work(&mut self) {
        self.handled += 1;
    }

    #[handle(call)]
    fn handled(&self) -> u32 {
        self.handled
    }

    #[handle(call)]
    fn name(&self) -> &'static str {
        self.name
    }

    /// Never returns: the worker can then only be killed.
    #[handle(cast)]
    async fn stall(&mut self) {
        std::future::pending::<()>().await;
    }

    /// Holds the caller until the worker stops.
    #[handle(call)]
    fn hang(&mut self, reply: ReplyTo<u32>) {
        std::mem::forget(reply);
    }

    /// "Send the result, then exit": tells `witness`, then stops (abnormally if `abnormal`).
    #[handle(cast)]
    fn last_words(&mut self, witness: Addr<Witness>, abnormal: bool, ctx: &mut Ctx<Self>) {
        let _ = witness.note(format!("last {} {}", self.name, ctx.pid()));
        ctx.stop_with(if abnormal {
            ExitReason::error("crash")
        } else {
            ExitReason::Normal
        });
    }

    #[terminate]
    fn terminate(&mut self, reason: &ExitReason) {
        self.journal.push(format!("exit {}: {reason}", self.name));
    }
}

/// Monitors workers and journals what they tell it and their `Down`s, in the order received.
#[actor(mailbox = 1024)]
#[derive(Debug)]
pub struct Witness {
    journal: Journal,
    names: HashMap<Pid, &'static str>,
}

#[actor]
impl Witness {
    #[init]
    fn init(journal: Journal) -> Self {
        Witness {
            journal,
            names: HashMap::new(),
        }
    }

    /// Monitors `worker`, known as `name` in the journal; `false` if already watched.
    #[handle(call)]
    fn watch(&mut self, worker: Addr<Worker>, name: &'static str, ctx: &mut Ctx<Self>) -> bool {
        if self.names.contains_key(&worker.pid()) {
            return false;
        }
        self.names.insert(worker.pid(), name);
        ctx.monitor(&worker);
        true
    }

    #[handle(cast)]
    fn note(&mut self, text: String) {
        self.journal.push(text);
    }

    /// Busy until `gate` opens, so what arrives meanwhile queues up.
    #[handle(cast)]
    async fn block_on(&mut self, gate: tokio::sync::oneshot::Receiver<()>) {
        let _ = gate.await;
    }

    #[on_down]
    fn down(&mut self, down: Down) {
        if let Some(name) = self.names.remove(&down.pid) {
            self.journal.push(format!("down {name} {}", down.pid));
        }
    }
}

/// Which children OTP restarts, and in which order, when child `crashed` of `n` crashes
/// abnormally (every child permanent): the journal the supervisor must produce.
pub fn expected(strategy: Strategy, n: usize, crashed: usize, names: &[&str]) -> Vec<String> {
    let mut events = vec![format!("exit {}: error: crash", names[crashed])];
    let restarted: Vec<usize> = match strategy {
        Strategy::OneForOne | Strategy::SimpleOneForOne => vec![crashed],
        Strategy::OneForAll => (0..n).collect(),
        Strategy::RestForOne => (crashed..n).collect(),
    };
    for &j in restarted.iter().rev() {
        if j != crashed {
            events.push(format!("exit {}: shutdown", names[j]));
        }
    }
    for &j in &restarted {
        events.push(format!("start {}", names[j]));
    }
    events
}

/// A test that crashes each of three children of a `$strategy` supervisor in turn and checks
/// the journal, and which children got new pids, against [`expected`]. (Only the strategy test
/// files use it; the other test crates that share this module do not.)
#[allow(unused_macros)]
macro_rules! crash_each_child_in_turn {
    ($test:ident, $strategy:ident, $variant:ident, $key:literal) => {
        #[supervisor($strategy, intensity = 10, period = "1s")]
        struct Tree {
            #[child(args = ("a", Journal::named($key)))]
            a: Child<Worker>,
            #[child(args = ("b", Journal::named($key)))]
            b: Child<Worker>,
            #[child(args = ("c", Journal::named($key)))]
            c: Child<Worker>,
        }

        fn children(tree: &Tree) -> [&Child<Worker>; 3] {
            [&tree.a, &tree.b, &tree.c]
        }

        #[tokio::test]
        async fn $test() {
            let journal = Journal::named($key);
            let tree = Tree::start().await.expect("tree starts");
            assert_eq!(journal.take(), vec!["start a", "start b", "start c"]);
            let names = ["a", "b", "c"];
            for crashed in 0..3 {
                let before: Vec<Pid> = children(&tree)
                    .iter()
                    .map(|c| c.addr().expect("running").pid())
                    .collect();
                let victim = children(&tree)[crashed].addr().expect("running");
                victim.crash().expect("queued");
                victim.wait_for_exit().await;
                // The exit signal reached the supervisor before this call, so the answer
                // comes after the restart.
                let supervisor = tree.supervisor().expect("supervisor runs");
                let running = supervisor.children().await.expect("children");
                assert!(running.iter().all(|c| c.pid.is_some()), "{running:?}");
                let restarted = expected(Strategy::$variant, 3, crashed, &names);
                assert_eq!(journal.take(), restarted, "crash of {}", names[crashed]);
                for (i, child) in children(&tree).iter().enumerate() {
                    let now = child.addr().expect("running").pid();
                    let was_restarted = restarted.contains(&format!("start {}", names[i]));
                    assert_eq!(now != before[i], was_restarted, "child {}", names[i]);
                }
            }
            tree.stop();
            tree.supervisor().expect("running").wait_for_exit().await;
            assert_eq!(
                journal.take(),
                vec!["exit c: shutdown", "exit b: shutdown", "exit a: shutdown"]
            );
        }
    };
}

#[allow(unused_imports)]
pub(crate) use crash_each_child_in_turn;
