//! Pools: N supervised workers of one actor type behind the worker's own typed client.

use std::fmt;
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use crate::actor::{Actor, start};
use crate::addr::Addr;
use crate::ctx::Ctx;
use crate::error::{SendError, SpawnError};
use crate::exit::ExitReason;
use crate::process::Process;
use crate::record::ProcessRecord;
use crate::supervisor::{
    Child, ChildId, ChildSpec, Restart, Shutdown, StartFuture, Started, Starter, Strategy,
    Supervisor, SupervisorError, SupervisorSlot, SupervisorSpec, actor_child,
};
use crate::tables::TablesRef;
use crate::target::{ChildSlot, Client, Route, Target, Unavailable};
use crate::{sync, table};

/// The workers a pool target spreads messages over.
pub(crate) struct Workers<M> {
    slots: RwLock<Vec<Arc<ChildSlot<M>>>>,
    next: AtomicUsize,
    shed: AtomicU64,
    /// The node the pool runs on, where what it sheds is counted (set when it starts).
    tables: RwLock<TablesRef>,
}

impl<M: Send + 'static> Workers<M> {
    fn slots(&self) -> std::sync::RwLockReadGuard<'_, Vec<Arc<ChildSlot<M>>>> {
        sync::read(&self.slots)
    }

    fn shed_one(&self) {
        self.shed.fetch_add(1, Ordering::Relaxed);
        sync::read(&self.tables).counters.refused();
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
                // Workers are local: a local mailbox never reports it.
                Err((back, SendError::Remote(_))) => msg = back,
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
                sync::read(&self.tables).counters.undelivered();
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

    fn describe(&self) -> String {
        "Pool".to_owned()
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
/// A pool is started on its own ([`Pool::start`]), linked to an actor ([`Pool::start_link`]),
/// or as a child of a `#[supervisor]` struct (a field `Pool<W>` with `#[child(size = N)]`):
/// there the pool's supervisor is a child like any other, restarted with its workers by the
/// parent's strategy, and the handle keeps pointing at the pool across restarts.
///
/// The pool's own operations are associated functions (`Pool::resize(&pool, 8)`,
/// `Pool::stats(&pool)`), so they never shadow a worker handler of the same name.
pub struct Pool<W: Actor> {
    workers: Arc<Workers<W::Msg>>,
    client: W::Client,
    inner: Arc<PoolInner<W>>,
}

/// Makes the start argument of each worker.
type MakeArgs<A> = Arc<dyn Fn() -> A + Send + Sync>;

struct PoolInner<W: Actor> {
    /// The pool's supervisor while it runs; its id is the pool's in a parent supervisor.
    supervisor: SupervisorSlot,
    children: Mutex<Vec<(ChildId, Child<W>)>>,
    args: RwLock<Option<MakeArgs<W::Args>>>,
    /// A child of a `#[supervisor]`, which restarts it.
    supervised: AtomicBool,
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
        let pool = Self::__new();
        pool.run(size, Arc::new(move || args.clone()), None).await?;
        Ok(pool)
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
        let pool = Self::__new();
        pool.run(size, Arc::new(move || args.clone()), Some(&parent))
            .await?;
        Ok(pool)
    }
}

impl<W: Actor> Pool<W> {
    /// A handle to a pool that is not running yet; a parent supervisor starts it.
    #[doc(hidden)]
    #[must_use]
    pub fn __new() -> Self {
        let workers = Arc::new(Workers {
            slots: RwLock::new(Vec::new()),
            next: AtomicUsize::new(0),
            shed: AtomicU64::new(0),
            tables: RwLock::new(TablesRef::DEFAULT),
        });
        Pool {
            client: W::Client::__from_target(Target::routed(workers.clone())),
            workers,
            inner: Arc::new(PoolInner {
                supervisor: SupervisorSlot::__new(),
                children: Mutex::new(Vec::new()),
                args: RwLock::new(None),
                supervised: AtomicBool::new(false),
            }),
        }
    }

    /// Starts (or restarts) the pool's supervisor under `parent` with `size` workers; the
    /// handle points at the new workers.
    async fn run(
        &self,
        size: usize,
        args: MakeArgs<W::Args>,
        parent: Option<&Arc<dyn Process>>,
    ) -> Result<Addr<Supervisor>, SpawnError<SupervisorError>> {
        let intensity = u32::try_from(size).unwrap_or(u32::MAX).max(5);
        let spec = SupervisorSpec::new(
            Strategy::SimpleOneForOne,
            intensity,
            SupervisorSpec::DEFAULT_PERIOD,
            Vec::new(),
        );
        let tables = parent.map(|p| table::of(&**p));
        let supervisor = start::<Supervisor>(spec, parent, tables).await?;
        *sync::write(&self.workers.tables) = supervisor.record().tables().clone();
        *sync::write(&self.inner.args) = Some(args);
        // Workers of an earlier incarnation are gone with its supervisor.
        self.forget_workers();
        self.inner.supervisor.set(supervisor.clone());
        if let Err(e) = Pool::resize(self, size).await {
            supervisor.stop_with(ExitReason::Shutdown);
            supervisor.wait_for_exit().await;
            return Err(SpawnError::Init(e));
        }
        Ok(supervisor)
    }

    fn not_running() -> SupervisorError {
        SupervisorError::Unavailable(crate::CallError::Stopped(ExitReason::NoProc))
    }

    /// Grows or shrinks the pool to `size` workers. A removed worker first stops receiving
    /// new messages, then stops with its shutdown: it finishes its current message and runs
    /// `#[terminate]`; messages still queued in it are dropped and counted, and their callers
    /// get `CallError::Stopped`.
    ///
    /// # Errors
    /// A new worker failed to start, or the supervisor did not answer or is not running (a
    /// pool in a `#[supervisor]` between restarts).
    pub async fn resize(this: &Self, size: usize) -> Result<(), SupervisorError> {
        loop {
            let supervisor = this.inner.supervisor.addr().ok_or_else(Self::not_running)?;
            let current = Self::size(this);
            if current < size {
                let child = Child::<W>::__new();
                let make = sync::read(&this.inner.args)
                    .clone()
                    .ok_or_else(Self::not_running)?;
                let spec = actor_child(
                    &child,
                    "worker",
                    Restart::Permanent,
                    None,
                    None,
                    move || make(),
                );
                let id = spec.id();
                supervisor
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
                supervisor
                    .terminate_child(id)
                    .timeout(Duration::MAX)
                    .await
                    .map_err(SupervisorError::Unavailable)?;
            } else {
                return Ok(());
            }
        }
    }

    /// No message goes to the workers of a stopped incarnation.
    fn forget_workers(&self) {
        sync::write(&self.workers.slots).clear();
        self.children().clear();
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

    /// The pool's supervisor while it runs (it changes when a parent supervisor restarts
    /// the pool).
    #[must_use]
    pub fn supervisor(this: &Self) -> Option<Addr<Supervisor>> {
        this.inner.supervisor.addr()
    }

    /// Stops every worker and the supervisor.
    pub fn stop(this: &Self) {
        if let Some(supervisor) = Self::supervisor(this) {
            supervisor.stop_with(ExitReason::Shutdown);
        }
    }
}

/// Starts a pool as the child of a `#[supervisor]`: each (re)start runs a new pool
/// supervisor with `size` workers.
struct PoolStarter<W: Actor> {
    pool: Pool<W>,
    size: usize,
    args: MakeArgs<W::Args>,
}

impl<W: Actor> Starter for PoolStarter<W> {
    fn start<'a>(&'a self, parent: &'a Arc<dyn Process>) -> StartFuture<'a> {
        Box::pin(async move {
            let supervisor = self
                .pool
                .run(self.size, self.args.clone(), Some(parent))
                .await
                .map_err(|e| e.to_string())?;
            let process: Arc<dyn Process> = supervisor.record().clone();
            Ok(Started {
                pid: supervisor.pid(),
                process,
            })
        })
    }

    fn clear(&self, reason: ExitReason) {
        self.pool.forget_workers();
        self.pool.inner.supervisor.clear(reason);
    }
}

/// The spec of a pool child of a `#[supervisor]`.
#[doc(hidden)]
pub fn pool_child<W, F>(
    pool: &Pool<W>,
    field: &'static str,
    restart: Restart,
    shutdown: Option<Shutdown>,
    size: usize,
    args: F,
) -> ChildSpec
where
    W: Actor,
    F: Fn() -> W::Args + Send + Sync + 'static,
{
    pool.inner.supervised.store(true, Ordering::Relaxed);
    ChildSpec {
        id: pool.inner.supervisor.id(),
        name: field,
        restart,
        shutdown: shutdown.unwrap_or(Shutdown::Infinity),
        starter: Box::new(PoolStarter {
            pool: pool.clone(),
            size,
            args: Arc::new(args),
        }),
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
        // A pool in a `#[supervisor]` is never gone: its parent may start it again.
        !self.inner.supervised.load(Ordering::Relaxed)
            && self.inner.supervisor.exit_reason().is_some()
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
            .field("supervisor", &self.inner.supervisor)
            .finish_non_exhaustive()
    }
}
