use actor_runtime::prelude::*;

struct Counter;

#[actor]
impl Counter {
    #[init]
    fn init() -> Self {
        Counter
    }
}

fn main() {}
