//! Actors shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

pub mod supervision;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actor_runtime::prelude::*;

/// A log that test actors write to, so tests can assert what happened and in which order.
#[derive(Clone, Default, Debug)]
pub struct Probe(Arc<Mutex<Vec<String>>>);

impl Probe {
    pub fn push(&self, event: impl Into<String>) {
        self.0.lock().expect("probe lock").push(event.into());
    }
    pub fn events(&self) -> Vec<String> {
        self.0.lock().expect("probe lock").clone()
    }
    /// Yields to the scheduler until `event` has been recorded.
    pub async fn wait_for(&self, event: &str) {
        while !self.events().iter().any(|e| e == event) {
            tokio::task::yield_now().await;
        }
    }
}

/// Records every message it gets; can be told to block, crash, stop or hold a reply.
#[actor(mailbox = 8)]
#[derive(Debug)]
pub struct Recorder {
    probe: Probe,
    held: Vec<ReplyTo<u32>>,
    gate: Option<tokio::sync::oneshot::Receiver<()>>,
}

#[actor]
impl Recorder {
    #[init]
    fn init(probe: Probe) -> Self {
        Recorder {
            probe,
            held: Vec::new(),
            gate: None,
        }
    }

    /// Records `text`.
    #[handle(cast)]
    fn note(&mut self, text: String) {
        self.probe.push(text);
    }

    /// Records `(from, seq)`.
    #[handle(cast)]
    fn seq(&mut self, from: u32, seq: u32) {
        self.probe.push(format!("{from}:{seq}"));
    }

    /// Replies with `n * 2`.
    #[handle(call)]
    fn double(&self, n: u32) -> u32 {
        n * 2
    }

    /// Replies after an async pause.
    #[handle(call)]
    async fn double_later(&self, n: u32, delay: Duration) -> u32 {
        tokio::time::sleep(delay).await;
        n * 2
    }

    /// Blocks the actor until the sender of `gate` sends or drops it.
    #[handle(cast)]
    async fn block_on(&mut self, gate: tokio::sync::oneshot::Receiver<()>) {
        self.probe.push("blocked");
        let _ = gate.await;
        self.probe.push("unblocked");
    }

    /// Keeps the reply; answered by `release`.
    #[handle(call)]
    fn hold(&mut self, reply: ReplyTo<u32>) {
        self.held.push(reply);
    }

    /// Answers every held reply with `value`.
    #[handle(cast)]
    fn release(&mut self, value: u32) {
        for r in self.held.drain(..) {
            r.send(value);
        }
    }

    /// Drops every held reply unanswered.
    #[handle(cast)]
    fn forget(&mut self) {
        self.held.clear();
    }

    /// Panics.
    #[handle(call)]
    fn crash(&mut self) -> u32 {
        panic!("recorder crashed on purpose")
    }

    /// Stops with `reason`.
    #[handle(cast)]
    fn quit(&mut self, reason: ExitReason, ctx: &mut Ctx<Self>) {
        ctx.stop_with(reason);
    }

    /// Calls itself (an error).
    #[handle(call)]
    async fn call_self(&self, ctx: &mut Ctx<Self>) -> Result<u32, CallError> {
        ctx.addr().double(1).await
    }

    #[terminate]
    fn terminate(&mut self, reason: &ExitReason) {
        self.probe.push(format!("terminate {reason}"));
    }
}

/// Spawns a recorder with a fresh probe.
pub async fn recorder() -> (Addr<Recorder>, Probe) {
    let probe = Probe::default();
    let addr = Recorder::spawn(probe.clone())
        .await
        .expect("recorder starts");
    (addr, probe)
}
