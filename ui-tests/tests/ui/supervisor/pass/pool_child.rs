//! A pool is a child like any other: sized, with start arguments, restarted by its parent.
use actor_runtime::prelude::*;
use actor_runtime::Pool;

#[actor]
struct Worker {
    prefix: String,
}

#[actor]
impl Worker {
    #[init]
    fn init(prefix: String) -> Self {
        Worker { prefix }
    }

    #[handle(call)]
    fn greet(&self, name: String) -> String {
        format!("{} {name}", self.prefix)
    }
}

#[supervisor(rest_for_one)]
struct Tree {
    #[child(size = 4, args = "hello".to_string(), shutdown = "2s")]
    workers: Pool<Worker>,
}

async fn run() {
    let tree = Tree::start().await.expect("tree");
    let _ = tree.workers.greet("you".into()).await;
    let _ = Pool::resize(&tree.workers, 8).await;
}

fn main() {
    let _ = run();
}
