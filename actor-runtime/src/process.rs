//! The type-erased face of a process: what links, monitors, the process table, the registry
//! and supervisors need of an actor without knowing its message type.

use std::sync::Weak;
use std::task::{Context, Poll};

use crate::exit::{ExitReason, MonitorRef, Signal};
use crate::pid::Pid;

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
    /// `false` while it has never been scheduled (spawned, no message yet: it has no task).
    pub scheduled: bool,
}

impl ProcessInfo {
    /// The actor's type, from its message type: `my_app::Storage` for `my_app::StorageMsg`,
    /// `Latest<u32>` for `LatestMsg<u32>`.
    #[must_use]
    pub fn kind(&self) -> String {
        let t = self.message_type;
        let head = t.find('<').map_or(t, |i| &t[..i]);
        match head.strip_suffix("Msg") {
            Some(stem) => format!("{stem}{}", &t[head.len()..]),
            None => t.to_owned(),
        }
    }
}

/// A link or monitor target held weakly, so relations never keep a dead process alive.
pub(crate) type Peer = (Pid, Weak<dyn Process>);

/// Waits until `process` has stopped; the one wait-for-exit of the runtime.
pub(crate) async fn wait_for_exit(process: &dyn Process) -> ExitReason {
    std::future::poll_fn(|cx| process.poll_exit(cx)).await
}
