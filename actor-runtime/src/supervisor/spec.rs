//! What a supervisor is told: its strategy, its restart intensity and its children.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::exit::ExitReason;
use crate::pid::Pid;
use crate::process::Process;

/// Which children a supervisor restarts when one of them exits and must be restarted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// Restart only the child that exited.
    OneForOne,
    /// Stop every other child (in reverse start order), then restart all (in start order).
    OneForAll,
    /// Stop the children started after the one that exited (in reverse order), then restart it
    /// and them (in start order).
    RestForOne,
    /// One-for-one over children of one type started at run time with `start_child`.
    SimpleOneForOne,
}

/// When a child is restarted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Restart {
    /// Always (the default).
    #[default]
    Permanent,
    /// Only after an abnormal exit (not `Normal`, not `Shutdown`).
    Transient,
    /// Never; also not when a sibling's exit makes the strategy stop it.
    Temporary,
}

impl Strategy {
    /// Its name in OTP's spelling: `one_for_one`, `one_for_all`, `rest_for_one`,
    /// `simple_one_for_one`.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Strategy::OneForOne => "one_for_one",
            Strategy::OneForAll => "one_for_all",
            Strategy::RestForOne => "rest_for_one",
            Strategy::SimpleOneForOne => "simple_one_for_one",
        }
    }
}

impl Restart {
    /// `permanent`, `transient` or `temporary`.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Restart::Permanent => "permanent",
            Restart::Transient => "transient",
            Restart::Temporary => "temporary",
        }
    }

    pub(crate) fn restarts_after(self, reason: &ExitReason) -> bool {
        match self {
            Restart::Permanent => true,
            Restart::Transient => reason.is_abnormal(),
            Restart::Temporary => false,
        }
    }
}

/// How a child is stopped by its supervisor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shutdown {
    /// Ask it to stop (reason `Shutdown`, `#[terminate]` runs); kill it if it has not stopped
    /// after this long. The default for actors is 5 s.
    Timeout(Duration),
    /// Kill it at once.
    BrutalKill,
    /// Ask it to stop and wait as long as it takes: the default for nested supervisors, which
    /// need the time to stop their own children.
    Infinity,
}

/// Why a supervisor could not start or answer.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SupervisorError {
    /// A child failed to start; the children started before it were stopped again.
    ChildStart {
        /// The child's field name.
        child: &'static str,
        /// The child's start error.
        error: String,
    },
    /// `start_child` on a supervisor whose strategy is not `simple_one_for_one`.
    NotDynamic,
    /// The supervisor did not answer (it is not running, or timed out).
    Unavailable(crate::CallError),
}

impl fmt::Display for SupervisorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SupervisorError::ChildStart { child, error } => {
                write!(f, "child `{child}` failed to start: {error}")
            }
            SupervisorError::NotDynamic => {
                f.write_str("start_child needs a simple_one_for_one supervisor")
            }
            SupervisorError::Unavailable(e) => write!(f, "supervisor unavailable: {e}"),
        }
    }
}

impl std::error::Error for SupervisorError {}

/// A started child, type-erased.
pub(crate) struct Started {
    pub(crate) pid: Pid,
    pub(crate) process: Arc<dyn Process>,
}

pub(crate) type StartFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Started, String>> + Send + 'a>>;

/// Starts one child linked to `parent` and points its handle at it.
pub(crate) trait Starter: Send + Sync {
    fn start<'a>(&'a self, parent: &'a Arc<dyn Process>) -> StartFuture<'a>;
    /// The child is not running any more: its handle reports `reason`.
    fn clear(&self, reason: ExitReason);
}

/// Identifies one child across its restarts (unlike its pid).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChildId(pub(crate) u64);

impl ChildId {
    pub(crate) fn next() -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        ChildId(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }
}

/// One child of a supervisor, built by `#[supervisor]`.
#[doc(hidden)]
pub struct ChildSpec {
    pub(crate) id: ChildId,
    pub(crate) name: &'static str,
    pub(crate) restart: Restart,
    pub(crate) shutdown: Shutdown,
    pub(crate) starter: Box<dyn Starter>,
}

impl ChildSpec {
    /// This child's identity, stable across restarts.
    #[must_use]
    pub fn id(&self) -> ChildId {
        self.id
    }
}

impl fmt::Debug for ChildSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildSpec")
            .field("name", &self.name)
            .field("restart", &self.restart)
            .field("shutdown", &self.shutdown)
            .finish_non_exhaustive()
    }
}

/// Everything a [`Supervisor`](super::Supervisor) needs to run: built by `#[supervisor]`.
#[derive(Debug)]
pub struct SupervisorSpec {
    pub(crate) strategy: Strategy,
    pub(crate) intensity: u32,
    pub(crate) period: Duration,
    pub(crate) children: Vec<ChildSpec>,
}

impl SupervisorSpec {
    /// The defaults are OTP's: at most 5 restarts in 5 s.
    pub const DEFAULT_INTENSITY: u32 = 5;
    /// See [`SupervisorSpec::DEFAULT_INTENSITY`].
    pub const DEFAULT_PERIOD: Duration = Duration::from_secs(5);

    #[doc(hidden)]
    #[must_use]
    pub fn new(
        strategy: Strategy,
        intensity: u32,
        period: Duration,
        children: Vec<ChildSpec>,
    ) -> Self {
        SupervisorSpec {
            strategy,
            intensity,
            period,
            children,
        }
    }
}

/// Implemented by `#[supervisor]` for the handle struct.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a supervisor",
    label = "a field of a `#[supervisor]` struct must be a child",
    note = "use `Child<A>` for an actor child, or a struct declared with `#[supervisor]` for a nested supervisor"
)]
pub trait Supervise: Clone + Send + Sync + Sized + 'static {
    /// A handle whose children are not running yet.
    fn __new() -> Self;
    /// The spec whose starters fill this handle's children.
    fn __spec(&self) -> SupervisorSpec;
    /// Where this handle's supervisor runs.
    fn __supervisor(&self) -> &super::SupervisorSlot;
}
