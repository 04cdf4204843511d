//! `AccountService.svc`: Login and UpdateAccountTitle.

use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use http::StatusCode;
use pitlane_core::body::Body;
use pitlane_core::ids;
use pitlane_core::seasons::SeasonState;
use pitlane_store::mmws::{LoginAttempt, LoginOutcome, MmSession, Rollover, Standing};

use crate::contracts::account::login_answer_prefix;
use crate::contracts::{GameInfo, LoginDetails, ScoreInfo, SeasonInfo};
use crate::http::Failure;
use crate::steam_ticket::steam_id_from_platform_id;
use crate::xml::Element;
use crate::MicroMachines;

/// Steam persona names are at most 32 characters; anything far longer is
/// not a real client.
const MAX_NAME_CHARS: usize = 64;
const MAX_TITLE_CHARS: usize = 128;
const DEFAULT_TITLE: &str = "lng_player_title_default";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRequest {
    pub platform_type: String,
    pub steam_id: u64,
    pub display_name: String,
    pub default_title: String,
}

impl LoginRequest {
    pub fn parse(e: &Element) -> Result<Self, Failure> {
        let platform_type = e.required("PlatformType")?.to_string();
        if platform_type != "Steam" {
            return Err(Failure::bad_request(format!(
                "PlatformType {platform_type:?} is not supported; this server serves the Steam version"
            )));
        }
        let steam_id = steam_id_from_platform_id(e.required("PlatformID")?)
            .map_err(|err| Failure::bad_request(err.to_string()))?;
        let display_name = clean_label(e.required("DisplayName")?, MAX_NAME_CHARS)
            .ok_or_else(|| Failure::bad_request("DisplayName is empty"))?;
        let default_title = e
            .optional("DefaultTitle")
            .and_then(|t| clean_label(t, MAX_TITLE_CHARS))
            .unwrap_or_else(|| DEFAULT_TITLE.to_string());
        Ok(Self {
            platform_type,
            steam_id,
            display_name,
            default_title,
        })
    }
}

/// Control characters removed, length capped; `None` if nothing is left.
fn clean_label(text: &str, max_chars: usize) -> Option<String> {
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(max_chars)
        .collect();
    let cleaned = cleaned.trim().to_string();
    (!cleaned.is_empty()).then_some(cleaned)
}

impl MicroMachines {
    pub(crate) async fn login(
        &self,
        request: LoginRequest,
        client_addr: &str,
        now: DateTime<Utc>,
    ) -> Result<Body, Failure> {
        let config = self.game_config.at(now);
        let season = self.game_config.calendar().at(now);
        let token = ids::session_token();
        let attempt = LoginAttempt {
            steam_id: request.steam_id,
            display_name: request.display_name.clone(),
            default_title: request.default_title.clone(),
            now,
            token_digest: ids::token_digest(&token),
            expires_at: now + Duration::hours(i64::from(self.settings.session_ttl_hours)),
            client_addr: client_addr.to_owned(),
            config_hash: i64::from(config.hash),
            season_id: i64::from(season.season_id),
        };
        let (account, created, standing) = match self.store.mm_logins().login(attempt).await? {
            LoginOutcome::Banned(ban) => {
                let until = ban.until.map_or(String::new(), |t| {
                    format!(" until {}", t.format("%Y-%m-%d %H:%M UTC"))
                });
                tracing::warn!(steam_id = request.steam_id, name = %request.display_name, reason = %ban.reason, banned_by = %ban.banned_by, "Login refused: the player is banned{until}");
                return Err(Failure::new(
                    StatusCode::FORBIDDEN,
                    format!("banned from this server{until}: {}", ban.reason),
                ));
            }
            LoginOutcome::LoggedIn {
                account,
                created,
                standing,
                ..
            } => (account, created, standing),
        };
        if created {
            tracing::info!(user_id = account.user_id, steam_id = request.steam_id, name = %account.display_name, "new Micro Machines account");
        }
        let game_info = match standing {
            Standing::Scored { score, rank } => game_info_of(
                &season,
                account.level,
                account.prestige,
                (score.points, score.division, rank),
                None,
            ),
            Standing::Unscored { ranked_players } => game_info_of(
                &season,
                account.level,
                account.prestige,
                (0, 0, ranked_players),
                None,
            ),
            // The first visit of a new season writes the head start.
            Standing::Returning => {
                self.game_info(account.user_id, account.level, account.prestige, now)
                    .await?
            }
        };
        let details = LoginDetails {
            config: &config,
            game_info,
            platform_id: account.steam_id,
            session_token: &token,
            user_facing_id: &account.user_facing_id,
            user_id: account.user_id,
        };
        // The configuration block, 55 KB of the 58, is the same for every
        // player: made once per configuration and sent from where it is.
        let shared = config
            .login_prefix
            .get_or_init(|| Bytes::from(login_answer_prefix(&config)))
            .clone();
        Ok(Body::parts(shared, Bytes::from(details.own_part())))
    }

    /// The player's standing in the season running at `now`, from the store.
    pub(crate) async fn game_info(
        &self,
        user_id: i64,
        level: i64,
        prestige: i64,
        now: DateTime<Utc>,
    ) -> Result<GameInfo, Failure> {
        let season = self.game_config.calendar().at(now);
        let season_id = i64::from(season.season_id);
        // A returning player's first visit in a new season: their head start.
        let rollover = self
            .store
            .mm_progression()
            .enter_season(season_id, user_id, self.divisions.clone(), now)
            .await?;
        let scores = self.store.mm_scores();
        let standing = match scores.get(season_id, user_id).await? {
            Some(score) => {
                let rank = scores.rank_of(&score).await?;
                (score.points, score.division, rank)
            }
            None => (0, 0, scores.ranked_players(season_id).await?),
        };
        Ok(game_info_of(&season, level, prestige, standing, rollover))
    }

    pub(crate) async fn update_title(
        &self,
        session: &MmSession,
        e: &Element,
    ) -> Result<(), Failure> {
        let title = clean_label(e.required("Title")?, MAX_TITLE_CHARS)
            .ok_or_else(|| Failure::bad_request("Title is empty"))?;
        if !self
            .store
            .mm_accounts()
            .set_title(session.user_id, &title)
            .await?
        {
            return Err(Failure::unknown_session());
        }
        Ok(())
    }
}

/// `GameInfo` from the player's (points, division, rank) in `season`.
fn game_info_of(
    season: &SeasonState,
    level: i64,
    prestige: i64,
    (points, division, rank): (i64, i64, i64),
    rollover: Option<Rollover>,
) -> GameInfo {
    let season_id = i64::from(season.season_id);
    GameInfo {
        score: ScoreInfo {
            current_season_id: season_id,
            division,
            player_season_id: season_id,
            points,
            rank,
            untrusted_level: level,
            untrusted_prestige: prestige,
        },
        season: SeasonInfo {
            bonus_points: rollover.as_ref().map_or(0, |r| r.bonus_points),
            display_offset: 0,
            is_season_active: season.is_active,
            new_season_id: season_id,
            old_season_id: rollover.as_ref().map_or(season_id, |r| r.previous_season),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_cleaned_and_capped() {
        assert_eq!(clean_label("  Heatray \r\n", 64), Some("Heatray".into()));
        assert_eq!(clean_label("\u{0}\u{7}", 64), None);
        assert_eq!(clean_label(&"x".repeat(100), 64).unwrap().len(), 64);
        assert_eq!(clean_label("Łukasz™", 64), Some("Łukasz™".into()));
    }
}
