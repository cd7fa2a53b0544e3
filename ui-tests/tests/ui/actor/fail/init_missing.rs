use actor_runtime::prelude::*;

#[actor]
struct Counter {
    n: u64,
}

#[actor]
impl Counter {
    #[handle(call)]
    fn get(&self) -> u64 {
        self.n
    }
}

fn main() {}
