//! The game configuration as data: read from TOML (the built-in file or the
//! operator's), written as the `GameConfigurationData` contract. Member
//! order in each `write_members` is the official (alphabetical) order.

use serde::{Deserialize, Serialize};

use crate::xml::{Contract, XmlWriter};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GameConfig {
    pub division_bands: Vec<DivisionBand>,
    pub division_prizes: Vec<DivisionPrize>,
    pub rank_bonus: Vec<RankBonus>,
    pub rank_prizes: Vec<RankPrize>,
    pub playlists: Vec<Playlist>,
    pub server_values: Vec<ServerValue>,
    pub scoring_constants: Vec<ScoringConstant>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DivisionBand {
    pub division_id: i64,
    /// Points at which a player is promoted into this division.
    pub min_points: i64,
    /// A player already here stays while at or above this; 0 = never
    /// relegated from this division.
    pub relegation_min_points: i64,
    /// Head start given for this division at the next season [inferred].
    pub bonus_points: i64,
    pub promotion_prize_code: String,
}

impl Contract for DivisionBand {
    fn write_members(&self, w: &mut XmlWriter) {
        w.int("BonusPoints", self.bonus_points);
        w.int("DivisionID", self.division_id);
        w.int("MinPoints", self.min_points);
        w.text("PromotionPrizeCode", &self.promotion_prize_code);
        w.int("RelegationMinPoints", self.relegation_min_points);
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DivisionPrize {
    pub division_id: i64,
    pub prize_code: String,
}

impl Contract for DivisionPrize {
    fn write_members(&self, w: &mut XmlWriter) {
        w.int("DivisionID", self.division_id);
        w.text("PrizeCode", &self.prize_code);
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RankBonus {
    pub min_rank: i64,
    pub bonus_points: i64,
}

impl Contract for RankBonus {
    fn write_members(&self, w: &mut XmlWriter) {
        w.int("BonusPoints", self.bonus_points);
        w.int("MinRank", self.min_rank);
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RankPrize {
    pub min_rank: i64,
    pub prize_code: String,
}

impl Contract for RankPrize {
    fn write_members(&self, w: &mut XmlWriter) {
        w.int("MinRank", self.min_rank);
        w.text("PrizeCode", &self.prize_code);
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Playlist {
    pub id: i64,
    pub name: String,
    /// `ranked` or `quick`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `race`, `elimination`, `battle` or `random`.
    pub sub_type: String,
    pub game_modes: Vec<String>,
    pub levels: Vec<String>,
    pub vehicles: Vec<String>,
    #[serde(default)]
    pub mutators: Vec<PlaylistMutator>,
}

impl Contract for Playlist {
    fn write_members(&self, w: &mut XmlWriter) {
        w.strings("GameModes", &self.game_modes);
        w.strings("Levels", &self.levels);
        w.list("Mutators", "PlaylistMutator", &self.mutators);
        w.text("Name", &self.name);
        w.int("PlaylistID", self.id);
        w.text("SubType", &self.sub_type);
        w.text("Type", &self.kind);
        w.strings("Vehicles", &self.vehicles);
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaylistMutator {
    pub name: String,
    pub parameter1: f64,
    pub parameter2: f64,
}

impl Contract for PlaylistMutator {
    fn write_members(&self, w: &mut XmlWriter) {
        w.text("Name", &self.name);
        w.decimal("Parameter1", self.parameter1);
        w.decimal("Parameter2", self.parameter2);
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerValue {
    pub name: String,
    pub value: String,
    /// Whether the client may treat the value as fixed.
    #[serde(rename = "const")]
    pub constant: bool,
}

impl Contract for ServerValue {
    fn write_members(&self, w: &mut XmlWriter) {
        w.bool("Const", self.constant);
        w.text("Name", &self.name);
        w.text("Value", &self.value);
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoringConstant {
    pub name: String,
    pub value: i64,
}

impl Contract for ScoringConstant {
    fn write_members(&self, w: &mut XmlWriter) {
        w.text("Name", &self.name);
        w.int("Value", self.value);
    }
}

/// `{ Entries: [...] }`, the wrapper every table of the configuration uses.
pub struct Entries<'a, C> {
    pub item: &'static str,
    pub values: &'a [C],
}

impl<C: Contract> Contract for Entries<'_, C> {
    fn write_members(&self, w: &mut XmlWriter) {
        w.list("Entries", self.item, self.values);
    }
}
