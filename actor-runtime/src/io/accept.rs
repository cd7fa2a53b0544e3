//! Listening and accepting, shared by the TCP and HTTP(S) bridges: a deep listen backlog, a
//! cap on open connections and on TLS handshakes in progress, each refusal counted.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Connections the kernel queues before `accept`: a burst of connects is not left waiting
/// for SYN retries (the OS default backlog of 128 overflows at a burst of a few hundred).
const BACKLOG: u32 = 4096;

/// Binds a listener on `addr` with a deep backlog.
pub(crate) fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// The next connection. A failed `accept` (e.g. out of file descriptors) is logged and retried
/// after a pause that doubles up to 1 s, so an accept loop neither spins nor floods the log.
pub(crate) async fn accept_next(listener: &TcpListener) -> (TcpStream, SocketAddr) {
    let mut millis = 5;
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                // Small replies go out at once: with Nagle's algorithm a second small write
                // waits for the peer to acknowledge the first, which a peer delaying its
                // acknowledgements holds for up to 40 ms.
                if let Err(e) = stream.set_nodelay(true) {
                    tracing::debug!(error = %e, "TCP_NODELAY not set");
                }
                return (stream, peer);
            }
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(millis)).await;
                millis = (millis * 2).min(1000);
            }
        }
    }
}

/// The caps of one server: open connections and TLS handshakes in progress.
#[derive(Debug)]
pub(crate) struct Gate {
    connections: Arc<Semaphore>,
    #[cfg(feature = "tls")]
    handshakes: Arc<Semaphore>,
    /// Connections closed at once because `max_connections` were open.
    pub(crate) refused_connections: AtomicU64,
    /// Connections closed at once because `max_handshakes` were in progress.
    pub(crate) refused_handshakes: AtomicU64,
}

impl Gate {
    pub(crate) fn new(max_connections: usize, max_handshakes: usize) -> Arc<Gate> {
        #[cfg(not(feature = "tls"))]
        let _ = max_handshakes;
        Arc::new(Gate {
            connections: Arc::new(Semaphore::new(max_connections.max(1))),
            #[cfg(feature = "tls")]
            handshakes: Arc::new(Semaphore::new(max_handshakes.max(1))),
            refused_connections: AtomicU64::new(0),
            refused_handshakes: AtomicU64::new(0),
        })
    }

    /// A place for one more connection, held until it closes; `None` (counted) at the cap.
    pub(crate) fn admit(&self, peer: SocketAddr) -> Option<OwnedSemaphorePermit> {
        let permit = self.connections.clone().try_acquire_owned().ok();
        if permit.is_none() {
            self.refused_connections.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%peer, "connection refused: max_connections open");
        }
        permit
    }

    /// A place for one more TLS handshake, held while it runs; `None` (counted) at the cap.
    #[cfg(feature = "tls")]
    pub(crate) fn handshake(&self, peer: SocketAddr) -> Option<OwnedSemaphorePermit> {
        let permit = self.handshakes.clone().try_acquire_owned().ok();
        if permit.is_none() {
            self.refused_handshakes.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%peer, "connection refused: max_handshakes in progress");
        }
        permit
    }
}
