use actor_runtime::prelude::*;

#[actor]
struct Machine;

#[actor]
impl Machine {
    #[init]
    fn init() -> Self {
        Machine
    }

    #[handle(call)]
    fn ask(&mut self, first: ReplyTo<u32>, second: ReplyTo<u32>) {
        let _ = (first, second);
    }
}

fn main() {}
