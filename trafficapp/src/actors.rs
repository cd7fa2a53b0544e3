//! The app's actors and its supervision trees.
//!
//! ```text
//! AppController
//! ├── "pipeline": Pipeline (rest_for_one, intensity 2 per 5 s)
//! │   ├── dispatcher   owns the `traffic` topic
//! │   ├── emergency    subscribed to it; POSTs emergencies
//! │   └── storage      the single writer; starts the ingest pool (subscribed) linked to it
//! └── "edge": Edge (one_for_one), after "pipeline"
//!     ├── receiver     UDP → dispatcher
//!     └── web          HTTPS API; starts the query pool linked to it
//! ```

pub mod dispatcher;
pub mod emergency;
pub mod ingest;
pub mod query;
pub mod receiver;
pub mod storage;
pub mod web;

use actor_runtime::prelude::*;

pub use dispatcher::{Dispatcher, Raw};
pub use emergency::Emergency;
pub use ingest::Ingest;
pub use query::Query;
pub use receiver::Receiver;
pub use storage::Storage;
pub use web::Web;

use crate::settings;

/// The ingest side, as in the original: a rest_for_one supervisor over dispatcher,
/// emergency and storage, two restarts per five seconds.
#[supervisor(rest_for_one, intensity = 2, period = "5s")]
pub struct Pipeline {
    /// Owns the `traffic` topic.
    #[child(name = "traffic.dispatcher")]
    pub dispatcher: Child<Dispatcher>,
    /// Notifies emergencies.
    #[child(args = settings::current())]
    pub emergency: Child<Emergency>,
    /// Stores positions; its ingest pool is linked to it.
    #[child(args = settings::current(), shutdown = "30s")]
    pub storage: Child<Storage>,
}

/// The network edges: UDP in, HTTPS out.
#[supervisor(one_for_one, intensity = 5, period = "5s")]
pub struct Edge {
    /// Reads the UDP port.
    #[child(args = settings::current())]
    pub receiver: Child<Receiver>,
    /// Serves the query API.
    #[child(args = settings::current())]
    pub web: Child<Web>,
}
