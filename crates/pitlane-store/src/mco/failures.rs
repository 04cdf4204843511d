//! Failed AuthLogin attempts, kept so that password guessing is slowed
//! down per account name and per client address, on every instance that
//! shares the database.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use pitlane_core::clock::{from_millis, to_millis};
use sqlx::{AnyPool, Row};

use crate::{Result, StoreError};

/// What a failure is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureScope {
    /// An account name (folded like names are), whether or not the account
    /// exists, so the throttle does not reveal which names do.
    Account,
    /// A client address (or network, as the caller chooses to group them).
    Address,
}

impl FailureScope {
    fn as_str(self) -> &'static str {
        match self {
            FailureScope::Account => "account",
            FailureScope::Address => "address",
        }
    }
}

/// When repeated failures block further attempts: `max_failures` within
/// `window` block the subject until `lockout` after the last of them.
/// Attempts refused while blocked are not failures (their password is never
/// checked), so a blocked guesser gets nothing and the block ends on time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleRule {
    /// 0 disables the rule.
    pub max_failures: u32,
    pub window: Duration,
    pub lockout: Duration,
}

impl ThrottleRule {
    /// How far back records matter to this rule; older ones can be purged.
    pub fn horizon(&self) -> Duration {
        self.window.saturating_add(self.lockout)
    }
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

pub struct LoginFailures<'a> {
    pool: &'a AnyPool,
}

impl<'a> LoginFailures<'a> {
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
            "INSERT INTO mco_login_failures (scope, subject, failed_at) VALUES ($1, $2, $3)",
        )
        .bind(scope.as_str())
        .bind(subject)
        .bind(to_millis(now))
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// Until when `rule` blocks `subject`, or `None` if it may try now.
    pub async fn blocked_until(
        &self,
        scope: FailureScope,
        subject: &str,
        rule: &ThrottleRule,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        if rule.max_failures == 0 {
            return Ok(None);
        }
        let rows = sqlx::query(
            "SELECT failed_at FROM mco_login_failures WHERE scope = $1 AND subject = $2 \
             ORDER BY failed_at DESC LIMIT $3",
        )
        .bind(scope.as_str())
        .bind(subject)
        .bind(i64::from(rule.max_failures))
        .fetch_all(self.pool)
        .await?;
        if rows.len() < rule.max_failures as usize {
            return Ok(None);
        }
        let at = |i: usize| -> Result<DateTime<Utc>> {
            let row = rows
                .get(i)
                .ok_or_else(|| StoreError::Corrupt("failure rows vanished".into()))?;
            Ok(from_millis(row.try_get("failed_at")?))
        };
        let newest = at(0)?;
        let oldest = at(rows.len() - 1)?;
        if newest - oldest > delta(rule.window) {
            return Ok(None);
        }
        let until = newest
            .checked_add_signed(delta(rule.lockout))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        Ok((until > now).then_some(until))
    }

    /// Forgets a subject's failures (after a successful login to the
    /// account, say). Returns how many there were.
    pub async fn clear(&self, scope: FailureScope, subject: &str) -> Result<u64> {
        let done = sqlx::query("DELETE FROM mco_login_failures WHERE scope = $1 AND subject = $2")
            .bind(scope.as_str())
            .bind(subject)
            .execute(self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Deletes failures from before `before`; returns how many.
    pub async fn purge_before(&self, before: DateTime<Utc>) -> Result<u64> {
        let done = sqlx::query("DELETE FROM mco_login_failures WHERE failed_at < $1")
            .bind(to_millis(before))
            .execute(self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
