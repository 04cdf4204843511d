//! The dashboard's accept loop (HTTP/1.1, one task per connection, a
//! header deadline, graceful shutdown), plus the upkeep of its tables.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

use crate::Dashboard;

/// A dashboard has a handful of users; this only bounds what a scanner
/// hitting an exposed port can make us hold.
const MAX_CONNECTIONS: usize = 256;

pub async fn serve(
    listener: TcpListener,
    dashboard: Arc<Dashboard>,
    mut shutdown: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut upkeep = tokio::time::interval(Duration::from_secs(300));
    // Another instance's dashboard may start a season early.
    let mut season_sync = tokio::time::interval(Duration::from_secs(60));
    loop {
        if *shutdown.borrow() {
            break;
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
                    tracing::warn!(error = %e, "dashboard accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = upkeep.tick() => {
                purge(&dashboard).await;
                continue;
            }
            _ = season_sync.tick() => {
                let calendar = dashboard.micromachines.game_configuration().calendar();
                if let Err(e) = crate::seasons::reload_season_starts(&dashboard.store, calendar).await {
                    tracing::warn!(error = %e, "could not read the seasons started early");
                }
                continue;
            }
            _ = shutdown.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let dashboard = dashboard.clone();
        let service = service_fn(move |request| {
            let dashboard = dashboard.clone();
            async move { Ok::<_, Infallible>(dashboard.handle(request, peer).await) }
        });
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_secs(15))
            .keep_alive(true)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "dashboard connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(Duration::from_secs(5)) => {
            tracing::debug!("dashboard connections still open at shutdown; closing them");
        }
    }
}

async fn purge(d: &Dashboard) {
    let now = d.clock.now();
    if let Err(e) = d
        .store
        .admin_sessions()
        .purge_expired(now, d.idle_timeout())
        .await
    {
        tracing::warn!(error = %e, "could not remove expired dashboard sessions");
    }
    let horizon = now - chrono::Duration::days(1);
    if let Err(e) = d.store.admin_login_failures().purge_before(horizon).await {
        tracing::warn!(error = %e, "could not remove old dashboard login failures");
    }
}
