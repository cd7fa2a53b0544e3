//! The name registry: unique names, typed lookup, release on exit.

mod common;

use actor_runtime::prelude::*;
use actor_runtime::registry::{self, RegistryError};
use common::{Recorder, recorder};

#[actor(name = "registry-test-singleton")]
struct Singleton;

#[actor]
impl Singleton {
    #[init]
    fn init() -> Self {
        Singleton
    }

    #[handle(call)]
    fn hello(&self) -> &'static str {
        "hello"
    }
}

#[tokio::test]
async fn actor_option_name_registers_on_spawn_and_rejects_a_second() {
    let first = Singleton::spawn(()).await.expect("first starts");
    let found = registry::lookup::<Singleton>("registry-test-singleton").expect("registered");
    assert_eq!(found.pid(), first.pid());
    assert_eq!(found.hello().await, Ok("hello"));
    assert_eq!(
        Singleton::spawn(()).await.err(),
        Some(SpawnError::NameTaken {
            name: "registry-test-singleton".into(),
            holder: first.pid(),
        })
    );
    first.stop();
    first.wait_for_exit().await;
    let again = Singleton::spawn(()).await.expect("name released at exit");
    again.stop();
}

#[tokio::test]
async fn duplicate_name_is_an_error() {
    let (a, _) = recorder().await;
    let (b, _) = recorder().await;
    registry::register("registry-test-dup", &a).expect("free name");
    assert_eq!(
        registry::register("registry-test-dup", &b),
        Err(RegistryError::NameTaken {
            name: "registry-test-dup".into(),
            holder: a.pid(),
        })
    );
}

#[tokio::test]
async fn lookup_with_the_wrong_type_is_an_error_naming_both_types() {
    let (a, _) = recorder().await;
    registry::register("registry-test-typed", &a).expect("free name");
    let err = registry::lookup::<Singleton>("registry-test-typed").expect_err("wrong type");
    let RegistryError::WrongType {
        expected, found, ..
    } = &err
    else {
        panic!("expected WrongType, got {err:?}");
    };
    assert!(expected.ends_with("Singleton"), "{expected}");
    assert!(found.ends_with("Recorder"), "{found}");
    let typed: Addr<Recorder> = registry::lookup("registry-test-typed").expect("right type");
    assert_eq!(typed.double(4).await, Ok(8));
}

#[tokio::test]
async fn name_is_released_when_the_actor_stops() {
    let (a, _) = recorder().await;
    registry::register("registry-test-release", &a).expect("free name");
    a.stop();
    a.wait_for_exit().await;
    assert_eq!(
        registry::lookup::<Recorder>("registry-test-release").err(),
        Some(RegistryError::NotFound("registry-test-release".into()))
    );
}

#[tokio::test]
async fn registering_a_stopped_actor_is_an_error() {
    let (a, _) = recorder().await;
    a.stop();
    a.wait_for_exit().await;
    assert_eq!(
        registry::register("registry-test-dead", &a),
        Err(RegistryError::Stopped(ExitReason::Normal))
    );
}

#[tokio::test]
async fn an_actor_has_at_most_one_name() {
    let (a, _) = recorder().await;
    registry::register("registry-test-first", &a).expect("free name");
    assert_eq!(
        registry::register("registry-test-second", &a),
        Err(RegistryError::AlreadyNamed {
            pid: a.pid(),
            name: "registry-test-first".into(),
        })
    );
    assert_eq!(registry::unregister("registry-test-first"), Some(a.pid()));
    registry::register("registry-test-second", &a).expect("free again after unregister");
    assert_eq!(
        registry::lookup::<Recorder>("registry-test-second").map(|r| r.pid()),
        Ok(a.pid())
    );
}

#[actor(name = "registry-test-phoenix")]
struct Phoenix;

#[actor]
impl Phoenix {
    #[init]
    fn init() -> Self {
        Phoenix
    }
}

type Restart = Option<Result<Pid, SpawnError<std::convert::Infallible>>>;

/// Restarts `Phoenix` as soon as it hears that the previous one stopped.
#[actor]
struct Restarter {
    restarted: Restart,
}

#[actor]
impl Restarter {
    #[init]
    fn init() -> Self {
        Restarter { restarted: None }
    }

    #[handle(call)]
    fn watch(&mut self, target: Addr<Phoenix>, ctx: &mut Ctx<Self>) -> bool {
        ctx.monitor(&target);
        true
    }

    #[handle(call)]
    fn restarted(&self) -> Restart {
        self.restarted.clone()
    }

    #[on_down]
    async fn down(&mut self, _down: Down) {
        self.restarted = Some(Phoenix::spawn(()).await.map(|a| a.pid()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn name_is_free_before_monitors_hear_of_the_exit() {
    let first = Phoenix::spawn(()).await.expect("first phoenix");
    let restarter = Restarter::spawn(()).await.expect("spawn");
    restarter.watch(first.clone()).await.expect("monitor");
    first.stop();
    first.wait_for_exit().await;
    let restarted = loop {
        if let Some(result) = restarter.restarted().await.expect("answer") {
            break result;
        }
        tokio::task::yield_now().await;
    };
    let pid = restarted.expect("the name was free when the Down arrived");
    assert_ne!(pid, first.pid());
}
