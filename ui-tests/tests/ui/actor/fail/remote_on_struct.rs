use actor_runtime::prelude::*;

#[actor(remote)]
struct Query;

#[actor]
impl Query {
    #[init]
    fn init() -> Self {
        Query
    }
}

fn main() {}
