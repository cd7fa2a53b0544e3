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
struct Tree {
    worker: Child<Worker>,
}

async fn grow(tree: Tree) {
    let _ = tree.start_child(()).await;
}

fn main() {}
