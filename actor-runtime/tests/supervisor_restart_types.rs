//! Restart types: permanent, transient and temporary children. Each test has its own tree
//! and journal key, since tests run in parallel.

mod common;

use actor_runtime::ChildInfo;
use actor_runtime::prelude::*;
use common::supervision::{Journal, Worker};

/// A one-for-all tree of one permanent, one transient and one temporary worker, journalling
/// under `$key`.
macro_rules! mixed_tree {
    ($name:ident, $key:literal) => {
        #[supervisor(one_for_all)]
        struct $name {
            #[child(args = ("perm", Journal::named($key)))]
            perm: Child<Worker>,
            #[child(restart = transient, args = ("trans", Journal::named($key)))]
            trans: Child<Worker>,
            #[child(restart = temporary, args = ("temp", Journal::named($key)))]
            temp: Child<Worker>,
        }
    };
}

async fn settle(supervisor: Option<Addr<actor_runtime::Supervisor>>) -> Vec<ChildInfo> {
    supervisor
        .expect("supervisor runs")
        .children()
        .await
        .expect("children")
}

async fn exit(child: &Child<Worker>, abnormal: bool) {
    let addr = child.addr().expect("running");
    if abnormal {
        addr.crash().expect("queued");
    } else {
        addr.quit().expect("queued");
    }
    addr.wait_for_exit().await;
}

#[tokio::test]
async fn transient_normal_exit_is_not_restarted_abnormal_is() {
    mixed_tree!(Tree, "types-transient");
    let journal = Journal::named("types-transient");
    let tree = Tree::start().await.expect("start");
    journal.take();

    exit(&tree.trans, true).await;
    let children = settle(tree.supervisor()).await;
    assert!(
        children[1].pid.is_some(),
        "an abnormal exit restarts a transient child"
    );
    journal.take();

    exit(&tree.trans, false).await;
    let children = settle(tree.supervisor()).await;
    assert_eq!(children[1].pid, None, "a normal exit does not");
    assert_eq!(journal.take(), vec!["exit trans: normal"]);
    assert_eq!(tree.trans.exit_reason(), Some(ExitReason::Normal));
    assert!(matches!(
        tree.trans.name().await,
        Err(CallError::Stopped(ExitReason::Normal))
    ));
}

#[tokio::test]
async fn temporary_child_is_never_restarted_not_even_by_a_sibling_crash() {
    mixed_tree!(Tree, "types-temporary");
    let journal = Journal::named("types-temporary");
    let tree = Tree::start().await.expect("start");
    journal.take();

    exit(&tree.perm, true).await;
    let children = settle(tree.supervisor()).await;
    assert!(children[0].pid.is_some());
    assert_eq!(children[2].pid, None);
    assert_eq!(
        journal.take(),
        vec![
            "exit perm: error: crash",
            "exit temp: shutdown",
            "exit trans: shutdown",
            "start perm",
            "start trans"
        ]
    );
    // Nor after a crash of its own.
    mixed_tree!(Other, "types-temporary-own");
    let other = Other::start().await.expect("start");
    exit(&other.temp, true).await;
    assert_eq!(settle(other.supervisor()).await[2].pid, None);
}

#[tokio::test]
async fn permanent_child_is_restarted_even_after_a_normal_exit() {
    mixed_tree!(Tree, "types-permanent");
    let tree = Tree::start().await.expect("start");
    let before = tree.perm.addr().expect("running").pid();
    exit(&tree.perm, false).await;
    let children = settle(tree.supervisor()).await;
    assert!(children[0].pid.is_some_and(|p| p != before));
}
