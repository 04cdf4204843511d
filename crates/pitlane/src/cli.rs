//! Command line: `pitlane [serve]`, `pitlane init`, `pitlane hosts`.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use pitlane_core::config::{Config, ConfigError};

/// The config file read when --config is not given, if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "pitlane.toml";

#[derive(Debug, Parser)]
#[command(
    name = "pitlane",
    version,
    about = "Online play for Micro Machines World Series and Motor City Online"
)]
pub struct Cli {
    /// TOML configuration file (default: ./pitlane.toml when it exists).
    #[arg(long, global = true, env = "PITLANE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database, certificates and logs [default: ./pitlane-data].
    #[arg(long, global = true, env = "PITLANE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// sqlite://FILE or postgres://... [default: SQLite in the data dir].
    #[arg(long, global = true, env = "PITLANE_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
    /// Address every listener binds to on its standard port [default: 0.0.0.0].
    #[arg(long, global = true, env = "PITLANE_BIND", value_name = "IP")]
    pub bind: Option<IpAddr>,
    /// Log filter, e.g. info, debug (request bodies), pitlane=debug.
    #[arg(long, global = true, env = "PITLANE_LOG", default_value = "info")]
    pub log: String,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start every listener (the default).
    Serve(ServeArgs),
    /// Play the client side of recorded transcripts against a server and
    /// print where its answers differ in structure (docs/recording.md).
    Replay {
        /// Transcript files, or directories of them (played in name order).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The server to replay against, on the games' standard ports.
        #[arg(long, value_name = "HOST")]
        server: String,
        /// Another port for a channel, e.g. --port http=8080 (channels: http,
        /// https, mco-login, mco-persona, mco-lobby, mco-mcots).
        #[arg(long = "port", value_name = "CHANNEL=PORT")]
        ports: Vec<String>,
        /// The MCO account's password, when the transcript has it redacted.
        #[arg(long, env = "PITLANE_REPLAY_PASSWORD")]
        password: Option<String>,
        /// The server's pub.key for MCO logins [default: this data dir's].
        #[arg(long, value_name = "FILE")]
        mco_pub_key: Option<PathBuf>,
        /// The server's CA certificate, for HTTPS transcripts [default: this data dir's ca.pem].
        #[arg(long, value_name = "FILE")]
        ca: Option<PathBuf>,
    },
    /// Write a commented configuration file with every default.
    Init {
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Print the hosts-file lines players need for this server.
    Hosts {
        /// Address to put in the lines [default: public_address, else the LAN address].
        #[arg(long)]
        address: Option<IpAddr>,
    },
    /// Create or renew the certificates and show what players import.
    Certs,
    /// Write the game-folder configuration for the no-certificate route
    /// (Localhost mode through Windows' port proxy).
    ClientConfig {
        /// Folder to write BootConfig_User.xml into.
        #[arg(long, default_value = "mmws-player-files")]
        out: PathBuf,
        /// The server players forward to [default: public_address, else the LAN address].
        #[arg(long)]
        address: Option<IpAddr>,
    },
    /// Check a server the way the game would use it, with fixes for what fails.
    Doctor {
        /// The server's address or name [default: where mmcos.codemasters.com points].
        #[arg(long)]
        server: Option<String>,
        /// The server's CA certificate (ca.pem or ca.crt) [default: this server's own].
        #[arg(long)]
        ca: Option<PathBuf>,
        #[arg(long, default_value_t = 80)]
        http_port: u16,
        #[arg(long, default_value_t = 443)]
        https_port: u16,
        /// Do not check where the game's host names point.
        #[arg(long)]
        skip_dns: bool,
    },
    /// Copy the SQLite database while the server runs (PostgreSQL: use pg_dump).
    Backup {
        /// The new file to write.
        file: PathBuf,
    },
    /// Put a backup in place of the SQLite database (stop the server first).
    Restore {
        /// A file written by `pitlane backup`.
        file: PathBuf,
        /// Replace an existing database (it is kept beside as a .before-restore copy).
        #[arg(long)]
        force: bool,
    },
    /// Motor City Online administration.
    #[command(subcommand)]
    Mco(McoCommand),
    /// Operators of the web dashboard.
    #[command(subcommand)]
    Admin(AdminCommand),
}

/// `pitlane serve` options.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// Write every connection of every game as a transcript into DIR
    /// (passwords, tickets, session keys and tokens redacted).
    #[arg(long, value_name = "DIR")]
    pub record: Option<PathBuf>,
    /// With --record: keep the secrets in the transcripts (local research only).
    #[arg(long, requires = "record")]
    pub record_secrets: bool,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an operator; the password is asked for (or read from standard input).
    Add {
        /// Operator name (letters, digits, '.', '_', '-').
        name: String,
    },
    /// Set an operator's password; their dashboard sessions end.
    Passwd { name: String },
}

#[derive(Debug, Subcommand)]
pub enum McoCommand {
    /// Create the login key pair and pub.key if they do not exist, and show where they are.
    Keys,
    /// Player accounts.
    #[command(subcommand)]
    Account(McoAccountCommand),
    /// Write the files a player needs: pub.key, the CA certificate, .reg files, README.
    ClientSetup {
        /// The address or host name players use for this server [default: public_address, else the LAN address].
        #[arg(long)]
        host: Option<String>,
        /// Folder to write the files into.
        #[arg(long, default_value = "mco-player-files")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum McoAccountCommand {
    /// Create an account; the password is asked for (or read from standard input).
    Add {
        /// Account name (letters, digits, '.', '_', '-').
        name: String,
    },
}

impl Cli {
    /// The configuration in effect: the file (if any), then the flags.
    pub fn load_config(&self) -> Result<Config, ConfigError> {
        let mut config = match &self.config {
            Some(path) => Config::load(path)?,
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => {
                Config::load(Path::new(DEFAULT_CONFIG_FILE))?
            }
            None => Config::default(),
        };
        if let Some(dir) = &self.data_dir {
            config.server.data_dir = dir.clone();
        }
        if let Some(url) = &self.database_url {
            config.server.database_url = Some(url.clone());
        }
        if let Some(bind) = self.bind {
            config.server.bind = bind;
        }
        Ok(config)
    }

    pub fn config_path_for_init(&self) -> PathBuf {
        self.config
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_FILE))
    }
}
