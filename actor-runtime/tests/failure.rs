//! Failure semantics: panics, exit reasons, links, trapping exits, monitors, kill.

mod common;

use actor_runtime::prelude::*;
use common::{Probe, recorder};

/// Spawns children on request, links or monitors them, and records what it hears.
#[actor]
struct Parent {
    probe: Probe,
    children: Vec<Addr<common::Recorder>>,
}

#[actor]
impl Parent {
    #[init]
    fn init(probe: Probe) -> Self {
        Parent {
            probe,
            children: Vec::new(),
        }
    }

    /// Spawns a linked recorder child.
    #[handle(call)]
    async fn spawn_linked(&mut self, ctx: &mut Ctx<Self>) -> Addr<common::Recorder> {
        let child = ctx
            .spawn_link::<common::Recorder>(self.probe.clone())
            .await
            .expect("child starts");
        self.children.push(child.clone());
        child
    }

    /// Links to an existing actor.
    #[handle(call)]
    fn link_to(&mut self, other: Addr<common::Recorder>, ctx: &mut Ctx<Self>) -> bool {
        ctx.link(&other);
        true
    }

    /// Removes the link to `other`.
    #[handle(call)]
    fn unlink_from(&mut self, other: Addr<common::Recorder>, ctx: &mut Ctx<Self>) -> bool {
        ctx.unlink(&other);
        true
    }

    /// Stops with `reason`.
    #[handle(cast)]
    fn quit(&mut self, reason: ExitReason, ctx: &mut Ctx<Self>) {
        ctx.stop_with(reason);
    }

    #[terminate]
    fn terminate(&mut self, reason: &ExitReason) {
        self.probe.push(format!("parent terminate {reason}"));
    }
}

/// A parent that traps exits.
#[actor]
struct Trapper {
    probe: Probe,
}

#[actor]
impl Trapper {
    #[init]
    fn init(probe: Probe) -> Self {
        Trapper { probe }
    }

    #[handle(call)]
    async fn spawn_linked(&mut self, ctx: &mut Ctx<Self>) -> Addr<common::Recorder> {
        ctx.spawn_link::<common::Recorder>(self.probe.clone())
            .await
            .expect("child starts")
    }

    #[on_exit]
    fn exited(&mut self, exit: Exit) {
        self.probe
            .push(format!("exit from {}: {}", exit.from, exit.reason));
    }
}

/// Monitors other actors and records the `Down` notifications.
#[actor]
struct Watcher {
    probe: Probe,
}

#[actor]
impl Watcher {
    #[init]
    fn init(probe: Probe) -> Self {
        Watcher { probe }
    }

    #[handle(call)]
    fn watch(&mut self, target: Addr<common::Recorder>, ctx: &mut Ctx<Self>) -> MonitorRef {
        ctx.monitor(&target)
    }

    #[handle(call)]
    fn unwatch(&mut self, monitor: MonitorRef, ctx: &mut Ctx<Self>) -> bool {
        ctx.demonitor(monitor);
        true
    }

    #[on_down]
    async fn down(&mut self, down: Down) {
        self.probe
            .push(format!("down {} {}", down.pid, down.reason));
    }
}

#[tokio::test]
async fn handler_panic_kills_only_that_actor_with_reason_panic() {
    let (victim, _) = recorder().await;
    let (bystander, _) = recorder().await;
    let _ = victim.crash().await;
    assert_eq!(
        victim.wait_for_exit().await,
        ExitReason::Panic("recorder crashed on purpose".into())
    );
    assert_eq!(bystander.double(2).await, Ok(4));
}

#[tokio::test]
async fn terminate_does_not_run_after_a_panic() {
    let (victim, probe) = recorder().await;
    let _ = victim.crash().await;
    victim.wait_for_exit().await;
    assert!(probe.events().iter().all(|e| !e.starts_with("terminate")));
}

#[tokio::test]
async fn stop_with_error_is_the_exit_reason_and_terminate_sees_it() {
    let (addr, probe) = recorder().await;
    addr.quit(ExitReason::error("bad input")).expect("queued");
    assert_eq!(addr.wait_for_exit().await, ExitReason::error("bad input"));
    assert_eq!(probe.events(), vec!["terminate error: bad input"]);
}

#[tokio::test]
async fn abnormal_exit_propagates_over_links() {
    let probe = Probe::default();
    let parent = Parent::spawn(probe.clone()).await.expect("parent");
    let child = parent.spawn_linked().await.expect("child");
    let _ = child.crash().await;
    let reason = parent.wait_for_exit().await;
    assert_eq!(
        reason,
        ExitReason::Panic("recorder crashed on purpose".into())
    );
}

#[tokio::test]
async fn links_are_bidirectional() {
    let probe = Probe::default();
    let parent = Parent::spawn(probe.clone()).await.expect("parent");
    let child = parent.spawn_linked().await.expect("child");
    parent
        .quit(ExitReason::error("parent gave up"))
        .expect("queued");
    assert_eq!(
        child.wait_for_exit().await,
        ExitReason::error("parent gave up")
    );
}

#[tokio::test]
async fn normal_exit_does_not_propagate_over_links() {
    let probe = Probe::default();
    let parent = Parent::spawn(probe.clone()).await.expect("parent");
    let child = parent.spawn_linked().await.expect("child");
    child.quit(ExitReason::Normal).expect("queued");
    assert_eq!(child.wait_for_exit().await, ExitReason::Normal);
    // The parent still answers after the child's normal exit.
    let (other, _) = recorder().await;
    assert_eq!(parent.link_to(other).await, Ok(true));
    assert!(parent.is_alive());
}

#[tokio::test]
async fn trapping_actor_receives_exit_as_a_message() {
    let probe = Probe::default();
    let trapper = Trapper::spawn(probe.clone()).await.expect("trapper");
    let child = trapper.spawn_linked().await.expect("child");
    let _ = child.crash().await;
    let expected = format!(
        "exit from {}: panic: recorder crashed on purpose",
        child.pid()
    );
    probe.wait_for(&expected).await;
    assert!(trapper.is_alive());
}

#[tokio::test]
async fn linking_to_a_dead_actor_delivers_noproc() {
    let probe = Probe::default();
    let parent = Parent::spawn(probe.clone()).await.expect("parent");
    let (dead, _) = recorder().await;
    dead.stop();
    dead.wait_for_exit().await;
    let _ = parent.link_to(dead).await;
    assert_eq!(parent.wait_for_exit().await, ExitReason::NoProc);
}

#[tokio::test]
async fn monitor_delivers_typed_down_with_reason() {
    let probe = Probe::default();
    let watcher = Watcher::spawn(probe.clone()).await.expect("watcher");
    let (target, _) = recorder().await;
    watcher.watch(target.clone()).await.expect("monitor set");
    target.quit(ExitReason::error("gone")).expect("queued");
    probe
        .wait_for(&format!("down {} error: gone", target.pid()))
        .await;
}

#[tokio::test]
async fn monitors_are_one_way() {
    let probe = Probe::default();
    let watcher = Watcher::spawn(probe.clone()).await.expect("watcher");
    let (target, _) = recorder().await;
    watcher.watch(target.clone()).await.expect("monitor set");
    watcher.stop();
    watcher.wait_for_exit().await;
    assert_eq!(target.double(1).await, Ok(2));
}

#[tokio::test]
async fn monitoring_a_dead_actor_delivers_noproc_at_once() {
    let probe = Probe::default();
    let watcher = Watcher::spawn(probe.clone()).await.expect("watcher");
    let (target, _) = recorder().await;
    target.stop();
    target.wait_for_exit().await;
    watcher.watch(target.clone()).await.expect("monitor call");
    probe
        .wait_for(&format!("down {} no such actor", target.pid()))
        .await;
}

#[tokio::test]
async fn demonitor_cancels_the_down() {
    let probe = Probe::default();
    let watcher = Watcher::spawn(probe.clone()).await.expect("watcher");
    let (target, _) = recorder().await;
    let (marker, _) = recorder().await;
    let m = watcher.watch(target.clone()).await.expect("monitor set");
    watcher.unwatch(m).await.expect("demonitor");
    watcher.watch(marker.clone()).await.expect("monitor set");
    target.stop();
    target.wait_for_exit().await;
    marker.stop();
    // Signals to the watcher arrive in order: the marker's Down proves the target's would
    // have been delivered before it.
    probe
        .wait_for(&format!("down {} normal", marker.pid()))
        .await;
    let target_down = format!("down {} normal", target.pid());
    assert!(!probe.events().contains(&target_down));
}

#[tokio::test]
async fn kill_is_untrappable_and_skips_terminate() {
    let (addr, probe) = recorder().await;
    let (_gate, rx) = tokio::sync::oneshot::channel();
    addr.block_on(rx).expect("queued");
    probe.wait_for("blocked").await;
    addr.kill();
    assert_eq!(addr.wait_for_exit().await, ExitReason::Killed);
    assert!(probe.events().iter().all(|e| !e.starts_with("terminate")));
}

#[tokio::test]
async fn exit_signal_stops_a_non_trapping_actor() {
    let (addr, probe) = recorder().await;
    addr.exit(ExitReason::Shutdown);
    assert_eq!(addr.wait_for_exit().await, ExitReason::Shutdown);
    assert_eq!(probe.events(), vec!["terminate shutdown"]);
}

#[tokio::test]
async fn normal_exit_signal_is_ignored_by_a_non_trapping_actor() {
    let (addr, _) = recorder().await;
    addr.exit(ExitReason::Normal);
    assert_eq!(addr.double(3).await, Ok(6));
}

#[tokio::test]
async fn exit_reasons_classify_abnormal() {
    assert!(!ExitReason::Normal.is_abnormal());
    assert!(!ExitReason::Shutdown.is_abnormal());
    for r in [
        ExitReason::Killed,
        ExitReason::Panic("p".into()),
        ExitReason::error("e"),
        ExitReason::NoConnection,
        ExitReason::NoProc,
    ] {
        assert!(r.is_abnormal(), "{r}");
    }
}

#[tokio::test]
async fn exit_signal_overtakes_queued_messages() {
    let (addr, probe) = recorder().await;
    let (gate, rx) = tokio::sync::oneshot::channel();
    addr.block_on(rx).expect("queued");
    probe.wait_for("blocked").await;
    addr.note("queued".into()).expect("room");
    addr.exit(ExitReason::error("told to go"));
    gate.send(()).expect("actor waits on gate");
    assert_eq!(addr.wait_for_exit().await, ExitReason::error("told to go"));
    assert_eq!(
        probe.events(),
        vec!["blocked", "unblocked", "terminate error: told to go"]
    );
}

#[tokio::test]
async fn ctx_spawn_from_an_actor_is_not_linked() {
    #[actor]
    struct Starter {
        probe: Probe,
    }

    #[actor]
    impl Starter {
        #[init]
        fn init(probe: Probe) -> Self {
            Starter { probe }
        }

        #[handle(call)]
        async fn start(&mut self, ctx: &mut Ctx<Self>) -> Addr<common::Recorder> {
            ctx.spawn::<common::Recorder>(self.probe.clone())
                .await
                .expect("child starts")
        }
    }

    let probe = Probe::default();
    let starter = Starter::spawn(probe.clone()).await.expect("starter");
    let child = starter.start().await.expect("child");
    let _ = child.crash().await;
    child.wait_for_exit().await;
    assert!(starter.is_alive());
    assert_eq!(starter.start().await.map(|c| c.is_alive()), Ok(true));
}

#[tokio::test]
async fn unlink_stops_propagation() {
    let probe = Probe::default();
    let parent = Parent::spawn(probe.clone()).await.expect("parent");
    let (other, _) = recorder().await;
    parent.link_to(other.clone()).await.expect("linked");
    parent.unlink_from(other.clone()).await.expect("unlinked");
    let _ = other.crash().await;
    other.wait_for_exit().await;
    let (probe_actor, _) = recorder().await;
    assert_eq!(parent.link_to(probe_actor).await, Ok(true));
}

#[tokio::test]
async fn kill_of_an_actor_that_never_ran_records_killed() {
    let (addr, probe) = recorder().await;
    addr.kill();
    assert_eq!(addr.wait_for_exit().await, ExitReason::Killed);
    assert!(probe.events().is_empty());
}

#[tokio::test]
async fn stop_of_an_actor_that_never_ran_runs_terminate() {
    let (addr, probe) = recorder().await;
    addr.stop();
    assert_eq!(addr.wait_for_exit().await, ExitReason::Normal);
    assert_eq!(probe.events(), vec!["terminate normal"]);
}
