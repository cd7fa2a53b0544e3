//! A registrar on etcd. See [`Etcd`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use etcd_client::{
    Client, Compare, CompareOp, ConnectOptions, EventType, GetOptions, PutOptions, Txn, TxnOp,
    WatchOptions,
};
use futures_util::future::BoxFuture;
use tokio::task::AbortHandle;

use super::{Registrar, RegistrarError, check_name};
use crate::sync::{lock, read, write};

/// How an [`Etcd`] registrar talks to etcd.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct EtcdOptions {
    /// The keys' prefix (default `/actor-runtime/nodes/`): nodes sharing a prefix find each
    /// other.
    pub prefix: String,
    /// The lease of a published node (default 10 s, renewed every third of it): a node that
    /// dies is forgotten this long after.
    pub ttl: Duration,
    /// Connecting to etcd, and each request, must finish within this (default 5 s).
    pub timeout: Duration,
}

impl Default for EtcdOptions {
    fn default() -> Self {
        EtcdOptions {
            prefix: "/actor-runtime/nodes/".into(),
            ttl: Duration::from_secs(10),
            timeout: Duration::from_secs(5),
        }
    }
}

impl EtcdOptions {
    /// Keys under `prefix`.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> EtcdOptions {
        self.prefix = prefix.into();
        self
    }

    /// Leases of `ttl` (at least one second: etcd counts in seconds).
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> EtcdOptions {
        self.ttl = ttl.max(Duration::from_secs(1));
        self
    }
}

/// A registrar on etcd (feature `etcd`): each node is a key under a prefix, `<prefix><name>`
/// holding `host:port`, attached to a lease the node keeps alive. A node that dies stops
/// renewing, and etcd deletes its key when the lease runs out. Every registrar watches the
/// prefix and keeps the table in memory, so a look-up costs no round trip.
///
/// Cheap to clone; clones share one connection, one watch and one table.
#[derive(Clone, Debug)]
pub struct Etcd {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    options: EtcdOptions,
    /// Every node under the prefix, as the watch last said.
    nodes: RwLock<HashMap<String, SocketAddr>>,
    /// The nodes this registrar published: their lease and its keeper.
    leases: Mutex<HashMap<String, (i64, AbortHandle)>>,
    watch: Mutex<Option<AbortHandle>>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Etcd")
            .field("options", &self.options)
            .field("nodes", &*read(&self.nodes))
            .finish_non_exhaustive()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(watch) = lock(&self.watch).take() {
            watch.abort();
        }
        for (_, (_, keeper)) in lock(&self.leases).drain() {
            keeper.abort();
        }
    }
}

fn unreachable(e: impl std::fmt::Display) -> RegistrarError {
    RegistrarError::Unreachable(format!("etcd: {e}"))
}

impl Etcd {
    /// Connects to etcd at `endpoints` (`"127.0.0.1:2379"`, or `http://` URLs), reads the
    /// nodes under the prefix and starts watching it.
    ///
    /// # Errors
    /// [`RegistrarError::Unreachable`] if etcd does not answer within `options.timeout`.
    pub async fn connect(endpoints: &[&str], options: EtcdOptions) -> Result<Etcd, RegistrarError> {
        let connect = ConnectOptions::new()
            .with_connect_timeout(options.timeout)
            .with_timeout(options.timeout);
        let mut client =
            tokio::time::timeout(options.timeout, Client::connect(endpoints, Some(connect)))
                .await
                .map_err(|_| unreachable(format!("{endpoints:?} did not answer in time")))?
                .map_err(|e| unreachable(format!("{endpoints:?}: {e}")))?;
        let existing = client
            .get(
                options.prefix.as_str(),
                Some(GetOptions::new().with_prefix()),
            )
            .await
            .map_err(|e| unreachable(format!("{endpoints:?}: {e}")))?;
        let revision = existing.header().map_or(0, |h| h.revision());
        let mut nodes = HashMap::new();
        for kv in existing.kvs() {
            if let Some((name, addr)) = entry(&options.prefix, kv.key(), kv.value()) {
                nodes.insert(name, addr);
            }
        }
        let inner = Arc::new(Inner {
            client,
            options,
            nodes: RwLock::new(nodes),
            leases: Mutex::new(HashMap::new()),
            watch: Mutex::new(None),
        });
        let task = tokio::spawn(watch(Arc::downgrade(&inner), revision + 1));
        *lock(&inner.watch) = Some(task.abort_handle());
        Ok(Etcd { inner })
    }

    /// The nodes under the prefix, as the watch last said.
    #[must_use]
    pub fn nodes(&self) -> HashMap<String, SocketAddr> {
        read(&self.inner.nodes).clone()
    }

    fn key(&self, node: &str) -> String {
        format!("{}{node}", self.inner.options.prefix)
    }
}

/// A key and value under `prefix` as a node name and address.
fn entry(prefix: &str, key: &[u8], value: &[u8]) -> Option<(String, SocketAddr)> {
    let name = std::str::from_utf8(key).ok()?.strip_prefix(prefix)?;
    let addr = std::str::from_utf8(value).ok()?.parse().ok()?;
    Some((name.to_owned(), addr))
}

/// Keeps the table in step with the prefix from `revision` on; after a broken watch, reads
/// the prefix again and watches from there.
async fn watch(inner: Weak<Inner>, mut revision: i64) {
    loop {
        let Some(strong) = inner.upgrade() else {
            return;
        };
        let mut client = strong.client.clone();
        let prefix = strong.options.prefix.clone();
        drop(strong);
        let options = WatchOptions::new()
            .with_prefix()
            .with_start_revision(revision);
        if let Ok((_watcher, mut stream)) = client.watch(prefix.as_str(), Some(options)).await {
            while let Ok(Some(response)) = stream.message().await {
                let Some(strong) = inner.upgrade() else {
                    return;
                };
                if response.compact_revision() > 0 {
                    // History before our revision is gone: read the prefix afresh.
                    break;
                }
                let mut nodes = write(&strong.nodes);
                for event in response.events() {
                    let Some(kv) = event.kv() else { continue };
                    revision = revision.max(kv.mod_revision() + 1);
                    let Ok(key) = std::str::from_utf8(kv.key()) else {
                        continue;
                    };
                    let Some(name) = key.strip_prefix(prefix.as_str()) else {
                        continue;
                    };
                    match event.event_type() {
                        EventType::Put => {
                            if let Some((name, addr)) = entry(&prefix, kv.key(), kv.value()) {
                                nodes.insert(name, addr);
                            }
                        }
                        EventType::Delete => {
                            nodes.remove(name);
                        }
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        // Start again from what etcd holds now.
        if let Ok(now) = client
            .get(prefix.as_str(), Some(GetOptions::new().with_prefix()))
            .await
        {
            let Some(strong) = inner.upgrade() else {
                return;
            };
            let mut nodes = HashMap::new();
            for kv in now.kvs() {
                if let Some((name, addr)) = entry(&prefix, kv.key(), kv.value()) {
                    nodes.insert(name, addr);
                }
            }
            *write(&strong.nodes) = nodes;
            revision = now.header().map_or(revision, |h| h.revision() + 1);
        }
    }
}

/// Renews `lease` every third of `ttl` while this process runs the node; if the lease was
/// lost (etcd unreachable for longer than `ttl`), publishes the node again on a new lease.
async fn keep_alive(
    mut client: Client,
    key: String,
    value: String,
    mut lease: i64,
    ttl: Duration,
    inner: Weak<Inner>,
    node: String,
) {
    let every = ttl / 3;
    loop {
        if let Ok((mut keeper, mut answers)) = client.lease_keep_alive(lease).await {
            loop {
                tokio::time::sleep(every).await;
                if keeper.keep_alive().await.is_err() {
                    break;
                }
                match answers.message().await {
                    Ok(Some(answer)) if answer.ttl() > 0 => {}
                    _ => break,
                }
            }
        }
        tracing::warn!(node = %node, "etcd lease lost; publishing the node again");
        tokio::time::sleep(every).await;
        let Ok(granted) = client.lease_grant(ttl_secs(ttl), None).await else {
            continue;
        };
        lease = granted.id();
        let put = PutOptions::new().with_lease(lease);
        if client
            .put(key.as_str(), value.as_str(), Some(put))
            .await
            .is_ok()
        {
            match inner.upgrade() {
                Some(inner) => {
                    if let Some(entry) = lock(&inner.leases).get_mut(&node) {
                        entry.0 = lease;
                    }
                }
                None => return,
            }
        }
    }
}

fn ttl_secs(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_secs().max(1)).unwrap_or(i64::MAX)
}

impl Registrar for Etcd {
    fn publish<'a>(
        &'a self,
        node: &'a str,
        addr: SocketAddr,
    ) -> BoxFuture<'a, Result<(), RegistrarError>> {
        Box::pin(async move {
            check_name(node)?;
            let mut client = self.inner.client.clone();
            let ttl = self.inner.options.ttl;
            let lease = client
                .lease_grant(ttl_secs(ttl), None)
                .await
                .map_err(unreachable)?
                .id();
            let key = self.key(node);
            let value = addr.to_string();
            // Only if no live node holds the name: a dead one's key is gone with its lease.
            let txn = Txn::new()
                .when([Compare::create_revision(key.as_str(), CompareOp::Equal, 0)])
                .and_then([TxnOp::put(
                    key.as_str(),
                    value.as_str(),
                    Some(PutOptions::new().with_lease(lease)),
                )]);
            let done = client.txn(txn).await.map_err(unreachable)?;
            if !done.succeeded() {
                let _ = client.lease_revoke(lease).await;
                return Err(RegistrarError::Taken(node.to_owned()));
            }
            write(&self.inner.nodes).insert(node.to_owned(), addr);
            let keeper = tokio::spawn(keep_alive(
                client,
                key,
                value,
                lease,
                ttl,
                Arc::downgrade(&self.inner),
                node.to_owned(),
            ));
            if let Some((_, old)) =
                lock(&self.inner.leases).insert(node.to_owned(), (lease, keeper.abort_handle()))
            {
                old.abort();
            }
            Ok(())
        })
    }

    fn resolve<'a>(
        &'a self,
        node: &'a str,
    ) -> BoxFuture<'a, Result<Option<SocketAddr>, RegistrarError>> {
        Box::pin(async move {
            check_name(node)?;
            if let Some(&addr) = read(&self.inner.nodes).get(node) {
                return Ok(Some(addr));
            }
            // Not seen by the watch (yet): ask.
            let mut client = self.inner.client.clone();
            let found = client
                .get(self.key(node), None)
                .await
                .map_err(unreachable)?;
            Ok(found
                .kvs()
                .first()
                .and_then(|kv| entry(&self.inner.options.prefix, kv.key(), kv.value()))
                .map(|(_, addr)| addr))
        })
    }

    fn withdraw(&self, node: &str) {
        let Some((lease, keeper)) = lock(&self.inner.leases).remove(node) else {
            return;
        };
        keeper.abort();
        write(&self.inner.nodes).remove(node);
        let mut client = self.inner.client.clone();
        tokio::spawn(async move {
            let _ = client.lease_revoke(lease).await;
        });
    }
}
