//! `one_for_all`: crashing each child in turn restarts exactly the children OTP would, in
//! OTP's order (checked against the reference model in `common::supervision::expected`).

mod common;

use actor_runtime::Strategy;
use actor_runtime::prelude::*;
use common::supervision::{Journal, Worker, expected};

const KEY: &str = "one_for_all";

#[supervisor(one_for_all, intensity = 10, period = "1s")]
struct Tree {
    #[child(args = ("a", Journal::named(KEY)))]
    a: Child<Worker>,
    #[child(args = ("b", Journal::named(KEY)))]
    b: Child<Worker>,
    #[child(args = ("c", Journal::named(KEY)))]
    c: Child<Worker>,
}

fn children(tree: &Tree) -> [&Child<Worker>; 3] {
    [&tree.a, &tree.b, &tree.c]
}

#[tokio::test]
async fn one_for_all_restarts_exactly_the_children_the_strategy_names() {
    let journal = Journal::named(KEY);
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
        // The exit signal reached the supervisor before this call, so the answer comes
        // after the restart.
        let supervisor = tree.supervisor().expect("supervisor runs");
        let running = supervisor.children().await.expect("children");
        assert!(running.iter().all(|c| c.pid.is_some()), "{running:?}");
        assert_eq!(
            journal.take(),
            expected(Strategy::OneForAll, 3, crashed, &names),
            "crash of {}",
            names[crashed]
        );
        let restarted = expected(Strategy::OneForAll, 3, crashed, &names);
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
