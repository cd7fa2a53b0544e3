//! Actor kinds reachable from other nodes: what `#[actor(remote)]` generates, and the
//! process-wide list of them that [`inventory`] collects, checked for collisions at start.

use std::collections::HashMap;

use crate::actor::Actor;
use crate::call::{ReplyRoute, ReplyTo};
use crate::error::{CallError, RemoteError};

/// An actor whose messages can travel between nodes. `#[actor(remote)]` on the impl block
/// implements it: the message enum gets a serde twin without the reply slots, and replies are
/// encoded with MessagePack. Do not implement it by hand.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be reached from another node",
    label = "not a remote actor",
    note = "write `#[actor(remote)]` on the `impl` block of `{Self}` (its handler arguments and replies then derive serde's `Serialize` and `Deserialize`)"
)]
pub trait RemoteActor: Actor {
    /// The kind's stable name on the wire: `#[actor(remote = "name")]`, or the type's path.
    const KIND: &'static str;

    /// Encodes a message's arguments into `out`; for a call, hands back its reply slot, to be
    /// completed when the reply arrives.
    #[doc(hidden)]
    fn __encode(msg: Self::Msg, out: &mut Vec<u8>) -> Result<Option<Pending>, RemoteError>;

    /// Decodes a message; `reply` is the way back for a call.
    #[doc(hidden)]
    fn __decode(body: &[u8], reply: Option<ReplyRoute>) -> Result<Self::Msg, RemoteError>;
}

/// A call waiting for its reply from another node.
#[doc(hidden)]
pub struct Pending(Box<dyn Completion>);

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pending")
    }
}

trait Completion: Send {
    fn complete(self: Box<Self>, outcome: Result<&[u8], CallError>);
    fn abandoned(&self) -> bool;
}

impl<R: serde::de::DeserializeOwned + Send + 'static> Completion for ReplyTo<R> {
    fn complete(self: Box<Self>, outcome: Result<&[u8], CallError>) {
        match outcome.and_then(|bytes| {
            rmp_serde::from_slice::<R>(bytes)
                .map_err(|e| CallError::Remote(RemoteError::Decode(format!("the reply: {e}"))))
        }) {
            Ok(value) => {
                (*self).send(value);
            }
            Err(error) => (*self).fail(error),
        }
    }

    fn abandoned(&self) -> bool {
        self.is_closed()
    }
}

impl Pending {
    /// Completes the call with the encoded reply or an error.
    pub(crate) fn complete(self, outcome: Result<&[u8], CallError>) {
        self.0.complete(outcome);
    }

    /// `true` once the caller stopped waiting (timed out): the entry can go.
    pub(crate) fn abandoned(&self) -> bool {
        self.0.abandoned()
    }
}

/// Generated code: the pending reply of a call whose reply slot is `reply`.
#[doc(hidden)]
pub fn pending<R: serde::de::DeserializeOwned + Send + 'static>(reply: ReplyTo<R>) -> Pending {
    Pending(Box::new(reply))
}

/// Generated code: a reply slot that answers a caller on another node.
#[doc(hidden)]
pub fn reply_to<R: serde::Serialize>(route: Option<ReplyRoute>) -> Result<ReplyTo<R>, RemoteError> {
    let route = route.ok_or_else(|| {
        RemoteError::Decode("a call arrived as a cast: the kinds differ between the nodes".into())
    })?;
    Ok(ReplyTo::remote(route, |value| {
        rmp_serde::to_vec(value).map_err(|e| e.to_string())
    }))
}

/// Generated code: encodes a message's arguments.
#[doc(hidden)]
pub fn encode<T: serde::Serialize>(value: &T, out: &mut Vec<u8>) -> Result<(), RemoteError> {
    rmp_serde::encode::write(out, value).map_err(|e| RemoteError::Encode(e.to_string()))
}

/// Generated code: decodes a message's arguments.
#[doc(hidden)]
pub fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, RemoteError> {
    rmp_serde::from_slice(body).map_err(|e| RemoteError::Decode(e.to_string()))
}

/// Generated code: a cast arrived with a reply route (the kinds differ between the nodes).
#[doc(hidden)]
pub fn no_reply_expected(route: Option<ReplyRoute>) -> Result<(), RemoteError> {
    match route {
        None => Ok(()),
        Some(route) => {
            route.sink.reply(
                route.corr,
                Err(CallError::Remote(RemoteError::Decode(
                    "a cast arrived as a call: the kinds differ between the nodes".into(),
                ))),
            );
            Err(RemoteError::Decode(
                "a cast arrived as a call: the kinds differ between the nodes".into(),
            ))
        }
    }
}

/// One remote kind, as `#[actor(remote)]` submits it to [`inventory`].
#[doc(hidden)]
#[derive(Debug)]
pub struct KindEntry {
    /// [`RemoteActor::KIND`].
    pub kind: &'static str,
    /// The Rust type's path, for the collision message.
    pub type_name: fn() -> &'static str,
}

inventory::collect!(KindEntry);

/// Two Rust types registered under one kind name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KindCollision {
    /// The name.
    pub kind: &'static str,
    /// The two types.
    pub types: (&'static str, &'static str),
}

impl std::fmt::Display for KindCollision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "remote kind `{}` is claimed by both `{}` and `{}`: give one a name of its own with `#[actor(remote = \"...\")]`",
            self.kind, self.types.0, self.types.1
        )
    }
}

/// Every remote kind linked into this program, or the first name two types share.
pub(crate) fn check_kinds() -> Result<HashMap<&'static str, &'static str>, KindCollision> {
    let mut seen: HashMap<&'static str, &'static str> = HashMap::new();
    for entry in inventory::iter::<KindEntry> {
        let ty = (entry.type_name)();
        if let Some(other) = seen.insert(entry.kind, ty) {
            if other != ty {
                return Err(KindCollision {
                    kind: entry.kind,
                    types: (other, ty),
                });
            }
        }
    }
    Ok(seen)
}

/// The remote kinds linked into this program: name and Rust type.
#[must_use]
pub fn kinds() -> Vec<(&'static str, &'static str)> {
    let mut all: Vec<_> = inventory::iter::<KindEntry>
        .into_iter()
        .map(|e| (e.kind, (e.type_name)()))
        .collect();
    all.sort_unstable();
    all.dedup();
    all
}
