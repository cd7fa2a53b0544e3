//! The same measurements on a peer crate, kameo, in the same run.

use std::time::{Duration, Instant};

use kameo::Actor;
use kameo::message::{Context, Message};
use kameo::prelude::Spawn;

#[derive(Actor)]
pub(crate) struct KCounter {
    total: u64,
}

pub(crate) struct Add(pub(crate) u64);
pub(crate) struct Echo(pub(crate) u64);

impl Message<Add> for KCounter {
    type Reply = ();

    async fn handle(&mut self, msg: Add, _ctx: &mut Context<Self, Self::Reply>) -> Self::Reply {
        self.total += msg.0;
    }
}

impl Message<Echo> for KCounter {
    type Reply = u64;

    async fn handle(&mut self, msg: Echo, _ctx: &mut Context<Self, Self::Reply>) -> Self::Reply {
        self.total += 1;
        msg.0
    }
}

/// Messages per second, as `tell_ours`.
pub(crate) async fn tell(n: u64) -> f64 {
    let counter =
        KCounter::spawn_with_mailbox(KCounter { total: 0 }, kameo::mailbox::bounded(1024));
    let started = Instant::now();
    for i in 0..n {
        counter.tell(Add(i)).await.expect("alive");
    }
    let _ = counter.ask(Echo(0)).await.expect("reply");
    let elapsed = started.elapsed();
    n as f64 / elapsed.as_secs_f64()
}

/// Round-trip samples, as `call_ours`.
pub(crate) async fn call(n: usize) -> Vec<Duration> {
    let counter =
        KCounter::spawn_with_mailbox(KCounter { total: 0 }, kameo::mailbox::bounded(1024));
    let mut samples = Vec::with_capacity(n);
    for i in 0..n as u64 {
        let t = Instant::now();
        let v = counter.ask(Echo(i)).await.expect("reply");
        samples.push(t.elapsed());
        assert_eq!(v, i);
    }
    samples
}
