use std::time::Duration;

use actor_runtime::prelude::*;

#[actor]
struct Counter {
    n: u64,
}

#[actor]
impl Counter {
    #[init]
    fn init(n: u64) -> Self {
        Counter { n }
    }

    /// A sync cast.
    #[handle(cast)]
    fn add(&mut self, by: u64) {
        self.n += by;
    }

    /// An async cast.
    #[handle(cast)]
    async fn add_later(&mut self, by: u64, delay: Duration) {
        tokio::time::sleep(delay).await;
        self.n += by;
    }

    /// A sync call on `&self`.
    #[handle(call)]
    fn get(&self) -> u64 {
        self.n
    }

    /// An async call on `&mut self`, with a context argument.
    #[handle(call)]
    async fn take(&mut self, ctx: &mut Ctx<Self>) -> (u64, Pid) {
        let n = std::mem::take(&mut self.n);
        (n, ctx.pid())
    }

    /// A cast without arguments, and a call with several.
    #[handle(cast)]
    fn reset(&mut self) {
        self.n = 0;
    }

    #[handle(call)]
    fn between(&self, low: u64, high: u64) -> bool {
        (low..high).contains(&self.n)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let c = Counter::spawn(1).await.unwrap();
    c.add(1).unwrap();
    c.add_later(1, Duration::from_millis(1)).unwrap();
    assert_eq!(c.get().await, Ok(3));
    assert!(c.between(2, 4).timeout(Duration::from_secs(1)).await.unwrap());
    let (n, pid) = c.take().await.unwrap();
    assert_eq!((n, pid), (3, c.pid()));
    c.reset().unwrap();
}
