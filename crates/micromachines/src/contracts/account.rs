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

const ROOT: &str = "LoginDetails";

impl Contract for LoginDetails<'_> {
    fn write_members(&self, w: &mut XmlWriter) {
        write_shared_members(w, self.config);
        self.write_own_members(w);
    }
}

/// The members before the player's own: the same for every player while
/// the configuration is the same.
fn write_shared_members(w: &mut XmlWriter, config: &RenderedConfig) {
    w.nil("Error");
    w.object("GameConfigurationData", config);
}

/// The Login answer up to the player's own members (55 KB of 58): built
/// once per configuration and sent, shared, before [`LoginDetails::own_part`].
pub fn login_answer_prefix(config: &RenderedConfig) -> String {
    let mut w = XmlWriter::with_capacity(config.members_xml.len() + 256);
    w.open_root(ROOT);
    write_shared_members(&mut w, config);
    w.into_string()
}

impl LoginDetails<'_> {
    /// The rest of the answer after [`login_answer_prefix`]: together they
    /// are exactly the document of the whole contract.
    pub fn own_part(&self) -> String {
        let mut w = XmlWriter::with_capacity(1024);
        self.write_own_members(&mut w);
        w.close_root(ROOT);
        w.into_string()
    }

    fn write_own_members(&self, w: &mut XmlWriter) {
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
