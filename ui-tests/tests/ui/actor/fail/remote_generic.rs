use actor_runtime::prelude::*;

#[actor]
struct Cache<T: Send + 'static> {
    items: Vec<T>,
}

#[actor(remote)]
impl<T: Send + 'static> Cache<T> {
    #[init]
    fn init() -> Self {
        Cache { items: Vec::new() }
    }

    #[handle(call)]
    fn len(&mut self) -> usize {
        self.items.len()
    }
}

fn main() {}
