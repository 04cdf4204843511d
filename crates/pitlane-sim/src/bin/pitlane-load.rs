//! `pitlane-load`: drives simulated players or one endpoint against a
//! Pitlane server on this machine and prints per-operation figures.
//!
//! ```text
//! cargo run -p pitlane-sim --release --bin pitlane-load -- \
//!     --server 127.0.0.1:8080 --endpoint ServerStatus --concurrency 64 --seconds 10
//! cargo run -p pitlane-sim --release --bin pitlane-load -- \
//!     --server 127.0.0.1:8080 --mmws-players 1200 --server-pid $(pgrep -n pitlane) --json out.json
//! ```

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
    /// The server's `mco/pub.key`.
    #[arg(long)]
    mco_pub_key: Option<PathBuf>,
    /// MCO player i logs in as PREFIX{i}.
    #[arg(long, default_value = "load")]
    mco_user_prefix: String,
    #[arg(long, default_value = "loadpass")]
    mco_password: String,
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
    let workload = match &args.endpoint {
        Some(name) => Workload::Endpoint(
            Endpoint::parse(name).ok_or_else(|| format!("unknown endpoint {name}"))?,
        ),
        None => Workload::Players {
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
        });
    }
    plan.validate().map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let report = runtime
        .block_on(load::run(plan))
        .map_err(|e| e.to_string())?;
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
