//! The supervisor actor: starts its children in order, restarts them by its strategy, gives
//! up (and lets its own supervisor react) when they crash too often, stops them in reverse
//! order.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::spec::{
    ChildId, ChildSpec, Restart, Shutdown, Started, Strategy, SupervisorError, SupervisorSpec,
};
use crate::ctx::Ctx;
use crate::exit::{Exit, ExitReason, Signal};
use crate::pid::Pid;
use crate::process::{ChildState, Process, SupervisorInfo, wait_for_exit};

/// One child as the supervisor sees it.
struct Slot {
    spec: ChildSpec,
    running: Option<Started>,
    /// A temporary child that exited, or was stopped by the strategy: never started again.
    removed: bool,
    /// Times it has been started again.
    restarts: u64,
}

/// A child as reported by [`SupervisorClient::children`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildInfo {
    /// The field name (or `"dynamic"` for children started with `start_child`).
    pub name: &'static str,
    /// The running incarnation, if any.
    pub pid: Option<Pid>,
    /// Its restart type.
    pub restart: Restart,
}

/// A supervisor, started from a `#[supervisor]` struct. Its address is reachable through the
/// struct's generated `supervisor()` method.
#[crate::actor(crate = crate)]
pub struct Supervisor {
    strategy: Strategy,
    intensity: u32,
    period: Duration,
    children: Vec<Slot>,
    dynamic: Vec<Slot>,
    /// When recent restarts happened, to enforce the intensity.
    restarts: VecDeque<Instant>,
    total_restarts: u64,
    /// Children we stopped ourselves after they had already exited: their exit signal is on
    /// its way and must not be taken for a new crash.
    ignore: HashSet<Pid>,
}

#[crate::actor(crate = crate)]
impl Supervisor {
    #[init]
    async fn init(spec: SupervisorSpec, ctx: &mut Ctx<Self>) -> Result<Self, SupervisorError> {
        let mut sup = Supervisor {
            strategy: spec.strategy,
            intensity: spec.intensity,
            period: spec.period,
            children: spec
                .children
                .into_iter()
                .map(|spec| Slot {
                    spec,
                    running: None,
                    removed: false,
                    restarts: 0,
                })
                .collect(),
            dynamic: Vec::new(),
            restarts: VecDeque::new(),
            total_restarts: 0,
            ignore: HashSet::new(),
        };
        let me = ctx.process_arc();
        for i in 0..sup.children.len() {
            if let Err(error) = sup.start_static(i, &me).await {
                let child = sup.children[i].spec.name;
                sup.stop_all(&me).await;
                return Err(SupervisorError::ChildStart { child, error });
            }
        }
        sup.publish(ctx);
        Ok(sup)
    }

    /// Starts a child of a `simple_one_for_one` supervisor; returns its id, for
    /// `terminate_child`.
    #[handle(call)]
    async fn start_child(
        &mut self,
        spec: ChildSpec,
        ctx: &mut Ctx<Self>,
    ) -> Result<ChildId, SupervisorError> {
        if self.strategy != Strategy::SimpleOneForOne {
            return Err(SupervisorError::NotDynamic);
        }
        let me = ctx.process_arc();
        let started =
            spec.starter
                .start(&me)
                .await
                .map_err(|error| SupervisorError::ChildStart {
                    child: spec.name,
                    error,
                })?;
        let id = spec.id;
        self.dynamic.push(Slot {
            spec,
            running: Some(started),
            removed: false,
            restarts: 0,
        });
        self.publish(ctx);
        Ok(id)
    }

    /// The children, in start order (static ones first). A child that is not running (a
    /// transient child that exited normally, a temporary child that exited) has no pid.
    #[handle(call)]
    fn children(&self) -> Vec<ChildInfo> {
        self.children
            .iter()
            .chain(&self.dynamic)
            .map(|slot| ChildInfo {
                name: slot.spec.name,
                pid: slot.running.as_ref().map(|s| s.pid),
                restart: slot.spec.restart,
            })
            .collect()
    }

    /// Stops the dynamic child `id` (of a `simple_one_for_one` supervisor) with its
    /// shutdown, whether it runs or is between restarts, and forgets it; `false` if there is
    /// no such child.
    #[handle(call)]
    async fn terminate_child(&mut self, id: ChildId, ctx: &mut Ctx<Self>) -> bool {
        let Some(i) = self.dynamic.iter().position(|s| s.spec.id == id) else {
            return false;
        };
        let mut slot = self.dynamic.remove(i);
        if let Some(started) = slot.running.take() {
            let me = ctx.process_arc();
            let reason = self.stop_child(started, slot.spec.shutdown, &me).await;
            slot.spec.starter.clear(reason);
        }
        self.publish(ctx);
        true
    }

    /// How many restarts this supervisor has performed since it started.
    #[handle(call)]
    fn restart_count(&self) -> u64 {
        self.total_restarts
    }

    #[on_exit]
    async fn exited(&mut self, exit: Exit, ctx: &mut Ctx<Self>) {
        if self.ignore.remove(&exit.from) {
            return;
        }
        // A child's exit counts only if the child has really stopped: anyone may send an exit
        // signal, and a signal claiming to come from a running child is not its exit.
        if let Some(i) = position(&self.children, exit.from) {
            if child_stopped(&self.children[i]) {
                self.static_exited(i, exit.reason, ctx).await;
            }
        } else if let Some(i) = position(&self.dynamic, exit.from) {
            if child_stopped(&self.dynamic[i]) {
                self.dynamic_exited(i, exit.reason, ctx).await;
            }
        } else if exit.from == Pid::EXTERNAL && !exit.reason.is_normal() {
            // Sent by `main` or a test rather than by an actor: treated as from the parent.
            // (An exit from the parent itself stops this actor before this hook runs.)
            ctx.stop_with(exit.reason);
        } else {
            tracing::debug!(from = %exit.from, reason = %exit.reason, "supervisor ignores an exit signal from a non-child");
        }
        self.publish(ctx);
    }

    #[terminate]
    async fn terminate(&mut self, _reason: &ExitReason, ctx: &mut Ctx<Self>) {
        let me = ctx.process_arc();
        self.stop_all(&me).await;
    }
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor")
            .field("strategy", &self.strategy)
            .field("intensity", &self.intensity)
            .field("period", &self.period)
            .field("children", &self.children.len())
            .field("dynamic", &self.dynamic.len())
            .finish_non_exhaustive()
    }
}

fn child_stopped(slot: &Slot) -> bool {
    slot.running
        .as_ref()
        .is_some_and(|r| r.process.exit_reason().is_some())
}

fn position(slots: &[Slot], pid: Pid) -> Option<usize> {
    slots
        .iter()
        .position(|s| s.running.as_ref().is_some_and(|r| r.pid == pid))
}

impl Supervisor {
    async fn start_static(&mut self, i: usize, me: &Arc<dyn Process>) -> Result<(), String> {
        let started = self.children[i].spec.starter.start(me).await?;
        self.children[i].running = Some(started);
        Ok(())
    }

    /// Records a restart; `false` once more than `intensity` happened within `period`.
    fn note_restart(&mut self, child: &'static str) -> bool {
        let now = Instant::now();
        self.restarts.push_back(now);
        while self
            .restarts
            .front()
            .is_some_and(|t| now.duration_since(*t) > self.period)
        {
            self.restarts.pop_front();
        }
        self.total_restarts += 1;
        crate::telemetry::restarted(child);
        self.restarts.len() <= self.intensity as usize
    }

    /// Publishes its state for [`snapshot`](crate::introspect::snapshot).
    fn publish(&self, ctx: &Ctx<Self>) {
        let children = self
            .children
            .iter()
            .chain(&self.dynamic)
            .map(|slot| ChildState {
                name: slot.spec.name,
                pid: slot.running.as_ref().map(|s| s.pid),
                restart: slot.spec.restart.label(),
                restarts: slot.restarts,
            })
            .collect();
        ctx.record().publish_supervisor(SupervisorInfo::new(
            self.strategy.label(),
            self.intensity,
            self.period,
            self.total_restarts,
            children,
            self.restarts.iter().copied().collect(),
        ));
    }

    fn give_up(&self, ctx: &mut Ctx<Self>) {
        tracing::error!(
            pid = %ctx.pid(),
            intensity = self.intensity,
            period = ?self.period,
            "supervisor reached its maximum restart intensity and shuts down"
        );
        ctx.stop_with(ExitReason::Shutdown);
    }

    async fn static_exited(&mut self, i: usize, reason: ExitReason, ctx: &mut Ctx<Self>) {
        let slot = &mut self.children[i];
        slot.running = None;
        slot.spec.starter.clear(reason.clone());
        if ctx.record().tables().shutting_down() {
            // The node is stopping: nothing is restarted.
            return;
        }
        if !slot.spec.restart.restarts_after(&reason) {
            if slot.spec.restart == Restart::Temporary {
                slot.removed = true;
            }
            return;
        }
        let name = slot.spec.name;
        if !self.note_restart(name) {
            self.give_up(ctx);
            return;
        }
        let me = ctx.process_arc();
        let range = match self.strategy {
            Strategy::OneForOne | Strategy::SimpleOneForOne => i..i + 1,
            Strategy::OneForAll => 0..self.children.len(),
            Strategy::RestForOne => i..self.children.len(),
        };
        // Stop the others the strategy names, last started first.
        for j in range.clone().rev() {
            if j != i {
                self.stop_static(j, &me).await;
            }
        }
        for j in range {
            if self.children[j].removed {
                continue;
            }
            loop {
                match self.start_static(j, &me).await {
                    Ok(()) => {
                        self.children[j].restarts += 1;
                        break;
                    }
                    Err(error) => {
                        let child = self.children[j].spec.name;
                        tracing::warn!(child, %error, "child failed to restart");
                        if !self.note_restart(child) {
                            self.give_up(ctx);
                            return;
                        }
                    }
                }
            }
        }
    }

    async fn dynamic_exited(&mut self, i: usize, reason: ExitReason, ctx: &mut Ctx<Self>) {
        let slot = &mut self.dynamic[i];
        slot.running = None;
        slot.spec.starter.clear(reason.clone());
        if ctx.record().tables().shutting_down() || !slot.spec.restart.restarts_after(&reason) {
            self.dynamic.remove(i);
            return;
        }
        let name = slot.spec.name;
        if !self.note_restart(name) {
            self.give_up(ctx);
            return;
        }
        let me = ctx.process_arc();
        loop {
            match self.dynamic[i].spec.starter.start(&me).await {
                Ok(started) => {
                    self.dynamic[i].running = Some(started);
                    self.dynamic[i].restarts += 1;
                    return;
                }
                Err(error) => {
                    tracing::warn!(%error, "dynamic child failed to restart");
                    if !self.note_restart(self.dynamic[i].spec.name) {
                        self.give_up(ctx);
                        return;
                    }
                }
            }
        }
    }

    /// Stops static child `j` (if running) with its shutdown; a temporary one is removed.
    async fn stop_static(&mut self, j: usize, me: &Arc<dyn Process>) {
        let Some(started) = self.children[j].running.take() else {
            return;
        };
        let shutdown = self.children[j].spec.shutdown;
        let reason = self.stop_child(started, shutdown, me).await;
        let slot = &mut self.children[j];
        slot.spec.starter.clear(reason);
        if slot.spec.restart == Restart::Temporary {
            slot.removed = true;
        }
    }

    /// Stops every child: dynamic ones, then static ones, each group in reverse start order.
    async fn stop_all(&mut self, me: &Arc<dyn Process>) {
        // Dynamic children are alike and independent: stop them all at once, each within its
        // shutdown time, as OTP does for `simple_one_for_one`.
        let dynamic = std::mem::take(&mut self.dynamic);
        let mut stopping = Vec::with_capacity(dynamic.len());
        for mut slot in dynamic {
            if let Some(started) = slot.running.take() {
                let (pid, process) = self.detach(started, me);
                let shutdown = slot.spec.shutdown;
                stopping.push(async move {
                    let reason = shut_down(pid, process, shutdown).await;
                    slot.spec.starter.clear(reason);
                });
            }
        }
        futures_util::future::join_all(stopping).await;
        for j in (0..self.children.len()).rev() {
            self.stop_static(j, me).await;
        }
    }

    /// Unlinks a child, asks it to stop, and kills it if its shutdown time runs out.
    async fn stop_child(
        &mut self,
        child: Started,
        shutdown: Shutdown,
        me: &Arc<dyn Process>,
    ) -> ExitReason {
        let (pid, process) = self.detach(child, me);
        shut_down(pid, process, shutdown).await
    }

    /// Unlinks a child before stopping it, so its exit is not taken for a crash.
    fn detach(&mut self, child: Started, me: &Arc<dyn Process>) -> (Pid, Arc<dyn Process>) {
        me.remove_link(child.pid);
        if child.process.remove_link(me.pid()) {
            // It had exited before we unlinked: its exit signal is already on its way.
            self.ignore.insert(child.pid);
        }
        (child.pid, child.process)
    }
}

/// Asks a child to stop, and kills it if its shutdown time runs out.
async fn shut_down(pid: Pid, process: Arc<dyn Process>, shutdown: Shutdown) -> ExitReason {
    match shutdown {
        Shutdown::BrutalKill => process.kill(),
        Shutdown::Timeout(limit) => {
            process.signal(Signal::Stop(ExitReason::Shutdown));
            let stopped = tokio::time::timeout(limit, wait_for_exit(&*process)).await;
            if stopped.is_err() {
                tracing::warn!(%pid, ?limit, "child did not stop in time; killing it");
                process.kill();
            }
        }
        Shutdown::Infinity => process.signal(Signal::Stop(ExitReason::Shutdown)),
    }
    wait_for_exit(&*process).await
}
