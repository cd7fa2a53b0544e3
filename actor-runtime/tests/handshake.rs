//! The handshake's challenge/response: equal cookies authenticate both ways; a wrong cookie
//! on either side is refused, naming the peer; a proof made for another challenge, another
//! role or another connection binding is refused; the cookie never travels.

use actor_runtime::node::handshake::{
    HandshakeError, Hello, Proof, answer, challenge, verify, welcome,
};
use actor_runtime::node::wire::encode_body;

struct Run {
    hello: Hello,
    welcome: actor_runtime::node::handshake::Welcome,
}

fn open(cookie_b: &[u8], binding: &[u8]) -> Run {
    let hello = Hello {
        name: "a@host".into(),
        creation: 7,
        challenge: challenge().expect("random"),
    };
    let welcome = welcome(
        cookie_b,
        binding,
        "b@host",
        9,
        challenge().expect("random"),
        &hello,
    );
    Run { hello, welcome }
}

#[test]
fn equal_cookies_authenticate_both_sides() {
    let cookie = b"secret cookie";
    let run = open(cookie, b"");
    let proof = answer(cookie, b"", &run.hello, &run.welcome).expect("B knows the cookie");
    assert_eq!(
        verify(cookie, b"", &run.hello, &run.welcome, &proof),
        Ok(())
    );
}

#[test]
fn a_wrong_cookie_is_refused_on_either_side_naming_the_peer() {
    // B has another cookie: A refuses B's proof.
    let run = open(b"cookie of b", b"");
    let err = answer(b"cookie of a", b"", &run.hello, &run.welcome).expect_err("refused");
    assert_eq!(
        err,
        HandshakeError::BadProof {
            peer: "b@host".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "node `b@host` failed authentication: its cookie differs from ours"
    );

    // A forges an answer with another cookie: B refuses it.
    let run = open(b"cookie", b"");
    let forged =
        answer(b"cookie", b"", &run.hello, &run.welcome).map(|_| Proof { proof: [0u8; 32] });
    let err = verify(
        b"cookie",
        b"",
        &run.hello,
        &run.welcome,
        &forged.expect("ok"),
    )
    .expect_err("refused");
    assert_eq!(
        err,
        HandshakeError::BadProof {
            peer: "a@host".into()
        }
    );
}

#[test]
fn a_proof_for_another_challenge_role_or_binding_is_refused() {
    let cookie = b"cookie";
    let first = open(cookie, b"");
    let proof = answer(cookie, b"", &first.hello, &first.welcome).expect("ok");
    // Replayed on a new connection (new challenges): refused.
    let second = open(cookie, b"");
    assert!(verify(cookie, b"", &second.hello, &second.welcome, &proof).is_err());
    // B's own proof sent back as A's (a reflection): refused, the role differs.
    let reflected = Proof {
        proof: first.welcome.proof,
    };
    let mirror = actor_runtime::node::handshake::Welcome {
        challenge: first.hello.challenge,
        ..first.welcome.clone()
    };
    assert!(verify(cookie, b"", &first.hello, &mirror, &reflected).is_err());
    // Made over one TLS session, checked against another's binding: refused.
    let bound = open(cookie, b"session one");
    assert!(answer(cookie, b"session two", &bound.hello, &bound.welcome).is_err());
    assert!(answer(cookie, b"session one", &bound.hello, &bound.welcome).is_ok());
}

#[test]
fn the_cookie_never_travels_and_challenges_are_fresh() {
    let cookie = b"a-cookie-that-must-stay-home";
    let run = open(cookie, b"");
    let proof = answer(cookie, b"", &run.hello, &run.welcome).expect("ok");
    let mut wire = Vec::new();
    wire.extend_from_slice(&encode_body(&run.hello).expect("encodes"));
    wire.extend_from_slice(&encode_body(&run.welcome).expect("encodes"));
    wire.extend_from_slice(&encode_body(&proof).expect("encodes"));
    assert!(!wire.windows(cookie.len()).any(|w| w == cookie));
    assert_ne!(challenge().expect("random"), challenge().expect("random"));
}
