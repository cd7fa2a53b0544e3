//! A TCP server with one actor per connection, length-prefixed framing, and backpressure
//! from the connection actor's mailbox to the socket.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use bytes::BytesMut;
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::AbortHandle;
use tokio_util::codec::{Decoder, Encoder, FramedRead, FramedWrite, LengthDelimitedCodec};

use super::accept::{self, Gate, accept_next};
use super::conn_loop::{self, Flow, Source, Writer, WriterConfig};
use crate::actor::{Actor, spawn};
use crate::addr::Addr;
use crate::exit::ExitReason;

/// How long a TLS handshake may take.
#[cfg(feature = "tls")]
pub(crate) const HANDSHAKE_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// How a [`TcpServer`] listens, frames, and bounds what one peer can make it hold.
///
/// Worst case per connection, from these figures: the read buffer holds at most one frame
/// (`max_frame` + 4 bytes; the buffer grows with the bytes that arrive, never with the length
/// a header announces), frames handed to the actor and not yet handled hold at most
/// `max_buffered` bytes (default codec), and at most `outbound` frames wait for the socket.
/// Per server, multiply by `max_connections`.
#[derive(Clone, Debug)]
pub struct TcpConfig {
    /// Where to listen.
    pub addr: SocketAddr,
    /// Frames are a 4-byte big-endian length, then the payload; a header announcing more is
    /// malformed and closes the connection before any of the payload is buffered.
    pub max_frame: usize,
    /// Bytes of frames a connection may have delivered to its actor and not yet handled (the
    /// actor dropped them); beyond it the connection is not read, and TCP flow control slows
    /// the peer. Raised to `max_frame` if smaller. Applies to the default codec (`bind`,
    /// `bind_tls`); with `bind_with` the actor's mailbox bounds the frames in flight.
    pub max_buffered: usize,
    /// Outgoing frames a connection may have queued before [`Conn::send`] waits.
    pub outbound: usize,
    /// Connections open at once; more are closed at accept and counted
    /// ([`TcpStats::refused_connections`]).
    pub max_connections: usize,
    /// TLS handshakes in progress at once (`bind_tls`); more are closed and counted.
    pub max_handshakes: usize,
    /// A connection that delivers no frame for this long is closed (reason
    /// `Error("idle ...")`). `None`: never.
    pub idle_timeout: Option<Duration>,
    /// A frame the peer does not take within this long closes the connection (a peer that
    /// never reads cannot hold it).
    pub write_timeout: Duration,
}

impl TcpConfig {
    /// Frames up to 64 KiB, 1 MiB in flight per connection, 64 queued outgoing frames,
    /// 10,000 connections, 128 concurrent TLS handshakes, 60 s idle and 30 s write timeouts.
    #[must_use]
    pub fn new(addr: SocketAddr) -> Self {
        TcpConfig {
            addr,
            max_frame: 64 << 10,
            max_buffered: 1 << 20,
            outbound: 64,
            max_connections: 10_000,
            max_handshakes: 128,
            idle_timeout: Some(Duration::from_secs(60)),
            write_timeout: Duration::from_secs(30),
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
    /// Connections closed at accept because `max_connections` were open.
    pub refused_connections: u64,
    /// Connections closed at accept because `max_handshakes` were in progress.
    pub refused_handshakes: u64,
    /// Connections closed because they delivered nothing for `idle_timeout`.
    pub idle_closed: u64,
    /// Connections closed because the peer did not take a frame within `write_timeout`.
    pub write_timeouts: u64,
    /// Bytes of frames delivered to connection actors and not yet handled, now.
    pub buffered: u64,
}

#[derive(Default)]
struct Counters {
    accepted: AtomicU64,
    open: AtomicU64,
    frames: AtomicU64,
    malformed: AtomicU64,
    refused: AtomicU64,
    handshakes_failed: AtomicU64,
    idle_closed: AtomicU64,
    write_timeouts: AtomicU64,
    buffered: AtomicU64,
}

/// A running TCP server; stopped by [`TcpServer::stop`] or when dropped (open connections
/// keep running until they end).
pub struct TcpServer {
    local: SocketAddr,
    task: AbortHandle,
    counters: Arc<Counters>,
    gate: Arc<Gate>,
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
        Self::listen::<C, _, _, F>(
            config,
            Frames::new(config.max_frame),
            Some(Metered::BYTES),
            to_msg,
            None,
        )
        .await
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
        Self::listen::<C, K, O, F>(config, codec, None, to_msg, None).await
    }

    /// As [`TcpServer::bind`], over TLS (feature `tls`). A failed handshake is counted and
    /// ends only that connection.
    ///
    /// # Errors
    /// Binding failed, or the certificate and key do not match.
    #[cfg(feature = "tls")]
    pub async fn bind_tls<C, F>(
        config: &TcpConfig,
        tls: crate::tls::TlsConfig,
        to_msg: F,
    ) -> io::Result<TcpServer>
    where
        C: Actor<Args = Conn>,
        F: Fn(Bytes) -> C::Msg + Send + Sync + 'static,
    {
        Self::listen::<C, _, _, F>(
            config,
            Frames::new(config.max_frame),
            Some(Metered::BYTES),
            to_msg,
            Some(tls.acceptor(&[])?),
        )
        .await
    }

    async fn listen<C, K, O, F>(
        config: &TcpConfig,
        codec: K,
        metered: Option<Metered<K::Item>>,
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
        let listener = accept::bind(config.addr)?;
        let local = listener.local_addr()?;
        let counters = Arc::new(Counters::default());
        let gate = Gate::new(config.max_connections, config.max_handshakes);
        let to_msg = Arc::new(to_msg);
        let mut config = config.clone();
        config.max_buffered = config.max_buffered.max(config.max_frame);
        let (accept_counters, accept_gate) = (counters.clone(), gate.clone());
        let task = crate::table::spawn(async move {
            loop {
                let (stream, peer) = accept_next(&listener).await;
                accept_counters.accepted.fetch_add(1, Ordering::Relaxed);
                let Some(place) = accept_gate.admit(peer) else {
                    drop(stream);
                    continue;
                };
                let link = Link {
                    peer,
                    codec: codec.clone(),
                    metered,
                    config: config.clone(),
                    to_msg: to_msg.clone(),
                    counters: accept_counters.clone(),
                    _place: place,
                };
                match &tls {
                    None => {
                        crate::table::spawn(connection::<C, K, O, F, _>(stream, link));
                    }
                    #[cfg(feature = "tls")]
                    Some(acceptor) => {
                        let Some(handshaking) = accept_gate.handshake(peer) else {
                            drop(stream);
                            continue;
                        };
                        let acceptor = acceptor.clone();
                        crate::table::spawn(async move {
                            let handshake =
                                tokio::time::timeout(HANDSHAKE_LIMIT, acceptor.accept(stream))
                                    .await
                                    .unwrap_or_else(|_| {
                                        Err(io::Error::new(
                                            io::ErrorKind::TimedOut,
                                            "handshake timed out",
                                        ))
                                    });
                            drop(handshaking);
                            match handshake {
                                Ok(stream) => connection::<C, K, O, F, _>(stream, link).await,
                                Err(e) => {
                                    link.counters
                                        .handshakes_failed
                                        .fetch_add(1, Ordering::Relaxed);
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
            gate,
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
            refused_connections: self.gate.refused_connections.load(Ordering::Relaxed),
            refused_handshakes: self.gate.refused_handshakes.load(Ordering::Relaxed),
            idle_closed: c.idle_closed.load(Ordering::Relaxed),
            write_timeouts: c.write_timeouts.load(Ordering::Relaxed),
            buffered: c.buffered.load(Ordering::Relaxed),
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

/// Everything one connection needs, moved into its task. Holding `_place` keeps the
/// connection counted against `max_connections` until it ends.
struct Link<K: Decoder, F> {
    peer: SocketAddr,
    codec: K,
    metered: Option<Metered<K::Item>>,
    config: TcpConfig,
    to_msg: Arc<F>,
    counters: Arc<Counters>,
    _place: OwnedSemaphorePermit,
}

/// How frames of the default codec are weighed against `max_buffered`: each delivered frame
/// holds permits for its bytes until the actor drops it.
struct Metered<T> {
    weigh: fn(&T) -> usize,
    hold: fn(T, Held) -> T,
}

impl<T> Clone for Metered<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Metered<T> {}

impl Metered<Bytes> {
    const BYTES: Metered<Bytes> = Metered {
        weigh: Bytes::len,
        hold: |frame, held| Bytes::from_owner(HeldFrame { frame, _held: held }),
    };
}

/// Permits for one frame's bytes, given back (and uncounted) when the frame is dropped.
struct Held {
    _permit: OwnedSemaphorePermit,
    bytes: u64,
    counters: Arc<Counters>,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.counters
            .buffered
            .fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

/// A frame that releases its budget when its last reference goes.
struct HeldFrame {
    frame: Bytes,
    _held: Held,
}

impl AsRef<[u8]> for HeldFrame {
    fn as_ref(&self) -> &[u8] {
        &self.frame
    }
}

async fn connection<C, K, O, F, S>(stream: S, link: Link<K, F>)
where
    C: Actor<Args = Conn<O>>,
    K: FrameCodec<O>,
    O: Send + 'static,
    F: Fn(K::Item) -> C::Msg + Send + Sync + 'static,
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let Link {
        peer,
        codec,
        metered,
        config,
        to_msg,
        counters,
        _place,
    } = link;
    let (read, write) = tokio::io::split(stream);
    let (out, outgoing) = mpsc::channel::<O>(config.outbound.max(1));
    let addr: Addr<C> = match spawn::<C>(Conn { peer, out }).await {
        Ok(addr) => addr,
        Err(e) => {
            counters.refused.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%peer, error = %e, "connection actor failed to start");
            return;
        }
    };
    let _open = Open::count(&counters);
    let timeouts = counters.clone();
    let writer = Writer::spawn(
        FramedWrite::new(write, codec.clone()),
        outgoing,
        WriterConfig {
            write_timeout: config.write_timeout,
            keepalive: None,
            farewell: None,
            on_timeout: Box::new(move || {
                timeouts.write_timeouts.fetch_add(1, Ordering::Relaxed);
            }),
        },
    );
    let source = TcpSource {
        peer,
        frames: FramedRead::new(read, codec),
        idle: config.idle_timeout,
        metered,
        budget: Arc::new(Semaphore::new(config.max_buffered)),
        to_msg,
        counters,
    };
    conn_loop::serve(addr, source, writer).await;
}

/// Counts a connection as open until it ends, also when its task unwinds.
struct Open(Arc<Counters>);

impl Open {
    fn count(counters: &Arc<Counters>) -> Open {
        counters.open.fetch_add(1, Ordering::Relaxed);
        Open(counters.clone())
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The reading side of one TCP connection.
struct TcpSource<R, K: Decoder, F> {
    peer: SocketAddr,
    frames: FramedRead<R, K>,
    idle: Option<Duration>,
    metered: Option<Metered<K::Item>>,
    /// Bytes of delivered frames not yet dropped by the actor (default codec).
    budget: Arc<Semaphore>,
    to_msg: Arc<F>,
    counters: Arc<Counters>,
}

impl<C, R, K, F> Source<C> for TcpSource<R, K, F>
where
    C: Actor,
    R: AsyncRead + Unpin + Send,
    K: Decoder<Item: Send, Error: fmt::Display + Send + 'static> + Send,
    F: Fn(K::Item) -> C::Msg + Send + Sync + 'static,
{
    async fn step(&mut self, addr: &Addr<C>) -> Flow {
        let counters = &self.counters;
        let frame = match next_frame(&mut self.frames, self.idle).await {
            Read::Frame(frame) => frame,
            Read::Malformed(e) => {
                counters.malformed.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(peer = %self.peer, error = %e, "malformed frame; closing the connection");
                return Flow::End(ExitReason::error(format!("malformed frame: {e}")));
            }
            Read::Failed(e) => {
                tracing::debug!(peer = %self.peer, error = %e, "connection failed");
                return Flow::End(ExitReason::error(format!("connection failed: {e}")));
            }
            Read::Idle(after) => {
                counters.idle_closed.fetch_add(1, Ordering::Relaxed);
                return Flow::End(ExitReason::error(format!("idle for {after:?}")));
            }
            Read::Closed => return Flow::End(ExitReason::Normal),
        };
        let frame = match self.metered {
            Some(m) => {
                let bytes = (m.weigh)(&frame);
                // Waits while the actor holds `max_buffered` bytes of frames: the socket is
                // not read meanwhile. Raced against the actor's exit by the loop.
                let Ok(permit) = self
                    .budget
                    .clone()
                    .acquire_many_owned(u32::try_from(bytes).unwrap_or(u32::MAX))
                    .await
                else {
                    return Flow::ActorGone;
                };
                counters.buffered.fetch_add(bytes as u64, Ordering::Relaxed);
                let held = Held {
                    _permit: permit,
                    bytes: bytes as u64,
                    counters: counters.clone(),
                };
                (m.hold)(frame, held)
            }
            None => frame,
        };
        if addr.send((self.to_msg)(frame)).await.is_err() {
            return Flow::ActorGone;
        }
        counters.frames.fetch_add(1, Ordering::Relaxed);
        Flow::More
    }
}

/// What reading a connection gave.
enum Read<T, E> {
    Frame(T),
    /// The bytes do not decode: the peer's fault.
    Malformed(E),
    /// The socket failed (a reset, a broken pipe): nobody's frame was malformed.
    Failed(io::Error),
    Idle(Duration),
    Closed,
}

async fn next_frame<R, K>(
    frames: &mut FramedRead<R, K>,
    idle: Option<Duration>,
) -> Read<K::Item, K::Error>
where
    R: AsyncRead + Unpin,
    K: Decoder<Error: fmt::Display + 'static>,
{
    let next = match idle {
        Some(limit) => match tokio::time::timeout(limit, frames.next()).await {
            Ok(next) => next,
            Err(_) => return Read::Idle(limit),
        },
        None => frames.next().await,
    };
    match next {
        Some(Ok(frame)) => Read::Frame(frame),
        Some(Err(e)) => match io_failure(&e) {
            Some(io) => Read::Failed(io),
            None => Read::Malformed(e),
        },
        None => Read::Closed,
    }
}

/// An I/O error of the socket, told apart from a decoding error: codec errors are built from
/// `io::Error` of kind `InvalidData` (the default codec) or are the user's own.
fn io_failure<E: fmt::Display + 'static>(error: &E) -> Option<io::Error> {
    let any: &dyn std::any::Any = error;
    let io = any.downcast_ref::<io::Error>()?;
    (io.kind() != io::ErrorKind::InvalidData).then(|| io::Error::new(io.kind(), io.to_string()))
}

/// A codec the TCP bridge can frame a connection with: any tokio-util `Decoder` and
/// `Encoder<O>` that can be shared between connections and moved across threads. Implemented
/// for every such codec; users never implement it.
pub trait FrameCodec<O>:
    Decoder<Item: Send, Error: fmt::Display + Send + 'static>
    + Encoder<O, Error: Send>
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<K, O> FrameCodec<O> for K where
    K: Decoder<Item: Send, Error: fmt::Display + Send + 'static>
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
        // tokio-util's codec reserves the whole announced length as soon as it has read a
        // header: a peer announcing `max_frame` and then stalling would pin it. Hand it the
        // buffer only once the whole frame is there, so the buffer grows with what arrives.
        if let Some(header) = src.get(..4) {
            let announced = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
            let announced = usize::try_from(announced).unwrap_or(usize::MAX);
            if announced > self.0.max_frame_length() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "frame of {announced} bytes announced, the limit is {}",
                        self.0.max_frame_length()
                    ),
                ));
            }
            if src.len() < 4 + announced {
                return Ok(None);
            }
        }
        Ok(self.0.decode(src)?.map(BytesMut::freeze))
    }
}

impl Encoder<Bytes> for Frames {
    type Error = io::Error;

    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> Result<(), io::Error> {
        self.0.encode(item, dst)
    }
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;
    use tokio_util::codec::Decoder;

    use super::Frames;

    #[test]
    fn a_header_does_not_reserve_the_frame_it_announces() {
        let mut codec = Frames::new(64 << 10);
        let mut src = BytesMut::with_capacity(64);
        src.extend_from_slice(&(60u32 << 10).to_be_bytes());
        src.extend_from_slice(b"only ten b");
        assert!(matches!(codec.decode(&mut src), Ok(None)));
        assert!(
            src.capacity() < 1024,
            "the buffer grew to {} bytes for 14 received",
            src.capacity()
        );
    }

    #[test]
    fn a_header_above_the_limit_is_an_error_at_once() {
        let mut codec = Frames::new(64 << 10);
        let mut src = BytesMut::new();
        src.extend_from_slice(&(8u32 << 20).to_be_bytes());
        assert!(codec.decode(&mut src).is_err());
    }

    #[test]
    fn a_whole_frame_decodes() {
        let mut codec = Frames::new(64 << 10);
        let mut src = BytesMut::new();
        src.extend_from_slice(&3u32.to_be_bytes());
        src.extend_from_slice(b"abc");
        assert_eq!(
            codec.decode(&mut src).expect("frame").as_deref(),
            Some(&b"abc"[..])
        );
    }
}
