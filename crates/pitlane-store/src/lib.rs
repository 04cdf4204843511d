//! Pitlane's database. One URL picks the backend (`sqlite://...` embedded by
//! default, `postgres://...` to scale); both run the same queries, and each
//! backend has its own migration folder for the few places where their DDL
//! differs. Queries go through sqlx's `Any` driver, except the Micro
//! Machines hot paths on SQLite, which run the same SQL on the SQLite lane
//! (`sqlite_lane`, `exec`): one thread, one connection, group commit.
//!
//! Conventions that keep the two backends identical: every integer column is
//! 64-bit, timestamps are Unix milliseconds, and SQL uses `$n` placeholders
//! and only constructs both engines share.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::AnyPool;

pub mod admin;
mod exec;
pub mod instances;
pub mod mco;
pub mod mmws;
pub mod password;
pub mod password_cache;
mod sqlite_lane;
pub use sqlite_lane::LaneStats;
#[cfg(feature = "testing")]
pub mod testing;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL {0:?}: use sqlite://FILE or postgres://...")]
    UnsupportedUrl(String),
    #[error("cannot open the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("cannot bring the database schema up to date: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Query(#[source] sqlx::Error),
    #[error("database error: {0}")]
    Sqlite(#[source] rusqlite::Error),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Database errors since the process started, for `/metrics`. Counted where
/// every query error becomes a [`StoreError`], so no call site can forget
/// it; one counter per process, as one process runs one server.
static DATABASE_ERRORS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Database errors (failed queries, lost connections, pool timeouts) since
/// the process started.
pub fn database_errors() -> u64 {
    DATABASE_ERRORS.load(std::sync::atomic::Ordering::Relaxed)
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        DATABASE_ERRORS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        StoreError::Query(e)
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        DATABASE_ERRORS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        StoreError::Sqlite(e)
    }
}

/// A database failure that has no sqlx or rusqlite error of its own (a
/// group commit that failed for every job in it), counted like the others.
pub(crate) fn database_error(message: String) -> StoreError {
    DATABASE_ERRORS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    StoreError::Unavailable(message)
}

/// A handle to the database, cheap to clone (it is a connection pool).
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    /// SQLite only: the hot paths' own connection and thread, where the
    /// Micro Machines Login, session, score and race statements run (see
    /// `sqlite_lane`). `None` on PostgreSQL and for in-memory databases.
    lane: Option<std::sync::Arc<sqlite_lane::SqliteLane>>,
    backend: Backend,
    /// Kept for connections outside the pool (PostgreSQL `LISTEN`).
    url: Url,
    /// This process's name among the instances sharing the database.
    instance_id: std::sync::Arc<str>,
    /// Live Micro Machines sessions, so requests skip the database lookup.
    sessions: std::sync::Arc<mmws::SessionCache>,
}

/// A database URL that never prints its password.
#[derive(Clone)]
struct Url(String);

impl std::fmt::Debug for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

impl Store {
    /// Opens (creating an SQLite file if needed) and migrates the database.
    pub async fn open(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(redact(url)));
        };
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_string(),
        };
        let options = AnyConnectOptions::from_str(&url).map_err(StoreError::Connect)?;
        let pool_options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        let pool = match backend {
            // WAL lets readers run beside the one writer; busy_timeout
            // makes writers outside the lane (MCO, dashboard) queue instead
            // of failing with SQLITE_BUSY.
            Backend::Sqlite => sqlite_pool(pool_options, 8)
                .connect_with(options)
                .await
                .map_err(StoreError::Connect)?,
            Backend::Postgres => pool_options
                .max_connections(32)
                .connect_with(options)
                .await
                .map_err(StoreError::Connect)?,
        };
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&pool).await.map_err(StoreError::Migrate)?;
        let lane = match sqlite_file(&url) {
            Some(path) if backend == Backend::Sqlite => {
                Some(std::sync::Arc::new(sqlite_lane::SqliteLane::open(&path)?))
            }
            _ => None,
        };
        Ok(Self {
            pool,
            lane,
            backend,
            url: Url(url),
            instance_id: instances::new_instance_id().into(),
            sessions: std::sync::Arc::default(),
        })
    }

    /// The name this server's heartbeat row goes by (one per opened store,
    /// so two servers in one process stay apart).
    pub fn instance_id(&self) -> &str {
        &self.instance_id
    }

    /// Several instances can share this database (PostgreSQL); SQLite is
    /// one instance's own file.
    pub fn is_shared(&self) -> bool {
        self.backend == Backend::Postgres
    }

    /// Matchmaking shared by the instances on this database (PostgreSQL).
    pub fn mm_shared_pool(&self) -> mmws::SharedPool<'_> {
        mmws::SharedPool::new(&self.pool)
    }

    /// Listens for matchmaking changes made by any instance; `None` on
    /// SQLite, where there is only this one.
    pub async fn mm_pool_listener(&self) -> Result<Option<mmws::PoolListener>> {
        match self.backend {
            Backend::Postgres => Ok(Some(mmws::PoolListener::connect(&self.url.0).await?)),
            Backend::Sqlite => Ok(None),
        }
    }

    pub fn instances(&self) -> instances::Instances<'_> {
        instances::Instances::new(&self.pool)
    }

    /// The SQLite lane's counters; `None` on PostgreSQL.
    pub fn sqlite_lane_stats(&self) -> Option<LaneStats> {
        self.lane.as_ref().map(|lane| lane.stats())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Waits for in-flight queries and closes every connection, so SQLite
    /// checkpoints its WAL and nothing acknowledged is left behind.
    pub async fn close(&self) {
        if let Some(lane) = &self.lane {
            lane.close().await;
        }
        self.pool.close().await;
    }

    /// A consistent copy of an SQLite database into a new file, taken while
    /// the server keeps running (SQLite's `VACUUM INTO` reads one snapshot).
    /// PostgreSQL has its own tools (`pg_dump`); asking here is an error.
    pub async fn backup_to(&self, target: &std::path::Path) -> Result<()> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::UnsupportedUrl(
                "backups of PostgreSQL are made with pg_dump (see the operator guide)".into(),
            ));
        }
        let path = target.to_string_lossy().replace('\'', "''");
        sqlx::query(&format!("VACUUM INTO '{path}'"))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Where the Micro Machines hot paths run their statements: the SQLite
    /// lane, or the pool (PostgreSQL, in-memory SQLite).
    fn hot(&self) -> exec::Exec<'_> {
        match &self.lane {
            Some(lane) => exec::Exec::Lane(lane),
            None => exec::Exec::Pool(&self.pool),
        }
    }

    pub fn mm_accounts(&self) -> mmws::Accounts<'_> {
        mmws::Accounts::new(&self.pool, self.hot())
    }

    /// Login's reads and writes as one piece (one job on SQLite).
    pub fn mm_logins(&self) -> mmws::Logins<'_> {
        mmws::Logins::new(self.hot(), &self.sessions)
    }

    pub fn mm_sessions(&self) -> mmws::Sessions<'_> {
        mmws::Sessions::new(&self.pool, self.hot(), &self.sessions)
    }

    pub fn mm_scores(&self) -> mmws::Scores<'_> {
        mmws::Scores::new(&self.pool, self.hot())
    }

    pub fn mm_races(&self) -> mmws::Races<'_> {
        mmws::Races::new(&self.pool, self.hot())
    }

    pub fn mm_progression(&self) -> mmws::Progression<'_> {
        mmws::Progression::new(self.hot())
    }

    pub fn mco_accounts(&self) -> mco::Accounts<'_> {
        mco::Accounts::new(&self.pool)
    }

    pub fn mco_tickets(&self) -> mco::Tickets<'_> {
        mco::Tickets::new(&self.pool)
    }

    pub fn mco_sessions(&self) -> mco::Sessions<'_> {
        mco::Sessions::new(&self.pool)
    }

    pub fn mco_personas(&self) -> mco::Personas<'_> {
        mco::Personas::new(&self.pool)
    }

    pub fn mco_login_failures(&self) -> mco::LoginFailures<'_> {
        mco::LoginFailures::new(&self.pool)
    }

    pub fn admin_accounts(&self) -> admin::AdminAccounts<'_> {
        admin::AdminAccounts::new(&self.pool)
    }

    pub fn admin_sessions(&self) -> admin::AdminSessions<'_> {
        admin::AdminSessions::new(&self.pool)
    }

    pub fn admin_login_failures(&self) -> admin::AdminLoginFailures<'_> {
        admin::AdminLoginFailures::new(&self.pool)
    }

    pub fn audit_log(&self) -> admin::AuditLog<'_> {
        admin::AuditLog::new(&self.pool)
    }

    pub fn admin_views(&self) -> admin::AdminViews<'_> {
        admin::AdminViews::new(&self.pool)
    }

    pub fn mm_season_starts(&self) -> mmws::SeasonStarts<'_> {
        mmws::SeasonStarts::new(&self.pool)
    }

    pub fn mm_bans(&self) -> mmws::Bans<'_> {
        mmws::Bans::new(&self.pool, self.hot(), &self.sessions)
    }

    pub fn mco_garage(&self) -> mco::Garage<'_> {
        mco::Garage::new(&self.pool)
    }

    pub fn mco_catalogue(&self) -> mco::CarCatalogue<'_> {
        mco::CarCatalogue::new(&self.pool)
    }
}

/// An SQLite pool of `max` connections with Pitlane's settings on each.
/// `synchronous = NORMAL` in WAL mode: a commit is in the WAL before the
/// answer goes out, so it survives the process being killed (see
/// docs/performance.md for the power-loss trade-off).
///
/// No test query before each checkout (`test_before_acquire`): an
/// in-process SQLite connection cannot go stale, and the test is one more
/// round trip to the connection's worker thread on every query.
fn sqlite_pool(options: AnyPoolOptions, max: u32) -> AnyPoolOptions {
    options
        .max_connections(max)
        .test_before_acquire(false)
        .after_connect(|conn, _| {
            Box::pin(async move {
                for pragma in [
                    "PRAGMA journal_mode = WAL",
                    "PRAGMA busy_timeout = 10000",
                    "PRAGMA synchronous = NORMAL",
                    "PRAGMA foreign_keys = ON",
                ] {
                    sqlx::Executor::execute(&mut *conn, pragma).await?;
                }
                Ok(())
            })
        })
}

/// The file behind an `sqlite:` URL; `None` for in-memory databases,
/// which another connection could not share.
fn sqlite_file(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let memory =
        path.is_empty() || path == ":memory:" || query.split('&').any(|kv| kv == "mode=memory");
    (!memory).then(|| path.to_string())
}

/// A database URL fit for a log line: the password, if any, replaced.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://pit:secret@db:5432/x"),
            "postgres://pit:***@db:5432/x"
        );
        assert_eq!(redact("postgres://pit@db/x"), "postgres://pit@db/x");
        assert_eq!(redact("sqlite://a.db"), "sqlite://a.db");
    }

    #[test]
    fn sqlite_files_are_found_in_urls() {
        assert_eq!(
            sqlite_file("sqlite://data/p.db?mode=rwc").as_deref(),
            Some("data/p.db")
        );
        assert_eq!(
            sqlite_file("sqlite:///tmp/p.db").as_deref(),
            Some("/tmp/p.db")
        );
        assert_eq!(sqlite_file("sqlite:p.db").as_deref(), Some("p.db"));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("sqlite://x?mode=memory"), None);
        assert_eq!(sqlite_file("postgres://h/db"), None);
    }
}
