//! Distribution between nodes (feature `node`). So far: the wire format ([`wire`]) and the
//! handshake's arithmetic ([`handshake`]). The transport, heartbeats and the typed remote
//! handles are not built yet.

pub mod handshake;
pub mod wire;
