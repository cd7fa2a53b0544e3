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

// OTP's "no restarts": the first crash escalates to the parent.
#[supervisor(one_for_one, intensity = 0)]
struct Tree {
    worker: Child<Worker>,
}

fn main() {}
