//! Property test: random trees (strategy, restart types) under random sequences of crashes and
//! normal exits behave exactly like a reference model of OTP's supervisor, and every child's
//! last message to a witness arrives before the witness's `Down` for it. 64 cases in the
//! suite; set `SUPERVISOR_MODEL_CASES` for a soak (`SUPERVISOR_MODEL_CASES=10000 cargo test
//! -p actor-runtime --test supervisor_model --release`).

mod common;

use actor_runtime::__private::{ChildSpec, actor_child};
use actor_runtime::prelude::*;
use actor_runtime::{Restart, Strategy, Supervisor, SupervisorSpec};
use common::supervision::{Journal, Witness, Worker};
use proptest::prelude::*;

const NAMES: [&str; 5] = ["c0", "c1", "c2", "c3", "c4"];

/// OTP's supervisor, reduced to what the journal shows.
struct Model {
    strategy: Strategy,
    restart: Vec<Restart>,
    running: Vec<bool>,
    removed: Vec<bool>,
}

impl Model {
    fn restarts_after(restart: Restart, abnormal: bool) -> bool {
        match restart {
            Restart::Permanent => true,
            Restart::Transient => abnormal,
            Restart::Temporary => false,
        }
    }

    /// Child `i` exits; returns the journal the supervisor must produce.
    fn exit(&mut self, i: usize, abnormal: bool) -> Vec<String> {
        let reason = if abnormal { "error: crash" } else { "normal" };
        let mut events = vec![format!("exit {}: {reason}", NAMES[i])];
        self.running[i] = false;
        if !Self::restarts_after(self.restart[i], abnormal) {
            if self.restart[i] == Restart::Temporary {
                self.removed[i] = true;
            }
            return events;
        }
        let n = self.running.len();
        let range = match self.strategy {
            Strategy::OneForAll => 0..n,
            Strategy::RestForOne => i..n,
            _ => i..i + 1,
        };
        for j in range.clone().rev() {
            if j != i && self.running[j] {
                events.push(format!("exit {}: shutdown", NAMES[j]));
                self.running[j] = false;
                if self.restart[j] == Restart::Temporary {
                    self.removed[j] = true;
                }
            }
        }
        for j in range {
            if !self.removed[j] {
                events.push(format!("start {}", NAMES[j]));
                self.running[j] = true;
            }
        }
        events
    }
}

fn strategy() -> impl proptest::strategy::Strategy<Value = Strategy> {
    prop_oneof![
        Just(Strategy::OneForOne),
        Just(Strategy::OneForAll),
        Just(Strategy::RestForOne)
    ]
}

fn restart() -> impl proptest::strategy::Strategy<Value = Restart> {
    prop_oneof![
        Just(Restart::Permanent),
        Just(Restart::Transient),
        Just(Restart::Temporary)
    ]
}

async fn run_case(strategy: Strategy, restarts: Vec<Restart>, events: Vec<(usize, bool)>) {
    let journal = Journal::default();
    let children: Vec<Child<Worker>> = restarts.iter().map(|_| Child::__new()).collect();
    let specs: Vec<ChildSpec> = children
        .iter()
        .zip(&restarts)
        .enumerate()
        .map(|(i, (child, restart))| {
            let journal = journal.clone();
            actor_child(child, NAMES[i], *restart, None, None, move || {
                (NAMES[i], journal.clone())
            })
        })
        .collect();
    let spec = SupervisorSpec::new(strategy, 1000, std::time::Duration::from_secs(60), specs);
    let sup = Supervisor::spawn(spec).await.expect("supervisor starts");
    // Monitors every incarnation: the ordering rule says a child's last message to it comes
    // before its `Down`.
    let seen = Journal::default();
    let witness = Witness::spawn(seen.clone()).await.expect("witness starts");
    let watch_all = async || {
        for (i, child) in children.iter().enumerate() {
            if let Some(addr) = child.addr() {
                witness
                    .watch(addr, NAMES[i])
                    .await
                    .expect("witness answers");
            }
        }
    };
    watch_all().await;
    let mut model = Model {
        strategy,
        restart: restarts.clone(),
        running: vec![true; restarts.len()],
        removed: vec![false; restarts.len()],
    };
    assert_eq!(
        journal.take(),
        NAMES[..restarts.len()]
            .iter()
            .map(|n| format!("start {n}"))
            .collect::<Vec<_>>()
    );
    for (pick, abnormal) in events {
        let running: Vec<usize> = (0..restarts.len()).filter(|i| model.running[*i]).collect();
        if running.is_empty() {
            break;
        }
        let i = running[pick % running.len()];
        let addr = children[i].addr().expect("model says it runs");
        // The witness is busy while the child speaks and dies, so its last message and its
        // `Down` queue up together: the order is the runtime's, not the scheduler's.
        let (gate, busy) = tokio::sync::oneshot::channel();
        witness.block_on(busy).expect("queued");
        addr.last_words(witness.clone(), abnormal).expect("queued");
        addr.wait_for_exit().await;
        // Answered only after the supervisor has handled the exit.
        let infos = sup.children().await.expect("supervisor answers");
        let _ = gate.send(());
        let down = format!("down {} {}", NAMES[i], addr.pid());
        while !seen.peek().contains(&down) {
            tokio::task::yield_now().await;
        }
        let heard = seen.peek();
        let last = format!("last {} {}", NAMES[i], addr.pid());
        let (said, died) = (
            heard.iter().position(|e| *e == last),
            heard.iter().position(|e| *e == down),
        );
        assert!(
            said.is_some() && said < died,
            "the child's last message must arrive before its Down: {heard:?}"
        );
        let expected = model.exit(i, abnormal);
        assert_eq!(
            journal.take(),
            expected,
            "strategy {strategy:?}, restarts {restarts:?}"
        );
        for (j, info) in infos.iter().enumerate() {
            assert_eq!(info.pid.is_some(), model.running[j], "child {j}");
        }
        watch_all().await;
    }
    sup.stop();
    sup.wait_for_exit().await;
}

/// 64 cases in the suite; `SUPERVISOR_MODEL_CASES=10000` runs a soak.
fn cases() -> u32 {
    std::env::var("SUPERVISOR_MODEL_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(64)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn random_crash_sequences_match_the_otp_model(
        strategy in strategy(),
        restarts in proptest::collection::vec(restart(), 1..=5),
        events in proptest::collection::vec((0usize..5, any::<bool>()), 1..12),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(run_case(strategy, restarts, events));
    }
}
