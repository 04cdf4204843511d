//! Races: created when matchmaking forms one (or when a client registers a
//! race we have not seen), with the Steam ids of the humans in it. A player
//! may claim points for a race once, and only for a race they were in.

use chrono::{DateTime, Utc};
use pitlane_core::clock::{from_millis, to_millis};
use sqlx::{AnyPool, Row};

use crate::exec::{args, Arg, Columns, Exec, Sql};
use crate::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaceInfo {
    pub race_key: String,
    pub session_id: i64,
    pub game_type: String,
    pub rule_set: String,
    pub ranking: String,
    pub network_version: i64,
    pub season_id: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaceSummary {
    pub race: RaceInfo,
    pub registered_at: Option<DateTime<Utc>>,
    pub seconds_to_match: Option<i64>,
    pub players: Vec<u64>,
}

const ADD_PLAYER_SQL: &str = "INSERT INTO mm_race_players (race_key, steam_id) VALUES ($1, $2) \
     ON CONFLICT (race_key, steam_id) DO NOTHING";

/// The statements listing humans in a race (once each).
fn add_players<'p>(
    race_key: &'p str,
    players: &'p [u64],
) -> impl Iterator<Item = (Sql, Vec<Arg>)> + 'p {
    players
        .iter()
        .map(move |steam_id| (ADD_PLAYER_SQL.into(), args![race_key, *steam_id as i64]))
}

pub struct Races<'a> {
    pool: &'a AnyPool,
    /// Matchmaking's statements (the SQLite lane).
    hot: Exec<'a>,
}

impl<'a> Races<'a> {
    pub(crate) fn new(pool: &'a AnyPool, hot: Exec<'a>) -> Self {
        Self { pool, hot }
    }

    /// Reserves `count` consecutive SessionIds from the server-wide sequence
    /// (one row update, safe across several server instances). Returns the
    /// first of them.
    pub async fn reserve_session_ids(&self, count: i64) -> Result<i64> {
        let last = self
            .hot
            .one(
                "UPDATE mm_counters SET value = value + $1 WHERE name = 'session_id' RETURNING value",
                args![count],
            )
            .await?
            .int("value")?;
        Ok(last - count + 1)
    }

    /// Stores a race formed by matchmaking with the humans it was made for.
    pub async fn create(&self, race: &RaceInfo, players: &[u64]) -> Result<()> {
        let mut statements: Vec<(Sql, _)> = vec![(
            "INSERT INTO mm_races (race_key, session_id, game_type, rule_set, ranking, network_version, season_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (race_key) DO NOTHING"
                .into(),
            args![
                race.race_key.as_str(),
                race.session_id,
                race.game_type.as_str(),
                race.rule_set.as_str(),
                race.ranking.as_str(),
                race.network_version,
                race.season_id,
                to_millis(race.created_at),
            ],
        )];
        statements.extend(add_players(&race.race_key, players));
        self.hot.batch(statements).await?;
        Ok(())
    }

    /// Records that a race started (RegisterActiveGameWithPlayers): creates
    /// it if matchmaking did not, marks it registered and adds the listed
    /// humans. Returns whether the race was already known.
    pub async fn register(
        &self,
        race: &RaceInfo,
        seconds_to_match: i64,
        players: &[u64],
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let known = self.get(&race.race_key).await?.is_some();
        self.create(race, &[]).await?;
        let mut statements: Vec<(Sql, _)> = vec![(
            "UPDATE mm_races SET registered_at = $2, seconds_to_match = $3 WHERE race_key = $1"
                .into(),
            args![race.race_key.as_str(), to_millis(now), seconds_to_match],
        )];
        statements.extend(add_players(&race.race_key, players));
        self.hot.batch(statements).await?;
        Ok(known)
    }

    pub async fn get(&self, race_key: &str) -> Result<Option<RaceSummary>> {
        let row = sqlx::query(
            "SELECT race_key, session_id, game_type, rule_set, ranking, network_version, season_id, \
             created_at, registered_at, seconds_to_match FROM mm_races WHERE race_key = $1",
        )
        .bind(race_key)
        .fetch_optional(self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let players = sqlx::query(
            "SELECT steam_id FROM mm_race_players WHERE race_key = $1 ORDER BY steam_id",
        )
        .bind(race_key)
        .fetch_all(self.pool)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>("steam_id").map(|v| v as u64))
        .collect::<Result<Vec<_>, _>>()?;
        let registered: Option<i64> = row.try_get("registered_at")?;
        Ok(Some(RaceSummary {
            race: RaceInfo {
                race_key: row.try_get("race_key")?,
                session_id: row.try_get("session_id")?,
                game_type: row.try_get("game_type")?,
                rule_set: row.try_get("rule_set")?,
                ranking: row.try_get("ranking")?,
                network_version: row.try_get("network_version")?,
                season_id: row.try_get("season_id")?,
                created_at: from_millis(row.try_get("created_at")?),
            },
            registered_at: registered.map(from_millis),
            seconds_to_match: row.try_get("seconds_to_match")?,
            players,
        }))
    }

    /// Points a player already claimed for a race, if any.
    pub async fn claimed(&self, race_key: &str, steam_id: u64) -> Result<Option<Option<i64>>> {
        let row = sqlx::query(
            "SELECT points_delta FROM mm_race_players WHERE race_key = $1 AND steam_id = $2",
        )
        .bind(race_key)
        .bind(steam_id as i64)
        .fetch_optional(self.pool)
        .await?;
        row.map(|r| r.try_get::<Option<i64>, _>("points_delta"))
            .transpose()
            .map_err(Into::into)
    }
}
