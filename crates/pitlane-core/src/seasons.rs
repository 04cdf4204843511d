//! The season calendar: which season is running, whether its ranked phase is
//! active, and when the next phase change happens.
//!
//! The official server ran seasons every two months (1 Jan, 1 Mar, ... 1 Nov)
//! with an active phase that ended at 00:00 UTC on the 15th of the following
//! month (season 45 started 2023-11-01 and went inactive 2023-12-15, the next
//! started 2024-01-01). Season numbers are server state, not a function of
//! the date, so the calendar is anchored on one known season and counts on
//! from there. Every number here comes from the config.
//!
//! An operator can also start a season ahead of its date ("start next
//! season now" on the dashboard). Such an early start is stored in the
//! database and held here in [`EarlyStarts`]: season N then runs from that
//! instant instead of its calendar date, and every later season keeps its
//! calendar dates, so the numbering never drifts away from the calendar.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeasonCalendar {
    /// A season whose first day is known...
    pub anchor_season: i32,
    /// ...and that first day (00:00 UTC).
    pub anchor_start: NaiveDate,
    /// Months from one season's start to the next.
    pub cycle_months: u32,
    /// The active phase ends this many months after the season starts...
    pub active_months: u32,
    /// ...on this day of that month, at 00:00 UTC.
    pub active_until_day: u32,
    /// Seasons the operator started before their calendar date. Runtime
    /// state from the database, never in the config file; clones of a
    /// calendar share it, so the dashboard's change reaches every service.
    #[serde(skip)]
    pub early_starts: EarlyStarts,
}

/// Season number -> the instant the operator started it, shared.
#[derive(Debug, Clone, Default)]
pub struct EarlyStarts(Arc<RwLock<BTreeMap<i32, DateTime<Utc>>>>);

/// Runtime state, not configuration: two calendars with the same settings
/// are the same calendar whatever the operator did since start-up.
impl PartialEq for EarlyStarts {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}
impl Eq for EarlyStarts {}

impl EarlyStarts {
    /// Replaces everything held with `starts` (as loaded from the store).
    pub fn replace(&self, starts: impl IntoIterator<Item = (i32, DateTime<Utc>)>) {
        let mut map = self.0.write().unwrap_or_else(|e| e.into_inner());
        *map = starts.into_iter().collect();
    }

    pub fn insert(&self, season_id: i32, starts_at: DateTime<Utc>) {
        self.0
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(season_id, starts_at);
    }

    pub fn get(&self, season_id: i32) -> Option<DateTime<Utc>> {
        self.read().get(&season_id).copied()
    }

    pub fn all(&self) -> Vec<(i32, DateTime<Utc>)> {
        self.read().iter().map(|(k, v)| (*k, *v)).collect()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<i32, DateTime<Utc>>> {
        self.0.read().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for SeasonCalendar {
    fn default() -> Self {
        Self {
            anchor_season: 45,
            anchor_start: NaiveDate::from_ymd_opt(2023, 11, 1).expect("valid date"),
            cycle_months: 2,
            active_months: 1,
            active_until_day: 15,
            early_starts: EarlyStarts::default(),
        }
    }
}

/// Where the calendar stands at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeasonState {
    pub season_id: i32,
    pub starts_at: DateTime<Utc>,
    pub inactive_at: DateTime<Utc>,
    pub next_starts_at: DateTime<Utc>,
    pub is_active: bool,
}

impl SeasonState {
    /// `NextActiveSeasonDate` in the game configuration: when the next
    /// season begins.
    pub fn next_active_date(&self) -> DateTime<Utc> {
        self.next_starts_at
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CalendarError {
    #[error("seasons.cycle_months must be at least 1")]
    ZeroCycle,
    #[error("seasons.active_until_day must be between 1 and 28 so that every month has it")]
    BadDay,
    #[error(
        "the active phase must end before the next season starts (active_months < cycle_months)"
    )]
    ActiveTooLong,
}

impl SeasonCalendar {
    pub fn validate(&self) -> Result<(), CalendarError> {
        if self.cycle_months == 0 {
            return Err(CalendarError::ZeroCycle);
        }
        if !(1..=28).contains(&self.active_until_day) {
            return Err(CalendarError::BadDay);
        }
        if self.active_months >= self.cycle_months {
            return Err(CalendarError::ActiveTooLong);
        }
        Ok(())
    }

    /// The season running at `now` (assumes a validated calendar): the
    /// calendar's season, or a later one the operator started early.
    pub fn at(&self, now: DateTime<Utc>) -> SeasonState {
        let n = self.scheduled_index(now);
        let early = self
            .early_starts
            .read()
            .iter()
            .filter(|(season, at)| **at <= now && i64::from(**season) > self.season_of(n))
            .map(|(season, _)| *season)
            .max();
        let n = match early {
            Some(season) => i64::from(season) - i64::from(self.anchor_season),
            None => n,
        };
        let starts_at = self.effective_start(n);
        let inactive_at = self.inactive_of(n);
        let next_starts_at = self.effective_start(n + 1);
        SeasonState {
            season_id: self.season_of(n) as i32,
            starts_at,
            inactive_at,
            next_starts_at,
            is_active: now < inactive_at,
        }
    }

    /// The calendar's own season index at `now` (0 = the anchor season),
    /// ignoring early starts.
    fn scheduled_index(&self, now: DateTime<Utc>) -> i64 {
        let cycle = i64::from(self.cycle_months.max(1));
        let anchor = month_index(self.anchor_start.year(), self.anchor_start.month());
        let current = month_index(now.year(), now.month());
        let mut n = (current - anchor).div_euclid(cycle);
        // Within the first month of a cycle, `now` may still be before the
        // anchor day (when the anchor is not the 1st).
        if self.start_of(n) > now {
            n -= 1;
        }
        n
    }

    fn season_of(&self, n: i64) -> i64 {
        (i64::from(self.anchor_season) + n).clamp(i64::from(i32::MIN), i64::from(i32::MAX))
    }

    /// When season index `n` begins: its calendar date, or earlier when the
    /// operator started it early.
    fn effective_start(&self, n: i64) -> DateTime<Utc> {
        let scheduled = self.start_of(n);
        match i32::try_from(self.season_of(n))
            .ok()
            .and_then(|s| self.early_starts.get(s))
        {
            Some(early) if early < scheduled => early,
            _ => scheduled,
        }
    }

    /// The season that "start next season now" at `now` starts: the one
    /// after the season running.
    pub fn next_season_id(&self, now: DateTime<Utc>) -> i32 {
        self.at(now).season_id.saturating_add(1)
    }

    /// `NextInactiveSeasonDate`: the end of the current active phase, or of
    /// the next one once this one is over.
    pub fn next_inactive_date(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let state = self.at(now);
        if state.is_active {
            state.inactive_at
        } else {
            self.at(state.next_starts_at).inactive_at
        }
    }

    fn start_of(&self, n: i64) -> DateTime<Utc> {
        let anchor = month_index(self.anchor_start.year(), self.anchor_start.month());
        let idx = anchor + n * i64::from(self.cycle_months.max(1));
        midnight(idx, self.anchor_start.day().min(28))
    }

    fn inactive_of(&self, n: i64) -> DateTime<Utc> {
        let anchor = month_index(self.anchor_start.year(), self.anchor_start.month());
        let idx = anchor + n * i64::from(self.cycle_months.max(1)) + i64::from(self.active_months);
        midnight(idx, self.active_until_day.clamp(1, 28))
    }
}

fn month_index(year: i32, month: u32) -> i64 {
    i64::from(year) * 12 + i64::from(month) - 1
}

fn midnight(month_idx: i64, day: u32) -> DateTime<Utc> {
    let year = month_idx.div_euclid(12) as i32;
    let month = month_idx.rem_euclid(12) as u32 + 1;
    Utc.with_ymd_and_hms(year, month, day, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn capture_day_is_season_45_active() {
        let cal = SeasonCalendar::default();
        let s = cal.at(utc("2023-11-18T19:45:21Z"));
        assert_eq!(s.season_id, 45);
        assert!(s.is_active);
        assert_eq!(s.inactive_at, utc("2023-12-15T00:00:00Z"));
        assert_eq!(s.next_active_date(), utc("2024-01-01T00:00:00Z"));
        assert_eq!(
            cal.next_inactive_date(utc("2023-11-18T19:45:21Z")),
            utc("2023-12-15T00:00:00Z")
        );
    }

    #[test]
    fn inactive_phase_points_at_next_season() {
        let cal = SeasonCalendar::default();
        let now = utc("2023-12-20T12:00:00Z");
        let s = cal.at(now);
        assert_eq!(s.season_id, 45);
        assert!(!s.is_active);
        assert_eq!(cal.next_inactive_date(now), utc("2024-02-15T00:00:00Z"));
    }

    #[test]
    fn numbering_continues_and_rolls_at_midnight() {
        let cal = SeasonCalendar::default();
        assert_eq!(cal.at(utc("2023-12-31T23:59:59Z")).season_id, 45);
        assert_eq!(cal.at(utc("2024-01-01T00:00:00Z")).season_id, 46);
        assert_eq!(cal.at(utc("2026-11-21T22:00:00Z")).season_id, 63);
        assert_eq!(cal.at(utc("2023-10-31T00:00:00Z")).season_id, 44);
    }

    #[test]
    fn validation_rejects_impossible_calendars() {
        let mut cal = SeasonCalendar {
            cycle_months: 0,
            ..Default::default()
        };
        assert_eq!(cal.validate(), Err(CalendarError::ZeroCycle));
        cal.cycle_months = 2;
        cal.active_until_day = 31;
        assert_eq!(cal.validate(), Err(CalendarError::BadDay));
        cal.active_until_day = 15;
        cal.active_months = 2;
        assert_eq!(cal.validate(), Err(CalendarError::ActiveTooLong));
    }

    #[test]
    fn an_early_start_makes_the_next_season_current_and_keeps_later_dates() {
        let cal = SeasonCalendar::default();
        let shared = cal.clone();
        let now = utc("2023-11-18T19:45:21Z");
        assert_eq!(cal.next_season_id(now), 46);
        shared.early_starts.insert(46, now);
        let s = cal.at(now);
        assert_eq!(s.season_id, 46, "clones share the early starts");
        assert!(s.is_active);
        assert_eq!(s.starts_at, now);
        assert_eq!(s.inactive_at, utc("2024-02-15T00:00:00Z"));
        assert_eq!(s.next_starts_at, utc("2024-03-01T00:00:00Z"));
        // Just before, season 45 ran and ended at the early start.
        let before = cal.at(now - chrono::Duration::seconds(1));
        assert_eq!(before.season_id, 45);
        assert_eq!(before.next_starts_at, now);
        // Once the calendar reaches season 46's own date nothing changes,
        // and 47 comes on its date.
        assert_eq!(cal.at(utc("2024-01-10T00:00:00Z")).season_id, 46);
        assert_eq!(cal.at(utc("2024-03-01T00:00:00Z")).season_id, 47);
        // A second early start goes on from there.
        let later = utc("2023-11-20T00:00:00Z");
        cal.early_starts.insert(47, later);
        assert_eq!(cal.at(later).season_id, 47);
        assert_eq!(cal.at(utc("2024-01-10T00:00:00Z")).season_id, 47);
        assert_eq!(cal.at(utc("2024-05-01T00:00:00Z")).season_id, 48);
        // Settings compare equal whatever was started early.
        assert_eq!(cal, SeasonCalendar::default());
        // An early start recorded for a season already past is ignored.
        cal.early_starts.replace([(44, later)]);
        assert_eq!(cal.at(later).season_id, 45);
    }

    proptest::proptest! {
        #[test]
        fn every_instant_lies_inside_its_season(secs in 0i64..4_000_000_000) {
            let cal = SeasonCalendar::default();
            let now = DateTime::from_timestamp(secs, 0).unwrap();
            let s = cal.at(now);
            proptest::prop_assert!(s.starts_at <= now && now < s.next_starts_at);
            proptest::prop_assert!(s.starts_at < s.inactive_at && s.inactive_at < s.next_starts_at);
            proptest::prop_assert_eq!(cal.at(s.next_starts_at).season_id, s.season_id + 1);
        }
    }
}
