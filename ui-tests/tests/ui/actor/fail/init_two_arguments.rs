use actor_runtime::prelude::*;

#[actor]
struct Point {
    x: i32,
    y: i32,
}

#[actor]
impl Point {
    #[init]
    fn init(x: i32, y: i32) -> Self {
        Point { x, y }
    }
}

fn main() {}
