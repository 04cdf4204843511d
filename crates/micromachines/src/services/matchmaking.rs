//! `MatchmakingService.svc`.

use chrono::{DateTime, Utc};
use pitlane_store::mmws::{MmSession, RaceInfo};

use crate::http::Failure;
use crate::matchmaking::{QueueKey, SearchRequest};
use crate::xml::{Element, XmlWriter};
use crate::MicroMachines;

/// Parties in the game hold at most four players; anything larger is not
/// a real client.
const MAX_GROUP_SIZE: i64 = 12;
/// Humans listed in one RegisterActiveGameWithPlayers.
const MAX_REGISTERED_PLAYERS: usize = 16;

fn short_text(e: &Element, name: &str) -> Result<String, Failure> {
    let value = e.required(name)?;
    if value.is_empty() || value.len() > 64 {
        return Err(Failure::bad_request(format!(
            "{name} must be 1 to 64 characters"
        )));
    }
    Ok(value.to_string())
}

/// An EnterMatchmaking2 request's search, read before its session is
/// looked up: a poll then waits for the session (and is held) without the
/// request's text or XML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchForm {
    pub group_lobby_id: u64,
    pub game_lobby_id: u64,
    pub queue: QueueKey,
    pub group_size: u32,
    pub skill_level: u64,
    pub start_now: bool,
}

impl SearchForm {
    /// The search of the session's player.
    pub fn by(self, session: &MmSession) -> SearchRequest {
        SearchRequest {
            user_id: session.user_id,
            steam_id: session.steam_id,
            group_lobby_id: self.group_lobby_id,
            game_lobby_id: self.game_lobby_id,
            queue: self.queue,
            group_size: self.group_size,
            skill_level: self.skill_level,
            start_now: self.start_now,
        }
    }
}

pub fn parse_search(e: &Element) -> Result<SearchForm, Failure> {
    let group_size = e
        .optional("GroupSize")
        .map_or(Ok(1), |_| e.required_i64("GroupSize"))?;
    if !(1..=MAX_GROUP_SIZE).contains(&group_size) {
        return Err(Failure::bad_request(format!(
            "GroupSize {group_size} is out of range"
        )));
    }
    let skill_level = match e.optional("SkillLevel") {
        None | Some("") => 0,
        Some(text) => text
            .parse::<u64>()
            .or_else(|_| text.parse::<i64>().map(|v| v.unsigned_abs()))
            .map_err(|_| Failure::bad_request("SkillLevel is not a number"))?,
    };
    Ok(SearchForm {
        group_lobby_id: e.required_u64("GroupLobbyId")?,
        game_lobby_id: e.required_u64("GameLobbyId")?,
        queue: QueueKey {
            game_type: short_text(e, "GameType")?,
            rule_set: short_text(e, "RuleSet")?,
            ranking: short_text(e, "Ranking")?,
            network_version: e
                .optional("NetworkVersion")
                .map_or(Ok(1), |_| e.required_i64("NetworkVersion"))?,
        },
        group_size: group_size as u32,
        skill_level,
        start_now: e
            .optional("IgnoreMinimumMatchRequirements")
            .map_or(Ok(false), |_| {
                e.required_bool("IgnoreMinimumMatchRequirements")
            })?,
    })
}

/// Steam ids listed in `PlatformIDs`; the separator for several was never
/// observed, so any non-digit separates.
pub fn parse_platform_ids(text: &str) -> Vec<u64> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter_map(|part| part.parse::<u64>().ok())
        .filter(|id| *id > 0)
        .take(MAX_REGISTERED_PLAYERS)
        .collect()
}

impl MicroMachines {
    pub(crate) async fn enter_matchmaking(
        &self,
        request: Box<SearchRequest>,
        season_id: i64,
    ) -> Result<String, Failure> {
        let result = self.matchmaker.search(request, season_id).await?;
        Ok(XmlWriter::document("MatchmakingResult", &result))
    }

    pub(crate) async fn cancel_matchmaking(
        &self,
        session: &MmSession,
        e: &Element,
    ) -> Result<(), Failure> {
        let group = match e.optional("GroupLobbyId") {
            Some(_) => Some(e.required_u64("GroupLobbyId")?),
            None => None,
        };
        let removed = self.matchmaker.cancel(session.user_id, group).await?;
        tracing::info!(user_id = session.user_id, removed, "matchmaking cancelled");
        Ok(())
    }

    pub(crate) async fn register_active_game(
        &self,
        session: &MmSession,
        e: &Element,
        now: DateTime<Utc>,
    ) -> Result<(), Failure> {
        let race_key = e.required("RaceKey")?;
        if race_key.is_empty() || race_key.len() > 64 {
            return Err(Failure::bad_request("RaceKey must be 1 to 64 characters"));
        }
        let mut players = parse_platform_ids(e.optional("PlatformIDs").unwrap_or_default());
        let caller = session.steam_id;
        if !players.contains(&caller) {
            players.push(caller);
        }
        let seconds = e
            .optional("SecondsItTookToMatchmake")
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0)
            .max(0);
        let field = |name: &str| {
            e.optional(name)
                .unwrap_or("x")
                .chars()
                .take(64)
                .collect::<String>()
        };
        let race = RaceInfo {
            race_key: race_key.to_string(),
            session_id: self.matchmaker.next_session_id().await?,
            game_type: field("GameType"),
            rule_set: field("RuleSet"),
            ranking: field("Ranking"),
            network_version: e
                .optional("NetworkVersion")
                .and_then(|v| v.parse().ok())
                .unwrap_or(1),
            season_id: self.season_of(now),
            created_at: now,
        };
        let known = self
            .store
            .mm_races()
            .register(&race, seconds, &players, now)
            .await?;
        self.matchmaker.mark_started(race_key).await?;
        tracing::info!(
            race_key,
            known,
            players = players.len(),
            seconds_to_match = seconds,
            "race started"
        );
        Ok(())
    }
}
