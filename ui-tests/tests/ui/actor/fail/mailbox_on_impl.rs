use actor_runtime::prelude::*;

#[actor]
struct Counter;

#[actor(mailbox = 64)]
impl Counter {
    #[init]
    fn init() -> Self {
        Counter
    }
}

fn main() {}
