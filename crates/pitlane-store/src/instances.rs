//! Instance heartbeats: every running Pitlane writes its row every few
//! seconds, so live views (dashboard overview, `/api/status`) can add up
//! the instances sharing one database, and an instance that stopped
//! beating drops out of the totals on its own.

use chrono::{DateTime, Utc};
use pitlane_core::clock::{from_millis, to_millis};
use sqlx::{AnyPool, Row};

use crate::Result;

/// Seconds between two beats of an instance.
pub const BEAT_SECS: u64 = 5;
/// An instance whose last beat is older than this is not counted (three
/// beats missed).
pub const LIVE_SECS: i64 = 15;

/// A name unique among the instances sharing a database: host, process and
/// a random suffix (a restarted process is a new instance).
pub(crate) fn new_instance_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "pitlane".into());
    format!(
        "{host}-{}-{}",
        std::process::id(),
        pitlane_core::ids::upper_hex(3)
    )
}

/// What one instance reports about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Beat {
    pub instance_id: String,
    /// Where players reach it (its game HTTP listener).
    pub address: String,
    pub version: String,
    pub started_at: DateTime<Utc>,
    /// Matchmaking polls held by this instance right now.
    pub mm_polls_held: i64,
    /// Parties (and their players) searching, as this instance sees them
    /// (on a shared database: every instance's, so not to be added up).
    pub mm_searching_parties: i64,
    pub mm_searching_players: i64,
    /// Races this instance formed since it started.
    pub mm_races_formed: i64,
    /// Motor City Online players connected to this instance's lobby.
    pub mco_lobby_online: i64,
    /// Game HTTP requests per second, recent average.
    pub requests_per_second: f64,
}

/// A stored beat with its time.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceRow {
    pub beat: Beat,
    pub last_beat: DateTime<Utc>,
}

/// The sum over live instances.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveTotals {
    pub instances: i64,
    pub mm_polls_held: i64,
    pub mm_races_formed: i64,
    pub mco_lobby_online: i64,
    pub requests_per_second: f64,
}

pub struct Instances<'a> {
    pool: &'a AnyPool,
}

impl<'a> Instances<'a> {
    pub(crate) fn new(pool: &'a AnyPool) -> Self {
        Self { pool }
    }

    /// Writes (or rewrites) this instance's row.
    pub async fn beat(&self, b: &Beat, now: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "INSERT INTO instances (instance_id, address, version, started_at, last_beat, mm_polls_held, \
             mm_searching_parties, mm_searching_players, mm_races_formed, mco_lobby_online, requests_per_second) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (instance_id) DO UPDATE SET address = EXCLUDED.address, version = EXCLUDED.version, \
             last_beat = EXCLUDED.last_beat, mm_polls_held = EXCLUDED.mm_polls_held, \
             mm_searching_parties = EXCLUDED.mm_searching_parties, \
             mm_searching_players = EXCLUDED.mm_searching_players, mm_races_formed = EXCLUDED.mm_races_formed, \
             mco_lobby_online = EXCLUDED.mco_lobby_online, requests_per_second = EXCLUDED.requests_per_second",
        )
        .bind(&b.instance_id)
        .bind(&b.address)
        .bind(&b.version)
        .bind(to_millis(b.started_at))
        .bind(to_millis(now))
        .bind(b.mm_polls_held)
        .bind(b.mm_searching_parties)
        .bind(b.mm_searching_players)
        .bind(b.mm_races_formed)
        .bind(b.mco_lobby_online)
        .bind(b.requests_per_second)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// A clean shutdown takes the instance out of the totals at once.
    pub async fn remove(&self, instance_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM instances WHERE instance_id = $1")
            .bind(instance_id)
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// Rows of instances that beat at or after `since`, oldest start first.
    pub async fn live(&self, since: DateTime<Utc>) -> Result<Vec<InstanceRow>> {
        let rows = sqlx::query(
            "SELECT instance_id, address, version, started_at, last_beat, mm_polls_held, mm_searching_parties, \
             mm_searching_players, mm_races_formed, mco_lobby_online, requests_per_second \
             FROM instances WHERE last_beat >= $1 ORDER BY started_at, instance_id",
        )
        .bind(to_millis(since))
        .fetch_all(self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(InstanceRow {
                    beat: Beat {
                        instance_id: r.try_get("instance_id")?,
                        address: r.try_get("address")?,
                        version: r.try_get("version")?,
                        started_at: from_millis(r.try_get("started_at")?),
                        mm_polls_held: r.try_get("mm_polls_held")?,
                        mm_searching_parties: r.try_get("mm_searching_parties")?,
                        mm_searching_players: r.try_get("mm_searching_players")?,
                        mm_races_formed: r.try_get("mm_races_formed")?,
                        mco_lobby_online: r.try_get("mco_lobby_online")?,
                        requests_per_second: r.try_get("requests_per_second")?,
                    },
                    last_beat: from_millis(r.try_get("last_beat")?),
                })
            })
            .collect()
    }

    /// The figures of every live instance (beat within [`LIVE_SECS`] of
    /// `now`) added up, for the overview page and `/api/status`.
    pub async fn live_totals(&self, now: DateTime<Utc>) -> Result<LiveTotals> {
        let mut t = LiveTotals::default();
        for row in self
            .live(now - chrono::Duration::seconds(LIVE_SECS))
            .await?
        {
            t.instances += 1;
            t.mm_polls_held += row.beat.mm_polls_held;
            t.mm_races_formed += row.beat.mm_races_formed;
            t.mco_lobby_online += row.beat.mco_lobby_online;
            t.requests_per_second += row.beat.requests_per_second;
        }
        Ok(t)
    }

    /// Forgets instances silent since `before`.
    pub async fn forget_silent(&self, before: DateTime<Utc>) -> Result<u64> {
        let done = sqlx::query("DELETE FROM instances WHERE last_beat < $1")
            .bind(to_millis(before))
            .execute(self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
