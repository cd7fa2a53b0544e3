use actor_runtime::prelude::*;
use actor_runtime::Pool;

#[actor]
struct Worker;

#[actor]
impl Worker {
    #[init]
    fn init() -> Self {
        Worker
    }
}

#[supervisor(one_for_one)]
struct Tree {
    workers: Pool<Worker>,
}

fn main() {}
