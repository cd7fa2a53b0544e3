//! Messaging semantics: ordering, calls, timeouts, bounded mailboxes, the system lane.

mod common;

use std::future::Future;
use std::time::Duration;

use actor_runtime::prelude::*;
use common::{Probe, Recorder, recorder};

#[tokio::test]
async fn messages_from_one_sender_arrive_in_send_order() {
    let (addr, probe) = recorder().await;
    let senders: Vec<_> = (0..4u32)
        .map(|from| {
            let addr = addr.clone();
            tokio::spawn(async move {
                for seq in 0..200u32 {
                    let msg = common::RecorderMsg::Seq { from, seq };
                    addr.send(msg).await.expect("recorder alive");
                }
            })
        })
        .collect();
    for s in senders {
        s.await.expect("sender task");
    }
    addr.double(0).await.expect("barrier call");
    let events = probe.events();
    assert_eq!(events.len(), 800);
    for from in 0..4u32 {
        let seqs: Vec<u32> = events
            .iter()
            .filter_map(|e| e.strip_prefix(&format!("{from}:")))
            .map(|s| s.parse().expect("seq"))
            .collect();
        assert_eq!(
            seqs,
            (0..200).collect::<Vec<_>>(),
            "sender {from} out of order"
        );
    }
}

#[tokio::test]
async fn sync_and_async_handlers_reply() {
    let (addr, _) = recorder().await;
    assert_eq!(addr.double(21).await, Ok(42));
    assert_eq!(addr.double_later(4, Duration::from_millis(1)).await, Ok(8));
}

#[tokio::test(start_paused = true)]
async fn call_times_out_after_five_seconds_by_default() {
    let (addr, _) = recorder().await;
    let (_gate, rx) = tokio::sync::oneshot::channel();
    addr.block_on(rx).expect("queued");
    let started = tokio::time::Instant::now();
    let result = addr.double(1).await;
    assert_eq!(result, Err(CallError::Timeout(Duration::from_secs(5))));
    assert_eq!(started.elapsed(), Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn call_timeout_can_be_overridden_per_call() {
    let (addr, _) = recorder().await;
    let (_gate, rx) = tokio::sync::oneshot::channel();
    addr.block_on(rx).expect("queued");
    let result = addr.double(1).timeout(Duration::from_millis(50)).await;
    assert_eq!(result, Err(CallError::Timeout(Duration::from_millis(50))));
}

#[tokio::test(start_paused = true)]
async fn late_reply_after_timeout_is_counted() {
    let (addr, _) = recorder().await;
    let before = actor_runtime::stats().late_replies;
    let result = addr
        .double_later(1, Duration::from_secs(2))
        .timeout(Duration::from_secs(1))
        .await;
    assert_eq!(result, Err(CallError::Timeout(Duration::from_secs(1))));
    // The handler finishes at t = 2 s and its reply finds nobody waiting.
    addr.double(0).await.expect("barrier");
    assert!(actor_runtime::stats().late_replies > before);
}

#[tokio::test(start_paused = true)]
async fn call_to_dead_actor_fails_fast() {
    let (addr, _) = recorder().await;
    addr.stop();
    assert_eq!(addr.wait_for_exit().await, ExitReason::Normal);
    let started = tokio::time::Instant::now();
    assert_eq!(
        addr.double(1).await,
        Err(CallError::Stopped(ExitReason::Normal))
    );
    assert_eq!(started.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn call_fails_fast_when_callee_dies_before_replying() {
    let (addr, _) = recorder().await;
    let caller = {
        let addr = addr.clone();
        tokio::spawn(async move { addr.hold().await })
    };
    // Let the call reach the actor, then make it exit with the reply still held.
    addr.double(0).await.expect("barrier");
    addr.quit(ExitReason::error("disk on fire"))
        .expect("queued");
    let started = tokio::time::Instant::now();
    let result = caller.await.expect("caller task");
    assert_eq!(
        result,
        Err(CallError::Stopped(ExitReason::error("disk on fire")))
    );
    assert_eq!(started.elapsed(), Duration::ZERO);
}

#[tokio::test]
async fn call_in_flight_fails_when_handler_panics() {
    let (addr, _) = recorder().await;
    let result = addr.crash().await;
    assert_eq!(
        result,
        Err(CallError::Stopped(ExitReason::Panic(
            "recorder crashed on purpose".into()
        )))
    );
}

#[tokio::test]
async fn call_to_self_is_an_error_at_once() {
    let (addr, _) = recorder().await;
    let inner = addr.call_self().await.expect("outer call answered");
    assert_eq!(inner, Err(CallError::CallToSelf(addr.pid())));
}

#[tokio::test]
async fn deferred_reply_answers_the_caller_later() {
    let (addr, _) = recorder().await;
    let a = addr.clone();
    let caller = tokio::spawn(async move { a.hold().await });
    addr.double(0).await.expect("barrier");
    addr.release(7).expect("queued");
    assert_eq!(caller.await.expect("caller"), Ok(7));
}

#[tokio::test]
async fn dropped_deferred_reply_gives_no_reply_error() {
    let (addr, _) = recorder().await;
    let a = addr.clone();
    let caller = tokio::spawn(async move { a.hold().await });
    addr.double(0).await.expect("barrier");
    addr.forget().expect("queued");
    assert_eq!(caller.await.expect("caller"), Err(CallError::NoReply));
    assert!(addr.is_alive());
}

#[tokio::test]
async fn full_mailbox_fails_fast_and_is_counted() {
    let (addr, probe) = recorder().await;
    let (gate, rx) = tokio::sync::oneshot::channel();
    addr.block_on(rx).expect("queued");
    // Capacity 8: the blocking message counts until the actor finishes its batch.
    let mut accepted = 1;
    let mut refused = 0;
    for i in 0..20 {
        match addr.note(format!("n{i}")) {
            Ok(()) => accepted += 1,
            Err(SendError::Full { capacity }) => {
                assert_eq!(capacity, 8);
                refused += 1;
            }
            Err(other) => panic!("unexpected {other}"),
        }
    }
    assert_eq!(accepted, 8);
    assert_eq!(refused, 13);
    probe.wait_for("blocked").await;
    assert_eq!(addr.mailbox().refused, 13);
    assert!(actor_runtime::stats().refused_full >= 13);
    gate.send(()).expect("actor waits on gate");
    addr.double(0).await.expect("barrier");
    assert_eq!(
        probe.events().len(),
        9,
        "blocked, 7 notes and unblocked: nothing else got in"
    );
}

#[tokio::test]
async fn waiting_send_blocks_until_space_then_delivers() {
    let (addr, probe) = recorder().await;
    let (gate, rx) = tokio::sync::oneshot::channel();
    addr.block_on(rx).expect("queued");
    probe.wait_for("blocked").await;
    // The blocking message has been taken: eight more fill the mailbox.
    for i in 0..8 {
        addr.note(format!("n{i}")).expect("room");
    }
    let a = addr.clone();
    let waiter = tokio::spawn(async move {
        a.send(common::RecorderMsg::Note {
            text: "waited".into(),
        })
        .await
    });
    tokio::task::yield_now().await;
    assert!(
        !waiter.is_finished(),
        "the send must wait while the mailbox is full"
    );
    gate.send(()).expect("actor waits on gate");
    waiter.await.expect("waiter").expect("delivered");
    addr.double(0).await.expect("barrier");
    assert_eq!(probe.events().last().map(String::as_str), Some("waited"));
}

#[tokio::test]
async fn try_send_hands_the_message_back_when_full() {
    let (addr, probe) = recorder().await;
    let (_gate, rx) = tokio::sync::oneshot::channel();
    addr.block_on(rx).expect("queued");
    probe.wait_for("blocked").await;
    for i in 0..8 {
        addr.note(format!("n{i}")).expect("room");
    }
    let rejected = addr
        .try_send(common::RecorderMsg::Note {
            text: "mine".into(),
        })
        .expect_err("full");
    assert_eq!(rejected.error, SendError::Full { capacity: 8 });
    assert!(matches!(rejected.msg, common::RecorderMsg::Note { text } if text == "mine"));
}

#[tokio::test]
async fn stop_signal_overtakes_queued_messages() {
    let (addr, probe) = recorder().await;
    let (gate, rx) = tokio::sync::oneshot::channel();
    addr.block_on(rx).expect("queued");
    probe.wait_for("blocked").await;
    addr.note("queued-1".into()).expect("room");
    addr.note("queued-2".into()).expect("room");
    addr.stop();
    gate.send(()).expect("actor waits on gate");
    assert_eq!(addr.wait_for_exit().await, ExitReason::Normal);
    assert_eq!(
        probe.events(),
        vec!["blocked", "unblocked", "terminate normal"]
    );
}

#[tokio::test]
async fn messages_queued_at_exit_are_counted_and_their_callers_fail() {
    let (addr, probe) = recorder().await;
    let (gate, rx) = tokio::sync::oneshot::channel();
    addr.block_on(rx).expect("queued");
    probe.wait_for("blocked").await;
    let before = actor_runtime::stats().dropped_at_exit;
    let a = addr.clone();
    let queued_call = tokio::spawn(async move { a.double(5).await });
    while addr.mailbox().len < 1 {
        tokio::task::yield_now().await;
    }
    addr.note("lost".into()).expect("room");
    addr.stop();
    gate.send(()).expect("actor waits on gate");
    assert_eq!(
        queued_call.await.expect("caller"),
        Err(CallError::Stopped(ExitReason::Normal))
    );
    assert!(actor_runtime::stats().dropped_at_exit >= before + 2);
}

#[tokio::test]
async fn cast_to_stopped_actor_is_an_error() {
    let (addr, _) = recorder().await;
    addr.stop();
    addr.wait_for_exit().await;
    assert_eq!(
        addr.note("late".into()),
        Err(SendError::Stopped(ExitReason::Normal))
    );
}

#[tokio::test]
async fn spawn_reports_init_errors() {
    #[actor]
    struct Picky;

    #[actor]
    impl Picky {
        #[init]
        async fn init(n: i32) -> Result<Self, String> {
            if n < 0 {
                Err(format!("{n} is negative"))
            } else {
                Ok(Picky)
            }
        }
    }

    assert!(Picky::spawn(1).await.is_ok());
    assert_eq!(
        Picky::spawn(-1).await.err(),
        Some(SpawnError::Init("-1 is negative".to_owned()))
    );
}

#[tokio::test]
async fn spawn_reports_init_panics() {
    #[actor]
    struct Boom;

    #[actor]
    impl Boom {
        #[init]
        fn init() -> Self {
            panic!("no luck")
        }
    }

    assert_eq!(
        Boom::spawn(()).await.err(),
        Some(SpawnError::Panicked("no luck".to_owned()))
    );
}

#[tokio::test]
async fn generic_actors_keep_their_types() {
    #[actor]
    struct Cell<T: Clone + Send + 'static> {
        value: T,
    }

    #[actor]
    impl<T: Clone + Send + 'static> Cell<T> {
        #[init]
        fn init(value: T) -> Self {
            Cell { value }
        }
        #[handle(call)]
        fn get(&self) -> T {
            self.value.clone()
        }
        #[handle(cast)]
        fn set(&mut self, value: T) {
            self.value = value;
        }
    }

    let text = Cell::spawn(String::from("a")).await.expect("spawn");
    let number = Cell::spawn(1u8).await.expect("spawn");
    text.set("b".into()).expect("room");
    number.set(2).expect("room");
    assert_eq!(text.get().await.as_deref(), Ok("b"));
    assert_eq!(number.get().await, Ok(2));
}

#[tokio::test]
async fn probe_sanity() {
    let probe = Probe::default();
    let addr = Recorder::spawn(probe.clone()).await.expect("spawn");
    addr.note("x".into()).expect("room");
    addr.double(0).await.expect("barrier");
    assert_eq!(probe.events(), vec!["x"]);
}

#[tokio::test]
async fn message_sent_to_itself_during_init_is_handled_first() {
    #[actor]
    struct Eager {
        seen: Vec<&'static str>,
    }

    #[actor]
    impl Eager {
        #[init]
        fn init(ctx: &mut Ctx<Self>) -> Self {
            ctx.addr().push("from init").expect("room");
            Eager { seen: Vec::new() }
        }
        #[handle(cast)]
        fn push(&mut self, what: &'static str) {
            self.seen.push(what);
        }
        #[handle(call)]
        fn seen(&self) -> Vec<&'static str> {
            self.seen.clone()
        }
    }

    let eager = Eager::spawn(()).await.expect("spawn");
    eager.push("after spawn").expect("room");
    assert_eq!(eager.seen().await, Ok(vec!["from init", "after spawn"]));
}

#[tokio::test]
async fn actor_can_be_reached_from_a_thread_outside_the_runtime() {
    let (addr, probe) = recorder().await;
    let a = addr.clone();
    std::thread::spawn(move || a.note("from a plain thread".into()))
        .join()
        .expect("thread")
        .expect("room");
    probe.wait_for("from a plain thread").await;
}

#[tokio::test(start_paused = true)]
async fn shorter_timeout_registered_after_a_longer_one_fires_first() {
    let (addr, probe) = recorder().await;
    let (_gate, rx) = tokio::sync::oneshot::channel();
    addr.block_on(rx).expect("queued");
    probe.wait_for("blocked").await;
    let started = tokio::time::Instant::now();
    let long = {
        let a = addr.clone();
        tokio::spawn(async move { a.double(1).timeout(Duration::from_secs(60)).await })
    };
    tokio::task::yield_now().await;
    let short = addr.double(2).timeout(Duration::from_millis(100)).await;
    assert_eq!(short, Err(CallError::Timeout(Duration::from_millis(100))));
    assert_eq!(started.elapsed(), Duration::from_millis(100));
    assert_eq!(
        long.await.expect("long caller"),
        Err(CallError::Timeout(Duration::from_secs(60)))
    );
    assert_eq!(started.elapsed(), Duration::from_secs(60));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_of_a_panicking_handler_see_the_panic_on_a_multi_threaded_runtime() {
    // Unwinding drops the handler's reply slot before the panic is caught; the caller must
    // still report the panic, never `NoReply`.
    for _ in 0..50 {
        let (addr, _) = recorder().await;
        let held = {
            let a = addr.clone();
            tokio::spawn(async move { a.hold().await })
        };
        addr.double(0).await.expect("barrier");
        let direct = addr.crash().await;
        let expected = Err(CallError::Stopped(ExitReason::Panic(
            "recorder crashed on purpose".into(),
        )));
        assert_eq!(direct, expected);
        assert_eq!(held.await.expect("caller"), expected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_spawn_leaves_no_half_made_actor() {
    #[actor(name = "messaging-test-slow-init")]
    struct SlowInit;

    #[actor]
    impl SlowInit {
        #[init]
        async fn init() -> Self {
            std::future::pending::<()>().await;
            SlowInit
        }
    }

    let spawn = SlowInit::spawn(());
    let timed_out = tokio::time::timeout(Duration::from_millis(10), spawn).await;
    assert!(timed_out.is_err());
    assert_eq!(
        actor_runtime::registry::lookup::<SlowInit>("messaging-test-slow-init").err(),
        Some(actor_runtime::RegistryError::NotFound(
            "messaging-test-slow-init".into()
        ))
    );
}

#[test]
fn spawn_outside_a_runtime_is_an_error() {
    #[actor]
    struct Anywhere;

    #[actor]
    impl Anywhere {
        #[init]
        fn init() -> Self {
            Anywhere
        }
    }

    let spawned = std::thread::spawn(|| {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut fut = std::pin::pin!(Anywhere::spawn(()));
        match fut.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(result) => result.err(),
            std::task::Poll::Pending => None,
        }
    })
    .join()
    .expect("thread");
    assert_eq!(spawned, Some(SpawnError::NoRuntime));
}

#[tokio::test]
async fn finish_stops_only_after_the_queued_messages() {
    let (addr, probe) = recorder().await;
    let (gate, rx) = tokio::sync::oneshot::channel();
    addr.block_on(rx).expect("queued");
    probe.wait_for("blocked").await;
    addr.note("queued-1".into()).expect("room");
    addr.note("queued-2".into()).expect("room");
    addr.finish(ExitReason::Shutdown);
    gate.send(()).expect("actor waits on gate");
    assert_eq!(addr.wait_for_exit().await, ExitReason::Shutdown);
    assert_eq!(
        probe.events(),
        vec![
            "blocked",
            "unblocked",
            "queued-1",
            "queued-2",
            "terminate shutdown"
        ]
    );
}

#[tokio::test]
async fn capacity_is_released_per_message_taken_not_per_batch() {
    // Capacity 8. The blocking message has been taken: its room is free while it runs, so
    // eight more fit and the ninth is refused.
    let (addr, probe) = recorder().await;
    let (gate, rx) = tokio::sync::oneshot::channel();
    addr.block_on(rx).expect("queued");
    probe.wait_for("blocked").await;
    for n in 0..8 {
        addr.note(format!("n{n}")).expect("room");
    }
    assert_eq!(
        addr.note("ninth".into()),
        Err(SendError::Full { capacity: 8 })
    );
    assert_eq!(addr.mailbox().len, 8);
    gate.send(()).expect("actor waits on gate");
    addr.double(0).await.expect("barrier");
}

#[tokio::test]
async fn a_waiting_send_to_itself_with_a_full_mailbox_is_an_error_not_a_hang() {
    #[actor(mailbox = 2)]
    struct Looper;

    #[actor]
    impl Looper {
        #[init]
        fn init() -> Self {
            Looper
        }

        #[handle(cast)]
        fn tick(&mut self) {}

        /// Fills its own mailbox, then tries a waiting send to itself.
        #[handle(call)]
        async fn fill_then_wait(&mut self, ctx: &mut Ctx<Self>) -> Result<(), SendError> {
            while ctx.addr().tick().is_ok() {}
            ctx.addr().send(LooperMsg::Tick {}).await
        }
    }

    let looper = Looper::spawn(()).await.expect("looper");
    assert_eq!(
        looper.fill_then_wait().await,
        Ok(Err(SendError::OwnMailboxFull { capacity: 2 }))
    );
}

#[tokio::test(start_paused = true)]
async fn a_forwarded_reply_whose_holder_panics_fails_the_call_at_once() {
    /// A reply slot in transit.
    struct Slot(ReplyTo<u32>);

    #[actor]
    struct Back;

    #[actor]
    impl Back {
        #[init]
        fn init() -> Self {
            Back
        }

        #[handle(cast)]
        fn take(&mut self, slot: Slot) {
            let Slot(_reply) = slot;
            panic!("back crashed holding the reply");
        }
    }

    #[actor]
    struct Front {
        back: Addr<Back>,
    }

    #[actor]
    impl Front {
        #[init]
        fn init(back: Addr<Back>) -> Self {
            Front { back }
        }

        /// Hands the reply to `Back`, which answers (or not) later.
        #[handle(call)]
        fn ask(&mut self, reply: ReplyTo<u32>) {
            self.back.take(Slot(reply)).expect("room");
        }
    }

    let back = Back::spawn(()).await.expect("back");
    let front = Front::spawn(back.clone()).await.expect("front");
    let started = tokio::time::Instant::now();
    assert_eq!(
        front.ask().await,
        Err(CallError::Stopped(ExitReason::Panic(
            "back crashed holding the reply".into()
        )))
    );
    assert!(
        started.elapsed() < actor_runtime::DEFAULT_CALL_TIMEOUT,
        "the caller did not wait for the healthy front until the timeout"
    );
    assert!(front.is_alive());
}
