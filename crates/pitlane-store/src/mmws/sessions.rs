//! Login sessions. The client proves who it is only by the `SessionToken`
//! it got from Login; we keep a digest of it, never the token itself.

use chrono::{DateTime, Utc};
use pitlane_core::clock::{from_millis, to_millis};
use sqlx::{AnyPool, Row};

use crate::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MmSession {
    pub user_id: i64,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The game-configuration hash the client received at login, so a later
    /// call can tell it that the configuration changed since.
    pub config_hash: i64,
}

pub struct Sessions<'a> {
    pool: &'a AnyPool,
}

impl<'a> Sessions<'a> {
    pub(crate) fn new(pool: &'a AnyPool) -> Self {
        Self { pool }
    }

    /// Stores a new session and ends the account's earlier ones: each Login
    /// renews the session, as the official server's fresh token per login
    /// suggests, and a stolen old token stops working.
    pub async fn start(
        &self,
        token_digest: &str,
        session: &MmSession,
        client_addr: &str,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM mm_sessions WHERE user_id = $1")
            .bind(session.user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO mm_sessions (token_digest, user_id, issued_at, expires_at, client_addr, config_hash) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token_digest)
        .bind(session.user_id)
        .bind(to_millis(session.issued_at))
        .bind(to_millis(session.expires_at))
        .bind(client_addr)
        .bind(session.config_hash)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The live session behind a token digest, if it has not expired.
    pub async fn find(&self, token_digest: &str, now: DateTime<Utc>) -> Result<Option<MmSession>> {
        let row = sqlx::query(
            "SELECT user_id, issued_at, expires_at, config_hash FROM mm_sessions \
             WHERE token_digest = $1 AND expires_at > $2",
        )
        .bind(token_digest)
        .bind(to_millis(now))
        .fetch_optional(self.pool)
        .await?;
        row.map(|row| {
            Ok(MmSession {
                user_id: row.try_get("user_id")?,
                issued_at: from_millis(row.try_get("issued_at")?),
                expires_at: from_millis(row.try_get("expires_at")?),
                config_hash: row.try_get("config_hash")?,
            })
        })
        .transpose()
    }

    /// Deletes expired sessions; returns how many.
    pub async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64> {
        let done = sqlx::query("DELETE FROM mm_sessions WHERE expires_at <= $1")
            .bind(to_millis(now))
            .execute(self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
