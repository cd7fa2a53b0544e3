//! Actor-level tests through the runtime and its test kit: each actor is spawned for real and
//! the actors it talks to are probes.

use actor_runtime::Event;
use actor_runtime::prelude::*;
use actor_runtime::testing::{Probe, expect_exit};
use bytes::Bytes;
use std::time::Duration;
use trafficapp::actors::ingest::IngestMsg;
use trafficapp::actors::storage::StorageMsg;
use trafficapp::actors::{Dispatcher, Ingest, Raw, Storage};
use trafficapp::packet::{Position, encode};

type Worker = Ingest<Addr<Storage>>;

fn raw(payload: Vec<u8>) -> Raw {
    Raw {
        payload: Bytes::from(payload),
        received_ms: 1_700_000_000_000,
    }
}

async fn stored(storage: &mut Probe<Storage>) -> Position {
    storage
        .expect("a position to store", |m| match m {
            StorageMsg::Store { position } => Some(position),
            _ => None,
        })
        .await
}

#[tokio::test]
async fn an_ingest_worker_hands_decoded_positions_to_storage_and_drops_bad_packets() {
    let mut storage = Probe::<Storage>::new();
    let worker = Worker::spawn(storage.addr()).await.expect("starts");
    let good = encode("bus-7", 13.4, 52.5, false).expect("encodes");
    worker
        .traffic(Event::Published(raw(good.clone())))
        .expect("queued");
    worker
        .traffic(Event::Published(raw(b"not msgpack".to_vec())))
        .expect("queued");
    worker
        .traffic(Event::Published(raw(good[..good.len() / 2].to_vec())))
        .expect("queued");
    worker
        .traffic(Event::Published(raw(
            encode("bus-8", 200.0, 0.0, false).expect("encodes")
        )))
        .expect("queued");
    worker
        .traffic(Event::Published(raw(
            encode("bus-9", -1.0, -2.0, true).expect("encodes")
        )))
        .expect("queued");

    let first = stored(&mut storage).await;
    assert_eq!(
        (first.id.as_str(), first.lon, first.lat, first.emergency),
        ("bus-7", 13.4, 52.5, false)
    );
    assert_eq!(first.received_ms, 1_700_000_000_000);
    // The malformed, truncated and out-of-range packets never reach storage; the next good
    // one does, so they did not stop the worker either.
    let next = stored(&mut storage).await;
    assert_eq!((next.id.as_str(), next.emergency), ("bus-9", true));
    storage.expect_no_message(Duration::from_millis(20)).await;
}

#[tokio::test]
async fn the_dispatcher_publishes_every_received_payload_to_its_subscribers() {
    let dispatcher = Dispatcher::spawn(()).await.expect("starts");
    let mut ingest = Probe::<Worker>::new();
    dispatcher
        .topic()
        .await
        .expect("answers")
        .subscribe(ingest.addr(), |worker, event| worker.traffic(event));
    dispatcher.received(raw(b"one".to_vec())).expect("queued");
    dispatcher.received(raw(b"two".to_vec())).expect("queued");
    for expected in [&b"one"[..], b"two"] {
        let payload = ingest
            .expect("a traffic event", |m| match m {
                IngestMsg::Traffic {
                    event: Event::Published(raw),
                } => Some(raw.payload),
                _ => None,
            })
            .await;
        assert_eq!(&payload[..], expected);
    }
    // When the dispatcher stops, subscribers are told the topic closed.
    dispatcher.stop();
    let closed = ingest
        .expect("the topic's close", |m| match m {
            IngestMsg::Traffic {
                event: Event::Closed(reason),
            } => Some(reason),
            _ => None,
        })
        .await;
    assert_eq!(closed, ExitReason::Normal);
    assert_eq!(
        expect_exit(&dispatcher, Duration::from_secs(1)).await,
        ExitReason::Normal
    );
}
