//! Message timing: with it on, every handled message runs in a `message` span (actor, pid,
//! variant), a call's span is the child of its caller's, and handling times reach the
//! `actor_handle_seconds` histogram. Off, no span is made. One test: the switch, the
//! subscriber and the recorder are global.

use std::sync::{Arc, Mutex};

use actor_runtime::prelude::*;
use actor_runtime::telemetry;
use tracing::span::{Attributes, Id};
use tracing::{Subscriber, field};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;

#[actor]
struct Front {
    back: Addr<Back>,
}

#[actor]
impl Front {
    #[init]
    fn init(back: Addr<Back>) -> Self {
        Front { back }
    }

    #[handle(call)]
    async fn ask(&mut self, n: u32) -> u32 {
        tracing::info!(n, "asking the back");
        self.back.answer(n).await.expect("the back answers")
    }
}

#[actor]
struct Back;

#[actor]
impl Back {
    #[init]
    fn init() -> Self {
        Back
    }

    #[handle(call)]
    fn answer(&mut self, n: u32) -> u32 {
        n + 1
    }

    #[handle(cast)]
    fn note(&mut self) {}
}

/// One span as the layer saw it: its `message` field, and its parent's.
#[derive(Clone, Debug, PartialEq)]
struct Seen {
    message: String,
    actor: String,
    parent: Option<String>,
}

#[derive(Clone, Default)]
struct Recorder {
    spans: Arc<Mutex<Vec<Seen>>>,
    /// Events, with the `message` field of the span they were logged in.
    events: Arc<Mutex<Vec<Option<String>>>>,
}

#[derive(Default)]
struct Fields {
    message: String,
    actor: String,
}

impl field::Visit for Fields {
    fn record_str(&mut self, f: &field::Field, value: &str) {
        match f.name() {
            "message" => self.message = value.to_owned(),
            "actor" => self.actor = value.to_owned(),
            _ => {}
        }
    }
    fn record_debug(&mut self, _: &field::Field, _: &dyn std::fmt::Debug) {}
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().target() != "actor_runtime::message" {
            return;
        }
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let span = ctx.span(id).expect("the new span");
        let parent = span
            .parent()
            .and_then(|p| p.extensions().get::<String>().cloned());
        span.extensions_mut().insert(fields.message.clone());
        self.spans.lock().expect("spans").push(Seen {
            message: fields.message,
            actor: fields.actor,
            parent,
        });
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        if event.metadata().target() == module_path!() {
            let within = ctx
                .event_span(event)
                .and_then(|s| s.extensions().get::<String>().cloned());
            self.events.lock().expect("events").push(within);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timed_messages_run_in_spans_that_follow_calls_and_feed_the_histogram() {
    let recorder = Recorder::default();
    tracing_subscriber::registry().with(recorder.clone()).init();
    let prometheus = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .expect("the only recorder");

    let back = Back::spawn(()).await.expect("starts");
    let front = Front::spawn(back.clone()).await.expect("starts");

    // Off: no span.
    assert_eq!(front.ask(1).await, Ok(2));
    assert!(recorder.spans.lock().expect("spans").is_empty());

    telemetry::set_message_timing(true);
    assert_eq!(front.ask(41).await, Ok(42));
    back.note().expect("queued");
    assert_eq!(back.answer(0).await, Ok(1));
    telemetry::set_message_timing(false);
    // A message is timed until its actor takes the next one or goes idle: one more call
    // through both ends the last timed message of each, whatever the scheduling.
    assert_eq!(front.ask(1).await, Ok(2));

    let spans = recorder.spans.lock().expect("spans").clone();
    let seen = |message: &str| -> Vec<Seen> {
        spans
            .iter()
            .filter(|s| s.message == message)
            .cloned()
            .collect()
    };
    let ask = seen("FrontMsg::Ask");
    assert_eq!(ask.len(), 1, "{spans:?}: none once timing is off");
    assert_eq!(ask[0].actor, "message_timing::Front");
    assert_eq!(ask[0].parent, None, "called from a test outside any span");
    let answers = seen("BackMsg::Answer");
    assert_eq!(answers.len(), 2, "{spans:?}");
    assert_eq!(
        answers[0].parent.as_deref(),
        Some("FrontMsg::Ask"),
        "the callee's span is the child of the caller's"
    );
    assert_eq!(answers[1].parent, None);
    assert_eq!(seen("BackMsg::Note").len(), 1, "casts get spans too");

    // The handler's event was logged inside its message's span (those logged while timing
    // was off, outside any).
    let events = recorder.events.lock().expect("events").clone();
    assert_eq!(events, [None, Some("FrontMsg::Ask".to_owned()), None]);

    let text = prometheus.render();
    for actor in ["message_timing::Front", "message_timing::Back"] {
        let series = format!("actor_handle_seconds_count{{actor=\"{actor}\"}}");
        let count = text
            .lines()
            .find_map(|l| l.strip_prefix(series.as_str()))
            .unwrap_or_else(|| panic!("no {series} in:\n{text}"));
        let count: u64 = count.trim().parse().expect("a count");
        let expected = if actor.ends_with("Front") { 1 } else { 3 };
        assert_eq!(count, expected, "{actor}");
    }
}
