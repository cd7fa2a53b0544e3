//! The UDP receiver: reader tasks on the port forward each datagram, with its receive time,
//! to the dispatcher. Full mailboxes are counted by the UDP bridge, never silent.

use std::sync::{Arc, Mutex};
use std::time::UNIX_EPOCH;

use actor_runtime::SendError;
use actor_runtime::io::udp::{UdpConfig, UdpServer};
use actor_runtime::prelude::*;

use super::dispatcher::{self, Dispatcher, Raw};
use crate::settings::Settings;
use crate::telemetry;

/// Owns the UDP server; stopping the actor closes the sockets.
#[derive(Debug)]
#[actor]
pub struct Receiver {
    server: UdpServer,
}

#[actor]
impl Receiver {
    #[init]
    fn init(settings: Arc<Settings>) -> Result<Self, String> {
        let mut config = UdpConfig::new(settings.udp);
        config.readers = settings.udp_readers.max(1);
        config.recv_buffer = Some(settings.udp_buffer);
        // The dispatcher is looked up by name and the address kept until it stops: after a
        // restart of the pipeline the next datagram finds the new one.
        let current: Mutex<Option<Addr<Dispatcher>>> = Mutex::new(None);
        let server = UdpServer::bind(&config, move |d| {
            metrics::counter!(telemetry::RECEIVED).increment(1);
            let received_ms = d
                .received
                .duration_since(UNIX_EPOCH)
                .map_or(0, |t| i64::try_from(t.as_millis()).unwrap_or(i64::MAX));
            let raw = Raw {
                payload: d.payload.into(),
                received_ms,
            };
            let mut current = current
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let target = match current.as_ref() {
                Some(addr) if addr.is_alive() => addr.clone(),
                _ => match actor_runtime::registry::lookup::<Dispatcher>(dispatcher::NAME) {
                    Ok(addr) => {
                        *current = Some(addr.clone());
                        addr
                    }
                    Err(_) => return Err(SendError::Stopped(ExitReason::NoProc)),
                },
            };
            drop(current);
            let sent = target.received(raw);
            if let Err(SendError::Full { .. }) = &sent {
                metrics::counter!(telemetry::SHED, "stage" => "dispatcher").increment(1);
            }
            sent
        })
        .map_err(|e| format!("cannot listen on udp {}: {e}", settings.udp))?;
        tracing::info!(udp = %server.local_addr(), "receiving position reports");
        Ok(Receiver { server })
    }

    /// The bound address.
    #[handle(call)]
    fn local_addr(&self) -> std::net::SocketAddr {
        self.server.local_addr()
    }

    /// The UDP bridge's counters.
    #[handle(call)]
    fn stats(&self) -> actor_runtime::io::udp::UdpStats {
        self.server.stats()
    }
}
