//! The wire format between nodes: frames round-trip through the codec; oversized, empty,
//! unknown and truncated frames are refused with an error that says which; a large message
//! is split into fragments that interleave with other traffic and reassemble exactly; bad
//! fragments and reassembly past its bounds are refused without harming other messages.

use actor_runtime::node::wire::{
    DEFAULT_MAX_FRAME, Frame, FrameCodec, Kind, Reassembly, WireError, decode_body, encode_body,
    split,
};
use bytes::{BufMut, Bytes, BytesMut};
use proptest::prelude::*;
use tokio_util::codec::{Decoder, Encoder};

fn encode(codec: &mut FrameCodec, frames: impl IntoIterator<Item = Frame>) -> BytesMut {
    let mut buf = BytesMut::new();
    for f in frames {
        codec.encode(f, &mut buf).expect("encodes");
    }
    buf
}

fn decode_all(codec: &mut FrameCodec, buf: &mut BytesMut) -> Result<Vec<Frame>, WireError> {
    let mut out = Vec::new();
    while let Some(f) = codec.decode_eof(buf)? {
        out.push(f);
    }
    Ok(out)
}

#[test]
fn frames_round_trip_through_the_codec_even_byte_by_byte() {
    let mut codec = FrameCodec::new(1024);
    let frames = vec![
        Frame {
            kind: Kind::Control,
            payload: Bytes::from_static(b"hello"),
        },
        Frame {
            kind: Kind::Data,
            payload: Bytes::new(),
        },
        Frame {
            kind: Kind::Data,
            payload: Bytes::from(vec![7u8; 1000]),
        },
    ];
    let wire = encode(&mut codec, frames.clone());
    // Fed one byte at a time, as a slow socket would.
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    for b in wire.iter() {
        buf.put_u8(*b);
        while let Some(f) = codec.decode(&mut buf).expect("valid") {
            got.push(f);
        }
    }
    assert_eq!(got, frames);
}

#[test]
fn an_oversized_frame_is_refused_from_its_header_without_buffering_it() {
    let mut codec = FrameCodec::new(1024);
    let mut buf = BytesMut::new();
    buf.put_u32(16 << 20);
    buf.put_u8(1);
    assert_eq!(
        codec.decode(&mut buf),
        Err(WireError::TooLarge {
            len: 16 << 20,
            max: 1024
        })
    );
    assert!(
        buf.capacity() < 4096,
        "nothing reserved for the announced 16 MiB"
    );
    let too_big = Frame {
        kind: Kind::Data,
        payload: Bytes::from(vec![0u8; 1024]),
    };
    assert!(matches!(
        codec.encode(too_big, &mut BytesMut::new()),
        Err(WireError::TooLarge {
            len: 1025,
            max: 1024
        })
    ));
}

#[test]
fn empty_unknown_and_truncated_frames_are_errors_that_say_which() {
    let mut codec = FrameCodec::new(1024);
    let mut empty = BytesMut::from(&[0u8, 0, 0, 0][..]);
    assert_eq!(codec.decode(&mut empty), Err(WireError::Empty));
    let mut unknown = BytesMut::from(&[0u8, 0, 0, 2, 9, 1][..]);
    assert_eq!(codec.decode(&mut unknown), Err(WireError::UnknownKind(9)));
    let mut cut = encode(
        &mut codec,
        [Frame {
            kind: Kind::Data,
            payload: Bytes::from(vec![1u8; 100]),
        }],
    );
    cut.truncate(50);
    assert_eq!(
        decode_all(&mut codec, &mut cut),
        Err(WireError::Truncated { missing: 55 })
    );
    let mut header_only = BytesMut::from(&[0u8, 0][..]);
    assert_eq!(
        decode_all(&mut codec, &mut header_only),
        Err(WireError::Truncated { missing: 2 })
    );
    assert_eq!(
        WireError::UnknownKind(9).to_string(),
        "unknown frame kind 9"
    );
}

#[test]
fn a_16_mib_message_interleaves_with_small_ones_and_reassembles_exactly() {
    let max = DEFAULT_MAX_FRAME;
    let big: Bytes = (0..16u32 << 20)
        .map(|i| (i % 251) as u8)
        .collect::<Vec<u8>>()
        .into();
    let big_frames = split(1, big.clone(), max);
    assert!(big_frames.len() > 256, "{} fragments", big_frames.len());
    assert!(
        big_frames.iter().all(|f| f.payload.len() < max),
        "each frame within the maximum"
    );

    // A writer interleaves: one small message between every two fragments.
    let mut codec = FrameCodec::new(max);
    let mut wire = BytesMut::new();
    let mut smalls = 0u64;
    for (i, f) in big_frames.into_iter().enumerate() {
        codec.encode(f, &mut wire).expect("fits");
        if i % 2 == 0 {
            for small in split(
                1000 + smalls,
                Bytes::from(smalls.to_be_bytes().to_vec()),
                max,
            ) {
                codec.encode(small, &mut wire).expect("fits");
            }
            smalls += 1;
        }
    }

    let mut reassembly = Reassembly::new(32 << 20, 4);
    let mut messages = Vec::new();
    for f in decode_all(&mut codec, &mut wire).expect("valid") {
        if let Some(m) = reassembly.push(f).expect("in order") {
            messages.push(m);
        }
    }
    // The small ones arrive whole and in order while the big one is in flight.
    assert_eq!(messages.len() as u64, smalls + 1);
    let at = messages
        .iter()
        .position(|m| m.len() == big.len())
        .expect("the big one arrives");
    assert!(
        messages[at] == big,
        "the big message reassembles byte for byte"
    );
    assert!(
        at as u64 >= smalls - 1,
        "it completes only with its last fragment (at {at})"
    );
    let small: Vec<u64> = messages
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != at)
        .map(|(_, m)| u64::from_be_bytes(m.as_ref().try_into().expect("8 bytes")))
        .collect();
    assert_eq!(small, (0..smalls).collect::<Vec<_>>());
    assert_eq!(reassembly.in_progress(), 0);
}

fn fragments(id: u64, len: usize, max: usize) -> Vec<Frame> {
    split(id, Bytes::from(vec![5u8; len]), max)
}

#[test]
fn a_fragment_out_of_order_is_refused_and_other_messages_survive() {
    let mut r = Reassembly::new(1 << 20, 8);
    let a = fragments(1, 1000, 100);
    let b = fragments(2, 1000, 100);
    assert_eq!(r.push(a[0].clone()), Ok(None));
    assert_eq!(r.push(b[0].clone()), Ok(None));
    let err = r.push(a[2].clone()).expect_err("skips fragment 1");
    assert_eq!(
        err,
        WireError::BadFragment("message 1: fragment 2 where 1 was due".into())
    );
    // Message 2 goes on.
    let mut done = None;
    for f in &b[1..] {
        done = r.push(f.clone()).expect("in order");
    }
    assert_eq!(done.map(|m| m.len()), Some(1000));
    // A fragment of a message never started is refused too.
    assert!(matches!(
        r.push(a[3].clone()),
        Err(WireError::BadFragment(_))
    ));
    let short = Frame {
        kind: Kind::Fragment,
        payload: Bytes::from_static(b"xy"),
    };
    assert!(matches!(r.push(short), Err(WireError::BadFragment(_))));
    let control = Frame {
        kind: Kind::Control,
        payload: Bytes::new(),
    };
    assert!(matches!(r.push(control), Err(WireError::BadFragment(_))));
}

#[test]
fn reassembly_is_bounded_in_message_size_and_in_messages_in_progress() {
    let mut r = Reassembly::new(500, 2);
    let big = fragments(1, 1000, 100);
    let mut result = Ok(None);
    for f in big {
        result = r.push(f);
        if result.is_err() {
            break;
        }
    }
    assert!(
        matches!(result, Err(WireError::MessageTooLarge { max: 500, .. })),
        "{result:?}"
    );
    assert_eq!(r.in_progress(), 0, "the refused message is forgotten");

    assert_eq!(r.push(fragments(10, 300, 100)[0].clone()), Ok(None));
    assert_eq!(r.push(fragments(11, 300, 100)[0].clone()), Ok(None));
    assert_eq!(
        r.push(fragments(12, 300, 100)[0].clone()),
        Err(WireError::TooManyPartial(2))
    );
}

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Position {
    id: String,
    lon: f64,
    lat: f64,
    emergency: bool,
}

#[test]
fn bodies_are_messagepack_and_a_wrong_type_is_an_error() {
    let p = Position {
        id: "v-1".into(),
        lon: 1.5,
        lat: -2.25,
        emergency: true,
    };
    let bytes = encode_body(&p).expect("encodes");
    assert_eq!(decode_body::<Position>(&bytes), Ok(p));
    assert!(matches!(
        decode_body::<Position>(b"\x01\x02"),
        Err(WireError::Body(_))
    ));
    assert!(matches!(
        decode_body::<u64>(&bytes),
        Err(WireError::Body(_))
    ));
}

proptest! {
    #[test]
    fn any_message_split_at_any_frame_size_reassembles_to_itself(
        body in proptest::collection::vec(any::<u8>(), 0..5000),
        max in 64usize..600,
        id in any::<u64>(),
    ) {
        let mut codec = FrameCodec::new(max);
        let mut wire = encode(&mut codec, split(id, Bytes::from(body.clone()), max));
        let mut r = Reassembly::new(1 << 20, 1);
        let mut whole = Vec::new();
        for f in decode_all(&mut codec, &mut wire).expect("valid") {
            if let Some(m) = r.push(f).expect("in order") {
                whole.push(m);
            }
        }
        prop_assert_eq!(whole, vec![Bytes::from(body)]);
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut codec = FrameCodec::new(128);
        let mut buf = BytesMut::from(&bytes[..]);
        let mut r = Reassembly::new(1024, 4);
        while let Ok(Some(f)) = codec.decode_eof(&mut buf) {
            let _ = r.push(f);
        }
    }
}
