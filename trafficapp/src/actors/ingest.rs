//! Ingest workers: decode and validate each payload, hand valid positions to storage.
//!
//! The workers know the store only as a [`Sink`], which the storage actor implements: storage
//! starts the ingest pool, so ingest sits below it and does not name it.

use std::future::Future;

use actor_runtime::prelude::*;

use super::dispatcher::Raw;
use crate::packet::{self, Position, Reject};
use crate::telemetry::{self, RateLimitedLog};

/// Where decoded positions go: the storage actor's address.
pub trait Sink: Clone + std::fmt::Debug + Send + Sync + 'static {
    /// Queues `position`, waiting for room; fails once the store has stopped.
    fn store(&self, position: Position) -> impl Future<Output = Result<(), SendError>> + Send;
}

/// One worker of the ingest pool (the pool subscribes to the topic as one subscriber).
#[derive(Debug)]
#[actor(mailbox = 4096)]
pub struct Ingest<S: Sink> {
    storage: S,
    log: RateLimitedLog,
}

#[actor]
impl<S: Sink> Ingest<S> {
    #[init]
    fn init(storage: S) -> Self {
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
                match self.storage.store(position).await {
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

impl<S: Sink> Ingest<S> {
    fn rejected(&mut self, reject: &Reject) {
        metrics::counter!(telemetry::REJECTED, "reason" => reject.label()).increment(1);
        if self.log.should_log() {
            tracing::warn!(%reject, rejected_so_far = self.log.seen(), "rejected a packet");
        }
    }
}
