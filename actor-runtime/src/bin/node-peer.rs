//! A node in its own OS process, for the tests that kill, stop and restart a node
//! (`tests/processes.rs`).
//!
//! `node-peer NAME COOKIE [REGISTRAR_PORT]` starts node `NAME`, registers a `Tally` as
//! `tally`, prints `listening ADDR creation N` on one line of stdout and runs until killed or
//! until its stdin closes (so a test that panics leaves no peer behind). With a port, the
//! node publishes itself with the embedded registrar on that loopback port.

use actor_runtime::node::registrar::Embedded;
use actor_runtime::node::{Node, NodeConfig};
use actor_runtime::prelude::*;

#[path = "../../tests/common/peer.rs"]
mod peer;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(name), Some(cookie)) = (args.next(), args.next()) else {
        eprintln!("usage: node-peer NAME COOKIE [REGISTRAR_PORT]");
        std::process::exit(2);
    };
    let mut config = NodeConfig::new(name, cookie);
    if let Some(port) = args.next() {
        let Ok(port) = port.parse::<u16>() else {
            eprintln!("node-peer: REGISTRAR_PORT must be a port number, got `{port}`");
            std::process::exit(2);
        };
        config = config.registrar(Embedded::at(([127, 0, 0, 1], port).into()));
    }
    let node = match Node::start(config).await {
        Ok(node) => node,
        Err(e) => {
            eprintln!("node-peer: {e}");
            std::process::exit(1);
        }
    };
    let tally = peer::Tally::spawn(()).await.expect("spawn the tally");
    node.register("tally", &tally).expect("register the tally");
    let addr = node.local_addr().expect("the node listens");
    println!("listening {addr} creation {}", node.creation());
    // Ends when the test closes our stdin (or dies).
    let _ =
        tokio::task::spawn_blocking(|| std::io::copy(&mut std::io::stdin(), &mut std::io::sink()))
            .await;
    node.shutdown();
}
