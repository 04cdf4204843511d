//! Season progression: points claimed for races, the season head start, and
//! the player's reported level. Every change to a score happens in one
//! transaction whose first statement writes, so concurrent claims for the
//! same player serialise instead of losing an update (SQLite takes its write
//! lock there; PostgreSQL locks the rows).

use chrono::{DateTime, Utc};
use pitlane_core::clock::to_millis;
use sqlx::{AnyConnection, AnyPool, Row};

use super::scores::SeasonScore;
use crate::exec::{args, Columns, Exec, Statements};
use crate::Result;

/// The rules that belong to the game, not the store.
pub trait SeasonRules: Send + Sync {
    /// Division after a change of points, from the division held before.
    fn division_after(&self, old_division: i64, new_points: i64) -> i64;
    /// Points and division a player starts a season with, from their last
    /// season's final score and 0-based rank.
    fn head_start(&self, previous: &SeasonScore, previous_rank: i64) -> (i64, i64);
}

/// A player arriving in a new season for the first time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollover {
    pub previous_season: i64,
    pub bonus_points: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointsClaim<'a> {
    pub season_id: i64,
    pub user_id: i64,
    pub steam_id: u64,
    pub race_key: &'a str,
    pub delta: i64,
    pub level: i64,
    pub prestige: i64,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The player is not listed in that race (or the race is unknown).
    NotInRace,
    /// Points for this race were already applied; nothing changed.
    AlreadyClaimed { delta: i64 },
    Applied {
        old_division: i64,
        new_points: i64,
        new_division: i64,
        rollover: Option<Rollover>,
    },
}

pub struct Progression<'a> {
    /// Writes go through the store's writer (one connection on SQLite).
    writer: &'a AnyPool,
    /// Login's season check (the SQLite lane).
    hot: Exec<'a>,
}

impl<'a> Progression<'a> {
    pub(crate) fn new(writer: &'a AnyPool, hot: Exec<'a>) -> Self {
        Self { writer, hot }
    }

    /// Applies a race's points delta (never below zero), once per player
    /// and race, and records the reported level and prestige.
    pub async fn claim(
        &self,
        claim: &PointsClaim<'_>,
        rules: &dyn SeasonRules,
    ) -> Result<ClaimOutcome> {
        let at = to_millis(claim.now);
        let mut tx = self.writer.begin().await?;
        let marked = sqlx::query(
            "UPDATE mm_race_players SET points_delta = $3, points_at = $4 \
             WHERE race_key = $1 AND steam_id = $2 AND points_delta IS NULL",
        )
        .bind(claim.race_key)
        .bind(claim.steam_id as i64)
        .bind(claim.delta)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        if marked.rows_affected() == 0 {
            let row = sqlx::query(
                "SELECT points_delta FROM mm_race_players WHERE race_key = $1 AND steam_id = $2",
            )
            .bind(claim.race_key)
            .bind(claim.steam_id as i64)
            .fetch_optional(&mut *tx)
            .await?;
            tx.rollback().await?;
            return Ok(match row {
                Some(row) => ClaimOutcome::AlreadyClaimed {
                    delta: row.try_get::<Option<i64>, _>("points_delta")?.unwrap_or(0),
                },
                None => ClaimOutcome::NotInRace,
            });
        }
        let rollover = enter_season(
            &mut tx,
            claim.season_id,
            claim.user_id,
            rules,
            claim.now,
            true,
        )
        .await?;
        let row = sqlx::query(
            "UPDATE mm_scores SET \
               points = CASE WHEN points + $3 < 0 THEN 0 ELSE points + $3 END, \
               reached_at = CASE WHEN $3 = 0 THEN reached_at ELSE $4 END, \
               updated_at = $4 \
             WHERE season_id = $1 AND user_id = $2 RETURNING points, division",
        )
        .bind(claim.season_id)
        .bind(claim.user_id)
        .bind(claim.delta)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        let new_points: i64 = row.try_get("points")?;
        let old_division: i64 = row.try_get("division")?;
        let new_division = rules.division_after(old_division, new_points);
        if new_division != old_division {
            sqlx::query("UPDATE mm_scores SET division = $3 WHERE season_id = $1 AND user_id = $2")
                .bind(claim.season_id)
                .bind(claim.user_id)
                .bind(new_division)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("UPDATE mm_accounts SET level = $2, prestige = $3, last_seen_at = $4 WHERE user_id = $1")
            .bind(claim.user_id)
            .bind(claim.level)
            .bind(claim.prestige)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(ClaimOutcome::Applied {
            old_division,
            new_points,
            new_division,
            rollover,
        })
    }

    /// Gives a player who played an earlier season their head start in
    /// `season_id` the first time they appear in it. `None` when they
    /// already have a score this season or never played before.
    pub async fn enter_season(
        &self,
        season_id: i64,
        user_id: i64,
        rules: &dyn SeasonRules,
        now: DateTime<Utc>,
    ) -> Result<Option<Rollover>> {
        // Nearly every login is a player already in the season or one who
        // never scored: one read answers both without a transaction. The
        // transaction below checks again.
        let latest = self
            .hot
            .run(move |st| Box::pin(async move { latest_season_in(st, user_id, season_id).await }))
            .await?;
        match latest {
            None => return Ok(None),
            Some(latest) if latest == season_id => return Ok(None),
            Some(_) => {}
        }
        let mut tx = self.writer.begin().await?;
        let rollover = enter_season(&mut tx, season_id, user_id, rules, now, false).await?;
        tx.commit().await?;
        Ok(rollover)
    }
}

/// The latest season up to `season_id` the player has a score in: the
/// quick check before [`Progression::enter_season`]'s transaction.
pub(crate) async fn latest_season_in(
    st: &mut dyn Statements,
    user_id: i64,
    season_id: i64,
) -> Result<Option<i64>> {
    st.one(
        "SELECT MAX(season_id) AS latest FROM mm_scores WHERE user_id = $1 AND season_id <= $2",
        args![user_id, season_id],
    )
    .await?
    .opt_int("latest")
}

/// Gives the player a row in `season_id` if they have none (inside the
/// caller's transaction): with the head start from their most recent
/// earlier season, or, for a first-time player, an empty row only when
/// `create_empty` (a login alone does not put anyone on the leaderboard).
async fn enter_season(
    conn: &mut AnyConnection,
    season_id: i64,
    user_id: i64,
    rules: &dyn SeasonRules,
    now: DateTime<Utc>,
    create_empty: bool,
) -> Result<Option<Rollover>> {
    let exists =
        sqlx::query("SELECT 1 AS one FROM mm_scores WHERE season_id = $1 AND user_id = $2")
            .bind(season_id)
            .bind(user_id)
            .fetch_optional(&mut *conn)
            .await?
            .is_some();
    if exists {
        return Ok(None);
    }
    let previous = sqlx::query(
        "SELECT season_id, user_id, points, division, reached_at, updated_at FROM mm_scores \
         WHERE user_id = $1 AND season_id < $2 ORDER BY season_id DESC LIMIT 1",
    )
    .bind(user_id)
    .bind(season_id)
    .fetch_optional(&mut *conn)
    .await?;
    let previous = previous
        .as_ref()
        .map(super::scores::score_from_row)
        .transpose()?;
    let (points, division, rollover) = match &previous {
        Some(prev) => {
            let rank = rank_in(&mut *conn, prev).await?;
            let (points, division) = rules.head_start(prev, rank);
            (
                points,
                division,
                Some(Rollover {
                    previous_season: prev.season_id,
                    bonus_points: points,
                }),
            )
        }
        None if create_empty => (0, 0, None),
        None => return Ok(None),
    };
    let at = to_millis(now);
    sqlx::query(
        "INSERT INTO mm_scores (season_id, user_id, points, division, reached_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (season_id, user_id) DO NOTHING",
    )
    .bind(season_id)
    .bind(user_id)
    .bind(points)
    .bind(division)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(rollover)
}

pub(crate) async fn rank_in(conn: &mut AnyConnection, score: &SeasonScore) -> Result<i64> {
    let row = sqlx::query(super::scores::RANK_SQL)
        .bind(score.season_id)
        .bind(score.points)
        .bind(to_millis(score.reached_at))
        .bind(score.user_id)
        .fetch_one(conn)
        .await?;
    Ok(row.try_get("n")?)
}
