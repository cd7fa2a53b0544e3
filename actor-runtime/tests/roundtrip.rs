//! Round trips across a connection, as properties: whatever value a remote actor's message
//! carries (strings, bytes, every number including NaN and -0.0, options, results, maps,
//! nested enums and structs) arrives equal, in calls, in replies and in casts. And every
//! remote kind linked into this binary is one these properties cover.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use actor_runtime::node::{Node, NodeConfig, Remote, kinds};
use actor_runtime::prelude::*;
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
enum Shape {
    Point,
    Circle { r: f64 },
    Polygon(Vec<(i32, i32)>),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Report {
    id: String,
    at: Option<(f64, f64)>,
    tags: BTreeMap<String, u32>,
    shape: Shape,
    raw: bytes::Bytes,
}

/// Answers with what it was sent.
#[actor]
struct Mirror {
    last: Option<Report>,
}

#[actor(remote = "test.Mirror")]
impl Mirror {
    #[init]
    fn init() -> Self {
        Mirror { last: None }
    }

    #[handle(call)]
    fn text(&mut self, text: String) -> String {
        text
    }

    #[handle(call)]
    fn bytes(&mut self, bytes: Vec<u8>) -> Vec<u8> {
        bytes
    }

    /// Floats come back as bits, so NaN payloads and -0.0 are compared exactly.
    #[handle(call)]
    fn numbers(&mut self, a: i64, b: u64, c: f64, d: i8, e: u128) -> (i64, u64, u64, i8, u128) {
        (a, b, c.to_bits(), d, e)
    }

    #[handle(call)]
    fn small(&mut self, flag: bool, letter: char, unit: ()) -> (bool, char, ()) {
        (flag, letter, unit)
    }

    #[handle(call)]
    fn maybe(&mut self, value: Result<Option<u32>, String>) -> Result<Option<u32>, String> {
        value
    }

    #[handle(call)]
    fn report(&mut self, report: Report) -> Report {
        report
    }

    #[handle(cast)]
    fn record(&mut self, report: Report) {
        self.last = Some(report);
    }

    #[handle(call)]
    fn last(&mut self) -> Option<Report> {
        self.last.clone()
    }
}

/// The kinds these properties cover: a kind added to this binary must be added here, with
/// a property.
const COVERED: &[&str] = &["test.Mirror"];

struct Pair {
    runtime: tokio::runtime::Runtime,
    mirror: Remote<Mirror>,
    _nodes: (Node, Node),
}

/// Two nodes in this process, and a `Mirror` on one reached from the other.
fn pair() -> &'static Pair {
    static PAIR: OnceLock<Pair> = OnceLock::new();
    PAIR.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let (mirror, nodes) = runtime.block_on(async {
            let here = Node::start(NodeConfig::new("roundtrip-here", "cookie"))
                .await
                .expect("node");
            let there = Node::start(
                NodeConfig::new("roundtrip-there", "cookie")
                    .route("roundtrip-here", here.local_addr().expect("listens")),
            )
            .await
            .expect("node");
            let mirror = Mirror::spawn(()).await.expect("mirror");
            here.register("mirror", &mirror).expect("register");
            let remote = there
                .lookup::<Mirror>("roundtrip-here", "mirror")
                .await
                .expect("lookup");
            (remote, (here, there))
        });
        Pair {
            runtime,
            mirror,
            _nodes: nodes,
        }
    })
}

/// Runs `f` against the remote mirror.
fn with_mirror<T>(f: impl AsyncFnOnce(&Remote<Mirror>) -> T) -> T {
    let pair = pair();
    pair.runtime.block_on(f(&pair.mirror))
}

const TIMEOUT: Duration = Duration::from_secs(10);

/// Finite floats: inside structs, where `PartialEq` must hold.
fn finite() -> impl Strategy<Value = f64> {
    -1e300f64..1e300
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        Just(Shape::Point),
        finite().prop_map(|r| Shape::Circle { r }),
        prop::collection::vec((any::<i32>(), any::<i32>()), 0..20).prop_map(Shape::Polygon),
    ]
}

fn report() -> impl Strategy<Value = Report> {
    (
        any::<String>(),
        prop::option::of((finite(), finite())),
        prop::collection::btree_map(any::<String>(), any::<u32>(), 0..8),
        shape(),
        prop::collection::vec(any::<u8>(), 0..512),
    )
        .prop_map(|(id, at, tags, shape, raw)| Report {
            id,
            at,
            tags,
            shape,
            raw: raw.into(),
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_string_arrives_equal(text in any::<String>()) {
        let back = with_mirror(async |m| m.text(text.clone()).timeout(TIMEOUT).await);
        prop_assert_eq!(back, Ok(text));
    }

    #[test]
    fn any_bytes_arrive_equal(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        let back = with_mirror(async |m| m.bytes(bytes.clone()).timeout(TIMEOUT).await);
        prop_assert_eq!(back, Ok(bytes));
    }

    #[test]
    fn every_number_arrives_bit_for_bit(
        a in any::<i64>(),
        b in any::<u64>(),
        c in any::<f64>(),
        d in any::<i8>(),
        e in any::<u128>(),
    ) {
        let back = with_mirror(async |m| m.numbers(a, b, c, d, e).timeout(TIMEOUT).await);
        prop_assert_eq!(back, Ok((a, b, c.to_bits(), d, e)));
    }

    #[test]
    fn booleans_chars_and_unit_arrive_equal(flag in any::<bool>(), letter in any::<char>()) {
        let back = with_mirror(async |m| m.small(flag, letter, ()).timeout(TIMEOUT).await);
        prop_assert_eq!(back, Ok((flag, letter, ())));
    }

    #[test]
    fn results_and_options_arrive_equal(
        value in prop_oneof![
            any::<Option<u32>>().prop_map(Ok),
            any::<String>().prop_map(Err),
        ]
    ) {
        let back = with_mirror(async |m| m.maybe(value.clone()).timeout(TIMEOUT).await);
        prop_assert_eq!(back, Ok(value));
    }

    #[test]
    fn nested_structs_and_enums_arrive_equal_in_calls_and_replies(report in report()) {
        let back = with_mirror(async |m| m.report(report.clone()).timeout(TIMEOUT).await);
        prop_assert_eq!(back, Ok(report));
    }

    #[test]
    fn nested_structs_and_enums_arrive_equal_in_casts(report in report()) {
        let last = with_mirror(async |m| {
            m.record(report.clone()).expect("cast");
            // Per-sender order: the call is handled after the cast.
            m.last().timeout(TIMEOUT).await
        });
        prop_assert_eq!(last, Ok(Some(report)));
    }
}

#[test]
fn every_remote_kind_in_this_binary_has_round_trip_properties() {
    let linked: Vec<&str> = kinds().into_iter().map(|(kind, _)| kind).collect();
    assert_eq!(
        linked, COVERED,
        "a remote kind without round-trip properties: add it to COVERED with a property"
    );
}
