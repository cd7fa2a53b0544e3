//! Why actors stop, and the signals that tell others about it.

use std::fmt;
use std::sync::Arc;

use crate::pid::{Pid, next_id};

/// Why an actor stopped.
///
/// Links propagate every reason except [`ExitReason::Normal`]: a linked actor that does not trap
/// exits stops with the same reason. Supervisors (and `transient` children) treat
/// [`ExitReason::Normal`] and [`ExitReason::Shutdown`] as orderly and everything else as a crash;
/// see [`ExitReason::is_abnormal`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "node", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum ExitReason {
    /// The actor finished its work: [`Ctx::stop`](crate::Ctx::stop) or [`Addr::stop`](crate::Addr::stop).
    Normal,
    /// The actor was asked to shut down by its owner or by the node.
    Shutdown,
    /// The actor was killed with [`Addr::kill`](crate::Addr::kill): it stopped at its next
    /// `.await`, without running `#[terminate]`. Also the reason of an actor that did not trap
    /// exits and was linked to a killed actor (that one did run `#[terminate]`: only the kill
    /// itself is abrupt).
    Killed,
    /// A handler (or a hook) panicked; the text is the panic message.
    Panic(Arc<str>),
    /// The actor stopped itself with an error: [`Ctx::stop_with`](crate::Ctx::stop_with).
    Error(Arc<str>),
    /// The connection to the actor's node was lost.
    NoConnection,
    /// The actor did not exist (or had already stopped) when it was linked or monitored.
    NoProc,
}

impl ExitReason {
    /// An [`ExitReason::Error`] carrying `message`.
    pub fn error(message: impl fmt::Display) -> Self {
        ExitReason::Error(message.to_string().into())
    }

    /// `true` for every reason except [`Normal`](ExitReason::Normal) and
    /// [`Shutdown`](ExitReason::Shutdown): the reasons a supervisor counts as a crash.
    #[must_use]
    pub fn is_abnormal(&self) -> bool {
        !matches!(self, ExitReason::Normal | ExitReason::Shutdown)
    }

    /// A short name of the kind of reason, without its message (`"panic"`, `"normal"`): the
    /// `reason` label of the `actor_exits_total` metric.
    #[must_use]
    pub fn label(&self) -> &'static str {
        match self {
            ExitReason::Normal => "normal",
            ExitReason::Shutdown => "shutdown",
            ExitReason::Killed => "killed",
            ExitReason::Panic(_) => "panic",
            ExitReason::Error(_) => "error",
            ExitReason::NoConnection => "noconnection",
            ExitReason::NoProc => "noproc",
        }
    }

    /// `true` only for [`ExitReason::Normal`]: the one reason links do not propagate.
    #[must_use]
    pub fn is_normal(&self) -> bool {
        matches!(self, ExitReason::Normal)
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitReason::Normal => f.write_str("normal"),
            ExitReason::Shutdown => f.write_str("shutdown"),
            ExitReason::Killed => f.write_str("killed"),
            ExitReason::Panic(msg) => write!(f, "panic: {msg}"),
            ExitReason::Error(msg) => write!(f, "error: {msg}"),
            ExitReason::NoConnection => f.write_str("no connection"),
            ExitReason::NoProc => f.write_str("no such actor"),
        }
    }
}

/// An exit signal from a linked actor, delivered to the `#[on_exit]` hook of an actor that
/// traps exits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exit {
    /// The actor that exited (or that sent the signal with [`Ctx::exit`](crate::Ctx::exit)).
    pub from: Pid,
    /// Why.
    pub reason: ExitReason,
}

/// Identifies one monitor, as returned by [`Ctx::monitor`](crate::Ctx::monitor).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MonitorRef(u64);

impl MonitorRef {
    pub(crate) fn next() -> Self {
        MonitorRef(next_id())
    }

    /// The number, as it travels between nodes.
    #[cfg_attr(not(feature = "node"), allow(dead_code))]
    pub(crate) fn raw(self) -> u64 {
        self.0
    }

    #[cfg_attr(not(feature = "node"), allow(dead_code))]
    pub(crate) fn from_raw(raw: u64) -> Self {
        MonitorRef(raw)
    }
}

/// The notification a monitor delivers, to the `#[on_down]` hook, when the monitored actor stops.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Down {
    /// The monitor that fired.
    pub monitor: MonitorRef,
    /// The actor that stopped.
    pub pid: Pid,
    /// Why it stopped; [`ExitReason::NoProc`] if it was already gone when the monitor was set.
    pub reason: ExitReason,
}

/// What travels on an actor's system lanes.
#[derive(Debug)]
pub(crate) enum Signal {
    /// Stop after the current handler, running `#[terminate]`.
    Stop(ExitReason),
    /// Stop once every message queued so far has been handled.
    Finish(ExitReason),
    /// An exit signal; `link` is true when it came over a link (and `unlink` cancels it).
    /// Boxed, like `Down`: signals are rare, and a small `Signal` keeps every actor's task
    /// small (guarded by the "memory per idle, after 1 call" row).
    Exit {
        /// Who sent it, and why.
        exit: Box<Exit>,
        /// Sent because a linked actor exited, not by `exit`.
        link: bool,
    },
    /// A monitored actor stopped.
    Down(Box<Down>),
}

/// Which lane of the mailbox a signal takes (see `mailbox`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SignalLane {
    /// Acts ahead of queued messages.
    Urgent,
    /// Delivered after every message queued before it.
    Ordered,
}

impl Signal {
    pub(crate) fn exit(exit: Exit, link: bool) -> Signal {
        Signal::Exit {
            exit: Box::new(exit),
            link,
        }
    }

    pub(crate) fn down(down: Down) -> Signal {
        Signal::Down(Box::new(down))
    }

    /// Signals that end the receiver act at once; those it receives as data keep message order.
    pub(crate) fn lane(&self, traps_exits: bool, parent: Option<Pid>) -> SignalLane {
        match self {
            Signal::Stop(_) | Signal::Finish(_) => SignalLane::Urgent,
            Signal::Down(_) => SignalLane::Ordered,
            // The parent's exit ends even an actor that traps exits (see `actor::run`).
            Signal::Exit { exit, .. } if traps_exits && Some(exit.from) != parent => {
                SignalLane::Ordered
            }
            Signal::Exit { .. } => SignalLane::Urgent,
        }
    }
}
