//! Bridges between the network and actors.

pub mod udp;
