//! The type-erased face of a process: what links, monitors, the process table, the registry
//! and supervisors need of an actor without knowing its message type.

use std::sync::Weak;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;

use crate::exit::{ExitReason, MonitorRef, Signal};
use crate::pid::Pid;
use crate::tables::TablesRef;

/// One actor, whatever its message type.
pub(crate) trait Process: Send + Sync {
    fn pid(&self) -> Pid;
    /// Delivers a signal; a dead process ignores it.
    fn signal(&self, signal: Signal);
    /// Links `peer` to this process; `Err` with the exit reason if this process has stopped.
    fn add_link(&self, peer: Pid, process: Weak<dyn Process>) -> Result<(), ExitReason>;
    /// Removes the link to `peer`; `true` if this process had already stopped (its exit
    /// signal to `peer`, if they were linked, is then already on its way).
    fn remove_link(&self, peer: Pid) -> bool;
    /// Registers a monitor on this process; `Err` with the exit reason if it has stopped.
    fn add_watcher(
        &self,
        monitor: MonitorRef,
        watcher: Weak<dyn Process>,
    ) -> Result<(), ExitReason>;
    fn remove_watcher(&self, monitor: MonitorRef);
    fn kill(&self);
    fn exit_reason(&self) -> Option<ExitReason>;
    /// Resolves with the exit reason once the process has stopped.
    fn poll_exit(&self, cx: &mut Context<'_>) -> Poll<ExitReason>;
    /// The actor this one was started linked to, if any.
    fn parent(&self) -> Option<Pid>;
    /// What introspection shows of it; `None` once it has stopped.
    fn info(&self) -> Option<ProcessInfo>;
    /// The tables of the node it runs on; `None` for a stand-in of a process elsewhere.
    fn tables(&self) -> Option<&TablesRef> {
        None
    }
}

/// One live actor as [`snapshot`](crate::introspect::snapshot) shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProcessInfo {
    /// Its pid.
    pub pid: Pid,
    /// Its message type's path (`my_app::StorageMsg`); [`ProcessInfo::kind`] derives the
    /// actor's type from it.
    pub message_type: &'static str,
    /// Its registered name, if any.
    pub name: Option<String>,
    /// The actor that started it linked (a supervisor, a pool, `spawn_link`), if any.
    pub parent: Option<Pid>,
    /// The actors it is linked to, its parent and children included.
    pub links: Vec<Pid>,
    /// The actors it monitors.
    pub monitors: Vec<Pid>,
    /// How many monitors others hold on it.
    pub monitored_by: usize,
    /// Messages queued and not yet taken.
    pub mailbox_len: usize,
    /// Its mailbox capacity.
    pub mailbox_capacity: usize,
    /// The longest its mailbox queue has been: the most messages that waited at once for it
    /// to take them (those of the batch it was working through not counted).
    pub mailbox_high_water: usize,
    /// Messages it has taken from its mailbox since it started.
    pub handled: u64,
    /// Fail-fast sends to it refused because its mailbox was full.
    pub refused: u64,
    /// `false` while it has never been scheduled (spawned, no message yet: it has no task).
    pub scheduled: bool,
    /// If it is a supervisor: its children and restarts.
    pub supervisor: Option<SupervisorInfo>,
}

/// A supervisor's state, as [`ProcessInfo::supervisor`] shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SupervisorInfo {
    /// `one_for_one`, `one_for_all`, `rest_for_one` or `simple_one_for_one`.
    pub strategy: &'static str,
    /// At most this many restarts within `period`, or it gives up.
    pub intensity: u32,
    /// The intensity's window.
    pub period: Duration,
    /// Restarts within the last `period`, as of the snapshot.
    pub restarts_in_period: usize,
    /// Restarts since it started.
    pub total_restarts: u64,
    /// Its children, in start order (static ones first).
    pub children: Vec<ChildState>,
    /// When the recent restarts happened (to count those in the period at snapshot time).
    pub(crate) recent: Vec<Instant>,
}

impl SupervisorInfo {
    pub(crate) fn new(
        strategy: &'static str,
        intensity: u32,
        period: Duration,
        total_restarts: u64,
        children: Vec<ChildState>,
        recent: Vec<Instant>,
    ) -> Self {
        SupervisorInfo {
            strategy,
            intensity,
            period,
            restarts_in_period: 0,
            total_restarts,
            children,
            recent,
        }
    }

    /// A copy with `restarts_in_period` counted as of now.
    pub(crate) fn as_of_now(&self) -> Self {
        let now = Instant::now();
        let mut info = self.clone();
        info.restarts_in_period = self
            .recent
            .iter()
            .filter(|t| now.duration_since(**t) <= self.period)
            .count();
        info
    }
}

/// One child of a supervisor, as [`SupervisorInfo::children`] shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChildState {
    /// The field name (`"dynamic"` for children started with `start_child`).
    pub name: &'static str,
    /// The running incarnation, if any.
    pub pid: Option<Pid>,
    /// `permanent`, `transient` or `temporary`.
    pub restart: &'static str,
    /// How many times this child has been started again since the supervisor started.
    pub restarts: u64,
}

impl ProcessInfo {
    /// The actor's type, from its message type: `my_app::Storage` for `my_app::StorageMsg`,
    /// `Latest<u32>` for `LatestMsg<u32>`.
    #[must_use]
    pub fn kind(&self) -> String {
        kind_of(self.message_type)
    }
}

/// The actor type of a message type: `Storage` for `StorageMsg`.
pub(crate) fn kind_of(message_type: &str) -> String {
    let head = message_type
        .find('<')
        .map_or(message_type, |i| &message_type[..i]);
    match head.strip_suffix("Msg") {
        Some(stem) => format!("{stem}{}", &message_type[head.len()..]),
        None => message_type.to_owned(),
    }
}

/// A link or monitor target held weakly, so relations never keep a dead process alive.
pub(crate) type Peer = (Pid, Weak<dyn Process>);

/// Waits until `process` has stopped; the one wait-for-exit of the runtime.
pub(crate) async fn wait_for_exit(process: &dyn Process) -> ExitReason {
    std::future::poll_fn(|cx| process.poll_exit(cx)).await
}
