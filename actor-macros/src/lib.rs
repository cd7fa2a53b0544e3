//! Procedural macros of `actor-runtime`. Depend on `actor-runtime`, which re-exports them.

use proc_macro::TokenStream;

mod actor;
mod ctxt;
mod markers;
mod spans;
mod supervisor;

/// Declares an actor: put it on the struct that holds the state and on the `impl` block that
/// holds `#[init]` and the `#[handle(call)]` / `#[handle(cast)]` methods.
///
/// Struct options: `mailbox = N` (capacity, default 1024), `name = "..."` (register on spawn),
/// `blocking` (run on a thread of its own, for handlers that compute or block without
/// awaiting), `crate = path` (where `actor_runtime` is, if renamed; also accepted on the impl).
#[proc_macro_attribute]
pub fn actor(attr: TokenStream, item: TokenStream) -> TokenStream {
    actor::expand(attr.into(), item.into()).into()
}

/// Declares a supervisor: put it on a struct whose named fields are its children, in start
/// order: `Child<A>` for an actor, or another `#[supervisor]` struct for a nested supervisor.
///
/// Options: the strategy (`one_for_one`, the default, `one_for_all`, `rest_for_one`,
/// `simple_one_for_one`), `intensity = N` and `period = "5s"` (at most N restarts per period;
/// default 5 per 5 s), `crate = path`. Per field, `#[child(..)]`: `restart = permanent |
/// transient | temporary`, `shutdown = "10s" | brutal_kill | infinity`, `name = "..."`,
/// `args = expr` (evaluated at every start).
#[proc_macro_attribute]
pub fn supervisor(attr: TokenStream, item: TokenStream) -> TokenStream {
    supervisor::expand(attr.into(), item.into()).into()
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
