//! The dispatcher: owns the `traffic` topic and publishes every received payload on it.

use actor_runtime::prelude::*;
use bytes::Bytes;

use crate::telemetry;

/// A datagram as it travels on the `traffic` topic: its payload and receive time.
#[derive(Clone, Debug)]
pub struct Raw {
    /// The msgpack payload, shared by every subscriber.
    pub payload: Bytes,
    /// When the datagram was received, in Unix milliseconds.
    pub received_ms: i64,
}

/// The name the dispatcher is registered under, for the actors that subscribe to its topic.
pub const NAME: &str = "traffic.dispatcher";

/// Owns the `traffic` topic.
#[derive(Debug)]
#[actor(mailbox = 65536)]
pub struct Dispatcher {
    topic: Topic<Raw>,
    publisher: Publisher<Raw>,
    /// The topic's shed and undelivered counts already reported to the metrics.
    reported: (u64, u64),
}

#[actor]
impl Dispatcher {
    #[init]
    fn init(ctx: &mut Ctx<Self>) -> Self {
        // No replay buffer: a restarted subscriber must not store old reports twice.
        let (topic, publisher) = ctx.topic(0);
        ctx.interval(std::time::Duration::from_millis(100), |me| me.report());
        Dispatcher {
            topic,
            publisher,
            reported: (0, 0),
        }
    }

    /// The topic, for subscribers.
    #[handle(call)]
    fn topic(&self) -> Topic<Raw> {
        self.topic.clone()
    }

    /// Publishes one received payload. Publishing never waits: a subscriber whose mailbox is
    /// full has the event counted as shed by the topic.
    #[handle(cast)]
    fn received(&mut self, raw: Raw) {
        let _ = self.publisher.publish(raw);
    }

    /// Adds what the topic shed since the last report to the app's metrics.
    #[handle(cast)]
    fn report(&mut self) {
        let stats = self.topic.stats();
        metrics::counter!(telemetry::SHED, "stage" => "topic")
            .increment(stats.shed - self.reported.0);
        metrics::counter!(telemetry::SHED, "stage" => "topic_undelivered")
            .increment(stats.undelivered - self.reported.1);
        self.reported = (stats.shed, stats.undelivered);
    }

    #[terminate]
    fn ended(&mut self, _reason: &ExitReason) {
        self.report();
    }
}
