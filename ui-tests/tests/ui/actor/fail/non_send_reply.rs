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

    #[handle(call)]
    fn get(&self) -> Rc<u64> {
        Rc::new(self.n)
    }
}

fn main() {}
