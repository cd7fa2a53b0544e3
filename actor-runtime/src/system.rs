//! A node's actor count, counters, and graceful shutdown.
//!
//! Like an Erlang node, a node has its own actors, names and counters. A program usually runs
//! one node per OS process and never names it: code outside any node acts on the process's
//! default node. Several nodes can share one process (`Node` with `NodeConfig::isolated`,
//! feature `node`), which is how a test runs a cluster. Each function here acts on the current
//! node: the node of the actor whose handler calls it, or of an enclosing `Node::scope`, else
//! the default node. A task started with a plain `tokio::spawn` is on the default node.

use std::time::Duration;

use crate::exit::{ExitReason, Signal};
use crate::process::wait_for_exit;
pub use crate::stats::Stats;
use crate::table;

/// The number of actors currently running on the current node.
#[must_use]
pub fn actor_count() -> usize {
    table::current().len()
}

/// A snapshot of the current node's [`Stats`].
#[must_use]
pub fn stats() -> Stats {
    let tables = table::current();
    Stats {
        actors: tables.len(),
        ..tables.counters.snapshot()
    }
}

/// What [`shutdown`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Actors that stopped within the grace period, running their `#[terminate]` hooks.
    pub stopped: usize,
    /// Actors that were still running at the end of the grace period and were killed.
    pub killed: usize,
}

/// Stops every actor on the current node, top-down: each root actor (one nobody started linked to
/// it, such as the supervisor of a tree) gets a stop signal with reason
/// [`ExitReason::Shutdown`], newest first, and runs its `#[terminate]` hook after its current
/// message; a supervisor stops its children in reverse start order before it exits. While
/// this runs, nothing is restarted and new spawns fail with
/// [`SpawnError::ShuttingDown`](crate::SpawnError::ShuttingDown); an actor whose start was
/// already under way is stopped in a later round. The call waits up to `grace` in all; actors
/// still running then are killed.
///
/// Call it at the end of `main`, or on SIGINT/SIGTERM, before the tokio runtime is dropped:
/// dropping the runtime instead cancels every actor without running `#[terminate]`.
pub async fn shutdown(grace: Duration) -> ShutdownReport {
    let tables = table::current();
    let _stopping = tables.begin_shutdown();
    let deadline = tokio::time::Instant::now() + grace;
    let mut seen = std::collections::HashSet::new();
    let mut killed = 0;
    loop {
        let all = table::all_in(&tables);
        if all.is_empty() {
            break;
        }
        seen.extend(all.iter().map(|p| p.pid()));
        if tokio::time::Instant::now() >= deadline {
            for p in &all {
                p.kill();
                killed += 1;
            }
            for p in &all {
                wait_for_exit(&**p).await;
            }
            continue;
        }
        // Roots first: an actor whose parent is gone (or never was) is a root.
        let roots: Vec<_> = all
            .iter()
            .filter(|p| {
                p.parent()
                    .is_none_or(|parent| table::get_in(&tables, parent).is_none())
            })
            .cloned()
            .collect();
        let round = if roots.is_empty() { all } else { roots };
        for p in &round {
            p.signal(Signal::Stop(ExitReason::Shutdown));
        }
        for p in &round {
            if tokio::time::timeout_at(deadline, wait_for_exit(&**p))
                .await
                .is_err()
            {
                break;
            }
        }
    }
    ShutdownReport {
        stopped: seen.len() - killed,
        killed,
    }
}
