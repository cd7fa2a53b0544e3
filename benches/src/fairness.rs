//! Fairness: the call latency of an idle actor while `n` handlers compute on a 2-worker
//! runtime, with the computing actors declared `#[actor(blocking)]` and without.

use std::time::{Duration, Instant};

use actor_runtime::prelude::*;

/// Spins for the time it is told, on a thread of its own.
#[actor(blocking)]
struct Declared;

#[actor]
impl Declared {
    #[init]
    fn init() -> Self {
        Declared
    }

    #[handle(call)]
    fn compute(&mut self, for_: Duration) -> u64 {
        spin(for_)
    }
}

/// The same, on the runtime's workers.
#[actor]
struct Undeclared;

#[actor]
impl Undeclared {
    #[init]
    fn init() -> Self {
        Undeclared
    }

    #[handle(call)]
    fn compute(&mut self, for_: Duration) -> u64 {
        spin(for_)
    }
}

#[actor]
struct Idle;

#[actor]
impl Idle {
    #[init]
    fn init() -> Self {
        Idle
    }

    #[handle(call)]
    fn ping(&self) -> u8 {
        1
    }
}

fn spin(for_: Duration) -> u64 {
    let end = Instant::now() + for_;
    let mut n = 0u64;
    while Instant::now() < end {
        n = n.wrapping_add(1);
        std::hint::spin_loop();
    }
    n
}

/// Median and largest latency (ns) of calls to an idle actor, one every millisecond, taken
/// from outside the workers while `n` handlers compute for `compute`.
pub(crate) fn idle_call_latency(n: usize, declared: bool, compute: Duration) -> (f64, f64) {
    crate::runtime().block_on(async move {
        // The computation goes on a watchdog that stays quiet: this measures the stall.
        actor_runtime::watchdog::set_budget(None);
        let idle = Idle::spawn(()).await.expect("spawn");
        idle.ping().await.expect("warm");
        let mut busy = Vec::new();
        for _ in 0..n {
            if declared {
                let a = Declared::spawn(()).await.expect("spawn");
                busy.push(tokio::spawn(async move {
                    a.compute(compute)
                        .timeout(compute * 10)
                        .await
                        .expect("computed");
                }));
            } else {
                let a = Undeclared::spawn(()).await.expect("spawn");
                busy.push(tokio::spawn(async move {
                    a.compute(compute)
                        .timeout(compute * 10)
                        .await
                        .expect("computed");
                }));
            }
        }
        // Let every handler start.
        std::thread::sleep(Duration::from_millis(20));
        let mut samples = Vec::new();
        let end = Instant::now() + compute / 2;
        while Instant::now() < end {
            let t = Instant::now();
            idle.ping().await.expect("answered");
            samples.push(t.elapsed());
            std::thread::sleep(Duration::from_millis(1));
        }
        for b in busy {
            b.await.expect("computed");
        }
        samples.sort_unstable();
        let median = samples[samples.len() / 2].as_nanos() as f64;
        let max = samples[samples.len() - 1].as_nanos() as f64;
        (median, max)
    })
}
