//! Matchmaking shared by several instances on one PostgreSQL database.
//!
//! Searches are rows; a race is formed inside one transaction that holds an
//! advisory lock for its queue and locks the candidate rows (`FOR UPDATE
//! SKIP LOCKED`, so a row another instance is busy with is left for the
//! next try instead of waiting on it). The formed race, its parties and the
//! `mm_races` row commit together, and `pg_notify` (delivered on commit)
//! wakes the held polls of its parties on whichever instance holds them.
//! Times are the database's clock in Unix milliseconds, so instances need
//! not agree on the time.
//!
//! The matching rules themselves live in `micromachines::matchmaking`; this
//! module only moves rows. It is used on PostgreSQL only: SQLite serves one
//! instance, which keeps its pool in memory.

use sqlx::any::AnyRow;
use sqlx::{Any, AnyPool, Row, Transaction};

use super::RaceInfo;
use crate::{Result, StoreError};
use pitlane_core::clock::to_millis;

/// The `LISTEN` channel; the payload is the comma-separated group lobby ids
/// whose held polls should look again.
pub const CHANNEL: &str = "pitlane_mm";

/// The database clock, in Unix milliseconds.
const NOW_MS: &str = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT";

/// What makes two searches compatible, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StoredQueue {
    pub game_type: String,
    pub rule_set: String,
    pub ranking: String,
    pub network_version: i64,
}

/// One poll arriving: the party's latest parameters.
#[derive(Debug, Clone)]
pub struct PollStart {
    pub group_lobby_id: u64,
    pub user_id: i64,
    pub steam_id: u64,
    pub queue: StoredQueue,
    pub group_size: u32,
    pub skill: u32,
    pub game_lobby_id: u64,
    /// How long the poll may be held; past this the row no longer counts
    /// it (its instance may have died).
    pub hold_ms: i64,
}

#[derive(Debug, Clone)]
pub struct SearchRow {
    pub group_lobby_id: u64,
    pub user_id: i64,
    pub steam_id: u64,
    pub queue: StoredQueue,
    pub group_size: u32,
    pub skill: u32,
    pub game_lobby_id: u64,
    pub started_ms: i64,
    pub last_seen_ms: i64,
    /// A poll is held for it right now (on any instance).
    pub active: bool,
    /// Race key of the race it was placed in, not yet delivered.
    pub assigned: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRow {
    pub group_lobby_id: u64,
    pub game_lobby_id: u64,
    pub group_size: u32,
    pub is_host: bool,
    pub team: i64,
}

#[derive(Debug, Clone)]
pub struct MatchRow {
    pub race_key: String,
    pub session_id: i64,
    pub queue: StoredQueue,
    pub host_skill: u32,
    pub formed_ms: i64,
    pub started: bool,
    pub teams: u32,
    pub max_players: u32,
    /// In the order the game lists them.
    pub members: Vec<MemberRow>,
}

/// Rules for dropping searches and races, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct PurgeRules {
    /// A party not polling for this long has left.
    pub leave_ms: i64,
    /// Races are forgotten this long after forming.
    pub keep_ms: i64,
}

pub struct SharedPool<'a> {
    pool: &'a AnyPool,
}

fn search_row(row: &AnyRow, now_ms: i64) -> Result<SearchRow> {
    let active_polls: i64 = row.try_get("active_polls")?;
    let held_until: i64 = row.try_get("held_until_ms")?;
    Ok(SearchRow {
        group_lobby_id: row.try_get::<i64, _>("group_lobby_id")? as u64,
        user_id: row.try_get("user_id")?,
        steam_id: row.try_get::<i64, _>("steam_id")? as u64,
        queue: StoredQueue {
            game_type: row.try_get("game_type")?,
            rule_set: row.try_get("rule_set")?,
            ranking: row.try_get("ranking")?,
            network_version: row.try_get("network_version")?,
        },
        group_size: small(row.try_get("group_size")?)?,
        skill: small(row.try_get("skill")?)?,
        game_lobby_id: row.try_get::<i64, _>("game_lobby_id")? as u64,
        started_ms: row.try_get("started_ms")?,
        last_seen_ms: row.try_get("last_seen_ms")?,
        active: active_polls > 0 && held_until > now_ms,
        assigned: row.try_get("assigned")?,
    })
}

fn small(value: i64) -> Result<u32> {
    u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("{value} is out of range")))
}

const SEARCH_COLUMNS: &str = "group_lobby_id, user_id, steam_id, game_type, rule_set, ranking, \
     network_version, group_size, skill, game_lobby_id, started_ms, last_seen_ms, active_polls, \
     held_until_ms, assigned";

/// The condition for a search whose party has left, with `$1` = now and
/// `$2` = the leave time.
const GONE: &str = "NOT (active_polls > 0 AND held_until_ms > $1) AND last_seen_ms < $1 - $2";

impl<'a> SharedPool<'a> {
    pub(crate) fn new(pool: &'a AnyPool) -> Self {
        Self { pool }
    }

    /// A poll arrives: creates the search, or refreshes it. A party that
    /// changed what it searches for (and was not yet placed) starts a new
    /// search; a placed party's own game lobby follows its latest call.
    pub async fn poll_started(&self, p: &PollStart) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let same_queue = "(mm_searches.game_type = EXCLUDED.game_type AND mm_searches.rule_set = EXCLUDED.rule_set \
             AND mm_searches.ranking = EXCLUDED.ranking AND mm_searches.network_version = EXCLUDED.network_version)";
        let fresh = format!("(mm_searches.assigned IS NULL AND NOT {same_queue})");
        let keep_or_new = |col: &str| {
            format!("{col} = CASE WHEN mm_searches.assigned IS NULL THEN EXCLUDED.{col} ELSE mm_searches.{col} END")
        };
        let sql = format!(
            "INSERT INTO mm_searches ({SEARCH_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, {NOW_MS}, {NOW_MS}, 1, {NOW_MS} + $11, NULL) \
             ON CONFLICT (group_lobby_id) DO UPDATE SET \
             started_ms = CASE WHEN {fresh} THEN EXCLUDED.started_ms ELSE mm_searches.started_ms END, \
             active_polls = CASE WHEN {fresh} OR mm_searches.held_until_ms <= EXCLUDED.started_ms THEN 1 \
                 ELSE mm_searches.active_polls + 1 END, \
             {}, {}, {}, {}, \
             user_id = EXCLUDED.user_id, steam_id = EXCLUDED.steam_id, group_size = EXCLUDED.group_size, \
             skill = EXCLUDED.skill, game_lobby_id = EXCLUDED.game_lobby_id, \
             last_seen_ms = EXCLUDED.last_seen_ms, held_until_ms = EXCLUDED.held_until_ms \
             RETURNING assigned",
            keep_or_new("game_type"),
            keep_or_new("rule_set"),
            keep_or_new("ranking"),
            keep_or_new("network_version"),
        );
        let row = sqlx::query(&sql)
            .bind(p.group_lobby_id as i64)
            .bind(p.user_id)
            .bind(p.steam_id as i64)
            .bind(&p.queue.game_type)
            .bind(&p.queue.rule_set)
            .bind(&p.queue.ranking)
            .bind(p.queue.network_version)
            .bind(i64::from(p.group_size))
            .bind(i64::from(p.skill))
            .bind(p.game_lobby_id as i64)
            .bind(p.hold_ms)
            .fetch_one(&mut *tx)
            .await?;
        let assigned: Option<String> = row.try_get("assigned")?;
        if let Some(race_key) = assigned {
            // Only the host's lobby is joined by others.
            sqlx::query(
                "UPDATE mm_match_members SET game_lobby_id = $1 \
                 WHERE race_key = $2 AND group_lobby_id = $3 AND is_host = 0",
            )
            .bind(p.game_lobby_id as i64)
            .bind(&race_key)
            .bind(p.group_lobby_id as i64)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A poll was answered or its client went away.
    pub async fn poll_ended(&self, group_lobby_id: u64) -> Result<()> {
        sqlx::query(&format!(
            "UPDATE mm_searches SET active_polls = GREATEST(active_polls - 1, 0), \
             last_seen_ms = {NOW_MS}, \
             held_until_ms = CASE WHEN active_polls <= 1 THEN {NOW_MS} ELSE held_until_ms END \
             WHERE group_lobby_id = $1"
        ))
        .bind(group_lobby_id as i64)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// CancelMatchmaking: removes the player's searches (and takes them out
    /// of races they were not yet told about, unless they host), and wakes
    /// their held polls. Returns the group lobby ids removed.
    pub async fn cancel(&self, user_id: i64, group_lobby_id: Option<u64>) -> Result<Vec<u64>> {
        let mut tx = self.pool.begin().await?;
        let rows =
            match group_lobby_id {
                Some(group) => {
                    sqlx::query(
                        "DELETE FROM mm_searches WHERE user_id = $1 AND group_lobby_id = $2 \
                     RETURNING group_lobby_id, assigned",
                    )
                    .bind(user_id)
                    .bind(group as i64)
                    .fetch_all(&mut *tx)
                    .await?
                }
                None => sqlx::query(
                    "DELETE FROM mm_searches WHERE user_id = $1 RETURNING group_lobby_id, assigned",
                )
                .bind(user_id)
                .fetch_all(&mut *tx)
                .await?,
            };
        let mut removed = Vec::with_capacity(rows.len());
        for row in &rows {
            let group: i64 = row.try_get("group_lobby_id")?;
            let assigned: Option<String> = row.try_get("assigned")?;
            if let Some(race_key) = assigned {
                leave_match(&mut tx, &race_key, group).await?;
            }
            removed.push(group as u64);
        }
        notify(&mut tx, &removed).await?;
        tx.commit().await?;
        Ok(removed)
    }

    /// A race started: it takes no more late joiners.
    pub async fn mark_started(&self, race_key: &str) -> Result<()> {
        sqlx::query("UPDATE mm_matches SET started = 1 WHERE race_key = $1")
            .bind(race_key)
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// Every search in the pool and the database's time, for operators.
    pub async fn searches(&self) -> Result<(Vec<SearchRow>, i64)> {
        let now: i64 = sqlx::query(&format!("SELECT {NOW_MS} AS now"))
            .fetch_one(self.pool)
            .await?
            .try_get("now")?;
        let rows = sqlx::query(&format!("SELECT {SEARCH_COLUMNS} FROM mm_searches"))
            .fetch_all(self.pool)
            .await?;
        let searches = rows
            .iter()
            .map(|r| search_row(r, now))
            .collect::<Result<_>>()?;
        Ok((searches, now))
    }

    /// Starts one matchmaking step.
    pub async fn begin(&self) -> Result<PoolStep> {
        let mut tx = self.pool.begin().await?;
        let now_ms: i64 = sqlx::query(&format!("SELECT {NOW_MS} AS now"))
            .fetch_one(&mut *tx)
            .await?
            .try_get("now")?;
        Ok(PoolStep { tx, now_ms })
    }
}

async fn leave_match(tx: &mut Transaction<'static, Any>, race_key: &str, group: i64) -> Result<()> {
    sqlx::query(
        "DELETE FROM mm_match_members WHERE race_key = $1 AND group_lobby_id = $2 AND is_host = 0",
    )
    .bind(race_key)
    .bind(group)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn notify(tx: &mut Transaction<'static, Any>, groups: &[u64]) -> Result<()> {
    if groups.is_empty() {
        return Ok(());
    }
    let payload = groups
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(payload)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// One matchmaking step: a transaction on the database's clock. Dropping
/// it without [`PoolStep::commit`] rolls everything back.
pub struct PoolStep {
    tx: Transaction<'static, Any>,
    pub now_ms: i64,
}

/// A stable 32-bit key for a queue's advisory lock (FNV-1a; collisions only
/// make two queues wait for each other).
fn queue_lock_key(queue: &StoredQueue) -> i32 {
    let mut hash: u32 = 0x811c_9dc5;
    let text = format!(
        "{}\u{1}{}\u{1}{}\u{1}{}",
        queue.game_type, queue.rule_set, queue.ranking, queue.network_version
    );
    for byte in text.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash as i32
}

/// First key of the advisory lock pair: "Pitlane matchmaking".
const LOCK_CLASS: i32 = 0x504d_4d01;

impl PoolStep {
    /// Serialises forming for one queue across all instances until commit.
    pub async fn lock_queue(&mut self, queue: &StoredQueue) -> Result<()> {
        sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
            .bind(LOCK_CLASS)
            .bind(queue_lock_key(queue))
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Drops parties that stopped polling (out of races they were not yet
    /// told about, too) and forgets old races. Rows another step holds are
    /// left for a later purge.
    pub async fn purge(&mut self, rules: PurgeRules) -> Result<()> {
        let rows = sqlx::query(&format!(
            "DELETE FROM mm_searches WHERE group_lobby_id IN \
             (SELECT group_lobby_id FROM mm_searches WHERE {GONE} FOR UPDATE SKIP LOCKED) \
             RETURNING group_lobby_id, user_id, assigned"
        ))
        .bind(self.now_ms)
        .bind(rules.leave_ms)
        .fetch_all(&mut *self.tx)
        .await?;
        for row in &rows {
            let group: i64 = row.try_get("group_lobby_id")?;
            let user_id: i64 = row.try_get("user_id")?;
            if let Some(race_key) = row.try_get::<Option<String>, _>("assigned")? {
                leave_match(&mut self.tx, &race_key, group).await?;
            }
            tracing::debug!(group_lobby_id = group, user_id, "party left matchmaking");
        }
        sqlx::query(
            "DELETE FROM mm_matches WHERE race_key IN \
             (SELECT race_key FROM mm_matches WHERE formed_ms < $1 FOR UPDATE SKIP LOCKED)",
        )
        .bind(self.now_ms - rules.keep_ms)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// One search, locked for this step (`None`: cancelled or left).
    pub async fn search(&mut self, group_lobby_id: u64) -> Result<Option<SearchRow>> {
        let row = sqlx::query(&format!(
            "SELECT {SEARCH_COLUMNS} FROM mm_searches WHERE group_lobby_id = $1 FOR UPDATE"
        ))
        .bind(group_lobby_id as i64)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(|r| search_row(&r, self.now_ms)).transpose()
    }

    /// Unplaced searches of a queue, locked; rows busy elsewhere are skipped.
    pub async fn open_searches(&mut self, queue: &StoredQueue) -> Result<Vec<SearchRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {SEARCH_COLUMNS} FROM mm_searches WHERE assigned IS NULL \
             AND rule_set = $1 AND game_type = $2 AND ranking = $3 AND network_version = $4 \
             ORDER BY started_ms, group_lobby_id FOR UPDATE SKIP LOCKED"
        ))
        .bind(&queue.rule_set)
        .bind(&queue.game_type)
        .bind(&queue.ranking)
        .bind(queue.network_version)
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter().map(|r| search_row(r, self.now_ms)).collect()
    }

    /// Races of a queue formed since `since_ms` and not started (late-join
    /// targets), plus the race `also` if given.
    pub async fn matches(
        &mut self,
        queue: &StoredQueue,
        since_ms: i64,
        also: Option<&str>,
    ) -> Result<Vec<MatchRow>> {
        let rows = sqlx::query(
            "SELECT race_key, session_id, game_type, rule_set, ranking, network_version, host_skill, \
             formed_ms, started, teams, max_players FROM mm_matches \
             WHERE (started = 0 AND formed_ms >= $1 AND rule_set = $2 AND game_type = $3 \
                    AND ranking = $4 AND network_version = $5) OR race_key = $6 \
             ORDER BY formed_ms, race_key",
        )
        .bind(since_ms)
        .bind(&queue.rule_set)
        .bind(&queue.game_type)
        .bind(&queue.ranking)
        .bind(queue.network_version)
        .bind(also.unwrap_or(""))
        .fetch_all(&mut *self.tx)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let race_key: String = row.try_get("race_key")?;
            let members = sqlx::query(
                "SELECT group_lobby_id, game_lobby_id, group_size, is_host, team \
                 FROM mm_match_members WHERE race_key = $1 ORDER BY position",
            )
            .bind(&race_key)
            .fetch_all(&mut *self.tx)
            .await?
            .iter()
            .map(|m| {
                Ok(MemberRow {
                    group_lobby_id: m.try_get::<i64, _>("group_lobby_id")? as u64,
                    game_lobby_id: m.try_get::<i64, _>("game_lobby_id")? as u64,
                    group_size: small(m.try_get("group_size")?)?,
                    is_host: m.try_get::<i64, _>("is_host")? != 0,
                    team: m.try_get("team")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
            out.push(MatchRow {
                race_key,
                session_id: row.try_get("session_id")?,
                queue: StoredQueue {
                    game_type: row.try_get("game_type")?,
                    rule_set: row.try_get("rule_set")?,
                    ranking: row.try_get("ranking")?,
                    network_version: row.try_get("network_version")?,
                },
                host_skill: small(row.try_get("host_skill")?)?,
                formed_ms: row.try_get("formed_ms")?,
                started: row.try_get::<i64, _>("started")? != 0,
                teams: small(row.try_get("teams")?)?,
                max_players: small(row.try_get("max_players")?)?,
                members,
            });
        }
        Ok(out)
    }

    /// Stores a race just formed: the race with its parties, the parties'
    /// searches pointed at it, the `mm_races` row for points, and a wake-up
    /// for every party (sent when the step commits).
    pub async fn store_match(
        &mut self,
        m: &MatchRow,
        race: &RaceInfo,
        steam_ids: &[u64],
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO mm_matches (race_key, session_id, game_type, rule_set, ranking, network_version, \
             host_skill, formed_ms, started, teams, max_players) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10)",
        )
        .bind(&m.race_key)
        .bind(m.session_id)
        .bind(&m.queue.game_type)
        .bind(&m.queue.rule_set)
        .bind(&m.queue.ranking)
        .bind(m.queue.network_version)
        .bind(i64::from(m.host_skill))
        .bind(m.formed_ms)
        .bind(i64::from(m.teams))
        .bind(i64::from(m.max_players))
        .execute(&mut *self.tx)
        .await?;
        for (position, member) in m.members.iter().enumerate() {
            self.add_member(&m.race_key, member, position).await?;
            sqlx::query("UPDATE mm_searches SET assigned = $1 WHERE group_lobby_id = $2")
                .bind(&m.race_key)
                .bind(member.group_lobby_id as i64)
                .execute(&mut *self.tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO mm_races (race_key, session_id, game_type, rule_set, ranking, network_version, season_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (race_key) DO NOTHING",
        )
        .bind(&race.race_key)
        .bind(race.session_id)
        .bind(&race.game_type)
        .bind(&race.rule_set)
        .bind(&race.ranking)
        .bind(race.network_version)
        .bind(race.season_id)
        .bind(to_millis(race.created_at))
        .execute(&mut *self.tx)
        .await?;
        for steam_id in steam_ids {
            sqlx::query(
                "INSERT INTO mm_race_players (race_key, steam_id) VALUES ($1, $2) \
                 ON CONFLICT (race_key, steam_id) DO NOTHING",
            )
            .bind(&race.race_key)
            .bind(*steam_id as i64)
            .execute(&mut *self.tx)
            .await?;
        }
        let groups: Vec<u64> = m.members.iter().map(|x| x.group_lobby_id).collect();
        notify(&mut self.tx, &groups).await
    }

    /// A late searcher joins a formed race at `position`.
    pub async fn add_member(
        &mut self,
        race_key: &str,
        member: &MemberRow,
        position: usize,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO mm_match_members (race_key, group_lobby_id, position, game_lobby_id, group_size, is_host, team) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(race_key)
        .bind(member.group_lobby_id as i64)
        .bind(position as i64)
        .bind(member.game_lobby_id as i64)
        .bind(i64::from(member.group_size))
        .bind(i64::from(member.is_host))
        .bind(member.team)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// The party was told its race (or nothing is left to tell): its
    /// search ends.
    pub async fn remove_search(&mut self, group_lobby_id: u64) -> Result<()> {
        sqlx::query("DELETE FROM mm_searches WHERE group_lobby_id = $1")
            .bind(group_lobby_id as i64)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn record_wait(&mut self, ranked: bool, seconds: f64) -> Result<()> {
        sqlx::query("INSERT INTO mm_waits (ranked, seconds) VALUES ($1, $2)")
            .bind(i64::from(ranked))
            .bind(seconds.max(0.0))
            .execute(&mut *self.tx)
            .await?;
        // Keep the table short; the average reads the latest 100 anyway.
        sqlx::query(
            "DELETE FROM mm_waits WHERE ranked = $1 AND id < \
             (SELECT COALESCE(MIN(id), 0) FROM (SELECT id FROM mm_waits WHERE ranked = $1 ORDER BY id DESC LIMIT 100) AS recent)",
        )
        .bind(i64::from(ranked))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// The latest waits of one kind, newest first.
    pub async fn recent_waits(&mut self, ranked: bool, limit: i64) -> Result<Vec<f64>> {
        let rows =
            sqlx::query("SELECT seconds FROM mm_waits WHERE ranked = $1 ORDER BY id DESC LIMIT $2")
                .bind(i64::from(ranked))
                .bind(limit)
                .fetch_all(&mut *self.tx)
                .await?;
        rows.iter()
            .map(|r| r.try_get::<f64, _>("seconds").map_err(StoreError::from))
            .collect()
    }

    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

/// Wakes held polls of this instance when any instance changes their
/// searches (`LISTEN` on its own connection).
pub struct PoolListener {
    inner: sqlx::postgres::PgListener,
}

/// What the listener heard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// These parties' searches changed.
    Groups(Vec<u64>),
    /// The connection dropped and was re-made: notifications may have been
    /// missed, so every held poll should look again.
    Reconnected,
}

impl PoolListener {
    pub async fn connect(url: &str) -> Result<Self> {
        let mut inner = sqlx::postgres::PgListener::connect(url)
            .await
            .map_err(StoreError::Connect)?;
        inner.listen(CHANNEL).await?;
        Ok(Self { inner })
    }

    pub async fn recv(&mut self) -> Result<Heard> {
        match self.inner.try_recv().await? {
            None => Ok(Heard::Reconnected),
            Some(n) => Ok(Heard::Groups(
                n.payload()
                    .split(',')
                    .filter_map(|g| g.trim().parse().ok())
                    .collect(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_are_stable_and_differ_by_queue() {
        let q = |r: &str| StoredQueue {
            game_type: "RankedRace".into(),
            rule_set: r.into(),
            ranking: "Ranked".into(),
            network_version: 1,
        };
        assert_eq!(queue_lock_key(&q("Race")), queue_lock_key(&q("Race")));
        assert_ne!(queue_lock_key(&q("Race")), queue_lock_key(&q("Battle")));
    }
}
