//! Season progression: points claimed for races, the season head start, and
//! the player's reported level. Every change to a score happens in one
//! transaction whose first statement writes, so concurrent claims for the
//! same player serialise instead of losing an update (SQLite takes its write
//! lock there; PostgreSQL locks the rows).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use pitlane_core::clock::to_millis;

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
    /// Claims and season entries (the SQLite lane).
    hot: Exec<'a>,
}

impl<'a> Progression<'a> {
    pub(crate) fn new(hot: Exec<'a>) -> Self {
        Self { hot }
    }

    /// Applies a race's points delta (never below zero), once per player
    /// and race, and records the reported level and prestige.
    pub async fn claim(
        &self,
        claim: &PointsClaim<'_>,
        rules: Arc<dyn SeasonRules>,
    ) -> Result<ClaimOutcome> {
        let race_key = claim.race_key.to_owned();
        let base = PointsClaim {
            race_key: "",
            ..claim.clone()
        };
        self.hot
            .transaction(move |st| {
                Box::pin(async move {
                    let claim = PointsClaim {
                        race_key: &race_key,
                        ..base
                    };
                    claim_in(st, &claim, &*rules).await
                })
            })
            .await
    }

    /// Gives a player who played an earlier season their head start in
    /// `season_id` the first time they appear in it. `None` when they
    /// already have a score this season or never played before.
    pub async fn enter_season(
        &self,
        season_id: i64,
        user_id: i64,
        rules: Arc<dyn SeasonRules>,
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
        self.hot
            .transaction(move |st| {
                Box::pin(async move {
                    enter_season_in(st, season_id, user_id, &*rules, now, false).await
                })
            })
            .await
    }
}

/// [`Progression::claim`] inside the caller's transaction. Its first
/// statement writes, so concurrent claims for one player serialise.
async fn claim_in(
    st: &mut dyn Statements,
    claim: &PointsClaim<'_>,
    rules: &dyn SeasonRules,
) -> Result<ClaimOutcome> {
    let at = to_millis(claim.now);
    let steam = claim.steam_id as i64;
    let marked = st
        .run(
            "UPDATE mm_race_players SET points_delta = $3, points_at = $4 \
             WHERE race_key = $1 AND steam_id = $2 AND points_delta IS NULL",
            args![claim.race_key, steam, claim.delta, at],
        )
        .await?;
    if marked == 0 {
        let row = st
            .optional(
                "SELECT points_delta FROM mm_race_players WHERE race_key = $1 AND steam_id = $2",
                args![claim.race_key, steam],
            )
            .await?;
        return Ok(match row {
            Some(row) => ClaimOutcome::AlreadyClaimed {
                delta: row.opt_int("points_delta")?.unwrap_or(0),
            },
            None => ClaimOutcome::NotInRace,
        });
    }
    let rollover =
        enter_season_in(st, claim.season_id, claim.user_id, rules, claim.now, true).await?;
    let row = st
        .one(
            "UPDATE mm_scores SET \
               points = CASE WHEN points + $3 < 0 THEN 0 ELSE points + $3 END, \
               reached_at = CASE WHEN $3 = 0 THEN reached_at ELSE $4 END, \
               updated_at = $4 \
             WHERE season_id = $1 AND user_id = $2 RETURNING points, division",
            args![claim.season_id, claim.user_id, claim.delta, at],
        )
        .await?;
    let new_points = row.int("points")?;
    let old_division = row.int("division")?;
    let new_division = rules.division_after(old_division, new_points);
    if new_division != old_division {
        st.run(
            "UPDATE mm_scores SET division = $3 WHERE season_id = $1 AND user_id = $2",
            args![claim.season_id, claim.user_id, new_division],
        )
        .await?;
    }
    st.run(
        "UPDATE mm_accounts SET level = $2, prestige = $3, last_seen_at = $4 WHERE user_id = $1",
        args![claim.user_id, claim.level, claim.prestige, at],
    )
    .await?;
    Ok(ClaimOutcome::Applied {
        old_division,
        new_points,
        new_division,
        rollover,
    })
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
async fn enter_season_in(
    st: &mut dyn Statements,
    season_id: i64,
    user_id: i64,
    rules: &dyn SeasonRules,
    now: DateTime<Utc>,
    create_empty: bool,
) -> Result<Option<Rollover>> {
    let exists = st
        .optional(
            "SELECT 1 AS one FROM mm_scores WHERE season_id = $1 AND user_id = $2",
            args![season_id, user_id],
        )
        .await?
        .is_some();
    if exists {
        return Ok(None);
    }
    let previous = st
        .optional(
            "SELECT season_id, user_id, points, division, reached_at, updated_at FROM mm_scores \
             WHERE user_id = $1 AND season_id < $2 ORDER BY season_id DESC LIMIT 1",
            args![user_id, season_id],
        )
        .await?;
    let previous = previous
        .as_ref()
        .map(super::scores::score_from_row)
        .transpose()?;
    let (points, division, rollover) = match &previous {
        Some(prev) => {
            let rank = super::scores::rank_of_in(st, prev).await?;
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
    st.run(
        "INSERT INTO mm_scores (season_id, user_id, points, division, reached_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (season_id, user_id) DO NOTHING",
        args![season_id, user_id, points, division, to_millis(now)],
    )
    .await?;
    Ok(rollover)
}
