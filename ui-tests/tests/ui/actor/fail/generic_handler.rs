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
    fn greet<T: ToString + Send + 'static>(&self, name: T) -> String {
        format!("hello {}", name.to_string())
    }
}

fn main() {}
