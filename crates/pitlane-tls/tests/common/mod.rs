//! Shared by the integration tests: a generated certificate directory (RSA
//! key generation is the slow part, so each test binary makes it once) and
//! a rustls client that trusts only what a test gives it.
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, TimeZone, Utc};
use pitlane_tls::certs::{CertStatus, CertStore, DEFAULT_MCO_KEY_BITS};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub const MCO_HOST: &str = "auth.mco.test";

pub struct Fixture {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
    pub server: CertStatus,
    pub mco: CertStatus,
}

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).single().unwrap()
}

/// One CA, one server certificate (with 127.0.0.1) and one 1024-bit MCO
/// certificate, made once per test binary.
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("certs");
        let store = CertStore::open(&path);
        let lo = [IpAddr::V4(Ipv4Addr::LOCALHOST)];
        let server = store.ensure(&[], &lo, Utc::now()).unwrap();
        let mco = store
            .ensure_mco(
                &[MCO_HOST.to_string()],
                &lo,
                DEFAULT_MCO_KEY_BITS,
                Utc::now(),
            )
            .unwrap();
        Fixture {
            _dir: dir,
            path,
            server,
            mco,
        }
    })
}

pub fn read_ca(path: &Path) -> CertificateDer<'static> {
    CertificateDer::from(std::fs::read(path.join("ca.cer")).unwrap())
}

/// A client that trusts `roots` and nothing else, ring provider like the
/// server.
pub fn client_config(roots: &[CertificateDer<'static>]) -> Arc<ClientConfig> {
    let mut store = RootCertStore::empty();
    for r in roots {
        store.add(r.clone()).unwrap();
    }
    let config = ClientConfig::builder_with_provider(pitlane_tls::rustls_config::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(store)
        .with_no_client_auth();
    Arc::new(config)
}

pub fn pem_certs(path: &Path) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_file_iter(path)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

pub async fn loopback_listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// Connect with rustls as `name`, send "ping", expect "pong". Returns the
/// certificate chain the server presented, or the handshake error.
pub async fn rustls_ping(
    addr: SocketAddr,
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
) -> std::io::Result<Vec<CertificateDer<'static>>> {
    let tcp = TcpStream::connect(addr).await?;
    let connector = tokio_rustls::TlsConnector::from(config);
    let mut tls = connector.connect(name, tcp).await?;
    tls.write_all(b"ping").await?;
    let mut buf = [0u8; 4];
    tls.read_exact(&mut buf).await?;
    assert_eq!(&buf, b"pong");
    let certs = tls
        .get_ref()
        .1
        .peer_certificates()
        .map(|c| c.to_vec())
        .unwrap_or_default();
    Ok(certs)
}

/// Server side of [`rustls_ping`] for any established TLS stream.
pub async fn answer_ping<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(s: &mut S) {
    let mut buf = [0u8; 4];
    if s.read_exact(&mut buf).await.is_ok() && &buf == b"ping" {
        let _ = s.write_all(b"pong").await;
        let _ = s.flush().await;
    }
}
