use actor_runtime::prelude::*;

#[actor]
struct Worker;

#[actor]
impl Worker {
    #[init]
    fn init() -> Self {
        Worker
    }
}

#[supervisor(period = "0s")]
struct Tree {
    worker: Child<Worker>,
}

fn main() {}
