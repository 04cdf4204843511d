//! Pitlane's database. One URL picks the backend (`sqlite://...` embedded by
//! default, `postgres://...` to scale); both run the same queries through
//! sqlx's `Any` driver, and each backend has its own migration folder for
//! the few places where their DDL differs.
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
pub mod mco;
pub mod mmws;
pub mod password;
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
    Query(#[from] sqlx::Error),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A handle to the database, cheap to clone (it is a connection pool).
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
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
            // SQLite serialises writers anyway; WAL lets readers run beside
            // the one writer, and busy_timeout makes writers queue instead of
            // failing with SQLITE_BUSY under load.
            Backend::Sqlite => pool_options
                .max_connections(8)
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
        Ok(Self { pool, backend })
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

    pub fn mm_accounts(&self) -> mmws::Accounts<'_> {
        mmws::Accounts::new(&self.pool)
    }

    pub fn mm_sessions(&self) -> mmws::Sessions<'_> {
        mmws::Sessions::new(&self.pool)
    }

    pub fn mm_scores(&self) -> mmws::Scores<'_> {
        mmws::Scores::new(&self.pool)
    }

    pub fn mm_races(&self) -> mmws::Races<'_> {
        mmws::Races::new(&self.pool)
    }

    pub fn mm_progression(&self) -> mmws::Progression<'_> {
        mmws::Progression::new(&self.pool)
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

    pub fn mm_bans(&self) -> mmws::Bans<'_> {
        mmws::Bans::new(&self.pool)
    }

    pub fn mco_garage(&self) -> mco::Garage<'_> {
        mco::Garage::new(&self.pool)
    }
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
}
