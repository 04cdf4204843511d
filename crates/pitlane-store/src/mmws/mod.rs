//! Repositories of the Micro Machines World Series services.

mod accounts;
mod scores;
mod sessions;

pub use accounts::{Accounts, MmAccount};
pub use scores::{Scores, SeasonScore};
pub use sessions::{MmSession, Sessions};
