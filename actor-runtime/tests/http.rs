//! The HTTP bridge: axum handlers calling actors, requests routed into a pool, HTTPS with a
//! self-signed certificate, and the status codes of failures.

use std::time::Duration;

use actor_runtime::Pool;
use actor_runtime::io::http::axum::extract::State;
use actor_runtime::io::http::axum::routing::get;
use actor_runtime::io::http::axum::{Json, Router};
use actor_runtime::io::http::{
    CallRejection, HttpRequest, HttpResponse, PoolRouting, TlsConfig, pool_router, serve, serve_tls,
};
use actor_runtime::prelude::*;
use axum::http::StatusCode;

#[actor]
struct Counter {
    n: u64,
}

#[actor]
impl Counter {
    #[init]
    fn init() -> Self {
        Counter { n: 0 }
    }

    #[handle(call)]
    fn bump(&mut self) -> u64 {
        self.n += 1;
        self.n
    }

    #[handle(call)]
    async fn slow(&self) -> u64 {
        tokio::time::sleep(Duration::from_secs(60)).await;
        self.n
    }
}

async fn bump(State(counter): State<Addr<Counter>>) -> Result<Json<u64>, CallRejection> {
    Ok(Json(counter.bump().await?))
}

async fn slow(State(counter): State<Addr<Counter>>) -> Result<Json<u64>, CallRejection> {
    Ok(Json(
        counter.slow().timeout(Duration::from_millis(50)).await?,
    ))
}

fn loopback() -> std::net::SocketAddr {
    "127.0.0.1:0".parse().expect("address")
}

#[tokio::test]
async fn axum_handlers_call_actors_and_map_failures_to_503_and_504() {
    let counter = Counter::spawn(()).await.expect("counter");
    let router = Router::new()
        .route("/bump", get(bump))
        .route("/slow", get(slow))
        .with_state(counter.clone());
    let server = serve(loopback(), router).await.expect("serve");
    let base = format!("http://{}", server.local_addr());
    let client = reqwest::Client::new();

    let ok = client
        .get(format!("{base}/bump"))
        .send()
        .await
        .expect("request");
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.json::<u64>().await.expect("json"), 1);

    let timeout = client
        .get(format!("{base}/slow"))
        .send()
        .await
        .expect("request");
    assert_eq!(timeout.status(), StatusCode::GATEWAY_TIMEOUT);
    let body: serde_json::Value = timeout.json().await.expect("json error body");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("no reply"))
    );

    counter.kill();
    counter.wait_for_exit().await;
    let gone = client
        .get(format!("{base}/bump"))
        .send()
        .await
        .expect("request");
    assert_eq!(gone.status(), StatusCode::SERVICE_UNAVAILABLE);
}

/// `/wait` requests the pool's worker has started handling.
static HANDLING_WAIT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Serves requests from a pool.
#[actor(mailbox = 1)]
struct Front;

#[actor]
impl Front {
    #[init]
    fn init() -> Self {
        Front
    }

    #[handle(call)]
    async fn serve(&self, request: HttpRequest) -> HttpResponse {
        if request.uri.path() == "/wait" {
            HANDLING_WAIT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
        let name = request.query("name").unwrap_or_else(|| "world".into());
        HttpResponse::json(StatusCode::OK, &serde_json::json!({ "hello": name }))
    }
}

#[tokio::test]
async fn requests_routed_into_a_pool_and_a_full_pool_answers_503_at_once() {
    let pool = Pool::<Front>::start(1, ()).await.expect("pool");
    let routing = PoolRouting {
        max_body: 16,
        timeout: Duration::from_secs(120),
    };
    let router = pool_router(pool.clone(), routing, |p, request| p.serve(request));
    let server = serve(loopback(), router).await.expect("serve");
    let base = format!("http://{}", server.local_addr());
    let client = reqwest::Client::new();

    let ok = client
        .get(format!("{base}/hi?name=ada%20l"))
        .send()
        .await
        .expect("request");
    assert_eq!(ok.status(), StatusCode::OK);
    let body: serde_json::Value = ok.json().await.expect("json");
    assert_eq!(body["hello"], "ada l");

    let too_big = client
        .post(format!("{base}/"))
        .body(vec![b'x'; 17])
        .send()
        .await
        .expect("request");
    assert_eq!(too_big.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // One worker with a one-message mailbox: a request that hangs occupies the worker and a
    // second one waits in its mailbox...
    let wait = |client: reqwest::Client| {
        let url = format!("{base}/wait");
        tokio::spawn(async move { client.get(url).send().await })
    };
    let first = wait(client.clone());
    while HANDLING_WAIT.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    let second = wait(client.clone());
    while Pool::workers(&pool)[0]
        .addr()
        .is_none_or(|a| a.mailbox().len == 0)
    {
        tokio::task::yield_now().await;
    }
    // ...so the next one is shed at once, with Retry-After.
    let shed = client
        .get(format!("{base}/hi"))
        .send()
        .await
        .expect("request");
    assert_eq!(shed.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(shed.headers().contains_key("retry-after"));
    assert_eq!(Pool::stats(&pool).shed, 1);
    first.abort();
    second.abort();
}

#[tokio::test]
async fn https_with_a_self_signed_certificate() {
    let counter = Counter::spawn(()).await.expect("counter");
    let router = Router::new().route("/bump", get(bump)).with_state(counter);
    let tls = TlsConfig::self_signed(&["localhost"]).expect("certificate");
    let server = serve_tls(loopback(), router, tls).await.expect("serve");
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .expect("client");
    let url = format!("https://localhost:{}/bump", server.local_addr().port());
    let response = client.get(url).send().await.expect("request over TLS");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<u64>().await.expect("json"), 1);

    // A client speaking plain HTTP to the TLS port fails, and the server carries on.
    let plain = reqwest::Client::new()
        .get(format!(
            "http://127.0.0.1:{}/bump",
            server.local_addr().port()
        ))
        .send()
        .await;
    assert!(plain.is_err() || plain.is_ok_and(|r| !r.status().is_success()));
    let again = client
        .get(format!(
            "https://localhost:{}/bump",
            server.local_addr().port()
        ))
        .send()
        .await
        .expect("still serving");
    assert_eq!(again.json::<u64>().await.expect("json"), 2);
}

#[tokio::test]
async fn requests_routed_into_a_pool_over_https() {
    let pool = Pool::<Front>::start(2, ()).await.expect("pool");
    let router = pool_router(pool, PoolRouting::default(), |p, request| p.serve(request));
    let tls = TlsConfig::self_signed(&["localhost"]).expect("certificate");
    let server = serve_tls(loopback(), router, tls).await.expect("serve");
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .expect("client");
    let url = format!(
        "https://localhost:{}/greet?name=grace",
        server.local_addr().port()
    );
    let response = client.get(url).send().await.expect("request over TLS");
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["hello"], "grace");
}

#[tokio::test]
async fn slow_headers_are_closed_by_the_header_read_timeout() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let counter = Counter::spawn(()).await.expect("counter");
    let router = Router::new().route("/bump", get(bump)).with_state(counter);
    let limits = actor_runtime::io::http::HttpLimits {
        header_read_timeout: Duration::from_millis(300),
        ..Default::default()
    };
    let server = actor_runtime::io::http::serve_limited(loopback(), router, limits)
        .await
        .expect("serve");
    // Half a request, then nothing: the server must not wait for the rest forever.
    let mut slow = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    slow.write_all(b"GET /bump HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .expect("partial header");
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(30), slow.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the slow client was not disconnected");
    let ok = reqwest::get(format!("http://{}/bump", server.local_addr()))
        .await
        .expect("request");
    assert_eq!(ok.status(), StatusCode::OK);
}
