use actor_runtime::prelude::*;

#[actor]
struct Counter {
    n: u64,
}

#[actor]
impl Counter {
    #[init]
    fn init(&mut self) -> Self {
        Counter { n: self.n }
    }
}

fn main() {}
