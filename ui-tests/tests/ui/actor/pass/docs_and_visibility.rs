#![deny(missing_docs)]
//! Generated items carry the user's docs, and public actors expose public clients.

/// A public actor in a public module.
pub mod public {
    use actor_runtime::prelude::*;

    /// Keeps a number.
    #[actor]
    pub struct Keeper {
        n: u64,
    }

    #[actor]
    impl Keeper {
        /// Starts with `n`.
        #[init]
        pub fn init(n: u64) -> Self {
            Keeper { n }
        }

        /// The number.
        #[handle(call)]
        pub fn get(&self) -> u64 {
            self.n
        }
    }
}

mod private {
    use actor_runtime::prelude::*;

    struct Secret(u8);

    #[actor]
    pub(crate) struct Hidden {
        secret: Secret,
    }

    #[actor]
    impl Hidden {
        #[init]
        fn init(n: u8) -> Self {
            Hidden { secret: Secret(n) }
        }

        #[handle(call)]
        fn reveal(&self) -> u8 {
            self.secret.0
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    use actor_runtime::Actor;
    let k = public::Keeper::spawn(4).await.unwrap();
    assert_eq!(k.get().await, Ok(4));
    let h = private::Hidden::spawn(2).await.unwrap();
    assert_eq!(h.reveal().await, Ok(2));
}
