//! One entry of a node's name table, untyped: which pid holds the name, and the typed address
//! the registry hands back. The table is in [`crate::tables::Tables`]; the typed API over it
//! is [`crate::registry`].

use std::any::{Any, TypeId};
use std::fmt;

use crate::pid::Pid;

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

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("pid", &self.pid)
            .field("type", &self.type_name)
            .finish()
    }
}
