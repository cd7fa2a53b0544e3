use actor_runtime::prelude::*;

#[actor(name = 5)]
struct Machine;

#[actor]
impl Machine {
    #[init]
    fn init() -> Self {
        Machine
    }

}

fn main() {}
