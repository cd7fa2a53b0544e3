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

struct NotAnActor;

#[supervisor(one_for_one)]
struct Tree {
    worker: Child<NotAnActor>,
}

fn main() {}
