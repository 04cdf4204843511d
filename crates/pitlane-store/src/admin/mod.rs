//! The operator's dashboard: operator accounts with argon2 passwords, their
//! sessions (cookie digests, CSRF token, idle and absolute expiry), the
//! failed logins that throttle password guessing, the audit log, and the
//! read-side queries the dashboard's pages need across the games' tables.
//!
//! It all lives in the database rather than in memory so that several
//! Pitlane instances on one PostgreSQL show one dashboard: a session made
//! on one instance is valid on the others, and the audit log is complete.

mod accounts;
mod audit;
mod failures;
mod sessions;
mod views;

pub use accounts::{AdminAccount, AdminAccounts, AdminError};
pub use audit::{AuditEntry, AuditLog, NewAuditEntry};
pub use failures::{AdminLoginFailures, FailureScope};
pub use sessions::{AdminSession, AdminSessions};
pub use views::{AdminViews, PlayerRace, RacePlayer, RecentRace, SeasonBoard};

/// Operator names are typed on a command line and shown in the audit log:
/// letters, digits, `.`, `_` and `-`, 1 to 32 characters.
pub fn valid_admin_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// The form names are made unique by (ASCII-only, so both engines agree).
fn name_key(name: &str) -> String {
    name.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::valid_admin_name;

    #[test]
    fn admin_names() {
        assert!(valid_admin_name("ops.team_1-x"));
        assert!(!valid_admin_name(""));
        assert!(!valid_admin_name("a b"));
        assert!(!valid_admin_name("<script>"));
        assert!(!valid_admin_name(&"a".repeat(33)));
    }
}

#[cfg(all(test, feature = "testing"))]
mod store_tests;
