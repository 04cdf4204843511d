//! Repositories of the Micro Machines World Series services.

mod accounts;
mod bans;
mod progression;
mod races;
mod scores;
mod sessions;

pub use accounts::{Accounts, MmAccount};
pub use bans::{Bans, MmBan};
pub use progression::{ClaimOutcome, PointsClaim, Progression, Rollover, SeasonRules};
pub use races::{RaceInfo, RaceSummary, Races};
pub use scores::{LeaderboardRow, Scores, SeasonScore};
pub use sessions::{MmSession, Sessions};
