use actor_runtime::prelude::*;

#[actor]
struct Watcher;

#[actor]
impl Watcher {
    #[init]
    fn init() -> Self {
        Watcher
    }

    #[handle(cast)]
    fn watch(&mut self, other: Addr<Watcher>, ctx: &mut Ctx<Self>) {
        ctx.monitor(&other);
    }
}

fn main() {}
