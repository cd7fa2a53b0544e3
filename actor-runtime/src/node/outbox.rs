//! One connection's outbound queue, drained by its writer.
//!
//! Three lanes, each a byte buffer of whole frames so a batch is one write: control frames
//! (heartbeats, look-ups) go first; then data (messages, replies, link and monitor signals, in
//! the order they were queued); then, one fragment per batch, the messages too large for one
//! frame. A 16 MiB message therefore delays small messages by at most one fragment's write.
//! A large message is never copied here: each fragment is a few header bytes and a slice of
//! the encoded message, cut when the writer takes it.
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

use super::wire::{FRAGMENT_HEADER, HEADER, Kind};
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
    /// Large messages, taken round-robin one fragment at a time.
    bulk: VecDeque<Bulk>,
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
    pub(crate) fragment: Option<Fragment>,
}

/// One fragment frame, ready for the socket: `head` (the frame's length and kind, the
/// fragment header, and any bytes of the message header), then `piece`, a slice of the body.
pub(crate) struct Fragment {
    pub(crate) head: Bytes,
    pub(crate) piece: Bytes,
}

/// A message too large for one frame, cut into fragments as they are taken.
struct Bulk {
    id: u64,
    /// The message header (before the body).
    prefix: Vec<u8>,
    body: Bytes,
    /// Bytes of `prefix` then `body` already taken.
    taken: usize,
    index: u32,
    /// Message bytes per fragment.
    chunk: usize,
}

impl Bulk {
    fn total(&self) -> usize {
        self.prefix.len() + self.body.len()
    }

    fn done(&self) -> bool {
        self.taken >= self.total()
    }

    /// The next fragment; `(fragment, message bytes in it)`.
    fn next(&mut self) -> (Fragment, usize) {
        let (start, end) = (self.taken, (self.taken + self.chunk).min(self.total()));
        let p = self.prefix.len();
        let mut head = BytesMut::with_capacity(HEADER + FRAGMENT_HEADER + p);
        #[allow(clippy::cast_possible_truncation)]
        head.put_u32((1 + FRAGMENT_HEADER + end - start) as u32);
        head.put_u8(Kind::Fragment as u8);
        head.put_u64(self.id);
        head.put_u32(self.index);
        head.put_u8(u8::from(end == self.total()));
        if start < p {
            head.extend_from_slice(&self.prefix[start..end.min(p)]);
        }
        let piece = if end > p {
            self.body.slice(start.max(p) - p..end - p)
        } else {
            Bytes::new()
        };
        self.taken = end;
        self.index += 1;
        (
            Fragment {
                head: head.freeze(),
                piece,
            },
            end - start,
        )
    }
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
        self.check_size(header, body.len())?;
        if self.is_bulk(header, body.len()) {
            return self.bulk(header, Bytes::copy_from_slice(body));
        }
        self.small(header, body)
    }

    /// As [`Outbox::data`], taking the body: a large one is fragmented without a copy.
    pub(crate) fn data_owned(&self, header: &[u8], body: Vec<u8>) -> Result<(), SendError> {
        self.check_size(header, body.len())?;
        if self.is_bulk(header, body.len()) {
            return self.bulk(header, Bytes::from(body));
        }
        self.small(header, &body)
    }

    /// Whether a message of `header` and `body_len` bytes travels in fragments.
    pub(crate) fn is_bulk(&self, header: &[u8], body_len: usize) -> bool {
        header.len() + body_len + 1 > self.max_frame
    }

    fn check_size(&self, header: &[u8], body_len: usize) -> Result<(), SendError> {
        let len = header.len() + body_len;
        if len > self.max_message {
            return Err(SendError::Remote(RemoteError::TooLarge {
                len,
                max: self.max_message,
            }));
        }
        Ok(())
    }

    fn bulk(&self, header: &[u8], body: Bytes) -> Result<(), SendError> {
        let bulk = Bulk {
            id: self.next_bulk.fetch_add(1, Ordering::Relaxed),
            prefix: header.to_vec(),
            body,
            taken: 0,
            index: 0,
            chunk: self.max_frame.saturating_sub(1 + FRAGMENT_HEADER).max(1),
        };
        let mut state = lock(&self.state);
        if let Some(reason) = &state.closed {
            return Err(SendError::Stopped(reason.clone()));
        }
        state.bulk_bytes += bulk.total();
        state.bulk.push_back(bulk);
        self.notify(&mut state);
        Ok(())
    }

    fn small(&self, header: &[u8], body: &[u8]) -> Result<(), SendError> {
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
            if !message.done() {
                let (fragment, len) = message.next();
                state.bulk_bytes = state.bulk_bytes.saturating_sub(len);
                batch.fragment = Some(fragment);
            }
            if message.done() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::wire::{self, Frame};

    /// Fragments cut lazily are byte for byte the frames `wire::split` makes.
    #[test]
    fn lazy_fragments_are_the_frames_split_makes() {
        let max_frame = 100;
        for (header, body_len) in [
            (vec![9u8; 17], 1000),
            (vec![7u8; 5], 87),
            (vec![1u8; 200], 50),
        ] {
            let body: Vec<u8> = (0..body_len).map(|i| (i % 251) as u8).collect();
            let out = Outbox::new(1 << 20, max_frame, 1 << 20);
            out.data_owned(&header, body.clone()).expect("queued");
            let mut lazy = Vec::new();
            loop {
                let batch = out.take();
                if batch.is_empty() {
                    break;
                }
                lazy.extend_from_slice(&batch.data);
                if let Some(fragment) = batch.fragment {
                    lazy.extend_from_slice(&fragment.head);
                    lazy.extend_from_slice(&fragment.piece);
                }
            }
            let whole: Vec<u8> = header.iter().copied().chain(body).collect();
            let mut reference = BytesMut::new();
            for Frame { kind, payload } in wire::split(0, Bytes::from(whole), max_frame) {
                put_frame(&mut reference, kind, &[], &payload);
            }
            assert_eq!(lazy, reference.to_vec());
        }
    }
}
