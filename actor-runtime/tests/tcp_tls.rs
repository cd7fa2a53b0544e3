//! The TCP bridge over TLS, with a certificate generated at start.

use std::sync::Arc;

use actor_runtime::io::tcp::{Conn, TcpConfig, TcpServer};
use actor_runtime::io::tls::TlsConfig;
use actor_runtime::prelude::*;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_util::codec::{Framed, LengthDelimitedCodec};

#[actor]
struct Echo {
    conn: Conn,
}

#[actor]
impl Echo {
    #[init]
    fn init(conn: Conn) -> Self {
        Echo { conn }
    }

    #[handle(cast)]
    async fn frame(&mut self, frame: Bytes) {
        let _ = self.conn.send(frame).await;
    }
}

#[tokio::test]
async fn frames_travel_over_tls_and_a_failed_handshake_is_counted() {
    let tls = TlsConfig::self_signed(&["localhost"]).expect("certificate");
    let mut roots = rustls::RootCertStore::empty();
    roots.add(tls.certificates()[0].clone()).expect("root");
    let config = TcpConfig::new("127.0.0.1:0".parse().expect("address"));
    let server = TcpServer::bind_tls::<Echo, _>(&config, tls, |frame| EchoMsg::Frame { frame })
        .await
        .expect("bind");

    let client_config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config));
    let stream = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let tls_stream = connector.connect(name, stream).await.expect("handshake");
    let mut framed = Framed::new(tls_stream, LengthDelimitedCodec::new());
    framed
        .send(Bytes::from_static(b"secret"))
        .await
        .expect("send");
    assert_eq!(
        &framed.next().await.expect("echo").expect("frame")[..],
        b"secret"
    );

    // Plain bytes to the TLS port: the handshake fails and is counted; nothing crashes.
    let mut plain = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    tokio::io::AsyncWriteExt::write_all(&mut plain, b"\x00\x00\x00\x02hi")
        .await
        .expect("write");
    let mut buf = [0u8; 16];
    let _ = tokio::io::AsyncReadExt::read(&mut plain, &mut buf).await;
    while server.stats().handshakes_failed == 0 {
        tokio::task::yield_now().await;
    }
    assert_eq!(server.stats().frames, 1);
}
