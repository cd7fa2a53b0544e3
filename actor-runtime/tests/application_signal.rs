//! SIGTERM stops a node gracefully, losing no acknowledged work. One test in this file: it
//! sends SIGTERM to its own process.
#![cfg(unix)]

use std::sync::Mutex;

use actor_runtime::prelude::*;
use actor_runtime::{App, AppController, ControllerExit};

/// Stands for durable storage.
static DISK: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// Acknowledges records at once, writes them in batches: only on flush or termination.
#[actor]
struct Ledger {
    pending: Vec<u32>,
}

#[actor]
impl Ledger {
    #[init]
    fn init() -> Self {
        Ledger {
            pending: Vec::new(),
        }
    }

    /// Acknowledged once buffered.
    #[handle(call)]
    fn record(&mut self, n: u32) -> bool {
        self.pending.push(n);
        true
    }

    #[terminate]
    fn flush(&mut self, _reason: &ExitReason) {
        DISK.lock().expect("disk").append(&mut self.pending);
    }
}

#[supervisor(one_for_one)]
struct Books {
    ledger: Child<Ledger>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_node_gracefully_and_keeps_acknowledged_work() {
    let node = AppController::new();
    let books = node.start(App::<Books>::new("books")).await.expect("start");
    // The handlers are installed here, so the signal below cannot kill the test process.
    let run = node.run();
    let work = async {
        let mut acknowledged = Vec::new();
        for n in 0..100 {
            if books.ledger.record(n).await == Ok(true) {
                acknowledged.push(n);
            }
        }
        let status = std::process::Command::new("kill")
            .args(["-TERM", &std::process::id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        acknowledged
    };
    let (exit, acknowledged) = tokio::join!(run, work);
    assert_eq!(exit, ControllerExit::Signal("SIGTERM"));
    assert_eq!(*DISK.lock().expect("disk"), acknowledged);
    assert_eq!(acknowledged.len(), 100);
}
