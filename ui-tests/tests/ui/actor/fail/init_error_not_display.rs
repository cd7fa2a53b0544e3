use actor_runtime::prelude::*;

#[derive(Debug)]
struct NotDisplay;

#[actor]
struct Counter;

#[actor]
impl Counter {
    #[init]
    fn init() -> Result<Self, NotDisplay> {
        Ok(Counter)
    }
}

fn main() {}
