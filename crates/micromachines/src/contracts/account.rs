//! `AccountService.svc` results.

use crate::game_config::RenderedConfig;
use crate::xml::{Contract, XmlWriter};

/// `LoginDetails`: the shared configuration block plus the player's own
/// identity and season standing.
pub struct LoginDetails<'a> {
    pub config: &'a RenderedConfig,
    pub game_info: GameInfo,
    pub platform_id: u64,
    pub session_token: &'a str,
    pub user_facing_id: &'a str,
    pub user_id: i64,
}

impl Contract for LoginDetails<'_> {
    fn write_members(&self, w: &mut XmlWriter) {
        w.nil("Error");
        w.object("GameConfigurationData", self.config);
        w.object("GameInfo", &self.game_info);
        w.uint("PlatformID", self.platform_id);
        // Never non-nil on the official server; its type is unknown.
        w.nil("ServerTime");
        w.text("SessionToken", self.session_token);
        w.text("UserFacingID", self.user_facing_id);
        w.int("UserID", self.user_id);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GameInfo {
    pub score: ScoreInfo,
    pub season: SeasonInfo,
}

impl Contract for GameInfo {
    fn write_members(&self, w: &mut XmlWriter) {
        w.object("ScoreInfo", &self.score);
        w.object("SeasonInfo", &self.season);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreInfo {
    pub current_season_id: i64,
    pub division: i64,
    pub player_season_id: i64,
    pub points: i64,
    /// 0-based position on the season leaderboard.
    pub rank: i64,
    pub untrusted_level: i64,
    pub untrusted_prestige: i64,
}

impl Contract for ScoreInfo {
    fn write_members(&self, w: &mut XmlWriter) {
        w.int("CurrentSeasonID", self.current_season_id);
        w.int("Division", self.division);
        w.nil("Error");
        w.int("PlayerSeasonID", self.player_season_id);
        w.int("Points", self.points);
        w.int("Rank", self.rank);
        w.int("UntrustedLevel", self.untrusted_level);
        w.int("UntrustedPrestige", self.untrusted_prestige);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeasonInfo {
    pub bonus_points: i64,
    pub display_offset: i64,
    pub is_season_active: bool,
    pub new_season_id: i64,
    pub old_season_id: i64,
}

impl Contract for SeasonInfo {
    fn write_members(&self, w: &mut XmlWriter) {
        w.int("BonusPoints", self.bonus_points);
        w.int("DisplayOffset", self.display_offset);
        w.bool("IsSeasonActive", self.is_season_active);
        w.int("NewSeasonID", self.new_season_id);
        w.int("OldSeasonID", self.old_season_id);
    }
}
