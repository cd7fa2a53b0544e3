//! Procedural macros of `actor-runtime`. Depend on `actor-runtime`, which re-exports them.

use proc_macro::TokenStream;

mod actor;
mod ctxt;
mod markers;

/// Declares an actor: put it on the struct that holds the state and on the `impl` block that
/// holds `#[init]` and the `#[handle(call)]` / `#[handle(cast)]` methods.
///
/// Struct options: `mailbox = N` (capacity, default 1024), `name = "..."` (register on spawn),
/// `crate = path` (where `actor_runtime` is, if renamed; also accepted on the impl).
#[proc_macro_attribute]
pub fn actor(attr: TokenStream, item: TokenStream) -> TokenStream {
    actor::expand(attr.into(), item.into()).into()
}

/// Marks a handler in an `#[actor]` impl. Outside one it is an error that says so.
#[proc_macro_attribute]
pub fn handle(attr: TokenStream, item: TokenStream) -> TokenStream {
    markers::outside_actor("handle", attr.into(), item.into()).into()
}

/// Marks the constructor in an `#[actor]` impl. Outside one it is an error that says so.
#[proc_macro_attribute]
pub fn init(attr: TokenStream, item: TokenStream) -> TokenStream {
    markers::outside_actor("init", attr.into(), item.into()).into()
}

/// Marks the exit-signal hook in an `#[actor]` impl. Outside one it is an error that says so.
#[proc_macro_attribute]
pub fn on_exit(attr: TokenStream, item: TokenStream) -> TokenStream {
    markers::outside_actor("on_exit", attr.into(), item.into()).into()
}

/// Marks the monitor hook in an `#[actor]` impl. Outside one it is an error that says so.
#[proc_macro_attribute]
pub fn on_down(attr: TokenStream, item: TokenStream) -> TokenStream {
    markers::outside_actor("on_down", attr.into(), item.into()).into()
}

/// Marks the termination hook in an `#[actor]` impl. Outside one it is an error that says so.
#[proc_macro_attribute]
pub fn terminate(attr: TokenStream, item: TokenStream) -> TokenStream {
    markers::outside_actor("terminate", attr.into(), item.into()).into()
}
