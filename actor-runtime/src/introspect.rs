//! Introspection: what runs on this node, as data.
//!
//! [`snapshot`] lists every live actor with its kind, name, pid, parent, links, monitors and
//! mailbox depth. It takes each actor's lock once, briefly, one after the other: the node keeps
//! running while it is taken, so the picture is per actor exact but not one instant for all.

pub use crate::process::ProcessInfo;
use crate::table;

/// Every live actor of the node, newest first.
#[must_use]
pub fn snapshot() -> Vec<ProcessInfo> {
    table::all().iter().filter_map(|p| p.info()).collect()
}

/// The children of `parent` in `actors` (those it started linked), oldest first: with
/// [`snapshot`], the supervision tree.
pub fn children_of(actors: &[ProcessInfo], parent: crate::Pid) -> Vec<&ProcessInfo> {
    let mut children: Vec<&ProcessInfo> =
        actors.iter().filter(|a| a.parent == Some(parent)).collect();
    children.sort_by_key(|a| a.pid);
    children
}
