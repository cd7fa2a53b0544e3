//! Introspection: a snapshot shows each live actor's kind, name, parent, links, monitors and
//! mailbox, and the supervision tree follows from the parents.

use actor_runtime::introspect::{children_of, snapshot};
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
