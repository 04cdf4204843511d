//! The legacy TLS stack for Motor City Online's AuthLogin.
//!
//! The 2001 client uses Windows XP's SChannel: SSLv3 or TLS 1.0, RSA key
//! exchange with RC4-MD5, RC4-SHA or 3DES, often an SSLv2-compatible first
//! message, and a 1024-bit certificate. rustls implements none of that on
//! purpose, and a stock OpenSSL 3 refuses all of it at run time. So this
//! stack is OpenSSL 3 built from source (openssl-src) with `enable-ssl3`,
//! `enable-weak-ssl-ciphers` and the legacy provider (home of RC4) compiled
//! into libcrypto, configured at security level 0.
//!
//! It still speaks modern TLS, and prefers it: the cipher list puts
//! forward-secret AEAD suites first and the server's order wins, so only a
//! client that offers nothing better gets 3DES, and RC4 only when even 3DES
//! is missing. It only ever sees connections the sniffer did not send to
//! rustls (no SNI, or an old protocol).
//!
//! Everything here sits behind the `legacy-tls` cargo feature; building
//! without it leaves no weak cipher in the binary.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream as StdTcpStream};
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use openssl::ssl::{
    Ssl, SslContext, SslContextBuilder, SslFiletype, SslMethod, SslOptions, SslVerifyMode,
    SslVersion,
};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_openssl::SslStream;

use crate::certs::CertStatus;

/// Server order of preference for TLS 1.2 and older. Security level 0 is
/// what lets OpenSSL 3 use SSLv3, TLS 1.0's MD5/SHA-1 handshake signatures,
/// RC4 and 3DES at all. Single DES and export suites are gone from OpenSSL 3
/// and stay gone.
pub const LEGACY_CIPHER_LIST: &str = "ECDHE+AESGCM:ECDHE+CHACHA20:ECDHE+AES:AESGCM:AES:\
DES-CBC3-SHA:RC4-SHA:RC4-MD5:!aNULL:!eNULL:!PSK:!SRP:!DSS:@SECLEVEL=0";

/// Why the legacy stack could not be set up or a handshake failed.
#[derive(Debug, thiserror::Error)]
pub enum LegacyError {
    #[error("loading OpenSSL's legacy provider (RC4): {0}")]
    Provider(String),
    #[error("OpenSSL: {0}")]
    OpenSsl(#[from] openssl::error::ErrorStack),
    #[error("{}: {source}", path.display())]
    File {
        path: std::path::PathBuf,
        #[source]
        source: openssl::error::ErrorStack,
    },
    #[error("legacy TLS handshake: {0}")]
    Handshake(#[from] openssl::ssl::Error),
}

/// Load the legacy provider into OpenSSL's default library context, once
/// per process and for good: RC4 lives there, and libssl only offers the
/// cipher suites whose algorithms it can fetch when a context is created.
fn ensure_legacy_provider() -> Result<(), LegacyError> {
    static LOADED: OnceLock<Result<(), String>> = OnceLock::new();
    LOADED
        .get_or_init(|| {
            // retain_fallbacks keeps the default provider (AES, SHA-2, ...)
            // available next to the legacy one.
            match openssl::provider::Provider::try_load(None, "legacy", true) {
                Ok(provider) => {
                    // Dropping the handle would unload the provider again.
                    std::mem::forget(provider);
                    Ok(())
                }
                Err(e) => Err(e.to_string()),
            }
        })
        .clone()
        .map_err(LegacyError::Provider)
}

fn build_context(chain: &Path, key: &Path) -> Result<SslContext, LegacyError> {
    ensure_legacy_provider()?;
    let mut b = SslContextBuilder::new(SslMethod::tls_server())?;
    b.clear_options(SslOptions::NO_SSLV3 | SslOptions::NO_TLSV1 | SslOptions::NO_TLSV1_1);
    b.set_options(SslOptions::CIPHER_SERVER_PREFERENCE | SslOptions::NO_COMPRESSION);
    b.set_security_level(0);
    b.set_min_proto_version(Some(SslVersion::SSL3))?;
    b.set_max_proto_version(None)?;
    b.set_cipher_list(LEGACY_CIPHER_LIST)?;
    b.set_verify(SslVerifyMode::NONE);
    b.set_certificate_chain_file(chain)
        .map_err(|source| LegacyError::File {
            path: chain.to_path_buf(),
            source,
        })?;
    b.set_private_key_file(key, SslFiletype::PEM)
        .map_err(|source| LegacyError::File {
            path: key.to_path_buf(),
            source,
        })?;
    b.check_private_key().map_err(|source| LegacyError::File {
        path: key.to_path_buf(),
        source,
    })?;
    Ok(b.build())
}

/// The acceptor for the legacy route of port 443. Cloning is cheap and
/// clones share the certificate, so [`reload`](Self::reload) reaches them
/// all.
#[derive(Clone)]
pub struct LegacyAcceptor {
    ctx: Arc<RwLock<SslContext>>,
}

impl std::fmt::Debug for LegacyAcceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LegacyAcceptor").finish_non_exhaustive()
    }
}

impl LegacyAcceptor {
    /// `chain`: PEM, leaf first (the CA may follow); `key`: its PEM key.
    pub fn from_files(chain: &Path, key: &Path) -> Result<Self, LegacyError> {
        Ok(Self {
            ctx: Arc::new(RwLock::new(build_context(chain, key)?)),
        })
    }

    /// For the MCO certificate from [`CertStore::ensure_mco`].
    ///
    /// [`CertStore::ensure_mco`]: crate::certs::CertStore::ensure_mco
    pub fn from_status(status: &CertStatus) -> Result<Self, LegacyError> {
        Self::from_files(&status.leaf.cert_path, &status.leaf.key_path)
    }

    /// Serve a new certificate from the next handshake on (after renewal).
    pub fn reload(&self, chain: &Path, key: &Path) -> Result<(), LegacyError> {
        let ctx = build_context(chain, key)?;
        match self.ctx.write() {
            Ok(mut guard) => *guard = ctx,
            Err(poisoned) => *poisoned.into_inner() = ctx,
        }
        Ok(())
    }

    fn context(&self) -> SslContext {
        match self.ctx.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Run the server handshake. The caller bounds it with a timeout.
    pub async fn accept<S>(&self, stream: S) -> Result<SslStream<S>, LegacyError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let ssl = Ssl::new(&self.context())?;
        let mut tls = SslStream::new(ssl, stream)?;
        Pin::new(&mut tls).accept().await?;
        Ok(tls)
    }

    /// Handshake with a client restricted to each legacy profile over
    /// loopback, so start-up can log what the XP client will actually get
    /// from this build (e.g. a system OpenSSL picked up through
    /// `OPENSSL_NO_VENDOR` has no SSLv3 or RC4). Blocking: call it from
    /// `spawn_blocking`.
    pub fn probe(&self) -> Vec<ProbeResult> {
        LegacyProfile::ALL
            .iter()
            .map(|&profile| ProbeResult {
                profile,
                outcome: probe_one(&self.context(), profile),
            })
            .collect()
    }
}

/// A protocol and cipher the MCO client may insist on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyProfile {
    Ssl3Rc4Md5,
    Tls10Rc4Sha,
    Tls10Des3Sha,
}

impl LegacyProfile {
    pub const ALL: [LegacyProfile; 3] = [
        LegacyProfile::Ssl3Rc4Md5,
        LegacyProfile::Tls10Rc4Sha,
        LegacyProfile::Tls10Des3Sha,
    ];

    pub fn version(self) -> SslVersion {
        match self {
            LegacyProfile::Ssl3Rc4Md5 => SslVersion::SSL3,
            _ => SslVersion::TLS1,
        }
    }

    /// OpenSSL's name of the cipher suite.
    pub fn cipher(self) -> &'static str {
        match self {
            LegacyProfile::Ssl3Rc4Md5 => "RC4-MD5",
            LegacyProfile::Tls10Rc4Sha => "RC4-SHA",
            LegacyProfile::Tls10Des3Sha => "DES-CBC3-SHA",
        }
    }
}

impl std::fmt::Display for LegacyProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = match self.version() {
            SslVersion::SSL3 => "SSLv3",
            _ => "TLSv1.0",
        };
        write!(f, "{v} {}", self.cipher())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeResult {
    pub profile: LegacyProfile,
    /// `Err` holds OpenSSL's reason.
    pub outcome: Result<(), String>,
}

/// An OpenSSL client limited to one legacy profile, the way the XP client
/// behaves. Public for tests and `doctor`; it does not check the server's
/// certificate.
pub fn legacy_client_context(profile: LegacyProfile) -> Result<SslContext, LegacyError> {
    client_context(
        profile.version(),
        Some(profile.version()),
        &format!("{}:@SECLEVEL=0", profile.cipher()),
    )
}

/// An OpenSSL client with any version range and TLS 1.2-and-older cipher
/// list, sharing the legacy provider setup. Does not check the server's
/// certificate.
pub fn client_context(
    min: SslVersion,
    max: Option<SslVersion>,
    cipher_list: &str,
) -> Result<SslContext, LegacyError> {
    ensure_legacy_provider()?;
    let mut b = SslContextBuilder::new(SslMethod::tls_client())?;
    b.clear_options(SslOptions::NO_SSLV3 | SslOptions::NO_TLSV1 | SslOptions::NO_TLSV1_1);
    b.set_security_level(0);
    b.set_min_proto_version(Some(min))?;
    b.set_max_proto_version(max)?;
    b.set_cipher_list(cipher_list)?;
    b.set_verify(SslVerifyMode::NONE);
    Ok(b.build())
}

fn probe_one(server_ctx: &SslContext, profile: LegacyProfile) -> Result<(), String> {
    let client_ctx = legacy_client_context(profile).map_err(|e| e.to_string())?;
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // Connect before starting the server thread: the backlog completes the
    // connection, so the thread's accept can never wait for a client that
    // failed to come.
    let client_sock = StdTcpStream::connect(addr).map_err(|e| e.to_string())?;
    let server_ctx = server_ctx.clone();
    let server = std::thread::spawn(move || -> Result<(), String> {
        let (sock, _) = listener.accept().map_err(|e| e.to_string())?;
        sock.set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(|e| e.to_string())?;
        let ssl = Ssl::new(&server_ctx).map_err(|e| e.to_string())?;
        let mut tls = ssl.accept(sock).map_err(|e| e.to_string())?;
        let mut byte = [0u8; 1];
        tls.read_exact(&mut byte).map_err(|e| e.to_string())?;
        tls.write_all(&byte).map_err(|e| e.to_string())
    });
    let client = (move || -> Result<(), String> {
        client_sock
            .set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(|e| e.to_string())?;
        let ssl = Ssl::new(&client_ctx).map_err(|e| e.to_string())?;
        let mut tls = ssl.connect(client_sock).map_err(|e| e.to_string())?;
        let cipher = tls
            .ssl()
            .current_cipher()
            .map(|c| c.name().to_string())
            .unwrap_or_default();
        if cipher != profile.cipher() {
            return Err(format!("negotiated {cipher}"));
        }
        tls.write_all(b"x").map_err(|e| e.to_string())?;
        let mut byte = [0u8; 1];
        tls.read_exact(&mut byte).map_err(|e| e.to_string())
    })();
    // The client's socket is closed by now and the server side has a read
    // timeout, so the thread ends on its own.
    let server = server
        .join()
        .unwrap_or_else(|_| Err("probe server thread panicked".into()));
    client.and(server)
}

/// The OpenSSL this binary was built with, for the start-up log.
pub fn openssl_version() -> &'static str {
    openssl::version::version()
}
