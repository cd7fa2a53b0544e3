//! The node's name table, untyped: which pid holds which name, and the typed address the
//! registry hands back. The typed API over it is [`crate::registry`]; this lower half is what
//! an exiting process needs to release its name.

use std::any::{Any, TypeId};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::pid::Pid;
use crate::sync::lock;

/// One registered name.
pub(crate) struct Entry {
    pub(crate) pid: Pid,
    /// Forgets the name on the actor when it is unregistered by hand.
    pub(crate) clear: Box<dyn Fn(&str) + Send + Sync>,
    pub(crate) type_id: TypeId,
    pub(crate) type_name: &'static str,
    /// The holder's `Addr<A>`, for the registry's typed look-up.
    pub(crate) addr: Box<dyn Any + Send + Sync>,
}

static NAMES: Mutex<BTreeMap<Arc<str>, Entry>> = Mutex::new(BTreeMap::new());

pub(crate) fn table() -> MutexGuard<'static, BTreeMap<Arc<str>, Entry>> {
    lock(&NAMES)
}

/// Removes `name` if `pid` still holds it (called when the actor stops).
pub(crate) fn release(name: &str, pid: Pid) {
    let mut names = table();
    if names.get(name).is_some_and(|e| e.pid == pid) {
        names.remove(name);
    }
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("pid", &self.pid)
            .field("type", &self.type_name)
            .finish()
    }
}
