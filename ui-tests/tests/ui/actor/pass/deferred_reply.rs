use actor_runtime::prelude::*;

#[actor]
struct Batcher {
    waiting: Vec<ReplyTo<usize>>,
}

#[actor]
impl Batcher {
    #[init]
    fn init() -> Self {
        Batcher { waiting: Vec::new() }
    }

    /// Answers once three callers wait, all at once, with the batch size.
    #[handle(call)]
    fn join(&mut self, reply: ReplyTo<usize>, _ctx: &mut Ctx<Self>) {
        self.waiting.push(reply);
        if self.waiting.len() == 3 {
            for r in self.waiting.drain(..) {
                r.send(3);
            }
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let b = Batcher::spawn(()).await.unwrap();
    let (x, y, z) = tokio::join!(b.join().into_future(), b.join().into_future(), b.join().into_future());
    assert_eq!((x, y, z), (Ok(3), Ok(3), Ok(3)));
}

use std::future::IntoFuture;
