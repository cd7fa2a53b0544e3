//! Distribution between nodes (feature `node`). So far: the wire format ([`wire`]). The
//! handshake, the transport and the typed remote handles are not built yet.

pub mod wire;
