//! Compile-pass and compile-fail cases for `#[actor]` and `#[supervisor]`. Bless with
//! `TRYBUILD=overwrite cargo test -p ui-tests`, then read every changed `.stderr`.

#[test]
fn actor_pass() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/actor/pass/*.rs");
}

#[test]
fn actor_fail() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/actor/fail/*.rs");
}

#[test]
fn supervisor_pass() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/supervisor/pass/*.rs");
}

#[test]
fn supervisor_fail() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/supervisor/fail/*.rs");
}
