//! AuthLogin tickets: what the client gets for a correct password over
//! HTTPS and hands back in NPS 0x501, the only proof on the NPS side that
//! the peer knows the password. Hence single-use, short-lived, and stored
//! as digests.

use chrono::{DateTime, Utc};
use pitlane_core::clock::to_millis;
use pitlane_core::ids::token_digest;
use sqlx::{AnyPool, Row};

use crate::Result;

pub struct Tickets<'a> {
    pool: &'a AnyPool,
}

impl<'a> Tickets<'a> {
    pub(crate) fn new(pool: &'a AnyPool) -> Self {
        Self { pool }
    }

    /// Stores a freshly issued ticket. The account's own expired tickets
    /// go at the same time, so a client that logs in over and over without
    /// ever reaching 0x501 cannot grow the table between purges.
    pub async fn issue(
        &self,
        ticket: &str,
        customer_id: i64,
        client_addr: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM mco_tickets WHERE customer_id = $1 AND expires_at <= $2")
            .bind(customer_id)
            .bind(to_millis(now))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO mco_tickets (ticket_digest, customer_id, issued_at, expires_at, client_addr) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_digest(ticket))
        .bind(customer_id)
        .bind(to_millis(now))
        .bind(to_millis(expires_at))
        .bind(client_addr)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Consumes a ticket and returns the customer it was issued to, or
    /// `None` when it is unknown, already used or expired.
    ///
    /// One `DELETE … RETURNING` does it: of two connections redeeming the
    /// same ticket at once, on any number of instances, exactly one gets the
    /// row back. An expired ticket is consumed too; it was worthless anyway.
    pub async fn redeem(&self, ticket: &str, now: DateTime<Utc>) -> Result<Option<i64>> {
        let row = sqlx::query(
            "DELETE FROM mco_tickets WHERE ticket_digest = $1 RETURNING customer_id, expires_at",
        )
        .bind(token_digest(ticket))
        .fetch_optional(self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let expires_at: i64 = row.try_get("expires_at")?;
        if expires_at <= to_millis(now) {
            return Ok(None);
        }
        Ok(Some(row.try_get("customer_id")?))
    }

    /// Deletes expired tickets; returns how many.
    pub async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64> {
        let done = sqlx::query("DELETE FROM mco_tickets WHERE expires_at <= $1")
            .bind(to_millis(now))
            .execute(self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
