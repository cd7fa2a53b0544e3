//! Metrics and tracing of the runtime itself.
//!
//! Always counted, through the `metrics` facade (whatever recorder the program installs:
//! Prometheus, StatsD, none):
//!
//! - `actor_exits_total{actor, reason}`: actors that ran (had a task) and stopped, by kind
//!   of reason.
//! - `actor_restarts_total{child}`: restarts performed by supervisors, by child field name.
//! - `actor_slow_polls_total{actor, message}`: see [`watchdog`](crate::watchdog).
//!
//! Per-kind figures (messages handled, mailbox depths, refused sends) cost no message anything:
//! [`introspect::export_metrics`](crate::introspect::export_metrics) reads them from a snapshot.
//!
//! **Message timing**, off by default, is per message: [`set_message_timing`] turns it on for
//! the node. Then
//!
//! - every handled message is timed, from the moment the actor takes it to the moment it
//!   takes the next one or goes idle (the handler's own awaits included), into the histogram
//!   `actor_handle_seconds{actor}`;
//! - every handled message runs in a `tracing` span `message` with fields `actor`, `pid` and
//!   `message` (`CounterMsg::Add`), at level DEBUG under the target `actor_runtime::message`,
//!   so a subscriber's filter decides whether it is recorded
//!   (`RUST_LOG=actor_runtime::message=debug`). Events a handler logs are inside it, and the
//!   span's busy time is the handler's.
//! - a call made inside a span carries that span's id in its reply slot: the callee's span is
//!   its child, so a trace follows a request from actor to actor.
//!
//! Off, it costs one relaxed load per message. On, it costs a few hundred nanoseconds per
//! message (a span, a clock read, a histogram update): the figures are in the book's
//! performance chapter.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime};

use crate::exit::ExitReason;
use crate::pid::Pid;
use crate::sync::lock;

static MESSAGE_TIMING: AtomicBool = AtomicBool::new(false);

/// Turns per-message timing and spans on or off for the whole node (see the module docs).
pub fn set_message_timing(on: bool) {
    MESSAGE_TIMING.store(on, Ordering::Relaxed);
}

/// `true` while per-message timing is on.
#[inline]
#[must_use]
pub fn message_timing() -> bool {
    MESSAGE_TIMING.load(Ordering::Relaxed)
}

pub(crate) fn exited(actor: &'static str, reason: &ExitReason) {
    metrics::counter!("actor_exits_total", "actor" => actor, "reason" => reason.label())
        .increment(1);
}

pub(crate) fn restarted(child: &'static str) {
    metrics::counter!("actor_restarts_total", "child" => child).increment(1);
}

/// The span a call made now should carry to its callee: the current one, when timing is on.
pub(crate) fn caller_span() -> Option<tracing::span::Id> {
    if message_timing() {
        tracing::Span::current().id()
    } else {
        None
    }
}

/// One actor's timing state, made the first time it handles a message with timing on: its
/// histogram handle (registered once, not looked up per message) and the message in hand.
pub(crate) struct Timing {
    histogram: metrics::Histogram,
    current: Option<Handling>,
}

/// One message being handled while timing is on: its span and when it was taken.
pub(crate) struct Handling {
    span: tracing::Span,
    started: Instant,
}

impl Handling {
    pub(crate) fn start(
        actor: &'static str,
        pid: Pid,
        message: &'static str,
        caller: Option<tracing::span::Id>,
    ) -> Handling {
        let span = tracing::debug_span!(
            target: "actor_runtime::message",
            parent: caller,
            "message",
            actor,
            %pid,
            message,
        );
        Handling {
            span,
            started: Instant::now(),
        }
    }
}

impl Timing {
    pub(crate) fn new(actor: &'static str) -> Timing {
        Timing {
            histogram: metrics::histogram!("actor_handle_seconds", "actor" => actor),
            current: None,
        }
    }

    /// Ends the current message (recording its time) and makes `next` current. Returns the
    /// spans to exit and to enter, those a subscriber records.
    pub(crate) fn switch(
        &mut self,
        next: Option<Handling>,
    ) -> (Option<tracing::Span>, Option<tracing::Span>) {
        let old = std::mem::replace(&mut self.current, next).map(|old| {
            self.histogram.record(old.started.elapsed().as_secs_f64());
            old.span
        });
        (old.filter(|s| !s.is_disabled()), self.span())
    }

    /// `true` while a message is being timed.
    pub(crate) fn is_timing(&self) -> bool {
        self.current.is_some()
    }

    /// The current message's span, if a subscriber records it.
    pub(crate) fn span(&self) -> Option<tracing::Span> {
        self.current
            .as_ref()
            .map(|h| &h.span)
            .filter(|s| !s.is_disabled())
            .cloned()
    }
}

/// `true` if a subscriber records message spans now (a cached per-callsite check).
#[inline]
pub(crate) fn spans_enabled() -> bool {
    tracing::enabled!(target: "actor_runtime::message", tracing::Level::DEBUG)
}

/// Enters `span` on this thread without a guard (the actor's task enters it before each poll
/// and exits it after; the message it belongs to may change during the poll).
pub(crate) fn enter(span: &tracing::Span) {
    span.with_subscriber(|(id, dispatch)| dispatch.enter(id));
}

pub(crate) fn exit(span: &tracing::Span) {
    span.with_subscriber(|(id, dispatch)| dispatch.exit(id));
}

/// One actor that stopped, as [`introspect::recent_exits`](crate::introspect::recent_exits)
/// lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExitInfo {
    /// Its pid.
    pub pid: Pid,
    /// Its message type's path.
    pub message_type: &'static str,
    /// The actor that had started it linked, if any (its supervisor).
    pub parent: Option<Pid>,
    /// Why it stopped.
    pub reason: ExitReason,
    /// When.
    pub at: SystemTime,
}

/// How many exits [`recent_exits`] keeps.
pub(crate) const RECENT_EXITS: usize = 256;

static RECENT: Mutex<VecDeque<ExitInfo>> = Mutex::new(VecDeque::new());

pub(crate) fn note_exit(
    pid: Pid,
    message_type: &'static str,
    parent: Option<Pid>,
    reason: &ExitReason,
) {
    let note = ExitInfo {
        pid,
        message_type,
        parent,
        reason: reason.clone(),
        at: SystemTime::now(),
    };
    let mut recent = lock(&RECENT);
    if recent.len() == RECENT_EXITS {
        recent.pop_front();
    }
    recent.push_back(note);
}

/// The last exits of the node, oldest first.
pub(crate) fn recent_exits() -> Vec<ExitInfo> {
    lock(&RECENT).iter().cloned().collect()
}
