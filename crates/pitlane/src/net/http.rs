//! The HTTP accept loop: one task per connection (HTTP/1.1, keep-alive),
//! a cap on open connections, a deadline for request headers, and graceful
//! shutdown that stops accepting and lets in-flight requests finish.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

use crate::app::App;

#[derive(Debug, Clone, Copy)]
pub struct HttpSettings {
    pub header_read_timeout: Duration,
    /// Whether connections arrive over TLS (set by the HTTPS listener).
    pub secure: bool,
    /// How long in-flight requests get to finish after shutdown begins.
    pub shutdown_grace: Duration,
}

pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    settings: HttpSettings,
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
        let service = service_fn(move |request| {
            let app = app.clone();
            async move { Ok::<_, Infallible>(app.serve_http(request, peer, settings.secure).await) }
        });
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(settings.header_read_timeout)
            .keep_alive(true)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
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
