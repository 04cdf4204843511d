//! TLS for the simulated clients: rustls trusting exactly the CA a player
//! would have imported, so a test or `doctor` sees what the game would.

use std::io;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::mco::{BoxedStream, ConnectFuture, TlsConnect};

#[derive(Debug, thiserror::Error)]
pub enum TlsClientError {
    #[error("cannot read the CA certificate {path}: {message}")]
    Ca { path: String, message: String },
    #[error("TLS client configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// A TLS client that trusts only the given CA certificate(s).
#[derive(Clone)]
pub struct TrustingClient {
    connector: TlsConnector,
}

impl std::fmt::Debug for TrustingClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustingClient").finish_non_exhaustive()
    }
}

impl TrustingClient {
    /// Trusts the CA in a PEM file (e.g. `<data dir>/certs/ca.pem`).
    pub fn from_ca_pem_file(path: &Path) -> Result<Self, TlsClientError> {
        let ca_error = |message: String| TlsClientError::Ca {
            path: path.display().to_string(),
            message,
        };
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .map_err(|e| ca_error(e.to_string()))?
            .collect::<Result<_, _>>()
            .map_err(|e| ca_error(e.to_string()))?;
        if certs.is_empty() {
            return Err(ca_error("no certificate in the file".into()));
        }
        Self::from_ca_ders(certs)
    }

    pub fn from_ca_ders(certs: Vec<CertificateDer<'static>>) -> Result<Self, TlsClientError> {
        let mut roots = RootCertStore::empty();
        for cert in certs {
            roots.add(cert)?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self {
            connector: TlsConnector::from(Arc::new(config)),
        })
    }

    /// Handshake as `server_name` (sent as SNI and checked against the
    /// server's certificate).
    pub async fn connect(
        &self,
        server_name: &str,
        tcp: TcpStream,
    ) -> io::Result<TlsStream<TcpStream>> {
        let name = ServerName::try_from(server_name.to_string())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        self.connector.connect(name, tcp).await
    }
}

impl TlsConnect for TrustingClient {
    fn connect<'a>(&'a self, server_name: &'a str, tcp: TcpStream) -> ConnectFuture<'a> {
        Box::pin(async move {
            let stream = TrustingClient::connect(self, server_name, tcp).await?;
            Ok(Box::new(stream) as BoxedStream)
        })
    }
}
