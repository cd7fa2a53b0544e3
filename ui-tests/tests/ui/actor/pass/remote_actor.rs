//! `#[actor(remote)]`: serde arguments and replies, a deferred reply, a kind name of its own.
use actor_runtime::node::RemoteActor;
use actor_runtime::prelude::*;

#[derive(serde::Serialize, serde::Deserialize)]
pub struct Position {
    pub lon: f64,
    pub lat: f64,
}

#[actor]
struct Tracker {
    last: Option<Position>,
}

#[actor(remote = "fleet.Tracker")]
impl Tracker {
    #[init]
    fn init() -> Self {
        Tracker { last: None }
    }

    #[handle(cast)]
    fn report(&mut self, position: Position) {
        self.last = Some(position);
    }

    #[handle(call)]
    fn last(&mut self) -> Option<(f64, f64)> {
        self.last.as_ref().map(|p| (p.lon, p.lat))
    }

    #[handle(call)]
    fn later(&mut self, reply: ReplyTo<u32>) {
        reply.send(7);
    }
}

fn main() {
    assert_eq!(<Tracker as RemoteActor>::KIND, "fleet.Tracker");
}
