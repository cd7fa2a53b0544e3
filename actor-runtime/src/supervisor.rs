//! Supervision: OTP supervisors declared with `#[supervisor]` on a struct of children.
//!
//! The struct a user declares is the *handle*: its fields are [`Child`] handles (and nested
//! supervisor handles) that stay valid across restarts. The supervisor itself is an ordinary
//! actor of this crate ([`Supervisor`]) driven by a [`SupervisorSpec`] the macro builds from the
//! struct: it traps its children's exits and restarts exactly the children its strategy names.

mod child;
mod server;
mod spec;

pub use child::Child;
pub use server::{ChildInfo, Supervisor, SupervisorClient, SupervisorMsg};
pub use spec::{ChildId, Restart, Shutdown, Strategy, SupervisorError, SupervisorSpec};

#[doc(hidden)]
pub use child::{SupervisorSlot, actor_child, supervisor_child};
#[doc(hidden)]
pub use spec::{ChildSpec, Supervise};
pub(crate) use spec::{StartFuture, Started, Starter};

use crate::actor::start;
use crate::error::SpawnError;

/// Starts the supervisor of a `#[supervisor]` handle at the top level.
#[doc(hidden)]
pub async fn start_supervisor<S: Supervise>() -> Result<S, SpawnError<SupervisorError>> {
    let handle = S::__new();
    let addr = start::<Supervisor>(handle.__spec(), None, None).await?;
    handle.__supervisor().set(addr);
    Ok(handle)
}
