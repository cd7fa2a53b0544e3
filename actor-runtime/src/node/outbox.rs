//! One connection's outbound queue, drained by its writer.
//!
//! Three lanes, each a byte buffer of whole frames so a batch is one write: control frames
//! (heartbeats, look-ups) go first; then data (messages, replies, link and monitor signals, in
//! the order they were queued); then, one fragment per batch, the messages too large for one
//! frame. A 16 MiB message therefore delays small messages by at most one fragment's write.
//! Its first fragment goes in the data lane, in order, so the other node knows the message is
//! coming before it reads what was sent after it (see `backlog`).
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

use super::wire::{FRAGMENT_HEADER, HEADER, Kind, MAX_PARTIAL};
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
    /// Large messages under way, taken round-robin one fragment at a time; at most
    /// [`MAX_PARTIAL`], the most the other node puts together at once.
    bulk: VecDeque<Bulk>,
    /// Bytes of large messages not yet taken, under way or held.
    bulk_bytes: usize,
    /// What waits, in order, behind a large message that could not start (as many were under
    /// way as the other node accepts): it starts when one of those ends.
    held: VecDeque<Held>,
    /// Bytes of the data frames in `held`.
    held_bytes: usize,
    /// Senders waiting for room.
    waiting: Vec<Waker>,
    /// The writer found nothing to do and waits for a notification.
    idle: bool,
    closed: Option<ExitReason>,
}

/// A place in the line behind a large message that waits to start.
enum Held {
    Bulk(Bulk),
    /// Whole data frames.
    Data(BytesMut),
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

impl State {
    /// Puts a large message under way. Its first fragment goes with the data, in order: the
    /// other node learns where the message goes before anything sent after it, and keeps that
    /// actor's messages behind it (see `backlog`). The rest interleave with other traffic.
    fn start(&mut self, mut bulk: Bulk) {
        let (first, len) = bulk.next();
        self.bulk_bytes = self.bulk_bytes.saturating_sub(len);
        self.data.extend_from_slice(&first.head);
        self.data.extend_from_slice(&first.piece);
        if !bulk.done() {
            self.bulk.push_back(bulk);
        }
    }

    /// Moves what was held into the data lane, up to the next large message that cannot
    /// start yet.
    fn release(&mut self) {
        while let Some(next) = self.held.pop_front() {
            match next {
                Held::Data(frames) => {
                    self.held_bytes -= frames.len();
                    self.data.extend_from_slice(&frames);
                }
                Held::Bulk(bulk) if self.bulk.len() < MAX_PARTIAL => self.start(bulk),
                Held::Bulk(bulk) => {
                    self.held.push_front(Held::Bulk(bulk));
                    return;
                }
            }
        }
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
        if state.data.len() + state.held_bytes + state.bulk_bytes < self.capacity {
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
        if state.held.is_empty() && state.bulk.len() < MAX_PARTIAL {
            state.start(bulk);
        } else {
            state.held.push_back(Held::Bulk(bulk));
        }
        self.notify(&mut state);
        Ok(())
    }

    fn small(&self, header: &[u8], body: &[u8]) -> Result<(), SendError> {
        let mut state = lock(&self.state);
        if let Some(reason) = &state.closed {
            return Err(SendError::Stopped(reason.clone()));
        }
        if state.held.is_empty() {
            put_frame(&mut state.data, Kind::Data, header, body);
        } else {
            if !matches!(state.held.back(), Some(Held::Data(_))) {
                state.held.push_back(Held::Data(BytesMut::new()));
            }
            let mut added = 0;
            if let Some(Held::Data(frames)) = state.held.back_mut() {
                let before = frames.len();
                put_frame(frames, Kind::Data, header, body);
                added = frames.len() - before;
            }
            state.held_bytes += added;
        }
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
                // A place is free: what was held behind a large message moves on, to be
                // written after this last fragment (so the other node never has more under
                // way than it accepts).
                state.release();
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

    /// Everything queued, as the writer would write it.
    fn drain(out: &Outbox) -> BytesMut {
        let mut written = BytesMut::new();
        loop {
            let batch = out.take();
            if batch.is_empty() {
                return written;
            }
            written.extend_from_slice(&batch.data);
            if let Some(fragment) = batch.fragment {
                written.extend_from_slice(&fragment.head);
                written.extend_from_slice(&fragment.piece);
            }
        }
    }

    /// More large messages than the other node puts together at once: the extra ones, and
    /// what was queued after them, wait for a place; nothing is refused, and each message
    /// starts (its first fragment, or its only frame) in the order it was queued.
    #[test]
    fn large_messages_beyond_the_limit_wait_their_turn_with_what_follows() {
        use tokio_util::codec::Decoder;
        let max_frame = 100;
        let out = Outbox::new(1 << 20, max_frame, 1 << 20);
        let count = MAX_PARTIAL as u8 + 5;
        for n in 0..count {
            // The first byte of a message is its number: a large one, then a small one.
            out.data_owned(&[n], vec![n; 350]).expect("queued");
            out.data(&[n], &[n; 3]).expect("queued");
        }
        let mut written = drain(&out);
        let mut codec = wire::FrameCodec::new(max_frame);
        let mut reassembly = wire::Reassembly::new(1 << 20, MAX_PARTIAL);
        let (mut started, mut whole) = (Vec::new(), Vec::new());
        while let Some(frame) = codec.decode(&mut written).expect("a frame") {
            match wire::fragment_of(&frame.payload) {
                Some((_, 0, part)) if frame.kind == Kind::Fragment => started.push(part[0]),
                _ if frame.kind == Kind::Data => started.push(frame.payload[0]),
                _ => {}
            }
            if let Some(message) = reassembly.push(frame).expect("within the limits") {
                whole.push((message[0], message.len()));
            }
        }
        let queued: Vec<u8> = (0..count).flat_map(|n| [n, n]).collect();
        assert_eq!(started, queued);
        assert_eq!(whole.len(), queued.len());
        for n in 0..count {
            assert!(whole.contains(&(n, 351)) && whole.contains(&(n, 4)));
        }
        assert_eq!(reassembly.in_progress(), 0);
        let state = lock(&out.state);
        assert_eq!((state.bulk_bytes, state.held_bytes), (0, 0));
    }
}
