//! Pools: round-robin over workers with room, load shedding, replacement, resizing, and a pool
//! subscribed to a topic as one subscriber, pools linked to an actor and pools as children of
//! a `#[supervisor]`.

use std::sync::{Arc, Mutex};

use actor_runtime::Pool;
use actor_runtime::prelude::*;

/// Who handled what, shared by the workers of one pool.
type Ledger = Arc<Mutex<Vec<(Pid, u32)>>>;

#[actor(mailbox = 2)]
struct Worker {
    ledger: Ledger,
}

#[actor]
impl Worker {
    #[init]
    fn init(ledger: Ledger) -> Self {
        Worker { ledger }
    }

    #[handle(cast)]
    fn job(&mut self, n: u32, ctx: &mut Ctx<Self>) {
        self.ledger.lock().expect("ledger").push((ctx.pid(), n));
    }

    #[handle(call)]
    fn whoami(&self, ctx: &mut Ctx<Self>) -> Pid {
        ctx.pid()
    }

    #[handle(cast)]
    async fn block_on(&mut self, gate: tokio::sync::oneshot::Receiver<()>) {
        let _ = gate.await;
    }

    #[handle(cast)]
    fn crash(&mut self) {
        panic!("worker crashed on purpose");
    }

    #[handle(cast)]
    fn on_event(&mut self, event: Event<u32>, ctx: &mut Ctx<Self>) {
        if let Event::Published(n) = event {
            self.ledger.lock().expect("ledger").push((ctx.pid(), n));
        }
    }
}

async fn drain(pool: &Pool<Worker>) {
    // A call per worker behind the casts: each answers after its earlier messages.
    for w in Pool::workers(pool) {
        w.whoami().await.expect("worker answers");
    }
}

#[tokio::test]
async fn casts_go_round_robin_over_the_workers() {
    let ledger = Ledger::default();
    let pool = Pool::<Worker>::start(3, ledger.clone())
        .await
        .expect("pool");
    for n in 0..30 {
        // Wait for room so the test is about distribution, not shedding.
        while pool.job(n).is_err() {
            tokio::task::yield_now().await;
        }
        if n % 3 == 2 {
            drain(&pool).await;
        }
    }
    drain(&pool).await;
    let seen = ledger.lock().expect("ledger").clone();
    assert_eq!(seen.len(), 30);
    for w in Pool::workers(&pool) {
        let pid = w.addr().expect("running").pid();
        assert_eq!(seen.iter().filter(|(p, _)| *p == pid).count(), 10);
    }
}

#[tokio::test]
async fn a_full_pool_sheds_casts_and_calls_and_counts_them() {
    let pool = Pool::<Worker>::start(2, Ledger::default())
        .await
        .expect("pool");
    let mut gates = Vec::new();
    for w in Pool::workers(&pool) {
        let (gate, rx) = tokio::sync::oneshot::channel();
        w.block_on(rx).expect("queued");
        w.job(0).expect("room for one more");
        gates.push(gate);
    }
    assert_eq!(pool.job(1), Err(SendError::Full { capacity: 2 }));
    assert_eq!(pool.whoami().await, Err(CallError::Overloaded));
    assert_eq!(Pool::stats(&pool).shed, 2);
    for g in gates {
        g.send(()).expect("worker waits");
    }
    // Once the workers have caught up, the pool takes calls again.
    drain(&pool).await;
    assert!(pool.whoami().await.is_ok());
}

#[tokio::test]
async fn crashed_workers_are_replaced() {
    let pool = Pool::<Worker>::start(2, Ledger::default())
        .await
        .expect("pool");
    let first = Pool::workers(&pool)[0].addr().expect("running");
    first.crash().expect("queued");
    first.wait_for_exit().await;
    Pool::supervisor(&pool)
        .expect("running")
        .children()
        .await
        .expect("restart done");
    let replaced = Pool::workers(&pool)[0].addr().expect("replaced");
    assert_ne!(replaced.pid(), first.pid());
    assert_eq!(Pool::size(&pool), 2);
    for _ in 0..4 {
        assert!(pool.whoami().await.is_ok());
    }
}

#[tokio::test]
async fn pools_resize_at_run_time() {
    let pool = Pool::<Worker>::start(2, Ledger::default())
        .await
        .expect("pool");
    Pool::resize(&pool, 5).await.expect("grow");
    assert_eq!(Pool::size(&pool), 5);
    assert_eq!(
        Pool::supervisor(&pool)
            .expect("running")
            .children()
            .await
            .map(|c| c.len()),
        Ok(5)
    );
    let removed = Pool::workers(&pool)[4].addr().expect("running");
    Pool::resize(&pool, 1).await.expect("shrink");
    assert_eq!(Pool::size(&pool), 1);
    assert_eq!(removed.wait_for_exit().await, ExitReason::Shutdown);
    assert_eq!(
        Pool::supervisor(&pool)
            .expect("running")
            .children()
            .await
            .map(|c| c.len()),
        Ok(1)
    );
    let only = Pool::workers(&pool)[0].addr().expect("running").pid();
    for _ in 0..3 {
        assert_eq!(pool.whoami().await, Ok(only));
    }
}

/// Owns a topic.
#[actor]
struct Source {
    topic: Topic<u32>,
    publisher: Publisher<u32>,
}

#[actor]
impl Source {
    #[init]
    fn init(ctx: &mut Ctx<Self>) -> Self {
        let (topic, publisher) = ctx.topic(0);
        Source { topic, publisher }
    }

    #[handle(call)]
    fn topic(&self) -> Topic<u32> {
        self.topic.clone()
    }

    #[handle(call)]
    fn publisher(&self) -> Publisher<u32> {
        self.publisher.clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_subscribed_to_a_topic_gets_each_event_exactly_once() {
    let ledger = Ledger::default();
    let pool = Pool::<Worker>::start(4, ledger.clone())
        .await
        .expect("pool");
    let source = Source::spawn(()).await.expect("source");
    let topic = source.topic().await.expect("topic");
    topic.subscribe(pool.clone(), |p, event| p.on_event(event));
    let publishers: Vec<_> = (0..2u32)
        .map(|p| {
            let source = source.clone();
            let pool = pool.clone();
            tokio::spawn(async move {
                let publisher = source.publisher().await.expect("token");
                for i in 0..200 {
                    publisher.publish(p * 1000 + i).expect("open");
                    if i % 4 == 3 {
                        drain(&pool).await;
                    }
                }
            })
        })
        .collect();
    for p in publishers {
        p.await.expect("publisher");
    }
    drain(&pool).await;
    let shed = topic.stats().shed;
    let mut seen: Vec<u32> = ledger
        .lock()
        .expect("ledger")
        .iter()
        .map(|(_, n)| *n)
        .collect();
    seen.sort_unstable();
    let before = seen.len();
    seen.dedup();
    assert_eq!(seen.len(), before, "no event was delivered twice");
    assert_eq!(
        seen.len() as u64 + shed,
        400,
        "every event delivered once or counted as shed"
    );
    let workers_used: std::collections::HashSet<Pid> = ledger
        .lock()
        .expect("ledger")
        .iter()
        .map(|(p, _)| *p)
        .collect();
    assert!(workers_used.len() > 1, "spread over the workers");
}

#[tokio::test(start_paused = true)]
async fn stopping_a_pool_stops_its_workers_concurrently() {
    let pool = Pool::<Worker>::start(3, Ledger::default())
        .await
        .expect("pool");
    let mut gates = Vec::new();
    for w in Pool::workers(&pool) {
        // Stuck in a handler: each worker can only be killed at the end of its 5 s shutdown.
        let (gate, rx) = tokio::sync::oneshot::channel();
        w.block_on(rx).expect("queued");
        assert_eq!(
            w.whoami()
                .timeout(std::time::Duration::from_millis(1))
                .await,
            Err(CallError::Timeout(std::time::Duration::from_millis(1))),
            "the worker is stuck"
        );
        gates.push(gate);
    }
    let started = tokio::time::Instant::now();
    Pool::stop(&pool);
    Pool::supervisor(&pool)
        .expect("running")
        .wait_for_exit()
        .await;
    assert_eq!(started.elapsed(), std::time::Duration::from_secs(5));
    for w in Pool::workers(&pool) {
        assert_eq!(w.exit_reason(), Some(ExitReason::Killed));
    }
}

/// Starts a pool linked to itself and records the exit signals it traps.
#[actor]
struct PoolOwner {
    pool: Option<Pool<Worker>>,
    exits: Vec<ExitReason>,
}

#[actor]
impl PoolOwner {
    #[init]
    async fn init(ledger: Ledger, ctx: &mut Ctx<Self>) -> Self {
        let pool = Pool::start_link(ctx, 2, ledger).await.expect("pool");
        PoolOwner {
            pool: Some(pool),
            exits: Vec::new(),
        }
    }

    #[handle(call)]
    fn pool(&self) -> Option<Pool<Worker>> {
        self.pool.clone()
    }

    #[handle(call)]
    fn exits(&self) -> Vec<ExitReason> {
        self.exits.clone()
    }

    #[on_exit]
    fn exited(&mut self, exit: Exit) {
        self.exits.push(exit.reason);
    }
}

#[tokio::test]
async fn a_pool_whose_supervisor_gives_up_tells_the_actor_that_started_it() {
    let owner = PoolOwner::spawn(Ledger::default()).await.expect("owner");
    let pool = owner.pool().await.expect("owner").expect("pool");
    let sup = Pool::supervisor(&pool).expect("running");
    // Intensity max(5, 2) = 5 restarts per 5 s: the sixth crash makes the supervisor give up.
    while sup.is_alive() {
        for w in Pool::workers(&pool) {
            if let Some(addr) = w.addr() {
                let _ = addr.crash();
                addr.wait_for_exit().await;
            }
        }
    }
    assert_eq!(sup.wait_for_exit().await, ExitReason::Shutdown);
    while owner.exits().await.expect("owner").is_empty() {
        tokio::task::yield_now().await;
    }
    assert_eq!(owner.exits().await, Ok(vec![ExitReason::Shutdown]));
}

#[tokio::test]
async fn a_pool_started_from_an_actor_stops_with_it() {
    let owner = PoolOwner::spawn(Ledger::default()).await.expect("owner");
    let pool = owner.pool().await.expect("owner").expect("pool");
    let sup = Pool::supervisor(&pool).expect("running");
    owner.stop_with(ExitReason::error("owner failed"));
    owner.wait_for_exit().await;
    assert_eq!(sup.wait_for_exit().await, ExitReason::error("owner failed"));

    // Also when the owner finishes normally: the pool does not outlive it.
    let owner = PoolOwner::spawn(Ledger::default()).await.expect("owner");
    let pool = owner.pool().await.expect("owner").expect("pool");
    let sup = Pool::supervisor(&pool).expect("running");
    owner.stop();
    assert_eq!(sup.wait_for_exit().await, ExitReason::Normal);
    assert!(Pool::workers(&pool).iter().all(|w| w.addr().is_none()));
}

/// A front actor that sits after the pool in a `rest_for_one` tree.
#[actor]
struct Front;

#[actor]
impl Front {
    #[init]
    fn init() -> Self {
        Front
    }

    #[handle(call)]
    fn whoami(&self, ctx: &mut Ctx<Self>) -> Pid {
        ctx.pid()
    }
}

#[supervisor(rest_for_one, intensity = 3, period = "5s")]
struct Service {
    #[child(size = 2, args = Ledger::default())]
    workers: Pool<Worker>,
    front: Child<Front>,
}

#[tokio::test]
async fn a_pool_is_a_child_of_a_supervisor_and_its_handle_survives_a_restart() {
    let tree = Service::start().await.expect("tree");
    assert_eq!(Pool::size(&tree.workers), 2);
    assert!(tree.workers.whoami().await.is_ok());
    let first = Pool::supervisor(&tree.workers).expect("running");
    let front = tree.front.addr().expect("running").pid();
    // Crash workers until the pool's own supervisor gives up (intensity 5 per 5 s).
    while first.is_alive() {
        for w in Pool::workers(&tree.workers) {
            if let Some(addr) = w.addr() {
                let _ = addr.crash();
                addr.wait_for_exit().await;
            }
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(first.wait_for_exit().await, ExitReason::Shutdown);
    // The parent restarts the pool, with its declared size, and (rest_for_one) the front.
    let again = loop {
        if let Some(sup) = Pool::supervisor(&tree.workers) {
            if sup.pid() != first.pid() && Pool::size(&tree.workers) == 2 {
                break sup;
            }
        }
        tokio::task::yield_now().await;
    };
    assert!(again.is_alive());
    assert!(
        tree.workers.whoami().await.is_ok(),
        "the same handle reaches the new workers"
    );
    let restarted_front = loop {
        match tree.front.addr() {
            Some(addr) if addr.pid() != front => break addr,
            _ => tokio::task::yield_now().await,
        }
    };
    assert!(restarted_front.whoami().await.is_ok());
    tree.stop();
    assert_eq!(again.wait_for_exit().await, ExitReason::Shutdown);
    // Stopped for good: the handle reports it instead of pointing at dead workers.
    assert!(Pool::supervisor(&tree.workers).is_none());
    assert!(tree.workers.whoami().await.is_err());
}
