//! TLS between nodes (features `node` and `tls`): rustls encrypts, and the cookie still
//! authenticates.
//!
//! The dialler accepts whatever certificate the acceptor shows (it still checks that the
//! acceptor holds its key), because who a node is comes from the cookie: both proofs of the
//! node handshake are computed over a secret exported from this TLS session (RFC 5705/8446
//! exporters), so a proof is worth nothing on any other session. A machine in the middle that
//! ends TLS on both sides holds two sessions with two different secrets, and without the
//! cookie it cannot make proofs for either. TLS 1.3 only: its exporter is bound to the whole
//! handshake.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::net::TcpStream;

use super::stream::Stream;
use crate::tls::TlsConfig;

/// The exporter label of the node handshake's binding.
const LABEL: &[u8] = b"EXPORTER-actor-runtime-node-handshake";

/// A node's TLS set-up: its certificate for connections it accepts, and the dialler's side.
pub(crate) struct NodeTls {
    acceptor: tokio_rustls::TlsAcceptor,
    connector: tokio_rustls::TlsConnector,
}

impl NodeTls {
    pub(crate) fn new(identity: &TlsConfig) -> io::Result<NodeTls> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let (chain, key) = identity.parts();
        let server = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(io::Error::other)?;
        let client = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(io::Error::other)?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(CookieAuthenticates(
                provider.signature_verification_algorithms,
            )))
            .with_no_client_auth();
        Ok(NodeTls {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(server)),
            connector: tokio_rustls::TlsConnector::from(Arc::new(client)),
        })
    }

    /// The TLS handshake as acceptor; the stream and its binding.
    pub(crate) async fn accept(&self, tcp: TcpStream) -> io::Result<(Stream, Vec<u8>)> {
        let tls = tokio_rustls::TlsStream::from(self.acceptor.accept(tcp).await?);
        bound(tls)
    }

    /// The TLS handshake as dialler of `addr`; the stream and its binding.
    pub(crate) async fn connect(
        &self,
        tcp: TcpStream,
        addr: SocketAddr,
    ) -> io::Result<(Stream, Vec<u8>)> {
        let name = ServerName::IpAddress(addr.ip().into());
        let tls = tokio_rustls::TlsStream::from(self.connector.connect(name, tcp).await?);
        bound(tls)
    }
}

fn bound(tls: tokio_rustls::TlsStream<TcpStream>) -> io::Result<(Stream, Vec<u8>)> {
    let binding = match &tls {
        tokio_rustls::TlsStream::Client(s) => {
            s.get_ref()
                .1
                .export_keying_material(vec![0u8; 32], LABEL, None)
        }
        tokio_rustls::TlsStream::Server(s) => {
            s.get_ref()
                .1
                .export_keying_material(vec![0u8; 32], LABEL, None)
        }
    };
    // A finished TLS 1.3 handshake always has an exporter; without one the connection is
    // refused rather than left unbound.
    let binding = binding.map_err(|e| io::Error::other(format!("no exported secret: {e}")))?;
    Ok((Stream::Tls(Box::new(tls)), binding))
}

/// Accepts any certificate whose key signed the handshake: the cookie, bound to the
/// session, says who the other node is.
#[derive(Debug)]
struct CookieAuthenticates(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for CookieAuthenticates {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}
