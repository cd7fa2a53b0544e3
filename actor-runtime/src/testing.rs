//! Testing actors through the runtime itself: probes that stand in for other actors, and
//! assertions that wait with a timeout and say what arrived instead (feature `testing`).
//!
//! A [`Probe<A>`] is a real process with a real mailbox of `A`'s message type, and no state:
//! [`Probe::addr`] is an `Addr<A>` like any other, with `A`'s generated client methods. Hand it
//! to the actor under test in place of the real `A` (as an argument, or registered under `A`'s
//! name), and the messages that actor sends arrive at the probe, where the test takes them
//! with [`Probe::expect`]. A probe can also link to and monitor actors, so a test sees their
//! exits and downs.
//!
//! Every wait has a timeout (one second unless [`Probe::with_timeout`] says otherwise) and
//! panics with what was expected and what arrived instead. Under tokio's paused clock
//! (`#[tokio::test(start_paused = true)]`) the timeouts, the actor's timers and supervisor
//! periods all run on virtual time, so nothing sleeps.

use std::collections::VecDeque;
use std::fmt::Debug;
use std::future::poll_fn;
use std::sync::Arc;
use std::time::Duration;

use crate::actor::{Actor, start};
use crate::addr::Addr;
use crate::ctx::monitor_from;
use crate::error::SpawnError;
use crate::exit::{Down, Exit, ExitReason, MonitorRef, Signal};
use crate::mailbox::Inbox;
use crate::pid::Pid;
use crate::process::Process;
use crate::record::{Next, ProcessRecord};
use crate::table;

/// How long a probe waits unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

/// A signal the probe received.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notice {
    /// An exit signal: a linked actor stopped abnormally, or someone called `exit` on it.
    Exit(Exit),
    /// A monitored actor stopped.
    Down(Down),
    /// The probe itself was told to stop (`stop`, `finish`, an untrapped exit is not one: a
    /// probe traps exits). It stopped with this reason.
    Stopped(ExitReason),
}

/// A stand-in for an actor of type `A`: records what is sent to it (see the module docs).
///
/// `stop` and `finish` on its address stop it as they stop an actor, and `exit` arrives as a
/// [`Notice::Exit`] (a probe traps exits); `kill` does nothing yet
/// (a probe has no task to abort).
pub struct Probe<A: Actor> {
    record: Arc<ProcessRecord<A::Msg>>,
    inbox: Inbox<A::Msg>,
    messages: VecDeque<A::Msg>,
    notices: VecDeque<Notice>,
    timeout: Duration,
    /// Stopped: nothing more arrives.
    closed: bool,
}

impl<A: Actor> Debug for Probe<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Probe")
            .field("actor", &std::any::type_name::<A>())
            .field("pid", &self.record.pid())
            .field("queued", &self.messages.len())
            .finish_non_exhaustive()
    }
}

impl<A: Actor> Default for Probe<A> {
    fn default() -> Self {
        Self::new()
    }
}

impl<A: Actor> Probe<A> {
    /// A probe with `A`'s mailbox capacity. It traps exits: an exit signal from a linked
    /// actor becomes a [`Notice::Exit`] instead of stopping it.
    #[must_use]
    pub fn new() -> Self {
        Probe {
            record: ProcessRecord::new(table::current(), A::MAILBOX, true),
            inbox: Inbox::new(),
            messages: VecDeque::new(),
            notices: VecDeque::new(),
            timeout: DEFAULT_TIMEOUT,
            closed: false,
        }
    }

    /// Sets how long each `expect_*` waits.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The probe's address, typed as `A`'s: what the actor under test is given.
    #[must_use]
    pub fn addr(&self) -> Addr<A> {
        Addr::from_record(self.record.clone())
    }

    /// The probe's pid.
    #[must_use]
    pub fn pid(&self) -> Pid {
        self.record.pid()
    }

    /// Registers the probe under `name`, so that `registry::lookup::<A>(name)` finds it.
    ///
    /// # Errors
    /// As [`registry::register`](crate::registry::register).
    pub fn register(&self, name: &str) -> Result<(), crate::RegistryError> {
        crate::registry::register(name, &self.addr())
    }

    /// Starts an actor linked to the probe, as its parent: the probe then receives its exit
    /// signal (see [`Probe::expect_exit_signal`]).
    ///
    /// # Errors
    /// As [`Actor::spawn`].
    pub async fn spawn_link<B: Actor>(
        &self,
        args: B::Args,
    ) -> Result<Addr<B>, SpawnError<B::Error>> {
        let me: Arc<dyn Process> = self.record.clone();
        start::<B>(args, Some(&me), Some(self.record.tables().clone())).await
    }

    /// Monitors `other`: when it stops, the probe receives a [`Down`] (see
    /// [`Probe::expect_down`]).
    pub fn monitor(&self, other: &impl crate::Linkable) -> MonitorRef {
        monitor_from(&self.record, &other.__process().0)
    }

    /// Waits for the next message and returns it.
    ///
    /// # Panics
    /// If none arrives within the timeout.
    pub async fn recv(&mut self) -> A::Msg {
        match self.next_message(self.timeout).await {
            Some(msg) => msg,
            None => panic!(
                "{}: expected a message within {:?}, got none{}",
                self.name(),
                self.timeout,
                self.notices_seen()
            ),
        }
    }

    /// Waits for the next message and hands it to `pick`, which returns what the test wants
    /// from it (`Some`) or says it is the wrong message (`None`). Use `matches!` or a `match`
    /// on the generated message enum, e.g. `|m| match m { StorageMsg::Store { position } =>
    /// Some(position), _ => None }` (the book's "Testing actors" chapter has whole examples).
    ///
    /// # Panics
    /// If no message arrives within the timeout, or the next one is not what `pick` takes;
    /// the message says which arrived instead.
    pub async fn expect<T>(&mut self, what: &str, pick: impl FnOnce(A::Msg) -> Option<T>) -> T {
        let Some(msg) = self.next_message(self.timeout).await else {
            panic!(
                "{}: expected {what} within {:?}, got no message{}",
                self.name(),
                self.timeout,
                self.notices_seen()
            );
        };
        let shown = A::__variant_name(A::__variant(&msg));
        match pick(msg) {
            Some(value) => value,
            None => panic!("{}: expected {what}, got {shown}", self.name()),
        }
    }

    /// Waits `for_` and checks that no message arrived meanwhile.
    ///
    /// # Panics
    /// If one did; the message says which.
    pub async fn expect_no_message(&mut self, for_: Duration) {
        if let Some(msg) = self.next_message(for_).await {
            panic!(
                "{}: expected no message for {for_:?}, got {}",
                self.name(),
                A::__variant_name(A::__variant(&msg))
            );
        }
    }

    /// Waits for the next exit signal (from a linked actor, or an `exit` call).
    ///
    /// # Panics
    /// If none arrives within the timeout, or the next signal is another kind.
    pub async fn expect_exit_signal(&mut self) -> Exit {
        self.expect_notice_of("an exit signal", |n| match n {
            Notice::Exit(exit) => Some(exit),
            _ => None,
        })
        .await
    }

    /// Waits for the next `Down` of an actor the probe monitors.
    ///
    /// # Panics
    /// If none arrives within the timeout, or the next signal is another kind.
    pub async fn expect_down(&mut self) -> Down {
        self.expect_notice_of("a Down", |n| match n {
            Notice::Down(down) => Some(down),
            _ => None,
        })
        .await
    }

    async fn expect_notice_of<T>(&mut self, what: &str, pick: fn(Notice) -> Option<T>) -> T {
        let next = self.next_notice().await;
        let shown = format!("{next:?}");
        match next.and_then(pick) {
            Some(value) => value,
            None => panic!(
                "{}: expected {what} within {:?}, got {shown}",
                self.name(),
                self.timeout
            ),
        }
    }

    /// Waits for the next signal of any kind.
    ///
    /// # Panics
    /// If none arrives within the timeout.
    pub async fn expect_notice(&mut self) -> Notice {
        match self.next_notice().await {
            Some(notice) => notice,
            None => panic!(
                "{}: expected a signal within {:?}, got none",
                self.name(),
                self.timeout
            ),
        }
    }

    /// Messages received but not yet taken by an `expect`, oldest first.
    pub fn queued(&self) -> impl Iterator<Item = &A::Msg> {
        self.messages.iter()
    }

    fn name(&self) -> String {
        format!("probe {} for {}", self.pid(), std::any::type_name::<A>())
    }

    fn notices_seen(&self) -> String {
        if self.notices.is_empty() {
            String::new()
        } else {
            format!(" (signals meanwhile: {:?})", self.notices)
        }
    }

    async fn next_message(&mut self, within: Duration) -> Option<A::Msg> {
        if let Some(msg) = self.messages.pop_front() {
            return Some(msg);
        }
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.poll()).await {
                Err(_) => return None,
                Ok(Some(msg)) => return Some(msg),
                Ok(None) => {}
            }
        }
    }

    async fn next_notice(&mut self) -> Option<Notice> {
        if let Some(notice) = self.notices.pop_front() {
            return Some(notice);
        }
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.poll()).await {
                Err(_) => return self.notices.pop_front(),
                Ok(Some(msg)) => self.messages.push_back(msg),
                Ok(None) => {
                    if let Some(notice) = self.notices.pop_front() {
                        return Some(notice);
                    }
                }
            }
        }
    }

    /// Takes the next message (`Some`) or signal (stashed, `None`).
    async fn poll(&mut self) -> Option<A::Msg> {
        if self.closed {
            std::future::pending::<()>().await;
        }
        let next = poll_fn(|cx| self.record.poll_next(cx, &mut self.inbox)).await;
        match next {
            Next::Message(msg) => Some(msg),
            Next::Signal(Signal::Exit { exit, .. }) => {
                self.notices.push_back(Notice::Exit(*exit));
                None
            }
            Next::Signal(Signal::Down(down)) => {
                self.record.remove_monitoring(down.monitor);
                self.notices.push_back(Notice::Down(*down));
                None
            }
            Next::Signal(Signal::Stop(reason) | Signal::Finish(reason))
            | Next::Finished(reason) => {
                self.record.close(reason.clone());
                self.notices.push_back(Notice::Stopped(reason));
                self.closed = true;
                None
            }
        }
    }
}

impl<A: Actor> Drop for Probe<A> {
    fn drop(&mut self) {
        // As an actor that returns: links and monitors see a normal exit.
        self.record.close(ExitReason::Normal);
    }
}

/// Waits until `addr` has stopped and returns how.
///
/// # Panics
/// If it is still running after `within`.
pub async fn expect_exit<B: Actor>(addr: &Addr<B>, within: Duration) -> ExitReason {
    match tokio::time::timeout(within, addr.wait_for_exit()).await {
        Ok(reason) => reason,
        Err(_) => panic!(
            "{} {} still running after {within:?}",
            std::any::type_name::<B>(),
            addr.pid()
        ),
    }
}

/// A supervised stand-in for an actor of type `A`: a real actor, which a supervisor starts,
/// links, stops and restarts like any child, that forwards every message it receives to a
/// probe. Declare the child as `Child<StandIn<A>>` with the probe's address as its start
/// argument; its address has `A`'s client methods, and each incarnation forwards to the
/// same probe, so a test sees the supervisor's restarts in the messages and downs the probe
/// receives.
///
/// ```
/// use std::sync::OnceLock;
///
/// use actor_runtime::prelude::*;
/// use actor_runtime::testing::{Probe, StandIn};
/// # #[actor] struct Store;
/// # #[actor] impl Store {
/// #     #[init] fn init() -> Self { Store }
/// #     #[handle(cast)] fn put(&mut self, n: u32) { let _ = n; }
/// # }
///
/// /// Where the tree's stand-in forwards to (a child's `args` is evaluated at every start).
/// static STORE: OnceLock<Addr<Store>> = OnceLock::new();
///
/// #[supervisor(one_for_one)]
/// struct Tree {
///     #[child(args = STORE.get().cloned().expect("the test has set the probe"))]
///     store: Child<StandIn<Store>>,
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let mut probe = Probe::<Store>::new();
/// STORE.set(probe.addr()).expect("set once");
/// let tree = Tree::start().await.expect("starts");
///
/// // Killed, the stand-in is restarted by the supervisor, and the new one forwards too.
/// let first = tree.store.addr().expect("running");
/// first.kill();
/// first.wait_for_exit().await;
/// let restarted = tree.supervisor().expect("runs").children().await.expect("answers");
/// assert_ne!(restarted[0].pid, Some(first.pid()));
/// tree.store.addr().expect("restarted").put(7).expect("queued");
/// probe.expect("a put", |m| matches!(m, StoreMsg::Put { n: 7 }).then_some(())).await;
/// # }
/// ```
pub struct StandIn<A: Actor> {
    probe: Addr<A>,
}

impl<A: Actor> Debug for StandIn<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StandIn")
            .field("actor", &std::any::type_name::<A>())
            .field("probe", &self.probe.pid())
            .finish()
    }
}

impl<A: Actor> crate::addr::Addressable for StandIn<A> {
    type Msg = A::Msg;
    type Client = A::Client;

    fn __variant(msg: &Self::Msg) -> u16 {
        A::__variant(msg)
    }

    fn __variant_name(index: u16) -> &'static str {
        A::__variant_name(index)
    }

    fn __caller_span(msg: &Self::Msg) -> Option<tracing::span::Id> {
        A::__caller_span(msg)
    }
}

impl<A: Actor> Actor for StandIn<A> {
    /// The probe's address.
    type Args = Addr<A>;
    type Error = std::convert::Infallible;

    const MAILBOX: usize = A::MAILBOX;
    const NAME: Option<&'static str> = None;
    const TRAPS_EXITS: bool = false;
    const BLOCKING: bool = false;

    fn __init(
        probe: Addr<A>,
        _ctx: &mut crate::Ctx<Self>,
    ) -> impl std::future::Future<Output = Result<Self, Self::Error>> + Send {
        std::future::ready(Ok(StandIn { probe }))
    }

    fn __handle(
        &mut self,
        msg: A::Msg,
        _ctx: &mut crate::Ctx<Self>,
    ) -> impl std::future::Future<Output = ()> + Send {
        let probe = self.probe.clone();
        async move {
            // A probe that has stopped takes nothing more; the message (and a call's reply
            // slot in it) is dropped, as at any stopped actor.
            let _ = probe.send(msg).await;
        }
    }
}

/// What `addr`'s actor is now, from the node's [`snapshot`](crate::introspect::snapshot):
/// whom it is linked to, whom it monitors, its mailbox figures. For assertions such as
/// "the actor under test linked to X" or "it monitors Y".
///
/// # Panics
/// If the actor has stopped, naming it and its exit reason.
#[must_use]
pub fn info<B: Actor>(addr: &Addr<B>) -> crate::introspect::ProcessInfo {
    addr.record().info().unwrap_or_else(|| {
        panic!(
            "{} <{}> has stopped ({}): it has no links, monitors or mailbox to look at",
            std::any::type_name::<B>(),
            addr.pid().id(),
            addr.record()
                .exit_reason()
                .map_or_else(|| "no reason recorded".to_owned(), |r| r.to_string())
        )
    })
}

/// The live actors `addr`'s actor started linked (its children: `spawn_link`, or a
/// supervisor's or pool's children), oldest first. For "it spawned a B" assertions.
#[must_use]
pub fn spawned_by<B: Actor>(addr: &Addr<B>) -> Vec<crate::introspect::ProcessInfo> {
    let actors = crate::introspect::snapshot();
    crate::introspect::children_of(&actors, addr.pid())
        .into_iter()
        .cloned()
        .collect()
}
