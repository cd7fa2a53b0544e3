//! Restart intensity: more than `intensity` restarts within `period` makes the supervisor exit
//! (with reason `Shutdown`), and its own supervisor reacts.

mod common;

use std::time::Duration;

use actor_runtime::prelude::*;
use common::supervision::{Journal, Worker};

#[supervisor(one_for_one, intensity = 2, period = "10s")]
struct Inner {
    #[child(args = ("w", Journal::named("intensity")))]
    w: Child<Worker>,
}

#[supervisor(one_for_one, intensity = 1, period = "10s")]
struct Outer {
    inner: Inner,
}

async fn crash(child: &Child<Worker>) {
    let addr = child.addr().expect("running");
    addr.crash().expect("queued");
    addr.wait_for_exit().await;
}

#[tokio::test]
async fn supervisor_gives_up_after_intensity_restarts_within_period() {
    let inner = Inner::start().await.expect("start");
    let sup = inner.supervisor().expect("runs");
    crash(&inner.w).await;
    crash(&inner.w).await;
    assert!(sup.is_alive());
    assert_eq!(sup.restart_count().await, Ok(2));
    crash(&inner.w).await;
    assert_eq!(sup.wait_for_exit().await, ExitReason::Shutdown);
}

#[tokio::test(start_paused = true)]
async fn restarts_older_than_period_do_not_count() {
    let inner = Inner::start().await.expect("start");
    let sup = inner.supervisor().expect("runs");
    for _ in 0..5 {
        crash(&inner.w).await;
        crash(&inner.w).await;
        assert!(sup.children().await.is_ok());
        tokio::time::sleep(Duration::from_secs(11)).await;
    }
    assert!(sup.is_alive());
    assert_eq!(sup.restart_count().await, Ok(10));
}

#[tokio::test]
async fn escalation_goes_up_two_levels() {
    let outer = Outer::start().await.expect("start");
    let outer_sup = outer.supervisor().expect("runs");
    let first_inner = outer.inner.supervisor().expect("runs");

    // Three crashes exhaust the inner supervisor; the outer restarts it (its restart 1 of 1).
    for _ in 0..3 {
        crash(&outer.inner.w).await;
    }
    assert_eq!(first_inner.wait_for_exit().await, ExitReason::Shutdown);
    let restarted_inner = loop {
        match outer.inner.supervisor() {
            Some(s) if s.pid() != first_inner.pid() => break s,
            _ => tokio::task::yield_now().await,
        }
    };
    assert_eq!(outer_sup.restart_count().await, Ok(1));
    // The handle reaches the new incarnation's children.
    assert_eq!(outer.inner.w.name().await, Ok("w"));

    // Exhaust the new inner supervisor: the outer's second restart exceeds its intensity.
    for _ in 0..3 {
        crash(&outer.inner.w).await;
    }
    assert_eq!(restarted_inner.wait_for_exit().await, ExitReason::Shutdown);
    assert_eq!(outer_sup.wait_for_exit().await, ExitReason::Shutdown);
}

#[supervisor(one_for_one, intensity = 0)]
struct NoRestarts {
    #[child(args = ("z", Journal::named("intensity-zero")))]
    w: Child<Worker>,
}

#[tokio::test]
async fn intensity_zero_escalates_the_first_crash() {
    let tree = NoRestarts::start().await.expect("start");
    let sup = tree.supervisor().expect("runs");
    crash(&tree.w).await;
    assert_eq!(sup.wait_for_exit().await, ExitReason::Shutdown);
    assert_eq!(tree.w.exit_reason(), Some(ExitReason::error("crash")));
}
