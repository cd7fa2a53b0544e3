//! The process table: every live actor of the node, so that shutdown and pid look-ups can
//! reach it. Sharded, because every spawn and every exit writes to it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};

use crate::pid::Pid;
use crate::process::Process;
use crate::sync::lock;

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

/// The live process with this pid, if any.
pub(crate) fn get(pid: Pid) -> Option<Arc<dyn Process>> {
    if !pid.is_local() {
        return None;
    }
    lock(shard(pid)).get(&pid.id()).and_then(Weak::upgrade)
}

/// Every live process, newest first.
pub(crate) fn all() -> Vec<Arc<dyn Process>> {
    let mut all: Vec<Arc<dyn Process>> = Vec::new();
    for shard in &TABLE {
        all.extend(lock(shard).values().filter_map(Weak::upgrade));
    }
    all.sort_by_key(|p| std::cmp::Reverse(p.pid()));
    all
}

/// The number of live processes.
pub(crate) fn len() -> usize {
    TABLE.iter().map(|s| lock(s).len()).sum()
}

static SHUTTING_DOWN: AtomicBool = AtomicBool::new(false);

/// `true` while [`crate::shutdown`] runs: no new spawns, no restarts.
pub(crate) fn shutting_down() -> bool {
    SHUTTING_DOWN.load(Ordering::Acquire)
}

/// Marks the node as stopping until the guard is dropped.
pub(crate) fn begin_shutdown() -> ShuttingDown {
    SHUTTING_DOWN.store(true, Ordering::Release);
    ShuttingDown(())
}

/// Held while the node stops; dropping it lets actors be spawned again.
#[derive(Debug)]
pub(crate) struct ShuttingDown(());

impl Drop for ShuttingDown {
    fn drop(&mut self) {
        SHUTTING_DOWN.store(false, Ordering::Release);
    }
}
