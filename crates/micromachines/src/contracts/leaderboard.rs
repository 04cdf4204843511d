//! `LeaderboardService.svc` results.

use crate::xml::{Contract, XmlWriter};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderboardEntries {
    pub entries: Vec<LeaderboardEntry>,
    pub player_rank: i64,
    pub player_score: i64,
}

impl Contract for LeaderboardEntries {
    fn write_members(&self, w: &mut XmlWriter) {
        w.list("Entries", "LeaderboardEntry", &self.entries);
        w.nil("Error");
        w.int("PlayerRank", self.player_rank);
        w.int("PlayerScore", self.player_score);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderboardEntry {
    pub division: i64,
    pub name: String,
    pub platform_id: u64,
    pub points: i64,
    pub title: String,
    pub untrusted_level: i64,
    pub untrusted_prestige: i64,
    pub user_id: i64,
}

impl Contract for LeaderboardEntry {
    fn write_members(&self, w: &mut XmlWriter) {
        w.int("Division", self.division);
        w.text("Name", &self.name);
        w.uint("PlatformID", self.platform_id);
        w.text("PlatformType", "Steam");
        w.int("Points", self.points);
        w.text("Title", &self.title);
        w.int("UntrustedLevel", self.untrusted_level);
        w.int("UntrustedPrestige", self.untrusted_prestige);
        w.int("UserID", self.user_id);
    }
}
