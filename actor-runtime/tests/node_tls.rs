//! Nodes over TLS: the generated client works unchanged, nothing crosses in clear, a node
//! with TLS and one without refuse each other with the reason, and a machine in the middle
//! that ends TLS on both sides cannot pass the cookie proof on.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use actor_runtime::io::tls::TlsConfig;
use actor_runtime::node::{Node, NodeConfig, NodeError, Remote};
use actor_runtime::prelude::*;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Text no handshake or framing could contain by chance.
const CANARY: &str = "canary-5e1f0c9a-plain-text-would-show-here";

#[actor]
struct Echo;

#[actor(remote = "tls.Echo")]
impl Echo {
    #[init]
    fn init() -> Self {
        Echo
    }

    #[handle(call)]
    fn echo(&mut self, text: String) -> String {
        text
    }
}

fn identity() -> TlsConfig {
    TlsConfig::self_signed(&["localhost"]).expect("certificate")
}

async fn start(name: &str, tls: bool) -> Node {
    let config = NodeConfig::new(name, "secret");
    let config = if tls { config.tls(identity()) } else { config };
    Node::start(config).await.expect("node")
}

/// Copies bytes from `from` to `to`, keeping a copy in `seen`.
async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    seen: Arc<Mutex<Vec<u8>>>,
) {
    let mut buf = vec![0u8; 16 << 10];
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0 || to.write_all(&buf[..n]).await.is_err() {
            break;
        }
        seen.lock().expect("tap").extend_from_slice(&buf[..n]);
    }
    let _ = to.shutdown().await;
}

/// A TCP relay in front of `target` that records every byte it passes.
async fn tap(target: SocketAddr) -> (SocketAddr, Arc<Mutex<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recording = seen.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = TcpStream::connect(target).await else {
                continue;
            };
            let (cr, cw) = client.into_split();
            let (sr, sw) = server.into_split();
            tokio::spawn(pump(cr, sw, recording.clone()));
            tokio::spawn(pump(sr, cw, recording.clone()));
        }
    });
    (addr, seen)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Connects `a` to `b` through a tap and sends the canary there and back; what the tap saw.
async fn canary_through_tap(a: &Node, b: &Node) -> Vec<u8> {
    b.register("echo", &Echo::spawn(()).await.expect("echo"))
        .expect("register");
    let (via, seen) = tap(b.local_addr().expect("b listens")).await;
    a.connect(via).await.expect("connect");
    let echo: Remote<Echo> = a.lookup("b", "echo").await.expect("lookup");
    assert_eq!(echo.echo(CANARY.to_owned()).await.as_deref(), Ok(CANARY));
    let seen = seen.lock().expect("tap").clone();
    assert!(!seen.is_empty(), "the tap saw the traffic");
    seen
}

#[tokio::test]
async fn nodes_over_tls_call_through_the_generated_client_and_nothing_crosses_in_clear() {
    let (a, b) = (start("a", true).await, start("b", true).await);
    let seen = canary_through_tap(&a, &b).await;
    assert!(!contains(&seen, CANARY), "the canary crossed in clear");
    assert!(
        !contains(&seen, "tls.Echo"),
        "the kind name crossed in clear"
    );
}

#[tokio::test]
async fn without_tls_the_same_tap_reads_the_message() {
    // The check above can fail: in clear, the tap sees the canary.
    let (a, b) = (start("a", false).await, start("b", false).await);
    let seen = canary_through_tap(&a, &b).await;
    assert!(contains(&seen, CANARY));
}

#[tokio::test]
async fn a_node_with_tls_refuses_one_without_and_tells_the_dialler_why() {
    let (plain, secured) = (start("plain", false).await, start("secured", true).await);
    let refused = plain
        .connect(secured.local_addr().expect("listens"))
        .await
        .expect_err("no TLS");
    let NodeError::Handshake(why) = &refused else {
        panic!("expected a handshake error, got {refused:?}");
    };
    assert!(why.contains("node `secured` uses TLS"), "{why}");
    assert!(why.contains("`NodeConfig::tls`"), "{why}");
    assert!(secured.peers().is_empty() && plain.peers().is_empty());
}

#[tokio::test]
async fn a_node_without_tls_refuses_one_with_it_and_the_dialler_hears_the_fix() {
    let (plain, secured) = (start("plain", false).await, start("secured", true).await);
    let refused = secured
        .connect(plain.local_addr().expect("listens"))
        .await
        .expect_err("TLS to a plain node");
    let NodeError::Tls(why) = &refused else {
        panic!("expected a TLS error, got {refused:?}");
    };
    assert!(why.contains("without `NodeConfig::tls`"), "{why}");
    assert!(secured.peers().is_empty() && plain.peers().is_empty());
}

#[tokio::test]
async fn a_machine_in_the_middle_that_ends_tls_on_both_sides_cannot_pass_the_proof_on() {
    let b_identity = identity();
    let b_cert = b_identity.certificates()[0].clone();
    let b = Node::start(NodeConfig::new("b", "secret").tls(b_identity))
        .await
        .expect("b");
    let a = start("a", true).await;
    let b_addr = b.local_addr().expect("b listens");

    // The middle: a TLS server with a certificate of its own towards `a`, a TLS client that
    // trusts `b`'s certificate towards `b`, and the decrypted bytes relayed as they are.
    let own = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("cert");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![own.cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::try_from(own.key_pair.serialize_der()).expect("key"),
        )
        .expect("server config");
    let mut roots = rustls::RootCertStore::empty();
    roots.add(b_cert).expect("root");
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let middle = listener.local_addr().expect("address");
    let relayed = Arc::new(Mutex::new(Vec::new()));
    let seen = relayed.clone();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        let towards_a = acceptor.accept(tcp).await.expect("TLS with a");
        let tcp = TcpStream::connect(b_addr).await.expect("dial b");
        let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
        let towards_b = connector.connect(name, tcp).await.expect("TLS with b");
        let (ar, aw) = tokio::io::split(towards_a);
        let (br, bw) = tokio::io::split(towards_b);
        tokio::spawn(pump(ar, bw, seen.clone()));
        tokio::spawn(pump(br, aw, seen));
    });

    let refused = a
        .connect(middle)
        .await
        .expect_err("the relayed proof fails");
    let NodeError::Handshake(why) = &refused else {
        panic!("expected a handshake error, got {refused:?}");
    };
    assert!(why.contains("node `b` failed authentication"), "{why}");
    assert!(why.contains("another TLS session"), "{why}");
    assert!(a.peers().is_empty() && b.peers().is_empty());
    // The middle did relay the handshake in clear: TLS alone would not have stopped it.
    assert!(!relayed.lock().expect("relay").is_empty());
}

#[tokio::test]
async fn a_16_mib_message_crosses_tls_whole_in_fragments() {
    let (a, b) = (start("a", true).await, start("b", true).await);
    b.register("echo", &Echo::spawn(()).await.expect("echo"))
        .expect("register");
    a.connect(b.local_addr().expect("b listens"))
        .await
        .expect("connect");
    let echo: Remote<Echo> = a.lookup("b", "echo").await.expect("lookup");
    let large: String = (0..16 << 20)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let back = echo
        .echo(large.clone())
        .timeout(std::time::Duration::from_secs(30))
        .await
        .expect("echoed");
    assert!(back == large, "the message came back changed");
}
