//! TLS configuration shared by the TCP and HTTP bridges and by nodes (feature `tls`).

use std::fmt;
use std::io;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A certificate chain and its private key, for HTTPS, TLS over TCP, or TLS between nodes.
pub struct TlsConfig {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("certificates", &self.chain.len())
            .finish_non_exhaustive()
    }
}

impl TlsConfig {
    /// Reads a PEM certificate chain and a PEM private key.
    ///
    /// # Errors
    /// A file is unreadable or holds no certificate or key.
    pub fn from_pem_files(cert: &Path, key: &Path) -> io::Result<Self> {
        let chain = rustls_pemfile::certs(&mut io::BufReader::new(std::fs::File::open(cert)?))
            .collect::<Result<Vec<_>, _>>()?;
        if chain.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("no certificate in {}", cert.display()),
            ));
        }
        let key = rustls_pemfile::private_key(&mut io::BufReader::new(std::fs::File::open(key)?))?
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("no private key in {}", key.display()),
                )
            })?;
        Ok(TlsConfig { chain, key })
    }

    /// A self-signed certificate for `names` (e.g. `["localhost"]`), made now. Clients must
    /// be told to accept it (`curl -k`).
    ///
    /// # Errors
    /// Key generation failed.
    pub fn self_signed(names: &[&str]) -> io::Result<Self> {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let certified = rcgen::generate_simple_self_signed(names).map_err(io::Error::other)?;
        let key = PrivateKeyDer::try_from(certified.key_pair.serialize_der())
            .map_err(io::Error::other)?;
        Ok(TlsConfig {
            chain: vec![certified.cert.der().clone()],
            key,
        })
    }

    /// The certificates (leaf first), DER-encoded: what a client pins or adds as a trusted
    /// root to reach a server using a self-signed certificate.
    #[must_use]
    pub fn certificates(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }

    /// A copy of the chain and the key.
    #[cfg(feature = "node")]
    pub(crate) fn parts(&self) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        (self.chain.clone(), self.key.clone_key())
    }

    /// An acceptor offering the application protocols `alpn` (none for raw TCP).
    pub(crate) fn acceptor(self, alpn: &[&[u8]]) -> io::Result<tokio_rustls::TlsAcceptor> {
        let mut config = self.server_config()?;
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
    }

    fn server_config(self) -> io::Result<rustls::ServerConfig> {
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(self.chain, self.key)
        .map_err(io::Error::other)?;
        Ok(config)
    }
}
