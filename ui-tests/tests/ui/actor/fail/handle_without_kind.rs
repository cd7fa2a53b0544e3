use actor_runtime::prelude::*;

#[actor]
struct Counter;

#[actor]
impl Counter {
    #[init]
    fn init() -> Self {
        Counter
    }

    #[handle]
    fn ping(&mut self) {}
}

fn main() {}
