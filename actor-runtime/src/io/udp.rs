//! A UDP server that hands every datagram, with its source and receive time, to an actor or a
//! pool.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;
use tokio::task::AbortHandle;

use crate::error::SendError;

/// How a [`UdpServer`] binds and reads.
#[derive(Clone, Debug)]
pub struct UdpConfig {
    /// Where to listen.
    pub addr: SocketAddr,
    /// Reader tasks, each with its own socket bound with `SO_REUSEPORT` (Unix), so the kernel
    /// spreads datagrams over them. At least 1.
    pub readers: usize,
    /// The socket receive buffer (`SO_RCVBUF`) in bytes, if not the system default.
    pub recv_buffer: Option<usize>,
    /// Datagrams longer than this are counted as oversized and dropped.
    pub max_datagram: usize,
}

impl UdpConfig {
    /// One reader, the system's receive buffer, datagrams up to 64 KiB.
    #[must_use]
    pub fn new(addr: SocketAddr) -> Self {
        UdpConfig {
            addr,
            readers: 1,
            recv_buffer: None,
            max_datagram: 65_507,
        }
    }
}

/// One received datagram.
pub struct Datagram {
    /// The payload.
    pub payload: Vec<u8>,
    /// The sender.
    pub from: SocketAddr,
    /// When it was received.
    pub received: SystemTime,
    socket: Arc<UdpSocket>,
}

impl Datagram {
    /// Sends `payload` back to the sender from the socket that received this datagram,
    /// without waiting: an error if the socket's send buffer is full.
    ///
    /// # Errors
    /// The socket error.
    pub fn reply(&self, payload: &[u8]) -> io::Result<usize> {
        self.socket.try_send_to(payload, self.from)
    }
}

impl fmt::Debug for Datagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Datagram")
            .field("len", &self.payload.len())
            .field("from", &self.from)
            .field("received", &self.received)
            .finish_non_exhaustive()
    }
}

/// Counts of a [`UdpServer`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UdpStats {
    /// Datagrams read from the sockets.
    pub received: u64,
    /// Datagrams handed to the receiving actor.
    pub delivered: u64,
    /// Datagrams dropped because the receiving actor's (or every pool worker's) mailbox was
    /// full.
    pub shed: u64,
    /// Datagrams dropped because the receiver had stopped.
    pub undeliverable: u64,
    /// Datagrams dropped for being longer than `max_datagram`.
    pub oversized: u64,
    /// Socket errors while receiving (the reader carries on).
    pub errors: u64,
}

#[derive(Default)]
struct Counters {
    received: AtomicU64,
    delivered: AtomicU64,
    shed: AtomicU64,
    undeliverable: AtomicU64,
    oversized: AtomicU64,
    errors: AtomicU64,
}

/// A running UDP server. Stopping it (or dropping it) closes its sockets.
pub struct UdpServer {
    local: SocketAddr,
    readers: Vec<AbortHandle>,
    counters: Arc<Counters>,
}

impl fmt::Debug for UdpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpServer")
            .field("local", &self.local)
            .field("readers", &self.readers.len())
            .finish_non_exhaustive()
    }
}

fn bind_one(config: &UdpConfig) -> io::Result<UdpSocket> {
    let socket = Socket::new(
        Domain::for_address(config.addr),
        Type::DGRAM,
        Some(Protocol::UDP),
    )?;
    #[cfg(unix)]
    if config.readers > 1 {
        socket.set_reuse_port(true)?;
    }
    if let Some(size) = config.recv_buffer {
        socket.set_recv_buffer_size(size)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&config.addr.into())?;
    UdpSocket::from_std(socket.into())
}

impl UdpServer {
    /// Binds and starts reading; every datagram goes to `deliver`, which usually casts it to an
    /// actor or a pool: `UdpServer::bind(config, move |d| pool.packet(d))`.
    ///
    /// A refused delivery is counted, never fatal: `SendError::Full` as shed, a stopped
    /// receiver as undeliverable. Must be called inside a tokio runtime.
    ///
    /// # Errors
    /// Binding or configuring a socket failed.
    pub fn bind<F>(config: &UdpConfig, deliver: F) -> io::Result<UdpServer>
    where
        F: Fn(Datagram) -> Result<(), SendError> + Send + Sync + 'static,
    {
        let readers = config.readers.max(1);
        let first = bind_one(config)?;
        let local = first.local_addr()?;
        // Further readers bind the port the first one got (which matters for port 0).
        let mut sockets = vec![first];
        let rest = UdpConfig {
            addr: local,
            ..config.clone()
        };
        for _ in 1..readers {
            sockets.push(bind_one(&UdpConfig {
                readers,
                ..rest.clone()
            })?);
        }
        let counters = Arc::new(Counters::default());
        let deliver = Arc::new(deliver);
        let max = config.max_datagram;
        let readers = sockets
            .into_iter()
            .map(|socket| {
                let socket = Arc::new(socket);
                let counters = counters.clone();
                let deliver = deliver.clone();
                crate::table::spawn(read_loop(socket, max, counters, deliver)).abort_handle()
            })
            .collect();
        Ok(UdpServer {
            local,
            readers,
            counters,
        })
    }

    /// The bound address (with the actual port if 0 was asked for).
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The server's counters.
    #[must_use]
    pub fn stats(&self) -> UdpStats {
        let c = &self.counters;
        UdpStats {
            received: c.received.load(Ordering::Relaxed),
            delivered: c.delivered.load(Ordering::Relaxed),
            shed: c.shed.load(Ordering::Relaxed),
            undeliverable: c.undeliverable.load(Ordering::Relaxed),
            oversized: c.oversized.load(Ordering::Relaxed),
            errors: c.errors.load(Ordering::Relaxed),
        }
    }

    /// Stops reading and closes the sockets.
    pub fn stop(&self) {
        for r in &self.readers {
            r.abort();
        }
    }
}

impl Drop for UdpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn read_loop<F>(socket: Arc<UdpSocket>, max: usize, counters: Arc<Counters>, deliver: Arc<F>)
where
    F: Fn(Datagram) -> Result<(), SendError> + Send + Sync + 'static,
{
    // One byte more than allowed, to tell an oversized datagram from one of exactly `max`.
    let mut buf = vec![0u8; max + 1];
    // Errors in a row back off (1 ms doubling to 1 s) so a failing socket neither spins a
    // core nor floods the log; the first success resets it.
    let mut backoff = ErrorBackoff::default();
    loop {
        let (len, from) = match socket.recv_from(&mut buf).await {
            Ok(r) => {
                backoff.reset();
                r
            }
            Err(e) => {
                counters.errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, "udp receive failed");
                tokio::time::sleep(backoff.next()).await;
                continue;
            }
        };
        counters.received.fetch_add(1, Ordering::Relaxed);
        if len > max {
            counters.oversized.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%from, len, max, "oversized datagram dropped");
            continue;
        }
        let datagram = Datagram {
            payload: buf[..len].to_vec(),
            from,
            received: SystemTime::now(),
            socket: socket.clone(),
        };
        match deliver(datagram) {
            Ok(()) => counters.delivered.fetch_add(1, Ordering::Relaxed),
            Err(SendError::Full { .. }) => counters.shed.fetch_add(1, Ordering::Relaxed),
            Err(_) => counters.undeliverable.fetch_add(1, Ordering::Relaxed),
        };
    }
}

/// The pause after each of several errors in a row: 1 ms, doubling, at most 1 s.
#[derive(Debug, Default)]
pub(crate) struct ErrorBackoff {
    failures: u32,
}

impl ErrorBackoff {
    pub(crate) fn next(&mut self) -> std::time::Duration {
        let millis = 1u64 << self.failures.min(10);
        self.failures = self.failures.saturating_add(1);
        std::time::Duration::from_millis(millis.min(1000))
    }

    pub(crate) fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorBackoff;
    use std::time::Duration;

    #[test]
    fn receive_errors_back_off_doubling_to_one_second_and_reset_on_success() {
        let mut b = ErrorBackoff::default();
        let pauses: Vec<_> = (0..12).map(|_| b.next()).collect();
        assert_eq!(pauses[0], Duration::from_millis(1));
        assert_eq!(pauses[1], Duration::from_millis(2));
        assert_eq!(pauses[9], Duration::from_millis(512));
        assert_eq!(pauses[10], Duration::from_secs(1));
        assert_eq!(pauses[11], Duration::from_secs(1));
        b.reset();
        assert_eq!(b.next(), Duration::from_millis(1));
    }
}
