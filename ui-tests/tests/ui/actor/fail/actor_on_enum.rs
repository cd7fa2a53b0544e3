use actor_runtime::prelude::*;

#[actor]
enum Light {
    Red,
    Green,
}

fn main() {}
