use actor_runtime::prelude::*;

#[actor]
struct Counter;

#[actor]
impl Counter {
    #[init]
    fn init() -> Self {
        Counter
    }

    #[handle(cast)]
    fn get(&self, reply: ReplyTo<u64>) {
        reply.send(1);
    }
}

fn main() {}
