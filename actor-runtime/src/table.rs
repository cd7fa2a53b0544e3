//! The process index: every live actor of the OS process by pid id, so that shutdown, pid
//! look-ups and introspection can reach it. Sharded, because every spawn and every exit
//! writes to it.
//!
//! One index serves every node of the process, because pid ids are unique in the process;
//! a node's view of it is filtered by its tables ([`get_in`], [`all_in`]), and [`current`]
//! tells which node's tables the code running now acts on.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex, Weak};

use crate::pid::Pid;
use crate::process::Process;
use crate::sync::lock;
use crate::tables::{self, TablesRef};

const SHARDS: usize = 16;

type Shard = Mutex<BTreeMap<u64, Weak<dyn Process>>>;

static TABLE: [Shard; SHARDS] = [const { Mutex::new(BTreeMap::new()) }; SHARDS];

fn shard(pid: Pid) -> &'static Shard {
    // Ids are sequential, so the low bits spread consecutive spawns over all shards.
    #[allow(clippy::cast_possible_truncation)]
    &TABLE[(pid.id() as usize) % SHARDS]
}

pub(crate) fn insert(pid: Pid, process: Weak<dyn Process>) {
    lock(shard(pid)).insert(pid.id(), process);
}

pub(crate) fn remove(pid: Pid) {
    lock(shard(pid)).remove(&pid.id());
}

/// The live process with this pid, on whichever node of the process it runs.
pub(crate) fn get(pid: Pid) -> Option<Arc<dyn Process>> {
    if !pid.is_local() {
        return None;
    }
    lock(shard(pid)).get(&pid.id()).and_then(Weak::upgrade)
}

fn belongs(process: &dyn Process, tables: &TablesRef) -> bool {
    process.tables().is_some_and(|t| t.same(tables))
}

/// The live process with this pid if it runs on the node of `tables`.
pub(crate) fn get_in(tables: &TablesRef, pid: Pid) -> Option<Arc<dyn Process>> {
    get(pid).filter(|p| belongs(&**p, tables))
}

/// Every live process of the node of `tables`, newest first.
pub(crate) fn all_in(tables: &TablesRef) -> Vec<Arc<dyn Process>> {
    let mut all: Vec<Arc<dyn Process>> = Vec::new();
    for shard in &TABLE {
        all.extend(
            lock(shard)
                .values()
                .filter_map(Weak::upgrade)
                .filter(|p| belongs(&**p, tables)),
        );
    }
    all.sort_by_key(|p| std::cmp::Reverse(p.pid()));
    all
}

/// The tables the code running now acts on: those of the enclosing `tables::scope`, else
/// those of the running actor's node, else the process's default tables.
pub(crate) fn current() -> TablesRef {
    if let Some(tables) = tables::scoped() {
        return tables;
    }
    Pid::current()
        .and_then(get)
        .and_then(|p| p.tables().cloned())
        .unwrap_or(TablesRef::DEFAULT)
}

/// The tables of `process`'s node (the current ones for a stand-in).
pub(crate) fn of(process: &dyn Process) -> TablesRef {
    process.tables().cloned().unwrap_or_else(current)
}

/// `tokio::spawn` that keeps the current node: the task acts on the tables [`current`] gives
/// here. For the runtime's own tasks (connections, listeners) that spawn actors or use the
/// registry.
pub(crate) fn spawn<F>(fut: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(tables::scope(current(), fut))
}
