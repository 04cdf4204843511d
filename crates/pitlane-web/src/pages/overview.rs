//! The overview: is the server alive, who is on it, how busy is it.

use std::fmt::Write;

use pitlane_store::admin::AdminSession;

use crate::form::Form;
use crate::html::{self, esc};
use crate::metrics::{Second, HISTORY_SECS};
use crate::respond::{Resp, WebError};
use crate::Dashboard;

/// Seconds per bar of the request chart.
const BAR_SECS: usize = 5;

pub async fn page(d: &Dashboard, s: &AdminSession, _q: &Form) -> Result<Resp, WebError> {
    let st = d.status().await?;
    let mm = &st.micromachines;
    let card = |label: &str, live: &str, value: String, note: &str| {
        format!(
            "<div class=\"card\"><span class=\"label\">{}</span><strong data-live=\"{live}\">{value}</strong><span class=\"note\">{}</span></div>",
            esc(label),
            esc(note)
        )
    };
    let mut cards = String::from("<section class=\"cards\">");
    cards.push_str(&card(
        "Micro Machines online",
        "micromachines.online",
        mm.online.to_string(),
        &format!("active in the last {} min", mm.online_window_minutes),
    ));
    if let Some(mco) = &st.motorcity {
        cards.push_str(&card(
            "Motor City online",
            "motorcity.online",
            mco.online.to_string(),
            "live login sessions",
        ));
    }
    cards.push_str(&card(
        "Searching for a race",
        "micromachines.searching_players",
        mm.searching_players.to_string(),
        "players in matchmaking now",
    ));
    cards.push_str(&card(
        "Races in the last hour",
        "micromachines.races_last_hour",
        mm.races_last_hour.to_string(),
        "formed or started",
    ));
    cards.push_str(&card(
        "Requests per second",
        "requests.per_second",
        format!("{:.2}", st.requests.per_second),
        &format!("game HTTP, last {} s", st.requests.window_secs),
    ));
    cards.push_str(&card(
        "Error rate",
        "requests.error_rate",
        format!("{:.1} %", st.requests.error_rate * 100.0),
        "5xx answers, same window",
    ));
    cards.push_str("</section>");

    let mut facts = vec![
        vec!["Server".into(), esc(&st.server)],
        vec!["Version".into(), esc(st.version)],
        vec![
            "Uptime".into(),
            format!(
                "<span data-live=\"uptime_secs\" data-format=\"duration\">{}</span>",
                html::duration(st.uptime_secs)
            ),
        ],
        vec!["Database".into(), esc(st.database)],
        vec![
            "Micro Machines season".into(),
            format!(
                "{} ({})",
                mm.season_id,
                if mm.season_active {
                    "ranked phase"
                } else {
                    "between seasons"
                }
            ),
        ],
        vec!["Micro Machines accounts".into(), mm.accounts.to_string()],
    ];
    if let Some(mco) = &st.motorcity {
        facts.push(vec!["Motor City accounts".into(), mco.accounts.to_string()]);
    }
    let mut body = cards;
    let _ = write!(
        body,
        "<section><h2>Game requests, last {} minutes</h2>{}</section><section><h2>Server</h2>{}</section>\
         <section><h2>Certificates</h2>{}</section>\
         <p class=\"hint\">Numbers refresh every few seconds while JavaScript is on; \
         <a href=\"/api/status\">/api/status</a> and <a href=\"/metrics\">/metrics</a> carry them for other tools.</p>",
        HISTORY_SECS / 60,
        chart(&d.metrics.history(HISTORY_SECS - 1)),
        html::table(&["", ""], &facts, ""),
        certificates(d),
    );
    Ok(super::render(d, s, "Overview", None, &body))
}

/// Expiry dates of the certificates on disk, the soonest first.
fn certificates(d: &Dashboard) -> String {
    let now = d.clock.now();
    let (mut found, problems) = crate::certs::certificates(&d.config);
    found.sort_by_key(|c| c.not_after);
    let mut rows: Vec<Vec<String>> = found
        .iter()
        .map(|c| {
            let days = (c.not_after - now).num_days();
            let left = if c.not_after <= now {
                "<span class=\"bad\">expired</span>".to_string()
            } else if days < 30 {
                format!("<span class=\"bad\">{days} days left</span>")
            } else {
                format!("{days} days left")
            };
            vec![
                esc(c.label),
                esc(&c.subject),
                format!("{} · {left}", html::time(c.not_after)),
                format!("<code>{}</code>", esc(&c.path.display().to_string())),
            ]
        })
        .collect();
    rows.extend(problems.iter().map(|p| {
        vec![
            esc(p.label),
            String::new(),
            format!("<span class=\"bad\">unreadable: {}</span>", esc(&p.problem)),
            format!("<code>{}</code>", esc(&p.path.display().to_string())),
        ]
    }));
    let empty = if d.config.tls.enabled {
        "No certificates yet: they are made when HTTPS starts."
    } else {
        "HTTPS is off ([tls] enabled = false): no certificates in use."
    };
    html::table(&["Certificate", "Subject", "Expires", "File"], &rows, empty)
}

/// A bar chart of requests (and errors) per second, as inline SVG: no
/// script, no external image.
fn chart(history: &[Second]) -> String {
    let bars: Vec<Second> = history
        .chunks(BAR_SECS)
        .map(|c| Second {
            requests: c.iter().map(|s| s.requests).sum(),
            errors: c.iter().map(|s| s.errors).sum(),
        })
        .collect();
    let max = bars.iter().map(|b| b.requests).max().unwrap_or(0).max(1);
    let (w, h) = (10usize, 80u64);
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {} {h}\" role=\"img\" aria-label=\"requests per {BAR_SECS} seconds, peak {max}\">",
        bars.len() * w
    );
    for (i, b) in bars.iter().enumerate() {
        let rh = b.requests * h / max;
        let eh = b.errors * h / max;
        let x = i * w;
        let _ = write!(
            svg,
            "<rect class=\"req\" x=\"{x}\" y=\"{}\" width=\"{}\" height=\"{rh}\"><title>{} requests, {} errors</title></rect>",
            h - rh,
            w - 2,
            b.requests,
            b.errors
        );
        if eh > 0 {
            let _ = write!(
                svg,
                "<rect class=\"err\" x=\"{x}\" y=\"{}\" width=\"{}\" height=\"{eh}\"></rect>",
                h - eh,
                w - 2
            );
        }
    }
    let _ = write!(
        svg,
        "</svg><p class=\"hint\">Each bar is {BAR_SECS} seconds; the tallest is {max} requests.</p>"
    );
    svg
}
