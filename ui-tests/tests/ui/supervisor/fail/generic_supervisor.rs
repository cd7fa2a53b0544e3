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

// Code that uses the broken supervisor reports nothing more: the mistake above is the
// only error.
async fn run() {
    let _ = Tree::<u8>::start().await;
}

fn main() {
    let _ = run();
}
