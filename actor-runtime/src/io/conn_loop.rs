//! The one connection loop the TCP and WebSocket bridges share.
//!
//! A connection is two tasks around one actor. The *writer* takes what the actor queued on
//! its connection handle and writes it, each write bounded by a timeout, pinging on an idle
//! line if the protocol wants it. The *reader* (this loop) takes the next item from the
//! socket and delivers it, racing every wait (the socket, a byte budget, a full mailbox)
//! against the actor's exit and the writer's failure, so no wait can outlive the connection.
//!
//! The end is always the same: the reader stops reading, the actor is asked to finish with
//! the connection's reason (what is already in its mailbox is still handled), the writer
//! drains what the actor queued within [`DRAIN_LIMIT`], then the socket closes.

use std::future::Future;
use std::time::Duration;

use futures_util::{Sink, SinkExt};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use crate::actor::Actor;
use crate::addr::Addr;
use crate::exit::ExitReason;

/// How long a closing connection may take to write what its actor queued.
pub(crate) const DRAIN_LIMIT: Duration = Duration::from_secs(5);

/// What one step of reading gave.
pub(crate) enum Flow {
    /// An item was delivered (or skipped); read on.
    More,
    /// The connection ended for this reason (the peer closed, a malformed item, a timeout).
    End(ExitReason),
    /// The actor is gone: the delivery found it stopped.
    ActorGone,
}

/// The reading side of a bridge: reads the next item and delivers it to the actor.
///
/// A step may be dropped at any await (the actor stopped or the writer failed meanwhile): it
/// must only wait on cancel-safe operations.
pub(crate) trait Source<C: Actor>: Send {
    fn step(&mut self, addr: &Addr<C>) -> impl Future<Output = Flow> + Send;
}

/// How a connection's writer behaves.
pub(crate) struct WriterConfig<T> {
    /// A write the peer does not take within this long fails the connection.
    pub write_timeout: Duration,
    /// Sent on this period while the connection is open (a WebSocket ping). A zero period
    /// means no keep-alive.
    pub keepalive: Option<(Duration, fn() -> T)>,
    /// Written last, after the drain (a WebSocket close frame).
    pub farewell: Option<fn() -> T>,
    /// Called once when a write times out (the bridge counts it).
    pub on_timeout: Box<dyn Fn() + Send + Sync>,
}

/// Why the writer stopped before the connection ended.
#[derive(Clone, Copy, Debug)]
enum WriteFailure {
    TimedOut,
    Failed,
}

impl WriteFailure {
    fn reason(self) -> ExitReason {
        match self {
            WriteFailure::TimedOut => ExitReason::error("peer does not read: write timed out"),
            WriteFailure::Failed => ExitReason::error("connection failed while writing"),
        }
    }
}

/// A running writer task.
pub(crate) struct Writer {
    task: JoinHandle<Result<(), WriteFailure>>,
    /// Set once the task has been awaited to its end (a `JoinHandle` must not be polled
    /// again after it completed).
    ended: bool,
    gone: Option<oneshot::Sender<()>>,
}

impl Writer {
    /// Starts the writer: it writes what arrives on `outgoing` to `sink`.
    ///
    /// It runs until the actor stops (then it drains) or a write fails. An actor that lets go
    /// of every connection handle does not end it: reading goes on.
    pub(crate) fn spawn<T, S>(
        mut sink: S,
        mut outgoing: mpsc::Receiver<T>,
        config: WriterConfig<T>,
    ) -> Writer
    where
        T: Send + 'static,
        S: Sink<T> + Unpin + Send + 'static,
    {
        let (gone_tx, mut gone) = oneshot::channel::<()>();
        let task = crate::table::spawn(async move {
            let WriterConfig {
                write_timeout,
                keepalive,
                farewell,
                on_timeout,
            } = config;
            let write = async |sink: &mut S, item: T| -> Result<(), WriteFailure> {
                match tokio::time::timeout(write_timeout, sink.send(item)).await {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(_)) => Err(WriteFailure::Failed),
                    Err(_) => {
                        on_timeout();
                        Err(WriteFailure::TimedOut)
                    }
                }
            };
            let keepalive = keepalive.filter(|(period, _)| !period.is_zero());
            let mut ticks = keepalive.map(|(period, _)| {
                let mut ticks =
                    tokio::time::interval_at(tokio::time::Instant::now() + period, period);
                ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
                ticks
            });
            let mut open = true;
            loop {
                tokio::select! {
                    item = outgoing.recv(), if open => match item {
                        Some(item) => write(&mut sink, item).await?,
                        // Every handle is gone: nothing more will be written, but the line
                        // stays kept alive until the actor stops.
                        None => open = false,
                    },
                    _ = async { ticks.as_mut().expect("guarded").tick().await }, if ticks.is_some() => {
                        let ping = keepalive.expect("ticks come from keepalive").1;
                        write(&mut sink, ping()).await?;
                    }
                    _ = &mut gone => break,
                }
            }
            // The actor stopped: refuse new items (clones of its handle elsewhere get
            // an error), write what is queued, then say goodbye.
            outgoing.close();
            while let Some(item) = outgoing.recv().await {
                write(&mut sink, item).await?;
            }
            if let Some(farewell) = farewell {
                write(&mut sink, farewell()).await?;
            }
            let _ = tokio::time::timeout(write_timeout, sink.close()).await;
            Ok(())
        });
        Writer {
            task,
            ended: false,
            gone: Some(gone_tx),
        }
    }

    /// Resolves when the writer fails; never, if it has ended without failure.
    async fn failure(&mut self) -> WriteFailure {
        if !self.ended {
            let end = (&mut self.task).await;
            self.ended = true;
            match end {
                Ok(Ok(())) => {}
                Ok(Err(failure)) => return failure,
                Err(_) => return WriteFailure::Failed,
            }
        }
        std::future::pending().await
    }

    /// The actor has stopped: lets the writer drain what it queued, within [`DRAIN_LIMIT`]
    /// (a peer that stopped reading must not keep the task forever).
    async fn drain(mut self) {
        if let Some(gone) = self.gone.take() {
            let _ = gone.send(());
        }
        if self.ended {
            return;
        }
        if tokio::time::timeout(DRAIN_LIMIT, &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
        }
    }
}

/// Asks the actor to finish if the connection task unwinds (a panicking `to_msg`), so the
/// actor never outlives its connection unnoticed.
struct FinishOnUnwind<'a, C: Actor>(&'a Addr<C>);

impl<C: Actor> Drop for FinishOnUnwind<'_, C> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0
                .finish(ExitReason::error("the connection task panicked"));
        }
    }
}

/// Runs a connection to its end: steps `source` until the peer, the actor or the writer
/// ends it; then the actor finishes with the connection's reason and the writer drains.
pub(crate) async fn serve<C: Actor, S: Source<C>>(
    addr: Addr<C>,
    mut source: S,
    mut writer: Writer,
) {
    let unwinding = FinishOnUnwind(&addr);
    let reason = loop {
        tokio::select! {
            flow = source.step(&addr) => match flow {
                Flow::More => {}
                Flow::End(reason) => break Some(reason),
                Flow::ActorGone => break None,
            },
            _ = addr.wait_for_exit() => break None,
            failure = writer.failure() => break Some(failure.reason()),
        }
    };
    // Stop reading before the actor finishes: nothing more is delivered.
    drop(source);
    if let Some(reason) = reason {
        // What is already in the actor's mailbox is still handled.
        addr.finish(reason);
    }
    addr.wait_for_exit().await;
    drop(unwinding);
    writer.drain().await;
}
