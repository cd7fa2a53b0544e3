use actor_runtime::prelude::*;

#[actor]
struct Hasher;

#[actor(blocking)]
impl Hasher {
    #[init]
    fn init() -> Self {
        Hasher
    }
}

fn main() {}
