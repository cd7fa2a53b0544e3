//! Introspection: a snapshot shows each live actor's kind, name, parent, links, monitors and
//! mailbox, and the supervision tree follows from the parents; per-kind figures keep what
//! stopped actors did; supervisors show their children and restarts.

use std::time::Duration;

use actor_runtime::introspect::{children_of, kinds, snapshot};
use actor_runtime::prelude::*;

#[actor(name = "introspect-parent")]
struct Parent {
    children: Vec<Addr<Leaf>>,
}

#[actor]
impl Parent {
    #[init]
    fn init() -> Self {
        Parent {
            children: Vec::new(),
        }
    }

    #[handle(call)]
    async fn start_children(&mut self, n: usize, ctx: &mut Ctx<Self>) -> Vec<Pid> {
        for _ in 0..n {
            self.children
                .push(ctx.spawn_link::<Leaf>(()).await.expect("starts"));
        }
        self.children.iter().map(Addr::pid).collect()
    }

    #[handle(call)]
    fn watch(&mut self, other: Addr<Leaf>, ctx: &mut Ctx<Self>) -> bool {
        ctx.monitor(&other);
        true
    }

    #[on_down]
    fn down(&mut self, _down: Down) {}
}

#[actor(mailbox = 8)]
struct Leaf;

#[actor]
impl Leaf {
    #[init]
    fn init() -> Self {
        Leaf
    }

    #[handle(cast)]
    fn poke(&mut self) {}
}

#[tokio::test]
async fn a_snapshot_shows_kind_name_parent_links_monitors_and_mailbox_of_each_actor() {
    let parent = Parent::spawn(()).await.expect("starts");
    let children = parent.start_children(2).await.expect("answers");
    let watched = Leaf::spawn(()).await.expect("starts");
    assert!(parent.watch(watched.clone()).await.expect("answers"));

    let actors = snapshot();
    let find = |pid: Pid| {
        actors
            .iter()
            .find(|a| a.pid == pid)
            .unwrap_or_else(|| panic!("{pid} not in the snapshot"))
    };
    let p = find(parent.pid());
    assert_eq!(p.kind(), "introspect::Parent");
    assert_eq!(p.name.as_deref(), Some("introspect-parent"));
    assert_eq!(p.parent, None);
    assert_eq!(p.links, children);
    assert_eq!(p.monitors, vec![watched.pid()]);
    assert!(p.scheduled);

    let tree: Vec<Pid> = children_of(&actors, parent.pid())
        .iter()
        .map(|c| c.pid)
        .collect();
    assert_eq!(tree, children);
    let first = find(children[0]);
    assert_eq!(first.parent, Some(parent.pid()));
    assert_eq!(first.links, vec![parent.pid()]);
    assert!(!first.scheduled, "never sent a message: still dormant");

    let w = find(watched.pid());
    assert_eq!(w.monitored_by, 1);
    assert_eq!((w.mailbox_len, w.mailbox_capacity), (0, 8));

    // A stopped actor leaves the snapshot.
    watched.stop();
    watched.wait_for_exit().await;
    assert!(snapshot().iter().all(|a| a.pid != watched.pid()));
}

#[test]
fn the_kind_is_the_actor_type_for_plain_and_generic_actors() {
    let mut info = snapshot_like("my_app::StorageMsg");
    assert_eq!(info.kind(), "my_app::Storage");
    info = snapshot_like("my_app::LatestMsg<u32>");
    assert_eq!(info.kind(), "my_app::Latest<u32>");
    info = snapshot_like("my_app::Odd");
    assert_eq!(info.kind(), "my_app::Odd");
}

/// A `ProcessInfo` with only its message type set, through a real actor's snapshot entry.
fn snapshot_like(message_type: &'static str) -> actor_runtime::introspect::ProcessInfo {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut info = rt.block_on(async {
        let leaf = Leaf::spawn(()).await.expect("starts");
        let pid = leaf.pid();
        snapshot()
            .into_iter()
            .find(|a| a.pid == pid)
            .expect("listed")
    });
    info.message_type = message_type;
    info
}

/// Used by one test only, so its per-kind figures are its own.
#[actor(mailbox = 4)]
struct Tally;

#[actor]
impl Tally {
    #[init]
    fn init() -> Self {
        Tally
    }

    #[handle(cast)]
    fn bump(&mut self) {}

    #[handle(call)]
    fn ping(&self) -> bool {
        true
    }
}

fn info_of(pid: Pid) -> actor_runtime::introspect::ProcessInfo {
    snapshot()
        .into_iter()
        .find(|a| a.pid == pid)
        .expect("in the snapshot")
}

#[tokio::test]
async fn the_snapshot_counts_handled_and_refused_messages_and_the_mailbox_high_water_mark() {
    let tally = Tally::spawn(()).await.expect("starts");
    // On this current-thread runtime the actor does not run until the test awaits.
    for _ in 0..4 {
        tally.bump().expect("room");
    }
    assert!(matches!(tally.bump(), Err(SendError::Full { capacity: 4 })));
    let full = info_of(tally.pid());
    assert_eq!((full.mailbox_len, full.mailbox_high_water), (4, 4));
    assert_eq!((full.handled, full.refused), (0, 1));

    tally.ping().await.expect("answers");
    let drained = info_of(tally.pid());
    assert_eq!(drained.mailbox_len, 0);
    assert_eq!(drained.mailbox_high_water, 4, "the high-water mark stays");
    assert_eq!((drained.handled, drained.refused), (5, 1));

    // Per kind, stopped actors' figures stay in the totals.
    let other = Tally::spawn(()).await.expect("starts");
    other.ping().await.expect("answers");
    tally.stop();
    tally.wait_for_exit().await;
    let k = kinds(&snapshot())
        .into_iter()
        .find(|k| k.kind == "introspect::Tally")
        .expect("listed");
    assert_eq!((k.live, k.stopped), (1, 1));
    assert_eq!((k.handled, k.refused, k.mailbox_high_water), (6, 1, 4));
}

#[actor]
struct Brittle;

#[actor]
impl Brittle {
    #[init]
    fn init() -> Self {
        Brittle
    }

    #[handle(cast)]
    fn crash(&mut self) {
        panic!("asked to crash");
    }
}

#[supervisor(one_for_one, intensity = 5, period = "10s")]
struct Shelf {
    brittle: Child<Brittle>,
    steady: Child<Leaf>,
}

#[tokio::test(start_paused = true)]
async fn a_supervisor_shows_its_children_and_the_restarts_in_its_current_period() {
    let shelf = Shelf::start().await.expect("starts");
    let sup = shelf.supervisor().expect("runs");
    for _ in 0..2 {
        let brittle = shelf.brittle.addr().expect("running");
        brittle.crash().expect("queued");
        brittle.wait_for_exit().await;
        // A call to the supervisor returns once it has handled the exit and restarted.
        sup.children().await.expect("answers");
    }
    let state = info_of(sup.pid()).supervisor.expect("a supervisor");
    assert_eq!(state.strategy, "one_for_one");
    assert_eq!(
        (state.intensity, state.period),
        (5, Duration::from_secs(10))
    );
    assert_eq!((state.restarts_in_period, state.total_restarts), (2, 2));
    let names: Vec<_> = state
        .children
        .iter()
        .map(|c| (c.name, c.restarts))
        .collect();
    assert_eq!(names, [("brittle", 2), ("steady", 0)]);
    assert_eq!(
        state.children[0].pid,
        shelf.brittle.addr().map(|a| a.pid()),
        "the running incarnation"
    );
    assert_eq!(state.children[0].restart, "permanent");

    // Past the period the restarts no longer count against the intensity.
    tokio::time::sleep(Duration::from_secs(11)).await;
    let later = info_of(sup.pid()).supervisor.expect("a supervisor");
    assert_eq!((later.restarts_in_period, later.total_restarts), (0, 2));
    assert!(
        info_of(shelf.steady.addr().expect("running").pid())
            .supervisor
            .is_none()
    );
}
