//! `MatchmakingService.svc` results.

use crate::xml::{Contract, XmlWriter};

#[derive(Debug, Clone, PartialEq)]
pub struct MatchmakingResult {
    pub average_wait_non_ranked: f64,
    pub average_wait_ranked: f64,
    pub groups: Vec<MatchmakingGroup>,
    pub race_key: String,
    pub session_id: i64,
}

impl Contract for MatchmakingResult {
    fn write_members(&self, w: &mut XmlWriter) {
        w.decimal("AverageWaitTimeNonRanked", self.average_wait_non_ranked);
        w.decimal("AverageWaitTimeRanked", self.average_wait_ranked);
        w.nil("Error");
        w.list("Groups", "MatchmakingGroup", &self.groups);
        // Its non-nil shape was never observed: always nil (docs).
        w.nil("InProgressGameToJoin");
        w.text("RaceKey", &self.race_key);
        w.int("SessionId", self.session_id);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchmakingGroup {
    pub game_lobby_id: u64,
    pub group_lobby_id: u64,
    pub group_size: i64,
    pub is_host: bool,
    pub team: i64,
}

impl Contract for MatchmakingGroup {
    fn write_members(&self, w: &mut XmlWriter) {
        w.uint("GameLobbyId", self.game_lobby_id);
        w.uint("GroupLobbyId", self.group_lobby_id);
        w.int("GroupSize", self.group_size);
        w.bool("IsHost", self.is_host);
        w.int("Team", self.team);
    }
}
