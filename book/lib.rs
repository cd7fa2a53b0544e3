//! The book's listings as doc tests: each chapter is rustdoc of one module, so
//! `cargo test -p book --doc` compiles and runs every Rust block in the book.
#![allow(rustdoc::bare_urls)]

macro_rules! chapters {
    ($($module:ident => $file:literal),* $(,)?) => {
        $(
            #[doc = include_str!(concat!(env!("OUT_DIR"), "/", $file))]
            pub mod $module {}
        )*
    };
}

chapters! {
    introduction => "introduction.md",
    getting_started => "getting-started.md",
    actors => "actors.md",
    messaging => "messaging.md",
    failure => "failure.md",
    registry_and_timers => "registry-and-timers.md",
    supervision => "supervision.md",
    events_and_pools => "events-and-pools.md",
    testing => "testing.md",
    observing => "observing.md",
    bridges => "bridges.md",
    cluster => "cluster.md",
    performance => "performance.md",
    fairness => "fairness.md",
    traffic_app => "traffic-app.md",
}
