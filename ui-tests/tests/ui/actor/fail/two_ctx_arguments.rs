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
    fn tick(&mut self, a: &mut Ctx<Self>, b: &mut Ctx<Self>) {
        let _ = (a, b);
    }
}

fn main() {}
