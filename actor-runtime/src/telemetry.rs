//! The runtime's metrics, through the `metrics` facade: whatever exporter the program installs
//! (Prometheus, StatsD, none) receives them.
//!
//! - `actor_exits_total{actor, reason}`: actors that ran (had a task) and stopped, by kind
//!   of reason.
//! - `actor_restarts_total`: restarts performed by supervisors.
//! - `actor_slow_polls_total{actor, message}`: see [`watchdog`](crate::watchdog).

use crate::exit::ExitReason;

pub(crate) fn exited(actor: &'static str, reason: &ExitReason) {
    metrics::counter!("actor_exits_total", "actor" => actor, "reason" => reason.label())
        .increment(1);
}

pub(crate) fn restarted() {
    metrics::counter!("actor_restarts_total").increment(1);
}
