use actor_runtime::prelude::*;

#[actor]
struct Worker {
    id: u32,
}

#[actor]
impl Worker {
    #[init]
    fn init(id: u32) -> Self {
        Worker { id }
    }

    #[handle(call)]
    fn id(&self) -> u32 {
        self.id
    }
}

#[supervisor(one_for_all, intensity = 3, period = "1m")]
struct Leaf {
    #[child(args = 1)]
    one: Child<Worker>,
    #[child(restart = transient, shutdown = "500ms", args = 2)]
    two: Child<Worker>,
}

#[supervisor(rest_for_one)]
struct Root {
    #[child(name = "root-worker", shutdown = brutal_kill)]
    first: Child<Worker>,
    #[child(restart = permanent, shutdown = infinity)]
    leaf: Leaf,
}

#[supervisor(simple_one_for_one)]
struct Pool {
    #[child(restart = temporary)]
    worker: Child<Worker>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let root = Root::start().await.unwrap();
    assert_eq!(root.first.id().await, Ok(0));
    assert_eq!(root.leaf.two.id().await, Ok(2));
    let pool = Pool::start().await.unwrap();
    let w = pool.start_child(7).await.unwrap();
    assert_eq!(w.id().await, Ok(7));
    root.stop();
}
