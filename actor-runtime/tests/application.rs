//! Applications: dependency order, reverse stop order, and what each mode's exit does.

mod common;

use std::time::Duration;

use actor_runtime::prelude::*;
use actor_runtime::{App, AppController, AppError, AppMode, ControllerExit};
use common::supervision::{Journal, Worker};

#[supervisor(one_for_one)]
struct Db {
    #[child(args = ("db", Journal::named("apps-order")))]
    db: Child<Worker>,
}

#[supervisor(one_for_one)]
struct Web {
    #[child(args = ("web", Journal::named("apps-order")))]
    web: Child<Worker>,
}

#[tokio::test]
async fn applications_start_after_their_dependencies_and_stop_in_reverse_order() {
    let journal = Journal::named("apps-order");
    let node = AppController::new();
    assert_eq!(
        node.start(App::<Web>::new("web").after("db")).await.err(),
        Some(AppError::MissingDependency {
            app: "web",
            needs: "db"
        })
    );
    node.start(App::<Db>::new("db")).await.expect("db starts");
    let web = node
        .start(App::<Web>::new("web").after("db"))
        .await
        .expect("web starts");
    assert_eq!(web.web.name().await, Ok("web"));
    assert_eq!(
        node.start(App::<Db>::new("db")).await.err(),
        Some(AppError::AlreadyStarted("db"))
    );
    assert_eq!(node.applications(), vec!["db", "web"]);

    let exit = node.run_until(async { ControllerExit::Requested }).await;
    assert_eq!(exit, ControllerExit::Requested);
    assert_eq!(
        journal.take(),
        vec![
            "start db",
            "start web",
            "exit web: shutdown",
            "exit db: shutdown"
        ]
    );
    assert!(node.applications().is_empty());
}

#[supervisor(one_for_one, intensity = 1, period = "1m")]
struct Fragile {
    #[child(args = ("fragile", Journal::named("apps-modes")))]
    w: Child<Worker>,
}

#[supervisor(one_for_one)]
struct Steady {
    #[child(args = ("steady", Journal::named("apps-modes")))]
    w: Child<Worker>,
}

async fn exhaust(tree: &Fragile) {
    for _ in 0..2 {
        let a = tree.w.addr().expect("running");
        a.crash().expect("queued");
        a.wait_for_exit().await;
    }
}

#[tokio::test]
async fn permanent_application_exit_stops_the_node() {
    let node = AppController::new();
    let steady = node
        .start(App::<Steady>::new("steady"))
        .await
        .expect("start");
    let fragile = node
        .start(App::<Fragile>::new("fragile"))
        .await
        .expect("start");
    exhaust(&fragile).await;
    let exit = node.run_until(std::future::pending()).await;
    assert_eq!(
        exit,
        ControllerExit::AppExited {
            app: "fragile",
            reason: ExitReason::Shutdown
        }
    );
    assert!(
        steady.w.addr().is_none(),
        "the other application was stopped"
    );
}

#[tokio::test(start_paused = true)]
async fn transient_application_normal_exit_leaves_the_node_running() {
    let node = AppController::new();
    let steady = node
        .start(App::<Steady>::new("steady"))
        .await
        .expect("start");
    let other = node
        .start(App::<Fragile>::new("other").mode(AppMode::Transient))
        .await
        .expect("start");
    other.supervisor().expect("runs").stop();
    let exit = node
        .run_until(async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            ControllerExit::Requested
        })
        .await;
    assert_eq!(
        exit,
        ControllerExit::Requested,
        "the normal exit did not stop the node"
    );
    assert!(
        steady.w.addr().is_none(),
        "stopped by the request, not before"
    );
}

#[tokio::test]
async fn transient_application_abnormal_exit_stops_the_node() {
    let node = AppController::new();
    let fragile = node
        .start(App::<Fragile>::new("fragile").mode(AppMode::Transient))
        .await
        .expect("start");
    exhaust(&fragile).await;
    let exit = node.run_until(std::future::pending()).await;
    assert!(matches!(
        exit,
        ControllerExit::AppExited { app: "fragile", .. }
    ));
}

#[tokio::test(start_paused = true)]
async fn temporary_application_exit_is_only_reported() {
    let node = AppController::new();
    node.start(App::<Steady>::new("steady"))
        .await
        .expect("start");
    let fragile = node
        .start(App::<Fragile>::new("fragile").mode(AppMode::Temporary))
        .await
        .expect("start");
    exhaust(&fragile).await;
    let exit = node
        .run_until(async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            ControllerExit::Requested
        })
        .await;
    assert_eq!(exit, ControllerExit::Requested);
}

#[tokio::test]
async fn stop_from_another_task_ends_run() {
    let node = std::sync::Arc::new(AppController::new());
    node.start(App::<Steady>::new("steady"))
        .await
        .expect("start");
    let stopper = {
        let node = node.clone();
        tokio::spawn(async move { node.stop().await })
    };
    let exit = node.run_until(std::future::pending()).await;
    stopper.await.expect("stopper");
    assert_eq!(exit, ControllerExit::Requested);
    assert_eq!(
        node.start(App::<Steady>::new("late")).await.err(),
        Some(AppError::Stopping)
    );
}
