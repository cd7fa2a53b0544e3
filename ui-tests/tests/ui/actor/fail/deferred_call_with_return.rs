use actor_runtime::prelude::*;

#[actor]
struct Counter;

#[actor]
impl Counter {
    #[init]
    fn init() -> Self {
        Counter
    }

    #[handle(call)]
    fn get(&self, reply: ReplyTo<u64>) -> u64 {
        reply.send(1);
        1
    }
}

fn main() {}
