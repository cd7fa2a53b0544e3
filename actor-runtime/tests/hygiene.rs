//! Generated code must compile when the user shadows prelude names, and must be clean under
//! `deny(warnings)` and `clippy::pedantic`.
#![deny(warnings, clippy::pedantic)]
// The two allowed lints concern the hand-written handler bodies below, not generated code.
#![allow(dead_code, clippy::unused_self, clippy::unused_async)]

mod shadowing {
    // Shadow every prelude name generated code could pick up by accident.
    struct Result;
    struct Ok;
    struct Err;
    struct Option;
    struct Some;
    struct None;
    struct Box;
    struct Vec;
    struct String;
    struct Send;
    struct Future;

    use actor_runtime::prelude::*;

    /// A documented actor.
    #[actor(mailbox = 16)]
    pub(crate) struct Hygienic {
        n: u64,
    }

    #[actor]
    impl Hygienic {
        #[init]
        async fn init(
            n: u64,
            _ctx: &mut Ctx<Self>,
        ) -> ::core::result::Result<Self, ::std::string::String> {
            ::core::result::Result::Ok(Hygienic { n })
        }

        /// Adds.
        #[handle(cast)]
        fn add(&mut self, by: u64) {
            self.n += by;
        }

        /// Reads.
        #[handle(call)]
        async fn get(&self) -> u64 {
            self.n
        }

        /// Deferred.
        #[handle(call)]
        fn later(&mut self, reply: ReplyTo<u64>, _ctx: &mut Ctx<Self>) {
            reply.send(self.n);
        }

        #[on_exit]
        fn exit(&mut self, _exit: Exit) {}

        #[on_down]
        async fn down(&mut self, _down: Down, _ctx: &mut Ctx<Self>) {}

        #[terminate]
        fn terminate(&mut self, _reason: &ExitReason) {}
    }

    pub(super) async fn run() -> u64 {
        let a = Hygienic::spawn(1).await.expect("spawn");
        a.add(2).expect("room");
        a.later().await.expect("reply") + a.get().await.expect("reply")
    }
}

#[tokio::test]
async fn generated_code_survives_shadowed_prelude_names() {
    assert_eq!(shadowing::run().await, 6);
}
