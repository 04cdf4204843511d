//! One module per page (or group of pages) of the dashboard.

pub mod audit;
pub mod login;
pub mod mmws;
pub mod motorcity;
pub mod overview;
pub mod players;
pub mod settings;

use http::StatusCode;
use pitlane_store::admin::{AdminSession, NewAuditEntry};

use crate::html;
use crate::respond::{self, Resp, WebError};
use crate::Dashboard;

/// A page for the logged-in operator, with an optional message about the
/// action just taken (from a fixed list, never echoed from the URL).
pub fn render(
    d: &Dashboard,
    s: &AdminSession,
    title: &str,
    done: Option<&str>,
    body: &str,
) -> Resp {
    let flash = done.and_then(|code| match code {
        "ban" => Some("The ban is in force. Live sessions were ended."),
        "unban" => Some("The ban was lifted."),
        "rename" => Some("The name was changed."),
        "reset-points" => Some("The season points were reset."),
        "delete-score" => Some("The leaderboard entry was deleted."),
        "status" => Some("The server status message was replaced."),
        "next-season" => Some("The next season has started. The last one is now a past season."),
        "clear-name" => {
            Some("The operator's name was removed; the player's Steam name shows again.")
        }
        "create-account" => Some("The account was created."),
        "reset-password" => Some("The password was replaced."),
        _ => None,
    });
    respond::html(StatusCode::OK, html::page(&d.nav, s, title, flash, body))
}

/// Records an operator's action in the audit log and the server log.
pub async fn audit(
    d: &Dashboard,
    s: &AdminSession,
    action: &str,
    target: &str,
    reason: &str,
    detail: &str,
) -> Result<(), WebError> {
    d.store
        .audit_log()
        .record(&NewAuditEntry {
            at: d.clock.now(),
            admin_name: &s.admin_name,
            action,
            target,
            reason,
            detail,
        })
        .await?;
    tracing::info!(admin = %s.admin_name, action, target, reason, detail, "dashboard action");
    Ok(())
}

/// Rows of audit entries, newest first.
pub fn audit_rows(entries: &[pitlane_store::admin::AuditEntry]) -> Vec<Vec<String>> {
    entries
        .iter()
        .map(|e| {
            vec![
                html::time(e.at),
                html::esc(&e.admin_name),
                format!("<code>{}</code>", html::esc(&e.action)),
                target_link(&e.target),
                html::esc(&e.reason),
                html::esc(&e.detail),
            ]
        })
        .collect()
}

/// Audit targets name a player as `mmws:STEAMID` or `mco:CUSTOMERID`.
fn target_link(target: &str) -> String {
    match target.split_once(':') {
        Some(("mmws", steam)) if steam.chars().all(|c| c.is_ascii_digit()) => {
            format!("<a href=\"/players?q={steam}\">{}</a>", html::esc(target))
        }
        Some(("mco", id)) if id.chars().all(|c| c.is_ascii_digit()) => {
            format!("<a href=\"/players/mco/{id}\">{}</a>", html::esc(target))
        }
        _ => html::esc(target),
    }
}

pub const AUDIT_HEADERS: [&str; 6] = ["When", "Who", "Action", "Target", "Reason", "Detail"];
