//! Typed events: ordering, publisher tokens, late-subscriber buffer, owner exit, shedding.

use actor_runtime::TopicClosed;
use actor_runtime::prelude::*;

/// Owns a topic of `u32` and hands out its topic and publishers.
#[actor]
struct Owner {
    topic: Topic<u32>,
    publisher: Publisher<u32>,
}

#[actor]
impl Owner {
    #[init]
    fn init(buffer: usize, ctx: &mut Ctx<Self>) -> Self {
        let (topic, publisher) = ctx.topic(buffer);
        Owner { topic, publisher }
    }

    #[handle(call)]
    fn topic(&self) -> Topic<u32> {
        self.topic.clone()
    }

    /// Hands out a publisher token.
    #[handle(call)]
    fn publisher(&self) -> Publisher<u32> {
        self.publisher.clone()
    }

    #[handle(cast)]
    fn quit(&mut self, reason: ExitReason, ctx: &mut Ctx<Self>) {
        ctx.stop_with(reason);
    }
}

/// Records what it receives.
#[actor(mailbox = 4)]
struct Listener {
    seen: Vec<Event<u32>>,
}

#[actor]
impl Listener {
    #[init]
    fn init() -> Self {
        Listener { seen: Vec::new() }
    }

    #[handle(cast)]
    fn on_event(&mut self, event: Event<u32>) {
        self.seen.push(event);
    }

    #[handle(call)]
    fn seen(&self) -> Vec<Event<u32>> {
        self.seen.clone()
    }

    #[handle(cast)]
    async fn block_on(&mut self, gate: tokio::sync::oneshot::Receiver<()>) {
        let _ = gate.await;
    }
}

async fn listener(topic: &Topic<u32>) -> (Addr<Listener>, actor_runtime::Subscription) {
    let l = Listener::spawn(()).await.expect("listener");
    let sub = topic.subscribe(l.clone(), |l, event| l.on_event(event));
    (l, sub)
}

fn published(events: &[Event<u32>]) -> Vec<u32> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Published(n) => Some(*n),
            Event::Closed(_) => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_subscriber_gets_every_event_in_one_publish_order() {
    let owner = Owner::spawn(0).await.expect("owner");
    let topic = owner.topic().await.expect("topic");
    let mut listeners = Vec::new();
    for _ in 0..3 {
        let l = Listener::spawn(()).await.expect("listener");
        topic.subscribe(l.clone(), |l, event| l.on_event(event));
        listeners.push(l);
    }
    // Small batches, so the 4-message mailboxes never fill.
    let publishers: Vec<_> = (0..2u32)
        .map(|p| {
            let owner = owner.clone();
            tokio::spawn(async move {
                let publisher = owner.publisher().await.expect("token");
                for i in 0..2 {
                    publisher.publish(p * 100 + i).expect("open");
                }
            })
        })
        .collect();
    for p in publishers {
        p.await.expect("publisher");
    }
    let first = published(&listeners[0].seen().await.expect("seen"));
    assert_eq!(first.len(), 4);
    for l in &listeners[1..] {
        assert_eq!(
            published(&l.seen().await.expect("seen")),
            first,
            "one order for all"
        );
    }
    for p in 0..2u32 {
        let mine: Vec<u32> = first.iter().copied().filter(|n| n / 100 == p).collect();
        assert_eq!(mine, vec![p * 100, p * 100 + 1], "publisher {p} in order");
    }
}

#[tokio::test]
async fn a_handed_out_publisher_publishes_for_the_owner() {
    let owner = Owner::spawn(0).await.expect("owner");
    let topic = owner.topic().await.expect("topic");
    let (l, _) = listener(&topic).await;
    let token = owner.publisher().await.expect("token");
    assert_eq!(token.publish(7), Ok(1));
    assert_eq!(l.seen().await, Ok(vec![Event::Published(7)]));
}

#[tokio::test]
async fn late_subscribers_receive_the_last_n_events() {
    let owner = Owner::spawn(2).await.expect("owner");
    let publisher = owner.publisher().await.expect("token");
    for n in 1..=3 {
        publisher.publish(n).expect("open");
    }
    let topic = owner.topic().await.expect("topic");
    let (l, _) = listener(&topic).await;
    publisher.publish(4).expect("open");
    assert_eq!(published(&l.seen().await.expect("seen")), vec![2, 3, 4]);
}

#[tokio::test]
async fn owner_exit_notifies_subscribers_and_ends_publishing() {
    let owner = Owner::spawn(0).await.expect("owner");
    let topic = owner.topic().await.expect("topic");
    let publisher = owner.publisher().await.expect("token");
    let (l, _) = listener(&topic).await;
    publisher.publish(1).expect("open");
    owner
        .quit(ExitReason::error("owner failed"))
        .expect("queued");
    owner.wait_for_exit().await;
    assert_eq!(
        l.seen().await,
        Ok(vec![
            Event::Published(1),
            Event::Closed(ExitReason::error("owner failed"))
        ])
    );
    assert_eq!(
        publisher.publish(2),
        Err(TopicClosed(ExitReason::error("owner failed")))
    );
    // Subscribing afterwards gets the closing at once.
    let (late, _) = listener(&topic).await;
    assert_eq!(
        late.seen().await,
        Ok(vec![Event::Closed(ExitReason::error("owner failed"))])
    );
}

#[tokio::test]
async fn a_full_subscriber_mailbox_is_counted_not_silent() {
    let owner = Owner::spawn(0).await.expect("owner");
    let topic = owner.topic().await.expect("topic");
    let publisher = owner.publisher().await.expect("token");
    let (slow, sub) = listener(&topic).await;
    let (fast, _) = listener(&topic).await;
    let (gate, rx) = tokio::sync::oneshot::channel();
    slow.block_on(rx).expect("queued");
    // Capacity 4; the blocking message has been taken, so its room is free again (capacity is
    // released per message): 4 delivered, 6 shed.
    for n in 0..10 {
        publisher.publish(n).expect("open");
        // Let the fast listener keep up.
        let _ = fast.seen().await;
    }
    let stats = topic.stats();
    assert_eq!(stats.published, 10);
    assert_eq!(stats.shed, 6);
    assert_eq!(topic.shed_for(sub), Some(6));
    gate.send(()).expect("slow waits");
    assert_eq!(
        published(&slow.seen().await.expect("seen")),
        vec![0, 1, 2, 3]
    );
    assert_eq!(published(&fast.seen().await.expect("seen")).len(), 10);
}

#[tokio::test]
async fn unsubscribed_subscribers_get_nothing_and_stopped_ones_are_counted_and_removed() {
    let owner = Owner::spawn(0).await.expect("owner");
    let topic = owner.topic().await.expect("topic");
    let publisher = owner.publisher().await.expect("token");
    let (gone, gone_sub) = listener(&topic).await;
    let (dead, _) = listener(&topic).await;
    let (kept, _) = listener(&topic).await;
    assert!(topic.unsubscribe(gone_sub));
    dead.stop();
    dead.wait_for_exit().await;
    assert_eq!(publisher.publish(1), Ok(1));
    let stats = topic.stats();
    assert_eq!(
        stats.subscribers, 1,
        "an actor that stopped is removed: it can never come back"
    );
    assert_eq!(stats.undelivered, 1, "and the event it missed is counted");
    assert_eq!(gone.seen().await, Ok(vec![]));
    assert_eq!(kept.seen().await, Ok(vec![Event::Published(1)]));
}

#[tokio::test]
async fn a_restarted_child_subscriber_keeps_receiving() {
    #[supervisor(one_for_one)]
    struct Tree {
        listener: Child<Listener>,
    }
    let owner = Owner::spawn(0).await.expect("owner");
    let topic = owner.topic().await.expect("topic");
    let publisher = owner.publisher().await.expect("token");
    let tree = Tree::start().await.expect("tree");
    topic.subscribe(tree.listener.clone(), |l, event| l.on_event(event));
    let first = tree.listener.addr().expect("running");
    first.stop();
    first.wait_for_exit().await;
    tree.supervisor()
        .expect("runs")
        .children()
        .await
        .expect("restarted");
    assert_eq!(publisher.publish(5), Ok(1));
    assert_eq!(tree.listener.seen().await, Ok(vec![Event::Published(5)]));
}
