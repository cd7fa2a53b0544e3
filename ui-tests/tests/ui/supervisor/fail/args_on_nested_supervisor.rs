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

#[supervisor]
struct Inner {
    worker: Child<Worker>,
}

#[supervisor]
struct Outer {
    #[child(args = ())]
    inner: Inner,
}

fn main() {}
