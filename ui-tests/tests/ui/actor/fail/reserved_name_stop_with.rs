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
    fn stop_with(&mut self, code: u32) {
        let _ = code;
    }
}

fn main() {}
