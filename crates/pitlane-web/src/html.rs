//! HTML building blocks. Pages are plain strings assembled with `format!`;
//! every value that did not come from this crate goes through [`esc`].

use std::fmt::Write;

use chrono::{DateTime, Utc};
use pitlane_store::admin::AdminSession;

/// Escapes text for element content and quoted attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a value for a URL query component.
pub fn url(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

pub fn time(t: DateTime<Utc>) -> String {
    format!(
        "<time datetime=\"{}\">{}</time>",
        t.to_rfc3339(),
        t.format("%Y-%m-%d %H:%M:%S UTC")
    )
}

pub fn opt_time(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(|| "—".into(), time)
}

/// "3 min ago", "in 2 h", for the time relative to `now`.
pub fn relative(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - t).num_seconds();
    let span = duration(secs.unsigned_abs());
    if secs >= 0 {
        format!("{span} ago")
    } else {
        format!("in {span}")
    }
}

pub fn duration(secs: u64) -> String {
    match secs {
        0..=59 => format!("{secs} s"),
        60..=3599 => format!("{} min", secs / 60),
        3600..=172_799 => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
        _ => format!("{} days", secs / 86_400),
    }
}

/// A table; `rows` hold cells that are already HTML.
pub fn table(headers: &[&str], rows: &[Vec<String>], empty: &str) -> String {
    if rows.is_empty() {
        return format!("<p class=\"empty\">{}</p>", esc(empty));
    }
    let mut out = String::from("<div class=\"scroll\"><table><thead><tr>");
    for h in headers {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{cell}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
    out
}

/// A form that posts to `action` with the session's CSRF token.
pub fn form(action: &str, csrf: &str, class: &str, fields: &str, button: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{}\" class=\"{}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">{fields}<button type=\"submit\">{}</button></form>",
        esc(action),
        esc(class),
        esc(csrf),
        esc(button)
    )
}

/// A reason field: every action is recorded with why it was taken.
pub fn reason_field() -> &'static str {
    "<label>Reason <input name=\"reason\" required maxlength=\"500\" placeholder=\"why (goes into the audit log)\"></label>"
}

#[derive(Debug)]
pub struct Nav {
    pub server_name: String,
    pub version: &'static str,
    pub mco_enabled: bool,
}

/// A whole page for a logged-in operator.
pub fn page(
    nav: &Nav,
    session: &AdminSession,
    title: &str,
    flash: Option<&str>,
    body: &str,
) -> String {
    let mut links = String::new();
    let mut items = vec![
        ("/", "Overview"),
        ("/players", "Players"),
        ("/mmws", "Micro Machines"),
    ];
    if nav.mco_enabled {
        items.push(("/mco", "Motor City"));
    }
    items.push(("/settings", "Settings"));
    items.push(("/audit", "Audit log"));
    for (href, label) in items {
        let _ = write!(links, "<a href=\"{href}\">{label}</a>");
    }
    let flash = flash
        .map(|f| format!("<p class=\"flash\" role=\"status\">{}</p>", esc(f)))
        .unwrap_or_default();
    let logout = form(
        "/logout",
        &session.csrf_token,
        "logout",
        &format!("<span class=\"who\">{}</span>", esc(&session.admin_name)),
        "Log out",
    );
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · {server}</title>\
         <link rel=\"icon\" href=\"/static/favicon.svg\"><link rel=\"stylesheet\" href=\"/static/style.css\">\
         <script src=\"/static/live.js\" defer></script></head>\
         <body><header><a class=\"brand\" href=\"/\">Pitlane</a><nav>{links}</nav>{logout}</header>\
         <main><h1>{title}</h1>{flash}{body}</main>\
         <footer>{server} · Pitlane {version}</footer></body></html>\n",
        title = esc(title),
        server = esc(&nav.server_name),
        version = esc(nav.version),
    )
}

/// A page without a session (login, errors).
pub fn bare_page(server_name: &str, title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · {server}</title>\
         <link rel=\"icon\" href=\"/static/favicon.svg\"><link rel=\"stylesheet\" href=\"/static/style.css\"></head>\
         <body class=\"bare\"><main><h1>{title}</h1>{body}</main></body></html>\n",
        title = esc(title),
        server = esc(server_name),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(url("a b&c"), "a+b%26c");
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(duration(5), "5 s");
        assert_eq!(duration(125), "2 min");
        assert_eq!(duration(3 * 3600 + 120), "3 h 2 min");
        assert_eq!(duration(86_400 * 3), "3 days");
        let now = DateTime::from_timestamp(1_000_000, 0).unwrap();
        assert_eq!(
            relative(now - chrono::Duration::seconds(90), now),
            "1 min ago"
        );
        assert_eq!(
            relative(now + chrono::Duration::hours(2), now),
            "in 2 h 0 min"
        );
    }

    #[test]
    fn tables_escape_nothing_themselves_but_headers() {
        let t = table(&["<h>"], &[vec!["<b>x</b>".into()]], "none");
        assert!(t.contains("<th>&lt;h&gt;</th>") && t.contains("<td><b>x</b></td>"));
        assert_eq!(
            table(&["a"], &[], "no <rows>"),
            "<p class=\"empty\">no &lt;rows&gt;</p>"
        );
    }
}
