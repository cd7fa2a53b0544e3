use actor_runtime::prelude::*;

#[actor]
struct Counter;

#[actor]
impl Default for Counter {
    fn default() -> Self {
        Counter
    }
}

fn main() {}
