use actor_runtime::prelude::*;

#[actor]
struct NoArg;
#[actor]
impl NoArg {
    #[init]
    fn init() -> Self {
        NoArg
    }
}

#[actor]
struct WithCtx(Pid);
#[actor]
impl WithCtx {
    #[init]
    fn start(ctx: &mut Ctx<Self>) -> Self {
        WithCtx(ctx.pid())
    }
}

#[actor]
struct Fallible(u8);
#[actor]
impl Fallible {
    #[init]
    async fn init(config: String, ctx: &mut Ctx<Self>) -> Result<Self, std::num::ParseIntError> {
        let _ = ctx.pid();
        Ok(Fallible(config.parse()?))
    }
}

#[actor]
struct Tuple {
    a: u8,
    b: String,
}
#[actor]
impl Tuple {
    #[init]
    fn init((a, b): (u8, String)) -> Self {
        Tuple { a, b }
    }

    #[handle(call)]
    fn parts(&self) -> (u8, String) {
        (self.a, self.b.clone())
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    NoArg::spawn(()).await.unwrap();
    WithCtx::spawn(()).await.unwrap();
    assert!(Fallible::spawn("7".into()).await.is_ok());
    assert!(matches!(Fallible::spawn("x".into()).await, Err(SpawnError::Init(_))));
    let t = Tuple::spawn((1, "b".into())).await.unwrap();
    assert_eq!(t.parts().await, Ok((1, "b".to_owned())));
}
