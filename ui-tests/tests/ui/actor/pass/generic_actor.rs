use std::fmt::Debug;

use actor_runtime::prelude::*;

#[actor(mailbox = 16)]
struct Latest<T: Clone + Debug + Send + 'static> {
    value: Option<T>,
}

#[actor]
impl<T: Clone + Debug + Send + 'static> Latest<T> {
    #[init]
    fn init() -> Self {
        Latest { value: None }
    }

    #[handle(cast)]
    fn put(&mut self, value: T) {
        self.value = Some(value);
    }

    #[handle(call)]
    fn get(&self) -> Option<T> {
        self.value.clone()
    }
}

#[actor]
struct Unused<T>
where
    T: Send + 'static,
{
    _marker: std::marker::PhantomData<T>,
}

#[actor]
impl<T> Unused<T>
where
    T: Send + 'static,
{
    #[init]
    fn init() -> Self {
        Unused { _marker: std::marker::PhantomData }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let a: Addr<Latest<String>> = Latest::spawn(()).await.unwrap();
    a.put("x".to_owned()).unwrap();
    assert_eq!(a.get().await, Ok(Some("x".to_owned())));
    let _u: Addr<Unused<Vec<u8>>> = Unused::spawn(()).await.unwrap();
}
