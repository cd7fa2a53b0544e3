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
    fn add(&mut self, by: u64) -> u64 {
        self.n += by;
        self.n
    }
}

fn main() {}
