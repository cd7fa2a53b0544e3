//! What belongs to one node: its name table, its count of live actors, its counters of lost
//! messages, and whether it is shutting down.
//!
//! A node's tables are a value, not process-wide statics, so that several nodes run in one OS
//! process (a test that starts three nodes, say) without sharing names or counters. Each
//! actor's record holds the tables of the node it was spawned on. Code acts on the tables of
//! its [`scope`] if it has one (`Node::scope` sets one, and an actor's `#[init]` runs in its
//! own node's), else on those of the actor whose handler runs it, else on the process's
//! default tables, which a program with one node never needs to think about.
//!
//! Which pid is which process stays one index for the OS process (see `table`): pid ids are
//! unique in the process, and a look-up by id is filtered by tables where a node must not see
//! another's actors.

use std::collections::BTreeMap;
use std::future::Future;
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::names::Entry;
use crate::pid::Pid;
use crate::stats::Counters;
use crate::sync::lock;

/// One node's tables (see the module docs).
pub(crate) struct Tables {
    actors: AtomicUsize,
    names: Mutex<BTreeMap<Arc<str>, Entry>>,
    shutting_down: AtomicBool,
    pub(crate) counters: Counters,
}

impl std::fmt::Debug for Tables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tables")
            .field("actors", &self.len())
            .field("shutting_down", &self.shutting_down())
            .finish_non_exhaustive()
    }
}

impl Tables {
    const fn new() -> Tables {
        Tables {
            actors: AtomicUsize::new(0),
            names: Mutex::new(BTreeMap::new()),
            shutting_down: AtomicBool::new(false),
            counters: Counters::new(),
        }
    }

    /// An actor was created on this node.
    pub(crate) fn joined(&self) {
        self.actors.fetch_add(1, Ordering::Relaxed);
    }

    /// An actor of this node stopped.
    pub(crate) fn left(&self) {
        self.actors.fetch_sub(1, Ordering::Relaxed);
    }

    /// The number of live actors.
    pub(crate) fn len(&self) -> usize {
        self.actors.load(Ordering::Relaxed)
    }

    /// The name table.
    pub(crate) fn names(&self) -> MutexGuard<'_, BTreeMap<Arc<str>, Entry>> {
        lock(&self.names)
    }

    /// Removes `name` if `pid` still holds it (called when the actor stops).
    pub(crate) fn release(&self, name: &str, pid: Pid) {
        let mut names = self.names();
        if names.get(name).is_some_and(|e| e.pid == pid) {
            names.remove(name);
        }
    }

    /// `true` while `shutdown` runs on this node: no new spawns, no restarts.
    pub(crate) fn shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Acquire)
    }
}

/// The process's default tables: those of code that runs on no node in particular. A static,
/// so that the actors of a program with one node share no reference count.
static DEFAULT: Tables = Tables::new();

/// A handle on one node's tables: the process's default ones, or a node's own. As small as a
/// pointer; cloning the default one touches no shared counter.
#[derive(Clone, Debug)]
pub(crate) struct TablesRef(Option<Arc<Tables>>);

impl TablesRef {
    /// The process's default tables.
    pub(crate) const DEFAULT: TablesRef = TablesRef(None);

    /// Fresh tables, for a node of its own.
    #[cfg_attr(not(feature = "node"), allow(dead_code))]
    pub(crate) fn fresh() -> TablesRef {
        TablesRef(Some(Arc::new(Tables::new())))
    }

    /// `true` if both are the tables of one node.
    pub(crate) fn same(&self, other: &TablesRef) -> bool {
        std::ptr::eq::<Tables>(&**self, &**other)
    }

    /// Marks the node as stopping until the guard is dropped.
    pub(crate) fn begin_shutdown(&self) -> ShuttingDown {
        self.shutting_down.store(true, Ordering::Release);
        ShuttingDown(self.clone())
    }
}

impl Deref for TablesRef {
    type Target = Tables;

    fn deref(&self) -> &Tables {
        self.0.as_deref().unwrap_or(&DEFAULT)
    }
}

/// Held while a node stops; dropping it lets actors be spawned there again.
#[derive(Debug)]
pub(crate) struct ShuttingDown(TablesRef);

impl Drop for ShuttingDown {
    fn drop(&mut self) {
        self.0.shutting_down.store(false, Ordering::Release);
    }
}

tokio::task_local! {
    static SCOPE: TablesRef;
}

/// Runs `fut` with `tables` as the tables of its task (of code outside any actor).
pub(crate) fn scope<F: Future>(tables: TablesRef, fut: F) -> impl Future<Output = F::Output> {
    SCOPE.scope(tables, fut)
}

/// Runs `f` with `tables` as the tables of this task (for one poll).
pub(crate) fn within<R>(tables: TablesRef, f: impl FnOnce() -> R) -> R {
    SCOPE.sync_scope(tables, f)
}

/// The tables of the enclosing [`scope`], if any.
pub(crate) fn scoped() -> Option<TablesRef> {
    SCOPE.try_with(TablesRef::clone).ok()
}
