use actor_runtime::prelude::*;

#[actor]
struct Counter {
    n: u64,
}

#[actor]
impl Counter {
    #[init]
    fn init(n: u64) -> Self {
        Counter { n }
    }
}

async fn start() {
    let _ = Counter::spawn("zero").await;
}

fn main() {}
