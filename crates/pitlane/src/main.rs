use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use pitlane::cli::{Cli, Command};
use pitlane::{hosts, logging, server, Server};
use pitlane_core::config::EXAMPLE;
use pitlane_core::SystemClock;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Command::Init { force }) => {
            let path = cli.config_path_for_init();
            if path.exists() && !force {
                anyhow::bail!(
                    "{} already exists; use --force to replace it",
                    path.display()
                );
            }
            std::fs::write(&path, EXAMPLE)?;
            println!(
                "wrote {}: edit it, then run `pitlane serve`",
                path.display()
            );
            Ok(())
        }
        Some(Command::Hosts { address }) => {
            let config = cli.load_config()?;
            let ip = address.unwrap_or_else(|| {
                hosts::player_facing_address(config.server.public_address, config.server.bind)
            });
            print!("{}", hosts::hosts_lines(ip));
            Ok(())
        }
        Some(Command::Serve) | None => serve(cli).await,
    }
}

async fn serve(cli: Cli) -> anyhow::Result<()> {
    let config = cli.load_config()?;
    let _log_guard = logging::init(&cli.log, Some(&config.server.data_dir));
    let server = Server::start(&config, Arc::new(SystemClock)).await?;
    let l = server.listening;
    let player_ip = hosts::player_facing_address(config.server.public_address, config.server.bind);
    tracing::info!(
        database = %pitlane_store::redact(&server::database_url(&config)),
        backend = server.store().backend().name(),
        data_dir = %config.server.data_dir.display(),
        "{} started", config.server.name
    );
    println!("Micro Machines World Series: HTTP on {}", l.mmws_http);
    println!();
    println!("Players add these lines to C:\\Windows\\System32\\drivers\\etc\\hosts:");
    print!("{}", hosts::hosts_lines(player_ip));
    println!();
    println!("Press Ctrl+C to stop.");

    wait_for_signal().await;
    tracing::info!("shutting down: no new connections, finishing requests in flight");
    server.shutdown().await;
    tracing::info!("stopped cleanly");
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
