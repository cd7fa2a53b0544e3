//! A thread of its own for an actor declared `#[actor(blocking)]`.
//!
//! The actor's task is the same future as any actor's (same receive loop, mailbox, links and
//! exit handling); only where it is polled changes. A dedicated OS thread polls it with a
//! plain thread-parking executor (`futures_executor::block_on`) while it holds the spawning
//! runtime's [`Handle::enter`] guard. So everything the actor starts from its handlers
//! (children, timers, sockets, `tokio::spawn`) still belongs to that runtime and runs on its
//! workers, while the actor's own computation holds only its own thread.
//!
//! Not `Handle::block_on`: that marks the thread as driving a runtime, and a synchronous
//! library that runs a runtime of its own inside (the `postgres` client, `reqwest::blocking`)
//! then panics with "Cannot start a runtime from within a runtime". Entering the handle only
//! sets the runtime that `spawn` and timers use, so such libraries work in a blocking actor.
//!
//! A *keeper* task on the runtime stands for the actor there: aborting it (a kill) or
//! dropping it (the runtime shutting down) tells the thread to drop the actor's task at its
//! next suspension, which records the exit exactly as for a task-based actor. A kill waits
//! for a handler that is computing to reach an `.await`, as it does for any actor on tokio.

use std::future::Future;

use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tokio::task::AbortHandle;

/// Starts `task` on a new thread; returns the handle that stops it. If the thread cannot be
/// started, `failed` is called with the error before the task is dropped (so the actor's exit
/// can say why).
pub(crate) fn start<F>(
    task: F,
    runtime: &Handle,
    failed: impl FnOnce(&std::io::Error),
) -> AbortHandle
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
    // The task is handed over once the thread exists, so a failed start still has it here.
    let (hand_over, take) = std::sync::mpsc::sync_channel::<F>(1);
    let handle = runtime.clone();
    let spawned = std::thread::Builder::new()
        .name("actor-blocking".to_owned())
        .spawn(move || {
            let Ok(task) = take.recv() else { return };
            let _runtime = handle.enter();
            futures_executor::block_on(async move {
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
    match spawned {
        Ok(_) => {
            // The receiver lives until the thread has taken the task: this cannot fail.
            let _ = hand_over.send(task);
        }
        Err(error) => {
            tracing::error!(%error, "could not start the thread of a blocking actor");
            failed(&error);
            drop(task);
            keeper.abort();
        }
    }
    keeper.abort_handle()
}
