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
struct Tree(Child<Worker>);

// Code that uses the broken supervisor reports nothing more: the mistake above is the
// only error.
async fn run() {
    let _ = Tree::start().await;
}

fn main() {
    let _ = run();
}
