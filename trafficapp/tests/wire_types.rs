//! What the query node's messages carry survives the wire's encoding, as properties: the
//! query's arguments and its answer (every `Found`, or the store's error) come back equal.
//! And `traffic.Query` is the only remote kind the app links in.

use actor_runtime::node::{decode, encode, kinds};
use proptest::prelude::*;
use trafficapp::store::Found;

/// Encodes and decodes `value` with the codec the node's connections use.
fn across<T: serde::Serialize + serde::de::DeserializeOwned>(value: &T) -> T {
    let mut bytes = Vec::new();
    encode(value, &mut bytes).expect("encode");
    decode(&bytes).expect("decode")
}

fn found() -> impl Strategy<Value = Found> {
    (
        any::<String>(),
        -180.0f64..=180.0,
        -90.0f64..=90.0,
        any::<i64>(),
        0.0f64..2.1e7,
    )
        .prop_map(|(id, lon, lat, date, distance_m)| Found {
            id,
            lon,
            lat,
            date,
            distance_m,
        })
}

proptest! {
    #[test]
    fn a_query_answer_arrives_equal(
        answer in prop_oneof![
            prop::collection::vec(found(), 0..50).prop_map(Ok),
            any::<String>().prop_map(Err),
        ]
    ) {
        let back: Result<Vec<Found>, String> = across(&answer);
        prop_assert_eq!(back, answer);
    }

    #[test]
    fn query_arguments_arrive_bit_for_bit(lon in any::<f64>(), lat in any::<f64>(), k in any::<usize>()) {
        let (blon, blat, bk): (f64, f64, usize) = across(&(lon, lat, k));
        prop_assert_eq!((blon.to_bits(), blat.to_bits(), bk), (lon.to_bits(), lat.to_bits(), k));
    }
}

#[test]
fn the_query_pool_is_the_only_remote_kind_of_the_app() {
    let linked: Vec<&str> = kinds().into_iter().map(|(kind, _)| kind).collect();
    assert_eq!(
        linked,
        ["traffic.Query"],
        "a new remote kind needs round-trip properties here"
    );
}
