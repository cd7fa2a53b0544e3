use actor_runtime::prelude::*;

#[actor]
struct Counter {
    n: u64,
}

#[actor]
impl Counter {
    #[init]
    fn init() -> Self {
        Counter { n: 0 }
    }

    #[handle(cast)]
    fn add(&mut self, by: u64) {
        self.n += by;
    }
}

async fn use_it(counter: Addr<Counter>) {
    counter.subtract(1).unwrap();
}

fn main() {}
