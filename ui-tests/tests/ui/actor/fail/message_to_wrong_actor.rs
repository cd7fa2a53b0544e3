use actor_runtime::prelude::*;

#[actor]
struct Counter {
    n: u64,
}

#[actor]
impl Counter {
    #[init]
    fn init() -> Self {
        Counter { n: 0 }
    }

    #[handle(cast)]
    fn add(&mut self, by: u64) {
        self.n += by;
    }
}

#[actor]
struct Logger;

#[actor]
impl Logger {
    #[init]
    fn init() -> Self {
        Logger
    }

    #[handle(cast)]
    fn log(&mut self, line: String) {
        println!("{line}");
    }
}

async fn use_it(logger: Addr<Logger>) {
    logger.send(CounterMsg::Add { by: 1 }).await.unwrap();
}

fn main() {}
