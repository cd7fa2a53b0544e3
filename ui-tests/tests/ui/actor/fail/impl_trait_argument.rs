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
    fn greet(&self, name: impl Into<String>) -> String {
        format!("hello {}", name.into())
    }
}

fn main() {}
