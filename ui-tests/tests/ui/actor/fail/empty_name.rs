use actor_runtime::prelude::*;

#[actor(name = "")]
struct Counter;

#[actor]
impl Counter {
    #[init]
    fn init() -> Self {
        Counter
    }
}

fn main() {}
