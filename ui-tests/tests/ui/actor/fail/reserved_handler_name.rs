use actor_runtime::prelude::*;

#[actor]
struct Machine;

#[actor]
impl Machine {
    #[init]
    fn init() -> Self {
        Machine
    }

    #[handle(cast)]
    fn stop(&mut self) {}
}

fn main() {}
