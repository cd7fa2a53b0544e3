use actor_runtime::prelude::*;

#[actor(mailbox = 0)]
struct Counter;

#[actor]
impl Counter {
    #[init]
    fn init() -> Self {
        Counter
    }
}

fn main() {}
