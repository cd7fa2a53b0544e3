//! Mutual authentication of two nodes over a shared cookie, without the cookie on the wire.
//!
//! Each side sends a fresh 32-byte random challenge and proves it knows the cookie by
//! answering the other's challenge with `HMAC-SHA256(cookie, role || challenge || binding)`.
//! The role byte keeps one side's answer from being replayed as the other's, a fresh challenge
//! per connection keeps old answers from being replayed at all, and `binding` (the TLS
//! session's exported keying material, or empty over plain TCP) ties the proof to the
//! connection it was made on. Digests are compared in constant time.
//!
//! This module is the protocol's arithmetic, without I/O: the transport sends the messages,
//! with a timeout per step. The dialling node is `A`, the accepting node `B`:
//!
//! 1. A → B: `Hello { name, creation, challenge_a }`
//! 2. B → A: `Welcome { name, creation, challenge_b, proof_b }`, where `proof_b` answers
//!    `challenge_a`. A checks it: a wrong cookie on either side is caught here.
//! 3. A → B: `Proof { proof_a }`, answering `challenge_b`. B checks it.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Bytes of a challenge.
pub const CHALLENGE: usize = 32;

/// The dialling node's opening message.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Hello {
    /// The dialling node's name.
    pub name: String,
    /// Its creation (changes on every restart).
    pub creation: u32,
    /// Its challenge to the accepting node.
    pub challenge: [u8; CHALLENGE],
}

/// The accepting node's answer.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Welcome {
    /// The accepting node's name.
    pub name: String,
    /// Its creation.
    pub creation: u32,
    /// Its challenge to the dialling node.
    pub challenge: [u8; CHALLENGE],
    /// Its answer to the dialling node's challenge.
    pub proof: [u8; 32],
}

/// The dialling node's answer to the accepting node's challenge.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Proof {
    /// The answer.
    pub proof: [u8; 32],
}

/// Why a handshake failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The peer's proof does not match: it does not know our cookie (or the proof was made
    /// for another connection).
    BadProof {
        /// The peer's claimed name.
        peer: String,
    },
    /// The operating system's random source failed.
    Random(String),
}

impl std::fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HandshakeError::BadProof { peer } => write!(
                f,
                "node `{peer}` failed authentication: its cookie differs from ours"
            ),
            HandshakeError::Random(e) => write!(f, "no random challenge: {e}"),
        }
    }
}

impl std::error::Error for HandshakeError {}

/// Which side a proof is made by.
#[derive(Clone, Copy)]
#[repr(u8)]
enum Role {
    Dialler = b'A',
    Acceptor = b'B',
}

/// A fresh challenge from the operating system's random source.
///
/// # Errors
/// The random source failed.
pub fn challenge() -> Result<[u8; CHALLENGE], HandshakeError> {
    let mut c = [0u8; CHALLENGE];
    getrandom::fill(&mut c).map_err(|e| HandshakeError::Random(e.to_string()))?;
    Ok(c)
}

fn mac(cookie: &[u8], role: Role, challenge: &[u8; CHALLENGE], binding: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(cookie).expect("HMAC takes keys of any length");
    mac.update(&[role as u8]);
    mac.update(challenge);
    mac.update(binding);
    mac
}

fn prove(cookie: &[u8], role: Role, challenge: &[u8; CHALLENGE], binding: &[u8]) -> [u8; 32] {
    mac(cookie, role, challenge, binding)
        .finalize()
        .into_bytes()
        .into()
}

fn check(
    cookie: &[u8],
    role: Role,
    challenge: &[u8; CHALLENGE],
    binding: &[u8],
    proof: &[u8; 32],
    peer: &str,
) -> Result<(), HandshakeError> {
    mac(cookie, role, challenge, binding)
        .verify_slice(proof)
        .map_err(|_| HandshakeError::BadProof {
            peer: peer.to_owned(),
        })
}

/// Step 2, on the accepting node: answers `hello` with its own challenge and its proof.
#[must_use]
pub fn welcome(
    cookie: &[u8],
    binding: &[u8],
    name: &str,
    creation: u32,
    my_challenge: [u8; CHALLENGE],
    hello: &Hello,
) -> Welcome {
    Welcome {
        name: name.to_owned(),
        creation,
        challenge: my_challenge,
        proof: prove(cookie, Role::Acceptor, &hello.challenge, binding),
    }
}

/// Step 3, on the dialling node: checks the acceptor's proof against the challenge it sent,
/// then proves itself.
///
/// # Errors
/// [`HandshakeError::BadProof`] if the acceptor does not know the cookie.
pub fn answer(
    cookie: &[u8],
    binding: &[u8],
    sent: &Hello,
    welcome: &Welcome,
) -> Result<Proof, HandshakeError> {
    check(
        cookie,
        Role::Acceptor,
        &sent.challenge,
        binding,
        &welcome.proof,
        &welcome.name,
    )?;
    Ok(Proof {
        proof: prove(cookie, Role::Dialler, &welcome.challenge, binding),
    })
}

/// The end, on the accepting node: checks the dialler's proof against the challenge it sent.
///
/// # Errors
/// [`HandshakeError::BadProof`] if the dialler does not know the cookie.
pub fn verify(
    cookie: &[u8],
    binding: &[u8],
    hello: &Hello,
    sent: &Welcome,
    proof: &Proof,
) -> Result<(), HandshakeError> {
    check(
        cookie,
        Role::Dialler,
        &sent.challenge,
        binding,
        &proof.proof,
        &hello.name,
    )
}
