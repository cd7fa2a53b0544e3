use actor_runtime::prelude::*;

#[actor]
struct Counter {
    n: u64,
}

#[actor]
impl Counter {
    #[init]
    fn init(n: u64) {
        let _ = n;
    }
}

fn main() {}
