//! Compile-pass and compile-fail cases for the `#[actor]` DSL; see `README.md`.
