//! One module per MMCOS service; each function takes a parsed request and
//! the player it came from and returns the typed result.

pub mod account;
pub mod leaderboard;
pub mod matchmaking;
pub mod progression;
pub mod status;
