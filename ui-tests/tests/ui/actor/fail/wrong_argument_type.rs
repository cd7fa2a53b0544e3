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

fn use_it(counter: Addr<Counter>) {
    counter.add("one").unwrap();
}

fn main() {}
