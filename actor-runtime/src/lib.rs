//! A typed Erlang/OTP for Rust.
//!
//! Annotate a struct and its `impl` with [`#[actor]`](macro@actor); mark methods
//! `#[handle(call)]` (request/reply) or `#[handle(cast)]` (fire-and-forget). The macro generates
//! the message enum and a typed client, so the actor's handlers become methods on its
//! [`Addr`]:
//!
//! ```
//! use actor_runtime::prelude::*;
//!
//! #[actor]
//! struct Counter {
//!     count: u64,
//! }
//!
//! #[actor]
//! impl Counter {
//!     #[init]
//!     fn init(start: u64) -> Self {
//!         Counter { count: start }
//!     }
//!
//!     /// Adds `n`.
//!     #[handle(cast)]
//!     fn add(&mut self, n: u64) {
//!         self.count += n;
//!     }
//!
//!     /// The current count.
//!     #[handle(call)]
//!     fn get(&self) -> u64 {
//!         self.count
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let counter = Counter::spawn(40).await?;
//! counter.add(2)?;
//! assert_eq!(counter.get().await?, 42);
//! # Ok(())
//! # }
//! ```
//!
//! The runtime gives these actors OTP semantics on tokio: bounded mailboxes that never drop
//! silently, calls with timeouts that fail fast when the callee dies, links, monitors, a
//! system lane for signals, panic isolation, a typed registry and timers.

#![warn(missing_docs)]

// Floors, from the ground up: a module uses only those on its floor or below.
// 1. identity and plumbing; the thread a blocking actor runs on
mod blocking;
mod pid;
mod stats;
mod sync;
#[cfg(feature = "tls")]
mod tls;
// 2. exit reasons and signals, errors, deadlines, the watchdog
mod deadline;
mod error;
mod exit;
pub mod telemetry;
pub mod watchdog;
// 3. the mailbox, a node's tables, the erased process, the process index
mod mailbox;
mod names;
mod process;
mod table;
mod tables;
// 4. the process record
mod record;
// 5. addressing and calls
mod addr;
mod call;
mod target;
// 6. what a handler can do; timers and topics it owns
mod ctx;
mod event;
mod timer;
// 7. actors and their life; the registry's typed face; the node
mod actor;
pub mod introspect;
pub mod registry;
mod system;
// 8. supervision, pools, applications
mod application;
mod pool;
mod supervisor;
// 9. bridges to the outside; nodes; the test kit
pub mod io;
#[cfg(feature = "node")]
pub mod node;
#[cfg(feature = "testing")]
pub mod testing;

pub use actor::{Actor, DEFAULT_MAILBOX, spawn};
pub use actor_macros::{actor, handle, init, on_down, on_exit, supervisor, terminate};
pub use addr::{Addr, Addressable, Linkable, Rejected};
pub use application::{App, AppController, AppError, AppMode, ControllerExit};
pub use call::{Call, CallFuture, DEFAULT_CALL_TIMEOUT, ReplyTo};
pub use ctx::{Ctx, HandlesDown};
pub use error::{CallError, RemoteError, SendError, SpawnError};
pub use event::{Event, Publisher, Subscriber, Subscription, Topic, TopicClosed, TopicStats};
pub use exit::{Down, Exit, ExitReason, MonitorRef};
pub use pid::Pid;
pub use pool::{Pool, PoolStats};
pub use record::MailboxStats;
pub use registry::RegistryError;
pub use supervisor::{
    Child, ChildId, ChildInfo, Restart, Shutdown, Strategy, Supervisor, SupervisorClient,
    SupervisorError, SupervisorMsg, SupervisorSpec,
};
pub use system::{ShutdownReport, Stats, actor_count, shutdown, stats};
pub use timer::TimerRef;

/// The names most programs need: `use actor_runtime::prelude::*;`.
pub mod prelude {
    pub use crate::{
        Actor, Addr, CallError, Child, Ctx, Down, Event, Exit, ExitReason, MonitorRef, Pid,
        Publisher, ReplyTo, SendError, SpawnError, SupervisorError, Topic, actor, handle, init,
        on_down, on_exit, supervisor, terminate,
    };
}

/// What generated code uses. Not a public API: it changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use crate::actor::ActorOptions;
    pub use crate::call::Call;
    pub use crate::pool::pool_child;
    pub use crate::supervisor::{
        ChildSpec, Supervise, SupervisorSlot, actor_child, start_supervisor, supervisor_child,
    };
    pub use crate::target::{Client, Target};
    pub use tracing::span::Id as SpanId;

    #[cfg(feature = "node")]
    pub use crate::call::ReplyRoute;
    #[cfg(feature = "node")]
    pub use crate::error::RemoteError;
    #[cfg(feature = "node")]
    pub use crate::node::{
        KindEntry, Pending, RemoteActor, decode, encode, no_reply_expected, pending, reply_to,
    };
    #[cfg(feature = "node")]
    pub use inventory;
    #[cfg(feature = "node")]
    pub use serde;

    /// Every argument and reply of a remote actor travels between nodes as MessagePack.
    #[cfg(feature = "node")]
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot travel to another node",
        label = "an argument or reply of a `#[actor(remote)]` handler",
        note = "remote actors send arguments and replies as MessagePack: derive `serde::Serialize` and `serde::Deserialize` for `{Self}`, or keep the actor local (no `remote`)"
    )]
    pub trait WireArg: serde::Serialize + serde::de::DeserializeOwned {}
    #[cfg(feature = "node")]
    #[diagnostic::do_not_recommend]
    impl<T: serde::Serialize + serde::de::DeserializeOwned> WireArg for T {}

    /// Naming `WireOk<T>` in a signature checks `T: WireArg` with the items.
    #[cfg(feature = "node")]
    #[allow(missing_debug_implementations)]
    pub struct WireOk<T: WireArg>(::core::marker::PhantomData<T>);

    /// Every argument of a handler travels in a message between tasks.
    #[diagnostic::on_unimplemented(
        message = "handler argument type `{Self}` cannot be sent to another actor",
        label = "this type is not `Send + 'static`",
        note = "message arguments cross tasks and threads: use an owned, `Send` type (e.g. `Arc` instead of `Rc`, `String` instead of `&str`)"
    )]
    pub trait MessageArg: Send + 'static {}
    #[diagnostic::do_not_recommend]
    impl<T: Send + 'static> MessageArg for T {}

    /// Every reply travels back to the caller's task.
    #[diagnostic::on_unimplemented(
        message = "reply type `{Self}` cannot be sent back to the caller",
        label = "this type is not `Send + 'static`",
        note = "replies cross tasks and threads: return an owned, `Send` type"
    )]
    pub trait MessageReply: Send + 'static {}
    #[diagnostic::do_not_recommend]
    impl<T: Send + 'static> MessageReply for T {}

    /// The start argument of a supervised child declared without `args = ..`.
    #[diagnostic::on_unimplemented(
        message = "this child needs a start argument: `{Self}` has no default value",
        label = "no `args` given for this child",
        note = "give the child its start argument with `#[child(args = ...)]`, or implement `Default` for `{Self}`"
    )]
    pub trait DefaultArgs: Sized {
        fn default_args() -> Self;
    }
    #[diagnostic::do_not_recommend]
    impl<T: Default> DefaultArgs for T {
        fn default_args() -> Self {
            T::default()
        }
    }

    /// Naming `ArgOk<T>` in a signature checks `T: MessageArg` when the item is checked, before
    /// the bodies that would otherwise report the same mistake from inside generated code.
    #[allow(missing_debug_implementations)]
    pub struct ArgOk<T: MessageArg + ?Sized>(::core::marker::PhantomData<T>);
    /// As [`ArgOk`], for reply types.
    #[allow(missing_debug_implementations)]
    pub struct ReplyOk<T: MessageReply + ?Sized>(::core::marker::PhantomData<T>);
}
