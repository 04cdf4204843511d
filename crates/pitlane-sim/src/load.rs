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
    /// `players` Micro Machines players log in, then each keeps one
    /// EnterMatchmaking2 poll open on its own connection, again and again,
    /// in a queue of its own (a distinct `NetworkVersion`), so the server
    /// holds every poll for its full hold time: the "held polls" target.
    HeldPolls {
        players: usize,
    },
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
    /// With `Some(k)`, player `i` is account `i mod k`: returning players
    /// logging in again, as the game does at every launch, instead of
    /// `i` first logins.
    pub accounts: Option<usize>,
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
    pub persona_name: String,
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
    /// VmRSS of the server process at the end of the run (what it holds
    /// with the run's connections still open, apart from earlier peaks).
    pub server_rss_at_end_kb: Option<u64>,
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
                "server peak RSS (VmHWM): {:.1} MB; RSS at the end (VmRSS): {:.1} MB\n",
                kb as f64 / 1024.0,
                self.server_rss_at_end_kb.unwrap_or(0) as f64 / 1024.0
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
                Workload::HeldPolls { players } => format!("{players} held matchmaking polls"),
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
            server_rss_at_end_kb: plan.server_pid.and_then(|pid| proc_status_kb(pid, "VmRSS:")),
        }
    }
}

/// VmHWM of a process (Linux), in kB.
pub fn peak_rss_kb(pid: u32) -> Option<u64> {
    proc_status_kb(pid, "VmHWM:")
}

/// One `kB` field of `/proc/PID/status`.
pub fn proc_status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
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
        Workload::HeldPolls { players } => run_held_polls(&plan, players, deadline).await,
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
            let n = plan.first_player as usize + target.accounts.map_or(i, |k| i % k.max(1));
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
            persona_name: persona.name.clone(),
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

/// A request line, the headers the game's Unity client sends, and the
/// body, as bytes built once: the generator's own CPU goes to sending, not
/// to building requests (it shares the machine with the server).
pub fn raw_request(method: &str, path: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: UnityPlayer/5.4.5p1 (http://unity3d.com)\r\nAccept: */*\r\nAccept-Encoding: identity\r\nX-Unity-Version: 5.4.5p1\r\n",
        crate::mmws::MMCOS_HOST
    );
    if method == "POST" {
        out.push_str(&format!(
            "Content-Length: {}\r\ncontent-type: application/xml\r\n",
            body.len()
        ));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Why an exchange on a [`KeepAlive`] connection failed.
#[derive(Debug, thiserror::Error)]
pub enum RawError {
    #[error("cannot connect: {0}")]
    Connect(std::io::Error),
    #[error("{0}")]
    Io(std::io::Error),
    #[error("the server closed the connection before answering")]
    Closed,
    #[error("the answer is not HTTP/1.1 with a Content-Length")]
    Malformed,
    #[error("no answer in time")]
    Timeout,
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("the answer lacks {0}")]
    Shape(&'static str),
}

impl ErrorKind for RawError {
    fn kind(&self) -> String {
        match self {
            RawError::Connect(e) => format!("connect:{:?}", e.kind()),
            RawError::Io(e) => format!("io:{:?}", e.kind()),
            RawError::Closed => "closed".into(),
            RawError::Malformed => "malformed".into(),
            RawError::Timeout => "timeout".into(),
            RawError::Status(s) => format!("status:{s}"),
            RawError::Shape(what) => format!("shape:{what}"),
        }
    }
}

/// One keep-alive HTTP/1.1 connection, as a game client holds it: requests
/// go out as prepared bytes, answers are read by `Content-Length` with no
/// further parsing. A connection the server closed is reopened once.
#[derive(Debug)]
pub struct KeepAlive {
    addr: SocketAddr,
    stream: Option<tokio::net::TcpStream>,
    buf: Vec<u8>,
    /// The body of the last answer.
    pub body: Vec<u8>,
}

impl KeepAlive {
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            stream: None,
            buf: Vec::with_capacity(4096),
            body: Vec::new(),
        }
    }

    /// Sends `request` and reads the answer; returns its status (the body
    /// is in [`KeepAlive::body`]). Any status is returned, not an error.
    pub async fn exchange(&mut self, request: &[u8], timeout: Duration) -> Result<u16, RawError> {
        match tokio::time::timeout(timeout, self.exchange_retrying(request)).await {
            Ok(result) => {
                if result.is_err() {
                    self.stream = None;
                }
                result
            }
            Err(_) => {
                self.stream = None;
                Err(RawError::Timeout)
            }
        }
    }

    /// A 2xx answer, or its status as the error.
    pub async fn ok(&mut self, request: &[u8], timeout: Duration) -> Result<(), RawError> {
        match self.exchange(request, timeout).await? {
            200..=299 => Ok(()),
            status => Err(RawError::Status(status)),
        }
    }

    async fn exchange_retrying(&mut self, request: &[u8]) -> Result<u16, RawError> {
        let reused = self.stream.is_some();
        match self.exchange_once(request).await {
            // A kept-alive connection the server has closed meanwhile:
            // what every HTTP client retries on a fresh connection.
            Err(RawError::Closed | RawError::Io(_)) if reused => {
                self.stream = None;
                self.exchange_once(request).await
            }
            other => other,
        }
    }

    async fn exchange_once(&mut self, request: &[u8]) -> Result<u16, RawError> {
        use tokio::io::AsyncWriteExt;
        if self.stream.is_none() {
            let stream = tokio::net::TcpStream::connect(self.addr)
                .await
                .map_err(RawError::Connect)?;
            let _ = stream.set_nodelay(true);
            self.stream = Some(stream);
        }
        let stream = self.stream.as_mut().ok_or(RawError::Closed)?;
        stream.write_all(request).await.map_err(RawError::Io)?;
        self.buf.clear();
        let head_end = loop {
            if let Some(at) = find(&self.buf, b"\r\n\r\n") {
                break at + 4;
            }
            if self.buf.len() > 64 * 1024 {
                return Err(RawError::Malformed);
            }
            if read_some(stream, &mut self.buf).await? == 0 {
                return Err(RawError::Closed);
            }
        };
        let head = std::str::from_utf8(&self.buf[..head_end]).map_err(|_| RawError::Malformed)?;
        let status: u16 = head
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .ok_or(RawError::Malformed)?;
        let mut length = None;
        let mut close = false;
        for line in head.split("\r\n").skip(1) {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse::<usize>().ok();
            } else if name.eq_ignore_ascii_case("connection") && value.eq_ignore_ascii_case("close")
            {
                close = true;
            }
        }
        let length = length.ok_or(RawError::Malformed)?;
        while self.buf.len() < head_end + length {
            if read_some(stream, &mut self.buf).await? == 0 {
                return Err(RawError::Closed);
            }
        }
        self.body.clear();
        self.body
            .extend_from_slice(&self.buf[head_end..head_end + length]);
        if close {
            self.stream = None;
        }
        Ok(status)
    }
}

async fn read_some(
    stream: &mut tokio::net::TcpStream,
    buf: &mut Vec<u8>,
) -> Result<usize, RawError> {
    use tokio::io::AsyncReadExt;
    buf.reserve(8192);
    stream.read_buf(buf).await.map_err(RawError::Io)
}

/// A Login answer is 58 KB with the token near its end: a byte-by-byte
/// search took most of the generator's CPU, which the server shares.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

/// The text of `<name>` in an XML answer, found without parsing.
pub fn element_text<'a>(body: &'a [u8], name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = find(body, open.as_bytes())? + open.len();
    let len = find(&body[start..], close.as_bytes())?;
    std::str::from_utf8(&body[start..start + len]).ok()
}

/// The paths of the requests the generator prepares itself.
fn mmcos_path(path: &str) -> String {
    format!("/MMCOS{path}")
}

fn login_request(steam_id: u64, name: &str) -> Vec<u8> {
    raw_request(
        "POST",
        &mmcos_path(crate::mmws::LOGIN_PATH),
        crate::mmws::login_body(steam_id, name, 45).as_bytes(),
    )
}

/// Logs in on a keep-alive connection; the session token.
async fn raw_login(
    conn: &mut KeepAlive,
    request: &[u8],
    timeout: Duration,
) -> Result<String, RawError> {
    conn.ok(request, timeout).await?;
    element_text(&conn.body, "SessionToken")
        .map(str::to_string)
        .ok_or(RawError::Shape("SessionToken"))
}

fn matchmaking_request(token: &str, search: &Search, network_version: Option<u64>) -> Vec<u8> {
    let mut body = search.body(token);
    if let Some(version) = network_version {
        body = body.replace(
            "<NetworkVersion>1</NetworkVersion>",
            &format!("<NetworkVersion>{version}</NetworkVersion>"),
        );
    }
    raw_request(
        "POST",
        &mmcos_path(crate::mmws::ENTER_MATCHMAKING_PATH),
        body.as_bytes(),
    )
}

/// Accounts each endpoint worker logs in as, in turn: the steady state of
/// a server is returning players (a first login also creates the account).
const LOGIN_ACCOUNTS_PER_WORKER: u64 = 16;

async fn run_endpoint(
    plan: &LoadPlan,
    endpoint: Endpoint,
    deadline: tokio::time::Instant,
) -> Recorder {
    let issued = Arc::new(AtomicU64::new(0));
    let limit = plan.max_requests.unwrap_or(u64::MAX);
    let parties = Arc::new(AtomicU64::new(plan.first_player));
    let status_request: Arc<[u8]> =
        raw_request("GET", &mmcos_path(crate::mmws::STATUS_PATH), b"").into();
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..plan.concurrency {
        let issued = issued.clone();
        let parties = parties.clone();
        let status_request = status_request.clone();
        let first = plan.first_player;
        let (addr, timeout) = (plan.server, plan.timeout);
        tasks.spawn(async move {
            let mut rec = Recorder::default();
            let mut conn = KeepAlive::new(addr);
            let logins: Vec<Vec<u8>> = if endpoint == Endpoint::Login {
                (0..LOGIN_ACCOUNTS_PER_WORKER)
                    .map(|i| {
                        let steam_id = FIRST_STEAM_ID + first + (worker as u64) * 1_000_000 + i;
                        login_request(steam_id, &format!("Load{worker}_{i}"))
                    })
                    .collect()
            } else {
                Vec::new()
            };
            // Matchmaking needs a session: one login per worker, timed
            // apart from the measured operation.
            let token = if endpoint == Endpoint::EnterMatchmaking2 {
                let steam_id = FIRST_STEAM_ID + first + worker as u64;
                let request = login_request(steam_id, &format!("Load{worker}"));
                match rec
                    .time("Login (setup)", raw_login(&mut conn, &request, timeout))
                    .await
                {
                    Some(token) => token,
                    None => return rec,
                }
            } else {
                String::new()
            };
            let mut round = 0usize;
            while tokio::time::Instant::now() < deadline
                && issued.fetch_add(1, Ordering::Relaxed) < limit
            {
                let work = async {
                    match endpoint {
                        Endpoint::ServerStatus => {
                            rec.time("ServerStatus", conn.ok(&status_request, timeout))
                                .await;
                        }
                        Endpoint::Login => {
                            let request = &logins[round % logins.len()];
                            rec.time("Login", raw_login(&mut conn, request, timeout))
                                .await;
                        }
                        Endpoint::EnterMatchmaking2 => {
                            let party = parties.fetch_add(1, Ordering::Relaxed);
                            let mut search = Search::new(party, "UnrankedRace", "Race", "Unranked");
                            search.start_now = true;
                            let request = matchmaking_request(&token, &search, None);
                            rec.time("EnterMatchmaking2", async {
                                conn.ok(&request, timeout).await?;
                                element_text(&conn.body, "RaceKey")
                                    .map(|_| ())
                                    .ok_or(RawError::Shape("RaceKey"))
                            })
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

/// Every player logs in (`plan.concurrency` at a time), then all of them
/// poll at once, each in its own queue, until the time is up. A poll cut
/// off by the end of the run is not an error: the server was still
/// holding it, which is the point.
async fn run_held_polls(
    plan: &LoadPlan,
    players: usize,
    deadline: tokio::time::Instant,
) -> Recorder {
    let mut all = Recorder::default();
    let gate = Arc::new(tokio::sync::Semaphore::new(plan.concurrency));
    let in_flight = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let peak = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (addr, timeout, first) = (plan.server, plan.timeout, plan.first_player);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..players {
        let gate = gate.clone();
        let in_flight = in_flight.clone();
        let peak = peak.clone();
        tasks.spawn(async move {
            let mut rec = Recorder::default();
            let mut conn = KeepAlive::new(addr);
            let n = first + i as u64;
            let token = {
                let Ok(_permit) = gate.acquire().await else {
                    return rec;
                };
                let request = login_request(FIRST_STEAM_ID + n, &format!("Held{n}"));
                match rec
                    .time("Login (setup)", raw_login(&mut conn, &request, timeout))
                    .await
                {
                    Some(token) => token,
                    None => return rec,
                }
            };
            let search = Search::new(n, "RankedRace", "Race", "Ranked");
            // A queue of its own: nobody else has this client version.
            let request = matchmaking_request(&token, &search, Some(1_000_000 + n));
            loop {
                let poll = async {
                    let now = in_flight.fetch_add(1, Ordering::Relaxed) + 1;
                    peak.fetch_max(now, Ordering::Relaxed);
                    let answer = conn.ok(&request, timeout).await;
                    in_flight.fetch_sub(1, Ordering::Relaxed);
                    answer
                };
                let started = Instant::now();
                match tokio::time::timeout_at(deadline, poll).await {
                    Err(_) => {
                        in_flight.fetch_sub(1, Ordering::Relaxed);
                        rec.note("polls still held at the end");
                        break;
                    }
                    Ok(outcome) => {
                        let micros =
                            u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                        let stats = rec.ops.entry("EnterMatchmaking2 (held)").or_default();
                        match outcome {
                            Ok(()) => stats.micros.push(micros),
                            Err(e) => {
                                *stats.errors.entry(e.kind()).or_default() += 1;
                                break;
                            }
                        }
                    }
                }
            }
            rec
        });
    }
    while let Some(done) = tasks.join_next().await {
        if let Ok(rec) = done {
            all.merge(rec);
        }
    }
    *all.notes.entry("peak polls open at once").or_default() += peak.load(Ordering::Relaxed) as u64;
    all
}

/// The Motor City Online steps after persona selection: lobby login
/// (0x100 with the session key), channel list, join, then an MCOTS
/// session (connect, MC_LOGIN). With `hold_lobby_until`, the lobby
/// connection is then kept open, idle, until that instant: the "idle
/// lobby connections" target.
pub struct LobbyAndMcots {
    pub lobby: SocketAddr,
    pub mcots: SocketAddr,
    pub hold_lobby_until: Option<tokio::time::Instant>,
    /// Lobby connections each player opens and holds (the first one also
    /// lists and joins a channel), so thousands of idle connections need
    /// not cost thousands of AuthLogin password checks.
    pub lobby_connections: usize,
    /// The server's pid: its RSS is read each time a player's connections
    /// are all held, so the report shows what the idle connections cost
    /// apart from the peak of the logins before.
    pub server_pid: Option<u32>,
    rss_while_held_kb: AtomicU64,
    held: std::sync::atomic::AtomicUsize,
    peak_held: std::sync::atomic::AtomicUsize,
}

impl LobbyAndMcots {
    pub fn new(lobby: SocketAddr, mcots: SocketAddr) -> Self {
        Self {
            lobby,
            mcots,
            hold_lobby_until: None,
            lobby_connections: 1,
            server_pid: None,
            rss_while_held_kb: AtomicU64::new(0),
            held: Default::default(),
            peak_held: Default::default(),
        }
    }

    /// Most lobby connections held open at once so far.
    pub fn peak_held(&self) -> usize {
        self.peak_held.load(Ordering::Relaxed)
    }

    /// The server's largest RSS read while connections were held, in kB.
    pub fn rss_while_held_kb(&self) -> u64 {
        self.rss_while_held_kb.load(Ordering::Relaxed)
    }
}

impl McoContinuation for LobbyAndMcots {
    fn run<'a>(&'a self, session: &'a McoSession, rec: &'a mut Recorder) -> StepsFuture<'a> {
        Box::pin(async move {
            let name = session.persona_name.as_str();
            let Some(mut lobby) = rec
                .time(
                    "MCO lobby login (0x100)",
                    mco::LobbyClient::login(
                        self.lobby,
                        &session.session_key,
                        session.customer,
                        session.persona,
                        name,
                    ),
                )
                .await
            else {
                return;
            };
            let Some(channels) = rec.time("MCO lobby channels", lobby.channels()).await else {
                return;
            };
            if let Some(first) = channels.first() {
                let id = first.id;
                let joined = rec
                    .time("MCO lobby join", async {
                        match lobby.join(id).await {
                            Ok(true) => Ok(()),
                            Ok(false) => Err(LoadStepError::Refused("lobby join")),
                            Err(e) => Err(LoadStepError::Mco(e)),
                        }
                    })
                    .await;
                if joined.is_none() {
                    return;
                }
            }
            let mcots = rec
                .time("MCOTS connect + login", async {
                    let mut c = mco::McotsClient::connect(
                        self.mcots,
                        &session.session_key,
                        session.customer,
                        session.persona,
                        name,
                    )
                    .await
                    .map_err(LoadStepError::Mco)?;
                    let login = motorcity::mcots::messages::McLogin {
                        customer_id: session.customer.0,
                        persona_id: session.persona.0,
                        lot_owner_id: 0,
                        branded_part_id: 0,
                        skin_id: 0,
                        persona_name: name.to_string(),
                        mc_version: 6001,
                    };
                    c.ask(login.to_bytes(), 1)
                        .await
                        .map_err(LoadStepError::Mco)?;
                    Ok::<_, LoadStepError>(c)
                })
                .await;
            drop(mcots);
            let Some(until) = self.hold_lobby_until else {
                return;
            };
            let mut open = vec![lobby];
            for _ in 1..self.lobby_connections.max(1) {
                let more = rec
                    .time(
                        "MCO lobby login (0x100)",
                        mco::LobbyClient::login(
                            self.lobby,
                            &session.session_key,
                            session.customer,
                            session.persona,
                            name,
                        ),
                    )
                    .await;
                match more {
                    Some(c) => open.push(c),
                    None => break,
                }
            }
            let now = self.held.fetch_add(open.len(), Ordering::Relaxed) + open.len();
            self.peak_held.fetch_max(now, Ordering::Relaxed);
            if let Some(kb) = self
                .server_pid
                .and_then(|pid| proc_status_kb(pid, "VmRSS:"))
            {
                self.rss_while_held_kb.fetch_max(kb, Ordering::Relaxed);
            }
            tokio::time::sleep_until(until).await;
            self.held.fetch_sub(open.len(), Ordering::Relaxed);
            drop(open);
        })
    }
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
