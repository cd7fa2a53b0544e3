//! The actor kind the node peer (`src/bin/node-peer.rs`) exports, shared with the tests that
//! start the peer as a separate OS process: both sides compile this one definition.
#![allow(dead_code, unreachable_pub)]

use actor_runtime::prelude::*;

/// Sums what it is sent; can hold a call unanswered, or crash on request.
#[actor]
pub struct Tally {
    total: u64,
    held: Vec<ReplyTo<u64>>,
}

#[actor(remote = "peer.Tally")]
impl Tally {
    #[init]
    fn init() -> Self {
        Tally {
            total: 0,
            held: Vec::new(),
        }
    }

    #[handle(cast)]
    fn add(&mut self, n: u64) {
        self.total += n;
    }

    #[handle(call)]
    fn total(&mut self) -> u64 {
        self.total
    }

    /// Never answered unless `release` is cast: a call that is in flight for as long as the
    /// test wants.
    #[handle(call)]
    fn hold(&mut self, reply: ReplyTo<u64>) {
        self.held.push(reply);
    }

    #[handle(cast)]
    fn release(&mut self) {
        for reply in self.held.drain(..) {
            reply.send(self.total);
        }
    }
}
