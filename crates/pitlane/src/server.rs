//! Starting and stopping the whole server: data directory, database,
//! games, listeners, background upkeep. Tests start it exactly as `serve`
//! does, on `127.0.0.1:0`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use micromachines::MicroMachines;
use pitlane_core::recording::Recorder;
use pitlane_core::{Clock, Config};
use pitlane_store::Store;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use crate::app::App;
use crate::hosts;
use crate::mco::{self, McoHttp};
use crate::net::bind::{bind, BindError};
use crate::net::http::{self, HttpSettings};
use crate::tls::Https;

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
    #[error(transparent)]
    McoKey(#[from] crate::mco::KeyError),
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsSetupError),
}

/// The address of every listener, as bound (port 0 resolved).
#[derive(Debug, Clone, Copy)]
pub struct Listening {
    pub mmws_http: SocketAddr,
    /// HTTPS for both games, when TLS is enabled.
    pub https: Option<SocketAddr>,
    pub mco_login: Option<SocketAddr>,
    pub mco_persona: Option<SocketAddr>,
    pub mco_lobby: Option<SocketAddr>,
    pub mco_mcots: Option<SocketAddr>,
    /// The operator's dashboard, `/api/status` and `/metrics`.
    pub web: Option<SocketAddr>,
}

pub struct Server {
    pub listening: Listening,
    store: Store,
    micromachines: Arc<MicroMachines>,
    mco: Option<Arc<McoHttp>>,
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
        Server::start_recording(config, clock, Recorder::off()).await
    }

    /// [`Server::start`], with every connection written to `recorder`
    /// (`serve --record`).
    pub async fn start_recording(
        config: &Config,
        clock: Arc<dyn Clock>,
        recorder: Recorder,
    ) -> Result<Server, StartError> {
        let data_dir = &config.server.data_dir;
        std::fs::create_dir_all(data_dir).map_err(|source| StartError::DataDir {
            path: data_dir.clone(),
            source,
        })?;
        let store = Store::open(&database_url(config)).await?;
        // A season calendar of this server's own (not shared with another
        // server made from the same Config), with the seasons an operator
        // started early.
        let mut mm_settings = config.micromachines.clone();
        mm_settings.seasons.early_starts = Default::default();
        pitlane_web::reload_season_starts(&store, &mm_settings.seasons).await?;
        let micromachines = Arc::new(MicroMachines::new(
            store.clone(),
            clock.clone(),
            &mm_settings,
            &config.limits,
        )?);

        // Bind everything before serving anything: a port that cannot be
        // bound stops the start-up with nothing half-running.
        let bind_addr = config.server.bind;
        let mmws_http = bind(
            config.listen.mmws_http(bind_addr),
            "HTTP (both games)",
            "mmws_http",
        )
        .await?;
        let https_listener = if config.tls.enabled {
            Some(
                bind(
                    config.listen.https(bind_addr),
                    "HTTPS (both games)",
                    "https",
                )
                .await?,
            )
        } else {
            None
        };
        let mco_listeners = if config.motorcity.enabled {
            let login = bind(
                config.listen.mco_login(bind_addr),
                "Motor City Online login",
                "mco_login",
            )
            .await?;
            let persona = bind(
                config.listen.mco_persona(bind_addr),
                "Motor City Online persona",
                "mco_persona",
            )
            .await?;
            let lobby = bind(
                config.listen.mco_lobby(bind_addr),
                "Motor City Online lobby",
                "mco_lobby",
            )
            .await?;
            let mcots = bind(
                config.listen.mco_mcots(bind_addr),
                "Motor City Online MCOTS",
                "mco_mcots",
            )
            .await?;
            Some((login, persona, lobby, mcots))
        } else {
            None
        };
        let web_listener = if config.web.enabled {
            // bind() names the [listen] section; the dashboard's address
            // lives in [web].
            let listener = bind(config.web.listen, "dashboard", "web")
                .await
                .map_err(|mut e| {
                    e.fix = e.fix.replace("[listen] web =", "[web] listen =");
                    e
                })?;
            Some(listener)
        } else {
            None
        };
        let listening = Listening {
            mmws_http: local_addr(&mmws_http)?,
            https: https_listener.as_ref().map(local_addr).transpose()?,
            mco_login: mco_listeners
                .as_ref()
                .map(|(l, _, _, _)| local_addr(l))
                .transpose()?,
            mco_persona: mco_listeners
                .as_ref()
                .map(|(_, p, _, _)| local_addr(p))
                .transpose()?,
            mco_lobby: mco_listeners
                .as_ref()
                .map(|(_, _, l, _)| local_addr(l))
                .transpose()?,
            mco_mcots: mco_listeners
                .as_ref()
                .map(|(_, _, _, m)| local_addr(m))
                .transpose()?,
            web: web_listener.as_ref().map(local_addr).transpose()?,
        };

        let (shutdown, shutdown_rx) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let mut mco_lobby_hub = None;
        // The dashboard shows the lobby's channels live.
        let mut mco_lobby = None;
        let mco = match mco_listeners {
            Some((login, persona, lobby, mcots)) => {
                let (key, created) = mco::load_or_create_login_key(data_dir)?;
                if created {
                    tracing::info!(path = %mco::key_dir(data_dir).display(), "created the Motor City Online login key and pub.key");
                }
                let public_host =
                    hosts::player_facing_address(config.server.public_address, bind_addr)
                        .to_string();
                let login_port = listening.mco_login.map_or(0, |a| a.port());
                let http = Arc::new(McoHttp::new(
                    store.clone(),
                    clock.clone(),
                    &config.motorcity,
                    public_host,
                    login_port,
                ));
                let directory: Arc<dyn motorcity::McoDirectory> = http.directory.clone();
                let nps = motorcity::ServerSettings {
                    max_connections: config.motorcity.max_connections,
                    idle_timeout: Duration::from_secs(config.motorcity.idle_timeout_secs),
                    recorder: recorder.clone(),
                    ..motorcity::ServerSettings::default()
                };
                tasks.spawn(motorcity::serve_login(
                    login,
                    directory.clone(),
                    Arc::new(key),
                    nps.clone(),
                    shutdown_rx.clone(),
                ));
                tasks.spawn(motorcity::serve_persona(
                    persona,
                    directory,
                    nps,
                    shutdown_rx.clone(),
                ));
                let lobby_server = Arc::new(motorcity::Lobby::new(
                    http.directory.clone(),
                    motorcity::LobbySettings {
                        recorder: recorder.clone(),
                        ..motorcity::LobbySettings::from_config(&config.motorcity)
                    },
                ));
                let mcots_server = Arc::new(motorcity::Mcots::new(
                    http.directory.clone(),
                    motorcity::McotsSettings {
                        recorder: recorder.clone(),
                        ..motorcity::McotsSettings::from_config(&config.motorcity)
                    },
                ));
                mco_lobby_hub = Some(lobby_server.hub().clone());
                mco_lobby = Some(lobby_server.clone());
                tasks.spawn(motorcity::serve_lobby(
                    lobby,
                    lobby_server,
                    shutdown_rx.clone(),
                ));
                tasks.spawn(motorcity::serve_mcots(
                    mcots,
                    mcots_server,
                    shutdown_rx.clone(),
                ));
                Some(http)
            }
            None => None,
        };

        let metrics = Arc::new(pitlane_web::Metrics::new());
        if let Some(listener) = web_listener {
            if let Some(addr) = listening.web {
                if !addr.ip().is_loopback() && !config.web.behind_https_proxy {
                    tracing::warn!(%addr, "the dashboard listens on a non-loopback address over plain HTTP: operator passwords and session cookies cross the network in clear; use an SSH tunnel or an HTTPS reverse proxy (and set [web] behind_https_proxy = true)");
                }
            }
            let mut dashboard = pitlane_web::Dashboard::new(
                store.clone(),
                clock.clone(),
                micromachines.clone(),
                metrics.clone(),
                config,
            );
            if let Some(lobby) = mco_lobby.take() {
                dashboard = dashboard.with_mco_lobby(lobby);
            }
            tasks.spawn(pitlane_web::serve(
                listener,
                Arc::new(dashboard),
                shutdown_rx.clone(),
            ));
        }
        // Several instances on one PostgreSQL share matchmaking and add up
        // their heartbeats (docs/operator-guide.md, "Scale out").
        tasks.spawn(
            micromachines
                .matchmaker()
                .clone()
                .run_pool_listener(shutdown_rx.clone()),
        );
        tasks.spawn(crate::heartbeat::run(
            crate::heartbeat::Sources {
                store: store.clone(),
                clock: clock.clone(),
                micromachines: micromachines.clone(),
                metrics: metrics.clone(),
                mco_lobby: mco_lobby_hub,
                address: listening.mmws_http.to_string(),
            },
            shutdown_rx.clone(),
        ));
        let connections = Arc::new(Semaphore::new(config.limits.max_connections));
        let limits = Arc::new(crate::net::limits::AddressLimits::new(&config.limits));
        register_gauges(&metrics, &limits, &micromachines, &store, &listening);
        let app = Arc::new(App {
            micromachines: micromachines.clone(),
            mco: mco.clone(),
            metrics,
            request_timeout: Duration::from_secs(config.limits.request_timeout_secs),
            limits,
            recorder: recorder.clone(),
        });
        let settings = HttpSettings {
            header_read_timeout: Duration::from_secs(config.limits.header_read_timeout_secs),
            max_head_bytes: config.limits.max_header_bytes,
            max_body_bytes: config.limits.max_body_bytes,
            shutdown_grace: Duration::from_secs(30),
        };
        if let Some(listener) = https_listener {
            let https = Arc::new(Https::prepare(config, &clock).await?);
            tasks.spawn(http::serve(
                listener,
                app.clone(),
                settings,
                Some(https.acceptor.clone()),
                connections.clone(),
                shutdown_rx.clone(),
            ));
            tasks.spawn(https.renew_daily(config.clone(), clock.clone(), shutdown_rx.clone()));
        }
        tasks.spawn(http::serve(
            mmws_http,
            app,
            settings,
            None,
            connections,
            shutdown_rx.clone(),
        ));
        tasks.spawn(upkeep(store.clone(), clock, mco.clone(), shutdown_rx));
        Ok(Server {
            listening,
            store,
            micromachines,
            mco,
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

    pub fn mco(&self) -> Option<&Arc<McoHttp>> {
        self.mco.as_ref()
    }

    /// Stops accepting, waits for in-flight requests, closes the database.
    pub async fn shutdown(mut self) {
        // Held matchmaking polls are answered first, so draining does not
        // wait out their 25 s.
        self.micromachines.matchmaker().close();
        let _ = self.shutdown.send(true);
        while self.tasks.join_next().await.is_some() {}
        self.store.close().await;
    }
}

/// The numbers `/metrics` reads from their owners at each scrape.
fn register_gauges(
    metrics: &pitlane_web::Metrics,
    limits: &Arc<crate::net::limits::AddressLimits>,
    micromachines: &Arc<MicroMachines>,
    store: &Store,
    listening: &Listening,
) {
    let held = limits.clone();
    metrics.add_gauge(
        "pitlane_matchmaking_held_polls",
        "EnterMatchmaking2 requests held open now (capped by [limits] max_held_polls).",
        move || vec![(String::new(), held.held_polls() as f64)],
    );
    let mm = micromachines.clone();
    metrics.add_gauge(
        "pitlane_matchmaking_queue_parties",
        "Micro Machines parties searching now, by queue (game type, rule set, ranking).",
        move || {
            let mut queues = std::collections::BTreeMap::<String, usize>::new();
            for search in mm.matchmaker().searching() {
                let q = &search.queue;
                let labels = format!(
                    "{{game_type=\"{}\",rule_set=\"{}\",ranking=\"{}\"}}",
                    label_value(&q.game_type),
                    label_value(&q.rule_set),
                    label_value(&q.ranking)
                );
                *queues.entry(labels).or_default() += 1;
            }
            queues.into_iter().map(|(l, n)| (l, n as f64)).collect()
        },
    );
    metrics.add_gauge(
        "pitlane_database_errors",
        "Database errors since start (failed queries, lost connections, pool timeouts); a counter kept as a running total.",
        || vec![(String::new(), pitlane_store::database_errors() as f64)],
    );
    let pool = store.pool().clone();
    metrics.add_gauge(
        "pitlane_database_connections",
        "Database pool connections, open and idle.",
        move || {
            vec![
                ("{state=\"open\"}".into(), f64::from(pool.size())),
                ("{state=\"idle\"}".into(), pool.num_idle() as f64),
            ]
        },
    );
    let sessions = store.clone();
    metrics.add_gauge(
        "pitlane_mm_session_lookups",
        "Micro Machines session lookups since start (a running total), by where they were answered: cache (confirmed by the database within the last few seconds) or database.",
        move || {
            let n = sessions.mm_sessions().lookups();
            vec![
                ("{via=\"cache\"}".into(), n.cache as f64),
                ("{via=\"database\"}".into(), n.database as f64),
            ]
        },
    );
    if store.sqlite_lane_stats().is_some() {
        let lane = store.clone();
        metrics.add_gauge(
            "pitlane_sqlite_lane_jobs",
            "SQLite lane jobs (one per hot-path store call): waiting now, and answered since start (a running total).",
            move || {
                let stats = lane.sqlite_lane_stats().unwrap_or_default();
                vec![
                    ("{state=\"waiting\"}".into(), stats.waiting as f64),
                    ("{state=\"done\"}".into(), stats.done as f64),
                ]
            },
        );
        let lane = store.clone();
        metrics.add_gauge(
            "pitlane_sqlite_lane_commits",
            "SQLite lane group commits since start (a running total); jobs done per commit is the group size.",
            move || {
                let commits = lane.sqlite_lane_stats().map_or(0, |s| s.commits);
                vec![(String::new(), commits as f64)]
            },
        );
    }
    let mco: Vec<(&'static str, SocketAddr)> = [
        ("mco_login", listening.mco_login),
        ("mco_persona", listening.mco_persona),
        ("mco_lobby", listening.mco_lobby),
        ("mco_mcots", listening.mco_mcots),
    ]
    .into_iter()
    .filter_map(|(name, addr)| addr.map(|a| (name, a)))
    .collect();
    if !mco.is_empty() {
        let listeners = mco.clone();
        metrics.add_gauge(
            "pitlane_mco_oversized_frames",
            "Motor City Online frames refused since start for being above the listener's max_frame_len (the connection is closed), by listener.",
            move || {
                listeners
                    .iter()
                    .map(|(name, addr)| {
                        (
                            format!("{{listener=\"{name}\"}}"),
                            motorcity::server::oversized_frames(*addr) as f64,
                        )
                    })
                    .collect()
            },
        );
        metrics.add_gauge(
            "pitlane_mco_open_connections",
            "Motor City Online TCP connections open now, by listener.",
            move || {
                mco.iter()
                    .map(|(name, addr)| {
                        (
                            format!("{{listener=\"{name}\"}}"),
                            motorcity::server::open_connections(*addr) as f64,
                        )
                    })
                    .collect()
            },
        );
    }
}

/// Text fit for a Prometheus label value (queue names come from clients).
fn label_value(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .take(32)
        .collect()
}

fn local_addr(listener: &tokio::net::TcpListener) -> Result<SocketAddr, BindError> {
    listener.local_addr().map_err(|e| BindError {
        addr: SocketAddr::from(([0, 0, 0, 0], 0)),
        what: "listener",
        cause: e.to_string(),
        fix: "check the [listen] section".into(),
    })
}

/// Periodic housekeeping: expired sessions, tickets and throttle records
/// are deleted every few minutes.
async fn upkeep(
    store: Store,
    clock: Arc<dyn Clock>,
    mco: Option<Arc<McoHttp>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut every = tokio::time::interval(Duration::from_secs(300));
    loop {
        tokio::select! {
            _ = every.tick() => {
                match store.mm_sessions().purge_expired(clock.now()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(sessions = n, "expired sessions removed"),
                    Err(e) => tracing::warn!(error = %e, "could not remove expired sessions"),
                }
                if let Some(mco) = &mco {
                    if let Err(e) = mco.directory.purge_expired().await {
                        tracing::warn!(error = %e, "could not remove expired MCO tickets and sessions");
                    }
                }
            }
            _ = shutdown.changed() => break,
        }
    }
}
