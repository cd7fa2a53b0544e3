use actor_runtime::prelude::*;

#[actor(mailbox = 64, mailbox = 128)]
struct Counter;

#[actor]
impl Counter {
    #[init]
    fn init() -> Self {
        Counter
    }
}

fn main() {}
