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
    fn reset(&mut self) -> () {
        self.n = 0;
    }
}

fn main() {}
