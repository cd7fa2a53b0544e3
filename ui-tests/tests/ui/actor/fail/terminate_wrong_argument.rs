use actor_runtime::prelude::*;

#[actor]
struct Machine;

#[actor]
impl Machine {
    #[init]
    fn init() -> Self {
        Machine
    }

    #[terminate]
    fn terminate(&mut self, reason: u32) {
        let _ = reason;
    }
}

fn main() {}
