//! Starting and stopping the whole server: data directory, database,
//! games, listeners, background upkeep. Tests start it exactly as `serve`
//! does, on `127.0.0.1:0`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use micromachines::MicroMachines;
use pitlane_core::{Clock, Config};
use pitlane_store::Store;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use crate::app::App;
use crate::net::bind::{bind, BindError};
use crate::net::http::{self, HttpSettings};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] pitlane_store::StoreError),
    #[error(transparent)]
    GameConfig(#[from] micromachines::game_config::GameConfigError),
    #[error(transparent)]
    Bind(#[from] BindError),
}

/// The address of every listener, as bound (port 0 resolved).
#[derive(Debug, Clone, Copy)]
pub struct Listening {
    pub mmws_http: SocketAddr,
}

pub struct Server {
    pub listening: Listening,
    store: Store,
    micromachines: Arc<MicroMachines>,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

/// The database URL in effect: the configured one, or SQLite in the data
/// directory.
pub fn database_url(config: &Config) -> String {
    config.server.database_url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}",
            config.server.data_dir.join("pitlane.db").display()
        )
    })
}

impl Server {
    pub async fn start(config: &Config, clock: Arc<dyn Clock>) -> Result<Server, StartError> {
        let data_dir = &config.server.data_dir;
        std::fs::create_dir_all(data_dir).map_err(|source| StartError::DataDir {
            path: data_dir.clone(),
            source,
        })?;
        let store = Store::open(&database_url(config)).await?;
        let micromachines = Arc::new(MicroMachines::new(
            store.clone(),
            clock.clone(),
            &config.micromachines,
            &config.limits,
        )?);

        // Bind everything before serving anything: a port that cannot be
        // bound stops the start-up with nothing half-running.
        let mmws_http = bind(
            config.listen.mmws_http(config.server.bind),
            "Micro Machines HTTP",
            "mmws_http",
        )
        .await?;
        let listening = Listening {
            mmws_http: mmws_http.local_addr().map_err(|e| BindError {
                addr: config.listen.mmws_http(config.server.bind),
                what: "Micro Machines HTTP",
                cause: e.to_string(),
                fix: "check the [listen] section".into(),
            })?,
        };

        let (shutdown, shutdown_rx) = watch::channel(false);
        let connections = Arc::new(Semaphore::new(config.limits.max_connections));
        let app = Arc::new(App {
            micromachines: micromachines.clone(),
            request_timeout: Duration::from_secs(config.limits.request_timeout_secs),
        });
        let settings = HttpSettings {
            header_read_timeout: Duration::from_secs(config.limits.header_read_timeout_secs),
            shutdown_grace: Duration::from_secs(30),
        };
        let mut tasks = JoinSet::new();
        tasks.spawn(http::serve(
            mmws_http,
            app,
            settings,
            connections,
            shutdown_rx.clone(),
        ));
        tasks.spawn(upkeep(store.clone(), clock, shutdown_rx));
        Ok(Server {
            listening,
            store,
            micromachines,
            shutdown,
            tasks,
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn micromachines(&self) -> &Arc<MicroMachines> {
        &self.micromachines
    }

    /// Stops accepting, waits for in-flight requests, closes the database.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        while self.tasks.join_next().await.is_some() {}
        self.store.close().await;
    }
}

/// Periodic housekeeping: expired sessions are deleted hourly.
async fn upkeep(store: Store, clock: Arc<dyn Clock>, mut shutdown: watch::Receiver<bool>) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tokio::select! {
            _ = every.tick() => {
                match store.mm_sessions().purge_expired(clock.now()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(sessions = n, "expired sessions removed"),
                    Err(e) => tracing::warn!(error = %e, "could not remove expired sessions"),
                }
            }
            _ = shutdown.changed() => break,
        }
    }
}
