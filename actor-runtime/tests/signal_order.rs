//! The order of notifications: a `Down` or a trapped `Exit` arrives after every message its
//! sender sent before it died; `unlink` and `demonitor` cancel notifications already queued.

mod common;

use actor_runtime::prelude::*;
use common::Probe;

/// Traps exits, monitors, and records everything it receives, in order.
#[actor(mailbox = 16)]
struct Inbox {
    probe: Probe,
}

#[actor]
impl Inbox {
    #[init]
    fn init(probe: Probe) -> Self {
        Inbox { probe }
    }

    #[handle(cast)]
    async fn block_on(&mut self, gate: tokio::sync::oneshot::Receiver<()>) {
        self.probe.push("blocked");
        let _ = gate.await;
    }

    #[handle(cast)]
    fn note(&mut self, text: String) {
        self.probe.push(text);
    }

    #[handle(call)]
    fn watch(&mut self, target: Addr<Sender>, ctx: &mut Ctx<Self>) -> MonitorRef {
        ctx.monitor(&target)
    }

    #[handle(cast)]
    fn unwatch(&mut self, monitor: MonitorRef, ctx: &mut Ctx<Self>) {
        ctx.demonitor(monitor);
        self.probe.push("demonitored");
    }

    #[handle(call)]
    fn link_to(&mut self, target: Addr<Sender>, ctx: &mut Ctx<Self>) -> bool {
        ctx.link(&target);
        true
    }

    #[handle(cast)]
    fn unlink_from(&mut self, target: Addr<Sender>, ctx: &mut Ctx<Self>) {
        ctx.unlink(&target);
        self.probe.push("unlinked");
    }

    /// A barrier: every message queued before it has been handled.
    #[handle(call)]
    fn sync(&self) -> bool {
        true
    }

    #[on_down]
    fn down(&mut self, down: Down) {
        self.probe.push(format!("down {}", down.reason));
    }

    #[on_exit]
    fn exited(&mut self, exit: Exit) {
        self.probe.push(format!("exit {}", exit.reason));
    }
}

/// Sends one message, then dies.
#[actor]
struct Sender;

#[actor]
impl Sender {
    #[init]
    fn init() -> Self {
        Sender
    }

    /// "Send the result, then exit."
    #[handle(cast)]
    fn send_then_exit(
        &mut self,
        to: Addr<Inbox>,
        text: String,
        reason: ExitReason,
        ctx: &mut Ctx<Self>,
    ) {
        to.note(text).expect("room");
        ctx.stop_with(reason);
    }
}

/// An inbox with its probe, and a sender.
async fn parties() -> (Addr<Inbox>, Probe, Addr<Sender>) {
    let probe = Probe::default();
    let inbox = Inbox::spawn(probe.clone()).await.expect("inbox");
    let sender = Sender::spawn(()).await.expect("sender");
    (inbox, probe, sender)
}

async fn block(inbox: &Addr<Inbox>, probe: &Probe) -> tokio::sync::oneshot::Sender<()> {
    let (gate, rx) = tokio::sync::oneshot::channel();
    inbox.block_on(rx).expect("room");
    probe.wait_for("blocked").await;
    gate
}

#[tokio::test]
async fn down_arrives_after_the_messages_the_dead_actor_sent_before_dying() {
    let (inbox, probe, sender) = parties().await;
    inbox.watch(sender.clone()).await.expect("monitor set");
    let gate = block(&inbox, &probe).await;
    sender
        .send_then_exit(inbox.clone(), "result".into(), ExitReason::Normal)
        .expect("room");
    sender.wait_for_exit().await;
    gate.send(()).expect("inbox waits");
    inbox.sync().await.expect("barrier");
    assert_eq!(probe.events(), vec!["blocked", "result", "down normal"]);
}

#[tokio::test]
async fn trapped_exit_arrives_after_the_messages_the_dead_actor_sent_before_dying() {
    let (inbox, probe, sender) = parties().await;
    inbox.link_to(sender.clone()).await.expect("linked");
    let gate = block(&inbox, &probe).await;
    sender
        .send_then_exit(inbox.clone(), "result".into(), ExitReason::error("boom"))
        .expect("room");
    sender.wait_for_exit().await;
    gate.send(()).expect("inbox waits");
    inbox.sync().await.expect("barrier");
    assert_eq!(
        probe.events(),
        vec!["blocked", "result", "exit error: boom"]
    );
}

#[tokio::test]
async fn unlink_cancels_an_exit_signal_from_that_link_already_queued() {
    let (inbox, probe, sender) = parties().await;
    inbox.link_to(sender.clone()).await.expect("linked");
    let gate = block(&inbox, &probe).await;
    inbox.unlink_from(sender.clone()).expect("room");
    sender
        .send_then_exit(inbox.clone(), "result".into(), ExitReason::error("boom"))
        .expect("room");
    sender.wait_for_exit().await;
    gate.send(()).expect("inbox waits");
    inbox.sync().await.expect("barrier");
    assert_eq!(probe.events(), vec!["blocked", "unlinked", "result"]);
}

#[tokio::test]
async fn demonitor_drops_a_down_already_queued() {
    let (inbox, probe, sender) = parties().await;
    let monitor = inbox.watch(sender.clone()).await.expect("monitor set");
    let gate = block(&inbox, &probe).await;
    inbox.unwatch(monitor).expect("room");
    sender
        .send_then_exit(inbox.clone(), "result".into(), ExitReason::Normal)
        .expect("room");
    sender.wait_for_exit().await;
    gate.send(()).expect("inbox waits");
    inbox.sync().await.expect("barrier");
    assert_eq!(probe.events(), vec!["blocked", "demonitored", "result"]);
}

#[tokio::test]
async fn a_stop_still_overtakes_queued_messages_and_notifications() {
    let (inbox, probe, sender) = parties().await;
    inbox.watch(sender.clone()).await.expect("monitor set");
    let gate = block(&inbox, &probe).await;
    sender
        .send_then_exit(inbox.clone(), "result".into(), ExitReason::Normal)
        .expect("room");
    sender.wait_for_exit().await;
    inbox.stop();
    gate.send(()).expect("inbox waits");
    assert_eq!(inbox.wait_for_exit().await, ExitReason::Normal);
    assert_eq!(probe.events(), vec!["blocked"]);
}
