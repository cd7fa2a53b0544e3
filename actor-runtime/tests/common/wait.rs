//! Waiting for a condition in the node tests, without a fixed sleep.

use std::time::Duration;

/// Polls `probe` every 20 ms until it gives a value; panics naming `what` after `within`.
pub(crate) async fn until<T>(
    what: &str,
    within: Duration,
    mut probe: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
