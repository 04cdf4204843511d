//! Micro Machines bans, set by an operator on the dashboard. Keyed by the
//! SteamID64, which a player cannot change, not by the account number.

use chrono::{DateTime, Utc};
use pitlane_core::clock::{from_millis, to_millis};
use sqlx::AnyPool;

use super::SessionCache;
use crate::exec::{args, Columns, Exec, Statements};
use crate::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MmBan {
    pub steam_id: u64,
    pub since: DateTime<Utc>,
    /// `None`: until lifted by hand.
    pub until: Option<DateTime<Utc>>,
    pub reason: String,
    /// The operator who set it.
    pub banned_by: String,
}

impl MmBan {
    /// Timed bans lapse by themselves, so nobody has to remember to lift
    /// them.
    pub fn in_force(&self, now: DateTime<Utc>) -> bool {
        self.until.is_none_or(|until| until > now)
    }
}

const COLUMNS: &str = "steam_id, banned_at, banned_until, reason, banned_by";

fn from_row(row: &impl Columns) -> Result<MmBan> {
    Ok(MmBan {
        steam_id: row.int("steam_id")? as u64,
        since: from_millis(row.int("banned_at")?),
        until: row.opt_int("banned_until")?.map(from_millis),
        reason: row.text("reason")?,
        banned_by: row.text("banned_by")?,
    })
}

pub struct Bans<'a> {
    pool: &'a AnyPool,
    /// Login's ban check (the SQLite lane).
    hot: Exec<'a>,
    sessions: &'a SessionCache,
}

impl<'a> Bans<'a> {
    pub(crate) fn new(pool: &'a AnyPool, hot: Exec<'a>, sessions: &'a SessionCache) -> Self {
        Self {
            pool,
            hot,
            sessions,
        }
    }

    /// Bans (or re-bans with new terms) a Steam account and ends its live
    /// sessions at once: the next call the game makes is refused, it logs
    /// in again, and that Login is refused with the reason.
    pub async fn ban(
        &self,
        steam_id: u64,
        reason: &str,
        until: Option<DateTime<Utc>>,
        banned_by: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let key = steam_id as i64;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO mm_bans (steam_id, banned_at, banned_until, reason, banned_by) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (steam_id) DO UPDATE SET \
             banned_at = excluded.banned_at, banned_until = excluded.banned_until, \
             reason = excluded.reason, banned_by = excluded.banned_by",
        )
        .bind(key)
        .bind(to_millis(now))
        .bind(until.map(to_millis))
        .bind(reason)
        .bind(banned_by)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM mm_sessions WHERE user_id IN \
             (SELECT user_id FROM mm_accounts WHERE steam_id = $1)",
        )
        .bind(key)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.sessions.forget_steam_id(steam_id);
        Ok(())
    }

    /// Lifts a ban. Returns whether there was one.
    pub async fn unban(&self, steam_id: u64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM mm_bans WHERE steam_id = $1")
            .bind(steam_id as i64)
            .execute(self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The ban recorded for a Steam account, in force or lapsed.
    pub async fn get(&self, steam_id: u64) -> Result<Option<MmBan>> {
        self.hot
            .run(move |st| Box::pin(async move { get_in(st, steam_id).await }))
            .await
    }

    /// The ban in force at `now`, if any: what Login checks.
    pub async fn in_force(&self, steam_id: u64, now: DateTime<Utc>) -> Result<Option<MmBan>> {
        Ok(self.get(steam_id).await?.filter(|b| b.in_force(now)))
    }

    /// Bans in force, newest first.
    pub async fn list_in_force(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<MmBan>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM mm_bans WHERE banned_until IS NULL OR banned_until > $1 \
             ORDER BY banned_at DESC LIMIT $2"
        ))
        .bind(to_millis(now))
        .bind(limit)
        .fetch_all(self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }
}

/// [`Bans::get`], as a part of larger store logic (Login's one job).
pub(crate) async fn get_in(st: &mut dyn Statements, steam_id: u64) -> Result<Option<MmBan>> {
    let row = st
        .optional(
            format!("SELECT {COLUMNS} FROM mm_bans WHERE steam_id = $1"),
            args![steam_id as i64],
        )
        .await?;
    row.as_ref().map(from_row).transpose()
}
