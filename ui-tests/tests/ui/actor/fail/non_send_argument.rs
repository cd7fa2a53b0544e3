use std::rc::Rc;

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
    fn add(&mut self, by: Rc<u64>) {
        self.n += *by;
    }
}

fn main() {}
