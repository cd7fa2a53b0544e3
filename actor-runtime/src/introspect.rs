//! Introspection: what runs on this node, as data.
//!
//! - [`snapshot`] lists every live actor with its kind, name, pid, parent, links, monitors,
//!   mailbox figures and, for supervisors, their children and restarts. It takes each actor's
//!   lock once, briefly, one after the other: the node keeps running while it is taken, so the
//!   picture is per actor exact but not one instant for all.
//! - [`kinds`] sums it per actor type, stopped actors included, and [`export_metrics`] hands
//!   those sums to the `metrics` facade; [`spawn_metrics_sampler`] does so periodically.
//!
//! Nothing here costs a handled message anything: the figures are counters the mailbox keeps
//! anyway, read when a snapshot is taken.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::process::kind_of;
pub use crate::process::{ChildState, ProcessInfo, SupervisorInfo};
pub use crate::telemetry::ExitInfo;
use crate::{table, telemetry};

/// Every live actor of the current node, newest first. The current node is that of the
/// actor whose handler calls this, or of an enclosing `Node::scope`, else the process's
/// default node (see [`stats`](crate::stats)).
#[must_use]
pub fn snapshot() -> Vec<ProcessInfo> {
    table::all_in(&table::current())
        .iter()
        .filter_map(|p| p.info())
        .collect()
}

/// The last exits of the OS process (at most 256, every node's), oldest first: every actor
/// that stopped, for whatever reason, with its parent.
#[must_use]
pub fn recent_exits() -> Vec<ExitInfo> {
    telemetry::recent_exits()
}

/// The live actor of the current node numbered `id` (the number after the dot in `<0.id>`).
#[must_use]
pub fn find(id: u64) -> Option<ProcessInfo> {
    table::get_in(&table::current(), crate::Pid::local(id)).and_then(|p| p.info())
}

/// Kills the live actor `pid` of the current node as [`Addr::kill`](crate::Addr::kill) would
/// (its supervisor, if any, restarts it by its strategy); `false` if no such actor runs.
pub fn kill(pid: crate::Pid) -> bool {
    match table::get_in(&table::current(), pid) {
        Some(process) => {
            process.kill();
            true
        }
        None => false,
    }
}

/// The children of `parent` in `actors` (those it started linked), oldest first: with
/// [`snapshot`], the supervision tree.
pub fn children_of(actors: &[ProcessInfo], parent: crate::Pid) -> Vec<&ProcessInfo> {
    let mut children: Vec<&ProcessInfo> =
        actors.iter().filter(|a| a.parent == Some(parent)).collect();
    children.sort_by_key(|a| a.pid);
    children
}

/// The figures of one actor type, live and stopped actors together, as [`kinds`] gives them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct KindInfo {
    /// The actor's type (see [`ProcessInfo::kind`]).
    pub kind: String,
    /// Its message type's path.
    pub message_type: &'static str,
    /// Actors of this type running now.
    pub live: usize,
    /// Actors of this type that have stopped since the node started.
    pub stopped: u64,
    /// Messages taken by all of them, stopped ones included.
    pub handled: u64,
    /// Fail-fast sends refused because a mailbox was full.
    pub refused: u64,
    /// Messages queued now, summed over the live actors.
    pub mailbox_len: usize,
    /// The deepest live mailbox now.
    pub mailbox_max: usize,
    /// The longest any of their mailbox queues has been (see
    /// [`ProcessInfo::mailbox_high_water`]).
    pub mailbox_high_water: usize,
}

/// Per actor type: how many run and have stopped, messages handled, refused sends and
/// mailbox depths, from a [`snapshot`] (`actors`) and the totals of stopped actors. Sorted by
/// type.
#[must_use]
pub fn kinds(actors: &[ProcessInfo]) -> Vec<KindInfo> {
    let mut by_type: BTreeMap<&'static str, KindInfo> = BTreeMap::new();
    for (message_type, r) in table::current().counters.retired() {
        let k = by_type.entry(message_type).or_default();
        k.stopped = r.stopped;
        k.handled = r.handled;
        k.refused = r.refused;
        k.mailbox_high_water = r.high_water;
    }
    for a in actors {
        let k = by_type.entry(a.message_type).or_default();
        k.live += 1;
        k.handled += a.handled;
        k.refused += a.refused;
        k.mailbox_len += a.mailbox_len;
        k.mailbox_max = k.mailbox_max.max(a.mailbox_len);
        k.mailbox_high_water = k.mailbox_high_water.max(a.mailbox_high_water);
    }
    by_type
        .into_iter()
        .map(|(message_type, mut k)| {
            k.message_type = message_type;
            k.kind = kind_of(message_type);
            k
        })
        .collect()
}

/// Takes a [`snapshot`] of the current node and hands its figures to the `metrics` facade
/// (whatever recorder the program installed: Prometheus, StatsD). The metrics carry no node
/// label: with several nodes in one process, sample one of them.
///
/// | metric | labels | what |
/// |---|---|---|
/// | `actor_live` (gauge) | `actor` | actors running now |
/// | `actor_messages_handled_total` (counter) | `actor` | messages taken, stopped actors included |
/// | `actor_sends_refused_total` (counter) | `actor` | fail-fast sends refused, mailbox full |
/// | `actor_mailbox_depth` (gauge) | `actor` | messages queued now, summed |
/// | `actor_mailbox_max_depth` (gauge) | `actor` | the deepest mailbox now |
/// | `actor_mailbox_high_water` (gauge) | `actor` | the longest a mailbox queue has been |
/// | `actor_named_messages_handled_total` (counter) | `name` | per registered name |
/// | `actor_named_mailbox_depth` (gauge) | `name` | per registered name |
///
/// The runtime also counts, as they happen, `actor_exits_total{actor, reason}`,
/// `actor_restarts_total{supervisor, child}`, `actor_slow_polls_total{actor, message}` and,
/// when [`telemetry::set_message_timing`](crate::telemetry::set_message_timing()) is on, the
/// histogram `actor_handle_seconds{actor}`. Returns the snapshot it took.
pub fn export_metrics() -> Vec<ProcessInfo> {
    let actors = snapshot();
    for k in kinds(&actors) {
        let actor = k.kind;
        #[allow(clippy::cast_precision_loss)]
        {
            metrics::gauge!("actor_live", "actor" => actor.clone()).set(k.live as f64);
            metrics::gauge!("actor_mailbox_depth", "actor" => actor.clone())
                .set(k.mailbox_len as f64);
            metrics::gauge!("actor_mailbox_max_depth", "actor" => actor.clone())
                .set(k.mailbox_max as f64);
            metrics::gauge!("actor_mailbox_high_water", "actor" => actor.clone())
                .set(k.mailbox_high_water as f64);
        }
        metrics::counter!("actor_messages_handled_total", "actor" => actor.clone())
            .absolute(k.handled);
        metrics::counter!("actor_sends_refused_total", "actor" => actor).absolute(k.refused);
    }
    for a in &actors {
        if let Some(name) = &a.name {
            metrics::counter!("actor_named_messages_handled_total", "name" => name.clone())
                .absolute(a.handled);
            #[allow(clippy::cast_precision_loss)]
            metrics::gauge!("actor_named_mailbox_depth", "name" => name.clone())
                .set(a.mailbox_len as f64);
        }
    }
    actors
}

/// Calls [`export_metrics`] every `period` (at least 100 ms) on a task of the current runtime,
/// for the current node, until the returned handle is aborted or the runtime stops.
///
/// # Panics
/// Outside a tokio runtime.
pub fn spawn_metrics_sampler(period: Duration) -> tokio::task::JoinHandle<()> {
    let period = period.max(Duration::from_millis(100));
    table::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            export_metrics();
        }
    })
}
