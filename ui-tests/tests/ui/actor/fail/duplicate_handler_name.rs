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

    #[handle(cast)]
    fn add(&mut self, by: u32) {
        self.n += u64::from(by);
    }
}

fn main() {}
