use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use pitlane::cli::{AdminCommand, Cli, Command, McoAccountCommand, McoCommand};
use pitlane::{hosts, logging, server, Server};
use pitlane_core::config::EXAMPLE;
use pitlane_core::SystemClock;

fn main() -> ExitCode {
    pitlane::allocator::tune();
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
            use std::io::IsTerminal;
            if !std::io::stdin().is_terminal() {
                std::fs::write(&path, EXAMPLE)?;
                println!(
                    "wrote {}: edit it, then run `pitlane serve`",
                    path.display()
                );
                return Ok(());
            }
            let stdin = std::io::stdin();
            let answers = pitlane::commands::init::converse(
                &mut stdin.lock(),
                &mut std::io::stdout(),
                hosts::lan_address(),
                &mut |prompt| rpassword::prompt_password(prompt),
            )?;
            std::fs::write(&path, pitlane::commands::init::config_text(&answers))?;
            if let Some((name, password)) = &answers.admin {
                let config = pitlane_core::Config::load(&path)?;
                std::fs::create_dir_all(&config.server.data_dir)?;
                let store = pitlane_store::Store::open(&server::database_url(&config)).await?;
                check_new_admin(&store, name).await?;
                let created = store
                    .admin_accounts()
                    .create(name, password, chrono::Utc::now())
                    .await;
                store.close().await;
                created?;
            }
            print!(
                "{}",
                pitlane::commands::init::next_steps(&answers, &path.display().to_string())
            );
            Ok(())
        }
        Some(Command::Hosts { address }) => {
            let config = cli.load_config()?;
            let ip = address.unwrap_or_else(|| {
                hosts::player_facing_address(config.server.public_address, config.server.bind)
            });
            print!("{}", pitlane::commands::setup::hosts(ip));
            Ok(())
        }
        Some(Command::Mco(McoCommand::Keys)) => {
            let config = cli.load_config()?;
            let (_, created) = pitlane::mco::load_or_create_login_key(&config.server.data_dir)?;
            let dir = pitlane::mco::key_dir(&config.server.data_dir);
            println!(
                "{} {}",
                if created { "created" } else { "existing" },
                dir.join("login-key.pem").display()
            );
            println!(
                "players copy into their game folder: {}",
                dir.join("pub.key").display()
            );
            Ok(())
        }
        Some(Command::Mco(McoCommand::Account(McoAccountCommand::Add { ref name }))) => {
            let config = cli.load_config()?;
            std::fs::create_dir_all(&config.server.data_dir)?;
            let password = read_password(&format!("Password for {name}: "))?;
            let store = pitlane_store::Store::open(&server::database_url(&config)).await?;
            let http = pitlane::mco::McoHttp::new(
                store.clone(),
                Arc::new(SystemClock),
                &config.motorcity,
                String::new(),
                0,
            );
            let result = http.directory.create_account(name, &password).await;
            store.close().await;
            let account = result?;
            println!(
                "created account {} (customer id {})",
                account.username, account.customer_id
            );
            Ok(())
        }
        Some(Command::Admin(ref command)) => admin(&cli, command).await,
        Some(Command::Backup { ref file }) => {
            let config = cli.load_config()?;
            print!(
                "{}",
                pitlane::commands::backup::backup(&config, file).await?
            );
            Ok(())
        }
        Some(Command::Restore { ref file, force }) => {
            let config = cli.load_config()?;
            print!(
                "{}",
                pitlane::commands::backup::restore(&config, file, force).await?
            );
            Ok(())
        }
        Some(Command::Certs) => {
            let config = cli.load_config()?;
            print!("{}", pitlane::commands::setup::certs(&config)?);
            Ok(())
        }
        Some(Command::ClientConfig { ref out, address }) => {
            let config = cli.load_config()?;
            let ip = address.unwrap_or_else(|| {
                hosts::player_facing_address(config.server.public_address, config.server.bind)
            });
            let port = config.listen.mmws_http(config.server.bind).port();
            print!(
                "{}",
                pitlane::commands::setup::client_config(out, ip, port)?
            );
            Ok(())
        }
        Some(Command::Mco(McoCommand::ClientSetup { ref host, ref out })) => {
            let config = cli.load_config()?;
            let host = host.clone().unwrap_or_else(|| {
                hosts::player_facing_address(config.server.public_address, config.server.bind)
                    .to_string()
            });
            print!(
                "{}",
                pitlane::commands::setup::mco_client_setup(&config, &host, out)?
            );
            Ok(())
        }
        Some(Command::Doctor {
            ref server,
            ref ca,
            http_port,
            https_port,
            skip_dns,
        }) => {
            let config = cli.load_config()?;
            let server = match server {
                Some(text) => Some(pitlane::commands::doctor::server_address(text).await?),
                None => None,
            };
            let options = pitlane_sim::doctor::DoctorOptions {
                server,
                http_port,
                https_port,
                ca_pem: pitlane::commands::doctor::default_ca(ca.clone(), &config.server.data_dir),
                check_dns: !skip_dns,
                ..Default::default()
            };
            let (text, ok) = pitlane::commands::doctor::doctor(&options).await;
            print!("{text}");
            if ok {
                Ok(())
            } else {
                anyhow::bail!("doctor found problems")
            }
        }
        Some(Command::Replay {
            ref files,
            ref server,
            ref ports,
            ref password,
            ref mco_pub_key,
            ref ca,
        }) => {
            let config = cli.load_config()?;
            let pub_key = mco_pub_key
                .clone()
                .unwrap_or_else(|| pitlane::mco::key_dir(&config.server.data_dir).join("pub.key"));
            let ca = ca
                .clone()
                .unwrap_or_else(|| pitlane::tls::cert_dir(&config.server.data_dir).join("ca.pem"));
            let report = pitlane_record::replay::run_cli(
                files,
                server,
                ports,
                password.clone(),
                &pub_key,
                &ca,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{report}");
            if report.is_clean() {
                Ok(())
            } else {
                anyhow::bail!("the server's answers differ from the transcripts")
            }
        }
        Some(Command::Serve(ref args)) => {
            let args = args.clone();
            serve(cli, args).await
        }
        None => serve(cli, pitlane::cli::ServeArgs::default()).await,
    }
}

/// Operators are made here, on the server, never through the dashboard:
/// whoever can run the binary with its data directory is trusted.
async fn admin(cli: &Cli, command: &AdminCommand) -> anyhow::Result<()> {
    let config = cli.load_config()?;
    std::fs::create_dir_all(&config.server.data_dir)?;
    let store = pitlane_store::Store::open(&server::database_url(&config)).await?;
    let now = chrono::Utc::now();
    let result = match command {
        AdminCommand::Add { name } => {
            if let Err(e) = check_new_admin(&store, name).await {
                store.close().await;
                return Err(e);
            }
            let password = read_password(&format!("Password for {name}: "));
            match password {
                Ok(password) => store
                    .admin_accounts()
                    .create(name, &password, now)
                    .await
                    .map(|a| {
                        format!(
                            "created operator {}; log in at http://{}/",
                            a.name, config.web.listen
                        )
                    })
                    .map_err(anyhow::Error::from),
                Err(e) => Err(e),
            }
        }
        AdminCommand::Passwd { name } => match store.admin_accounts().by_name(name).await {
            Ok(Some(_)) => match read_password(&format!("New password for {name}: ")) {
                Ok(password) => store
                    .admin_accounts()
                    .set_password(name, &password, now)
                    .await
                    .map(|_| {
                        format!("new password set for {name}; their dashboard sessions were ended")
                    })
                    .map_err(anyhow::Error::from),
                Err(e) => Err(e),
            },
            Ok(None) => Err(anyhow::anyhow!(
                "no operator named {name:?}; create one with `pitlane admin add {name}`"
            )),
            Err(e) => Err(e.into()),
        },
    };
    store.close().await;
    println!("{}", result?);
    Ok(())
}

/// Refuses a bad or taken name before asking for a password.
async fn check_new_admin(store: &pitlane_store::Store, name: &str) -> anyhow::Result<()> {
    if !pitlane_store::admin::valid_admin_name(name) {
        anyhow::bail!(
            "{name:?} is not a valid operator name: use 1 to 32 letters, digits, '.', '_' or '-'"
        );
    }
    if store.admin_accounts().by_name(name).await?.is_some() {
        anyhow::bail!("an operator named {name:?} already exists; use `pitlane admin passwd {name}` to change the password");
    }
    Ok(())
}

/// A password from the terminal without echo, or the first line of
/// standard input when it is not a terminal (scripts).
fn read_password(prompt: &str) -> anyhow::Result<String> {
    use std::io::IsTerminal;
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(prompt)?;
        let again = rpassword::prompt_password("Again: ")?;
        if first != again {
            anyhow::bail!("the two passwords differ");
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    if password.is_empty() {
        anyhow::bail!("the password is empty");
    }
    Ok(password)
}

async fn serve(cli: Cli, args: pitlane::cli::ServeArgs) -> anyhow::Result<()> {
    let config = cli.load_config()?;
    let _log_guard = logging::init(&cli.log, Some(&config.server.data_dir));
    let recorder = match &args.record {
        Some(dir) => {
            let dir = pitlane_record::TranscriptDir::create(dir, args.record_secrets)
                .map_err(|e| anyhow::anyhow!("--record {}: {e}", dir.display()))?;
            println!(
                "Recording every connection into {}{}",
                dir.dir().display(),
                if args.record_secrets {
                    " WITH secrets (passwords, tickets, keys, tokens)"
                } else {
                    " (secrets redacted)"
                }
            );
            pitlane_core::recording::Recorder::new(Arc::new(dir))
        }
        None => pitlane_core::recording::Recorder::off(),
    };
    let server = Server::start_recording(&config, Arc::new(SystemClock), recorder).await?;
    let l = server.listening;
    let player_ip = hosts::player_facing_address(config.server.public_address, config.server.bind);
    tracing::info!(
        database = %pitlane_store::redact(&server::database_url(&config)),
        backend = server.store().backend().name(),
        data_dir = %config.server.data_dir.display(),
        "{} started", config.server.name
    );
    println!("HTTP (both games) on {}", l.mmws_http);
    if let Some(https) = l.https {
        println!(
            "HTTPS (both games) on {https}; players trust the CA {} (see `pitlane certs`)",
            pitlane::tls::cert_dir(&config.server.data_dir)
                .join("ca.cer")
                .display()
        );
    }
    if let Some(web) = l.web {
        println!("Dashboard on http://{web}/ (operators: `pitlane admin add NAME`)");
    }
    if let (Some(login), Some(persona)) = (l.mco_login, l.mco_persona) {
        println!("Motor City Online: login server on {login}, persona server on {persona}");
    }
    println!();
    println!("Micro Machines World Series players add these lines to C:\\Windows\\System32\\drivers\\etc\\hosts:");
    print!("{}", hosts::hosts_lines(player_ip));
    if l.mco_login.is_some() {
        println!();
        println!(
            "Motor City Online players need the files of `pitlane mco client-setup --host {player_ip}` (pub.key: {})",
            pitlane::mco::key_dir(&config.server.data_dir).join("pub.key").display()
        );
    }
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
