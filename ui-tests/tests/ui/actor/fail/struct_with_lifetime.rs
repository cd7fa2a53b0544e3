use actor_runtime::prelude::*;

#[actor]
struct Borrower<'a> {
    text: &'a str,
}

fn main() {}
