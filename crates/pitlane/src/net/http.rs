//! The HTTP accept loop: one task per connection (HTTP/1.1, keep-alive),
//! a cap on open connections, a deadline for request headers, and graceful
//! shutdown that stops accepting and lets in-flight requests finish. The
//! same loop serves HTTPS: the TLS handshake runs in the connection's task,
//! so a slow handshake never holds up accepting.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use pitlane_tls::PortAcceptor;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

use crate::app::App;

#[derive(Debug, Clone, Copy)]
pub struct HttpSettings {
    pub header_read_timeout: Duration,
    /// How long in-flight requests get to finish after shutdown begins.
    pub shutdown_grace: Duration,
}

/// Serves HTTP on `listener`, or HTTPS when `tls` is given.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    settings: HttpSettings,
    tls: Option<Arc<PortAcceptor>>,
    connections: Arc<Semaphore>,
    mut shutdown: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let local = listener.local_addr().ok();
    loop {
        if *shutdown.borrow() {
            break;
        }
        // Waiting for a permit before accepting leaves excess clients in
        // the kernel's backlog instead of in our memory.
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = shutdown.changed() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Typically EMFILE: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let watcher = graceful.watcher();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => serve_connection(stream, peer, app, settings, false, watcher).await,
                Some(tls) => match tls.accept(stream).await {
                    Ok(accepted) => {
                        tracing::debug!(%peer, tls = %accepted.stream.describe(), route = ?accepted.route, "TLS connection");
                        serve_connection(accepted.stream, peer, app, settings, true, watcher).await
                    }
                    Err(e) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                },
            }
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {
            tracing::debug!(?local, "HTTP listener drained");
        }
        _ = tokio::time::sleep(settings.shutdown_grace) => {
            tracing::warn!(?local, "requests still running after the shutdown grace period; closing them");
        }
    }
}

async fn serve_connection<IO>(
    io: IO,
    peer: std::net::SocketAddr,
    app: Arc<App>,
    settings: HttpSettings,
    secure: bool,
    watcher: Watcher,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |request| {
        let app = app.clone();
        async move { Ok::<_, Infallible>(app.serve_http(request, peer, secure).await) }
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_read_timeout)
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), service);
    if let Err(e) = watcher.watch(connection).await {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}
