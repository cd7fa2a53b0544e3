//! Bridges between the network and actors.

mod accept;
mod conn_loop;
pub mod tcp;
pub mod udp;

#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "observer")]
pub mod observer;
/// TLS configuration shared by the TCP and HTTP bridges and by nodes (feature `tls`).
#[cfg(feature = "tls")]
pub mod tls {
    pub use crate::tls::TlsConfig;
}
#[cfg(feature = "http")]
pub mod ws;
