//! The `GameConfigurationData` every Login carries (58 KB, the same for all
//! players). The static tables are serialised once at start-up; the parts
//! that move with the clock (event, season dates) and the hash are spliced
//! in and cached until the next event window or season phase.

pub mod events;
pub mod model;

use std::path::Path;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use pitlane_core::config::EventSchedule;
use pitlane_core::SeasonCalendar;

use crate::xml::{Contract, XmlWriter};
pub use events::{event_at, EventState};
use model::Entries;
pub use model::GameConfig;

/// The configuration that shipped with Pitlane: the official server's
/// values from November 2023.
pub const DEFAULT_GAME_CONFIG: &str = include_str!("../../data/game_config.toml");

#[derive(Debug, thiserror::Error)]
pub enum GameConfigError {
    #[error("cannot read game configuration {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("game configuration {path} is not valid: {message}")]
    Invalid { path: String, message: String },
}

impl GameConfig {
    pub fn builtin() -> Self {
        Self::parse(DEFAULT_GAME_CONFIG, "built-in game configuration")
            .expect("the built-in game configuration is valid (checked by tests)")
    }

    pub fn parse(text: &str, origin: &str) -> Result<Self, GameConfigError> {
        let invalid = |message: String| GameConfigError::Invalid {
            path: origin.to_string(),
            message,
        };
        let config: GameConfig = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        config.validate().map_err(invalid)?;
        Ok(config)
    }

    pub fn load(path: &Path) -> Result<Self, GameConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| GameConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// The rules the division arithmetic relies on.
    fn validate(&self) -> Result<(), String> {
        let bands = &self.division_bands;
        match bands.first() {
            None => return Err("division_bands is empty".into()),
            Some(first) if first.min_points != 0 => {
                return Err("the first division band must start at 0 points".into())
            }
            _ => {}
        }
        for pair in bands.windows(2) {
            if pair[1].min_points <= pair[0].min_points
                || pair[1].division_id <= pair[0].division_id
            {
                return Err(format!(
                    "division bands must rise in points and id (band {} after band {})",
                    pair[1].division_id, pair[0].division_id
                ));
            }
        }
        for band in bands {
            if band.relegation_min_points > band.min_points {
                return Err(format!(
                    "band {}: relegation_min_points is above min_points",
                    band.division_id
                ));
            }
        }
        let mut ids: Vec<i64> = self.playlists.iter().map(|p| p.id).collect();
        ids.sort_unstable();
        if ids.windows(2).any(|w| w[0] == w[1]) {
            return Err("two playlists share an id".into());
        }
        Ok(())
    }
}

/// What varies with time inside the configuration block.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeParts {
    pub event: EventState,
    pub next_active_season: DateTime<Utc>,
    pub next_inactive_season: DateTime<Utc>,
}

impl TimeParts {
    pub fn at(calendar: &SeasonCalendar, schedule: &EventSchedule, now: DateTime<Utc>) -> Self {
        Self {
            event: event_at(schedule, now),
            next_active_season: calendar.at(now).next_active_date(),
            next_inactive_season: calendar.next_inactive_date(now),
        }
    }
}

/// One serialised `GameConfigurationData` (members only) and its hash.
#[derive(Debug)]
pub struct RenderedConfig {
    pub time: TimeParts,
    pub hash: i32,
    pub members_xml: String,
    /// The Login answer's part shared by every player, made by the first
    /// Login that needs it (`contracts::account::login_answer_prefix`).
    pub login_prefix: std::sync::OnceLock<bytes::Bytes>,
}

impl Contract for RenderedConfig {
    fn write_members(&self, w: &mut XmlWriter) {
        w.raw(&self.members_xml);
    }
}

/// Holds the pre-serialised tables and the current rendering.
#[derive(Debug)]
pub struct GameConfiguration {
    config: GameConfig,
    calendar: SeasonCalendar,
    schedule: EventSchedule,
    /// `DivisionBands`, `DivisionPrizes`, `Error`.
    head: String,
    /// `Playlists` through `ServerValues`.
    tail: String,
    current: RwLock<Option<Arc<RenderedConfig>>>,
}

impl GameConfiguration {
    pub fn new(config: GameConfig, calendar: SeasonCalendar, schedule: EventSchedule) -> Self {
        let mut head = XmlWriter::with_capacity(4096);
        head.object(
            "DivisionBands",
            &Entries {
                item: "DivisionBandEntry",
                values: &config.division_bands,
            },
        );
        head.object(
            "DivisionPrizes",
            &Entries {
                item: "DivisionPrizeEntry",
                values: &config.division_prizes,
            },
        );
        head.nil("Error");

        let mut tail = XmlWriter::with_capacity(64 * 1024);
        tail.object("Playlists", &PlaylistsInfo(&config.playlists));
        tail.object(
            "RankBonus",
            &Entries {
                item: "RankBonusEntry",
                values: &config.rank_bonus,
            },
        );
        tail.object(
            "RankPrizes",
            &Entries {
                item: "RankPrizeEntry",
                values: &config.rank_prizes,
            },
        );
        // The Requested* members were always 0/nil on the official server.
        tail.int("RequestedDivision", 0);
        tail.nil("RequestedDivisionBands");
        tail.nil("RequestedDivisionPrizes");
        tail.int("RequestedRank", 0);
        tail.nil("RequestedRankBonus");
        tail.nil("RequestedRankPrizes");
        tail.object(
            "ScoringConstants",
            &Entries {
                item: "ScoringConstantEntry",
                values: &config.scoring_constants,
            },
        );
        tail.object(
            "ServerValues",
            &Entries {
                item: "GameConfigEntry",
                values: &config.server_values,
            },
        );
        Self {
            config,
            calendar,
            schedule,
            head: head.into_string(),
            tail: tail.into_string(),
            current: RwLock::new(None),
        }
    }

    pub fn config(&self) -> &GameConfig {
        &self.config
    }

    pub fn calendar(&self) -> &SeasonCalendar {
        &self.calendar
    }

    /// The configuration as of `now`, rebuilt only when the time-dependent
    /// parts changed since the last call.
    pub fn at(&self, now: DateTime<Utc>) -> Arc<RenderedConfig> {
        let time = TimeParts::at(&self.calendar, &self.schedule, now);
        if let Some(cached) = self.read_cache() {
            if cached.time == time {
                return cached;
            }
        }
        let rendered = Arc::new(self.render(time, None));
        if let Ok(mut slot) = self.current.write() {
            *slot = Some(rendered.clone());
        }
        rendered
    }

    fn read_cache(&self) -> Option<Arc<RenderedConfig>> {
        self.current.read().ok().and_then(|slot| slot.clone())
    }

    /// Serialises the block. `hash` overrides the computed hash (used to
    /// reproduce the official bytes in tests).
    pub fn render(&self, time: TimeParts, hash: Option<i32>) -> RenderedConfig {
        let mut event = XmlWriter::with_capacity(512);
        event.object("CurrentEvent", &events::CurrentEventInfo(&time.event));
        let event = event.into_string();
        let mut dates = XmlWriter::with_capacity(128);
        dates.datetime("NextActiveSeasonDate", time.next_active_season);
        dates.datetime("NextInactiveSeasonDate", time.next_inactive_season);
        let dates = dates.into_string();

        let hash = hash.unwrap_or_else(|| {
            fnv1a32([
                event.as_bytes(),
                self.head.as_bytes(),
                dates.as_bytes(),
                self.tail.as_bytes(),
            ]) as i32
        });
        let mut members =
            String::with_capacity(event.len() + self.head.len() + self.tail.len() + 256);
        members.push_str(&event);
        members.push_str(&self.head);
        let mut w = XmlWriter::default();
        w.int("Hash", i64::from(hash));
        members.push_str(&w.into_string());
        members.push_str(&dates);
        members.push_str(&self.tail);
        RenderedConfig {
            time,
            hash,
            members_xml: members,
            login_prefix: std::sync::OnceLock::new(),
        }
    }
}

struct PlaylistsInfo<'a>(&'a [model::Playlist]);

impl Contract for PlaylistsInfo<'_> {
    fn write_members(&self, w: &mut XmlWriter) {
        w.nil("Error");
        w.list("Playlists", "Playlist", self.0);
    }
}

/// 32-bit FNV-1a: a stable checksum of the served configuration, so its
/// `Hash` changes exactly when what the client receives changes.
fn fnv1a32<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for part in parts {
        for &b in part {
            hash ^= u32::from(b);
            hash = hash.wrapping_mul(0x0100_0193);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_configuration_has_the_official_tables() {
        let c = GameConfig::builtin();
        assert_eq!(c.division_bands.len(), 7);
        assert_eq!(c.division_prizes.len(), 11);
        assert_eq!(c.rank_bonus.len(), 4);
        assert_eq!(c.rank_prizes.len(), 4);
        assert_eq!(c.scoring_constants.len(), 392);
        assert_eq!(c.server_values.len(), 26);
        let ids: Vec<i64> = c.playlists.iter().map(|p| p.id).collect();
        assert_eq!(ids, vec![12, 13, 14, 7, 8, 9, 10, 11]);
        assert_eq!(c.scoring_constants[0].name, "SOLO_Pos8_OutOf9");
    }

    #[test]
    fn invalid_band_tables_are_refused() {
        let mut text = DEFAULT_GAME_CONFIG.replace("min_points = 500", "min_points = 5000");
        let err = GameConfig::parse(&text, "x").unwrap_err().to_string();
        assert!(err.contains("rise"), "{err}");
        text = DEFAULT_GAME_CONFIG.replacen("min_points = 0", "min_points = 10", 1);
        assert!(GameConfig::parse(&text, "x").is_err());
    }

    #[test]
    fn hash_changes_with_the_configuration_and_the_clock() {
        let now = DateTime::parse_from_rfc3339("2023-11-18T19:45:21Z")
            .unwrap()
            .to_utc();
        let base = GameConfiguration::new(
            GameConfig::builtin(),
            SeasonCalendar::default(),
            EventSchedule::default(),
        );
        let mut changed = GameConfig::builtin();
        changed.scoring_constants[0].value += 1;
        let other =
            GameConfiguration::new(changed, SeasonCalendar::default(), EventSchedule::default());
        let a = base.at(now);
        assert_eq!(a.hash, base.at(now).hash, "stable for the same inputs");
        assert!(Arc::ptr_eq(&a, &base.at(now)), "cached");
        assert_ne!(a.hash, other.at(now).hash);
        let next_week = now + chrono::Duration::days(7);
        assert_ne!(a.hash, base.at(next_week).hash);
    }
}
