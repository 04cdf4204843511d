//! Secrets of a recording: every value that is a password, ticket, session
//! key or session token gets a label (`ticket#2`) the first time it is
//! seen, and from then on is written as that label wherever it shows up,
//! in any connection of the recording, in decoded text and in hex alike.
//! The label keeps the transcript replayable: the replayer knows where a
//! fresh value has to go.

use std::sync::Mutex;

/// Shortest value redacted by value: a shorter one would match by chance.
const MIN_SECRET_LEN: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    pub kind: String,
    pub label: String,
    pub value: Vec<u8>,
}

/// All secrets seen so far by one recording.
#[derive(Debug, Default)]
pub struct Registry {
    secrets: Mutex<Vec<Secret>>,
}

impl Registry {
    /// The secret's label, registering it when new.
    pub fn register(&self, kind: &str, value: &[u8]) -> Option<Secret> {
        if value.len() < MIN_SECRET_LEN {
            return None;
        }
        let mut secrets = self.secrets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = secrets.iter().find(|s| s.value == value) {
            return Some(s.clone());
        }
        let secret = Secret {
            kind: kind.to_string(),
            label: format!("{kind}#{}", secrets.len() + 1),
            value: value.to_vec(),
        };
        secrets.push(secret.clone());
        Some(secret)
    }

    pub fn all(&self) -> Vec<Secret> {
        self.secrets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// A piece of a message's bytes: literal, or a redacted secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Bytes(Vec<u8>),
    Secret { label: String, len: usize },
}

impl Segment {
    /// The kind part of a secret's label (`ticket` of `ticket#2`).
    pub fn kind_of(label: &str) -> &str {
        label.split('#').next().unwrap_or(label)
    }
}

/// `bytes` with every occurrence of a secret replaced by its label.
pub fn redact(bytes: &[u8], secrets: &[Secret]) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    let mut literal = Vec::new();
    let mut i = 0;
    'outer: while i < bytes.len() {
        for s in secrets {
            if bytes[i..].starts_with(&s.value) {
                if !literal.is_empty() {
                    out.push(Segment::Bytes(std::mem::take(&mut literal)));
                }
                out.push(Segment::Secret {
                    label: s.label.clone(),
                    len: s.value.len(),
                });
                i += s.value.len();
                continue 'outer;
            }
        }
        literal.push(bytes[i]);
        i += 1;
    }
    if !literal.is_empty() {
        out.push(Segment::Bytes(literal));
    }
    out
}

/// Text with every secret that is valid UTF-8 replaced by `«label»`.
pub fn redact_text(text: &str, secrets: &[Secret]) -> String {
    let mut text = text.to_string();
    for s in secrets {
        if let Ok(v) = std::str::from_utf8(&s.value) {
            if text.contains(v) {
                text = text.replace(v, &format!("«{}»", s.label));
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_gets_one_label_and_is_cut_out_everywhere() {
        let r = Registry::default();
        let t = r.register("ticket", b"ABCDEF").unwrap();
        assert_eq!(t.label, "ticket#1");
        assert_eq!(r.register("other", b"ABCDEF").unwrap().label, "ticket#1");
        assert!(r.register("short", b"abc").is_none());
        let segs = redact(b"xxABCDEFyy", &r.all());
        assert_eq!(
            segs,
            vec![
                Segment::Bytes(b"xx".to_vec()),
                Segment::Secret {
                    label: "ticket#1".into(),
                    len: 6
                },
                Segment::Bytes(b"yy".to_vec())
            ]
        );
        assert_eq!(redact_text("t=ABCDEF", &r.all()), "t=«ticket#1»");
    }
}
