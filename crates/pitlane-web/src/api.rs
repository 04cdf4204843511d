//! `/api/status` (JSON) and `/metrics` (Prometheus text format).

use std::fmt::Write;

use chrono::Duration;
use http::StatusCode;
use serde::Serialize;

use crate::respond::{self, Resp, WebError};
use crate::Dashboard;

/// Seconds over which the request rate and error rate are averaged.
pub const RATE_WINDOW_SECS: usize = 60;

/// What community tools read. Counts only: nothing here names a player.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub server: String,
    pub version: &'static str,
    pub uptime_secs: u64,
    pub database: &'static str,
    pub micromachines: MicroMachinesStatus,
    /// `None` when Motor City Online is switched off.
    pub motorcity: Option<MotorCityStatus>,
    pub requests: RequestStatus,
    /// The instances serving this database (one unless scaled out).
    pub instances: InstancesStatus,
}

/// Several instances on one database: figures only an instance knows,
/// added up from their heartbeats (this instance's own figures are live,
/// the others' at most one beat old).
#[derive(Debug, Clone, Serialize)]
pub struct InstancesStatus {
    /// Instances with a recent heartbeat, this one included.
    pub live: i64,
    /// Matchmaking polls held open on all of them.
    pub held_polls: i64,
    /// Motor City Online players in the lobbies of all of them.
    pub mco_lobby_online: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MicroMachinesStatus {
    /// Live session and activity within `online_window_minutes`.
    pub online: i64,
    pub online_window_minutes: u32,
    /// Parties searching right now, and the players in them.
    pub searching_parties: usize,
    pub searching_players: u64,
    pub races_last_hour: i64,
    pub accounts: i64,
    pub season_id: i32,
    pub season_active: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct MotorCityStatus {
    /// Customers with a live login session.
    pub online: i64,
    pub accounts: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RequestStatus {
    /// Game HTTP requests per second over `window_secs`, all live
    /// instances together.
    pub per_second: f64,
    /// Share of them answered with a 5xx status.
    pub error_rate: f64,
    pub window_secs: usize,
}

impl Dashboard {
    pub async fn status(&self) -> Result<Status, pitlane_store::StoreError> {
        let now = self.clock.now();
        let views = self.store.admin_views();
        let window = self.config.web.online_minutes;
        let matchmaker = self.micromachines.matchmaker();
        // Every instance's searches when the pool is shared.
        let searches = matchmaker.searching_everywhere().await?;
        let season = self.micromachines.game_configuration().calendar().at(now);
        let motorcity = if self.config.motorcity.enabled {
            Some(MotorCityStatus {
                online: self.store.mco_sessions().count_live(None, now).await?,
                accounts: self.store.mco_accounts().count().await?,
            })
        } else {
            None
        };
        let (mut per_second, error_rate) = self.metrics.rates(RATE_WINDOW_SECS);
        let me = self.store.instance_id();
        let live = self
            .store
            .instances()
            .live(now - Duration::seconds(pitlane_store::instances::LIVE_SECS))
            .await?;
        let mut instances = InstancesStatus {
            live: 1,
            held_polls: matchmaker.held_polls() as i64,
            mco_lobby_online: 0,
        };
        for row in &live {
            instances.mco_lobby_online += row.beat.mco_lobby_online;
            if row.beat.instance_id != me {
                instances.live += 1;
                instances.held_polls += row.beat.mm_polls_held;
                per_second += row.beat.requests_per_second;
            }
        }
        Ok(Status {
            server: self.config.server.name.clone(),
            version: crate::VERSION,
            uptime_secs: self.metrics.uptime().as_secs(),
            database: self.store.backend().name(),
            micromachines: MicroMachinesStatus {
                online: views
                    .mm_online(now - Duration::minutes(i64::from(window)), now)
                    .await?,
                online_window_minutes: window,
                searching_parties: searches.iter().filter(|s| !s.matched).count(),
                searching_players: searches
                    .iter()
                    .filter(|s| !s.matched)
                    .map(|s| u64::from(s.group_size))
                    .sum(),
                races_last_hour: views.mm_races_since(now - Duration::hours(1)).await?,
                accounts: self.store.mm_accounts().count().await?,
                season_id: season.season_id,
                season_active: season.is_active,
            },
            motorcity,
            requests: RequestStatus {
                per_second,
                error_rate,
                window_secs: RATE_WINDOW_SECS,
            },
            instances,
        })
    }
}

pub async fn status(d: &Dashboard) -> Result<Resp, WebError> {
    let status = d.status().await?;
    let body = serde_json::to_vec(&status)
        .map_err(|e| WebError::BadRequest(format!("cannot encode the status: {e}")))?;
    let mut response = respond::with_type(StatusCode::OK, "application/json", body);
    // Status pages of other sites may fetch it from the browser.
    response.headers_mut().insert(
        http::header::ACCESS_CONTROL_ALLOW_ORIGIN,
        http::HeaderValue::from_static("*"),
    );
    Ok(response)
}

pub async fn metrics(d: &Dashboard) -> Result<Resp, WebError> {
    let status = d.status().await?;
    let mut out = String::new();
    d.metrics.write_prometheus(&mut out);
    let mut gauge = |name: &str, help: &str, lines: &[(String, String)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for (labels, value) in lines {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    let mut online = vec![(
        "{game=\"mmws\"}".to_string(),
        status.micromachines.online.to_string(),
    )];
    if let Some(mco) = &status.motorcity {
        online.push(("{game=\"mco\"}".into(), mco.online.to_string()));
    }
    gauge(
        "pitlane_players_online",
        "Players online per game (MMWS: live session and recent activity; MCO: live login session).",
        &online,
    );
    let mm = &status.micromachines;
    gauge(
        "pitlane_matchmaking_searching_parties",
        "Micro Machines parties searching for a race now.",
        &[(String::new(), mm.searching_parties.to_string())],
    );
    gauge(
        "pitlane_matchmaking_searching_players",
        "Micro Machines players in those parties.",
        &[(String::new(), mm.searching_players.to_string())],
    );
    gauge(
        "pitlane_races_last_hour",
        "Micro Machines races formed or started in the last hour.",
        &[(String::new(), mm.races_last_hour.to_string())],
    );
    let mut accounts = vec![("{game=\"mmws\"}".to_string(), mm.accounts.to_string())];
    if let Some(mco) = &status.motorcity {
        accounts.push(("{game=\"mco\"}".into(), mco.accounts.to_string()));
    }
    gauge("pitlane_accounts", "Player accounts per game.", &accounts);
    gauge(
        "pitlane_instances_live",
        "Pitlane instances with a recent heartbeat on this database.",
        &[(String::new(), status.instances.live.to_string())],
    );
    gauge(
        "pitlane_uptime_seconds",
        "Seconds since the server started.",
        &[(String::new(), status.uptime_secs.to_string())],
    );
    gauge(
        "pitlane_build_info",
        "Version and database backend.",
        &[(
            format!(
                "{{version=\"{}\",database=\"{}\"}}",
                status.version, status.database
            ),
            "1".into(),
        )],
    );
    Ok(respond::with_type(
        StatusCode::OK,
        "text/plain; version=0.0.4; charset=utf-8",
        out,
    ))
}
