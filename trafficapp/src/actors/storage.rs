//! Storage: the single writer. Positions are batched and written in one transaction per
//! batch, off the runtime's worker threads; the ingest pool is started linked to it.

use std::sync::Arc;

use actor_runtime::Pool;
use actor_runtime::prelude::*;

use super::dispatcher::{self, Dispatcher};
use super::ingest::{Ingest, Sink};
use crate::packet::Position;
use crate::settings::Settings;
use crate::store::{Location, Writer};
use crate::telemetry;

/// Pending positions kept at most while the store fails; beyond, new ones are counted as shed.
const MAX_PENDING_BATCHES: usize = 16;

/// The single writer of the store.
#[derive(Debug)]
#[actor(mailbox = 65536)]
pub struct Storage {
    /// `None` while a batch is being written on the blocking pool.
    writer: Option<Box<dyn Writer>>,
    pending: Vec<Position>,
    batch: usize,
    stored: u64,
    _ingest: Pool<Ingest<Addr<Storage>>>,
}

#[actor]
impl Storage {
    #[init]
    async fn init(settings: Arc<Settings>, ctx: &mut Ctx<Self>) -> Result<Self, String> {
        let location = Location::parse(&settings.store).map_err(|e| e.to_string())?;
        let writer = tokio::task::spawn_blocking(move || location.writer())
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        let ingest = Pool::<Ingest<Addr<Storage>>>::start_link(
            ctx,
            settings.ingest_workers.max(1),
            ctx.addr().clone(),
        )
        .await
        .map_err(|e| format!("ingest pool: {e}"))?;
        let dispatcher = actor_runtime::registry::lookup::<Dispatcher>(dispatcher::NAME)
            .map_err(|e| e.to_string())?;
        let topic = dispatcher.topic().await.map_err(|e| e.to_string())?;
        topic.subscribe(ingest.clone(), |pool, event| pool.traffic(event));
        ctx.interval(settings.flush_every(), |me| me.flush());
        tracing::info!(store = %settings.store, "storage started");
        Ok(Storage {
            writer: Some(writer),
            pending: Vec::with_capacity(settings.batch),
            batch: settings.batch.max(1),
            stored: 0,
            _ingest: ingest,
        })
    }

    /// Queues one position; a full batch is written at once.
    #[handle(cast)]
    async fn store(&mut self, position: Position) {
        if self.pending.len() >= self.batch * MAX_PENDING_BATCHES {
            metrics::counter!(telemetry::SHED, "stage" => "store_backlog").increment(1);
            return;
        }
        self.pending.push(position);
        if self.pending.len() >= self.batch {
            self.write().await;
        }
    }

    /// Writes what is pending (also called on a timer).
    #[handle(cast)]
    async fn flush(&mut self) {
        self.write().await;
    }

    /// Positions written since this incarnation started.
    #[handle(call)]
    fn stored(&self) -> u64 {
        self.stored
    }

    /// Writes what is pending now and answers how many positions are stored in all.
    #[handle(call)]
    async fn sync(&mut self) -> u64 {
        self.write().await;
        self.stored
    }

    #[terminate]
    fn ended(&mut self, reason: &ExitReason) {
        // Shutting down: write what is pending before the writer goes, waiting for it. The
        // write runs on a thread of its own: a store's blocking client may not run on a
        // runtime worker.
        if let Some(writer) = self.writer.as_mut() {
            let n = self.pending.len();
            let pending = &self.pending;
            let written = std::thread::scope(|s| {
                s.spawn(|| writer.write(pending))
                    .join()
                    .unwrap_or_else(|_| panic!("the store writer panicked in the final write"))
            });
            match written {
                Ok(()) => {
                    metrics::counter!(telemetry::STORED).increment(n as u64);
                    tracing::info!(flushed = n, %reason, "storage stopped");
                }
                Err(e) => tracing::error!(lost = n, error = %e, "final write failed"),
            }
        }
    }
}

impl Storage {
    async fn write(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let Some(mut writer) = self.writer.take() else {
            return;
        };
        let batch = std::mem::take(&mut self.pending);
        let done = tokio::task::spawn_blocking(move || {
            let result = writer.write(&batch);
            (writer, batch, result)
        })
        .await;
        match done {
            Ok((writer, mut batch, result)) => {
                self.writer = Some(writer);
                match result {
                    Ok(()) => {
                        self.stored += batch.len() as u64;
                        metrics::counter!(telemetry::STORED).increment(batch.len() as u64);
                        batch.clear();
                        // Keep the allocation for the next batch.
                        if self.pending.is_empty() {
                            self.pending = batch;
                        }
                    }
                    Err(e) => {
                        metrics::counter!(telemetry::STORE_FAILURES).increment(1);
                        tracing::error!(error = %e, positions = batch.len(), "write failed; retrying");
                        batch.append(&mut self.pending);
                        self.pending = batch;
                    }
                }
            }
            // The blocking task panicked: the writer is gone; crash so the supervisor
            // reopens the store.
            Err(e) => panic!("the store writer panicked: {e}"),
        }
    }
}

impl Sink for Addr<Storage> {
    async fn store(&self, position: Position) -> Result<(), SendError> {
        self.send(StorageMsg::Store { position }).await
    }
}
