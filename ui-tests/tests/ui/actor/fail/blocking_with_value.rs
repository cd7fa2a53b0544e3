use actor_runtime::prelude::*;

#[actor(blocking = true)]
struct Hasher;

#[actor]
impl Hasher {
    #[init]
    fn init() -> Self {
        Hasher
    }
}

fn main() {}
