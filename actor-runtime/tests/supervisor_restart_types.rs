//! Restart types: permanent, transient and temporary children.

mod common;

use actor_runtime::ChildInfo;
use actor_runtime::prelude::*;
use common::supervision::{Journal, Worker};

#[supervisor(one_for_all)]
struct Mixed {
    #[child(args = ("perm", Journal::named("types")))]
    perm: Child<Worker>,
    #[child(restart = transient, args = ("trans", Journal::named("types")))]
    trans: Child<Worker>,
    #[child(restart = temporary, args = ("temp", Journal::named("types")))]
    temp: Child<Worker>,
}

async fn settle(tree: &Mixed) -> Vec<ChildInfo> {
    tree.supervisor()
        .expect("supervisor runs")
        .children()
        .await
        .expect("children")
}

#[tokio::test]
async fn transient_normal_exit_is_not_restarted_abnormal_is() {
    let journal = Journal::named("types");
    let tree = Mixed::start().await.expect("start");
    journal.take();

    let trans = tree.trans.addr().expect("running");
    trans.quit().expect("queued");
    trans.wait_for_exit().await;
    let children = settle(&tree).await;
    assert_eq!(
        children[1].pid, None,
        "a transient child that exits normally stays down"
    );
    assert_eq!(journal.take(), vec!["exit trans: normal"]);
    assert_eq!(tree.trans.exit_reason(), Some(ExitReason::Normal));
    assert!(matches!(
        tree.trans.name().await,
        Err(CallError::Stopped(ExitReason::Normal))
    ));
}

#[tokio::test]
async fn temporary_child_is_never_restarted_not_even_by_a_sibling_crash() {
    let journal = Journal::named("types-temp");
    #[supervisor(one_for_all)]
    struct Tree {
        #[child(args = ("perm", Journal::named("types-temp")))]
        perm: Child<Worker>,
        #[child(restart = temporary, args = ("temp", Journal::named("types-temp")))]
        temp: Child<Worker>,
    }
    let tree = Tree::start().await.expect("start");
    journal.take();

    let perm = tree.perm.addr().expect("running");
    perm.crash().expect("queued");
    perm.wait_for_exit().await;
    let children = tree
        .supervisor()
        .expect("runs")
        .children()
        .await
        .expect("children");
    assert!(children[0].pid.is_some());
    assert_eq!(children[1].pid, None);
    assert_eq!(
        journal.take(),
        vec![
            "exit perm: error: crash",
            "exit temp: shutdown",
            "start perm"
        ]
    );
    // A temporary child that crashes is not restarted either.
    let tree2 = Mixed::start().await.expect("start");
    let temp = tree2.temp.addr().expect("running");
    temp.crash().expect("queued");
    temp.wait_for_exit().await;
    assert_eq!(settle(&tree2).await[2].pid, None);
}

#[tokio::test]
async fn permanent_child_is_restarted_even_after_a_normal_exit() {
    let tree = Mixed::start().await.expect("start");
    let perm = tree.perm.addr().expect("running");
    perm.quit().expect("queued");
    perm.wait_for_exit().await;
    let children = settle(&tree).await;
    assert!(children[0].pid.is_some_and(|p| p != perm.pid()));
}
