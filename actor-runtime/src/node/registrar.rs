//! Finding nodes by name: a [`Registrar`] publishes where a node listens and answers where
//! another one does.
//!
//! Three come with the runtime: [`StaticRoutes`] (a fixed table, what
//! [`NodeConfig::route`](super::NodeConfig::route) fills), [`Embedded`] (the first node on a
//! host serves the others, and another takes over when it stops, as Erlang's EPMD does), and,
//! with the `etcd` feature, `Etcd` (leases and a prefix watch on a real cluster's etcd).
//! A node uses its static routes first, then its registrar.

mod embedded;
#[cfg(feature = "etcd")]
mod etcd;

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::RwLock;

use futures_util::future::BoxFuture;

use crate::sync::{read, write};

pub use embedded::{DEFAULT_EMBEDDED_PORT, Embedded};
#[cfg(feature = "etcd")]
pub use etcd::{Etcd, EtcdOptions};

/// Where nodes are found by name.
///
/// A [`Node`](super::Node) with a registrar ([`NodeConfig::registrar`](super::NodeConfig::registrar))
/// publishes itself when it starts listening, withdraws when it shuts down, and asks the
/// registrar for any node it has no static route to.
pub trait Registrar: Send + Sync + 'static {
    /// Publishes that node `node` listens at `addr`, for as long as this process runs the
    /// node (until [`Registrar::withdraw`]).
    ///
    /// # Errors
    /// [`RegistrarError::Taken`] if another live node holds the name;
    /// [`RegistrarError::Unreachable`] if the registrar cannot be reached.
    fn publish<'a>(
        &'a self,
        node: &'a str,
        addr: SocketAddr,
    ) -> BoxFuture<'a, Result<(), RegistrarError>>;

    /// Where node `node` listens, or `None` if no live node has that name.
    ///
    /// # Errors
    /// [`RegistrarError::Unreachable`] if the registrar cannot be reached.
    fn resolve<'a>(
        &'a self,
        node: &'a str,
    ) -> BoxFuture<'a, Result<Option<SocketAddr>, RegistrarError>>;

    /// Withdraws what [`Registrar::publish`] published for `node`. Does not wait: the work
    /// that needs the network runs in the background.
    fn withdraw(&self, node: &str);

    /// `true` if every node this registrar serves runs on this host. A node listening on an
    /// unspecified address (`0.0.0.0`) then publishes the loopback address; with a registrar
    /// that spans hosts it must say which address the others dial
    /// ([`NodeConfig::advertise`](super::NodeConfig::advertise)). `false` unless overridden.
    fn same_host(&self) -> bool {
        false
    }
}

/// A shared registrar: several nodes of one process can use one table or one connection.
impl<R: Registrar> Registrar for std::sync::Arc<R> {
    fn publish<'a>(
        &'a self,
        node: &'a str,
        addr: SocketAddr,
    ) -> BoxFuture<'a, Result<(), RegistrarError>> {
        (**self).publish(node, addr)
    }

    fn resolve<'a>(
        &'a self,
        node: &'a str,
    ) -> BoxFuture<'a, Result<Option<SocketAddr>, RegistrarError>> {
        (**self).resolve(node)
    }

    fn withdraw(&self, node: &str) {
        (**self).withdraw(node);
    }

    fn same_host(&self) -> bool {
        (**self).same_host()
    }
}

/// Why a registrar could not publish or resolve.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistrarError {
    /// Another live node holds the name.
    Taken(String),
    /// The registrar could not be reached, or answered what it should not.
    Unreachable(String),
    /// A name a registrar cannot carry (empty, too long, or with white space).
    BadName(String),
}

impl fmt::Display for RegistrarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistrarError::Taken(name) => write!(
                f,
                "node name `{name}` is published by another live node: give this node another name"
            ),
            RegistrarError::Unreachable(e) => write!(f, "registrar unreachable: {e}"),
            RegistrarError::BadName(name) => write!(
                f,
                "`{name}` cannot be published: a node name is 1 to {MAX_NAME} bytes without white space"
            ),
        }
    }
}

impl std::error::Error for RegistrarError {}

/// The longest node name a registrar carries.
pub const MAX_NAME: usize = 200;

/// Checks a node name before it goes to a registrar.
pub(crate) fn check_name(name: &str) -> Result<(), RegistrarError> {
    if name.is_empty() || name.len() > MAX_NAME || name.contains(char::is_whitespace) {
        return Err(RegistrarError::BadName(name.to_owned()));
    }
    Ok(())
}

/// A fixed table of node addresses: publishing adds to it, which lets nodes of one process
/// find each other, and the table can be filled up front ([`StaticRoutes::with`]).
#[derive(Debug, Default)]
pub struct StaticRoutes {
    routes: RwLock<HashMap<String, SocketAddr>>,
}

impl StaticRoutes {
    /// An empty table.
    #[must_use]
    pub fn new() -> StaticRoutes {
        StaticRoutes::default()
    }

    /// The table with node `name` at `addr`.
    #[must_use]
    pub fn with(self, name: impl Into<String>, addr: SocketAddr) -> StaticRoutes {
        write(&self.routes).insert(name.into(), addr);
        self
    }
}

impl Registrar for StaticRoutes {
    fn publish<'a>(
        &'a self,
        node: &'a str,
        addr: SocketAddr,
    ) -> BoxFuture<'a, Result<(), RegistrarError>> {
        Box::pin(async move {
            check_name(node)?;
            write(&self.routes).insert(node.to_owned(), addr);
            Ok(())
        })
    }

    fn resolve<'a>(
        &'a self,
        node: &'a str,
    ) -> BoxFuture<'a, Result<Option<SocketAddr>, RegistrarError>> {
        Box::pin(async move { Ok(read(&self.routes).get(node).copied()) })
    }

    fn withdraw(&self, node: &str) {
        write(&self.routes).remove(node);
    }

    /// A table shared by the nodes of one process.
    fn same_host(&self) -> bool {
        true
    }
}
