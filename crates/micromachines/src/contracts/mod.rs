//! Response data contracts of the MMCOS services, one module per service.
//! Each `write_members` lists members in the official (alphabetical) order.

pub mod account;
pub mod error;
pub mod leaderboard;
pub mod matchmaking;
pub mod progression;

pub use account::{GameInfo, LoginDetails, ScoreInfo, SeasonInfo};
pub use error::ServiceError;
pub use leaderboard::{LeaderboardEntries, LeaderboardEntry};
pub use matchmaking::{MatchmakingGroup, MatchmakingResult};
pub use progression::AddPointsResult;
