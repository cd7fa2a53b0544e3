use actor_runtime::prelude::*;

struct Counter {
    n: u64,
}

impl Counter {
    #[handle(cast)]
    fn add(&mut self, by: u64) {
        self.n += by;
    }
}

fn main() {}
