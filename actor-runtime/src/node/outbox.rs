//! One connection's outbound queue, drained by its writer.
//!
//! Three lanes, each a byte buffer of whole frames so a batch is one write: control frames
//! (heartbeats, look-ups) go first; then data (messages, replies, link and monitor signals, in
//! the order they were queued); then, one fragment per batch, the messages too large for one
//! frame. A 16 MiB message therefore delays small messages by at most one fragment's write.
//!
//! Data is bounded in bytes: a fail-fast send fails with [`SendError::Full`], a waiting send
//! waits for the writer to make room. Replies and signals are not refused: they answer or
//! report what was already admitted.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};

use bytes::{BufMut, Bytes, BytesMut};
use tokio::sync::Notify;

use super::wire::{self, Frame, HEADER, Kind};
use crate::error::{RemoteError, SendError};
use crate::exit::ExitReason;
use crate::sync::lock;

/// Bytes of data a connection queues before sends wait or fail.
pub const DEFAULT_OUTBOUND: usize = 4 << 20;

pub(crate) struct Outbox {
    state: Mutex<State>,
    wake: Notify,
    capacity: usize,
    max_frame: usize,
    max_message: usize,
    /// The id of the next large message (its fragments carry it).
    next_bulk: AtomicU64,
}

#[derive(Default)]
struct State {
    control: BytesMut,
    data: BytesMut,
    /// Large messages in fragments, taken round-robin one fragment at a time.
    bulk: VecDeque<VecDeque<Frame>>,
    bulk_bytes: usize,
    /// Senders waiting for room.
    waiting: Vec<Waker>,
    /// The writer found nothing to do and waits for a notification.
    idle: bool,
    closed: Option<ExitReason>,
}

/// What the writer takes in one go.
#[derive(Default)]
pub(crate) struct Batch {
    pub(crate) control: BytesMut,
    pub(crate) data: BytesMut,
    pub(crate) fragment: Option<Frame>,
}

impl Batch {
    pub(crate) fn is_empty(&self) -> bool {
        self.control.is_empty() && self.data.is_empty() && self.fragment.is_none()
    }
}

impl Outbox {
    pub(crate) fn new(capacity: usize, max_frame: usize, max_message: usize) -> Outbox {
        Outbox {
            state: Mutex::new(State::default()),
            wake: Notify::new(),
            capacity: capacity.max(1),
            max_frame,
            max_message,
            next_bulk: AtomicU64::new(0),
        }
    }

    /// The largest frame the other node accepts.
    pub(crate) fn max_frame(&self) -> usize {
        self.max_frame
    }

    /// Queues one control frame.
    pub(crate) fn control(&self, payload: &[u8]) {
        let mut state = lock(&self.state);
        if state.closed.is_some() {
            return;
        }
        put_frame(&mut state.control, Kind::Control, &[], payload);
        self.notify(&mut state);
    }

    /// Whether a new data message may be queued now. With `cx`, waits (registers the waker)
    /// while the queue is full; without, fails fast with [`SendError::Full`]. One large
    /// message is always let in when the queue holds no data.
    pub(crate) fn poll_room(&self, cx: Option<&mut Context<'_>>) -> Poll<Result<(), SendError>> {
        let mut state = lock(&self.state);
        if let Some(reason) = &state.closed {
            return Poll::Ready(Err(SendError::Stopped(reason.clone())));
        }
        if state.data.len() + state.bulk_bytes < self.capacity {
            return Poll::Ready(Ok(()));
        }
        match cx {
            Some(cx) => {
                state.waiting.push(cx.waker().clone());
                Poll::Pending
            }
            None => Poll::Ready(Err(SendError::Full {
                capacity: self.capacity,
            })),
        }
    }

    /// Queues a data message, `header` (built by `envelope::put_*`) then `body`; room is
    /// checked beforehand with [`Outbox::poll_room`] (replies and signals skip the check).
    pub(crate) fn data(&self, header: &[u8], body: &[u8]) -> Result<(), SendError> {
        let len = header.len() + body.len();
        if len > self.max_message {
            return Err(SendError::Remote(RemoteError::TooLarge {
                len,
                max: self.max_message,
            }));
        }
        if len + 1 > self.max_frame {
            // Copied and cut outside the lock: other senders and the writer go on meanwhile.
            let mut whole = BytesMut::with_capacity(len);
            whole.extend_from_slice(header);
            whole.extend_from_slice(body);
            let id = self.next_bulk.fetch_add(1, Ordering::Relaxed);
            let frames: VecDeque<Frame> = wire::split(id, whole.freeze(), self.max_frame).into();
            let mut state = lock(&self.state);
            if let Some(reason) = &state.closed {
                return Err(SendError::Stopped(reason.clone()));
            }
            state.bulk_bytes += len;
            state.bulk.push_back(frames);
            self.notify(&mut state);
            return Ok(());
        }
        let mut state = lock(&self.state);
        if let Some(reason) = &state.closed {
            return Err(SendError::Stopped(reason.clone()));
        }
        put_frame(&mut state.data, Kind::Data, header, body);
        self.notify(&mut state);
        Ok(())
    }

    fn notify(&self, state: &mut State) {
        if state.idle {
            state.idle = false;
            self.wake.notify_one();
        }
    }

    /// Takes everything queued, and one fragment; marks the writer idle when there is nothing.
    pub(crate) fn take(&self) -> Batch {
        let mut state = lock(&self.state);
        let mut batch = Batch {
            control: state.control.split(),
            data: state.data.split(),
            fragment: None,
        };
        if let Some(mut message) = state.bulk.pop_front() {
            if let Some(fragment) = message.pop_front() {
                state.bulk_bytes = state.bulk_bytes.saturating_sub(fragment.payload.len());
                batch.fragment = Some(fragment);
            }
            if message.is_empty() {
                if state.bulk.is_empty() {
                    state.bulk_bytes = 0;
                }
            } else {
                state.bulk.push_back(message);
            }
        }
        if batch.is_empty() {
            state.idle = true;
        }
        for waker in state.waiting.drain(..) {
            waker.wake();
        }
        batch
    }

    /// Waits until something is queued (after [`Outbox::take`] came back empty).
    pub(crate) async fn queued(&self) {
        self.wake.notified().await;
    }

    /// Refuses everything from now on with `reason`; wakes waiting senders and the writer.
    pub(crate) fn close(&self, reason: ExitReason) {
        let mut state = lock(&self.state);
        if state.closed.is_none() {
            state.closed = Some(reason);
        }
        for waker in state.waiting.drain(..) {
            waker.wake();
        }
        drop(state);
        self.wake.notify_one();
    }

    pub(crate) fn closed(&self) -> Option<ExitReason> {
        lock(&self.state).closed.clone()
    }
}

fn put_frame(out: &mut BytesMut, kind: Kind, header: &[u8], body: &[u8]) {
    let len = 1 + header.len() + body.len();
    out.reserve(HEADER - 1 + len);
    #[allow(clippy::cast_possible_truncation)]
    out.put_u32(len as u32);
    out.put_u8(kind as u8);
    out.extend_from_slice(header);
    out.extend_from_slice(body);
}

/// A fragment frame, as bytes for the socket.
pub(crate) fn frame_bytes(frame: &Frame) -> Bytes {
    let mut out = BytesMut::new();
    put_frame(&mut out, frame.kind, &[], &frame.payload);
    out.freeze()
}
