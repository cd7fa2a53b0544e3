use actor_runtime::prelude::*;

#[actor]
struct Machine;

#[actor]
impl Machine {
    #[init]
    fn init() -> Self {
        Machine
    }

    #[on_down]
    fn down(&mut self, _down: Down) {}

    #[on_down]
    fn down_again(&mut self, _down: Down) {}
}

fn main() {}
