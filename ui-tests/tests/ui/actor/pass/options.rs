extern crate actor_runtime as rt;

use rt::prelude::*;

#[rt::actor(mailbox = 2 * 1024, name = "options-singleton", blocking, crate = ::rt)]
struct Singleton;

#[rt::actor(crate = ::rt)]
impl Singleton {
    #[init]
    fn init() -> Self {
        Singleton
    }

    #[handle(call)]
    fn ping(&self) -> &'static str {
        "pong"
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let s = Singleton::spawn(()).await.unwrap();
    assert_eq!(s.mailbox().capacity, 2048);
    let found = rt::registry::lookup::<Singleton>("options-singleton").unwrap();
    assert_eq!(found.ping().await, Ok("pong"));
}
