//! "Start next season now": the operator ends the running Micro Machines
//! season early. The early start is stored (`mm_season_starts`) and put
//! into the season calendar every service reads, so the very next Login,
//! leaderboard call and points claim are in the new season, while the old
//! season's standings stay as they are, a past season like any other.

use pitlane_core::SeasonCalendar;
use pitlane_store::mmws::SeasonStart;
use pitlane_store::{Store, StoreError};

/// Puts the stored early starts into `calendar`. Called at start-up and
/// now and then by the dashboard's upkeep, so that instances sharing one
/// database agree on the season.
pub async fn reload_season_starts(
    store: &Store,
    calendar: &SeasonCalendar,
) -> Result<(), StoreError> {
    let starts = store.mm_season_starts().all().await?;
    calendar.early_starts.replace(
        starts
            .iter()
            .filter_map(|s| Some((i32::try_from(s.season_id).ok()?, s.starts_at))),
    );
    Ok(())
}

/// What happened when the operator pressed the button.
#[derive(Debug, PartialEq, Eq)]
pub enum StartOutcome {
    Started {
        ended: i32,
        started: i32,
    },
    /// The season the form was made for is no longer the next one (the
    /// button was pressed twice, or by two operators).
    Stale {
        current: i32,
    },
}

/// Starts season `expected` now if it is still the next one.
pub async fn start_next_season(
    store: &Store,
    calendar: &SeasonCalendar,
    expected: i64,
    admin_name: &str,
    reason: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<StartOutcome, StoreError> {
    // Another instance may have started one already.
    reload_season_starts(store, calendar).await?;
    let current = calendar.at(now).season_id;
    let next = calendar.next_season_id(now);
    if i64::from(next) != expected {
        return Ok(StartOutcome::Stale { current });
    }
    let recorded = store
        .mm_season_starts()
        .record(
            &SeasonStart {
                season_id: i64::from(next),
                starts_at: now,
                started_by: admin_name.to_string(),
                reason: reason.to_string(),
            },
            now,
        )
        .await?;
    if !recorded {
        reload_season_starts(store, calendar).await?;
        return Ok(StartOutcome::Stale {
            current: calendar.at(now).season_id,
        });
    }
    calendar.early_starts.insert(next, now);
    Ok(StartOutcome::Started {
        ended: current,
        started: next,
    })
}
