//! Call deadlines without a tokio timer per call.
//!
//! Registering a tokio `Sleep` for every call costs more than the call itself on a
//! multi-threaded runtime (measured by `cargo run -p benches --release`: a raw mpsc+oneshot
//! round trip goes from ~250 ns to ~450 ns once wrapped in `tokio::time::timeout`). Calls
//! instead record `(deadline, waker)` in a table owned by their thread and served by one tokio
//! task, which sleeps until the earliest deadline and wakes the calls that passed it. A call
//! that is answered in time costs one uncontended lock to register and one to deregister, and
//! the service task is woken only when a new deadline is earlier than the one it sleeps for.
//!
//! The table uses tokio's clock, so paused time in tests drives call timeouts as it drives
//! every other timer.

use std::cell::RefCell;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Poll, Waker};

use tokio::time::Instant;

#[derive(Default)]
struct Table {
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    /// The deadline the service sleeps until, `None` while it waits for work.
    armed: Option<Instant>,
    service: Option<Waker>,
}

struct Slot {
    deadline: Instant,
    /// Taken when the deadline fires, so a call is woken once.
    waker: Option<Waker>,
}

#[derive(Default)]
pub(crate) struct Deadlines {
    table: Mutex<Table>,
    /// Cleared when the service task is dropped with its runtime.
    alive: AtomicBool,
}

impl Deadlines {
    fn lock(&self) -> MutexGuard<'_, Table> {
        crate::sync::lock(&self.table)
    }
}

impl Drop for Deadlines {
    // The thread that owned the table has exited and no call is registered: let the service
    // task see that and finish.
    fn drop(&mut self) {
        let table = self.table.get_mut().unwrap_or_else(PoisonError::into_inner);
        if let Some(service) = table.service.take() {
            service.wake();
        }
    }
}

thread_local! {
    static LOCAL: RefCell<Option<Arc<Deadlines>>> = const { RefCell::new(None) };
}

/// The table of this thread, starting its service task on the current runtime if needed;
/// `None` outside a tokio runtime.
fn local() -> Option<Arc<Deadlines>> {
    LOCAL.with(|local| {
        let mut local = local.borrow_mut();
        if let Some(table) = local.as_ref() {
            if table.alive.load(Ordering::Acquire) {
                return Some(table.clone());
            }
        }
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        let table = Arc::new(Deadlines::default());
        table.alive.store(true, Ordering::Release);
        // The guard travels inside the task from the start: if the runtime drops the task
        // before its first poll, the table is still marked dead.
        runtime.spawn(serve(AliveGuard(Arc::downgrade(&table))));
        *local = Some(table.clone());
        Some(table)
    })
}

/// A registered deadline; deregistered on drop.
pub(crate) struct Registration {
    table: Arc<Deadlines>,
    slot: usize,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("slot", &self.slot)
            .finish()
    }
}

/// Wakes `waker` at `deadline` unless the registration is dropped first. `None` outside a
/// tokio runtime, where nothing can keep time.
pub(crate) fn register(deadline: Instant, waker: &Waker) -> Option<Registration> {
    let table = local()?;
    let mut t = table.lock();
    let slot = Slot {
        deadline,
        waker: Some(waker.clone()),
    };
    let index = match t.free.pop() {
        Some(i) => {
            t.slots[i] = Some(slot);
            i
        }
        None => {
            t.slots.push(Some(slot));
            t.slots.len() - 1
        }
    };
    let wake_service = t.armed.is_none_or(|armed| deadline < armed);
    let service = if wake_service {
        t.armed = Some(deadline);
        t.service.take()
    } else {
        None
    };
    drop(t);
    if let Some(s) = service {
        s.wake();
    }
    Some(Registration { table, slot: index })
}

impl Registration {
    /// Keeps the waker current if the call moved to another task.
    pub(crate) fn update(&self, waker: &Waker) {
        let mut t = self.table.lock();
        if let Some(Some(slot)) = t.slots.get_mut(self.slot) {
            if let Some(w) = &mut slot.waker {
                if !w.will_wake(waker) {
                    *w = waker.clone();
                }
            }
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut t = self.table.lock();
        t.slots[self.slot] = None;
        t.free.push(self.slot);
    }
}

/// Owned by the service task; marks the table dead when the task goes (with its runtime).
struct AliveGuard(Weak<Deadlines>);

impl Drop for AliveGuard {
    fn drop(&mut self) {
        let Some(table) = self.0.upgrade() else {
            return;
        };
        table.alive.store(false, Ordering::Release);
        // Wake every waiting call so none hangs on a service that is gone: each re-checks
        // its deadline (and, its runtime shutting down, is dropped soon after).
        let wakers: Vec<Waker> = {
            let mut t = table.lock();
            t.slots
                .iter_mut()
                .flatten()
                .filter_map(|s| s.waker.take())
                .collect()
        };
        for w in wakers {
            w.wake();
        }
    }
}

/// The service task: sleeps until the earliest deadline, wakes the calls that passed theirs,
/// and ends once its table is gone (its thread exited with no call pending).
async fn serve(guard: AliveGuard) {
    let mut sleep = pin!(tokio::time::sleep_until(Instant::now()));
    poll_fn(|cx| {
        loop {
            let Some(table) = guard.0.upgrade() else {
                return Poll::Ready(());
            };
            let now = Instant::now();
            let mut expired = Vec::new();
            let mut earliest: Option<Instant> = None;
            {
                let mut t = table.lock();
                for slot in t.slots.iter_mut().flatten() {
                    if slot.waker.is_none() {
                        continue;
                    }
                    if slot.deadline <= now {
                        expired.extend(slot.waker.take());
                    } else if earliest.is_none_or(|e| slot.deadline < e) {
                        earliest = Some(slot.deadline);
                    }
                }
                t.armed = earliest;
                t.service = Some(cx.waker().clone());
            }
            for w in expired {
                w.wake();
            }
            drop(table);
            let Some(at) = earliest else {
                return Poll::Pending;
            };
            if sleep.deadline() != at {
                sleep.as_mut().reset(at);
            }
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
    })
    .await;
}
