//! Season rules from the game configuration: divisions with relegation
//! hysteresis, and the head start at a new season.

use pitlane_store::mmws::{SeasonRules, SeasonScore};

use crate::game_config::model::{DivisionBand, RankBonus};
use crate::game_config::GameConfig;

#[derive(Debug, Clone)]
pub struct Divisions {
    /// Sorted by points (validated at load).
    bands: Vec<DivisionBand>,
    /// Sorted by `min_rank`.
    rank_bonus: Vec<RankBonus>,
}

impl Divisions {
    pub fn new(config: &GameConfig) -> Self {
        let mut rank_bonus = config.rank_bonus.clone();
        rank_bonus.sort_by_key(|r| r.min_rank);
        Self {
            bands: config.division_bands.clone(),
            rank_bonus,
        }
    }

    fn index_of(&self, division: i64) -> usize {
        self.bands
            .iter()
            .rposition(|b| b.division_id <= division)
            .unwrap_or(0)
    }

    /// The highest band whose `MinPoints` the player reaches.
    pub fn by_points(&self, points: i64) -> i64 {
        self.bands
            .iter()
            .rev()
            .find(|b| b.min_points <= points)
            .or(self.bands.first())
            .map_or(0, |b| b.division_id)
    }

    /// Promotion as soon as a band's `MinPoints` is reached; relegation only
    /// below the held band's `RelegationMinPoints`, one band at a time, and
    /// never from a band whose threshold is 0 (divisions 0, 1 and Elite in
    /// the official configuration). Observed on every leaderboard row.
    pub fn after(&self, old_division: i64, points: i64) -> i64 {
        let earned = self.index_of(self.by_points(points));
        let mut held = self.index_of(old_division);
        if earned >= held {
            return self.bands[earned].division_id;
        }
        while held > earned {
            let band = &self.bands[held];
            if band.relegation_min_points == 0 || points >= band.relegation_min_points {
                break;
            }
            held -= 1;
        }
        self.bands[held].division_id
    }

    /// Bonus for a final 0-based season rank: the entry with the highest
    /// `MinRank` not above the rank (inferred reading of `RankBonus`: a
    /// catch-up bonus that the top 10 and players past 10,000 do not get).
    pub fn rank_bonus(&self, rank: i64) -> i64 {
        self.rank_bonus
            .iter()
            .rev()
            .find(|r| r.min_rank <= rank)
            .map_or(0, |r| r.bonus_points)
    }

    pub fn band_bonus(&self, division: i64) -> i64 {
        self.bands
            .iter()
            .find(|b| b.division_id == division)
            .map_or(0, |b| b.bonus_points)
    }
}

impl SeasonRules for Divisions {
    fn division_after(&self, old_division: i64, new_points: i64) -> i64 {
        self.after(old_division, new_points)
    }

    /// The band's `BonusPoints` for the division reached last season plus
    /// the rank bonus for the final rank (inferred, see docs).
    fn head_start(&self, previous: &SeasonScore, previous_rank: i64) -> (i64, i64) {
        let points = self.band_bonus(previous.division) + self.rank_bonus(previous_rank);
        (points, self.by_points(points))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Divisions {
        Divisions::new(&GameConfig::builtin())
    }

    #[test]
    fn division_table() {
        let d = rules();
        // (held division, new points, expected division)
        let cases = [
            (0, 0, 0),
            (0, 499, 0),
            (0, 500, 1),
            (0, 999, 1),
            (0, 1000, 2),
            (0, 3000, 6),
            (0, 99999, 6),
            (1, 0, 1),   // division 1 never relegates
            (2, 760, 2), // 750 keeps division 2
            (2, 740, 1), // below 750: back to 1
            (2, 100, 1), // ...and not below 1, which never relegates
            (3, 1250, 3),
            (3, 1249, 2),
            (4, 1830, 4), // observed on the leaderboard
            (4, 1700, 3), // below 1750; 3 holds at >= 1250
            (4, 1200, 2), // below 1250 too; 2 holds at >= 750
            (5, 2380, 5), // observed
            (5, 2249, 4),
            (5, 2100, 4), // 4 holds from 1750
            (6, 2910, 6), // observed: Elite never relegates
            (6, 0, 6),
            (2, 1500, 3), // promotion
            (3, 2600, 5), // promotion over two bands
        ];
        for (held, points, expected) in cases {
            assert_eq!(
                d.after(held, points),
                expected,
                "held {held}, {points} points"
            );
        }
    }

    #[test]
    fn rank_bonus_and_head_start() {
        let d = rules();
        assert_eq!(d.rank_bonus(0), 0);
        assert_eq!(d.rank_bonus(9), 0);
        assert_eq!(d.rank_bonus(10), 50);
        assert_eq!(d.rank_bonus(99), 50);
        assert_eq!(d.rank_bonus(100), 100);
        assert_eq!(d.rank_bonus(1000), 150);
        assert_eq!(d.rank_bonus(10000), 0);
        let prev = |division| SeasonScore {
            season_id: 45,
            user_id: 1,
            points: 0,
            division,
            reached_at: Default::default(),
            updated_at: Default::default(),
        };
        assert_eq!(d.head_start(&prev(6), 0), (750, 1));
        assert_eq!(d.head_start(&prev(6), 36), (800, 1));
        assert_eq!(d.head_start(&prev(0), 5), (0, 0));
        assert_eq!(d.head_start(&prev(4), 150), (600, 1));
    }
}
