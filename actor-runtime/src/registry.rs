//! The node's name registry: unique names, typed lookup.
//!
//! A name belongs to one running actor; it is released when that actor stops. Looking a name
//! up with the wrong actor type is an error that names both types, never a cast.
//!
//! Each node has its own names. An actor is registered on the node it runs on; [`lookup`],
//! [`unregister`] and [`registered`] act on the current node: the node of the actor whose
//! handler calls them, or of an enclosing `Node::scope` (feature `node`), else the process's
//! default node. A task started with a plain `tokio::spawn` is on the default node, whoever
//! spawned it.

use std::any::TypeId;
use std::fmt;
use std::sync::Arc;

use crate::addr::{Addr, Addressable};
use crate::exit::ExitReason;
use crate::names::Entry;
use crate::pid::Pid;
use crate::record::NameConflict;
use crate::table;

/// A registry operation that did not succeed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistryError {
    /// The name is held by another running actor.
    NameTaken {
        /// The name.
        name: String,
        /// Its holder.
        holder: Pid,
    },
    /// No running actor has this name.
    NotFound(String),
    /// The name belongs to an actor of another type.
    WrongType {
        /// The name.
        name: String,
        /// The type asked for.
        expected: &'static str,
        /// The type of the actor that holds the name.
        found: &'static str,
    },
    /// The actor to register has already stopped.
    Stopped(ExitReason),
    /// The actor already has a name; an actor has at most one.
    AlreadyNamed {
        /// The actor.
        pid: Pid,
        /// Its current name.
        name: String,
    },
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistryError::NameTaken { name, holder } => {
                write!(f, "name `{name}` is already registered by {holder}")
            }
            RegistryError::NotFound(name) => write!(f, "no actor is registered as `{name}`"),
            RegistryError::WrongType {
                name,
                expected,
                found,
            } => write!(
                f,
                "`{name}` is registered by a `{found}`, not a `{expected}`"
            ),
            RegistryError::Stopped(reason) => {
                write!(f, "cannot register an actor that has stopped ({reason})")
            }
            RegistryError::AlreadyNamed { pid, name } => write!(
                f,
                "{pid} is already registered as `{name}`; unregister it first"
            ),
        }
    }
}

impl std::error::Error for RegistryError {}

/// Registers `addr` under `name`, on the node the actor runs on, until the actor stops or
/// [`unregister`] is called.
///
/// # Errors
/// [`RegistryError::NameTaken`] if another running actor holds the name,
/// [`RegistryError::Stopped`] if the actor has stopped.
pub fn register<A: Addressable>(name: &str, addr: &Addr<A>) -> Result<(), RegistryError> {
    let mut names = addr.record().tables().names();
    if let Some(entry) = names.get(name) {
        return Err(RegistryError::NameTaken {
            name: name.to_owned(),
            holder: entry.pid,
        });
    }
    let name: Arc<str> = name.into();
    // Recorded on the actor first, under the registry lock: if the actor stops after this,
    // its exit waits for the lock and then removes the entry inserted below.
    match addr.record().set_name(name.clone()) {
        Ok(()) => {}
        Err(NameConflict::Stopped(reason)) => return Err(RegistryError::Stopped(reason)),
        Err(NameConflict::Named(current)) => {
            return Err(RegistryError::AlreadyNamed {
                pid: addr.pid(),
                name: current.to_string(),
            });
        }
    }
    names.insert(
        name,
        Entry {
            pid: addr.pid(),
            clear: {
                let cell = Arc::downgrade(addr.record());
                Box::new(move |name| {
                    if let Some(cell) = cell.upgrade() {
                        cell.clear_name(name);
                    }
                })
            },
            type_id: TypeId::of::<A>(),
            type_name: std::any::type_name::<A>(),
            addr: Box::new(addr.clone()),
        },
    );
    Ok(())
}

/// Registration at spawn, for `#[actor(name = "..")]`: `Err` with the holder.
pub(crate) fn register_new<A: Addressable>(name: &'static str, addr: &Addr<A>) -> Result<(), Pid> {
    match register(name, addr) {
        Ok(()) => Ok(()),
        Err(RegistryError::NameTaken { holder, .. }) => Err(holder),
        Err(_) => Err(addr.pid()),
    }
}

/// The actor registered as `name` on the current node, typed.
///
/// # Errors
/// [`RegistryError::NotFound`], or [`RegistryError::WrongType`] if the name belongs to an
/// actor of another type.
pub fn lookup<A: Addressable>(name: &str) -> Result<Addr<A>, RegistryError> {
    let tables = table::current();
    let names = tables.names();
    let entry = names
        .get(name)
        .ok_or_else(|| RegistryError::NotFound(name.to_owned()))?;
    if entry.type_id != TypeId::of::<A>() {
        return Err(RegistryError::WrongType {
            name: name.to_owned(),
            expected: std::any::type_name::<A>(),
            found: entry.type_name,
        });
    }
    entry
        .addr
        .downcast_ref::<Addr<A>>()
        .cloned()
        .ok_or_else(|| RegistryError::NotFound(name.to_owned()))
}

/// Removes `name` from the current node; returns the pid that held it. The actor may then
/// take another name.
pub fn unregister(name: &str) -> Option<Pid> {
    let entry = table::current().names().remove(name)?;
    (entry.clear)(name);
    Some(entry.pid)
}

/// Every name registered on the current node with its holder, sorted by name.
#[must_use]
pub fn registered() -> Vec<(String, Pid)> {
    table::current()
        .names()
        .iter()
        .map(|(name, e)| (name.to_string(), e.pid))
        .collect()
}
