//! `pitlane-load`: drives simulated players or one endpoint against a
//! Pitlane server on this machine and prints per-operation figures.
//!
//! ```text
//! cargo run -p pitlane-sim --release --bin pitlane-load -- \
//!     --server 127.0.0.1:8080 --endpoint ServerStatus --concurrency 64 --seconds 10
//! cargo run -p pitlane-sim --release --bin pitlane-load -- \
//!     --server 127.0.0.1:8080 --mmws-players 1200 --server-pid $PID --json out.json
//! cargo run -p pitlane-sim --release --bin pitlane-load -- \
//!     --server 127.0.0.1:8080 --held-polls 10000 --concurrency 256 --seconds 40 --server-pid $PID
//! ```
//!
//! Endpoint and held-poll modes keep one HTTP/1.1 connection per worker
//! alive, as the game does, and send requests prepared once.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use pitlane_sim::load::{self, Endpoint, LoadPlan, McoTarget, Workload};

#[derive(Debug, Parser)]
#[command(
    name = "pitlane-load",
    about = "Load generator for a Pitlane server on loopback"
)]
struct Args {
    /// The server's HTTP listener (both games); loopback only.
    #[arg(long)]
    server: SocketAddr,
    /// Drive one endpoint instead of whole players: ServerStatus, Login or
    /// EnterMatchmaking2.
    #[arg(long)]
    endpoint: Option<String>,
    /// Log in this many players, then keep one matchmaking poll per player
    /// held by the server until --seconds is up (each in a queue of its own).
    #[arg(long)]
    held_polls: Option<usize>,
    /// Simulated Micro Machines players (each runs the captured sequence once).
    #[arg(long, default_value_t = 0)]
    mmws_players: usize,
    /// Simulated Motor City Online players (needs --mco-https, --ca, --mco-login, --mco-persona, --mco-pub-key).
    #[arg(long, default_value_t = 0)]
    mco_players: usize,
    /// Matchmaking answers a player waits through before giving up.
    #[arg(long, default_value_t = 4)]
    max_polls: usize,
    /// Players in flight at once / workers on the endpoint.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Endpoint mode: stop after this many requests.
    #[arg(long)]
    requests: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 60.0)]
    timeout: f64,
    /// The server's process id, for its peak RSS.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Offset for player numbers (fresh players against an existing database).
    #[arg(long, default_value_t = 0)]
    first_player: u64,
    /// The HTTPS listener, for MCO AuthLogin.
    #[arg(long)]
    mco_https: Option<SocketAddr>,
    /// The server's CA certificate (`<data dir>/certs/ca.pem`), trusted for AuthLogin.
    #[arg(long)]
    ca: Option<PathBuf>,
    /// TLS server name for AuthLogin.
    #[arg(long, default_value = "localhost")]
    mco_server_name: String,
    #[arg(long)]
    mco_login: Option<SocketAddr>,
    #[arg(long)]
    mco_persona: Option<SocketAddr>,
    /// The MCO lobby listener: MCO players continue to the lobby and MCOTS.
    #[arg(long)]
    mco_lobby: Option<SocketAddr>,
    /// The MCOTS listener (with --mco-lobby).
    #[arg(long)]
    mco_mcots: Option<SocketAddr>,
    /// Keep each MCO player's lobby connections open, idle, until the end.
    #[arg(long)]
    hold_lobby: bool,
    /// Lobby connections each MCO player opens (with --hold-lobby).
    #[arg(long, default_value_t = 1)]
    lobby_connections: usize,
    /// The server's `mco/pub.key`.
    #[arg(long)]
    mco_pub_key: Option<PathBuf>,
    /// MCO player i logs in as PREFIX{i}.
    #[arg(long, default_value = "load")]
    mco_user_prefix: String,
    #[arg(long, default_value = "loadpass")]
    mco_password: String,
    /// MCO player i logs in as account i mod K: K returning players logging
    /// in again and again (default: every player is an account of its own).
    #[arg(long)]
    mco_accounts: Option<usize>,
    /// Write the report as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("pitlane-load: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Args) -> Result<ExitCode, String> {
    let workload = match (&args.endpoint, args.held_polls) {
        (Some(_), Some(_)) => return Err("--endpoint and --held-polls exclude each other".into()),
        (Some(name), None) => Workload::Endpoint(
            Endpoint::parse(name).ok_or_else(|| format!("unknown endpoint {name}"))?,
        ),
        (None, Some(players)) => Workload::HeldPolls { players },
        (None, None) => Workload::Players {
            mmws: args.mmws_players,
            mco: args.mco_players,
            max_polls: args.max_polls,
        },
    };
    let mut plan = LoadPlan::new(args.server, workload);
    plan.concurrency = args.concurrency;
    plan.max_requests = args.requests;
    plan.duration = Duration::from_secs_f64(args.seconds);
    plan.timeout = Duration::from_secs_f64(args.timeout);
    plan.server_pid = args.server_pid;
    plan.first_player = args.first_player;
    if let (Some(auth), Some(ca), Some(login), Some(persona), Some(key)) = (
        args.mco_https,
        &args.ca,
        args.mco_login,
        args.mco_persona,
        &args.mco_pub_key,
    ) {
        let trusting =
            pitlane_sim::tls::TrustingClient::from_ca_pem_file(ca).map_err(|e| e.to_string())?;
        let text = std::fs::read_to_string(key).map_err(|e| format!("{}: {e}", key.display()))?;
        let pub_key = motorcity::crypto::PublicLoginKey::from_pub_key_file(text.trim())
            .map_err(|e| format!("{}: {e}", key.display()))?;
        plan.mco = Some(McoTarget {
            auth,
            tls: load::TlsMode::Tls {
                server_name: args.mco_server_name.clone(),
                connector: std::sync::Arc::new(trusting),
            },
            login,
            persona,
            pub_key,
            user_prefix: args.mco_user_prefix.clone(),
            password: args.mco_password.clone(),
            shard: motorcity::ShardId(44),
            accounts: args.mco_accounts,
        });
    }
    plan.validate().map_err(|e| e.to_string())?;
    // Two worker threads: the generator shares the machine with the
    // server, and more threads than cores only add switching.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let _entered = runtime.enter();
    let continuation = match (args.mco_lobby, args.mco_mcots) {
        (Some(lobby), Some(mcots)) => {
            load::check_loopback(lobby).map_err(|e| e.to_string())?;
            load::check_loopback(mcots).map_err(|e| e.to_string())?;
            let mut steps = load::LobbyAndMcots::new(lobby, mcots);
            if args.hold_lobby {
                // Let go a moment before the end, so held connections are
                // not counted as players cut off by the time limit.
                let hold = plan.duration.saturating_sub(Duration::from_millis(500));
                steps.hold_lobby_until = Some(tokio::time::Instant::now() + hold);
                steps.lobby_connections = args.lobby_connections;
                steps.server_pid = args.server_pid;
            }
            let steps = std::sync::Arc::new(steps);
            plan.mco_continuation = Some(steps.clone());
            Some(steps)
        }
        (None, None) => None,
        _ => return Err("--mco-lobby and --mco-mcots go together".into()),
    };
    let mut report = runtime
        .block_on(load::run(plan))
        .map_err(|e| e.to_string())?;
    if let Some(steps) = continuation.filter(|_| args.hold_lobby) {
        report.notes.insert(
            "peak lobby connections held at once".into(),
            steps.peak_held() as u64,
        );
        if args.server_pid.is_some() {
            report.notes.insert(
                "server RSS while they were held (kB)".into(),
                steps.rss_while_held_kb(),
            );
        }
    }
    print!("{}", report.table());
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        std::fs::write(path, json).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(if report.total_errors() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
