use actor_runtime::prelude::*;

/// Plain data, but without serde's derives.
pub struct Position {
    pub lon: f64,
    pub lat: f64,
}

#[actor]
struct Tracker;

#[actor(remote)]
impl Tracker {
    #[init]
    fn init() -> Self {
        Tracker
    }

    #[handle(cast)]
    fn report(&mut self, position: Position) {
        let _ = position;
    }
}

fn main() {}
