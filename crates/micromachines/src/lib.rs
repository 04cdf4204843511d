//! Micro Machines World Series online services ("MMCOS"), as the Steam
//! client of 2017 expects them: the CDN redirect file, the server status
//! file, the WCF-style XML services and the binary EgoNet RPC.
//!
//! Layers, outside in: `http` (routes, limits, response forms) → `xml`
//! (the client's and the server's XML dialects) → `services` (one module
//! per MMCOS service) → `contracts` (typed results) and the store. EgoNet
//! has its own stack under `egonet` (vdic codec, functions, answers).

pub mod contracts;
pub mod egonet;
pub mod fuzzing;
pub mod game_config;
pub mod http;
pub mod matchmaking;
pub mod progression;
pub mod services;
pub mod steam_ticket;
pub mod xml;

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use ::http::{Method, Request, StatusCode};
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use pitlane_core::config::{Limits, MicroMachinesSettings, ServerStatusSettings};
use pitlane_core::{ids, Clock};
use pitlane_store::mmws::MmSession;
use pitlane_store::Store;

use crate::game_config::{GameConfig, GameConfigError, GameConfiguration};
use crate::http::responses::{self, HttpResponse};
use crate::http::{route, Failure, Operation};
use crate::matchmaking::Matchmaker;
use crate::progression::Divisions;
use crate::services::account::LoginRequest;
use crate::services::matchmaking::parse_search;
use crate::xml::{Element, ParseLimits};

/// The Micro Machines service: shared by every connection of every
/// listener that serves the game.
#[derive(Debug)]
pub struct MicroMachines {
    store: Store,
    clock: Arc<dyn Clock>,
    settings: MicroMachinesSettings,
    max_body_bytes: usize,
    xml_limits: ParseLimits,
    game_config: GameConfiguration,
    divisions: Arc<Divisions>,
    matchmaker: Arc<Matchmaker>,
    /// Replaceable at run time from the dashboard; the document is kept
    /// rendered because every client start fetches it.
    status: RwLock<(ServerStatusSettings, Bytes)>,
    cdn_document: Bytes,
    egonet_calls: egonet::functions::CallCounts,
}

impl MicroMachines {
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        settings: &MicroMachinesSettings,
        limits: &Limits,
    ) -> Result<Self, GameConfigError> {
        let config = match &settings.game_config_file {
            Some(path) => GameConfig::load(path)?,
            None => GameConfig::builtin(),
        };
        let divisions = Arc::new(Divisions::new(&config));
        let matchmaker = Arc::new(Matchmaker::new(settings.matchmaking.clone(), store.clone()));
        Ok(Self {
            divisions,
            matchmaker,
            store,
            clock,
            max_body_bytes: limits.max_body_bytes,
            xml_limits: ParseLimits {
                max_depth: limits.max_xml_depth,
                max_elements: limits.max_xml_elements,
            },
            game_config: GameConfiguration::new(
                config,
                settings.seasons.clone(),
                settings.events.clone(),
            ),
            status: RwLock::new((
                settings.status.clone(),
                services::status::server_status_document(&settings.status),
            )),
            cdn_document: services::status::cdn_document(&settings.cdn_server_type),
            settings: settings.clone(),
            egonet_calls: Default::default(),
        })
    }

    pub fn game_configuration(&self) -> &GameConfiguration {
        &self.game_config
    }

    pub fn matchmaker(&self) -> &Arc<Matchmaker> {
        &self.matchmaker
    }

    /// The `ServerStatus.xml` settings in effect.
    pub fn server_status(&self) -> ServerStatusSettings {
        self.status_lock().0.clone()
    }

    /// Replaces `ServerStatus.xml` for every client from now on (until the
    /// next restart, which goes back to the config file).
    pub fn set_server_status(&self, status: ServerStatusSettings) {
        let document = services::status::server_status_document(&status);
        *self.status.write().unwrap_or_else(|e| e.into_inner()) = (status, document);
    }

    fn status_lock(&self) -> std::sync::RwLockReadGuard<'_, (ServerStatusSettings, Bytes)> {
        // A writer cannot panic half-way through replacing the pair.
        self.status.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Serves one HTTP request. Never fails: every problem becomes an error
    /// document in the service's own form and a log line.
    ///
    /// The request comes boxed: every async fn it passes through keeps its
    /// argument for as long as it runs, and a held matchmaking poll runs
    /// for up to `hold_secs` through seven of them.
    pub async fn handle<B>(&self, request: Box<Request<B>>, peer: &SocketAddr) -> HttpResponse
    where
        B: ::http_body::Body<Data = Bytes>,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let path = request.uri().path().to_string();
        let Some(op) = route(&path) else {
            tracing::warn!(%peer, %path, "no Micro Machines operation at this path");
            return Failure::new(StatusCode::NOT_FOUND, format!("no operation at {path}"))
                .into_response("ErrorResult");
        };
        // EgoNet answers everything, wrong method included, in its own form.
        if op == Operation::EgoNet {
            return Box::pin(self.egonet(request, peer)).await;
        }
        let method_ok = request.method() == op.method()
            || (op.method() == Method::GET && request.method() == Method::HEAD);
        if !method_ok {
            return Failure::new(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("{} expects {}", op.name(), op.method()),
            )
            .into_response(op.result_root());
        }
        match self.dispatch(op, request, peer).await {
            Ok(response) => response,
            Err(failure) => {
                tracing::warn!(operation = op.name(), %peer, status = failure.status.as_u16(), reason = %failure.message, "request refused");
                failure.into_response(op.result_root())
            }
        }
    }

    async fn dispatch<B>(
        &self,
        op: Operation,
        request: Box<Request<B>>,
        peer: &SocketAddr,
    ) -> Result<HttpResponse, Failure>
    where
        B: ::http_body::Body<Data = Bytes>,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        match op {
            Operation::CdnRedirect => return Ok(responses::cdn_text(self.cdn_document.clone())),
            Operation::ServerStatus => {
                return Ok(responses::status_file(self.status_lock().1.clone()))
            }
            _ => {}
        }
        let body = Box::pin(self.read_body(request)).await?;
        tracing::debug!(operation = op.name(), body = %String::from_utf8_lossy(&body), "request body");
        if op.shape_unknown() {
            let shown: String = String::from_utf8_lossy(&body).chars().take(2048).collect();
            tracing::info!(operation = op.name(), %peer, body = %shown, "operation of unknown shape accepted");
            return Ok(responses::void());
        }
        let xml = Element::parse_root(&body, op.request_root(), self.xml_limits)?;
        let now = self.clock.now();
        // Each operation's future is boxed: this future then stays small,
        // and so does what a connection keeps while a request is held (a
        // matchmaking poll holds only its own operation's state).
        if op == Operation::Login {
            let request = LoginRequest::parse(&xml)?;
            let addr = egonet::login::link_addr(*peer);
            let body = Box::pin(self.login(request, &addr, now)).await?;
            return Ok(responses::xml(body));
        }
        if op == Operation::EnterMatchmaking2 {
            // A poll is held for up to the hold time: it keeps the search,
            // not the request's text or XML, even while its session is
            // looked up.
            let token = xml.required("SessionToken")?.to_owned();
            let form = parse_search(&xml)?;
            drop(xml);
            drop(body);
            let session = Box::pin(self.session_of(&token)).await?;
            let search = Box::new(form.by(&session));
            return Ok(responses::xml(
                Box::pin(self.enter_matchmaking(search, self.season_of(now))).await?,
            ));
        }
        let session = Box::pin(self.session_of(xml.required("SessionToken")?)).await?;
        match op {
            Operation::UpdateAccountTitle => {
                Box::pin(self.update_title(&session, &xml)).await?;
                Ok(responses::void())
            }
            Operation::GetElite => Ok(responses::xml(
                Box::pin(self.get_elite(&session, &xml, now)).await?,
            )),
            Operation::GetFriends => Ok(responses::xml(
                Box::pin(self.get_friends(&session, &xml, now)).await?,
            )),
            Operation::GetEliteRank => Ok(responses::xml(
                Box::pin(self.get_elite_rank(&session, &xml, now)).await?,
            )),
            Operation::CancelMatchmaking => {
                Box::pin(self.cancel_matchmaking(&session, &xml)).await?;
                Ok(responses::void())
            }
            Operation::RegisterActiveGameWithPlayers => {
                Box::pin(self.register_active_game(&session, &xml, now)).await?;
                Ok(responses::void())
            }
            Operation::AddPoints => Ok(responses::xml(
                Box::pin(self.add_points(&session, &xml, now)).await?,
            )),
            Operation::CdnRedirect
            | Operation::ServerStatus
            | Operation::Login
            | Operation::EnterMatchmaking2
            | Operation::RegisterServer
            | Operation::GetGames
            | Operation::DebugMessage
            | Operation::EgoNet => Err(Failure::internal()),
        }
    }

    /// Reads the whole body, refusing more than the configured limit before
    /// buffering it.
    async fn read_body<B>(&self, request: Box<Request<B>>) -> Result<Bytes, Failure>
    where
        B: ::http_body::Body<Data = Bytes>,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let too_large = || {
            Failure::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body larger than {} bytes", self.max_body_bytes),
            )
            .by_limit("max_body_bytes")
        };
        let declared = request
            .headers()
            .get(::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.max_body_bytes as u64) {
            return Err(too_large());
        }
        match Limited::new((*request).into_body(), self.max_body_bytes)
            .collect()
            .await
        {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
            Err(e) => Err(Failure::bad_request(format!(
                "could not read the request body: {e}"
            ))),
        }
    }

    /// The id of the season running at `now`: the one a request's scores,
    /// ranks and races count in.
    pub(crate) fn season_of(&self, now: chrono::DateTime<chrono::Utc>) -> i64 {
        i64::from(self.game_config.calendar().at(now).season_id)
    }

    /// The session behind a request's `SessionToken`.
    async fn session_of(&self, token: &str) -> Result<MmSession, Failure> {
        self.store
            .mm_sessions()
            .find(&ids::token_digest(token), self.clock.now())
            .await?
            .ok_or_else(Failure::unknown_session)
    }
}
