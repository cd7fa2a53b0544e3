//! WebSocket and server-sent-event connections as actors (feature `http`).
//!
//! Each connection runs as an actor of the user's type, started with a handle to push to the
//! client. Any actor holding the connection actor's address can push through it; the client
//! going away stops the actor with reason `Normal`, so monitors and links see the end of the
//! connection as a typed exit.

use std::convert::Infallible;
use std::fmt;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;

use super::conn_loop::{self, Flow, Source, Writer, WriterConfig};
use crate::actor::{Actor, spawn};
use crate::addr::Addr;
use crate::exit::ExitReason;

pub use axum::extract::ws::Message as WsMessage;

/// A WebSocket connection's sending side, given to its actor.
#[derive(Clone)]
pub struct WsConn {
    out: mpsc::Sender<Message>,
}

/// The client has gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Disconnected;

impl fmt::Display for Disconnected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the client has disconnected")
    }
}

impl std::error::Error for Disconnected {}

impl WsConn {
    /// Sends a text message, waiting while 64 messages are already queued for a slow client.
    ///
    /// # Errors
    /// The client has gone.
    pub async fn send_text(&self, text: impl Into<String>) -> Result<(), Disconnected> {
        let text: String = text.into();
        self.send(Message::Text(Utf8Bytes::from(text))).await
    }

    /// Sends any WebSocket message.
    ///
    /// # Errors
    /// The client has gone.
    pub async fn send(&self, message: Message) -> Result<(), Disconnected> {
        self.out.send(message).await.map_err(|_| Disconnected)
    }
}

impl fmt::Debug for WsConn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsConn").finish_non_exhaustive()
    }
}

/// Upgrades an axum request to a WebSocket served by a new actor `C`.
///
/// `make_args` builds the actor's start argument from its [`WsConn`] (add whatever the actor
/// needs, e.g. a hub to register with). Each message from the client becomes `to_msg(message)`,
/// delivered with the waiting send (a slow actor slows the reading). The client's close stops
/// the actor with `Normal`; a protocol error with `Error`; the actor's stop closes the socket.
///
/// The limits are [`WsLimits::default`]: messages over 1 MiB close the connection before they
/// are buffered whole, the server pings every 20 s and closes a connection silent for 60 s (no
/// message, no pong), and a client that does not take a frame within 30 s is disconnected;
/// [`websocket_limited`] sets others.
pub fn websocket<C, A, F>(upgrade: WebSocketUpgrade, make_args: A, to_msg: F) -> Response
where
    C: Actor,
    A: FnOnce(WsConn) -> C::Args + Send + 'static,
    F: Fn(Message) -> C::Msg + Send + Sync + 'static,
{
    websocket_limited::<C, A, F>(upgrade, WsLimits::default(), make_args, to_msg)
}

/// What one WebSocket connection may make the server hold, and for how long.
///
/// A connection holds at most the actor's mailbox capacity × `max_message` in messages not yet
/// handled, plus 64 queued outgoing messages: size the actor's mailbox and `max_message`
/// together.
#[derive(Clone, Copy, Debug)]
pub struct WsLimits {
    /// The largest message (and frame) accepted; larger ones close the connection.
    pub max_message: usize,
    /// The server pings the client this often; zero: never.
    pub ping_every: Duration,
    /// A connection from which nothing (no message, no pong) arrives for this long is closed:
    /// a stalled or vanished client cannot hold it.
    pub silence_limit: Duration,
    /// A client that does not take a frame within this long is disconnected.
    pub write_timeout: Duration,
}

impl Default for WsLimits {
    /// 1 MiB messages, a ping every 20 s, 60 s of silence, 30 s to take a frame.
    fn default() -> Self {
        WsLimits {
            max_message: 1 << 20,
            ping_every: Duration::from_secs(20),
            silence_limit: Duration::from_secs(60),
            write_timeout: Duration::from_secs(30),
        }
    }
}

/// As [`websocket`], within `limits`.
pub fn websocket_limited<C, A, F>(
    upgrade: WebSocketUpgrade,
    limits: WsLimits,
    make_args: A,
    to_msg: F,
) -> Response
where
    C: Actor,
    A: FnOnce(WsConn) -> C::Args + Send + 'static,
    F: Fn(Message) -> C::Msg + Send + Sync + 'static,
{
    upgrade
        .max_message_size(limits.max_message)
        .max_frame_size(limits.max_message)
        .on_upgrade(move |socket| run_websocket::<C, A, F>(socket, limits, make_args, to_msg))
        .into_response()
}

async fn run_websocket<C, A, F>(socket: WebSocket, limits: WsLimits, make_args: A, to_msg: F)
where
    C: Actor,
    A: FnOnce(WsConn) -> C::Args + Send + 'static,
    F: Fn(Message) -> C::Msg + Send + Sync + 'static,
{
    let (mut sink, stream) = socket.split();
    let (out, outgoing) = mpsc::channel::<Message>(64);
    let addr = match spawn::<C>(make_args(WsConn { out })).await {
        Ok(addr) => addr,
        Err(e) => {
            tracing::warn!(error = %e, "websocket actor failed to start");
            let _ = sink.send(Message::Close(None)).await;
            return;
        }
    };
    let writer = Writer::spawn(
        sink,
        outgoing,
        WriterConfig {
            write_timeout: limits.write_timeout,
            keepalive: Some((limits.ping_every, || Message::Ping(Bytes::new()))),
            farewell: Some(|| Message::Close(None)),
            on_timeout: Box::new(|| {}),
        },
    );
    let source = WsSource {
        stream,
        silence_limit: limits.silence_limit,
        to_msg,
    };
    conn_loop::serve(addr, source, writer).await;
}

/// The reading side of one WebSocket connection.
struct WsSource<F> {
    stream: futures_util::stream::SplitStream<WebSocket>,
    silence_limit: Duration,
    to_msg: F,
}

impl<C, F> Source<C> for WsSource<F>
where
    C: Actor,
    F: Fn(Message) -> C::Msg + Send + Sync + 'static,
{
    async fn step(&mut self, addr: &Addr<C>) -> Flow {
        let Ok(next) = tokio::time::timeout(self.silence_limit, self.stream.next()).await else {
            return Flow::End(ExitReason::error(format!(
                "websocket silent for {:?}: no message, no pong",
                self.silence_limit
            )));
        };
        match next {
            Some(Ok(Message::Close(_))) | None => Flow::End(ExitReason::Normal),
            // Pings are answered by the protocol layer; a pong only proves the client lives.
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => Flow::More,
            Some(Ok(message)) => {
                if addr.send((self.to_msg)(message)).await.is_err() {
                    Flow::ActorGone
                } else {
                    Flow::More
                }
            }
            Some(Err(e)) => Flow::End(ExitReason::error(format!("websocket error: {e}"))),
        }
    }
}

/// A server-sent-events connection's sending side, given to its actor.
#[derive(Clone)]
pub struct SseConn {
    out: mpsc::Sender<SseEvent>,
}

impl SseConn {
    /// Sends an event with `data`, waiting while 64 events are queued for a slow client.
    ///
    /// # Errors
    /// The client has gone.
    pub async fn send(&self, data: impl AsRef<str>) -> Result<(), Disconnected> {
        self.send_event(SseEvent::default().data(data.as_ref()))
            .await
    }

    /// Sends a fully built event (name, id, retry).
    ///
    /// # Errors
    /// The client has gone.
    pub async fn send_event(&self, event: SseEvent) -> Result<(), Disconnected> {
        self.out.send(event).await.map_err(|_| Disconnected)
    }
}

impl fmt::Debug for SseConn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseConn").finish_non_exhaustive()
    }
}

/// Stops the connection actor when the response stream is dropped (the client went away).
struct StopOnDrop<C: Actor>(Addr<C>);

impl<C: Actor> Drop for StopOnDrop<C> {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// Answers an axum request with a server-sent-event stream fed by a new actor `C`, started
/// with `make_args(SseConn)`. The client going away stops the actor with `Normal`; the actor
/// stopping ends the stream.
///
/// # Errors
/// The actor failed to start: `503` with the reason.
pub async fn sse<C, A>(make_args: A) -> Response
where
    C: Actor,
    A: FnOnce(SseConn) -> C::Args + Send + 'static,
{
    let (out, mut events) = mpsc::channel::<SseEvent>(64);
    let addr = match spawn::<C>(make_args(SseConn { out })).await {
        Ok(addr) => addr,
        Err(e) => {
            return (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                format!("connection actor failed to start: {e}"),
            )
                .into_response();
        }
    };
    let guard = StopOnDrop(addr.clone());
    let stream = async_stream(move |tx| async move {
        let _guard = guard;
        loop {
            tokio::select! {
                biased;
                event = events.recv() => match event {
                    Some(event) => {
                        if tx.send(Ok::<_, Infallible>(event)).await.is_err() {
                            return;
                        }
                    }
                    None => return,
                },
                _ = addr.wait_for_exit() => {
                    // Send what the actor queued before it stopped, then end the stream.
                    events.close();
                    while let Some(event) = events.recv().await {
                        if tx.send(Ok(event)).await.is_err() {
                            return;
                        }
                    }
                    return;
                }
            }
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// A stream driven by a task that feeds a channel; dropping the stream drops the task's
/// receiver, which ends the task at its next send.
fn async_stream<T, Fut>(
    body: impl FnOnce(mpsc::Sender<T>) -> Fut,
) -> impl futures_util::Stream<Item = T> + Send + 'static
where
    T: Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(1);
    let task = crate::table::spawn(body(tx));
    let abort = AbortOnDrop(task.abort_handle());
    futures_util::stream::unfold((rx, abort), |(mut rx, abort)| async move {
        rx.recv().await.map(|item| (item, (rx, abort)))
    })
}

struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
