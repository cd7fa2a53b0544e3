//! Ingest workers: decode and validate each payload, hand valid positions to storage.

use actor_runtime::prelude::*;

use super::dispatcher::Raw;
use super::storage::{Storage, StorageMsg};
use crate::packet::{self, Reject};
use crate::telemetry::{self, RateLimitedLog};

/// One worker of the ingest pool (the pool subscribes to the topic as one subscriber).
#[derive(Debug)]
#[actor(mailbox = 4096)]
pub struct Ingest {
    storage: Addr<Storage>,
    log: RateLimitedLog,
}

#[actor]
impl Ingest {
    #[init]
    fn init(storage: Addr<Storage>) -> Self {
        Ingest {
            storage,
            log: RateLimitedLog::default(),
        }
    }

    /// One event of the `traffic` topic.
    #[handle(cast)]
    async fn traffic(&mut self, event: Event<Raw>) {
        let Event::Published(raw) = event else {
            return;
        };
        match packet::decode(&raw.payload, raw.received_ms) {
            Ok(position) => {
                // Waits for room: a busy store slows ingestion down instead of losing
                // positions; the topic then sheds (and counts) what the pool cannot take.
                // Counted as decoded once it is in the writer's mailbox.
                match self.storage.send(StorageMsg::Store { position }).await {
                    Ok(()) => metrics::counter!(telemetry::DECODED).increment(1),
                    Err(_) => {
                        metrics::counter!(telemetry::SHED, "stage" => "storage_stopped")
                            .increment(1);
                    }
                }
            }
            Err(reject) => self.rejected(&reject),
        }
    }
}

impl Ingest {
    fn rejected(&mut self, reject: &Reject) {
        metrics::counter!(telemetry::REJECTED, "reason" => reject.label()).increment(1);
        if self.log.should_log() {
            tracing::warn!(%reject, rejected_so_far = self.log.seen(), "rejected a packet");
        }
    }
}
