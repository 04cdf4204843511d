//! Seasons an operator started ahead of the calendar. The calendar
//! (`pitlane_core::seasons`) holds them in memory; this table is where they
//! survive restarts and reach every instance sharing the database.

use chrono::{DateTime, Utc};
use pitlane_core::clock::{from_millis, to_millis};
use sqlx::{AnyPool, Row};

use crate::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeasonStart {
    pub season_id: i64,
    pub starts_at: DateTime<Utc>,
    /// The operator who started it.
    pub started_by: String,
    pub reason: String,
}

pub struct SeasonStarts<'a> {
    pool: &'a AnyPool,
}

impl<'a> SeasonStarts<'a> {
    pub(crate) fn new(pool: &'a AnyPool) -> Self {
        Self { pool }
    }

    /// Every early start, oldest season first.
    pub async fn all(&self) -> Result<Vec<SeasonStart>> {
        let rows = sqlx::query(
            "SELECT season_id, starts_at, started_by, reason FROM mm_season_starts ORDER BY season_id",
        )
        .fetch_all(self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SeasonStart {
                    season_id: r.try_get("season_id")?,
                    starts_at: from_millis(r.try_get("starts_at")?),
                    started_by: r.try_get("started_by")?,
                    reason: r.try_get("reason")?,
                })
            })
            .collect()
    }

    /// Records that `start.season_id` begins at `start.starts_at`. Returns
    /// false when that season was already started early: two operators
    /// pressing the button at once start one season, not two.
    pub async fn record(&self, start: &SeasonStart, now: DateTime<Utc>) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO mm_season_starts (season_id, starts_at, started_by, reason, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(start.season_id)
        .bind(to_millis(start.starts_at))
        .bind(&start.started_by)
        .bind(&start.reason)
        .bind(to_millis(now))
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
