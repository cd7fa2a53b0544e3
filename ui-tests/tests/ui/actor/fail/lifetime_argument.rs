use std::borrow::Cow;

use actor_runtime::prelude::*;

#[actor]
struct Greeter;

#[actor]
impl Greeter {
    #[init]
    fn init() -> Self {
        Greeter
    }

    #[handle(call)]
    fn greet(&self, name: Cow<'_, str>) -> String {
        format!("hello {name}")
    }
}

fn main() {}
