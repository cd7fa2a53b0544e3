use actor_runtime::prelude::*;

#[actor(mailbox = "big")]
struct Machine;

#[actor]
impl Machine {
    #[init]
    fn init() -> Self {
        Machine
    }

}

fn main() {}
