//! Bridges between the network and actors.

mod accept;
pub mod tcp;
pub mod udp;

#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "tls")]
pub mod tls;
#[cfg(feature = "http")]
pub mod ws;
