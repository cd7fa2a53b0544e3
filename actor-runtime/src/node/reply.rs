//! A caller's reply slot handed on inside a message to another node, so that an actor there
//! answers the caller directly, as Erlang's `gen_server:reply(From, ..)` does with a `From`
//! passed on.
//!
//! Encoded, the slot stays on this node, in the table of calls waiting on the connection the
//! message goes out on, under a fresh correlation id; the id is what travels. The other node
//! decodes a slot that answers on that connection, as it answers a call that came from here.
//! The answer (a value, `NoReply` if the slot is dropped unanswered, or an error) comes back
//! as a reply to that id and is handed to the caller, who waits as for any call, with its own
//! timeout. A lost connection fails the caller with `NoConnection` at once.
//!
//! Why a wrapper and not `ReplyTo` itself: serde encodes by reference, and the slot has to
//! move out as it is encoded. Room for that in `ReplyTo` (a lock) would make every call's
//! message bigger, and a cell without one would make `ReplyTo` unshareable between threads,
//! which actors that keep slots in their state and take `&self` need.

use std::fmt;
use std::sync::{Mutex, PoisonError};

use serde::de::Error as _;
use serde::ser::Error as _;

use super::connection;
use super::kind::pending;
use crate::call::{ReplyRoute, ReplyTo};
use crate::sync::lock;

/// A [`ReplyTo`] that can travel inside a message or reply to another node, whose actor then
/// answers the caller directly with [`Forwarded::send`].
///
/// Made with `Forwarded::from(reply)` (or `reply.into()`); used locally it is the same slot.
/// Encoded outside a message between nodes it is refused, and stays usable.
pub struct Forwarded<T> {
    slot: Mutex<Option<ReplyTo<T>>>,
}

impl<T> From<ReplyTo<T>> for Forwarded<T> {
    fn from(reply: ReplyTo<T>) -> Self {
        Forwarded {
            slot: Mutex::new(Some(reply)),
        }
    }
}

impl<T> Forwarded<T> {
    /// Answers the call, as [`ReplyTo::send`] does. `false` if the caller no longer waits,
    /// or if this slot was already sent on to another node.
    pub fn send(self, value: T) -> bool {
        self.into_reply().is_some_and(|reply| reply.send(value))
    }

    /// `true` if the caller has stopped waiting, as [`ReplyTo::is_closed`] says, or if this
    /// slot was already sent on.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        lock(&self.slot).as_ref().is_none_or(ReplyTo::is_closed)
    }

    /// The slot itself; `None` if it was sent on to another node.
    #[must_use]
    pub fn into_reply(self) -> Option<ReplyTo<T>> {
        self.slot
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T> fmt::Debug for Forwarded<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Forwarded")
            .field("sent_on", &lock(&self.slot).is_none())
            .finish_non_exhaustive()
    }
}

/// Why a `Forwarded` was encoded or decoded outside a message between nodes.
const OUTSIDE: &str = "a `Forwarded` is encoded and decoded only inside messages between nodes";

impl<T: serde::de::DeserializeOwned + Send + 'static> serde::Serialize for Forwarded<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if !connection::encoding_for_a_node() {
            return Err(S::Error::custom(OUTSIDE));
        }
        let slot = lock(&self.slot)
            .take()
            .ok_or_else(|| S::Error::custom("this `Forwarded` was already sent on"))?;
        let corr = connection::exporting(pending(slot));
        serializer.serialize_newtype_struct("Forwarded", &corr)
    }
}

impl<'de, T: serde::Serialize> serde::Deserialize<'de> for Forwarded<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// The wire form: the correlation id the answer goes back under.
        #[derive(serde::Deserialize)]
        #[serde(rename = "Forwarded")]
        struct Wire(u64);
        let Wire(corr) = Wire::deserialize(deserializer)?;
        let conn = connection::decoding_from().ok_or_else(|| D::Error::custom(OUTSIDE))?;
        let reply = ReplyTo::remote(ReplyRoute { sink: conn, corr }, |value| {
            rmp_serde::to_vec(value).map_err(|e| e.to_string())
        });
        Ok(Forwarded::from(reply))
    }
}
