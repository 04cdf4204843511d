//! One TLS port for both games: sniff, then hand the connection to rustls or
//! to the legacy OpenSSL stack, and give the caller one stream type either
//! way so the HTTP layer above does not care which stack it got.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

#[cfg(feature = "legacy-tls")]
use crate::legacy::LegacyAcceptor;
use crate::sniff::{ClientHelloInfo, Route, SniffError, Sniffer};

/// A server-side TLS connection from either stack.
#[derive(Debug)]
pub enum ServerTlsStream<IO> {
    Modern(Box<tokio_rustls::server::TlsStream<IO>>),
    #[cfg(feature = "legacy-tls")]
    Legacy(Box<tokio_openssl::SslStream<IO>>),
}

impl<IO> ServerTlsStream<IO> {
    /// Negotiated protocol and cipher, for the connection's log line.
    pub fn describe(&self) -> String {
        match self {
            ServerTlsStream::Modern(s) => {
                let conn = s.get_ref().1;
                let version = conn
                    .protocol_version()
                    .map(|v| format!("{v:?}"))
                    .unwrap_or_default();
                let suite = conn
                    .negotiated_cipher_suite()
                    .map(|s| format!("{:?}", s.suite()))
                    .unwrap_or_default();
                format!("rustls {version} {suite}")
            }
            #[cfg(feature = "legacy-tls")]
            ServerTlsStream::Legacy(s) => {
                let ssl = s.ssl();
                let cipher = ssl.current_cipher().map(|c| c.name()).unwrap_or_default();
                format!("openssl {} {cipher}", ssl.version_str())
            }
        }
    }

    /// The transport underneath, e.g. for the peer address.
    pub fn get_ref(&self) -> &IO {
        match self {
            ServerTlsStream::Modern(s) => s.get_ref().0,
            #[cfg(feature = "legacy-tls")]
            ServerTlsStream::Legacy(s) => s.get_ref(),
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncRead for ServerTlsStream<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ServerTlsStream::Modern(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            #[cfg(feature = "legacy-tls")]
            ServerTlsStream::Legacy(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for ServerTlsStream<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            ServerTlsStream::Modern(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            #[cfg(feature = "legacy-tls")]
            ServerTlsStream::Legacy(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ServerTlsStream::Modern(s) => Pin::new(s.as_mut()).poll_flush(cx),
            #[cfg(feature = "legacy-tls")]
            ServerTlsStream::Legacy(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ServerTlsStream::Modern(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            #[cfg(feature = "legacy-tls")]
            ServerTlsStream::Legacy(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// A connection after a successful handshake.
#[derive(Debug)]
pub struct Accepted {
    pub hello: ClientHelloInfo,
    /// The route the sniffer chose. When no legacy stack is configured a
    /// `Legacy` route is still served by rustls.
    pub route: Route,
    pub stream: ServerTlsStream<TcpStream>,
}

/// Why a connection on the TLS port was dropped.
#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    #[error(transparent)]
    Sniff(#[from] SniffError),
    #[error("TLS handshake timed out after {0:?}")]
    HandshakeTimeout(Duration),
    #[error("rustls handshake: {0}")]
    Modern(io::Error),
    #[cfg(feature = "legacy-tls")]
    #[error(transparent)]
    Legacy(#[from] crate::legacy::LegacyError),
}

/// Everything port 443 needs: the sniffer, rustls for Micro Machines and
/// (optionally) OpenSSL for MCO.
#[derive(Clone)]
pub struct PortAcceptor {
    sniffer: Arc<Sniffer>,
    modern: TlsAcceptor,
    #[cfg(feature = "legacy-tls")]
    legacy: Option<LegacyAcceptor>,
    handshake_timeout: Duration,
}

impl std::fmt::Debug for PortAcceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("PortAcceptor");
        d.field("sniffer", &self.sniffer);
        #[cfg(feature = "legacy-tls")]
        d.field("legacy", &self.legacy.is_some());
        d.field("handshake_timeout", &self.handshake_timeout)
            .finish_non_exhaustive()
    }
}

impl PortAcceptor {
    /// Without a legacy stack every connection goes to rustls.
    pub fn new(sniffer: Sniffer, modern: TlsAcceptor) -> Self {
        Self {
            sniffer: Arc::new(sniffer),
            modern,
            #[cfg(feature = "legacy-tls")]
            legacy: None,
            handshake_timeout: Duration::from_secs(15),
        }
    }

    #[cfg(feature = "legacy-tls")]
    pub fn with_legacy(mut self, legacy: LegacyAcceptor) -> Self {
        self.legacy = Some(legacy);
        self
    }

    /// A client that stalls mid-handshake must not hold a connection slot
    /// for ever.
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Sniff the ClientHello and complete the handshake on the chosen stack.
    pub async fn accept(&self, stream: TcpStream) -> Result<Accepted, AcceptError> {
        let (hello, route) = self.sniffer.sniff(&stream).await?;
        let timeout = self.handshake_timeout;
        #[cfg(feature = "legacy-tls")]
        if let (Route::Legacy, Some(legacy)) = (&route, &self.legacy) {
            let tls = tokio::time::timeout(timeout, legacy.accept(stream))
                .await
                .map_err(|_| AcceptError::HandshakeTimeout(timeout))??;
            return Ok(Accepted {
                hello,
                route,
                stream: ServerTlsStream::Legacy(Box::new(tls)),
            });
        }
        let tls = tokio::time::timeout(timeout, self.modern.accept(stream))
            .await
            .map_err(|_| AcceptError::HandshakeTimeout(timeout))?
            .map_err(AcceptError::Modern)?;
        let stream = ServerTlsStream::Modern(Box::new(tls));
        Ok(Accepted {
            hello,
            route,
            stream,
        })
    }
}
