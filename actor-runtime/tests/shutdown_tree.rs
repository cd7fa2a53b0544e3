//! Shutdown stops supervision trees top-down, restarts nothing and refuses new spawns. One
//! test per file: shutdown reaches every actor of the process.

mod common;

use std::time::Duration;

use actor_runtime::prelude::*;
use common::supervision::{Journal, Worker};

#[supervisor(one_for_one)]
struct Tree {
    #[child(args = ("a", Journal::named("tree")))]
    a: Child<Worker>,
    #[child(args = ("b", Journal::named("tree")))]
    b: Child<Worker>,
    #[child(args = ("c", Journal::named("tree")))]
    c: Child<Worker>,
}

#[tokio::test]
async fn shutdown_stops_trees_top_down_in_reverse_order_and_restarts_nothing() {
    let journal = Journal::named("tree");
    let tree = Tree::start().await.expect("start");
    let sup = tree.supervisor().expect("runs");
    assert_eq!(journal.take(), vec!["start a", "start b", "start c"]);
    let report = actor_runtime::shutdown(Duration::from_secs(5)).await;
    assert_eq!(
        journal.take(),
        vec!["exit c: shutdown", "exit b: shutdown", "exit a: shutdown"],
        "children stop last-started first, and none is restarted"
    );
    assert_eq!(sup.exit_reason(), Some(ExitReason::Shutdown));
    assert_eq!(report.stopped, 4);
    assert_eq!(report.killed, 0);
    assert_eq!(actor_runtime::actor_count(), 0);
    // Once shutdown has returned, actors start again.
    assert!(Worker::spawn(("late", journal.clone())).await.is_ok());
}
