//! The operator's dashboard: server-rendered pages to see and steer a live
//! server (players, bans, leaderboards, matchmaking, the status message),
//! the audit log of every change made through it, `/api/status` for
//! community tools and `/metrics` for Prometheus.
//!
//! It runs on a listener of its own (loopback by default) so that the
//! games' ports never expose it. Pages work without JavaScript; a small
//! script only refreshes the overview's numbers.
//!
//! Every page and action needs a session (a random cookie whose digest is
//! stored, with idle and absolute expiry), every form carries the
//! session's CSRF token, and failed logins are throttled per name and per
//! address. `/api/status` and `/metrics` are open: they carry counts only,
//! never names, and the tools that read them (Discord bots, Prometheus)
//! cannot log in.

mod api;
mod assets;
mod auth;
mod certs;
mod form;
mod html;
pub mod metrics;
mod pages;
mod respond;
mod seasons;
mod server;

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use chrono::Duration;
use http::{Method, Request};
use micromachines::MicroMachines;
use pitlane_core::{Clock, Config};
use pitlane_store::admin::AdminSession;
use pitlane_store::{Store, StoreError};

pub use api::Status;
pub use metrics::Metrics;
pub use respond::Resp;
pub use seasons::reload_season_starts;
pub use server::serve;

use crate::form::Form;
use crate::respond::WebError;

/// The crate's version, shown on the dashboard and in `/api/status`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Debug)]
pub struct Dashboard {
    store: Store,
    clock: Arc<dyn Clock>,
    micromachines: Arc<MicroMachines>,
    metrics: Arc<Metrics>,
    config: Config,
    nav: html::Nav,
    /// The Motor City lobby, when Motor City is served: who is in which
    /// channel.
    mco_lobby: Option<McoLobby>,
}

/// The lobby has no `Debug` of its own (it holds live connections).
struct McoLobby(Arc<motorcity::Lobby>);

impl std::fmt::Debug for McoLobby {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("McoLobby")
    }
}

impl Dashboard {
    /// `metrics` is the instance the game listeners record into.
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        micromachines: Arc<MicroMachines>,
        metrics: Arc<Metrics>,
        config: &Config,
    ) -> Self {
        Self {
            store,
            clock,
            micromachines,
            metrics,
            nav: html::Nav {
                server_name: config.server.name.clone(),
                version: VERSION,
                mco_enabled: config.motorcity.enabled,
            },
            config: config.clone(),
            mco_lobby: None,
        }
    }

    /// Shows the Motor City lobby's channels live on the Motor City page.
    pub fn with_mco_lobby(mut self, lobby: Arc<motorcity::Lobby>) -> Self {
        self.mco_lobby = Some(McoLobby(lobby));
        self
    }

    fn session_lifetime(&self) -> Duration {
        Duration::hours(i64::from(self.config.web.session_hours))
    }

    fn idle_timeout(&self) -> Duration {
        Duration::minutes(i64::from(self.config.web.idle_minutes))
    }

    /// Cookies are marked Secure only when the browser reaches us over
    /// HTTPS (through a proxy): a Secure cookie over plain HTTP on a LAN
    /// address would never come back and login would silently fail.
    fn secure_cookies(&self) -> bool {
        self.config.web.behind_https_proxy
    }

    /// Serves one request. Never fails: problems become an error page and
    /// a log line.
    pub async fn handle<B>(&self, request: Request<B>, peer: SocketAddr) -> Resp
    where
        B: http_body::Body<Data = Bytes>,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let method = request.method().clone();
        let path = request.uri().path().to_string();
        match self.route(request, peer).await {
            Ok(response) => response,
            Err(error) => {
                match &error {
                    WebError::Store(e) => {
                        tracing::error!(%method, %path, %peer, error = %e, "dashboard request failed")
                    }
                    other => {
                        tracing::info!(%method, %path, %peer, reason = %other, "dashboard request refused")
                    }
                }
                error.into_response(&self.nav.server_name)
            }
        }
    }

    async fn route<B>(&self, request: Request<B>, peer: SocketAddr) -> Result<Resp, WebError>
    where
        B: http_body::Body<Data = Bytes>,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let (parts, body) = request.into_parts();
        let path = parts.uri.path().to_string();
        let query = parts.uri.query().unwrap_or("").to_string();
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let is_get = parts.method == Method::GET || parts.method == Method::HEAD;
        let is_post = parts.method == Method::POST;
        if !is_get && !is_post {
            return Err(WebError::MethodNotAllowed);
        }

        // Reachable without a session.
        match (segments.as_slice(), is_get) {
            (["static", name], true) => return assets::serve(name),
            (["favicon.ico"], true) => return assets::serve("favicon.svg"),
            (["api", "status"], true) => return api::status(self).await,
            (["metrics"], true) => return api::metrics(self).await,
            (["login"], true) => return pages::login::page(self, &parts.headers, &query).await,
            (["login"], false) => {
                let form = Form::read(body).await?;
                return pages::login::submit(self, &parts.headers, &form, peer).await;
            }
            _ => {}
        }

        let Some(session) = auth::session(self, &parts.headers).await? else {
            return Ok(auth::to_login(&parts.uri, is_get));
        };

        if is_post {
            auth::check_origin(&parts.headers)?;
            let form = Form::read(body).await?;
            auth::check_csrf(&session, &form)?;
            return self
                .post(&segments, &session, &form, &parts.headers, peer)
                .await;
        }
        let q = Form::query(&query);
        match segments.as_slice() {
            [] => pages::overview::page(self, &session, &q).await,
            ["players"] => pages::players::search(self, &session, &q).await,
            ["players", "mmws", id] => {
                pages::players::mmws(self, &session, parse_id(id)?, &q).await
            }
            ["players", "mco", id] => pages::players::mco(self, &session, parse_id(id)?, &q).await,
            ["mmws"] => pages::mmws::page(self, &session, &q).await,
            ["mmws", "leaderboard"] => pages::mmws::leaderboard(self, &session, &q).await,
            ["mmws", "config"] => pages::mmws::config(self, &session).await,
            ["mco"] => pages::motorcity::page(self, &session, &q).await,
            ["settings"] => pages::settings::page(self, &session).await,
            ["audit"] => pages::audit::page(self, &session, &q).await,
            _ => Err(WebError::NotFound),
        }
    }

    async fn post(
        &self,
        segments: &[&str],
        session: &AdminSession,
        form: &Form,
        headers: &http::HeaderMap,
        peer: SocketAddr,
    ) -> Result<Resp, WebError> {
        match segments {
            ["logout"] => pages::login::logout(self, session, headers, peer).await,
            ["players", "mmws", id, action] => {
                pages::players::mmws_action(self, session, parse_id(id)?, action, form).await
            }
            ["mco", "accounts"] => pages::motorcity::create_account(self, session, form).await,
            ["players", "mco", id, action] => {
                pages::players::mco_action(self, session, parse_id(id)?, action, form).await
            }
            ["mmws", "status"] => pages::mmws::set_status(self, session, form).await,
            ["mmws", "next-season"] => pages::mmws::next_season(self, session, form).await,
            _ => Err(WebError::NotFound),
        }
    }
}

fn parse_id(text: &str) -> Result<i64, WebError> {
    text.parse().map_err(|_| WebError::NotFound)
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        WebError::Store(e)
    }
}
