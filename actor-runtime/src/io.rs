//! Bridges between the network and actors.

mod accept;
mod conn_loop;
pub mod tcp;
pub mod udp;

#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "observer")]
pub mod observer;
#[cfg(feature = "tls")]
pub mod tls;
#[cfg(feature = "http")]
pub mod ws;
