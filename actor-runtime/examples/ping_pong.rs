//! Two actors talking: a `Ping` that asks a `Pong` for replies and counts them.
//!
//! `cargo run -p actor-runtime --example ping_pong`

use std::time::Duration;

use actor_runtime::prelude::*;

#[actor]
struct Pong {
    served: u64,
}

#[actor]
impl Pong {
    #[init]
    fn init() -> Self {
        Pong { served: 0 }
    }

    /// Answers a ping with its sequence number plus one.
    #[handle(call)]
    fn ping(&mut self, n: u64) -> u64 {
        self.served += 1;
        n + 1
    }
}

#[actor(mailbox = 64)]
struct Ping {
    pong: Addr<Pong>,
    rounds: u64,
}

#[actor]
impl Ping {
    #[init]
    fn init(pong: Addr<Pong>) -> Self {
        Ping { pong, rounds: 0 }
    }

    /// Plays `rounds` rounds against the `Pong` and returns the last answer.
    #[handle(call)]
    async fn play(&mut self, rounds: u64) -> Result<u64, CallError> {
        let mut n = 0;
        for _ in 0..rounds {
            n = self.pong.ping(n).timeout(Duration::from_secs(1)).await?;
            self.rounds += 1;
        }
        Ok(n)
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pong = Pong::spawn(()).await?;
    let ping = Ping::spawn(pong.clone()).await?;
    let last = ping.play(10).await??;
    println!(
        "ping {} and pong {} exchanged 10 rounds; last answer {last}",
        ping.pid(),
        pong.pid()
    );
    let report = actor_runtime::shutdown(Duration::from_secs(1)).await;
    println!(
        "shutdown: {} stopped, {} killed",
        report.stopped, report.killed
    );
    Ok(())
}
