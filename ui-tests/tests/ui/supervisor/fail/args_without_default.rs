use actor_runtime::prelude::*;

struct Config {
    path: String,
}

#[actor]
struct Storage {
    path: String,
}

#[actor]
impl Storage {
    #[init]
    fn init(config: Config) -> Self {
        Storage { path: config.path }
    }
}

#[supervisor(one_for_one)]
struct Tree {
    storage: Child<Storage>,
}

fn main() {}
