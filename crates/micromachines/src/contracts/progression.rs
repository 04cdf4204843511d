//! `GameProgressionService.svc` results.

use crate::xml::{Contract, XmlWriter};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddPointsResult {
    pub bonus_points: i64,
    pub game_config_changed: bool,
    pub new_division: i64,
    pub new_season: i64,
    pub old_division: i64,
    pub old_season: i64,
    pub points: i64,
    pub rank: i64,
    pub user_id: i64,
}

impl Contract for AddPointsResult {
    fn write_members(&self, w: &mut XmlWriter) {
        w.int("BonusPoints", self.bonus_points);
        w.nil("Error");
        w.bool("GameConfigChanged", self.game_config_changed);
        w.int("NewDivision", self.new_division);
        w.int("NewSeason", self.new_season);
        w.int("OldDivision", self.old_division);
        w.int("OldSeason", self.old_season);
        w.int("Points", self.points);
        w.int("Rank", self.rank);
        w.int("UserID", self.user_id);
    }
}
