//! What frames carry between two connected nodes.
//!
//! A `Control` frame holds a MessagePack [`Control`]: handshake steps, heartbeats and name
//! look-ups, which the writer sends ahead of everything else. A `Data` frame (or a message
//! put back together from fragments) starts with a one-byte tag and a fixed binary header,
//! then the MessagePack body:
//!
//! | tag | header                      | body                              |
//! |-----|-----------------------------|-----------------------------------|
//! | 0   | to: u64                     | a cast's arguments                |
//! | 1   | to: u64, corr: u64          | a call's arguments                |
//! | 2   | corr: u64, ok: u8           | the reply, or a [`Failure`]       |
//! | 3   |                             | a [`SignalMsg`] (links, monitors) |
//!
//! Link and monitor signals travel with the data, in order: a `Down` never overtakes the
//! messages the dying actor sent before it stopped, not even one still being decoded off the
//! reader (the receiver's backlog queues the signal behind it).

use bytes::{Buf, BufMut};

use super::handshake::{Hello, Proof, Welcome};
use super::wire::WireError;
use crate::error::{CallError, RemoteError};
use crate::exit::ExitReason;

/// Node-to-node control messages.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) enum Control {
    /// Handshake step 1, with the largest frame the dialler accepts and how long it waits
    /// for a frame before it declares the connection lost (in ms).
    Hello {
        hello: Hello,
        max_frame: u32,
        silence_ms: u32,
    },
    /// Step 2, with the acceptor's figures: both use the smaller frame, and each sends
    /// heartbeats often enough for the other's silence limit.
    Welcome {
        welcome: Welcome,
        max_frame: u32,
        silence_ms: u32,
    },
    /// Step 3.
    Proof(Proof),
    /// The acceptor checked the proof: the connection is up.
    Ready,
    /// The handshake ended: the text says why.
    Refused(String),
    Heartbeat,
    /// Which actor of `kind` is registered as `name` on your node?
    Lookup {
        corr: u64,
        name: String,
        kind: String,
    },
    /// The answer to a look-up: the actor's id, or why there is none.
    Found {
        corr: u64,
        result: Result<u64, String>,
    },
    /// Start an actor of `kind` with these arguments (MessagePack, carried as one binary
    /// string) on your node, if your node allows it, and link it to my actor `link`. The
    /// arguments hold handles to actors of `nodes`, neither yours nor mine: connect to them
    /// before you decode the arguments. The answer is a [`SignalMsg::Spawned`].
    Spawn {
        corr: u64,
        kind: String,
        args: bytes::Bytes,
        link: Option<u64>,
        nodes: Vec<NodeRef>,
    },
}

/// Links and monitors across the connection. Ids are local ids on the node that owns them.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) enum SignalMsg {
    /// Your actor `target` is monitored by my actor `watcher`, under `monitor`.
    Monitor {
        monitor: u64,
        watcher: u64,
        target: u64,
    },
    /// My actor `watcher` no longer monitors your actor `target` under `monitor`.
    Demonitor {
        monitor: u64,
        watcher: u64,
        target: u64,
    },
    /// My actor `target`, which your `monitor` watched, stopped.
    Down {
        monitor: u64,
        target: u64,
        reason: ExitReason,
    },
    /// Link my actor `from` with your actor `to`.
    Link {
        from: u64,
        to: u64,
    },
    Unlink {
        from: u64,
        to: u64,
    },
    /// An exit signal from my `from` to your `to` (`link`: because they were linked).
    Exit {
        from: u64,
        to: u64,
        reason: ExitReason,
        link: bool,
    },
    Kill {
        to: u64,
    },
    /// The answer to your `Spawn`: the new actor's id, or why there is none. It travels with
    /// the signals, ahead of any exit signal of the new actor.
    Spawned {
        corr: u64,
        result: Result<u64, String>,
    },
    /// A cast of yours to my `to` was dropped: the text says why.
    Rejected {
        to: u64,
        error: String,
    },
    /// The message that follows (for `of`) holds handles to actors of these nodes, neither
    /// yours nor mine: connect to them before you decode it. It waits in order meanwhile.
    Nodes {
        of: Intro,
        nodes: Vec<NodeRef>,
    },
}

/// What a [`SignalMsg::Nodes`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Intro {
    /// The next message to your actor with this id.
    Actor(u64),
    /// The reply to your call with this correlation id.
    Reply(u64),
}

/// A node named inside a message: its name, its creation (a handle to an actor of another
/// creation is stale), and where the sender reached it, if it dialled it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct NodeRef {
    pub(crate) name: String,
    pub(crate) creation: u32,
    pub(crate) addr: Option<std::net::SocketAddr>,
}

/// Why a call from the other node has no reply, as it travels back.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) enum Failure {
    Stopped(ExitReason),
    NoReply,
    Overloaded,
    Encode(String),
    Decode(String),
    Unknown(String),
    TooLarge {
        len: usize,
        max: usize,
    },
    /// A kind of error this build does not know, as text.
    Other(String),
}

impl Failure {
    pub(crate) fn from_error(error: CallError) -> Failure {
        match error {
            CallError::Stopped(reason) => Failure::Stopped(reason),
            CallError::NoReply => Failure::NoReply,
            CallError::Overloaded => Failure::Overloaded,
            CallError::Remote(RemoteError::Encode(e)) => Failure::Encode(e),
            CallError::Remote(RemoteError::Decode(e)) => Failure::Decode(e),
            CallError::Remote(RemoteError::Unknown(e)) => Failure::Unknown(e),
            CallError::Remote(RemoteError::TooLarge { len, max }) => Failure::TooLarge { len, max },
            other => Failure::Other(other.to_string()),
        }
    }

    pub(crate) fn into_error(self) -> CallError {
        match self {
            Failure::Stopped(reason) => CallError::Stopped(reason),
            Failure::NoReply => CallError::NoReply,
            Failure::Overloaded => CallError::Overloaded,
            Failure::Encode(e) => CallError::Remote(RemoteError::Encode(e)),
            Failure::Decode(e) => CallError::Remote(RemoteError::Decode(e)),
            Failure::Unknown(e) => CallError::Remote(RemoteError::Unknown(e)),
            Failure::TooLarge { len, max } => CallError::Remote(RemoteError::TooLarge { len, max }),
            Failure::Other(e) => CallError::Stopped(ExitReason::Error(e.into())),
        }
    }
}

pub(crate) const CAST: u8 = 0;
pub(crate) const CALL: u8 = 1;
pub(crate) const REPLY: u8 = 2;
pub(crate) const SIGNAL: u8 = 3;

/// A data message, parsed.
#[derive(Debug)]
pub(crate) enum Envelope<'a> {
    Cast { to: u64, body: &'a [u8] },
    Call { to: u64, corr: u64, body: &'a [u8] },
    Reply { corr: u64, ok: bool, body: &'a [u8] },
    Signal(&'a [u8]),
}

fn short(what: &str, need: usize, have: usize) -> WireError {
    WireError::BadHeader(format!(
        "a {what} needs {need} header bytes after its tag, the message has {have}"
    ))
}

impl<'a> Envelope<'a> {
    pub(crate) fn parse(mut bytes: &'a [u8]) -> Result<Envelope<'a>, WireError> {
        if bytes.is_empty() {
            return Err(WireError::Empty);
        }
        let tag = bytes.get_u8();
        match tag {
            CAST => {
                if bytes.len() < 8 {
                    return Err(short("cast", 8, bytes.len()));
                }
                let to = bytes.get_u64();
                Ok(Envelope::Cast { to, body: bytes })
            }
            CALL => {
                if bytes.len() < 16 {
                    return Err(short("call", 16, bytes.len()));
                }
                let to = bytes.get_u64();
                let corr = bytes.get_u64();
                Ok(Envelope::Call {
                    to,
                    corr,
                    body: bytes,
                })
            }
            REPLY => {
                if bytes.len() < 9 {
                    return Err(short("reply", 9, bytes.len()));
                }
                let corr = bytes.get_u64();
                let ok = bytes.get_u8() == 0;
                Ok(Envelope::Reply {
                    corr,
                    ok,
                    body: bytes,
                })
            }
            SIGNAL => Ok(Envelope::Signal(bytes)),
            other => Err(WireError::UnknownKind(other)),
        }
    }
}

/// The longest data header: a call's.
pub(crate) const MAX_HEADER: usize = 17;

/// A data header (the tag and its fields), on the stack.
pub(crate) struct Header {
    bytes: [u8; MAX_HEADER],
    len: usize,
}

impl Header {
    fn build(f: impl FnOnce(&mut &mut [u8])) -> Header {
        let mut bytes = [0u8; MAX_HEADER];
        let mut rest = &mut bytes[..];
        f(&mut rest);
        let len = MAX_HEADER - rest.len();
        Header { bytes, len }
    }

    pub(crate) fn cast(to: u64) -> Header {
        Header::build(|b| {
            b.put_u8(CAST);
            b.put_u64(to);
        })
    }

    pub(crate) fn call(to: u64, corr: u64) -> Header {
        Header::build(|b| {
            b.put_u8(CALL);
            b.put_u64(to);
            b.put_u64(corr);
        })
    }

    pub(crate) fn reply(corr: u64, ok: bool) -> Header {
        Header::build(|b| {
            b.put_u8(REPLY);
            b.put_u64(corr);
            b.put_u8(u8::from(!ok));
        })
    }

    pub(crate) fn signal() -> Header {
        Header::build(|b| b.put_u8(SIGNAL))
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// MessagePack of a control or signal message; these are small, plain data and never fail.
pub(crate) fn pack<T: serde::Serialize>(value: &T) -> Vec<u8> {
    rmp_serde::to_vec(value).unwrap_or_default()
}

pub(crate) fn unpack<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, WireError> {
    rmp_serde::from_slice(bytes).map_err(|e| WireError::Body(e.to_string()))
}
