//! The observer: a live web page of the node's actors (feature `observer`).
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use actor_runtime::io::observer::Observer;
//!
//! let server = Observer::new().allow_kill(true).serve("127.0.0.1:9000".parse().unwrap()).await?;
//! println!("observer on http://{}/", server.local_addr());
//! # Ok(()) }
//! ```
//!
//! The page shows the supervision tree (each actor under the one that started it linked),
//! each actor's mailbox depth and message rate, updated every `period` over server-sent
//! events; clicking an actor shows its links, monitors, mailbox figures, a supervisor's
//! children and restarts, and the recent exits of it and its children. With
//! [`Observer::allow_kill`], a button kills the selected actor (its supervisor restarts it).
//!
//! Routes, all read-only unless kill is allowed:
//!
//! | route | what |
//! |---|---|
//! | `GET /` | the page |
//! | `GET /api/snapshot` | the node now, as JSON (what each event carries) |
//! | `GET /api/events` | server-sent events: a `snapshot` every `period`, with rates |
//! | `GET /api/actors/{id}` | one actor (`id` is the number in `<0.id>`) and its recent exits |
//! | `POST /api/actors/{id}/kill` | kills it: `403` unless allowed, `404` if it is not running |
//!
//! Each snapshot lists at most [`Observer::max_actors`] actors, oldest first (roots and
//! supervisors come early), and says how many it left out; the per-kind table always covers
//! every actor. Serve it on a loopback or otherwise private address: it shows the node's
//! inside to whoever can reach it.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::http::{self, HttpServer};
use crate::introspect::{self, ExitInfo, KindInfo, ProcessInfo};
use crate::pid::Pid;

const PAGE: &str = include_str!("observer.html");

/// The observer's settings; [`Observer::router`] or [`Observer::serve`] puts it online.
#[derive(Clone, Debug)]
pub struct Observer {
    allow_kill: bool,
    period: Duration,
    max_actors: usize,
}

impl Default for Observer {
    fn default() -> Self {
        Observer::new()
    }
}

impl Observer {
    /// Read-only, a snapshot every second, at most 2,000 actors per snapshot.
    #[must_use]
    pub fn new() -> Self {
        Observer {
            allow_kill: false,
            period: Duration::from_secs(1),
            max_actors: 2_000,
        }
    }

    /// Lets the page (and `POST /api/actors/{id}/kill`) kill actors.
    #[must_use]
    pub fn allow_kill(mut self, allow: bool) -> Self {
        self.allow_kill = allow;
        self
    }

    /// How often the page is updated (at least 100 ms).
    #[must_use]
    pub fn period(mut self, period: Duration) -> Self {
        self.period = period.max(Duration::from_millis(100));
        self
    }

    /// The most actors one snapshot lists (at least 1).
    #[must_use]
    pub fn max_actors(mut self, max: usize) -> Self {
        self.max_actors = max.max(1);
        self
    }

    /// The observer's routes, to serve alone or merged into an application's router.
    pub fn router(self) -> Router {
        Router::new()
            .route("/", get(page))
            .route("/api/snapshot", get(snapshot))
            .route("/api/events", get(events))
            .route("/api/actors/{id}", get(actor))
            .route("/api/actors/{id}/kill", post(kill))
            .with_state(Arc::new(self))
    }

    /// Serves the observer on `addr` with the HTTP bridge's default limits.
    ///
    /// # Errors
    /// Binding failed.
    pub async fn serve(self, addr: SocketAddr) -> io::Result<HttpServer> {
        http::serve(addr, self.router()).await
    }
}

type Shared = State<Arc<Observer>>;

async fn page() -> Response {
    ([(header::CACHE_CONTROL, "no-store")], Html(PAGE)).into_response()
}

async fn snapshot(State(observer): Shared) -> Response {
    axum::Json(view(&observer, &HashMap::new(), None)).into_response()
}

/// A snapshot every period; each carries rates measured since the previous one of the same
/// connection.
async fn events(
    State(observer): Shared,
) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
    let mut tick = tokio::time::interval(observer.period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let state = (observer, tick, HashMap::<Pid, u64>::new(), None::<Instant>);
    let stream =
        futures_util::stream::unfold(state, |(observer, mut tick, mut last, mut at)| async move {
            tick.tick().await;
            let now = Instant::now();
            let elapsed = at.map(|t| now.duration_since(t));
            let body = view(&observer, &last, elapsed);
            last = introspect::snapshot()
                .into_iter()
                .map(|a| (a.pid, a.handled))
                .collect();
            at = Some(now);
            let event = Event::default().event("snapshot").data(body.to_string());
            Some((Ok(event), (observer, tick, last, at)))
        });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

async fn actor(State(observer): Shared, Path(id): Path<String>) -> Response {
    let Some(info) = parse_id(&id).and_then(introspect::find) else {
        return not_running(&id);
    };
    let exits: Vec<Value> = introspect::recent_exits()
        .iter()
        .rev()
        .filter(|e| e.pid == info.pid || e.parent == Some(info.pid))
        .map(exit_json)
        .collect();
    let mut body = actor_json(&info, None);
    body["exits"] = Value::Array(exits);
    body["can_kill"] = Value::Bool(observer.allow_kill);
    axum::Json(body).into_response()
}

async fn kill(State(observer): Shared, Path(id): Path<String>) -> Response {
    if !observer.allow_kill {
        return (
            StatusCode::FORBIDDEN,
            axum::Json(json!({
                "error": "killing actors is disabled: serve the observer with Observer::allow_kill(true)"
            })),
        )
            .into_response();
    }
    let Some(info) = parse_id(&id).and_then(introspect::find) else {
        return not_running(&id);
    };
    introspect::kill(info.pid);
    tracing::warn!(pid = %info.pid, actor = %info.kind(), "actor killed from the observer");
    (
        StatusCode::ACCEPTED,
        axum::Json(json!({ "killed": info.pid.to_string() })),
    )
        .into_response()
}

fn parse_id(id: &str) -> Option<u64> {
    id.parse().ok()
}

fn not_running(id: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({
            "error": format!("no actor {id} is running on this node (the id is the number after the dot in <0.id>)")
        })),
    )
        .into_response()
}

/// The node as the page draws it. `last` holds each actor's handled count `elapsed` ago, for
/// rates.
fn view(observer: &Observer, last: &HashMap<Pid, u64>, elapsed: Option<Duration>) -> Value {
    let mut actors = introspect::snapshot();
    let kinds = introspect::kinds(&actors);
    let total = actors.len();
    actors.sort_by_key(|a| a.pid);
    actors.truncate(observer.max_actors);
    let rate = |a: &ProcessInfo| -> Option<f64> {
        let seconds = elapsed?.as_secs_f64();
        let before = last.get(&a.pid).copied().unwrap_or(0);
        #[allow(clippy::cast_precision_loss)]
        let delta = a.handled.saturating_sub(before) as f64;
        (seconds > 0.0).then(|| delta / seconds)
    };
    let listed: Vec<Value> = actors.iter().map(|a| actor_json(a, rate(a))).collect();
    let stats = crate::stats();
    json!({
        "at_ms": UNIX_EPOCH.elapsed().map_or(0, |d| d.as_millis()),
        "total": total,
        "omitted": total - listed.len(),
        "can_kill": observer.allow_kill,
        "actors": listed,
        "kinds": kinds.iter().map(kind_json).collect::<Vec<_>>(),
        "exits": introspect::recent_exits().iter().rev().take(20).map(exit_json).collect::<Vec<_>>(),
        "stats": {
            "refused_full": stats.refused_full,
            "sent_to_stopped": stats.sent_to_stopped,
            "dropped_at_exit": stats.dropped_at_exit,
            "late_replies": stats.late_replies,
            "slow_polls": stats.slow_polls,
        },
    })
}

fn pid_json(pid: Pid) -> Value {
    json!({ "id": pid.id(), "text": pid.to_string() })
}

fn actor_json(a: &ProcessInfo, rate: Option<f64>) -> Value {
    let supervisor = a.supervisor.as_ref().map(|s| {
        json!({
            "strategy": s.strategy,
            "intensity": s.intensity,
            "period_ms": s.period.as_millis(),
            "restarts_in_period": s.restarts_in_period,
            "total_restarts": s.total_restarts,
            "children": s.children.iter().map(|c| json!({
                "name": c.name,
                "pid": c.pid.map(pid_json),
                "restart": c.restart,
                "restarts": c.restarts,
            })).collect::<Vec<_>>(),
        })
    });
    json!({
        "pid": pid_json(a.pid),
        "kind": a.kind(),
        "name": a.name,
        "parent": a.parent.map(pid_json),
        "links": a.links.iter().copied().map(pid_json).collect::<Vec<_>>(),
        "monitors": a.monitors.iter().copied().map(pid_json).collect::<Vec<_>>(),
        "monitored_by": a.monitored_by,
        "mailbox_len": a.mailbox_len,
        "mailbox_capacity": a.mailbox_capacity,
        "mailbox_high_water": a.mailbox_high_water,
        "handled": a.handled,
        "refused": a.refused,
        "rate": rate,
        "scheduled": a.scheduled,
        "supervisor": supervisor,
    })
}

fn kind_json(k: &KindInfo) -> Value {
    json!({
        "kind": k.kind,
        "live": k.live,
        "stopped": k.stopped,
        "handled": k.handled,
        "refused": k.refused,
        "mailbox_len": k.mailbox_len,
        "mailbox_max": k.mailbox_max,
        "mailbox_high_water": k.mailbox_high_water,
    })
}

fn exit_json(e: &ExitInfo) -> Value {
    json!({
        "pid": pid_json(e.pid),
        "kind": crate::process::kind_of(e.message_type),
        "parent": e.parent.map(pid_json),
        "reason": e.reason.to_string(),
        "abnormal": e.reason.is_abnormal(),
        "at_ms": e.at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis()),
    })
}
