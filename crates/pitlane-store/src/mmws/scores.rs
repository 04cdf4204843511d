//! Season scores. A player has a row in a season once they scored in it;
//! the leaderboard order is points descending, then who reached that total
//! first, then the older account.

use chrono::{DateTime, Utc};
use pitlane_core::clock::from_millis;
use sqlx::{AnyPool, Row};

use crate::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeasonScore {
    pub season_id: i64,
    pub user_id: i64,
    pub points: i64,
    pub division: i64,
    pub reached_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub struct Scores<'a> {
    pool: &'a AnyPool,
}

impl<'a> Scores<'a> {
    pub(crate) fn new(pool: &'a AnyPool) -> Self {
        Self { pool }
    }

    pub async fn get(&self, season_id: i64, user_id: i64) -> Result<Option<SeasonScore>> {
        let row = sqlx::query(
            "SELECT season_id, user_id, points, division, reached_at, updated_at \
             FROM mm_scores WHERE season_id = $1 AND user_id = $2",
        )
        .bind(season_id)
        .bind(user_id)
        .fetch_optional(self.pool)
        .await?;
        row.map(|row| {
            Ok(SeasonScore {
                season_id: row.try_get("season_id")?,
                user_id: row.try_get("user_id")?,
                points: row.try_get("points")?,
                division: row.try_get("division")?,
                reached_at: from_millis(row.try_get("reached_at")?),
                updated_at: from_millis(row.try_get("updated_at")?),
            })
        })
        .transpose()
    }

    /// 0-based leaderboard position of a stored score: how many rows of the
    /// season sort before it. Served by the `mm_scores_ranking` index.
    pub async fn rank_of(&self, score: &SeasonScore) -> Result<i64> {
        let reached = pitlane_core::clock::to_millis(score.reached_at);
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM mm_scores WHERE season_id = $1 AND ( \
               points > $2 OR (points = $2 AND (reached_at < $3 OR (reached_at = $3 AND user_id < $4))))",
        )
        .bind(score.season_id)
        .bind(score.points)
        .bind(reached)
        .bind(score.user_id)
        .fetch_one(self.pool)
        .await?;
        Ok(row.try_get("n")?)
    }

    /// Number of players with a score in the season: the position a player
    /// without one is shown at (after everyone who has scored).
    pub async fn ranked_players(&self, season_id: i64) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM mm_scores WHERE season_id = $1")
            .bind(season_id)
            .fetch_one(self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }
}

impl Scores<'_> {
    /// Sets a player's season total outright (operator corrections, imports
    /// and tests); `reached_at` moves only when the points change.
    pub async fn set(
        &self,
        season_id: i64,
        user_id: i64,
        points: i64,
        division: i64,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let at = pitlane_core::clock::to_millis(now);
        sqlx::query(
            "INSERT INTO mm_scores (season_id, user_id, points, division, reached_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) \
             ON CONFLICT (season_id, user_id) DO UPDATE SET \
               reached_at = CASE WHEN mm_scores.points = excluded.points THEN mm_scores.reached_at ELSE excluded.reached_at END, \
               points = excluded.points, division = excluded.division, updated_at = excluded.updated_at",
        )
        .bind(season_id)
        .bind(user_id)
        .bind(points)
        .bind(division)
        .bind(at)
        .execute(self.pool)
        .await?;
        Ok(())
    }
}
