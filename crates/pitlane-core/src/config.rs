//! The operator's configuration: one TOML file, every key optional, every
//! default written out in [`EXAMPLE`] (what `pitlane init` writes).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::seasons::SeasonCalendar;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerSettings,
    pub listen: ListenSettings,
    pub limits: Limits,
    pub micromachines: MicroMachinesSettings,
    pub motorcity: MotorCitySettings,
    pub web: WebSettings,
    pub tls: TlsSettings,
}

/// HTTPS for both games on one port (Micro Machines with SNI through
/// rustls, the Windows-XP-era Motor City client through legacy OpenSSL).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsSettings {
    /// Serve HTTPS at all.
    pub enabled: bool,
    /// More host names for the server certificate (beyond the three game
    /// host names, localhost and this machine's addresses).
    pub extra_names: Vec<String>,
    /// Re-issue the server certificates this many days before they expire.
    pub renew_before_days: u32,
    /// Your own certificate chain (PEM) and key for the game host names,
    /// instead of the generated ones.
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    /// RSA key size of the Motor City Online certificate (the XP client is
    /// said to need 1024).
    pub mco_key_bits: usize,
    /// Host names players put in `AuthLoginServer` (they route to the MCO
    /// certificate even when the client sends them as SNI).
    pub mco_host_names: Vec<String>,
}

impl Default for TlsSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            extra_names: Vec::new(),
            renew_before_days: 30,
            cert_file: None,
            key_file: None,
            mco_key_bits: 1024,
            mco_host_names: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// Shown to operators and in status documents.
    pub name: String,
    /// Where the data directory lives (database, certificates, logs).
    pub data_dir: PathBuf,
    /// `sqlite://FILE` or `postgres://...`; empty = SQLite in the data dir.
    pub database_url: Option<String>,
    /// Address every listener binds to unless `[listen]` says otherwise.
    pub bind: IpAddr,
    /// Address players put in their hosts file; default: this machine's
    /// first LAN address.
    pub public_address: Option<IpAddr>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            name: "Pitlane".into(),
            data_dir: PathBuf::from("pitlane-data"),
            database_url: None,
            bind: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            public_address: None,
        }
    }
}

/// Per-listener overrides; `None` means "the game's standard port on
/// `server.bind`".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ListenSettings {
    /// Plain HTTP for both games (standard port 80): Micro Machines
    /// services, MCO shard list and patch check.
    pub mmws_http: Option<SocketAddr>,
    /// HTTPS for both games (standard port 443).
    pub https: Option<SocketAddr>,
    /// Motor City Online NPS login server (standard port 8226).
    pub mco_login: Option<SocketAddr>,
    /// Motor City Online NPS persona server (standard port 8228).
    pub mco_persona: Option<SocketAddr>,
    /// Motor City Online NPS lobby server (standard port 7003).
    pub mco_lobby: Option<SocketAddr>,
    /// Motor City Online MCOTS transaction server (standard port 43300).
    pub mco_mcots: Option<SocketAddr>,
}

impl ListenSettings {
    pub const MMWS_HTTP_PORT: u16 = 80;
    pub const HTTPS_PORT: u16 = 443;
    pub const MCO_LOGIN_PORT: u16 = 8226;
    pub const MCO_PERSONA_PORT: u16 = 8228;
    pub const MCO_LOBBY_PORT: u16 = 7003;
    pub const MCO_MCOTS_PORT: u16 = 43300;

    pub fn mmws_http(&self, bind: IpAddr) -> SocketAddr {
        self.mmws_http
            .unwrap_or(SocketAddr::new(bind, Self::MMWS_HTTP_PORT))
    }

    pub fn https(&self, bind: IpAddr) -> SocketAddr {
        self.https
            .unwrap_or(SocketAddr::new(bind, Self::HTTPS_PORT))
    }

    pub fn mco_login(&self, bind: IpAddr) -> SocketAddr {
        self.mco_login
            .unwrap_or(SocketAddr::new(bind, Self::MCO_LOGIN_PORT))
    }

    pub fn mco_persona(&self, bind: IpAddr) -> SocketAddr {
        self.mco_persona
            .unwrap_or(SocketAddr::new(bind, Self::MCO_PERSONA_PORT))
    }

    pub fn mco_lobby(&self, bind: IpAddr) -> SocketAddr {
        self.mco_lobby
            .unwrap_or(SocketAddr::new(bind, Self::MCO_LOBBY_PORT))
    }

    pub fn mco_mcots(&self, bind: IpAddr) -> SocketAddr {
        self.mco_mcots
            .unwrap_or(SocketAddr::new(bind, Self::MCO_MCOTS_PORT))
    }
}

/// Explicit bounds on what one client can make the server hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest request body accepted (GetFriends with hundreds of friends is
    /// the biggest legitimate one, ~15 KB for 155 friends).
    pub max_body_bytes: usize,
    /// Open connections across all listeners; further clients wait in the
    /// kernel's accept queue.
    pub max_connections: usize,
    /// Largest request head (request line and headers) accepted; a larger
    /// one is answered 431 and the connection closed. The games' heads are
    /// under 300 bytes.
    pub max_header_bytes: usize,
    /// Time allowed for a client to send its request headers, and again
    /// for the body that follows them.
    pub header_read_timeout_secs: u64,
    /// Time allowed for one whole request, long polls included.
    pub request_timeout_secs: u64,
    /// XML requests nested deeper than this are refused.
    pub max_xml_depth: usize,
    /// XML requests with more elements than this are refused.
    pub max_xml_elements: usize,
    /// Open connections from one IP address; 0 = no limit. Players behind
    /// one NAT share an address, and the game opens one connection per
    /// request, so this is a ceiling against floods, not a per-player cap.
    pub max_connections_per_address: usize,
    /// Sustained HTTP requests per second from one IP address, answered
    /// 429 beyond it; 0 = no limit. A playing client makes well under one
    /// per second.
    pub requests_per_second_per_address: u32,
    /// Requests one address may make in a burst above the sustained rate.
    pub request_burst_per_address: u32,
    /// Matchmaking polls held at once over the whole server; more are
    /// answered 503 at once instead of holding memory for them.
    pub max_held_polls: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 256 * 1024,
            max_connections: 16_384,
            max_header_bytes: 16 * 1024,
            header_read_timeout_secs: 15,
            request_timeout_secs: 90,
            max_xml_depth: 16,
            max_xml_elements: 20_000,
            max_connections_per_address: 512,
            requests_per_second_per_address: 200,
            request_burst_per_address: 400,
            max_held_polls: 20_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MicroMachinesSettings {
    /// Answer of the CDN file `redirect_steam_submission*.txt`: the server
    /// environment the client should use (`Live` = the https MMCOS host).
    pub cdn_server_type: String,
    /// How long a Login's session token stays valid (official: 6 hours).
    pub session_ttl_hours: u32,
    /// A game configuration file replacing the built-in one (same format as
    /// `crates/micromachines/data/game_config.toml`).
    pub game_config_file: Option<PathBuf>,
    pub status: ServerStatusSettings,
    pub seasons: SeasonCalendar,
    pub events: EventSchedule,
    pub matchmaking: MatchmakingSettings,
    pub leaderboards: LeaderboardSettings,
}

impl Default for MicroMachinesSettings {
    fn default() -> Self {
        Self {
            cdn_server_type: "Live".into(),
            session_ttl_hours: 6,
            game_config_file: None,
            status: ServerStatusSettings::default(),
            seasons: SeasonCalendar::default(),
            events: EventSchedule::default(),
            matchmaking: MatchmakingSettings::default(),
            leaderboards: LeaderboardSettings::default(),
        }
    }
}

/// How searching players are grouped into races.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatchmakingSettings {
    /// Seconds an EnterMatchmaking2 call is held while no match forms (the
    /// official server held ~25 s).
    pub hold_secs: f64,
    /// Once two compatible parties search, wait this long for more before
    /// the race forms (a full race forms at once).
    pub gather_secs: f64,
    /// A party with no call in flight for this long has left the search.
    pub leave_after_secs: f64,
    /// A formed race that has not started and has room takes late
    /// searchers for this long.
    pub late_join_secs: f64,
    /// Allowed difference of skill ratings at the start of a search...
    pub skill_band_initial: u32,
    /// ...widened by this much per second of waiting...
    pub skill_band_widen_per_sec: u32,
    /// ...until anyone matches anyone after this many seconds.
    pub skill_band_open_after_secs: f64,
    /// Wait-time average reported before any race was made (seconds).
    pub default_average_wait_secs: f64,
    /// Per rule set (the client's `RuleSet`): player limit, teams, AI.
    pub modes: Vec<ModeSettings>,
    /// Event servers: match every search in this rule set's pool whatever
    /// mode it asked for (the host's game decides what is played).
    pub forced_rule_set: Option<String>,
}

impl Default for MatchmakingSettings {
    fn default() -> Self {
        Self {
            hold_secs: 25.0,
            gather_secs: 8.0,
            leave_after_secs: 20.0,
            late_join_secs: 10.0,
            skill_band_initial: 500,
            skill_band_widen_per_sec: 25,
            skill_band_open_after_secs: 60.0,
            default_average_wait_secs: 60.0,
            modes: vec![
                ModeSettings::new("Race", 12, 0),
                ModeSettings::new("Elimination", 6, 0),
                ModeSettings::new("Battle", 8, 2),
            ],
            forced_rule_set: None,
        }
    }
}

impl MatchmakingSettings {
    /// Settings of a rule set; unknown rule sets race up to 12 without teams.
    pub fn mode(&self, rule_set: &str) -> ModeSettings {
        self.modes
            .iter()
            .find(|m| m.rule_set.eq_ignore_ascii_case(rule_set))
            .cloned()
            .unwrap_or_else(|| ModeSettings::new(rule_set, 12, 0))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModeSettings {
    pub rule_set: String,
    /// Humans in one race (parties count with their size).
    pub max_players: u32,
    /// 0 = every party for itself; 2 = two balanced teams.
    pub teams: u32,
    /// Whether a search asking to start now
    /// (`IgnoreMinimumMatchRequirements`, the client's "fill with AI")
    /// starts at once. Off makes a competitive server: such searches keep
    /// waiting for humans.
    #[serde(default = "yes")]
    pub ai_fill: bool,
    /// Whether ranked races may start with AI filling places (ranked
    /// searches asking to start now keep waiting when off).
    #[serde(default = "yes")]
    pub ranked_ai: bool,
}

fn yes() -> bool {
    true
}

impl ModeSettings {
    pub fn new(rule_set: &str, max_players: u32, teams: u32) -> Self {
        Self {
            rule_set: rule_set.into(),
            max_players,
            teams,
            ai_fill: true,
            ranked_ai: true,
        }
    }

    /// Whether a start-now search of this mode may start with AI.
    pub fn may_start_with_ai(&self, ranked: bool) -> bool {
        self.ai_fill && (self.ranked_ai || !ranked)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LeaderboardSettings {
    /// Most entries one GetElite/GetEliteRank page returns.
    pub max_page: u32,
    /// Most Steam ids one GetFriends considers.
    pub max_friends: u32,
}

impl Default for LeaderboardSettings {
    fn default() -> Self {
        Self {
            max_page: 100,
            max_friends: 1000,
        }
    }
}

/// Motor City Online.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MotorCitySettings {
    /// Serve Motor City Online at all.
    pub enabled: bool,
    /// The shard players see in the shard list.
    pub shard_name: String,
    /// Its id (the client sends it back when selecting a persona).
    pub shard_id: u32,
    /// Personas per account (`MaxPersonasPerUser`).
    pub max_personas_per_user: u32,
    /// Let AuthLogin create an account for an unknown name (off: accounts
    /// come from `pitlane mco account add`).
    pub open_registration: bool,
    /// Seconds AuthLogin remembers a password argon2 verified, per account
    /// (a keyed SHA-256 of the stored hash and the password, in memory
    /// only): the same password again within that time skips argon2's
    /// tens of milliseconds. 0 = off. The cost: a memory dump of the
    /// running server lets guesses for recently logged-in accounts be
    /// tested at SHA-256 speed instead of argon2 speed.
    pub password_cache_secs: u64,
    /// Seconds an AuthLogin ticket stays valid.
    pub ticket_lifetime_secs: u64,
    /// Hours a login session (and its key) stays valid.
    pub session_lifetime_hours: u64,
    /// Seconds an NPS connection may stay silent.
    pub idle_timeout_secs: u64,
    /// NPS connections served at once per server.
    pub max_connections: usize,
    /// Seconds a lobby or MCOTS connection may stay silent: the client
    /// keeps both open for the whole session.
    pub session_idle_timeout_secs: u64,
    /// Money a persona starts with at its first MCOTS login.
    pub starting_money: u32,
    /// Hours between changes of each dealer's stock.
    pub dealer_refresh_hours: u64,
    /// Cars each dealer offers.
    pub dealer_stock_size: usize,
    /// Discount of each dealer's deal of the day, in percent.
    pub deal_percent_off: u32,
    /// The shard's `Description` in the shard list (the MCO message of the
    /// day); empty = the shard name.
    pub shard_description: String,
    /// Most players logged in at once (0 = no cap). A full shard shows
    /// `Status_Reason=Full` in the shard list and refuses AuthLogin to
    /// players without a live session.
    pub population_cap: u32,
    /// Lobby chat channels, in list order.
    pub channels: Vec<McoChannel>,
    /// Lobby reply ids sent inside 0x1101 (DES) rather than in clear.
    pub encrypted_lobby_replies: Vec<u16>,
    /// Race lobbies MCOTS lists (MC_GET_LOBBIES).
    pub lobbies: Vec<McoLobby>,
    /// Game URLs MCOTS hands out (MC_GET_GAME_URLS).
    pub game_urls: Vec<McoGameUrl>,
    /// The MCO tunables record (MC_GET_MCO_TUNABLES).
    pub tunables: McoTunables,
}

/// Longest `[motorcity] password_cache_secs`: a day. Longer would keep a
/// cheap test for a password in memory long after its player left.
pub const MAX_PASSWORD_CACHE_SECS: u64 = 86_400;

impl MotorCitySettings {
    /// Settings that would confuse the client or the lobby, or keep
    /// verified passwords in memory for too long.
    pub fn validate(&self) -> Result<(), String> {
        let mut ids = std::collections::BTreeSet::new();
        for c in &self.channels {
            if c.name.is_empty() || c.capacity == 0 || !ids.insert(c.id) {
                return Err(format!(
                    "motorcity.channels: channel {} needs a name, a capacity above 0 and an id of its own",
                    c.id
                ));
            }
        }
        let mut ids = std::collections::BTreeSet::new();
        if let Some(l) = self.lobbies.iter().find(|l| !ids.insert(l.id)) {
            return Err(format!("motorcity.lobbies: id {} appears twice", l.id));
        }
        if self.deal_percent_off > 100 {
            return Err("motorcity.deal_percent_off must be between 0 and 100".into());
        }
        if self.dealer_stock_size == 0 {
            return Err("motorcity.dealer_stock_size must be at least 1".into());
        }
        if self.password_cache_secs > MAX_PASSWORD_CACHE_SECS {
            return Err(format!(
                "motorcity.password_cache_secs must be between 0 (off) and {MAX_PASSWORD_CACHE_SECS} (a day)"
            ));
        }
        Ok(())
    }
}

/// A lobby chat channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McoChannel {
    pub id: u32,
    pub name: String,
    /// Most players in it at once.
    pub capacity: u16,
}

/// A race lobby in MCOTS's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McoLobby {
    pub id: u32,
    pub name: String,
}

/// A game URL by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McoGameUrl {
    pub id: u32,
    pub url: String,
}

/// The tunables record the client asks MCOTS for; field names follow the
/// community's layout (spec section 8.2), none is confirmed by a client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct McoTunables {
    pub club_creation_cost: u32,
    pub club_creation_level: u32,
    pub club_officer_level: u32,
    pub inventory_per_level: u32,
    pub cars_per_level: u32,
    pub max_ez_street_level: u32,
    pub club_switch_cooldown: u32,
    pub repair_cost_mod: f64,
    pub scrap_value_mod: f64,
    pub add_cost: [u32; 7],
    pub trade_in_mod: f64,
    pub sim_street_max_wager: u32,
    pub salary_per_level: u32,
    pub club_max_members: u32,
    pub club_reg_cost: u32,
    pub club_re_reg_cost: u32,
    pub classified_ad_rate: u32,
    pub ad_max_duration: u32,
    pub ad_max_size: u32,
    pub ad_max_per_player: u32,
}

impl Default for McoTunables {
    fn default() -> Self {
        Self {
            club_creation_cost: 10_000,
            club_creation_level: 5,
            club_officer_level: 3,
            inventory_per_level: 10,
            cars_per_level: 2,
            max_ez_street_level: 5,
            club_switch_cooldown: 7,
            repair_cost_mod: 1.0,
            scrap_value_mod: 0.5,
            add_cost: [10, 20, 30, 40, 50, 60, 70],
            trade_in_mod: 0.75,
            sim_street_max_wager: 1_000,
            salary_per_level: 100,
            club_max_members: 50,
            club_reg_cost: 1_000,
            club_re_reg_cost: 500,
            classified_ad_rate: 10,
            ad_max_duration: 7,
            ad_max_size: 256,
            ad_max_per_player: 5,
        }
    }
}

impl Default for MotorCitySettings {
    fn default() -> Self {
        Self {
            enabled: true,
            shard_name: "Pitlane".into(),
            shard_id: 44,
            max_personas_per_user: 2,
            open_registration: false,
            password_cache_secs: 600,
            ticket_lifetime_secs: 300,
            session_lifetime_hours: 6,
            idle_timeout_secs: 30,
            max_connections: 1024,
            session_idle_timeout_secs: 600,
            starting_money: 25_000,
            dealer_refresh_hours: 24,
            dealer_stock_size: 12,
            deal_percent_off: 10,
            shard_description: String::new(),
            population_cap: 0,
            channels: vec![
                McoChannel {
                    id: 2,
                    name: "LOBBY".into(),
                    capacity: 100,
                },
                McoChannel {
                    id: 191,
                    name: "MCCHAT".into(),
                    capacity: 100,
                },
            ],
            encrypted_lobby_replies: Vec::new(),
            lobbies: vec![McoLobby {
                id: 1,
                name: "main".into(),
            }],
            game_urls: Vec::new(),
            tunables: McoTunables::default(),
        }
    }
}

/// The operator's dashboard, `/api/status` and `/metrics`, on a listener of
/// their own so that exposing the games never exposes the dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebSettings {
    pub enabled: bool,
    /// Loopback by default: the dashboard can ban players and has no TLS of
    /// its own, so reaching it from elsewhere should go through an SSH
    /// tunnel or an HTTPS reverse proxy.
    pub listen: SocketAddr,
    /// An HTTPS reverse proxy is in front: session cookies get the Secure
    /// flag and the plain-HTTP warning is not logged.
    pub behind_https_proxy: bool,
    /// A player counts as online with a live session and activity (login,
    /// race, points) in the last this many minutes.
    pub online_minutes: u32,
    /// A dashboard login ends after this many hours at the latest...
    pub session_hours: u32,
    /// ...or after this many minutes without a request.
    pub idle_minutes: u32,
}

impl Default for WebSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            behind_https_proxy: false,
            online_minutes: 15,
            session_hours: 12,
            idle_minutes: 60,
        }
    }
}

/// The `ServerStatus.xml` document the client reads before logging in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerStatusSettings {
    pub message: String,
    /// Whether the client shows the message.
    pub display_message: bool,
    /// `false` makes clients treat online play as down (maintenance).
    pub accessible: bool,
    /// Whether clients attempt the EgoNet login.
    pub egonet_enabled: bool,
}

impl Default for ServerStatusSettings {
    fn default() -> Self {
        Self {
            message: "Server is up!".into(),
            display_message: false,
            accessible: true,
            egonet_enabled: true,
        }
    }
}

/// Weekend events: a window that opens every week on `weekday` at 00:00 UTC
/// and lasts `duration_hours`; the windows cycle through `rotation`. An
/// empty rotation means no events (what the official server sent in
/// November 2023).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventSchedule {
    /// Mon, Tue, Wed, Thu, Fri, Sat or Sun.
    pub weekday: String,
    pub duration_hours: u32,
    pub rotation: Vec<EventDefinition>,
}

impl Default for EventSchedule {
    fn default() -> Self {
        Self {
            weekday: "Sat".into(),
            duration_hours: 48,
            rotation: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventDefinition {
    pub event_id: i32,
    pub playlist_id: i32,
    pub dev_name: String,
    pub title_loc: String,
    pub description_loc: String,
    #[serde(default)]
    pub prize_code: Option<String>,
    #[serde(default)]
    pub button_image_url: Option<String>,
    #[serde(default)]
    pub background_image_url: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("config file {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl Config {
    pub fn from_toml(text: &str, origin: &Path) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|source| ConfigError::Parse {
            path: origin.to_path_buf(),
            source: Box::new(source),
        })?;
        config.validate(origin)?;
        Ok(config)
    }

    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml(&text, path)
    }

    fn validate(&self, origin: &Path) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: origin.to_path_buf(),
            message,
        };
        self.micromachines
            .seasons
            .validate()
            .map_err(|e| invalid(e.to_string()))?;
        if weekday_from_name(&self.micromachines.events.weekday).is_none() {
            return Err(invalid(format!(
                "micromachines.events.weekday {:?} is not one of Mon..Sun",
                self.micromachines.events.weekday
            )));
        }
        let mm = &self.micromachines.matchmaking;
        for (name, value) in [
            ("hold_secs", mm.hold_secs),
            ("gather_secs", mm.gather_secs),
            ("leave_after_secs", mm.leave_after_secs),
            ("late_join_secs", mm.late_join_secs),
            ("skill_band_open_after_secs", mm.skill_band_open_after_secs),
        ] {
            if !(0.0..=3600.0).contains(&value) {
                return Err(invalid(format!(
                    "micromachines.matchmaking.{name} must be between 0 and 3600 seconds"
                )));
            }
        }
        if let Some(mode) = mm
            .modes
            .iter()
            .find(|m| m.max_players < 1 || m.teams == 1 || m.teams > 2)
        {
            return Err(invalid(format!(
                "micromachines.matchmaking.modes {:?}: max_players must be at least 1 and teams 0 or 2",
                mode.rule_set
            )));
        }
        self.motorcity.validate().map_err(invalid)?;
        if self.tls.cert_file.is_some() != self.tls.key_file.is_some() {
            return Err(invalid("tls.cert_file and tls.key_file go together".into()));
        }
        if !(1024..=4096).contains(&self.tls.mco_key_bits) {
            return Err(invalid(
                "tls.mco_key_bits must be between 1024 and 4096".into(),
            ));
        }
        if self.limits.max_header_bytes < 1024 {
            return Err(invalid(
                "limits.max_header_bytes must be at least 1024".into(),
            ));
        }
        if self.limits.max_body_bytes < 1024 {
            return Err(invalid(
                "limits.max_body_bytes must be at least 1024".into(),
            ));
        }
        if self.web.online_minutes == 0 || self.web.session_hours == 0 || self.web.idle_minutes == 0
        {
            return Err(invalid(
                "web.online_minutes, web.session_hours and web.idle_minutes must be at least 1"
                    .into(),
            ));
        }
        if self.limits.max_connections == 0 {
            return Err(invalid("limits.max_connections must be at least 1".into()));
        }
        Ok(())
    }
}

pub fn weekday_from_name(name: &str) -> Option<chrono::Weekday> {
    name.parse().ok()
}

/// The commented configuration `pitlane init` writes. Every value is the
/// built-in default, so an untouched file changes nothing.
pub const EXAMPLE: &str = include_str!("../pitlane.example.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_file_is_exactly_the_defaults() {
        let parsed = Config::from_toml(EXAMPLE, Path::new("example")).unwrap();
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn empty_file_is_the_defaults() {
        assert_eq!(
            Config::from_toml("", Path::new("empty")).unwrap(),
            Config::default()
        );
    }

    #[test]
    fn unknown_keys_are_refused_with_the_file_name() {
        let err = Config::from_toml("[server]\nnmae = \"x\"\n", Path::new("my.toml")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("my.toml") && text.contains("nmae"), "{text}");
    }

    #[test]
    fn motor_city_channels_and_dealer_settings_are_checked() {
        let ok = "[motorcity]\nchannels = [{ id = 5, name = \"DRAG\", capacity = 8 }]\n";
        let config = Config::from_toml(ok, Path::new("t")).unwrap();
        assert_eq!(config.motorcity.channels[0].name, "DRAG");
        assert_eq!(config.motorcity.password_cache_secs, 600, "the default");
        for secs in [0, 86_400] {
            let text = format!("[motorcity]\npassword_cache_secs = {secs}\n");
            let config = Config::from_toml(&text, Path::new("t")).unwrap();
            assert_eq!(config.motorcity.password_cache_secs, secs);
        }
        for bad in [
            "[motorcity]\nchannels = [{ id = 5, name = \"A\", capacity = 8 }, { id = 5, name = \"B\", capacity = 8 }]\n",
            "[motorcity]\nchannels = [{ id = 5, name = \"\", capacity = 8 }]\n",
            "[motorcity]\ndeal_percent_off = 101\n",
            "[motorcity]\ndealer_stock_size = 0\n",
            "[motorcity]\npassword_cache_secs = 86401\n",
            "[motorcity]\nlobbies = [{ id = 1, name = \"a\" }, { id = 1, name = \"b\" }]\n",
        ] {
            let err = Config::from_toml(bad, Path::new("t")).unwrap_err();
            assert!(err.to_string().contains("motorcity"), "{bad}: {err}");
        }
    }

    #[test]
    fn listener_override_beats_bind() {
        let config =
            Config::from_toml("[listen]\nmmws_http = \"127.0.0.1:0\"\n", Path::new("t")).unwrap();
        assert_eq!(
            config.listen.mmws_http(config.server.bind),
            "127.0.0.1:0".parse().unwrap()
        );
        assert_eq!(
            Config::default()
                .listen
                .mmws_http("10.0.0.1".parse().unwrap()),
            "10.0.0.1:80".parse().unwrap()
        );
    }

    #[test]
    fn bad_weekday_is_refused() {
        let err = Config::from_toml(
            "[micromachines.events]\nweekday = \"Caturday\"\n",
            Path::new("t"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("Caturday"));
    }
}
