//! Pools: N supervised workers of one actor type behind the worker's own typed client.

use std::fmt;
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use crate::actor::{Actor, start};
use crate::addr::Addr;
use crate::ctx::Ctx;
use crate::error::{SendError, SpawnError};
use crate::exit::ExitReason;
use crate::process::Process;
use crate::record::ProcessRecord;
use crate::stats;
use crate::supervisor::{
    Child, ChildId, Restart, Strategy, Supervisor, SupervisorError, SupervisorSpec, actor_child,
};
use crate::sync;
use crate::target::{ChildSlot, Client, Route, Target, Unavailable};

/// The workers a pool target spreads messages over.
pub(crate) struct Workers<M> {
    slots: RwLock<Vec<Arc<ChildSlot<M>>>>,
    next: AtomicUsize,
    shed: AtomicU64,
}

impl<M: Send + 'static> Workers<M> {
    fn slots(&self) -> std::sync::RwLockReadGuard<'_, Vec<Arc<ChildSlot<M>>>> {
        sync::read(&self.slots)
    }

    fn shed_one(&self) {
        self.shed.fetch_add(1, Ordering::Relaxed);
        stats::refused();
    }

    /// A worker with room, round-robin; for calls.
    fn pick_worker(&self) -> Result<Arc<ProcessRecord<M>>, Unavailable> {
        let slots = self.slots();
        let n = slots.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let mut alive = false;
        let mut last = ExitReason::NoProc;
        for k in 0..n {
            match slots[(start + k) % n].current() {
                Ok(cell) if cell.has_room() => return Ok(cell),
                Ok(_) => alive = true,
                Err(reason) => last = reason,
            }
        }
        drop(slots);
        if alive {
            self.shed_one();
            Err(Unavailable::Overloaded)
        } else {
            Err(Unavailable::Stopped(last))
        }
    }

    /// Round-robin over the workers, skipping full ones; for casts.
    fn cast_to_worker(&self, mut msg: M) -> Result<(), SendError> {
        let slots = self.slots();
        let n = slots.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let mut capacity = None;
        let mut last = ExitReason::NoProc;
        for k in 0..n {
            let Ok(cell) = slots[(start + k) % n].current() else {
                continue;
            };
            match cell.try_send_uncounted(msg) {
                Ok(()) => return Ok(()),
                Err((back, SendError::Full { capacity: c })) => {
                    msg = back;
                    capacity = Some(c);
                }
                Err((back, SendError::Stopped(reason))) => {
                    msg = back;
                    last = reason;
                }
                // Only a waiting send to oneself reports this; these sends fail fast.
                Err((back, SendError::OwnMailboxFull { capacity: c })) => {
                    msg = back;
                    capacity = Some(c);
                }
            }
        }
        drop(slots);
        match capacity {
            Some(capacity) => {
                self.shed_one();
                Err(SendError::Full { capacity })
            }
            None => {
                stats::undelivered();
                Err(SendError::Stopped(last))
            }
        }
    }
}

impl<M: Send + 'static> Route<M> for Workers<M> {
    fn pick(&self) -> Result<Arc<ProcessRecord<M>>, Unavailable> {
        self.pick_worker()
    }

    fn cast(&self, msg: M) -> Result<(), SendError> {
        self.cast_to_worker(msg)
    }

    fn describe(&self) -> &'static str {
        "Pool"
    }
}

/// Figures of a pool, as returned by [`Pool::stats`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolStats {
    /// Workers in the pool.
    pub workers: usize,
    /// Messages shed because every worker was full.
    pub shed: u64,
}

/// A pool of supervised workers of actor type `W`. It dereferences to `W`'s typed client:
/// each cast or call goes to the next worker (round-robin) that has room in its mailbox. When
/// every worker is full, a cast fails with [`SendError::Full`] and a call with
/// [`CallError::Overloaded`](crate::CallError::Overloaded), and the message is counted as shed
/// ([`Pool::stats`]): a pool sheds load, it never queues without bound or drops silently.
///
/// Crashed workers are restarted by the pool's supervisor (with the same arguments). Subscribe
/// a pool to a [`Topic`](crate::Topic) and it receives each event once.
///
/// The pool's own operations are associated functions (`Pool::resize(&pool, 8)`,
/// `Pool::stats(&pool)`), so they never shadow a worker handler of the same name.
pub struct Pool<W: Actor> {
    workers: Arc<Workers<W::Msg>>,
    client: W::Client,
    inner: Arc<PoolInner<W>>,
}

struct PoolInner<W: Actor> {
    supervisor: Addr<Supervisor>,
    children: Mutex<Vec<(ChildId, Child<W>)>>,
    args: W::Args,
}

impl<W: Actor> Pool<W>
where
    W::Args: Clone + Sync,
{
    /// Starts a pool of `size` workers, each started with a clone of `args`, under a
    /// supervisor that replaces crashed workers (at most `max(5, size)` restarts per 5 s).
    ///
    /// # Errors
    /// A worker failed to start (the workers already started are stopped).
    pub async fn start(size: usize, args: W::Args) -> Result<Self, SpawnError<SupervisorError>> {
        Self::start_under(size, args, None).await
    }

    /// As [`Pool::start`], from an actor, linked to it as its parent: if the actor stops, the
    /// pool stops; if the pool's supervisor gives up (its workers crash more often than its
    /// intensity allows), the actor receives its exit signal (reason `Shutdown`): it stops too,
    /// or its `#[on_exit]` hook hears of it. A pool is never silently dead.
    ///
    /// # Errors
    /// As [`Pool::start`].
    pub async fn start_link<A: Actor>(
        ctx: &mut Ctx<A>,
        size: usize,
        args: W::Args,
    ) -> Result<Self, SpawnError<SupervisorError>> {
        let parent = ctx.process_arc();
        Self::start_under(size, args, Some(&parent)).await
    }

    async fn start_under(
        size: usize,
        args: W::Args,
        parent: Option<&Arc<dyn Process>>,
    ) -> Result<Self, SpawnError<SupervisorError>> {
        let intensity = u32::try_from(size).unwrap_or(u32::MAX).max(5);
        let spec = SupervisorSpec::new(
            Strategy::SimpleOneForOne,
            intensity,
            SupervisorSpec::DEFAULT_PERIOD,
            Vec::new(),
        );
        let supervisor = start::<Supervisor>(spec, parent).await?;
        let workers = Arc::new(Workers {
            slots: RwLock::new(Vec::new()),
            next: AtomicUsize::new(0),
            shed: AtomicU64::new(0),
        });
        let pool = Pool {
            client: W::Client::__from_target(Target::routed(workers.clone())),
            workers,
            inner: Arc::new(PoolInner {
                supervisor,
                children: Mutex::new(Vec::new()),
                args,
            }),
        };
        if let Err(e) = Pool::<W>::resize(&pool, size).await {
            Pool::stop(&pool);
            pool.inner.supervisor.wait_for_exit().await;
            return Err(SpawnError::Init(e));
        }
        Ok(pool)
    }

    /// Grows or shrinks the pool to `size` workers. A removed worker first stops receiving
    /// new messages, then stops with its shutdown: it finishes its current message and runs
    /// `#[terminate]`; messages still queued in it are dropped and counted, and their callers
    /// get `CallError::Stopped`.
    ///
    /// # Errors
    /// A new worker failed to start, or the supervisor did not answer.
    pub async fn resize(this: &Self, size: usize) -> Result<(), SupervisorError> {
        loop {
            let current = Self::size(this);
            if current < size {
                let child = Child::<W>::__new();
                let args = this.inner.args.clone();
                let spec = actor_child(
                    &child,
                    "worker",
                    Restart::Permanent,
                    None,
                    None,
                    move || args.clone(),
                );
                let id = spec.id();
                this.inner
                    .supervisor
                    .start_child(spec)
                    .timeout(Duration::MAX)
                    .await
                    .map_err(SupervisorError::Unavailable)??;
                sync::write(&this.workers.slots).push(child.slot().clone());
                this.children().push((id, child));
            } else if current > size {
                let Some((id, child)) = this.children().pop() else {
                    return Ok(());
                };
                // No new messages reach it; then it stops by its identity, running or not.
                sync::write(&this.workers.slots).retain(|s| !Arc::ptr_eq(s, child.slot()));
                this.inner
                    .supervisor
                    .terminate_child(id)
                    .timeout(Duration::MAX)
                    .await
                    .map_err(SupervisorError::Unavailable)?;
            } else {
                return Ok(());
            }
        }
    }

    fn children(&self) -> std::sync::MutexGuard<'_, Vec<(ChildId, Child<W>)>> {
        sync::lock(&self.inner.children)
    }

    /// The number of workers.
    #[must_use]
    pub fn size(this: &Self) -> usize {
        this.children().len()
    }

    /// The workers' handles, in start order.
    #[must_use]
    pub fn workers(this: &Self) -> Vec<Child<W>> {
        this.children().iter().map(|(_, c)| c.clone()).collect()
    }

    /// Workers and shed messages.
    #[must_use]
    pub fn stats(this: &Self) -> PoolStats {
        PoolStats {
            workers: Self::size(this),
            shed: this.workers.shed.load(Ordering::Relaxed),
        }
    }

    /// The pool's supervisor.
    #[must_use]
    pub fn supervisor(this: &Self) -> &Addr<Supervisor> {
        &this.inner.supervisor
    }

    /// Stops every worker and the supervisor.
    pub fn stop(this: &Self) {
        this.inner.supervisor.stop_with(ExitReason::Shutdown);
    }
}

impl<W: Actor> Deref for Pool<W> {
    type Target = W::Client;

    fn deref(&self) -> &W::Client {
        &self.client
    }
}

/// A pool is gone once its supervisor has stopped: no worker will ever come back.
impl<W: Actor> crate::event::Subscriber for Pool<W>
where
    W::Args: Sync,
{
    fn is_gone(&self) -> bool {
        !self.inner.supervisor.is_alive()
    }
}

impl<W: Actor> Clone for Pool<W> {
    fn clone(&self) -> Self {
        Pool {
            workers: self.workers.clone(),
            client: W::Client::__from_target(Target::routed(self.workers.clone())),
            inner: self.inner.clone(),
        }
    }
}

impl<W: Actor> fmt::Debug for Pool<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("type", &std::any::type_name::<W>())
            .field("supervisor", &self.inner.supervisor.pid())
            .finish_non_exhaustive()
    }
}
