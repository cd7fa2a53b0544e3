//! A thread of its own for an actor declared `#[actor(blocking)]`.
//!
//! The actor's task is the same future as any actor's (same receive loop, mailbox, links and
//! exit handling); only where it is polled changes. A dedicated OS thread drives it with
//! [`Handle::block_on`] on the runtime that spawned it, so everything the actor starts from
//! its handlers (children, timers, sockets, `tokio::spawn`) still belongs to that runtime and
//! runs on its workers, while the actor's own computation holds only its own thread.
//!
//! A *keeper* task on the runtime stands for the actor there: aborting it (a kill) or
//! dropping it (the runtime shutting down) tells the thread to drop the actor's task at its
//! next suspension, which records the exit exactly as for a task-based actor. A kill waits
//! for a handler that is computing to reach an `.await`, as it does for any actor on tokio.

use std::future::Future;

use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tokio::task::AbortHandle;

/// Starts `task` on a new thread; returns the handle that stops it.
pub(crate) fn start<F>(task: F, runtime: &Handle) -> AbortHandle
where
    F: Future<Output = ()> + Send + 'static,
{
    let (keeper_gone, stop) = oneshot::channel::<()>();
    let (finished, actor_done) = oneshot::channel::<()>();
    let keeper = runtime.spawn(async move {
        // Dropped when this task ends, is aborted, or is dropped with its runtime.
        let _keeper_gone = keeper_gone;
        let _ = actor_done.await;
    });
    let handle = runtime.clone();
    let spawned = std::thread::Builder::new()
        .name("actor-blocking".to_owned())
        .spawn(move || {
            handle.block_on(async move {
                tokio::select! {
                    // The stop first: an actor that always has a message ready must still
                    // notice a kill.
                    biased;
                    _ = stop => {}
                    () = task => {}
                }
            });
            drop(finished);
        });
    if let Err(error) = spawned {
        // The closure, and the actor's task in it, is dropped: the task records the exit.
        tracing::error!(%error, "could not start the thread of a blocking actor");
        keeper.abort();
    }
    keeper.abort_handle()
}
