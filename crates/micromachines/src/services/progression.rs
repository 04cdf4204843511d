//! `GameProgressionService.svc/AddPoints`.

use chrono::{DateTime, Utc};
use pitlane_store::mmws::{ClaimOutcome, MmSession, PointsClaim};

use crate::contracts::AddPointsResult;
use crate::http::Failure;
use crate::xml::{Element, XmlWriter};
use crate::MicroMachines;

/// The largest single-race change the scoring tables can produce is a few
/// hundred points; anything beyond this is refused as not a real result.
pub const MAX_POINTS_DELTA: i64 = 10_000;

impl MicroMachines {
    pub(crate) async fn add_points(
        &self,
        session: &MmSession,
        e: &Element,
        now: DateTime<Utc>,
    ) -> Result<String, Failure> {
        let race_key = e.required("RaceKey")?;
        let delta = e.required_i64("Points")?;
        if delta.abs() > MAX_POINTS_DELTA {
            return Err(Failure::bad_request(format!(
                "Points {delta} is outside -{MAX_POINTS_DELTA}..{MAX_POINTS_DELTA}"
            )));
        }
        let account = self
            .store
            .mm_accounts()
            .by_user_id(session.user_id)
            .await?
            .ok_or_else(Failure::unknown_session)?;
        let level = e
            .optional("Level")
            .and_then(|v| v.parse().ok())
            .unwrap_or(account.level);
        let prestige = e
            .optional("Prestige")
            .and_then(|v| v.parse().ok())
            .unwrap_or(account.prestige);
        let season_id = self.season_of(now);
        let claim = PointsClaim {
            season_id,
            user_id: account.user_id,
            steam_id: account.steam_id,
            race_key,
            delta,
            level,
            prestige,
            now,
        };
        let outcome = self
            .store
            .mm_progression()
            .claim(&claim, self.divisions.clone())
            .await?;
        let (old_division, new_division, bonus, old_season) = match outcome {
            ClaimOutcome::NotInRace => {
                return Err(Failure::new(
                    http::StatusCode::FORBIDDEN,
                    format!(
                    "not a player of race {race_key}: points are only counted for registered races"
                ),
                ))
            }
            ClaimOutcome::AlreadyClaimed { delta: earlier } => {
                tracing::warn!(
                    user_id = account.user_id,
                    race_key,
                    earlier,
                    again = delta,
                    "points for this race were already counted; answering the current standing"
                );
                let score = self
                    .store
                    .mm_scores()
                    .get(season_id, account.user_id)
                    .await?;
                let division = score.as_ref().map_or(0, |s| s.division);
                (division, division, 0, season_id)
            }
            ClaimOutcome::Applied {
                old_division,
                new_division,
                rollover,
                ..
            } => (
                old_division,
                new_division,
                rollover.as_ref().map_or(0, |r| r.bonus_points),
                rollover.as_ref().map_or(season_id, |r| r.previous_season),
            ),
        };
        let scores = self.store.mm_scores();
        let score = scores.get(season_id, account.user_id).await?;
        let (points, rank) = match &score {
            Some(s) => (s.points, scores.rank_of(s).await?),
            None => (0, scores.ranked_players(season_id).await?),
        };
        let result = AddPointsResult {
            bonus_points: bonus,
            game_config_changed: i64::from(self.game_config.at(now).hash) != session.config_hash,
            new_division,
            new_season: season_id,
            old_division,
            old_season,
            points,
            rank,
            user_id: account.user_id,
        };
        Ok(XmlWriter::document("AddPointsResult", &result))
    }
}
