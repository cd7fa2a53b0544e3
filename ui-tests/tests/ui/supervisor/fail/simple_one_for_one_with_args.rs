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

#[supervisor(simple_one_for_one)]
struct Pool {
    #[child(args = ())]
    worker: Child<Worker>,
}

fn main() {}
