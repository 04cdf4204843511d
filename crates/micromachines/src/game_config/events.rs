//! Weekend events: which one is running and when the next window opens.
//! The official server, with no event running on a Saturday evening, sent
//! `NextEvent` = that Saturday 00:00 UTC; so `NextEvent` is the opening of
//! the current window while inside one, and the next opening otherwise.

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use pitlane_core::config::{weekday_from_name, EventDefinition, EventSchedule};

use crate::xml::{Contract, XmlWriter};

#[derive(Debug, Clone, PartialEq)]
pub struct EventState {
    /// `None` when no event runs (EventID 0 and nil strings on the wire).
    pub current: Option<EventDefinition>,
    pub next_event: DateTime<Utc>,
    /// Opening of the window `now` belongs to (or of the last one): what
    /// the cached configuration block is keyed on.
    pub window_start: DateTime<Utc>,
}

pub fn event_at(schedule: &EventSchedule, now: DateTime<Utc>) -> EventState {
    let weekday = weekday_from_name(&schedule.weekday).unwrap_or(chrono::Weekday::Sat);
    let days_back = (7 + now.weekday().num_days_from_monday() as i64
        - weekday.num_days_from_monday() as i64)
        % 7;
    let day = now.date_naive() - Duration::days(days_back);
    let window_start = Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default());
    let open = now < window_start + Duration::hours(i64::from(schedule.duration_hours));
    if !open {
        return EventState {
            current: None,
            next_event: window_start + Duration::days(7),
            window_start,
        };
    }
    let current = if schedule.rotation.is_empty() {
        None
    } else {
        let week = window_start.timestamp().div_euclid(7 * 24 * 3600);
        let index = week.rem_euclid(schedule.rotation.len() as i64) as usize;
        schedule.rotation.get(index).cloned()
    };
    EventState {
        current,
        next_event: window_start,
        window_start,
    }
}

/// The inner `CurrentEvent` contract.
pub struct CurrentEvent<'a>(pub Option<&'a EventDefinition>);

impl Contract for CurrentEvent<'_> {
    fn write_members(&self, w: &mut XmlWriter) {
        let e = self.0;
        w.opt_text(
            "BackgroundImageURL",
            e.and_then(|e| e.background_image_url.as_deref()),
        );
        w.opt_text(
            "ButtonImageURL",
            e.and_then(|e| e.button_image_url.as_deref()),
        );
        w.opt_text(
            "DescriptionLocString",
            e.map(|e| e.description_loc.as_str()),
        );
        w.opt_text("DevName", e.map(|e| e.dev_name.as_str()));
        w.int("EventID", e.map_or(0, |e| i64::from(e.event_id)));
        w.int("PlaylistID", e.map_or(0, |e| i64::from(e.playlist_id)));
        w.opt_text("PrizeCode", e.and_then(|e| e.prize_code.as_deref()));
        w.opt_text("TitleLocString", e.map(|e| e.title_loc.as_str()));
    }
}

/// The outer `CurrentEvent` member of the configuration.
pub struct CurrentEventInfo<'a>(pub &'a EventState);

impl Contract for CurrentEventInfo<'_> {
    fn write_members(&self, w: &mut XmlWriter) {
        w.object("CurrentEvent", &CurrentEvent(self.0.current.as_ref()));
        w.nil("Error");
        w.datetime("NextEvent", self.0.next_event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn chaos() -> EventDefinition {
        EventDefinition {
            event_id: 2,
            playlist_id: 13,
            dev_name: "chaos".into(),
            title_loc: "lng_event_chaos_title".into(),
            description_loc: "lng_event_chaos_desc".into(),
            prize_code: Some("Boxes:1:".into()),
            button_image_url: None,
            background_image_url: None,
        }
    }

    #[test]
    fn saturday_evening_without_events_matches_the_capture() {
        let s = event_at(&EventSchedule::default(), utc("2023-11-18T19:45:21Z"));
        assert_eq!(s.current, None);
        assert_eq!(s.next_event, utc("2023-11-18T00:00:00Z"));
    }

    #[test]
    fn midweek_points_at_next_saturday() {
        let s = event_at(&EventSchedule::default(), utc("2023-11-22T10:00:00Z"));
        assert_eq!(s.current, None);
        assert_eq!(s.next_event, utc("2023-11-25T00:00:00Z"));
    }

    #[test]
    fn rotation_runs_only_inside_the_window() {
        let schedule = EventSchedule {
            rotation: vec![chaos()],
            ..Default::default()
        };
        let sunday = event_at(&schedule, utc("2023-11-19T23:59:59Z"));
        assert_eq!(sunday.current, Some(chaos()));
        assert_eq!(sunday.next_event, utc("2023-11-18T00:00:00Z"));
        let monday = event_at(&schedule, utc("2023-11-20T00:00:00Z"));
        assert_eq!(monday.current, None);
        assert_eq!(monday.next_event, utc("2023-11-25T00:00:00Z"));
    }

    #[test]
    fn consecutive_weekends_take_turns() {
        let mut other = chaos();
        other.event_id = 3;
        let schedule = EventSchedule {
            rotation: vec![chaos(), other],
            ..Default::default()
        };
        let a = event_at(&schedule, utc("2023-11-18T12:00:00Z"))
            .current
            .unwrap();
        let b = event_at(&schedule, utc("2023-11-25T12:00:00Z"))
            .current
            .unwrap();
        assert_ne!(a.event_id, b.event_id);
    }
}
