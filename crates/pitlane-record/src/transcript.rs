//! The transcript format: one file per connection, one block per message,
//! lines that diff well.
//!
//! ```text
//! # pitlane transcript 1
//! # channel mco-login
//! # server 127.0.0.1:8226
//! # client 127.0.0.1:50312
//! # opened 2026-11-22T01:00:00.000Z
//! # secrets redacted
//!
//! > 0.000412 8226 NPS 0x0501 UserLogin (len 298)
//!   | ticket = «ticket#1»
//!   plain 05010...«ticket#1:36»...
//! < 0.003120 8226 NPS 0x0601 UserValid (len 16)
//!   | customer_id = 1
//!   plain 0601001000000000...
//! ! secret session-key#3 redacted
//! ```
//!
//! `>` is client to server, `<` server to client, then seconds since the
//! connection opened, the server's port and a summary. `|` lines are the
//! decoded message for people; `plain` is the message as the protocol
//! layer saw it (after DES/RC4) and `raw` the bytes on the wire when they
//! differ, both hex, 64 bytes a line, with secrets as `«label:length»`.

use pitlane_core::recording::Channel;

use crate::secrets::Segment;

pub const MAGIC: &str = "# pitlane transcript 1";
const HEX_PER_LINE: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    ToServer,
    ToClient,
}

impl Direction {
    pub fn mark(self) -> char {
        match self {
            Direction::ToServer => '>',
            Direction::ToClient => '<',
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub channel: Channel,
    pub server: String,
    pub client: String,
    pub opened: String,
    pub secrets_recorded: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub direction: Direction,
    pub at: f64,
    pub port: u16,
    pub summary: String,
    pub decoded: Vec<String>,
    pub plain: Vec<Segment>,
    /// Only when the wire bytes differ from `plain`.
    pub raw: Option<Vec<Segment>>,
}

impl Message {
    /// The plain bytes with every secret replaced by a placeholder of its
    /// length (for comparison, where secret values never count).
    pub fn plain_lossy(&self) -> Vec<u8> {
        lossy(&self.plain)
    }

    pub fn raw_lossy(&self) -> Vec<u8> {
        self.raw
            .as_deref()
            .map_or_else(|| self.plain_lossy(), lossy)
    }

    /// Whether any secret is redacted in this message.
    pub fn has_secret(&self) -> bool {
        self.plain
            .iter()
            .any(|s| matches!(s, Segment::Secret { .. }))
    }
}

/// Secrets stand in as `x` bytes of their length.
fn lossy(segments: &[Segment]) -> Vec<u8> {
    let mut out = Vec::new();
    for s in segments {
        match s {
            Segment::Bytes(b) => out.extend_from_slice(b),
            // A placeholder that keeps text (XML, key=value) readable.
            Segment::Secret { len, .. } => out.extend(std::iter::repeat_n(b'x', *len)),
        }
    }
    out
}

/// A `! secret` line: a secret the connection learned outside its
/// messages (the session key), with its value only under `--record-secrets`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretLine {
    pub label: String,
    pub value: Option<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Transcript {
    pub header: Header,
    pub messages: Vec<Message>,
    pub secrets: Vec<SecretLine>,
}

#[derive(Debug, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct ParseError {
    pub line: usize,
    pub reason: String,
}

pub fn header_text(h: &Header) -> String {
    format!(
        "{MAGIC}\n# channel {}\n# server {}\n# client {}\n# opened {}\n# secrets {}\n",
        h.channel,
        h.server,
        h.client,
        h.opened,
        if h.secrets_recorded {
            "recorded"
        } else {
            "redacted"
        }
    )
}

pub fn message_text(m: &Message) -> String {
    let mut out = format!(
        "\n{} {:.6} {} {}\n",
        m.direction.mark(),
        m.at,
        m.port,
        m.summary
    );
    for line in &m.decoded {
        if line.is_empty() {
            out.push_str("  |\n");
        } else {
            out.push_str("  | ");
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push_str(&hex_lines("plain", &m.plain));
    if let Some(raw) = &m.raw {
        out.push_str(&hex_lines("raw", raw));
    }
    out
}

pub fn secret_text(s: &SecretLine) -> String {
    match &s.value {
        Some(v) => format!("! secret {} {}\n", s.label, hex(v)),
        None => format!("! secret {} redacted\n", s.label),
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() & 1 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn hex_lines(tag: &str, segments: &[Segment]) -> String {
    let mut out = String::new();
    let mut line = String::new();
    let mut bytes_on_line = 0;
    let flush = |line: &mut String, out: &mut String| {
        out.push_str(&format!("  {tag} {line}\n"));
        line.clear();
    };
    for s in segments {
        match s {
            Segment::Bytes(b) => {
                for byte in b {
                    if bytes_on_line == HEX_PER_LINE {
                        flush(&mut line, &mut out);
                        bytes_on_line = 0;
                    }
                    line.push_str(&format!("{byte:02x}"));
                    bytes_on_line += 1;
                }
            }
            Segment::Secret { label, len } => {
                line.push_str(&format!("«{label}:{len}»"));
            }
        }
    }
    if !line.is_empty() || out.is_empty() {
        flush(&mut line, &mut out);
    }
    out
}

fn parse_hex_line(text: &str, into: &mut Vec<Segment>) -> Result<(), String> {
    let mut rest = text.trim();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('«') {
            let end = after.find('»').ok_or("unterminated «secret»")?;
            let (label, len) = after[..end]
                .rsplit_once(':')
                .ok_or("secret without a length")?;
            let len = len.parse().map_err(|_| "bad secret length")?;
            into.push(Segment::Secret {
                label: label.to_string(),
                len,
            });
            rest = &after[end + '»'.len_utf8()..];
        } else {
            let end = rest.find('«').unwrap_or(rest.len());
            let bytes = unhex(&rest[..end]).ok_or("bad hex")?;
            match into.last_mut() {
                Some(Segment::Bytes(b)) => b.extend_from_slice(&bytes),
                _ => into.push(Segment::Bytes(bytes)),
            }
            rest = &rest[end..];
        }
    }
    Ok(())
}

impl Transcript {
    pub fn to_text(&self) -> String {
        let mut out = header_text(&self.header);
        for m in &self.messages {
            out.push_str(&message_text(m));
        }
        for s in &self.secrets {
            out.push_str(&secret_text(s));
        }
        out
    }

    pub fn parse(text: &str) -> Result<Transcript, ParseError> {
        let err = |line: usize, reason: &str| ParseError {
            line: line + 1,
            reason: reason.to_string(),
        };
        let mut lines = text.lines().enumerate();
        match lines.next() {
            Some((_, first)) if first.trim() == MAGIC => {}
            _ => return Err(err(0, "not a pitlane transcript (first line)")),
        }
        let mut channel = None;
        let mut header = Header {
            channel: Channel::Http,
            server: String::new(),
            client: String::new(),
            opened: String::new(),
            secrets_recorded: false,
        };
        let mut messages: Vec<Message> = Vec::new();
        let mut secrets = Vec::new();
        for (n, line) in lines {
            if let Some(h) = line.strip_prefix("# ") {
                let (key, value) = h.split_once(' ').unwrap_or((h, ""));
                match key {
                    "channel" => {
                        channel = Some(
                            Channel::from_name(value.trim())
                                .ok_or_else(|| err(n, "unknown channel"))?,
                        )
                    }
                    "server" => header.server = value.trim().to_string(),
                    "client" => header.client = value.trim().to_string(),
                    "opened" => header.opened = value.trim().to_string(),
                    "secrets" => header.secrets_recorded = value.trim() == "recorded",
                    _ => {}
                }
            } else if line.starts_with('>') || line.starts_with('<') {
                let direction = if line.starts_with('>') {
                    Direction::ToServer
                } else {
                    Direction::ToClient
                };
                let mut words = line[1..].trim_start().splitn(3, ' ');
                let at = words
                    .next()
                    .and_then(|w| w.parse().ok())
                    .ok_or_else(|| err(n, "bad time"))?;
                let port = words
                    .next()
                    .and_then(|w| w.parse().ok())
                    .ok_or_else(|| err(n, "bad port"))?;
                messages.push(Message {
                    direction,
                    at,
                    port,
                    summary: words.next().unwrap_or("").to_string(),
                    decoded: Vec::new(),
                    plain: Vec::new(),
                    raw: None,
                });
            } else if let Some(rest) = line.strip_prefix("  |") {
                let m = messages
                    .last_mut()
                    .ok_or_else(|| err(n, "| before any message"))?;
                m.decoded
                    .push(rest.strip_prefix(' ').unwrap_or(rest).to_string());
            } else if let Some(rest) = line.strip_prefix("  plain") {
                let m = messages
                    .last_mut()
                    .ok_or_else(|| err(n, "plain before any message"))?;
                parse_hex_line(rest, &mut m.plain).map_err(|e| err(n, &e))?;
            } else if let Some(rest) = line.strip_prefix("  raw") {
                let m = messages
                    .last_mut()
                    .ok_or_else(|| err(n, "raw before any message"))?;
                parse_hex_line(rest, m.raw.get_or_insert_with(Vec::new)).map_err(|e| err(n, &e))?;
            } else if let Some(rest) = line.strip_prefix("! secret ") {
                let (label, value) = rest.split_once(' ').unwrap_or((rest, "redacted"));
                let value = match value.trim() {
                    "redacted" => None,
                    v => Some(unhex(v).ok_or_else(|| err(n, "bad secret hex"))?),
                };
                secrets.push(SecretLine {
                    label: label.to_string(),
                    value,
                });
            } else if !line.trim().is_empty() && !line.starts_with('#') {
                return Err(err(n, "unknown line"));
            }
        }
        header.channel = channel.ok_or_else(|| err(0, "no # channel line"))?;
        Ok(Transcript {
            header,
            messages,
            secrets,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips() {
        let t = Transcript {
            header: Header {
                channel: Channel::McoLogin,
                server: "127.0.0.1:8226".into(),
                client: "127.0.0.1:5000".into(),
                opened: "2026-11-22T01:00:00.000Z".into(),
                secrets_recorded: false,
            },
            messages: vec![Message {
                direction: Direction::ToServer,
                at: 0.5,
                port: 8226,
                summary: "NPS 0x0501".into(),
                decoded: vec!["ticket = «ticket#1»".into(), String::new()],
                plain: vec![
                    Segment::Bytes((0..100).collect()),
                    Segment::Secret {
                        label: "ticket#1".into(),
                        len: 36,
                    },
                    Segment::Bytes(vec![1, 2]),
                ],
                raw: Some(vec![Segment::Bytes(vec![9])]),
            }],
            secrets: vec![SecretLine {
                label: "session-key#2".into(),
                value: None,
            }],
        };
        let text = t.to_text();
        assert_eq!(Transcript::parse(&text).unwrap(), t, "{text}");
    }
}
