use actor_runtime::prelude::*;

#[actor]
struct Counter;

#[actor]
impl Counter {
    #[init]
    #[handle(call)]
    fn init() -> Self {
        Counter
    }
}

fn main() {}
