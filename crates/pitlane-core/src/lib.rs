//! Pieces every Pitlane game shares: the operator's configuration, the clock
//! (real or driven by tests), the season calendar and unguessable ids, and
//! HTTP/1.1's wire format as both games' HTTP listeners speak it.

pub mod body;
pub mod clock;
pub mod config;
pub mod http1;
pub mod ids;
pub mod recording;
pub mod seasons;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::Config;
pub use seasons::{SeasonCalendar, SeasonState};
