//! The modern TLS stack: rustls on `ring`.
//!
//! `ring` rather than rustls' default aws-lc-rs because aws-lc needs cmake
//! (and nasm on some targets) to build, which a fresh Debian CI machine does
//! not have; ring builds with the C compiler alone. The provider is passed
//! explicitly everywhere, so nothing depends on a process-wide default that
//! another crate in the binary might install differently.

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::certs::CertStatus;

/// Why a certificate could not be turned into something rustls can serve.
#[derive(Debug, thiserror::Error)]
pub enum TlsConfigError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {reason}", path.display())]
    Pem { path: PathBuf, reason: String },
    #[error("{}: {source}", path.display())]
    Key {
        path: PathBuf,
        #[source]
        source: rustls::Error,
    },
    #[error(transparent)]
    Rustls(#[from] rustls::Error),
}

/// The crypto provider every Pitlane rustls object uses.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Load a PEM chain (leaf first) and its private key, refusing a key that
/// does not belong to the leaf so the mistake shows at start-up, not as
/// failed handshakes.
pub fn load_certified_key(chain: &Path, key: &Path) -> Result<Arc<CertifiedKey>, TlsConfigError> {
    let chain_pem = fs::read(chain).map_err(|source| TlsConfigError::Io {
        path: chain.to_path_buf(),
        source,
    })?;
    let certs = CertificateDer::pem_slice_iter(&chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsConfigError::Pem {
            path: chain.to_path_buf(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsConfigError::Pem {
            path: chain.to_path_buf(),
            reason: "no certificate found".into(),
        });
    }
    let key_pem = fs::read(key).map_err(|source| TlsConfigError::Io {
        path: key.to_path_buf(),
        source,
    })?;
    let key_der = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| TlsConfigError::Pem {
        path: key.to_path_buf(),
        reason: e.to_string(),
    })?;
    let certified = CertifiedKey::from_der(certs, key_der, &provider()).map_err(|source| {
        TlsConfigError::Key {
            path: key.to_path_buf(),
            source,
        }
    })?;
    Ok(Arc::new(certified))
}

/// Which certificate answers which SNI name.
#[derive(Clone)]
pub struct CertTable {
    by_name: HashMap<String, Arc<CertifiedKey>>,
    default: Arc<CertifiedKey>,
}

impl fmt::Debug for CertTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&String> = self.by_name.keys().collect();
        names.sort();
        f.debug_struct("CertTable").field("names", &names).finish()
    }
}

impl CertTable {
    /// `default` answers clients that send no SNI or a name not in the
    /// table: a client reaching the server by IP address, or a game host
    /// name the operator forgot. They get a certificate that may not match,
    /// which is still better than an alert they cannot explain.
    pub fn new(default: Arc<CertifiedKey>) -> Self {
        Self {
            by_name: HashMap::new(),
            default,
        }
    }

    /// Serve `key` for each of `names` (case-insensitive, exact match).
    pub fn with_names<S: AsRef<str>>(
        mut self,
        names: impl IntoIterator<Item = S>,
        key: Arc<CertifiedKey>,
    ) -> Self {
        for name in names {
            self.by_name
                .insert(normalize(name.as_ref()), Arc::clone(&key));
        }
        self
    }

    /// The table for one leaf from [`CertStore::ensure`]: its key for every
    /// DNS name it carries, and as the default.
    ///
    /// [`CertStore::ensure`]: crate::certs::CertStore::ensure
    pub fn from_status(status: &CertStatus) -> Result<Self, TlsConfigError> {
        let key = load_certified_key(&status.leaf.cert_path, &status.leaf.key_path)?;
        Ok(Self::new(Arc::clone(&key)).with_names(&status.leaf.dns_names, key))
    }

    fn lookup(&self, sni: Option<&str>) -> Arc<CertifiedKey> {
        sni.and_then(|name| self.by_name.get(&normalize(name)))
            .unwrap_or(&self.default)
            .clone()
    }
}

fn normalize(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Chooses the certificate by SNI. The table can be swapped while the
/// server runs, so a renewed certificate takes effect on the next handshake
/// without a restart.
#[derive(Debug)]
pub struct SniResolver {
    table: RwLock<Arc<CertTable>>,
}

impl SniResolver {
    pub fn new(table: CertTable) -> Self {
        Self {
            table: RwLock::new(Arc::new(table)),
        }
    }

    /// Use `table` for every handshake from now on.
    pub fn replace(&self, table: CertTable) {
        let table = Arc::new(table);
        match self.table.write() {
            Ok(mut guard) => *guard = table,
            Err(poisoned) => *poisoned.into_inner() = table,
        }
    }

    fn current(&self) -> Arc<CertTable> {
        match self.table.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current().lookup(client_hello.server_name()))
    }
}

/// TLS 1.2 (what the Micro Machines client speaks) and 1.3 (what `doctor`
/// and browsers prefer), HTTP/1.1 only because the services are plain
/// HTTP/1.1 and the game never asked for more.
pub fn server_config(resolver: Arc<SniResolver>) -> Result<ServerConfig, TlsConfigError> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The acceptor for the modern route of port 443.
pub fn acceptor(resolver: Arc<SniResolver>) -> Result<TlsAcceptor, TlsConfigError> {
    Ok(TlsAcceptor::from(Arc::new(server_config(resolver)?)))
}
