use actor_runtime::prelude::*;

#[actor]
struct Machine;

#[actor]
impl Machine {
    #[init]
    fn init() -> Self {
        Machine
    }

    #[on_exit]
    fn exited(&mut self, _exit: Exit) -> bool {
        true
    }
}

fn main() {}
