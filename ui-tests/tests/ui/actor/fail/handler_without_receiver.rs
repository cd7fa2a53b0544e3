use actor_runtime::prelude::*;

#[actor]
struct Counter;

#[actor]
impl Counter {
    #[init]
    fn init() -> Self {
        Counter
    }

    #[handle(call)]
    fn version() -> u32 {
        1
    }
}

fn main() {}
