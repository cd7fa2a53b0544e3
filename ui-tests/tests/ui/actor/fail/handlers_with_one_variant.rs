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
    fn add_one(&mut self) {
        self.n += 1;
    }

    #[handle(cast)]
    fn add__one(&mut self) {
        self.n += 1;
    }
}

fn main() {}
