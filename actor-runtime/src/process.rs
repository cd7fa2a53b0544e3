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
}

/// A link or monitor target held weakly, so relations never keep a dead process alive.
pub(crate) type Peer = (Pid, Weak<dyn Process>);

/// Waits until `process` has stopped; the one wait-for-exit of the runtime.
pub(crate) async fn wait_for_exit(process: &dyn Process) -> ExitReason {
    std::future::poll_fn(|cx| process.poll_exit(cx)).await
}
