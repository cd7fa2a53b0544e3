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

    #[init]
    fn with(n: u64) -> Self {
        Counter { n }
    }
}

fn main() {}
