//! Structural comparison of a recorded answer with a fresh one: what the
//! client depends on (element tree, message ids, lengths and layout),
//! never values that differ by nature (tokens, ids, dates, keys).

use pitlane_core::recording::Channel;

use crate::http_text::Parsed;

/// The differences between a recorded answer and a fresh one, each one
/// line; empty when they agree.
pub fn compare(channel: Channel, recorded: (&[u8], &[u8]), fresh: (&[u8], &[u8])) -> Vec<String> {
    match channel {
        Channel::Http | Channel::Https => http(recorded.0, fresh.0),
        Channel::McoLogin | Channel::McoPersona => nps(recorded.0, fresh.0),
        Channel::McoLobby => {
            let mut d = Vec::new();
            let (r_raw, f_raw) = (recorded.1, fresh.1);
            if r_raw.is_empty() != f_raw.is_empty() {
                d.push("one answer is a clear NPS message, the other a lobby command".into());
                return d;
            }
            if !r_raw.is_empty() && r_raw.get(..2) != f_raw.get(..2) {
                d.push(format!(
                    "outer NPS id {} (recorded {})",
                    id_text(f_raw),
                    id_text(r_raw)
                ));
            }
            if r_raw.is_empty() {
                return nps(recorded.0, fresh.0);
            }
            if recorded.0.get(..2) != fresh.0.get(..2) {
                d.push(format!(
                    "lobby command {} (recorded {})",
                    id_text(fresh.0),
                    id_text(recorded.0)
                ));
            } else if recorded.0.len() != fresh.0.len() {
                d.push(format!(
                    "lobby command {} is {} bytes (recorded {})",
                    id_text(fresh.0),
                    fresh.0.len(),
                    recorded.0.len()
                ));
            }
            d
        }
        Channel::McoMcots => {
            let mut d = Vec::new();
            let number = |p: &[u8]| motorcity::mcots::messages::msg_no(p).ok();
            if number(recorded.0) != number(fresh.0) {
                d.push(format!(
                    "MCOTS message number {:?} (recorded {:?})",
                    number(fresh.0),
                    number(recorded.0)
                ));
            } else if recorded.0.len() != fresh.0.len() {
                d.push(format!(
                    "MCOTS message {:?} is {} bytes (recorded {})",
                    number(fresh.0),
                    fresh.0.len(),
                    recorded.0.len()
                ));
            }
            if recorded.1.get(10) != fresh.1.get(10) {
                d.push(format!(
                    "TOMC flags {:02x?} (recorded {:02x?})",
                    fresh.1.get(10),
                    recorded.1.get(10)
                ));
            }
            d
        }
    }
}

fn id_text(bytes: &[u8]) -> String {
    match bytes.get(..2) {
        Some(b) => format!("{:#06x}", u16::from_be_bytes([b[0], b[1]])),
        None => "none".into(),
    }
}

fn nps(recorded: &[u8], fresh: &[u8]) -> Vec<String> {
    let mut d = Vec::new();
    if recorded.get(..2) != fresh.get(..2) {
        d.push(format!(
            "NPS message {} (recorded {})",
            id_text(fresh),
            id_text(recorded)
        ));
    } else if recorded.len() != fresh.len() {
        d.push(format!(
            "NPS message {} is {} bytes (recorded {})",
            id_text(fresh),
            fresh.len(),
            recorded.len()
        ));
    } else if recorded.get(4..6) != fresh.get(4..6) && recorded.len() >= 12 {
        d.push(format!(
            "NPS message {} header version {:02x?} (recorded {:02x?})",
            id_text(fresh),
            fresh.get(4..6),
            recorded.get(4..6)
        ));
    }
    d
}

fn http(recorded: &[u8], fresh: &[u8]) -> Vec<String> {
    let (Some(r), Some(f)) = (Parsed::parse(recorded), Parsed::parse(fresh)) else {
        return vec!["HTTP answer unreadable".into()];
    };
    let mut d = Vec::new();
    if r.status() != f.status() {
        d.push(format!(
            "HTTP status {:?} (recorded {:?})",
            f.status(),
            r.status()
        ));
    }
    for header in ["content-type", "x-egonet-result"] {
        if r.header(header) != f.header(header) {
            d.push(format!(
                "header {header}: {:?} (recorded {:?})",
                f.header(header),
                r.header(header)
            ));
        }
    }
    d.extend(body(&r.body, &f.body));
    d
}

fn body(recorded: &[u8], fresh: &[u8]) -> Vec<String> {
    use micromachines::egonet::vdic::{Dict, MAGIC};
    let looks_xml = |b: &[u8]| {
        let t = String::from_utf8_lossy(b);
        t.trim_start().starts_with('<')
    };
    if looks_xml(recorded) && looks_xml(fresh) {
        let shape = |b: &[u8]| pitlane_sim::xml_shape::shape(b);
        return match (shape(recorded), shape(fresh)) {
            (Ok(r), Ok(f)) => lines_diff("XML", &r, &f),
            (Err(e), _) => vec![format!("recorded XML unreadable: {e}")],
            (_, Err(e)) => vec![format!("XML unreadable: {e}")],
        };
    }
    if recorded.starts_with(MAGIC) || fresh.starts_with(MAGIC) {
        let keys = |b: &[u8]| {
            Dict::decode(b).map(|d| {
                d.iter()
                    .map(|(k, v)| format!("{k} {}", v.tag().name()))
                    .collect::<Vec<_>>()
            })
        };
        return match (keys(recorded), keys(fresh)) {
            (Ok(r), Ok(f)) => lines_diff("vdic", &r, &f),
            _ => vec!["vdic body unreadable".into()],
        };
    }
    let (r, f) = (
        String::from_utf8_lossy(recorded),
        String::from_utf8_lossy(fresh),
    );
    let keyed = |t: &str| -> Option<Vec<String>> {
        let lines: Vec<&str> = t.lines().filter(|l| !l.trim().is_empty()).collect();
        (!lines.is_empty() && lines.iter().all(|l| l.contains('='))).then(|| {
            lines
                .iter()
                .map(|l| l.split('=').next().unwrap_or("").to_string())
                .collect()
        })
    };
    if let (Some(rk), Some(fk)) = (keyed(&r), keyed(&f)) {
        return lines_diff("key", &rk, &fk);
    }
    if recorded != fresh {
        return vec![format!(
            "body differs ({} bytes, recorded {})",
            fresh.len(),
            recorded.len()
        )];
    }
    Vec::new()
}

/// One difference: where the structures part, and the first few lines of
/// each from there (`-` recorded, `+` fresh).
fn lines_diff(what: &str, recorded: &[String], fresh: &[String]) -> Vec<String> {
    if recorded == fresh {
        return Vec::new();
    }
    let common = recorded
        .iter()
        .zip(fresh)
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = format!(
        "{what} structure differs from element {} on ({} lines, recorded {})",
        common + 1,
        fresh.len(),
        recorded.len()
    );
    for line in recorded.iter().skip(common).take(3) {
        out.push_str(&format!("\n    - {line}"));
    }
    for line in fresh.iter().skip(common).take(3) {
        out.push_str(&format!("\n    + {line}"));
    }
    vec![out]
}
