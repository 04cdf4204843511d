//! The load generator: many simulated players at once against one server,
//! with per-operation figures (requests/s, latency percentiles, errors by
//! kind) and the server's peak memory.
//!
//! Two workloads:
//! - players: each simulated Micro Machines player runs the captured call
//!   sequence once (status, login, title, leaderboards, matchmaking polls
//!   until matched, register, points); each simulated Motor City Online
//!   player runs AuthLogin, the login server and the persona server, then
//!   whatever [`McoContinuation`] adds (lobby, MCOTS);
//! - one endpoint (ServerStatus, Login or EnterMatchmaking2) as fast as a
//!   fixed number of workers can drive it, which is what the targets of
//!   `docs/performance.md` are stated in.
//!
//! Every run is bounded in count and time, and only loopback targets are
//! accepted: this tool must never be pointed at somebody else's server.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use motorcity::crypto::PublicLoginKey;
use motorcity::http::AuthLoginResponse;
use motorcity::{CustomerId, PersonaId, ShardId};
use serde::Serialize;

use crate::http::ClientError;
pub use crate::mco::TlsMode;
use crate::mco::{self, McoSimError, PersonaCreation};
use crate::mmws::{MmwsClient, Search, SimError};

/// Steam ids of simulated players start here (the id space of individual
/// accounts); player `i` is `FIRST_STEAM_ID + i` and searches with party
/// lobby `0x0186_0000_0000_0000 | i`, so a race's lobby ids name its
/// players' Steam ids without another call.
pub const FIRST_STEAM_ID: u64 = 76_561_198_200_000_000;

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{0} is not a loopback address: the load generator only targets 127.0.0.0/8 or ::1")]
    NotLoopback(SocketAddr),
    #[error("{0}")]
    Invalid(String),
}

/// Refuses anything but loopback targets.
pub fn check_loopback(addr: SocketAddr) -> Result<(), PlanError> {
    if addr.ip().is_loopback() {
        Ok(())
    } else {
        Err(PlanError::NotLoopback(addr))
    }
}

/// A single endpoint driven in a loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    ServerStatus,
    Login,
    /// With `IgnoreMinimumMatchRequirements` in an unranked race: the
    /// answer comes at once (a race with AI fill is formed and stored), so
    /// the figure is the throughput of the matchmaking path, not of the
    /// hold timer.
    EnterMatchmaking2,
}

impl Endpoint {
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::ServerStatus => "ServerStatus",
            Endpoint::Login => "Login",
            Endpoint::EnterMatchmaking2 => "EnterMatchmaking2",
        }
    }

    pub fn parse(text: &str) -> Option<Endpoint> {
        match text.to_ascii_lowercase().as_str() {
            "serverstatus" | "status" => Some(Endpoint::ServerStatus),
            "login" => Some(Endpoint::Login),
            "entermatchmaking2" | "matchmaking" => Some(Endpoint::EnterMatchmaking2),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Workload {
    Players {
        mmws: usize,
        mco: usize,
        /// Matchmaking answers a player waits through before giving up
        /// (each held up to the server's `hold_secs`).
        max_polls: usize,
    },
    Endpoint(Endpoint),
}

/// Where the simulated Motor City Online players connect.
#[derive(Clone)]
pub struct McoTarget {
    /// AuthLogin: the HTTPS listener (the server refuses AuthLogin over
    /// plain HTTP, as it carries the password).
    pub auth: SocketAddr,
    pub tls: TlsMode,
    pub login: SocketAddr,
    pub persona: SocketAddr,
    /// The server's `pub.key` (in its data directory, `mco/pub.key`).
    pub pub_key: PublicLoginKey,
    /// Player `i` logs in as `{user_prefix}{i}` with `password`; the
    /// accounts must exist (`pitlane mco account add`).
    pub user_prefix: String,
    pub password: String,
    pub shard: ShardId,
}

impl std::fmt::Debug for McoTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McoTarget")
            .field("login", &self.login)
            .field("persona", &self.persona)
            .field("user_prefix", &self.user_prefix)
            .finish_non_exhaustive()
    }
}

/// A logged-in Motor City Online player with a selected persona: what the
/// lobby and MCOTS steps start from.
#[derive(Debug, Clone)]
pub struct McoSession {
    pub index: usize,
    pub customer: CustomerId,
    pub persona: PersonaId,
    pub session_key: motorcity::SessionKey,
}

/// The future a [`McoContinuation`] returns.
pub type StepsFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// The extension point for the MCO steps after persona selection (lobby
/// login, chat, MCOTS session): implement it where those clients live and
/// pass it in [`LoadPlan::mco_continuation`]; time each step with
/// [`Recorder::time`] so it shows up in the report.
pub trait McoContinuation: Send + Sync {
    fn run<'a>(&'a self, session: &'a McoSession, recorder: &'a mut Recorder) -> StepsFuture<'a>;
}

#[derive(Clone)]
pub struct LoadPlan {
    /// The HTTP listener serving both games.
    pub server: SocketAddr,
    pub mco: Option<McoTarget>,
    pub mco_continuation: Option<Arc<dyn McoContinuation>>,
    pub workload: Workload,
    /// Players in flight at once, or workers driving one endpoint.
    pub concurrency: usize,
    /// Endpoint mode: stop after this many requests.
    pub max_requests: Option<u64>,
    /// Stop after this long (players still running are counted as
    /// unfinished).
    pub duration: Duration,
    /// Per request.
    pub timeout: Duration,
    /// Read the server's peak RSS from `/proc/PID/status` at the end.
    pub server_pid: Option<u32>,
    /// Offset added to player numbers, so runs against one database can
    /// use fresh players.
    pub first_player: u64,
}

impl LoadPlan {
    pub fn new(server: SocketAddr, workload: Workload) -> Self {
        Self {
            server,
            mco: None,
            mco_continuation: None,
            workload,
            concurrency: 64,
            max_requests: None,
            duration: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            server_pid: None,
            first_player: 0,
        }
    }

    pub fn validate(&self) -> Result<(), PlanError> {
        check_loopback(self.server)?;
        if let Some(mco) = &self.mco {
            check_loopback(mco.auth)?;
            check_loopback(mco.login)?;
            check_loopback(mco.persona)?;
        }
        if self.concurrency == 0 {
            return Err(PlanError::Invalid("concurrency must be at least 1".into()));
        }
        if let Workload::Players { mco, .. } = self.workload {
            if mco > 0 && self.mco.is_none() {
                return Err(PlanError::Invalid(
                    "MCO players need the login and persona addresses and the pub.key".into(),
                ));
            }
        }
        Ok(())
    }
}

/// Latencies and errors of one operation, as one worker saw them.
#[derive(Debug, Default, Clone)]
struct OpStats {
    micros: Vec<u64>,
    errors: BTreeMap<String, u64>,
}

/// Collects timings; each worker has its own, merged at the end, so the
/// hot path takes no lock.
#[derive(Debug, Default)]
pub struct Recorder {
    ops: BTreeMap<&'static str, OpStats>,
    notes: BTreeMap<&'static str, u64>,
}

impl Recorder {
    /// Times `step` under `operation`; an error is counted by its kind.
    pub async fn time<T, E: ErrorKind>(
        &mut self,
        operation: &'static str,
        step: impl Future<Output = Result<T, E>>,
    ) -> Option<T> {
        let started = Instant::now();
        let outcome = step.await;
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let stats = self.ops.entry(operation).or_default();
        match outcome {
            Ok(value) => {
                stats.micros.push(micros);
                Some(value)
            }
            Err(e) => {
                *stats.errors.entry(e.kind()).or_default() += 1;
                None
            }
        }
    }

    /// Counts something that is not a request (players never matched...).
    pub fn note(&mut self, what: &'static str) {
        *self.notes.entry(what).or_default() += 1;
    }

    fn merge(&mut self, other: Recorder) {
        for (op, stats) in other.ops {
            let mine = self.ops.entry(op).or_default();
            mine.micros.extend(stats.micros);
            for (kind, n) in stats.errors {
                *mine.errors.entry(kind).or_default() += n;
            }
        }
        for (what, n) in other.notes {
            *self.notes.entry(what).or_default() += n;
        }
    }
}

/// A short, stable name for an error, for the "errors by kind" column.
pub trait ErrorKind {
    fn kind(&self) -> String;
}

impl ErrorKind for ClientError {
    fn kind(&self) -> String {
        match self {
            ClientError::Connect(_, e) => format!("connect:{:?}", e.kind()),
            ClientError::Http(e) if e.is_timeout() => "http:timeout".into(),
            ClientError::Http(e) if e.is_incomplete_message() => "http:incomplete".into(),
            ClientError::Http(_) => "http".into(),
            ClientError::Request(_) => "request".into(),
            ClientError::Timeout(_) => "timeout".into(),
            ClientError::Tls(_) => "tls".into(),
        }
    }
}

impl ErrorKind for SimError {
    fn kind(&self) -> String {
        match self {
            SimError::Client(e) => e.kind(),
            SimError::Status { status, .. } => format!("status:{status}"),
            SimError::Shape { .. } => "shape".into(),
        }
    }
}

impl ErrorKind for McoSimError {
    fn kind(&self) -> String {
        match self {
            McoSimError::Http(e) => e.kind(),
            McoSimError::Status { status, .. } => format!("status:{status}"),
            other => {
                // The variant name is the kind ("Timeout { step: .. }").
                let debug = format!("{other:?}");
                debug
                    .split([' ', '(', '{'])
                    .next()
                    .unwrap_or("mco")
                    .to_string()
            }
        }
    }
}

/// A refusal that is an answer, not a transport failure.
#[derive(Debug)]
pub struct Refused(pub &'static str);

impl ErrorKind for Refused {
    fn kind(&self) -> String {
        format!("refused:{}", self.0)
    }
}

/// One operation's figures.
#[derive(Debug, Clone, Serialize)]
pub struct OpReport {
    pub operation: String,
    pub ok: u64,
    pub errors: u64,
    pub requests_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub errors_by_kind: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub workload: String,
    pub concurrency: usize,
    pub elapsed_secs: f64,
    pub operations: Vec<OpReport>,
    /// Counts that are not requests (e.g. players never placed in a race,
    /// players cut off by the time limit).
    pub notes: BTreeMap<String, u64>,
    /// VmHWM of the server process, when its pid was given.
    pub server_peak_rss_kb: Option<u64>,
}

impl Report {
    pub fn total_errors(&self) -> u64 {
        self.operations.iter().map(|o| o.errors).sum()
    }

    pub fn table(&self) -> String {
        let mut out = format!(
            "{} at concurrency {} for {:.1} s\n{:<28} {:>9} {:>7} {:>10} {:>9} {:>9} {:>9}  errors by kind\n",
            self.workload,
            self.concurrency,
            self.elapsed_secs,
            "operation",
            "ok",
            "errors",
            "req/s",
            "p50 ms",
            "p99 ms",
            "max ms"
        );
        for op in &self.operations {
            let kinds: Vec<String> = op
                .errors_by_kind
                .iter()
                .map(|(k, n)| format!("{k}={n}"))
                .collect();
            out.push_str(&format!(
                "{:<28} {:>9} {:>7} {:>10.0} {:>9.2} {:>9.2} {:>9.2}  {}\n",
                op.operation,
                op.ok,
                op.errors,
                op.requests_per_sec,
                op.p50_ms,
                op.p99_ms,
                op.max_ms,
                kinds.join(" ")
            ));
        }
        for (what, n) in &self.notes {
            out.push_str(&format!("{what}: {n}\n"));
        }
        match self.server_peak_rss_kb {
            Some(kb) => out.push_str(&format!(
                "server peak RSS (VmHWM): {:.1} MB\n",
                kb as f64 / 1024.0
            )),
            None => out.push_str("server peak RSS: not measured (no --server-pid)\n"),
        }
        out
    }

    fn build(plan: &LoadPlan, recorder: Recorder, elapsed: Duration) -> Report {
        let secs = elapsed.as_secs_f64().max(1e-9);
        let operations = recorder
            .ops
            .into_iter()
            .map(|(op, mut stats)| {
                stats.micros.sort_unstable();
                let pct = |p: f64| -> f64 {
                    if stats.micros.is_empty() {
                        return 0.0;
                    }
                    let rank = ((p * stats.micros.len() as f64).ceil() as usize)
                        .clamp(1, stats.micros.len());
                    stats.micros[rank - 1] as f64 / 1000.0
                };
                let errors: u64 = stats.errors.values().sum();
                OpReport {
                    operation: op.to_string(),
                    ok: stats.micros.len() as u64,
                    errors,
                    requests_per_sec: (stats.micros.len() as u64 + errors) as f64 / secs,
                    p50_ms: pct(0.50),
                    p99_ms: pct(0.99),
                    max_ms: stats.micros.last().map_or(0.0, |m| *m as f64 / 1000.0),
                    errors_by_kind: stats.errors,
                }
            })
            .collect();
        Report {
            workload: match &plan.workload {
                Workload::Players {
                    mmws,
                    mco,
                    max_polls,
                } => format!("players: {mmws} Micro Machines, {mco} Motor City Online (max {max_polls} polls)"),
                Workload::Endpoint(e) => format!("endpoint {}", e.name()),
            },
            concurrency: plan.concurrency,
            elapsed_secs: elapsed.as_secs_f64(),
            operations,
            notes: recorder
                .notes
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            server_peak_rss_kb: plan.server_pid.and_then(peak_rss_kb),
        }
    }
}

/// VmHWM of a process (Linux), in kB.
pub fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Runs the plan to its end (or its time limit) and reports.
pub async fn run(plan: LoadPlan) -> Result<Report, PlanError> {
    plan.validate()?;
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + plan.duration;
    let recorder = match plan.workload.clone() {
        Workload::Players {
            mmws,
            mco,
            max_polls,
        } => run_players(&plan, mmws, mco, max_polls, deadline).await,
        Workload::Endpoint(endpoint) => run_endpoint(&plan, endpoint, deadline).await,
    };
    Ok(Report::build(&plan, recorder, started.elapsed()))
}

fn mmws_client(plan: &LoadPlan) -> MmwsClient {
    let mut client = MmwsClient::new(plan.server);
    client.timeout = plan.timeout;
    client
}

async fn run_players(
    plan: &LoadPlan,
    mmws: usize,
    mco: usize,
    max_polls: usize,
    deadline: tokio::time::Instant,
) -> Recorder {
    let gate = Arc::new(tokio::sync::Semaphore::new(plan.concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    let client = mmws_client(plan);
    for i in 0..mmws {
        let client = client.clone();
        let gate = gate.clone();
        let n = plan.first_player + i as u64;
        tasks.spawn(async move {
            let mut rec = Recorder::default();
            let Ok(_permit) = gate.acquire_owned().await else {
                return rec;
            };
            let run = mmws_player(&client, n, max_polls, &mut rec);
            if tokio::time::timeout_at(deadline, run).await.is_err() {
                rec.note("players cut off by the time limit");
            }
            rec
        });
    }
    if let Some(target) = plan.mco.clone() {
        for i in 0..mco {
            let target = target.clone();
            let gate = gate.clone();
            let next = plan.mco_continuation.clone();
            let n = plan.first_player as usize + i;
            tasks.spawn(async move {
                let mut rec = Recorder::default();
                let Ok(_permit) = gate.acquire_owned().await else {
                    return rec;
                };
                let run = mco_player(&target, next.as_deref(), n, &mut rec);
                if tokio::time::timeout_at(deadline, run).await.is_err() {
                    rec.note("players cut off by the time limit");
                }
                rec
            });
        }
    }
    let mut all = Recorder::default();
    while let Some(done) = tasks.join_next().await {
        if let Ok(rec) = done {
            all.merge(rec);
        }
    }
    all
}

/// The captured session of one Micro Machines player.
async fn mmws_player(client: &MmwsClient, n: u64, max_polls: usize, rec: &mut Recorder) {
    let steam_id = FIRST_STEAM_ID + n;
    rec.time("ServerStatus", async {
        ok_status(client.server_status().await)
    })
    .await;
    let Some(login) = rec
        .time("Login", client.login(steam_id, &format!("Load{n}")))
        .await
    else {
        return;
    };
    let token = login.token;
    rec.time("UpdateAccountTitle", async {
        ok_status(
            client
                .update_title(&token, "lng_player_title_default")
                .await,
        )
    })
    .await;
    rec.time("GetElite", client.get_elite(&token, 1, 10)).await;
    rec.time("GetEliteRank", client.get_elite_rank(&token, 10))
        .await;
    let friends = [FIRST_STEAM_ID + n + 1, FIRST_STEAM_ID + n + 2];
    rec.time("GetFriends", client.get_friends(&token, &friends, 100))
        .await;

    let mut search = Search::new(n, "RankedRace", "Race", "Ranked");
    let searching = Instant::now();
    let mut placed = None;
    for _ in 0..max_polls {
        match rec
            .time(
                "EnterMatchmaking2",
                client.enter_matchmaking(&token, &search),
            )
            .await
        {
            Some(outcome) if outcome.is_match() => {
                placed = Some(outcome);
                break;
            }
            Some(_) => search.game_lobby_id += 0x1_0000,
            None => return,
        }
    }
    let Some(race) = placed else {
        rec.note("players never placed in a race");
        return;
    };
    let steam_ids: Vec<u64> = race
        .groups
        .iter()
        .map(|g| FIRST_STEAM_ID + (g.group_lobby_id & 0x0000_FFFF_FFFF_FFFF))
        .collect();
    let waited = searching.elapsed().as_secs() as i64;
    let registered = rec
        .time("RegisterActiveGame", async {
            ok_status(
                client
                    .register_game(&token, &race.race_key, &steam_ids, waited)
                    .await,
            )
        })
        .await;
    if registered.is_none() {
        return;
    }
    rec.time(
        "AddPoints",
        client.add_points(&token, &race.race_key, 10 + (n % 20) as i64),
    )
    .await;
}

fn ok_status(r: Result<crate::http::HttpResponse, ClientError>) -> Result<(), LoadStepError> {
    let r = r.map_err(LoadStepError::Client)?;
    if r.status.is_success() {
        Ok(())
    } else {
        // Reported as a status kind, like the typed calls do.
        Err(LoadStepError::Status(r.status.as_u16()))
    }
}

/// One Motor City Online player from AuthLogin to a selected persona.
async fn mco_player(
    target: &McoTarget,
    next: Option<&dyn McoContinuation>,
    n: usize,
    rec: &mut Recorder,
) {
    let user = format!("{}{n}", target.user_prefix);
    let Some(answer) = rec
        .time(
            "MCO AuthLogin",
            mco::auth_login(target.auth, target.tls.clone(), &user, &target.password),
        )
        .await
    else {
        return;
    };
    let AuthLoginResponse::Valid { ticket } = answer else {
        rec.note("MCO AuthLogin refused (does the account exist?)");
        return;
    };
    let session_key = motorcity::SessionKey::generate();
    let Some(customer) = rec
        .time(
            "MCO login (0x501)",
            mco::login_with_key(target.login, &target.pub_key, &ticket, &session_key),
        )
        .await
    else {
        return;
    };
    let Some(mut personas) = rec
        .time(
            "MCO personas (0x532)",
            mco::list_personas(target.persona, customer),
        )
        .await
    else {
        return;
    };
    if personas.is_empty() {
        let name = format!("Loader{n}");
        let created = rec
            .time("MCO persona create (0x507)", async {
                match mco::create_persona(target.persona, customer, target.shard, &name).await {
                    Ok(PersonaCreation::Created) => Ok(()),
                    Ok(_) => Err(LoadStepError::Refused("persona create")),
                    Err(e) => Err(LoadStepError::Mco(e)),
                }
            })
            .await;
        if created.is_none() {
            return;
        }
        match rec
            .time(
                "MCO personas (0x532)",
                mco::list_personas(target.persona, customer),
            )
            .await
        {
            Some(list) => personas = list,
            None => return,
        }
    }
    let Some(persona) = personas.first().cloned() else {
        rec.note("MCO players without a persona");
        return;
    };
    let selected = rec
        .time(
            "MCO persona select (0x503)",
            mco::select_persona(target.persona, customer, persona.id, persona.shard),
        )
        .await;
    if selected.is_none() {
        return;
    }
    if let Some(next) = next {
        let session = McoSession {
            index: n,
            customer,
            persona: persona.id,
            session_key,
        };
        next.run(&session, rec).await;
    }
}

#[derive(Debug)]
enum LoadStepError {
    Client(ClientError),
    Status(u16),
    Mco(McoSimError),
    Refused(&'static str),
}

impl ErrorKind for LoadStepError {
    fn kind(&self) -> String {
        match self {
            LoadStepError::Client(e) => e.kind(),
            LoadStepError::Status(status) => format!("status:{status}"),
            LoadStepError::Mco(e) => e.kind(),
            LoadStepError::Refused(what) => Refused(what).kind(),
        }
    }
}

async fn run_endpoint(
    plan: &LoadPlan,
    endpoint: Endpoint,
    deadline: tokio::time::Instant,
) -> Recorder {
    let client = mmws_client(plan);
    let issued = Arc::new(AtomicU64::new(0));
    let limit = plan.max_requests.unwrap_or(u64::MAX);
    let parties = Arc::new(AtomicU64::new(plan.first_player));
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..plan.concurrency {
        let client = client.clone();
        let issued = issued.clone();
        let parties = parties.clone();
        let first = plan.first_player;
        tasks.spawn(async move {
            let mut rec = Recorder::default();
            // Matchmaking needs a session: one login per worker, timed
            // apart from the measured operation.
            let token = if endpoint == Endpoint::EnterMatchmaking2 {
                let steam_id = FIRST_STEAM_ID + first + worker as u64;
                match rec
                    .time(
                        "Login (setup)",
                        client.login(steam_id, &format!("Load{worker}")),
                    )
                    .await
                {
                    Some(login) => login.token,
                    None => return rec,
                }
            } else {
                String::new()
            };
            let mut round = 0u64;
            while tokio::time::Instant::now() < deadline
                && issued.fetch_add(1, Ordering::Relaxed) < limit
            {
                let work = async {
                    match endpoint {
                        Endpoint::ServerStatus => {
                            rec.time("ServerStatus", async {
                                ok_status(client.server_status().await)
                            })
                            .await;
                        }
                        Endpoint::Login => {
                            let steam_id =
                                FIRST_STEAM_ID + first + (worker as u64) * 1_000_000 + round % 1000;
                            rec.time("Login", client.login(steam_id, "Load")).await;
                        }
                        Endpoint::EnterMatchmaking2 => {
                            let party = parties.fetch_add(1, Ordering::Relaxed);
                            let mut search = Search::new(party, "UnrankedRace", "Race", "Unranked");
                            search.start_now = true;
                            rec.time(
                                "EnterMatchmaking2",
                                client.enter_matchmaking(&token, &search),
                            )
                            .await;
                        }
                    }
                };
                if tokio::time::timeout_at(deadline, work).await.is_err() {
                    break;
                }
                round += 1;
            }
            rec
        });
    }
    let mut all = Recorder::default();
    while let Some(done) = tasks.join_next().await {
        if let Ok(rec) = done {
            all.merge(rec);
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_targets() {
        assert!(check_loopback("127.0.0.1:80".parse().unwrap()).is_ok());
        assert!(check_loopback("127.8.9.1:80".parse().unwrap()).is_ok());
        assert!(check_loopback("[::1]:80".parse().unwrap()).is_ok());
        assert!(check_loopback("10.0.0.1:80".parse().unwrap()).is_err());
        assert!(check_loopback("0.0.0.0:80".parse().unwrap()).is_err());
        assert!(check_loopback("[::]:80".parse().unwrap()).is_err());
    }

    #[test]
    fn percentiles_and_rates() {
        let mut rec = Recorder::default();
        let stats = rec.ops.entry("x").or_default();
        stats.micros = (1..=100).map(|ms| ms * 1000).collect();
        stats.errors.insert("timeout".into(), 2);
        let plan = LoadPlan::new(
            "127.0.0.1:1".parse().unwrap(),
            Workload::Endpoint(Endpoint::Login),
        );
        let report = Report::build(&plan, rec, Duration::from_secs(2));
        let op = &report.operations[0];
        assert_eq!((op.ok, op.errors), (100, 2));
        assert_eq!(op.p50_ms, 50.0);
        assert_eq!(op.p99_ms, 99.0);
        assert_eq!(op.max_ms, 100.0);
        assert_eq!(op.requests_per_sec, 51.0);
        assert!(report.table().contains("timeout=2"));
    }
}
