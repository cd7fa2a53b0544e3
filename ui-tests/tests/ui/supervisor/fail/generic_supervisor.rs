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

#[supervisor(one_for_one)]
struct Tree<T> {
    worker: Child<Worker>,
    marker: std::marker::PhantomData<T>,
}

fn main() {}
