//! The audit log: who changed what, when and why. Entries are only ever
//! added; the dashboard has no way to edit or delete them.

use chrono::{DateTime, Utc};
use pitlane_core::clock::{from_millis, to_millis};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use crate::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry<'a> {
    pub at: DateTime<Utc>,
    pub admin_name: &'a str,
    /// A short verb such as `mmws.ban`.
    pub action: &'a str,
    /// What it was done to, e.g. `mmws:76561198081105540`.
    pub target: &'a str,
    pub reason: &'a str,
    /// The values involved (new name, expiry, season...).
    pub detail: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub audit_id: i64,
    pub at: DateTime<Utc>,
    pub admin_name: String,
    pub action: String,
    pub target: String,
    pub reason: String,
    pub detail: String,
}

const COLUMNS: &str = "audit_id, at, admin_name, action, target, reason, detail";

fn from_row(row: &AnyRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        audit_id: row.try_get("audit_id")?,
        at: from_millis(row.try_get("at")?),
        admin_name: row.try_get("admin_name")?,
        action: row.try_get("action")?,
        target: row.try_get("target")?,
        reason: row.try_get("reason")?,
        detail: row.try_get("detail")?,
    })
}

pub struct AuditLog<'a> {
    pool: &'a AnyPool,
}

impl<'a> AuditLog<'a> {
    pub(crate) fn new(pool: &'a AnyPool) -> Self {
        Self { pool }
    }

    pub async fn record(&self, entry: &NewAuditEntry<'_>) -> Result<()> {
        sqlx::query(
            "INSERT INTO admin_audit (at, admin_name, action, target, reason, detail) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(to_millis(entry.at))
        .bind(entry.admin_name)
        .bind(entry.action)
        .bind(entry.target)
        .bind(entry.reason)
        .bind(entry.detail)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// Newest first, `limit` entries with ids below `before` (all when
    /// `None`): pages that stay stable while entries are added.
    pub async fn page(&self, before: Option<i64>, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM admin_audit WHERE audit_id < $1 \
             ORDER BY audit_id DESC LIMIT $2"
        ))
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// The entries about one target, newest first.
    pub async fn for_target(&self, target: &str, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM admin_audit WHERE target = $1 \
             ORDER BY audit_id DESC LIMIT $2"
        ))
        .bind(target)
        .bind(limit)
        .fetch_all(self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }
}
