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
use pitlane_core::recording::{Channel, ConnectionLog};

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
    let open = app
        .metrics
        .connections(if tls.is_some() { "https" } else { "http" });
    loop {
        if *shutdown.borrow() {
            break;
        }
        // Waiting for a permit before accepting leaves excess clients in
        // the kernel's backlog instead of in our memory.
        let waiting = connections.available_permits() == 0;
        if waiting {
            app.metrics.limit_hit("max_connections");
        }
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
        // Over its address's share, a client still gets one answer in the
        // game's form (then the connection closes), so a player behind a
        // crowded NAT sees why.
        let guard = app.limits.connect(peer.ip());
        let app = app.clone();
        let watcher = graceful.watcher();
        let tls = tls.clone();
        let channel = if tls.is_some() {
            Channel::Https
        } else {
            Channel::Http
        };
        let log = app.recorder.connection_on(channel, local, peer);
        let counted = open.open();
        tokio::spawn(async move {
            let over_limit = guard.is_none();
            if over_limit {
                tracing::debug!(%peer, "connection limit per address reached");
            }
            match tls {
                None => {
                    serve_connection(stream, peer, app, settings, false, over_limit, watcher, log)
                        .await
                }
                // A TLS handshake costs more than the refusal is worth.
                Some(_) if over_limit => {}
                Some(tls) => match tls.accept(stream).await {
                    Ok(accepted) => {
                        tracing::debug!(%peer, tls = %accepted.stream.describe(), route = ?accepted.route, "TLS connection");
                        serve_connection(
                            accepted.stream,
                            peer,
                            app,
                            settings,
                            true,
                            false,
                            watcher,
                            log,
                        )
                        .await
                    }
                    Err(e) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                },
            }
            drop(guard);
            drop(permit);
            drop(counted);
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

#[allow(clippy::too_many_arguments)]
async fn serve_connection<IO>(
    io: IO,
    peer: std::net::SocketAddr,
    app: Arc<App>,
    settings: HttpSettings,
    secure: bool,
    over_limit: bool,
    watcher: Watcher,
    log: ConnectionLog,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let app_metrics = app.metrics.clone();
    let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
        let app = app.clone();
        let log = log.clone();
        async move {
            if over_limit {
                let started = std::time::Instant::now();
                let response = app.refuse(
                    request.uri().path(),
                    http::StatusCode::SERVICE_UNAVAILABLE,
                    "too many connections from your address; try again in a moment",
                );
                app.metrics.limit_hit("max_connections_per_address");
                app.count(request.uri().path(), &response, started);
                return Ok::<_, Infallible>(response);
            }
            Ok::<_, Infallible>(app.serve_logged(request, peer, secure, &log).await)
        }
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_read_timeout)
        .keep_alive(!over_limit)
        .serve_connection(TokioIo::new(io), service);
    if let Err(e) = watcher.watch(connection).await {
        if e.is_timeout() {
            // hyper's only timer here is the header read deadline.
            app_metrics.limit_hit("header_read_timeout_secs");
        }
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}
