//! A TCP server with one actor per connection, length-prefixed framing, and backpressure
//! from the connection actor's mailbox to the socket.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use bytes::BytesMut;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tokio_util::codec::{Decoder, Encoder, FramedRead, FramedWrite, LengthDelimitedCodec};

use crate::actor::{Actor, spawn};
use crate::addr::Addr;
use crate::exit::ExitReason;

/// How long a closing connection may take to write the frames its actor queued.
const DRAIN_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);
/// How long a TLS handshake may take.
#[cfg(feature = "tls")]
pub(crate) const HANDSHAKE_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The next connection. A failed `accept` (e.g. out of file descriptors) is logged and retried
/// after a pause that doubles up to 1 s, so an accept loop neither spins nor floods the log.
pub(crate) async fn accept_next(listener: &TcpListener) -> (tokio::net::TcpStream, SocketAddr) {
    let mut failures = 0u32;
    loop {
        match listener.accept().await {
            Ok(accepted) => return accepted,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                let millis = 10u64.saturating_mul(1 << failures.min(7)).min(1000);
                failures += 1;
                tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
            }
        }
    }
}

/// How a [`TcpServer`] listens and frames.
#[derive(Clone, Debug)]
pub struct TcpConfig {
    /// Where to listen.
    pub addr: SocketAddr,
    /// Frames are a 4-byte big-endian length, then the payload; longer payloads are malformed.
    pub max_frame: usize,
    /// Outgoing frames a connection may have queued before [`Conn::send`] waits.
    pub outbound: usize,
}

impl TcpConfig {
    /// Frames up to 8 MiB, 64 queued outgoing frames.
    #[must_use]
    pub fn new(addr: SocketAddr) -> Self {
        TcpConfig {
            addr,
            max_frame: 8 << 20,
            outbound: 64,
        }
    }
}

/// The connection a connection actor is started with: its peer, and the way to write frames
/// of type `O` (`Bytes` with the default length-prefixed codec).
pub struct Conn<O = Bytes> {
    peer: SocketAddr,
    out: mpsc::Sender<O>,
}

impl<O> Clone for Conn<O> {
    fn clone(&self) -> Self {
        Conn {
            peer: self.peer,
            out: self.out.clone(),
        }
    }
}

/// The connection has closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnClosed;

impl fmt::Display for ConnClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection closed")
    }
}

impl std::error::Error for ConnClosed {}

impl<O> Conn<O> {
    /// The peer's address.
    #[must_use]
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Queues a frame for the socket, waiting while `outbound` frames are already queued (the
    /// peer reads slowly).
    ///
    /// # Errors
    /// The connection has closed.
    pub async fn send(&self, frame: impl Into<O>) -> Result<(), ConnClosed> {
        self.out.send(frame.into()).await.map_err(|_| ConnClosed)
    }

    /// Queues a frame if there is room now; `Ok(false)` if the queue is full.
    ///
    /// # Errors
    /// The connection has closed.
    pub fn try_send(&self, frame: impl Into<O>) -> Result<bool, ConnClosed> {
        match self.out.try_send(frame.into()) {
            Ok(()) => Ok(true),
            Err(mpsc::error::TrySendError::Full(_)) => Ok(false),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(ConnClosed),
        }
    }
}

impl<O> fmt::Debug for Conn<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conn")
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

/// Counts of a [`TcpServer`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpStats {
    /// Connections accepted.
    pub accepted: u64,
    /// Connections open now.
    pub open: u64,
    /// Frames delivered to connection actors.
    pub frames: u64,
    /// Connections closed for a malformed or oversized frame.
    pub malformed: u64,
    /// Connections whose actor failed to start.
    pub refused: u64,
    /// TLS handshakes that failed (`bind_tls`).
    pub handshakes_failed: u64,
}

#[derive(Default)]
struct Counters {
    accepted: AtomicU64,
    open: AtomicU64,
    frames: AtomicU64,
    malformed: AtomicU64,
    refused: AtomicU64,
    handshakes_failed: AtomicU64,
}

/// A running TCP server; stopped by [`TcpServer::stop`] or when dropped (open connections
/// keep running until they end).
pub struct TcpServer {
    local: SocketAddr,
    task: AbortHandle,
    counters: Arc<Counters>,
}

impl fmt::Debug for TcpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpServer")
            .field("local", &self.local)
            .finish_non_exhaustive()
    }
}

impl TcpServer {
    /// Listens on `config.addr`; every connection gets its own actor `C`, started with its
    /// [`Conn`]. Each incoming frame becomes a message with `to_msg` (e.g.
    /// `|frame| ChatMsg::Frame { frame }`) and is delivered with the *waiting* send: while the
    /// actor's mailbox is full the connection is not read, and TCP flow control slows the peer.
    ///
    /// The connection's end stops its actor: reason `Normal` when the peer closes, `Error` for
    /// a malformed frame. When the actor stops, the connection closes.
    ///
    /// # Errors
    /// Binding failed.
    pub async fn bind<C, F>(config: &TcpConfig, to_msg: F) -> io::Result<TcpServer>
    where
        C: Actor<Args = Conn>,
        F: Fn(Bytes) -> C::Msg + Send + Sync + 'static,
    {
        Self::listen::<C, _, _, F>(config, Frames::new(config.max_frame), to_msg, None).await
    }

    /// As [`TcpServer::bind`], with a user codec (any tokio-util `Decoder` and `Encoder`):
    /// each decoded item becomes `to_msg(item)`; the actor writes items of type `O` through
    /// its `Conn<O>`. A decoding error ends the connection like a malformed frame.
    ///
    /// # Errors
    /// Binding failed.
    pub async fn bind_with<C, K, O, F>(
        config: &TcpConfig,
        codec: K,
        to_msg: F,
    ) -> io::Result<TcpServer>
    where
        C: Actor<Args = Conn<O>>,
        K: FrameCodec<O>,
        O: Send + 'static,
        F: Fn(K::Item) -> C::Msg + Send + Sync + 'static,
    {
        Self::listen::<C, K, O, F>(config, codec, to_msg, None).await
    }

    /// As [`TcpServer::bind`], over TLS (feature `tls`). A failed handshake is counted and
    /// ends only that connection.
    ///
    /// # Errors
    /// Binding failed, or the certificate and key do not match.
    #[cfg(feature = "tls")]
    pub async fn bind_tls<C, F>(
        config: &TcpConfig,
        tls: super::tls::TlsConfig,
        to_msg: F,
    ) -> io::Result<TcpServer>
    where
        C: Actor<Args = Conn>,
        F: Fn(Bytes) -> C::Msg + Send + Sync + 'static,
    {
        Self::listen::<C, _, _, F>(
            config,
            Frames::new(config.max_frame),
            to_msg,
            Some(tls.acceptor(&[])?),
        )
        .await
    }

    async fn listen<C, K, O, F>(
        config: &TcpConfig,
        codec: K,
        to_msg: F,
        #[cfg(feature = "tls")] tls: Option<tokio_rustls::TlsAcceptor>,
        #[cfg(not(feature = "tls"))] tls: Option<std::convert::Infallible>,
    ) -> io::Result<TcpServer>
    where
        C: Actor<Args = Conn<O>>,
        K: FrameCodec<O>,
        O: Send + 'static,
        F: Fn(K::Item) -> C::Msg + Send + Sync + 'static,
    {
        let listener = TcpListener::bind(config.addr).await?;
        let local = listener.local_addr()?;
        let counters = Arc::new(Counters::default());
        let to_msg = Arc::new(to_msg);
        let config = config.clone();
        let accept_counters = counters.clone();
        let task = tokio::spawn(async move {
            loop {
                let (stream, peer) = accept_next(&listener).await;
                accept_counters.accepted.fetch_add(1, Ordering::Relaxed);
                let (config, to_msg, counters, codec) = (
                    config.clone(),
                    to_msg.clone(),
                    accept_counters.clone(),
                    codec.clone(),
                );
                match &tls {
                    None => {
                        tokio::spawn(connection::<C, K, O, F, _>(
                            stream, peer, codec, config, to_msg, counters,
                        ));
                    }
                    #[cfg(feature = "tls")]
                    Some(acceptor) => {
                        let acceptor = acceptor.clone();
                        tokio::spawn(async move {
                            match tokio::time::timeout(HANDSHAKE_LIMIT, acceptor.accept(stream))
                                .await
                                .unwrap_or_else(|_| {
                                    Err(io::Error::new(
                                        io::ErrorKind::TimedOut,
                                        "handshake timed out",
                                    ))
                                }) {
                                Ok(stream) => {
                                    connection::<C, K, O, F, _>(
                                        stream, peer, codec, config, to_msg, counters,
                                    )
                                    .await;
                                }
                                Err(e) => {
                                    counters.handshakes_failed.fetch_add(1, Ordering::Relaxed);
                                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                                }
                            }
                        });
                    }
                    #[cfg(not(feature = "tls"))]
                    Some(never) => match *never {},
                }
            }
        })
        .abort_handle();
        Ok(TcpServer {
            local,
            task,
            counters,
        })
    }

    /// The bound address.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The server's counters.
    #[must_use]
    pub fn stats(&self) -> TcpStats {
        let c = &self.counters;
        TcpStats {
            accepted: c.accepted.load(Ordering::Relaxed),
            open: c.open.load(Ordering::Relaxed),
            frames: c.frames.load(Ordering::Relaxed),
            malformed: c.malformed.load(Ordering::Relaxed),
            refused: c.refused.load(Ordering::Relaxed),
            handshakes_failed: c.handshakes_failed.load(Ordering::Relaxed),
        }
    }

    /// Stops accepting connections.
    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for TcpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn connection<C, K, O, F, S>(
    stream: S,
    peer: SocketAddr,
    codec: K,
    config: TcpConfig,
    to_msg: Arc<F>,
    counters: Arc<Counters>,
) where
    C: Actor<Args = Conn<O>>,
    K: FrameCodec<O>,
    O: Send + 'static,
    F: Fn(K::Item) -> C::Msg + Send + Sync + 'static,
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (read, write) = tokio::io::split(stream);
    let (out, mut outgoing) = mpsc::channel::<O>(config.outbound.max(1));
    let addr: Addr<C> = match spawn::<C>(Conn { peer, out }).await {
        Ok(addr) => addr,
        Err(e) => {
            counters.refused.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%peer, error = %e, "connection actor failed to start");
            return;
        }
    };
    counters.open.fetch_add(1, Ordering::Relaxed);
    let (actor_gone, mut gone) = tokio::sync::oneshot::channel::<()>();
    let writer_codec = codec.clone();
    let writer = tokio::spawn(async move {
        let mut sink = FramedWrite::new(write, writer_codec);
        loop {
            tokio::select! {
                frame = outgoing.recv() => {
                    let Some(frame) = frame else { break };
                    if sink.send(frame).await.is_err() {
                        break;
                    }
                }
                _ = &mut gone => {
                    // The actor stopped: refuse new frames (clones of its `Conn` elsewhere
                    // get `ConnClosed`), write what is queued, then close.
                    outgoing.close();
                    while let Some(frame) = outgoing.recv().await {
                        if sink.send(frame).await.is_err() {
                            break;
                        }
                    }
                    break;
                }
            }
        }
    });
    let mut frames = FramedRead::new(read, codec);
    let reason = loop {
        let next = tokio::select! {
            next = frames.next() => next,
            _ = addr.wait_for_exit() => break None,
        };
        match next {
            Some(Ok(frame)) => {
                if addr.send(to_msg(frame)).await.is_err() {
                    break None;
                }
                counters.frames.fetch_add(1, Ordering::Relaxed);
            }
            Some(Err(e)) => {
                counters.malformed.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(%peer, error = %e, "malformed frame; closing the connection");
                break Some(ExitReason::error(format!("malformed frame: {e}")));
            }
            None => break Some(ExitReason::Normal),
        }
    };
    if let Some(reason) = reason {
        // Frames already in the actor's mailbox are still handled.
        addr.finish(reason);
    }
    addr.wait_for_exit().await;
    let _ = actor_gone.send(());
    // A peer that stopped reading must not keep the connection (and its task) forever.
    let mut writer = writer;
    if tokio::time::timeout(DRAIN_LIMIT, &mut writer)
        .await
        .is_err()
    {
        writer.abort();
    }
    counters.open.fetch_sub(1, Ordering::Relaxed);
}

/// A codec the TCP bridge can frame a connection with: any tokio-util `Decoder` and
/// `Encoder<O>` that can be shared between connections and moved across threads. Implemented
/// for every such codec; users never implement it.
pub trait FrameCodec<O>:
    Decoder<Item: Send, Error: fmt::Display + Send>
    + Encoder<O, Error: Send>
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<K, O> FrameCodec<O> for K where
    K: Decoder<Item: Send, Error: fmt::Display + Send>
        + Encoder<O, Error: Send>
        + Clone
        + Send
        + Sync
        + 'static
{
}

/// The default codec: a 4-byte big-endian length, then the payload, as `Bytes`.
#[derive(Clone, Debug)]
pub struct Frames(LengthDelimitedCodec);

impl Frames {
    /// Frames of at most `max_frame` bytes.
    #[must_use]
    pub fn new(max_frame: usize) -> Self {
        Frames(
            LengthDelimitedCodec::builder()
                .max_frame_length(max_frame)
                .new_codec(),
        )
    }
}

impl Decoder for Frames {
    type Item = Bytes;
    type Error = io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, io::Error> {
        Ok(self.0.decode(src)?.map(BytesMut::freeze))
    }
}

impl Encoder<Bytes> for Frames {
    type Error = io::Error;

    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> Result<(), io::Error> {
        self.0.encode(item, dst)
    }
}
