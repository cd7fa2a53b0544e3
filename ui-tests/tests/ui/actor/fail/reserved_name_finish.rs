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
    /// `Addr::finish` would shadow it: `addr.finish(..)` would stop the actor instead.
    fn finish(&mut self, reason: ExitReason) {
        let _ = reason;
    }
}

fn main() {}
