//! Repositories of the Micro Machines World Series services.

mod accounts;
mod bans;
mod login;
mod matchmaking;
mod progression;
mod races;
mod scores;
mod season_starts;
mod session_cache;
mod sessions;

pub use accounts::{Accounts, MmAccount};
pub use bans::{Bans, MmBan};
pub use login::{LoginAttempt, LoginOutcome, Logins, Standing};
pub use matchmaking::{
    Heard, MatchRow, MemberRow, PollStart, PoolListener, PoolStep, PurgeRules, SearchRow,
    SharedPool, StoredQueue,
};
pub use progression::{ClaimOutcome, PointsClaim, Progression, Rollover, SeasonRules};
pub use races::{RaceInfo, RaceSummary, Races};
pub use scores::{LeaderboardRow, Scores, SeasonScore};
pub use season_starts::{SeasonStart, SeasonStarts};
pub use session_cache::{SessionCache, SessionLookups};
pub use sessions::{MmSession, Sessions};
