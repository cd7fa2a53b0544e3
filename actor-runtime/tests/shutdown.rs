//! Graceful shutdown of the node. One test per file: shutdown reaches every actor of the
//! process.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use actor_runtime::prelude::*;

#[actor]
struct Worker {
    stopped: Arc<AtomicU32>,
}

#[actor]
impl Worker {
    #[init]
    fn init(stopped: Arc<AtomicU32>) -> Self {
        Worker { stopped }
    }

    /// Never returns: only a kill ends it.
    #[handle(cast)]
    async fn hang(&mut self) {
        std::future::pending::<()>().await;
    }

    #[terminate]
    fn terminate(&mut self, reason: &ExitReason) {
        assert_eq!(*reason, ExitReason::Shutdown);
        self.stopped.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test(start_paused = true)]
async fn shutdown_stops_every_actor_running_terminate_and_kills_the_stuck() {
    let stopped = Arc::new(AtomicU32::new(0));
    let mut workers = Vec::new();
    for _ in 0..5 {
        workers.push(Worker::spawn(stopped.clone()).await.expect("spawn"));
    }
    workers[0].hang().expect("queued");
    tokio::task::yield_now().await;
    let report = actor_runtime::shutdown(Duration::from_secs(2)).await;
    assert_eq!(report.stopped, 4);
    assert_eq!(report.killed, 1);
    assert_eq!(stopped.load(Ordering::SeqCst), 4);
    assert_eq!(workers[0].wait_for_exit().await, ExitReason::Killed);
    for w in &workers[1..] {
        assert_eq!(w.exit_reason(), Some(ExitReason::Shutdown));
    }
    assert_eq!(actor_runtime::actor_count(), 0);
}
