//! Failed dashboard logins. `max` failures within `window` block the name
//! (or the client address) until the oldest of them leaves the window.
//! Attempts refused while blocked are not checked and not recorded, so a
//! blocked guesser learns nothing and the block ends on time.

use chrono::{DateTime, Duration, Utc};
use pitlane_core::clock::{from_millis, to_millis};
use sqlx::{AnyPool, Row};

use crate::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureScope {
    /// Per operator name (lower-cased): slows guessing one account from
    /// many addresses.
    Name,
    /// Per client address: slows one machine guessing many names.
    Address,
}

impl FailureScope {
    fn as_str(self) -> &'static str {
        match self {
            FailureScope::Name => "name",
            FailureScope::Address => "address",
        }
    }
}

pub struct AdminLoginFailures<'a> {
    pool: &'a AnyPool,
}

impl<'a> AdminLoginFailures<'a> {
    pub(crate) fn new(pool: &'a AnyPool) -> Self {
        Self { pool }
    }

    pub async fn record(
        &self,
        scope: FailureScope,
        subject: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO admin_login_failures (scope, subject, failed_at) VALUES ($1, $2, $3)",
        )
        .bind(scope.as_str())
        .bind(subject.to_ascii_lowercase())
        .bind(to_millis(now))
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// Until when `subject` is blocked, or `None` if it may try now.
    pub async fn blocked_until(
        &self,
        scope: FailureScope,
        subject: &str,
        max: i64,
        window: Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, MIN(failed_at) AS oldest FROM admin_login_failures \
             WHERE scope = $1 AND subject = $2 AND failed_at > $3",
        )
        .bind(scope.as_str())
        .bind(subject.to_ascii_lowercase())
        .bind(to_millis(now - window))
        .fetch_one(self.pool)
        .await?;
        let n: i64 = row.try_get("n")?;
        let oldest: Option<i64> = row.try_get("oldest")?;
        Ok(match oldest {
            Some(oldest) if n >= max => Some(from_millis(oldest) + window),
            _ => None,
        })
    }

    /// Forgets a subject's failures (after a successful login).
    pub async fn clear(&self, scope: FailureScope, subject: &str) -> Result<()> {
        sqlx::query("DELETE FROM admin_login_failures WHERE scope = $1 AND subject = $2")
            .bind(scope.as_str())
            .bind(subject.to_ascii_lowercase())
            .execute(self.pool)
            .await?;
        Ok(())
    }

    pub async fn purge_before(&self, before: DateTime<Utc>) -> Result<u64> {
        let done = sqlx::query("DELETE FROM admin_login_failures WHERE failed_at < $1")
            .bind(to_millis(before))
            .execute(self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
