//! What the dashboard's pages read across the games' tables, and the few
//! corrections an operator makes to them. Kept apart from the games'
//! repositories: the games never need these queries, and their cost (a
//! LIKE over names, say) is only paid when an operator asks.

use chrono::{DateTime, Utc};
use pitlane_core::clock::{from_millis, to_millis};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use crate::mmws::SeasonScore;
use crate::Result;

/// One human in a race, with the account behind the Steam id if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RacePlayer {
    pub steam_id: u64,
    pub user_id: Option<i64>,
    pub name: Option<String>,
    /// Points claimed for the race; `None` until AddPoints.
    pub points_delta: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentRace {
    pub race_key: String,
    pub game_type: String,
    pub rule_set: String,
    pub ranking: String,
    pub season_id: i64,
    pub created_at: DateTime<Utc>,
    pub registered_at: Option<DateTime<Utc>>,
    pub seconds_to_match: Option<i64>,
    pub players: Vec<RacePlayer>,
}

/// A race from one player's side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayerRace {
    pub race_key: String,
    pub game_type: String,
    pub rule_set: String,
    pub ranking: String,
    pub season_id: i64,
    pub created_at: DateTime<Utc>,
    pub points_delta: Option<i64>,
}

/// A season that has a leaderboard, and how many players are on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeasonBoard {
    pub season_id: i64,
    pub players: i64,
}

/// A search term made safe for `LIKE ... ESCAPE '\'`, lower-cased, with
/// wildcards around it.
fn like_pattern(query: &str) -> String {
    let mut out = String::from("%");
    for c in query.to_ascii_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// A number in the query, for id searches; -1 matches nothing.
fn id_term(query: &str) -> i64 {
    query
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .unwrap_or(-1)
}

fn player_race(row: &AnyRow) -> Result<PlayerRace> {
    Ok(PlayerRace {
        race_key: row.try_get("race_key")?,
        game_type: row.try_get("game_type")?,
        rule_set: row.try_get("rule_set")?,
        ranking: row.try_get("ranking")?,
        season_id: row.try_get("season_id")?,
        created_at: from_millis(row.try_get("created_at")?),
        points_delta: row.try_get("points_delta")?,
    })
}

pub struct AdminViews<'a> {
    pool: &'a AnyPool,
}

impl<'a> AdminViews<'a> {
    pub(crate) fn new(pool: &'a AnyPool) -> Self {
        Self { pool }
    }

    /// Micro Machines players online: a live session and something done
    /// since `since` (logged in, was put in a race, claimed points). The
    /// game keeps no connection open between calls, so activity is the
    /// only sign of presence there is.
    pub async fn mm_online(&self, since: DateTime<Utc>, now: DateTime<Utc>) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(DISTINCT s.user_id) AS n FROM mm_sessions s \
             JOIN mm_accounts a ON a.user_id = s.user_id \
             WHERE s.expires_at > $2 AND (s.issued_at > $1 OR a.last_seen_at > $1 OR EXISTS ( \
               SELECT 1 FROM mm_race_players p JOIN mm_races r ON r.race_key = p.race_key \
               WHERE p.steam_id = a.steam_id AND (r.created_at > $1 OR p.points_at > $1)))",
        )
        .bind(to_millis(since))
        .bind(to_millis(now))
        .fetch_one(self.pool)
        .await?;
        Ok(row.try_get("n")?)
    }

    /// Races formed or registered since `since`.
    pub async fn mm_races_since(&self, since: DateTime<Utc>) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM mm_races WHERE created_at > $1 OR registered_at > $1",
        )
        .bind(to_millis(since))
        .fetch_one(self.pool)
        .await?;
        Ok(row.try_get("n")?)
    }

    /// The newest races with their players and points.
    pub async fn mm_recent_races(&self, limit: i64) -> Result<Vec<RecentRace>> {
        let rows = sqlx::query(
            "SELECT race_key, game_type, rule_set, ranking, season_id, created_at, \
             registered_at, seconds_to_match FROM mm_races \
             ORDER BY created_at DESC, race_key LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool)
        .await?;
        let mut races = Vec::with_capacity(rows.len());
        for row in &rows {
            let registered: Option<i64> = row.try_get("registered_at")?;
            races.push(RecentRace {
                race_key: row.try_get("race_key")?,
                game_type: row.try_get("game_type")?,
                rule_set: row.try_get("rule_set")?,
                ranking: row.try_get("ranking")?,
                season_id: row.try_get("season_id")?,
                created_at: from_millis(row.try_get("created_at")?),
                registered_at: registered.map(from_millis),
                seconds_to_match: row.try_get("seconds_to_match")?,
                players: Vec::new(),
            });
        }
        if races.is_empty() {
            return Ok(races);
        }
        let placeholders: Vec<String> = (1..=races.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT p.race_key, p.steam_id, p.points_delta, a.user_id, a.display_name \
             FROM mm_race_players p LEFT JOIN mm_accounts a ON a.steam_id = p.steam_id \
             WHERE p.race_key IN ({}) ORDER BY p.points_delta DESC, p.steam_id",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for race in &races {
            query = query.bind(race.race_key.clone());
        }
        for row in query.fetch_all(self.pool).await? {
            let key: String = row.try_get("race_key")?;
            let player = RacePlayer {
                steam_id: row.try_get::<i64, _>("steam_id")? as u64,
                user_id: row.try_get("user_id")?,
                name: row.try_get("display_name")?,
                points_delta: row.try_get("points_delta")?,
            };
            if let Some(race) = races.iter_mut().find(|r| r.race_key == key) {
                race.players.push(player);
            }
        }
        Ok(races)
    }

    /// Micro Machines accounts whose SteamID, account number or player id
    /// equals the query, or any of whose names contains it (any case);
    /// most recently seen first.
    pub async fn mm_search(&self, query: &str, limit: i64) -> Result<Vec<i64>> {
        let query = query.trim();
        let rows = sqlx::query(
            "SELECT a.user_id, MAX(a.last_seen_at) AS seen FROM mm_accounts a \
             LEFT JOIN mm_account_names n ON n.user_id = a.user_id \
             WHERE a.steam_id = $1 OR a.user_id = $1 OR a.user_facing_id = $2 \
             OR lower(n.name) LIKE $3 ESCAPE '\\' OR lower(a.display_name) LIKE $3 ESCAPE '\\' \
             GROUP BY a.user_id ORDER BY seen DESC, a.user_id LIMIT $4",
        )
        .bind(id_term(query))
        .bind(query.to_ascii_uppercase())
        .bind(like_pattern(query))
        .bind(limit)
        .fetch_all(self.pool)
        .await?;
        rows.iter()
            .map(|r| r.try_get("user_id").map_err(Into::into))
            .collect()
    }

    /// Motor City accounts whose customer id equals the query, or whose
    /// name or a persona's name contains it (any case).
    pub async fn mco_search(&self, query: &str, limit: i64) -> Result<Vec<i64>> {
        let query = query.trim();
        let rows = sqlx::query(
            "SELECT DISTINCT a.customer_id FROM mco_accounts a \
             LEFT JOIN mco_personas p ON p.customer_id = a.customer_id \
             WHERE a.customer_id = $1 OR a.username_key LIKE $2 ESCAPE '\\' \
             OR p.name_key LIKE $2 ESCAPE '\\' ORDER BY a.customer_id LIMIT $3",
        )
        .bind(id_term(query))
        .bind(like_pattern(query))
        .bind(limit)
        .fetch_all(self.pool)
        .await?;
        rows.iter()
            .map(|r| r.try_get("customer_id").map_err(Into::into))
            .collect()
    }

    /// Every season a player scored in, newest first.
    pub async fn mm_seasons_of(&self, user_id: i64) -> Result<Vec<SeasonScore>> {
        let rows = sqlx::query(
            "SELECT season_id, user_id, points, division, reached_at, updated_at \
             FROM mm_scores WHERE user_id = $1 ORDER BY season_id DESC",
        )
        .bind(user_id)
        .fetch_all(self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SeasonScore {
                    season_id: row.try_get("season_id")?,
                    user_id: row.try_get("user_id")?,
                    points: row.try_get("points")?,
                    division: row.try_get("division")?,
                    reached_at: from_millis(row.try_get("reached_at")?),
                    updated_at: from_millis(row.try_get("updated_at")?),
                })
            })
            .collect()
    }

    /// A player's newest races.
    pub async fn mm_races_of(&self, steam_id: u64, limit: i64) -> Result<Vec<PlayerRace>> {
        let rows = sqlx::query(
            "SELECT r.race_key, r.game_type, r.rule_set, r.ranking, r.season_id, r.created_at, \
             p.points_delta FROM mm_race_players p JOIN mm_races r ON r.race_key = p.race_key \
             WHERE p.steam_id = $1 ORDER BY r.created_at DESC, r.race_key LIMIT $2",
        )
        .bind(steam_id as i64)
        .bind(limit)
        .fetch_all(self.pool)
        .await?;
        rows.iter().map(player_race).collect()
    }

    pub async fn mm_race_count(&self, steam_id: u64) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM mm_race_players WHERE steam_id = $1")
            .bind(steam_id as i64)
            .fetch_one(self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }

    /// Seasons with a leaderboard, newest first.
    pub async fn mm_seasons(&self) -> Result<Vec<SeasonBoard>> {
        let rows = sqlx::query(
            "SELECT season_id, COUNT(*) AS n FROM mm_scores GROUP BY season_id \
             ORDER BY season_id DESC",
        )
        .fetch_all(self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SeasonBoard {
                    season_id: r.try_get("season_id")?,
                    players: r.try_get("n")?,
                })
            })
            .collect()
    }

    /// Sets the name shown on leaderboards and keeps it: the Steam name the
    /// game sends with every Login no longer replaces it until the operator
    /// clears it ([`Self::mm_clear_rename`]).
    pub async fn mm_rename(&self, user_id: i64, name: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE mm_accounts SET display_name = $2, name_override = $2 WHERE user_id = $1",
        )
        .bind(user_id)
        .bind(name)
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Drops an operator's name: the player shows under the Steam name they
    /// last logged in with, at once. Returns whether a name was set.
    pub async fn mm_clear_rename(&self, user_id: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE mm_accounts SET name_override = NULL, display_name = COALESCE(\
               (SELECT n.name FROM mm_account_names n WHERE n.user_id = $1 \
                ORDER BY n.last_seen_at DESC, n.name LIMIT 1), display_name) \
             WHERE user_id = $1 AND name_override IS NOT NULL",
        )
        .bind(user_id)
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The name an operator set, if one is in force.
    pub async fn mm_name_override(&self, user_id: i64) -> Result<Option<String>> {
        let row = sqlx::query("SELECT name_override FROM mm_accounts WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(self.pool)
            .await?;
        Ok(match row {
            Some(r) => r.try_get("name_override")?,
            None => None,
        })
    }

    /// Removes a player from one season's leaderboard. Returns whether they
    /// were on it.
    pub async fn mm_delete_score(&self, season_id: i64, user_id: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM mm_scores WHERE season_id = $1 AND user_id = $2")
            .bind(season_id)
            .bind(user_id)
            .execute(self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("Heat"), "%heat%");
        assert_eq!(like_pattern("50%_a\\"), "%50\\%\\_a\\\\%");
        assert_eq!(id_term(" 42 "), 42);
        assert_eq!(id_term("-3"), -1);
        assert_eq!(id_term("x"), -1);
    }
}
