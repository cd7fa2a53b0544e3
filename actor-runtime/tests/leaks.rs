//! Memory that must not grow: 100,000 monitor and subscribe cycles against one long-lived
//! actor or topic leave its bookkeeping bounded.
//!
//! Live heap bytes are counted by the global allocator of this test binary (`cap`); each test runs on
//! a current-thread runtime and the tests of this file run one at a time (one lock), so the
//! count is this test's own.

use std::alloc::System;
use std::sync::Mutex;

use actor_runtime::prelude::*;
use cap::Cap;

#[global_allocator]
static ALLOC: Cap<System> = Cap::new(System, usize::MAX);

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const CYCLES: usize = 100_000;
/// What 100,000 cycles may add: a few KiB of amortised queue and table growth. A record kept
/// per cycle would add megabytes (at least 24 bytes each: 2.4 MB).
const BOUND: isize = 256 * 1024;

fn live() -> isize {
    isize::try_from(ALLOC.allocated()).unwrap_or(isize::MAX)
}

/// Lives a moment.
#[actor(mailbox = 4)]
struct Brief;

#[actor]
impl Brief {
    #[init]
    fn init() -> Self {
        Brief
    }

    #[handle(cast)]
    fn nothing(&mut self) {}
}

/// Monitors every `Brief` it is given and counts their `Down`s.
#[actor(mailbox = 64)]
struct Watcher {
    downs: u64,
}

#[actor]
impl Watcher {
    #[init]
    fn init() -> Self {
        Watcher { downs: 0 }
    }

    #[handle(call)]
    fn watch(&mut self, target: Addr<Brief>, ctx: &mut Ctx<Self>) -> MonitorRef {
        ctx.monitor(&target)
    }

    #[handle(call)]
    fn downs(&self) -> u64 {
        self.downs
    }

    #[on_down]
    fn down(&mut self, _down: Down) {
        self.downs += 1;
    }
}

async fn monitor_cycle(watcher: &Addr<Watcher>) {
    let brief = Brief::spawn(()).await.expect("brief");
    watcher.watch(brief.clone()).await.expect("watch");
    brief.stop();
    brief.wait_for_exit().await;
}

#[test]
fn a_watcher_of_many_short_lived_actors_does_not_grow() {
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let watcher = Watcher::spawn(()).await.expect("watcher");
        for _ in 0..1_000 {
            monitor_cycle(&watcher).await;
        }
        while watcher.downs().await.expect("alive") < 1_000 {}
        let before = live();
        for _ in 0..CYCLES {
            monitor_cycle(&watcher).await;
        }
        let total = (1_000 + CYCLES) as u64;
        while watcher.downs().await.expect("alive") < total {
            tokio::task::yield_now().await;
        }
        let grown = live() - before;
        assert!(
            grown < BOUND,
            "{CYCLES} monitor cycles grew the heap by {grown} bytes (bound {BOUND})"
        );
    });
}

/// Owns a topic.
#[actor]
struct Owner {
    topic: Topic<u32>,
    _publisher: Publisher<u32>,
}

#[actor]
impl Owner {
    #[init]
    fn init(ctx: &mut Ctx<Self>) -> Self {
        let (topic, _publisher) = ctx.topic(0);
        Owner { topic, _publisher }
    }

    #[handle(call)]
    fn topic(&self) -> Topic<u32> {
        self.topic.clone()
    }
}

/// Subscribes, then exits.
#[actor(mailbox = 4)]
struct Listener;

#[actor]
impl Listener {
    #[init]
    fn init() -> Self {
        Listener
    }

    #[handle(cast)]
    fn on_event(&mut self, _event: Event<u32>) {}
}

async fn subscribe_cycle(topic: &Topic<u32>) {
    let listener = Listener::spawn(()).await.expect("listener");
    topic.subscribe(listener.clone(), |l, event| l.on_event(event));
    listener.stop();
    listener.wait_for_exit().await;
}

#[test]
fn subscribers_that_exit_are_removed() {
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let owner = Owner::spawn(()).await.expect("owner");
        let topic = owner.topic().await.expect("topic");
        for _ in 0..1_000 {
            subscribe_cycle(&topic).await;
        }
        let before = live();
        for _ in 0..CYCLES {
            subscribe_cycle(&topic).await;
        }
        let grown = live() - before;
        assert!(
            grown < BOUND,
            "{CYCLES} subscribe cycles grew the heap by {grown} bytes (bound {BOUND})"
        );
        assert!(
            topic.stats().subscribers <= 64,
            "{} subscribers of stopped actors kept",
            topic.stats().subscribers
        );
    });
}
