//! The settings in effect for both games, read-only: what the config file
//! (and its defaults) made of this server. Changing them means editing the
//! file and restarting, so this page has no forms.
//!
//! The matchmaking modes come first in a table of their own; after that
//! every section of the configuration is listed key by key straight from
//! the loaded `Config`, so a setting added later shows up here without
//! anyone remembering to add it.

use pitlane_store::admin::AdminSession;
use serde_json::Value;

use crate::html::{esc, table};
use crate::respond::{Resp, WebError};
use crate::Dashboard;

pub async fn page(d: &Dashboard, s: &AdminSession) -> Result<Resp, WebError> {
    let mm = &d.config.micromachines.matchmaking;
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
    let modes: Vec<Vec<String>> = mm
        .modes
        .iter()
        .map(|m| {
            vec![
                esc(&m.rule_set),
                m.max_players.to_string(),
                if m.teams == 0 {
                    "every party for itself".into()
                } else {
                    format!("{} teams", m.teams)
                },
                if m.ai_fill {
                    "yes: start-now searches start at once".into()
                } else {
                    "no: start-now searches wait for humans".into()
                },
                yes_no(m.ranked_ai),
            ]
        })
        .collect();
    let matchmaking = vec![
        vec![
            "Forced mode".into(),
            match &mm.forced_rule_set {
                Some(rule_set) => format!(
                    "<strong>{}</strong>: every search is matched in this pool",
                    esc(rule_set)
                ),
                None => "none: each search gets the mode it asks for".into(),
            },
        ],
        vec![
            "Poll held for".into(),
            format!("{} s while no race forms", mm.hold_secs),
        ],
        vec!["Gather window".into(), format!("{} s", mm.gather_secs)],
        vec![
            "Skill band".into(),
            format!(
                "±{} at first, widening by {} per second, open to all after {} s",
                mm.skill_band_initial, mm.skill_band_widen_per_sec, mm.skill_band_open_after_secs
            ),
        ],
        vec![
            "Party leaves after".into(),
            format!("{} s without a poll", mm.leave_after_secs),
        ],
        vec![
            "Late join into a formed race".into(),
            format!("{} s", mm.late_join_secs),
        ],
    ];

    let mut sections = String::new();
    let config = serde_json::to_value(&d.config).unwrap_or(Value::Null);
    if let Value::Object(top) = &config {
        for (section, value) in top {
            if section == "motorcity" && !d.config.motorcity.enabled {
                sections.push_str(
                    "<section><h2>motorcity</h2><p class=\"empty\">Motor City Online is off ([motorcity] enabled = false).</p></section>",
                );
                continue;
            }
            let mut rows = Vec::new();
            flatten("", value, &mut rows);
            let rows: Vec<Vec<String>> = rows
                .into_iter()
                .map(|(key, value)| {
                    let value = if is_secret(section, &key) {
                        redacted(section, &key, &value)
                    } else {
                        value
                    };
                    vec![format!("<code>{}</code>", esc(&key)), esc(&value)]
                })
                .collect();
            sections.push_str(&format!(
                "<section><h2 id=\"{0}\">[{0}]</h2>{1}</section>",
                esc(section),
                table(&["Setting", "Value"], &rows, "Nothing set.")
            ));
        }
    }
    let season_note = if d
        .micromachines
        .game_configuration()
        .calendar()
        .early_starts
        .all()
        .is_empty()
    {
        String::new()
    } else {
        "<p class=\"hint\">Seasons started early from the dashboard are not in the file; \
         the <a href=\"/mmws\">Micro Machines</a> page lists them.</p>"
            .into()
    };
    let body = format!(
        "<p class=\"hint\">Read-only: what this server runs with, from the config file and its defaults. \
         Edit the file and restart to change it. The Micro Machines game configuration (playlists, bands, events) \
         is on <a href=\"/mmws/config\">its own page</a>.</p>\
         <section><h2>Micro Machines modes</h2>{}</section>\
         <section><h2>Micro Machines matchmaking</h2>{}</section>{season_note}\
         <h2>Every setting</h2>{sections}",
        table(
            &["Rule set", "Max players", "Teams", "AI may fill a start-now race", "Ranked races may have AI"],
            &modes,
            "No modes configured: every rule set races up to 12 without teams."
        ),
        table(&["", ""], &matchmaking, ""),
    );
    Ok(super::render(d, s, "Settings", None, &body))
}

/// `a.b.c = value` rows; lists of plain values on one line, lists of
/// tables one row per entry.
fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            if map.is_empty() {
                out.push((prefix.to_string(), "{}".into()));
            }
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        Value::Array(items) if items.iter().any(|v| v.is_object() || v.is_array()) => {
            for (i, item) in items.iter().enumerate() {
                out.push((format!("{prefix}[{i}]"), scalar_or_json(item)));
            }
        }
        Value::Array(items) => out.push((
            prefix.to_string(),
            if items.is_empty() {
                "(none)".into()
            } else {
                items
                    .iter()
                    .map(scalar_or_json)
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        )),
        other => out.push((prefix.to_string(), scalar_or_json(other))),
    }
}

fn scalar_or_json(value: &Value) -> String {
    match value {
        Value::Null => "(not set)".into(),
        Value::String(s) => s.clone(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k} = {}", scalar_or_json(v)))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// Settings that may carry a credential.
fn is_secret(section: &str, key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    (section == "server" && key == "database_url")
        || key.contains("password")
        || key.contains("secret")
        || key.contains("token")
}

fn redacted(section: &str, key: &str, value: &str) -> String {
    if section == "server" && key == "database_url" {
        pitlane_store::redact(value)
    } else if value == "(not set)" {
        value.to_string()
    } else {
        "(hidden)".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_values_become_dotted_rows() {
        let v = serde_json::json!({"a": {"b": 1, "c": [1, 2]}, "d": [{"x": "y"}], "e": null});
        let mut rows = Vec::new();
        flatten("", &v, &mut rows);
        assert_eq!(
            rows,
            vec![
                ("a.b".to_string(), "1".to_string()),
                ("a.c".to_string(), "1, 2".to_string()),
                ("d[0]".to_string(), "x = y".to_string()),
                ("e".to_string(), "(not set)".to_string()),
            ]
        );
        assert!(is_secret("server", "database_url"));
        assert!(is_secret("web", "admin_password"));
        assert!(!is_secret("motorcity", "starting_money"));
        assert_eq!(
            redacted("server", "database_url", "postgres://u:pw@h/db"),
            pitlane_store::redact("postgres://u:pw@h/db")
        );
    }
}
