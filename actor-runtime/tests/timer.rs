//! Timers: send_after, interval, cancellation, cancelled with the actor.

use std::time::Duration;

use actor_runtime::TimerRef;
use actor_runtime::prelude::*;

#[actor]
struct Clock {
    ticks: u32,
    timer: Option<TimerRef>,
}

#[actor]
impl Clock {
    #[init]
    fn init() -> Self {
        Clock {
            ticks: 0,
            timer: None,
        }
    }

    #[handle(cast)]
    fn tick(&mut self) {
        self.ticks += 1;
    }

    #[handle(call)]
    fn ticks(&self) -> u32 {
        self.ticks
    }

    #[handle(call)]
    fn once_after(&mut self, delay: Duration, ctx: &mut Ctx<Self>) -> bool {
        self.timer = Some(ctx.send_after(delay, |me| me.tick()));
        true
    }

    #[handle(call)]
    fn every(&mut self, period: Duration, ctx: &mut Ctx<Self>) -> bool {
        self.timer = Some(ctx.interval(period, |me| me.tick()));
        true
    }

    #[handle(call)]
    fn cancel(&mut self) -> bool {
        self.timer.take().map(|t| t.cancel()).is_some()
    }
}

async fn advance(d: Duration) {
    tokio::time::sleep(d).await;
}

#[tokio::test(start_paused = true)]
async fn send_after_delivers_once_after_the_delay() {
    let clock = Clock::spawn(()).await.expect("spawn");
    clock
        .once_after(Duration::from_secs(10))
        .await
        .expect("armed");
    advance(Duration::from_secs(9)).await;
    assert_eq!(clock.ticks().await, Ok(0));
    advance(Duration::from_secs(2)).await;
    assert_eq!(clock.ticks().await, Ok(1));
    advance(Duration::from_secs(60)).await;
    assert_eq!(clock.ticks().await, Ok(1));
}

#[tokio::test(start_paused = true)]
async fn interval_delivers_every_period() {
    let clock = Clock::spawn(()).await.expect("spawn");
    clock.every(Duration::from_secs(1)).await.expect("armed");
    advance(Duration::from_millis(5500)).await;
    assert_eq!(clock.ticks().await, Ok(5));
}

#[tokio::test(start_paused = true)]
async fn cancelled_timer_does_not_fire() {
    let clock = Clock::spawn(()).await.expect("spawn");
    clock.every(Duration::from_secs(1)).await.expect("armed");
    advance(Duration::from_millis(2500)).await;
    assert_eq!(clock.cancel().await, Ok(true));
    advance(Duration::from_secs(10)).await;
    assert_eq!(clock.ticks().await, Ok(2));
}

#[tokio::test(start_paused = true)]
async fn timers_are_cancelled_when_the_actor_stops() {
    let before = actor_runtime::stats().timer_misses;
    let clock = Clock::spawn(()).await.expect("spawn");
    clock.every(Duration::from_secs(1)).await.expect("armed");
    clock.stop();
    clock.wait_for_exit().await;
    advance(Duration::from_secs(10)).await;
    // A timer that outlived its actor would have failed to send and been counted.
    assert_eq!(actor_runtime::stats().timer_misses, before);
}
