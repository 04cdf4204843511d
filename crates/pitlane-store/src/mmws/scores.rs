//! Season scores. A player has a row in a season once they scored in it;
//! the leaderboard order is points descending, then who reached that total
//! first, then the older account.

use chrono::{DateTime, Utc};
use pitlane_core::clock::from_millis;
use pitlane_core::clock::to_millis;
use sqlx::{AnyPool, Row};

use crate::exec::{args, Columns, Exec, Statements};
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

/// How many scores of a season sort before ($2 points, reached at $3, user
/// $4): the leaderboard order is points descending, then who reached the
/// total first, then the older account.
pub(crate) const RANK_SQL: &str = "SELECT COUNT(*) AS n FROM mm_scores WHERE season_id = $1 AND ( \
    points > $2 OR (points = $2 AND (reached_at < $3 OR (reached_at = $3 AND user_id < $4))))";

/// The leaderboard order, for `ORDER BY`.
const ORDER: &str = "s.points DESC, s.reached_at, s.user_id";

/// One leaderboard line: a score and the account it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderboardRow {
    pub user_id: i64,
    pub steam_id: u64,
    pub name: String,
    pub title: String,
    pub level: i64,
    pub prestige: i64,
    pub points: i64,
    pub division: i64,
}

const ROW_COLUMNS: &str =
    "s.user_id, a.steam_id, a.display_name, a.title, a.level, a.prestige, s.points, s.division";

fn leaderboard_row(row: &sqlx::any::AnyRow) -> Result<LeaderboardRow> {
    Ok(LeaderboardRow {
        user_id: row.try_get("user_id")?,
        steam_id: row.try_get::<i64, _>("steam_id")? as u64,
        name: row.try_get("display_name")?,
        title: row.try_get("title")?,
        level: row.try_get("level")?,
        prestige: row.try_get("prestige")?,
        points: row.try_get("points")?,
        division: row.try_get("division")?,
    })
}

/// A `mm_scores` row selected with all its columns.
pub(crate) fn score_from_row(row: &impl Columns) -> Result<SeasonScore> {
    Ok(SeasonScore {
        season_id: row.int("season_id")?,
        user_id: row.int("user_id")?,
        points: row.int("points")?,
        division: row.int("division")?,
        reached_at: from_millis(row.int("reached_at")?),
        updated_at: from_millis(row.int("updated_at")?),
    })
}

/// The arguments of [`RANK_SQL`] for a stored score.
pub(crate) fn rank_args(score: &SeasonScore) -> Vec<crate::exec::Arg> {
    args![
        score.season_id,
        score.points,
        to_millis(score.reached_at),
        score.user_id
    ]
}

pub struct Scores<'a> {
    pool: &'a AnyPool,
    /// Login's score statements and operator writes (the SQLite lane).
    hot: Exec<'a>,
}

impl<'a> Scores<'a> {
    pub(crate) fn new(pool: &'a AnyPool, hot: Exec<'a>) -> Self {
        Self { pool, hot }
    }

    pub async fn get(&self, season_id: i64, user_id: i64) -> Result<Option<SeasonScore>> {
        self.hot
            .run(move |st| Box::pin(async move { get_in(st, season_id, user_id).await }))
            .await
    }

    /// 0-based leaderboard position of a stored score: how many rows of the
    /// season sort before it. Served by the `mm_scores_ranking` index.
    pub async fn rank_of(&self, score: &SeasonScore) -> Result<i64> {
        let score = score.clone();
        self.hot
            .run(move |st| Box::pin(async move { rank_of_in(st, &score).await }))
            .await
    }

    /// Number of players with a score in the season: the position a player
    /// without one is shown at (after everyone who has scored).
    pub async fn ranked_players(&self, season_id: i64) -> Result<i64> {
        self.hot
            .run(move |st| Box::pin(async move { ranked_players_in(st, season_id).await }))
            .await
    }
}

/// [`Scores::get`], as a part of larger store logic (Login's one job).
pub(crate) async fn get_in(
    st: &mut dyn Statements,
    season_id: i64,
    user_id: i64,
) -> Result<Option<SeasonScore>> {
    let row = st
        .optional(
            "SELECT season_id, user_id, points, division, reached_at, updated_at \
             FROM mm_scores WHERE season_id = $1 AND user_id = $2",
            args![season_id, user_id],
        )
        .await?;
    row.as_ref().map(score_from_row).transpose()
}

/// [`Scores::rank_of`], as a part of larger store logic.
pub(crate) async fn rank_of_in(st: &mut dyn Statements, score: &SeasonScore) -> Result<i64> {
    st.one(RANK_SQL, rank_args(score)).await?.int("n")
}

/// [`Scores::ranked_players`], as a part of larger store logic.
pub(crate) async fn ranked_players_in(st: &mut dyn Statements, season_id: i64) -> Result<i64> {
    st.one(
        "SELECT COUNT(*) AS n FROM mm_scores WHERE season_id = $1",
        args![season_id],
    )
    .await?
    .int("n")
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
        let at = to_millis(now);
        self.hot
            .execute(
                "INSERT INTO mm_scores (season_id, user_id, points, division, reached_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5) \
                 ON CONFLICT (season_id, user_id) DO UPDATE SET \
                   reached_at = CASE WHEN mm_scores.points = excluded.points THEN mm_scores.reached_at ELSE excluded.reached_at END, \
                   points = excluded.points, division = excluded.division, updated_at = excluded.updated_at",
                args![season_id, user_id, points, division, at],
            )
            .await?;
        Ok(())
    }
}

impl Scores<'_> {
    /// A page of the season leaderboard starting at 0-based `offset`.
    pub async fn page(
        &self,
        season_id: i64,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<LeaderboardRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {ROW_COLUMNS} FROM mm_scores s JOIN mm_accounts a ON a.user_id = s.user_id \
             WHERE s.season_id = $1 ORDER BY {ORDER} LIMIT $2 OFFSET $3"
        ))
        .bind(season_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(self.pool)
        .await?;
        rows.iter().map(leaderboard_row).collect()
    }

    /// The season scores of the given Steam accounts, in leaderboard order.
    pub async fn of_steam_ids(
        &self,
        season_id: i64,
        steam_ids: &[u64],
        limit: i64,
    ) -> Result<Vec<LeaderboardRow>> {
        if steam_ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (0..steam_ids.len())
            .map(|i| format!("${}", i + 3))
            .collect();
        let sql = format!(
            "SELECT {ROW_COLUMNS} FROM mm_scores s JOIN mm_accounts a ON a.user_id = s.user_id \
             WHERE s.season_id = $1 AND a.steam_id IN ({}) ORDER BY {ORDER} LIMIT $2",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(season_id).bind(limit);
        for id in steam_ids {
            query = query.bind(*id as i64);
        }
        let rows = query.fetch_all(self.pool).await?;
        rows.iter().map(leaderboard_row).collect()
    }
}
