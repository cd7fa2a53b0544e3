//! Identity: the ground floor every other module may use.
//!
//! A [`Pid`] names the node an actor lives on, that node's *creation* (a number that changes
//! every time the node starts, so an address kept from a previous run is never mistaken for a
//! new actor) and the actor's id on that node. Nothing here knows about mailboxes or actors.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// A process identifier: unique for the life of its node, printed as `<node.id>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pid {
    node: u32,
    creation: u32,
    id: u64,
}

/// The node number of actors on this node.
pub(crate) const LOCAL_NODE: u32 = 0;

/// The creation of this node: fixed for the life of the OS process.
pub(crate) fn local_creation() -> u32 {
    1
}

/// A sequence for pids, monitor references and child ids, one for the OS process (every node
/// in it): unique, never reused.
pub(crate) fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl Pid {
    /// The sender of signals that do not come from an actor (`main`, a test, a plain task).
    pub const EXTERNAL: Pid = Pid {
        node: LOCAL_NODE,
        creation: 0,
        id: 0,
    };

    /// The pid numbered `id` on this node.
    pub(crate) fn local(id: u64) -> Pid {
        Pid {
            node: LOCAL_NODE,
            creation: local_creation(),
            id,
        }
    }

    /// The pid of actor `id` on the node this node numbers `node`, in that node's `creation`.
    #[cfg_attr(not(feature = "node"), allow(dead_code))]
    pub(crate) fn remote(node: u32, creation: u32, id: u64) -> Pid {
        Pid { node, creation, id }
    }

    /// The number after the dot in `<node.id>`: unique on its node.
    #[must_use]
    pub fn id(self) -> u64 {
        self.id
    }

    /// The node the actor lives on (`0` for this node).
    #[must_use]
    pub fn node(self) -> u32 {
        self.node
    }

    /// The creation of the node when the actor was spawned; it changes when the node restarts.
    #[must_use]
    pub fn creation(self) -> u32 {
        self.creation
    }

    /// `true` for an actor of this OS process (on whichever of its nodes, if it runs several;
    /// see `NodeConfig::isolated`), `false` for one reached over a connection.
    #[must_use]
    pub fn is_local(self) -> bool {
        self.node == LOCAL_NODE
    }
}

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{}.{}>", self.node, self.id)
    }
}

impl fmt::Debug for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

tokio::task_local! {
    static CURRENT: Pid;
}

impl Pid {
    /// The actor whose handler is running on this task, if any.
    #[must_use]
    pub fn current() -> Option<Pid> {
        CURRENT.try_with(|pid| *pid).ok()
    }
}

/// Runs `f` with `pid` as the current actor of this task.
pub(crate) fn with_current<R>(pid: Pid, f: impl FnOnce() -> R) -> R {
    CURRENT.sync_scope(pid, f)
}
