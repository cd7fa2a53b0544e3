//! Frames between nodes (feature `node`): the first layer of distribution.
//!
//! A frame is a 4-byte big-endian length, then that many bytes: one kind byte and the payload.
//! Bodies are MessagePack (rmp-serde). A message larger than the agreed frame size travels as
//! fragments, each a frame of its own, so the writer can interleave other senders' frames and
//! heartbeats between them: one 16 MiB message never holds the connection.
//!
//! Everything a peer sends is checked before it is trusted: a length above the maximum is
//! refused from the header alone (nothing is buffered for it), an unknown kind or a fragment
//! out of order is an error naming what was wrong, and reassembly is bounded both in the size
//! of one message and in how many may be in progress at once.

use std::collections::HashMap;
use std::fmt;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

/// Bytes before a frame's payload: the length and the kind.
pub const HEADER: usize = 5;
/// Bytes of a fragment's own header, inside its frame's payload.
pub(crate) const FRAGMENT_HEADER: usize = 8 + 4 + 1;
/// The frame size used until a handshake agrees on another.
pub const DEFAULT_MAX_FRAME: usize = 64 << 10;

/// The most fragmented messages a node puts together at once from one connection; a sender
/// has at most this many under way.
pub const MAX_PARTIAL: usize = 16;

/// What a frame carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// Node-to-node control: handshake steps, heartbeats, link and monitor signals.
    Control = 0,
    /// One whole message.
    Data = 1,
    /// A piece of a message too large for one frame.
    Fragment = 2,
}

impl Kind {
    fn from_byte(b: u8) -> Result<Kind, WireError> {
        match b {
            0 => Ok(Kind::Control),
            1 => Ok(Kind::Data),
            2 => Ok(Kind::Fragment),
            other => Err(WireError::UnknownKind(other)),
        }
    }
}

/// One frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// What it carries.
    pub kind: Kind,
    /// The bytes after the kind.
    pub payload: Bytes,
}

/// Why bytes from a peer are not a frame, or frames are not a message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WireError {
    /// The length header announces more than the agreed maximum.
    TooLarge {
        /// Announced bytes.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// A frame of length 0: not even a kind byte.
    Empty,
    /// A kind byte this version does not know.
    UnknownKind(u8),
    /// The stream ended inside a frame.
    Truncated {
        /// Bytes the frame still needed.
        missing: usize,
    },
    /// A fragment that does not continue a message in order.
    BadFragment(String),
    /// A message whose fragments add up to more than the limit.
    MessageTooLarge {
        /// Bytes it had reached.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// More messages in fragments at once than allowed.
    TooManyPartial(usize),
    /// A body that does not decode (or encode) as the expected type.
    Body(String),
    /// A message header shorter than its tag requires.
    BadHeader(String),
    /// Reading or writing the connection failed.
    Io(String),
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::TooLarge { len, max } => {
                write!(f, "frame of {len} bytes exceeds the maximum of {max}")
            }
            WireError::Empty => f.write_str("empty frame (no kind byte)"),
            WireError::UnknownKind(k) => write!(f, "unknown frame kind {k}"),
            WireError::Truncated { missing } => {
                write!(
                    f,
                    "connection ended inside a frame ({missing} bytes missing)"
                )
            }
            WireError::BadFragment(why) => write!(f, "bad fragment: {why}"),
            WireError::MessageTooLarge { len, max } => {
                write!(
                    f,
                    "fragmented message reached {len} bytes, above the maximum of {max}"
                )
            }
            WireError::TooManyPartial(n) => {
                write!(f, "more than {n} fragmented messages in progress at once")
            }
            WireError::Body(why) => write!(f, "body does not decode: {why}"),
            WireError::BadHeader(why) => write!(f, "bad message header: {why}"),
            WireError::Io(e) => write!(f, "connection failed: {e}"),
        }
    }
}

impl std::error::Error for WireError {}

impl From<std::io::Error> for WireError {
    fn from(e: std::io::Error) -> Self {
        WireError::Io(e.to_string())
    }
}

/// Reads and writes frames on a byte stream (a `tokio_util::codec` codec).
#[derive(Clone, Copy, Debug)]
pub struct FrameCodec {
    max_frame: usize,
}

impl FrameCodec {
    /// Frames of at most `max_frame` bytes after the length (at least 64).
    #[must_use]
    pub fn new(max_frame: usize) -> Self {
        FrameCodec {
            max_frame: max_frame.max(64),
        }
    }

    /// The largest frame it reads or writes.
    #[must_use]
    pub fn max_frame(&self) -> usize {
        self.max_frame
    }
}

impl Decoder for FrameCodec {
    type Item = Frame;
    type Error = WireError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, WireError> {
        if src.len() < 4 {
            return Ok(None);
        }
        let len = u32::from_be_bytes([src[0], src[1], src[2], src[3]]) as usize;
        if len > self.max_frame {
            return Err(WireError::TooLarge {
                len,
                max: self.max_frame,
            });
        }
        if len == 0 {
            return Err(WireError::Empty);
        }
        if src.len() < 4 + len {
            // Reserve only what the (bounded) frame needs.
            src.reserve(4 + len - src.len());
            return Ok(None);
        }
        src.advance(4);
        let kind = Kind::from_byte(src[0])?;
        src.advance(1);
        let payload = src.split_to(len - 1).freeze();
        Ok(Some(Frame { kind, payload }))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, WireError> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None if src.is_empty() => Ok(None),
            None => {
                let need = if src.len() < 4 {
                    4
                } else {
                    4 + u32::from_be_bytes([src[0], src[1], src[2], src[3]]) as usize
                };
                Err(WireError::Truncated {
                    missing: need - src.len(),
                })
            }
        }
    }
}

impl Encoder<Frame> for FrameCodec {
    type Error = WireError;

    fn encode(&mut self, frame: Frame, dst: &mut BytesMut) -> Result<(), WireError> {
        let len = frame.payload.len() + 1;
        if len > self.max_frame {
            return Err(WireError::TooLarge {
                len,
                max: self.max_frame,
            });
        }
        dst.reserve(4 + len);
        #[allow(clippy::cast_possible_truncation)]
        dst.put_u32(len as u32);
        dst.put_u8(frame.kind as u8);
        dst.extend_from_slice(&frame.payload);
        Ok(())
    }
}

/// The frames that carry `body` as message `id`: one `Data` frame if it fits in `max_frame`,
/// otherwise `Fragment` frames of at most `max_frame` bytes each, in order.
#[must_use]
pub fn split(id: u64, body: Bytes, max_frame: usize) -> Vec<Frame> {
    if body.len() < max_frame {
        return vec![Frame {
            kind: Kind::Data,
            payload: body,
        }];
    }
    let chunk = max_frame.saturating_sub(1 + FRAGMENT_HEADER).max(1);
    let count = body.len().div_ceil(chunk);
    (0..count)
        .map(|i| {
            let piece = body.slice(i * chunk..((i + 1) * chunk).min(body.len()));
            let mut payload = BytesMut::with_capacity(FRAGMENT_HEADER + piece.len());
            payload.put_u64(id);
            #[allow(clippy::cast_possible_truncation)]
            payload.put_u32(i as u32);
            payload.put_u8(u8::from(i + 1 == count));
            payload.extend_from_slice(&piece);
            Frame {
                kind: Kind::Fragment,
                payload: payload.freeze(),
            }
        })
        .collect()
}

/// A fragment frame's message id and index, and the message bytes it carries; `None` if it
/// is shorter than its header.
pub(crate) fn fragment_of(payload: &[u8]) -> Option<(u64, u32, &[u8])> {
    if payload.len() < FRAGMENT_HEADER {
        return None;
    }
    let (mut head, part) = payload.split_at(FRAGMENT_HEADER);
    Some((head.get_u64(), head.get_u32(), part))
}

/// Puts fragmented messages back together, within bounds.
#[derive(Debug)]
pub struct Reassembly {
    max_message: usize,
    max_partial: usize,
    partial: HashMap<u64, (u32, BytesMut)>,
}

impl Reassembly {
    /// Messages of at most `max_message` bytes, at most `max_partial` in progress at once.
    #[must_use]
    pub fn new(max_message: usize, max_partial: usize) -> Self {
        Reassembly {
            max_message,
            max_partial: max_partial.max(1),
            partial: HashMap::new(),
        }
    }

    /// Messages in progress.
    #[must_use]
    pub fn in_progress(&self) -> usize {
        self.partial.len()
    }

    /// Takes a `Data` or `Fragment` frame; returns a message once it is whole. A `Control`
    /// frame is not a message part and is refused.
    ///
    /// # Errors
    /// A fragment out of order or of a message not started, a message above `max_message`,
    /// too many messages in progress. The message in error is forgotten; others are kept.
    pub fn push(&mut self, frame: Frame) -> Result<Option<Bytes>, WireError> {
        match frame.kind {
            Kind::Data => Ok(Some(frame.payload)),
            Kind::Control => Err(WireError::BadFragment(
                "a control frame is not part of a message".into(),
            )),
            Kind::Fragment => self.fragment(frame.payload),
        }
    }

    fn fragment(&mut self, mut payload: Bytes) -> Result<Option<Bytes>, WireError> {
        if payload.len() < FRAGMENT_HEADER {
            return Err(WireError::BadFragment(format!(
                "{} bytes, shorter than its {FRAGMENT_HEADER}-byte header",
                payload.len()
            )));
        }
        let id = payload.get_u64();
        let index = payload.get_u32();
        let last = match payload.get_u8() {
            0 => false,
            1 => true,
            other => {
                self.partial.remove(&id);
                return Err(WireError::BadFragment(format!(
                    "message {id}: last-flag {other} is neither 0 nor 1"
                )));
            }
        };
        let expected = self.partial.get(&id).map_or(0, |(next, _)| *next);
        if index != expected {
            self.partial.remove(&id);
            return Err(WireError::BadFragment(format!(
                "message {id}: fragment {index} where {expected} was due"
            )));
        }
        if index == 0 && last {
            return Ok(Some(payload));
        }
        if index == 0 && self.partial.len() >= self.max_partial {
            return Err(WireError::TooManyPartial(self.max_partial));
        }
        let (next, buf) = self
            .partial
            .entry(id)
            .or_insert_with(|| (0, BytesMut::new()));
        if buf.len() + payload.len() > self.max_message {
            let len = buf.len() + payload.len();
            self.partial.remove(&id);
            return Err(WireError::MessageTooLarge {
                len,
                max: self.max_message,
            });
        }
        buf.extend_from_slice(&payload);
        *next += 1;
        if last {
            let (_, buf) = self.partial.remove(&id).expect("just used");
            Ok(Some(buf.freeze()))
        } else {
            Ok(None)
        }
    }
}

/// Encodes a body as MessagePack (struct fields by name, so peers of other versions can skip
/// what they do not know).
///
/// # Errors
/// The value cannot be encoded (a map with non-string keys, say).
pub fn encode_body<T: serde::Serialize + ?Sized>(value: &T) -> Result<Bytes, WireError> {
    rmp_serde::to_vec_named(value)
        .map(Bytes::from)
        .map_err(|e| WireError::Body(e.to_string()))
}

/// Decodes a MessagePack body as `T`.
///
/// # Errors
/// The bytes are not a `T`.
pub fn decode_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, WireError> {
    rmp_serde::from_slice(bytes).map_err(|e| WireError::Body(e.to_string()))
}
