//! Dashboard sessions. The browser holds a random token in a cookie; only
//! its digest is stored. A session ends at `expires_at` (absolute) or after
//! `idle` without a request, whichever comes first: a dashboard left open
//! on a shared PC should not stay usable for the rest of the day.

use chrono::{DateTime, Duration, Utc};
use pitlane_core::clock::{from_millis, to_millis};
use sqlx::{AnyPool, Row};

use crate::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminSession {
    pub admin_id: i64,
    pub admin_name: String,
    /// Must accompany every form the session posts.
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub struct AdminSessions<'a> {
    pool: &'a AnyPool,
}

impl<'a> AdminSessions<'a> {
    pub(crate) fn new(pool: &'a AnyPool) -> Self {
        Self { pool }
    }

    pub async fn start(
        &self,
        token_digest: &str,
        admin_id: i64,
        csrf_token: &str,
        client_addr: &str,
        now: DateTime<Utc>,
        lifetime: Duration,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO admin_sessions (token_digest, admin_id, csrf_token, created_at, \
             last_used_at, expires_at, client_addr) VALUES ($1, $2, $3, $4, $4, $5, $6)",
        )
        .bind(token_digest)
        .bind(admin_id)
        .bind(csrf_token)
        .bind(to_millis(now))
        .bind(to_millis(now + lifetime))
        .bind(client_addr)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// The live session behind a cookie digest, marked as used now.
    pub async fn use_session(
        &self,
        token_digest: &str,
        now: DateTime<Utc>,
        idle: Duration,
    ) -> Result<Option<AdminSession>> {
        let at = to_millis(now);
        let row = sqlx::query(
            "UPDATE admin_sessions SET last_used_at = $2 \
             WHERE token_digest = $1 AND expires_at > $2 AND last_used_at > $3 \
             RETURNING admin_id, csrf_token, created_at, expires_at",
        )
        .bind(token_digest)
        .bind(at)
        .bind(to_millis(now - idle))
        .fetch_optional(self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let admin_id: i64 = row.try_get("admin_id")?;
        let name = sqlx::query("SELECT name FROM admin_accounts WHERE admin_id = $1")
            .bind(admin_id)
            .fetch_optional(self.pool)
            .await?;
        let Some(name) = name else {
            return Ok(None);
        };
        Ok(Some(AdminSession {
            admin_id,
            admin_name: name.try_get("name")?,
            csrf_token: row.try_get("csrf_token")?,
            created_at: from_millis(row.try_get("created_at")?),
            last_used_at: now,
            expires_at: from_millis(row.try_get("expires_at")?),
        }))
    }

    /// Logout. Returns whether there was such a session.
    pub async fn end(&self, token_digest: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM admin_sessions WHERE token_digest = $1")
            .bind(token_digest)
            .execute(self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Deletes sessions past their absolute expiry or idle for longer than
    /// `idle`; returns how many.
    pub async fn purge_expired(&self, now: DateTime<Utc>, idle: Duration) -> Result<u64> {
        let done =
            sqlx::query("DELETE FROM admin_sessions WHERE expires_at <= $1 OR last_used_at <= $2")
                .bind(to_millis(now))
                .bind(to_millis(now - idle))
                .execute(self.pool)
                .await?;
        Ok(done.rows_affected())
    }
}
