//! The Login result serialises byte for byte like the official server's,
//! given the same inputs: proves member order, nil markers, namespaces,
//! number and date formats, and the built-in configuration's values.

use chrono::DateTime;
use micromachines::contracts::account::login_answer_prefix;
use micromachines::contracts::{GameInfo, LoginDetails, ScoreInfo, SeasonInfo};
use micromachines::game_config::{GameConfig, GameConfiguration, TimeParts};
use micromachines::xml::XmlWriter;
use pitlane_core::config::EventSchedule;
use pitlane_core::SeasonCalendar;

const OFFICIAL: &str = include_str!("fixtures/session3/02-Login/response.xml");

#[test]
fn login_details_match_the_official_bytes() {
    let now = DateTime::parse_from_rfc3339("2023-11-18T19:45:21Z")
        .unwrap()
        .to_utc();
    let calendar = SeasonCalendar::default();
    let schedule = EventSchedule::default();
    let configuration =
        GameConfiguration::new(GameConfig::builtin(), calendar.clone(), schedule.clone());
    // The official Hash was computed by Codemasters' own algorithm; ours
    // differs, so the test supplies theirs to compare everything else.
    let rendered =
        configuration.render(TimeParts::at(&calendar, &schedule, now), Some(-1647532852));
    let details = LoginDetails {
        config: &rendered,
        game_info: GameInfo {
            score: ScoreInfo {
                current_season_id: 45,
                division: 6,
                player_season_id: 45,
                points: 3460,
                rank: 36,
                untrusted_level: 25,
                untrusted_prestige: 10,
            },
            season: SeasonInfo {
                bonus_points: 0,
                display_offset: 0,
                is_season_active: true,
                new_season_id: 45,
                old_season_id: 45,
            },
        },
        platform_id: 76561198081105540,
        session_token: "AQAAAAIAAADKOgoAAAAAAAF/WDGh6NtIAYeLhK6EMnwjZVM/TlS3ox/e2sd4gHLqI4rf7kxEEpmtiHLCGsDbsMPV7vUjZR9oh5FtUYAtEMdedqtsVm/1jDuY3eLtA8KWOSceNdJefcIqqO5HhbhqS/gJLvWGVLJ4jg3LP9wqOTEZm8Z0Dy5AwfyK1z5GeLXfxY590s2JG8bi4DZ+BQC2TGAW33ZAr6E8EuWGpHV2MaK5GDsIxCh4C8yFpL8qn3hHbXPe47hYbRkfBYjd+QY40gVMAIBc17WxnFgKD1rq1N2QF2J3l45wHO3J8dYg3Mohkqmvu0aQBwVev0wxxV30IOZWM8cI1iXVLOVZpw6rhNDrHewrzeyvkiI=",
        user_facing_id: "J7W76GCH8FJKA",
        user_id: 670410,
    };
    let ours = XmlWriter::document("LoginDetails", &details);
    assert_eq!(ours.len(), 57960);
    // What the server sends: the shared part, then the player's own.
    let prefix = login_answer_prefix(&rendered);
    assert_eq!(format!("{prefix}{}", details.own_part()), ours);
    assert!(prefix.len() > 55_000 && ours.len() - prefix.len() < 2048);
    if ours != OFFICIAL {
        let at = ours
            .bytes()
            .zip(OFFICIAL.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(ours.len().min(OFFICIAL.len()));
        panic!(
            "first difference at byte {at}:\n ours: {}\n official: {}",
            &ours[at.saturating_sub(80)..(at + 80).min(ours.len())],
            &OFFICIAL[at.saturating_sub(80)..(at + 80).min(OFFICIAL.len())]
        );
    }
}
