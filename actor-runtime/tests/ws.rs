//! WebSocket and SSE connections as actors: pushed to by an unrelated actor, ending as a
//! typed exit that monitors see.

use actor_runtime::io::http::axum::Router;
use actor_runtime::io::http::axum::extract::{State, WebSocketUpgrade};
use actor_runtime::io::http::axum::response::Response;
use actor_runtime::io::http::axum::routing::get;
use actor_runtime::io::http::serve;
use actor_runtime::io::ws::{
    SseConn, WsConn, WsLimits, WsMessage, sse, websocket, websocket_limited,
};
use actor_runtime::prelude::*;
use futures_util::{SinkExt, StreamExt};

/// Knows every connection, pushes to them, and watches them end.
#[actor]
struct Hub {
    sockets: Vec<Addr<Socket>>,
    feeds: Vec<Addr<Feed>>,
    ended: Vec<ExitReason>,
}

#[actor]
impl Hub {
    #[init]
    fn init() -> Self {
        Hub {
            sockets: Vec::new(),
            feeds: Vec::new(),
            ended: Vec::new(),
        }
    }

    #[handle(cast)]
    fn join_socket(&mut self, socket: Addr<Socket>, ctx: &mut Ctx<Self>) {
        ctx.monitor(&socket);
        self.sockets.push(socket);
    }

    #[handle(cast)]
    fn join_feed(&mut self, feed: Addr<Feed>, ctx: &mut Ctx<Self>) {
        ctx.monitor(&feed);
        self.feeds.push(feed);
    }

    #[handle(call)]
    fn connections(&self) -> usize {
        self.sockets.iter().filter(|s| s.is_alive()).count()
            + self.feeds.iter().filter(|f| f.is_alive()).count()
    }

    /// Pushes `text` to every connection.
    #[handle(cast)]
    fn broadcast(&mut self, text: String) {
        for s in &self.sockets {
            let _ = s.push(text.clone());
        }
        for f in &self.feeds {
            let _ = f.push(text.clone());
        }
    }

    #[handle(call)]
    fn ended(&self) -> Vec<ExitReason> {
        self.ended.clone()
    }

    #[on_down]
    fn down(&mut self, down: Down) {
        self.ended.push(down.reason);
    }
}

/// One WebSocket client.
#[actor]
struct Socket {
    conn: WsConn,
}

#[actor]
impl Socket {
    #[init]
    fn init((conn, hub): (WsConn, Addr<Hub>), ctx: &mut Ctx<Self>) -> Self {
        let _ = hub.join_socket(ctx.addr().clone());
        Socket { conn }
    }

    #[handle(cast)]
    async fn incoming(&mut self, message: WsMessage) {
        if let WsMessage::Text(text) = message {
            let _ = self
                .conn
                .send_text(format!("echo: {}", text.as_str()))
                .await;
        }
    }

    #[handle(cast)]
    async fn push(&mut self, text: String) {
        let _ = self.conn.send_text(text).await;
    }
}

/// One SSE client.
#[actor]
struct Feed {
    conn: SseConn,
}

#[actor]
impl Feed {
    #[init]
    fn init((conn, hub): (SseConn, Addr<Hub>), ctx: &mut Ctx<Self>) -> Self {
        let _ = hub.join_feed(ctx.addr().clone());
        Feed { conn }
    }

    #[handle(cast)]
    async fn push(&mut self, text: String) {
        let _ = self.conn.send(text).await;
    }
}

async fn ws_route(upgrade: WebSocketUpgrade, State(hub): State<Addr<Hub>>) -> Response {
    websocket::<Socket, _, _>(
        upgrade,
        move |conn| (conn, hub),
        |message| SocketMsg::Incoming { message },
    )
}

async fn small_ws_route(upgrade: WebSocketUpgrade, State(hub): State<Addr<Hub>>) -> Response {
    let limits = WsLimits {
        max_message: 64 << 10,
        ping_every: std::time::Duration::from_millis(100),
        silence_limit: std::time::Duration::from_secs(1),
        ..WsLimits::default()
    };
    websocket_limited::<Socket, _, _>(
        upgrade,
        limits,
        move |conn| (conn, hub),
        |message| SocketMsg::Incoming { message },
    )
}

/// No keep-alive: a zero ping period means the server never pings.
async fn quiet_ws_route(upgrade: WebSocketUpgrade, State(hub): State<Addr<Hub>>) -> Response {
    let limits = WsLimits {
        ping_every: std::time::Duration::ZERO,
        ..WsLimits::default()
    };
    websocket_limited::<Socket, _, _>(
        upgrade,
        limits,
        move |conn| (conn, hub),
        |message| SocketMsg::Incoming { message },
    )
}

async fn sse_route(State(hub): State<Addr<Hub>>) -> Response {
    sse::<Feed, _>(move |conn| (conn, hub)).await
}

async fn start() -> (Addr<Hub>, actor_runtime::io::http::HttpServer) {
    let hub = Hub::spawn(()).await.expect("hub");
    let router = Router::new()
        .route("/ws", get(ws_route))
        .route("/events", get(sse_route))
        .route("/small", get(small_ws_route))
        .route("/quiet", get(quiet_ws_route))
        .with_state(hub.clone());
    let server = serve("127.0.0.1:0".parse().expect("address"), router)
        .await
        .expect("serve");
    (hub, server)
}

async fn wait_connections(hub: &Addr<Hub>, n: usize) {
    while hub.connections().await.expect("hub") != n {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_is_an_actor_any_actor_can_push_to() {
    let (hub, server) = start().await;
    let url = format!("ws://{}/ws", server.local_addr());
    let (mut client, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connect");
    wait_connections(&hub, 1).await;

    client
        .send(tokio_tungstenite::tungstenite::Message::text("hi"))
        .await
        .expect("send");
    let echo = client.next().await.expect("message").expect("frame");
    assert_eq!(echo.into_text().expect("text").as_str(), "echo: hi");

    hub.broadcast("news".into()).expect("queued");
    let pushed = client.next().await.expect("message").expect("frame");
    assert_eq!(pushed.into_text().expect("text").as_str(), "news");

    client.close(None).await.expect("close");
    while hub.ended().await.expect("hub").is_empty() {
        tokio::task::yield_now().await;
    }
    assert_eq!(hub.ended().await, Ok(vec![ExitReason::Normal]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sse_stream_is_an_actor_and_its_end_is_a_typed_exit() {
    let (hub, server) = start().await;
    let response = reqwest::get(format!("http://{}/events", server.local_addr()))
        .await
        .expect("request");
    assert_eq!(
        response.headers()["content-type"].to_str().expect("ascii"),
        "text/event-stream"
    );
    wait_connections(&hub, 1).await;
    hub.broadcast("news".into()).expect("queued");
    let mut body = response.bytes_stream();
    let mut text = String::new();
    while !text.contains("data: news") {
        let chunk = body.next().await.expect("chunk").expect("bytes");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    drop(body);
    while hub.ended().await.expect("hub").is_empty() {
        tokio::task::yield_now().await;
    }
    assert_eq!(hub.ended().await, Ok(vec![ExitReason::Normal]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_the_limit_closes_the_socket_before_it_is_buffered_whole() {
    let (hub, server) = start().await;
    let url = format!("ws://{}/small", server.local_addr());
    let (mut client, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connect");
    wait_connections(&hub, 1).await;
    let big = tokio_tungstenite::tungstenite::Message::binary(vec![b'x'; 100 << 10]);
    let _ = client.send(big).await;
    while hub.ended().await.expect("hub").is_empty() {
        tokio::task::yield_now().await;
    }
    let ended = hub.ended().await.expect("hub");
    assert!(
        matches!(&ended[..], [ExitReason::Error(e)] if e.contains("too long") || e.contains("size")),
        "{ended:?}"
    );
    // A well-behaved client of the same server is served.
    let url = format!("ws://{}/ws", server.local_addr());
    let (mut good, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connect");
    good.send(tokio_tungstenite::tungstenite::Message::text("hi"))
        .await
        .expect("send");
    let echo = good.next().await.expect("message").expect("frame");
    assert_eq!(echo.into_text().expect("text").as_str(), "echo: hi");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_goes_silent_is_closed_and_one_that_answers_pings_stays() {
    let (hub, server) = start().await;
    let url = format!("ws://{}/small", server.local_addr());
    // Never reads, so never answers the server's pings.
    let (_silent, _) = tokio_tungstenite::connect_async(&url)
        .await
        .expect("connect");
    // Reads (and so answers pings) for longer than the silence limit.
    let (mut lively, _) = tokio_tungstenite::connect_async(&url)
        .await
        .expect("connect");
    wait_connections(&hub, 2).await;
    while hub.ended().await.expect("hub").is_empty() {
        // Each read also answers the pings that arrived.
        let _ = tokio::time::timeout(std::time::Duration::from_millis(20), lively.next()).await;
    }
    let ended = hub.ended().await.expect("hub");
    assert!(
        matches!(&ended[..], [ExitReason::Error(e)] if e.contains("silent")),
        "{ended:?}"
    );
    lively
        .send(tokio_tungstenite::tungstenite::Message::text("still here"))
        .await
        .expect("send");
    loop {
        let message = lively.next().await.expect("open").expect("frame");
        if let Ok(text) = message.into_text() {
            if text.as_str() == "echo: still here" {
                break;
            }
        }
    }
    assert_eq!(hub.connections().await, Ok(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zero_ping_period_means_no_pings() {
    let (hub, server) = start().await;
    let url = format!("ws://{}/quiet", server.local_addr());
    let (mut client, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connect");
    wait_connections(&hub, 1).await;
    client
        .send(tokio_tungstenite::tungstenite::Message::text("hi"))
        .await
        .expect("send");
    // The first message back is the echo: no ping came before it.
    let echo = client.next().await.expect("message").expect("frame");
    assert_eq!(echo.into_text().expect("text").as_str(), "echo: hi");
    let nothing = tokio::time::timeout(std::time::Duration::from_millis(200), client.next()).await;
    assert!(nothing.is_err(), "the server sent something: {nothing:?}");
    assert_eq!(hub.connections().await, Ok(1));
}
