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

#[supervisor(intensity = 2, intensity = 3)]
struct Tree {
    worker: Child<Worker>,
}

fn main() {}
