use actor_runtime::prelude::*;

#[actor]
struct Supervisor {
    exits: u32,
    downs: u32,
}

#[actor]
impl Supervisor {
    #[init]
    fn init() -> Self {
        Supervisor { exits: 0, downs: 0 }
    }

    #[handle(call)]
    fn watch(&mut self, child: Addr<Supervisor>, ctx: &mut Ctx<Self>) -> MonitorRef {
        ctx.monitor(&child)
    }

    #[on_exit]
    fn exited(&mut self, exit: Exit, ctx: &mut Ctx<Self>) {
        let _ = (exit.from, ctx.pid());
        self.exits += 1;
    }

    #[on_down]
    async fn down(&mut self, down: Down) {
        let _ = down.reason.is_abnormal();
        self.downs += 1;
    }

    #[terminate]
    async fn terminate(&mut self, reason: &ExitReason, _ctx: &mut Ctx<Self>) {
        let _ = reason;
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let a = Supervisor::spawn(()).await.unwrap();
    let b = Supervisor::spawn(()).await.unwrap();
    a.watch(b.clone()).await.unwrap();
    b.stop();
    b.wait_for_exit().await;
}
