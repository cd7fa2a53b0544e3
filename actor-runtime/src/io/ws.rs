//! WebSocket and server-sent-event connections as actors (feature `http`).
//!
//! Each connection runs as an actor of the user's type, started with a handle to push to the
//! client. Any actor holding the connection actor's address can push through it; the client
//! going away stops the actor with reason `Normal`, so monitors and links see the end of the
//! connection as a typed exit.

use std::convert::Infallible;
use std::fmt;

use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;

use crate::actor::{Actor, spawn};
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
/// Messages (and frames) larger than [`WS_MAX_MESSAGE`] (1 MiB) close the connection before
/// they are buffered whole; [`websocket_limited`] sets another limit.
pub fn websocket<C, A, F>(upgrade: WebSocketUpgrade, make_args: A, to_msg: F) -> Response
where
    C: Actor,
    A: FnOnce(WsConn) -> C::Args + Send + 'static,
    F: Fn(Message) -> C::Msg + Send + Sync + 'static,
{
    websocket_limited::<C, A, F>(upgrade, WS_MAX_MESSAGE, make_args, to_msg)
}

/// The largest WebSocket message [`websocket`] accepts: 1 MiB.
pub const WS_MAX_MESSAGE: usize = 1 << 20;

/// As [`websocket`], accepting messages of at most `max_message` bytes. A connection then holds
/// at most the actor's mailbox capacity × `max_message` in messages not yet handled: size the
/// actor's mailbox and this limit together.
pub fn websocket_limited<C, A, F>(
    upgrade: WebSocketUpgrade,
    max_message: usize,
    make_args: A,
    to_msg: F,
) -> Response
where
    C: Actor,
    A: FnOnce(WsConn) -> C::Args + Send + 'static,
    F: Fn(Message) -> C::Msg + Send + Sync + 'static,
{
    upgrade
        .max_message_size(max_message)
        .max_frame_size(max_message)
        .on_upgrade(move |socket| run_websocket::<C, A, F>(socket, make_args, to_msg))
        .into_response()
}

async fn run_websocket<C, A, F>(socket: WebSocket, make_args: A, to_msg: F)
where
    C: Actor,
    A: FnOnce(WsConn) -> C::Args + Send + 'static,
    F: Fn(Message) -> C::Msg + Send + Sync + 'static,
{
    let (mut sink, mut stream) = socket.split();
    let (out, mut outgoing) = mpsc::channel::<Message>(64);
    let addr = match spawn::<C>(make_args(WsConn { out })).await {
        Ok(addr) => addr,
        Err(e) => {
            tracing::warn!(error = %e, "websocket actor failed to start");
            let _ = sink.send(Message::Close(None)).await;
            return;
        }
    };
    let (actor_gone, mut gone) = tokio::sync::oneshot::channel::<()>();
    let writer = tokio::spawn(async move {
        loop {
            tokio::select! {
                message = outgoing.recv() => {
                    let Some(message) = message else { break };
                    if sink.send(message).await.is_err() {
                        return;
                    }
                }
                _ = &mut gone => {
                    // The actor stopped: send what it queued, then close.
                    outgoing.close();
                    while let Some(message) = outgoing.recv().await {
                        if sink.send(message).await.is_err() {
                            return;
                        }
                    }
                    break;
                }
            }
        }
        let _ = sink.send(Message::Close(None)).await;
    });
    let reason = loop {
        let next = tokio::select! {
            next = stream.next() => next,
            _ = addr.wait_for_exit() => break None,
        };
        match next {
            Some(Ok(Message::Close(_))) | None => break Some(ExitReason::Normal),
            // Pings are answered by the protocol layer.
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            Some(Ok(message)) => {
                if addr.send(to_msg(message)).await.is_err() {
                    break None;
                }
            }
            Some(Err(e)) => break Some(ExitReason::error(format!("websocket error: {e}"))),
        }
    };
    if let Some(reason) = reason {
        // Messages already in the actor's mailbox are still handled.
        addr.finish(reason);
    }
    addr.wait_for_exit().await;
    let _ = actor_gone.send(());
    let mut writer = writer;
    if tokio::time::timeout(std::time::Duration::from_secs(5), &mut writer)
        .await
        .is_err()
    {
        writer.abort();
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
struct StopOnDrop<C: Actor>(crate::addr::Addr<C>);

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
    let task = tokio::spawn(body(tx));
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
