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

struct Plain {
    #[child(restart = transient)]
    worker: Child<Worker>,
}

fn main() {}
