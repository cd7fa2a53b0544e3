//! The attributes also work spelled through the crate, as when the prelude is not imported.

use actor_runtime::Actor;

#[actor_runtime::actor]
struct Counter {
    count: u64,
}

#[actor_runtime::actor]
impl Counter {
    #[actor_runtime::init]
    fn init(start: u64) -> Self {
        Counter { count: start }
    }

    #[actor_runtime::handle(cast)]
    fn add(&mut self, n: u64) {
        self.count += n;
    }

    #[::actor_runtime::handle(call)]
    fn get(&self) -> u64 {
        self.count
    }
}

fn main() {
    let _ = Counter::spawn;
}
