//! NPS sessions: the key a client chose at login (0x501) and the persona it
//! then picked (0x503), one row per customer.
//!
//! The key is kept in clear (hex) because the lobby and MCOTS connections
//! of the same login encrypt with it without ever sending it again, and
//! they may reach another instance than the login did.

use chrono::{DateTime, Utc};
use pitlane_core::clock::{from_millis, to_millis};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use crate::{Result, StoreError};

#[derive(Clone, PartialEq, Eq)]
pub struct McoSession {
    pub customer_id: i64,
    pub session_key: Vec<u8>,
    /// The expiry value the client put beside the key (0 in every capture;
    /// its meaning is unknown), kept so the key can be rebuilt exactly.
    pub key_expiry: i64,
    pub started_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The persona (and its shard) chosen with 0x503, if any yet.
    pub persona_id: Option<i64>,
    pub shard_id: Option<i64>,
}

/// Redacted: the key decrypts the player's whole session.
impl std::fmt::Debug for McoSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McoSession")
            .field("customer_id", &self.customer_id)
            .field("session_key", &"<redacted>")
            .field("key_expiry", &self.key_expiry)
            .field("started_at", &self.started_at)
            .field("expires_at", &self.expires_at)
            .field("persona_id", &self.persona_id)
            .field("shard_id", &self.shard_id)
            .finish()
    }
}

const COLUMNS: &str =
    "customer_id, session_key, key_expiry, started_at, expires_at, persona_id, shard_id";

fn from_row(row: &AnyRow) -> Result<McoSession> {
    let customer_id: i64 = row.try_get("customer_id")?;
    let key_hex: String = row.try_get("session_key")?;
    let session_key = hex::decode(&key_hex)
        .map_err(|e| StoreError::Corrupt(format!("session key of customer {customer_id}: {e}")))?;
    Ok(McoSession {
        customer_id,
        session_key,
        key_expiry: row.try_get("key_expiry")?,
        started_at: from_millis(row.try_get("started_at")?),
        expires_at: from_millis(row.try_get("expires_at")?),
        persona_id: row.try_get("persona_id")?,
        shard_id: row.try_get("shard_id")?,
    })
}

pub struct Sessions<'a> {
    pool: &'a AnyPool,
}

impl<'a> Sessions<'a> {
    pub(crate) fn new(pool: &'a AnyPool) -> Self {
        Self { pool }
    }

    /// Starts the customer's session with a new key, replacing any earlier
    /// session (and forgetting its persona choice): a fresh login always
    /// brings a fresh key, and the old one must stop working.
    pub async fn start(
        &self,
        customer_id: i64,
        session_key: &[u8],
        key_expiry: i64,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO mco_sessions (customer_id, session_key, key_expiry, started_at, expires_at, persona_id, shard_id) \
             VALUES ($1, $2, $3, $4, $5, NULL, NULL) \
             ON CONFLICT (customer_id) DO UPDATE SET session_key = excluded.session_key, \
               key_expiry = excluded.key_expiry, started_at = excluded.started_at, \
               expires_at = excluded.expires_at, persona_id = NULL, shard_id = NULL",
        )
        .bind(customer_id)
        .bind(hex::encode(session_key))
        .bind(key_expiry)
        .bind(to_millis(now))
        .bind(to_millis(expires_at))
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// The customer's session if it has not expired.
    pub async fn live(&self, customer_id: i64, now: DateTime<Utc>) -> Result<Option<McoSession>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM mco_sessions WHERE customer_id = $1 AND expires_at > $2"
        ))
        .bind(customer_id)
        .bind(to_millis(now))
        .fetch_optional(self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// The live session that chose this persona: how the lobby, whose login
    /// names only the persona, finds the customer and the key.
    pub async fn by_persona(
        &self,
        persona_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<McoSession>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM mco_sessions WHERE persona_id = $1 AND expires_at > $2"
        ))
        .bind(persona_id)
        .bind(to_millis(now))
        .fetch_optional(self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Records the persona the customer plays from now on. Changes nothing
    /// and returns false unless the customer has a live session and the
    /// persona is theirs and lives on `shard_id`: the ids come straight
    /// from the client.
    pub async fn select_persona(
        &self,
        customer_id: i64,
        persona_id: i64,
        shard_id: i64,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let at = to_millis(now);
        let mut tx = self.pool.begin().await?;
        // The persona row first, then the session row: the order in which
        // deleting a persona (or its account) reaches them, so PostgreSQL
        // never sees the two waiting on each other.
        let owned = sqlx::query(
            "UPDATE mco_personas SET last_selected_at = $4 \
             WHERE persona_id = $2 AND customer_id = $1 AND shard_id = $3",
        )
        .bind(customer_id)
        .bind(persona_id)
        .bind(shard_id)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        if owned.rows_affected() == 0 {
            return Ok(false);
        }
        let chosen = sqlx::query(
            "UPDATE mco_sessions SET persona_id = $2, shard_id = $3 \
             WHERE customer_id = $1 AND expires_at > $4",
        )
        .bind(customer_id)
        .bind(persona_id)
        .bind(shard_id)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        if chosen.rows_affected() == 0 {
            // No live session: roll the timestamp back with the rest.
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Ends the customer's session. Returns false when there was none.
    pub async fn end(&self, customer_id: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM mco_sessions WHERE customer_id = $1")
            .bind(customer_id)
            .execute(self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Live sessions, on one shard (persona chosen there) or in all (every
    /// logged-in customer): the ShardList's population.
    pub async fn count_live(&self, shard_id: Option<i64>, now: DateTime<Utc>) -> Result<i64> {
        let row = match shard_id {
            Some(shard) => sqlx::query(
                "SELECT COUNT(*) AS n FROM mco_sessions WHERE expires_at > $1 AND shard_id = $2",
            )
            .bind(to_millis(now))
            .bind(shard)
            .fetch_one(self.pool)
            .await?,
            None => {
                sqlx::query("SELECT COUNT(*) AS n FROM mco_sessions WHERE expires_at > $1")
                    .bind(to_millis(now))
                    .fetch_one(self.pool)
                    .await?
            }
        };
        Ok(row.try_get("n")?)
    }

    /// Deletes expired sessions; returns how many.
    pub async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64> {
        let done = sqlx::query("DELETE FROM mco_sessions WHERE expires_at <= $1")
            .bind(to_millis(now))
            .execute(self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
