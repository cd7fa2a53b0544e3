use actor_runtime::prelude::*;

#[actor(mailbx = 64)]
struct Counter;

#[actor]
impl Counter {
    #[init]
    fn init() -> Self {
        Counter
    }
}

fn main() {}
