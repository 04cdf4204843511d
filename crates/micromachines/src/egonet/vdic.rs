//! `vdic`, EgoNet's binary dictionary (spec section 8.2): the magic
//! `"vdic"`, a u32 LE entry count, then entries of u8 key length, key,
//! 4-byte ASCII type tag and value, back to back with no padding; the body
//! ends right after the last entry. Integers are little-endian.
//!
//! Decoding is total: every byte string gives either a [`Dict`] or a
//! [`VdicError`] that says where and why, without allocating more than the
//! input could justify. A decoded dictionary re-encodes to the same bytes,
//! so what we log or test is exactly what travelled.

use std::collections::HashSet;
use std::fmt;

pub const MAGIC: &[u8; 4] = b"vdic";

/// The answer of functions that return nothing: magic and a zero count.
pub const EMPTY: &[u8; 8] = b"vdic\0\0\0\0";

/// The smallest entry on the wire: empty key (1 byte of length), tag (4),
/// and the shortest value (a `dstr`/`blob` length of 4). Bounds the count
/// before anything is allocated for it.
const MIN_ENTRY_BYTES: usize = 1 + 4 + 4;

/// The type tags seen in the captures. EgoNet surely has more (spec 8.2
/// [U]); an unknown one is an error rather than a guess at its width,
/// because one wrong width would misread every entry after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    Dstr,
    Blob,
    Si64,
    Ui64,
}

impl Tag {
    pub fn bytes(self) -> &'static [u8; 4] {
        match self {
            Tag::Dstr => b"dstr",
            Tag::Blob => b"blob",
            Tag::Si64 => b"si64",
            Tag::Ui64 => b"ui64",
        }
    }

    pub fn from_bytes(tag: &[u8]) -> Option<Self> {
        match tag {
            b"dstr" => Some(Tag::Dstr),
            b"blob" => Some(Tag::Blob),
            b"si64" => Some(Tag::Si64),
            b"ui64" => Some(Tag::Ui64),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Tag::Dstr => "dstr",
            Tag::Blob => "blob",
            Tag::Si64 => "si64",
            Tag::Ui64 => "ui64",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `dstr`: u32 LE byte length + UTF-8 (only ASCII was ever seen).
    Str(String),
    /// `blob`: u32 LE byte length + raw bytes.
    Blob(Vec<u8>),
    /// `si64`: 8 bytes, two's complement.
    I64(i64),
    /// `ui64`: 8 bytes.
    U64(u64),
}

impl Value {
    pub fn tag(&self) -> Tag {
        match self {
            Value::Str(_) => Tag::Dstr,
            Value::Blob(_) => Tag::Blob,
            Value::I64(_) => Tag::Si64,
            Value::U64(_) => Tag::Ui64,
        }
    }

    /// The value's bytes as they follow the tag on the wire.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Value::Str(s) => put_counted(out, s.as_bytes()),
            Value::Blob(b) => put_counted(out, b),
            Value::I64(v) => out.extend_from_slice(&v.to_le_bytes()),
            Value::U64(v) => out.extend_from_slice(&v.to_le_bytes()),
        }
    }

    fn encoded_len(&self) -> usize {
        match self {
            Value::Str(s) => 4 + s.len(),
            Value::Blob(b) => 4 + b.len(),
            Value::I64(_) | Value::U64(_) => 8,
        }
    }

    /// Byte length of a counted value, `None` for fixed-width ones.
    fn counted_len(&self) -> Option<usize> {
        match self {
            Value::Str(s) => Some(s.len()),
            Value::Blob(b) => Some(b.len()),
            Value::I64(_) | Value::U64(_) => None,
        }
    }
}

/// Lengths were checked when the value entered a [`Dict`], so the cast
/// cannot truncate.
fn put_counted(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// Bounds on what one body may make the decoder hold, on top of the HTTP
/// body limit: a count or length is refused before anything is allocated
/// for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_entries: u32,
    pub max_value_len: u32,
}

impl Default for Limits {
    /// A login has 2 entries and its answer 8; a thousand is far beyond any
    /// plausible function, and a megabyte beyond any plausible value.
    fn default() -> Self {
        Self {
            max_entries: 1024,
            max_value_len: 1 << 20,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VdicError {
    #[error("not a vdic body: it starts with {found} instead of \"vdic\"")]
    NotVdic { found: String },
    #[error("truncated at byte {offset}: {what} needs {needed} bytes but {available} are left")]
    Truncated {
        offset: usize,
        what: &'static str,
        needed: usize,
        available: usize,
    },
    #[error("{count} entries announced, more than the limit of {max}")]
    TooManyEntries { count: u64, max: u64 },
    #[error(
        "{count} entries announced but only {available} bytes follow \
         (an entry takes at least {MIN_ENTRY_BYTES})"
    )]
    CountBeyondBody { count: u32, available: usize },
    #[error("the key of entry {index} (byte {offset}) is not UTF-8")]
    KeyNotUtf8 { index: u32, offset: usize },
    #[error("key {key:?} is {len} bytes; a key holds at most 255")]
    KeyTooLong { key: String, len: usize },
    #[error("key {key:?} appears twice")]
    DuplicateKey { key: String },
    #[error("key {key:?} has the unknown type tag {tag} (byte {offset})")]
    UnknownTag {
        key: String,
        tag: String,
        offset: usize,
    },
    #[error("the value of {key:?} claims {len} bytes but only {available} are left")]
    LengthBeyondBody {
        key: String,
        len: u32,
        available: usize,
    },
    #[error("the value of {key:?} is {len} bytes, more than the limit of {max}")]
    ValueTooLong { key: String, len: u64, max: u64 },
    #[error("the dstr value of {key:?} is not valid UTF-8")]
    InvalidUtf8 { key: String },
    #[error("{count} bytes left over after the last entry (from byte {offset})")]
    TrailingBytes { offset: usize, count: usize },
}

/// Bytes from the network shown in an error message: printable ASCII as is,
/// the rest escaped, so a log line stays one readable line.
fn escaped(bytes: &[u8]) -> String {
    let text: String = bytes
        .iter()
        .flat_map(|b| std::ascii::escape_default(*b))
        .map(char::from)
        .collect();
    format!("\"{text}\"")
}

/// An EgoNet dictionary. Entries keep their order because the official
/// server's answers have a fixed, non-alphabetical order (spec 8.2) that we
/// reproduce and that re-encoding must preserve.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dict {
    entries: Vec<(String, Value)>,
}

impl Dict {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries in wire order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The `dstr` under `key`; `None` if absent or of another type.
    pub fn str(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        }
    }

    pub fn blob(&self, key: &str) -> Option<&[u8]> {
        match self.get(key) {
            Some(Value::Blob(b)) => Some(b),
            _ => None,
        }
    }

    pub fn i64(&self, key: &str) -> Option<i64> {
        match self.get(key) {
            Some(Value::I64(v)) => Some(*v),
            _ => None,
        }
    }

    pub fn u64(&self, key: &str) -> Option<u64> {
        match self.get(key) {
            Some(Value::U64(v)) => Some(*v),
            _ => None,
        }
    }

    /// Appends an entry. Refuses what the wire cannot carry (keys over 255
    /// bytes, values over 4 GiB, a second entry with the same key), so that
    /// [`Dict::encode`] can never fail or write something ambiguous.
    pub fn insert(&mut self, key: impl Into<String>, value: Value) -> Result<(), VdicError> {
        let key = key.into();
        if key.len() > usize::from(u8::MAX) {
            let len = key.len();
            return Err(VdicError::KeyTooLong { key, len });
        }
        if let Some(len) = value.counted_len() {
            if u32::try_from(len).is_err() {
                return Err(VdicError::ValueTooLong {
                    key,
                    len: len as u64,
                    max: u64::from(u32::MAX),
                });
            }
        }
        if self.get(&key).is_some() {
            return Err(VdicError::DuplicateKey { key });
        }
        if u32::try_from(self.entries.len()).is_ok_and(|n| n == u32::MAX) {
            return Err(VdicError::TooManyEntries {
                count: u64::from(u32::MAX) + 1,
                max: u64::from(u32::MAX),
            });
        }
        self.entries.push((key, value));
        Ok(())
    }

    pub fn encoded_len(&self) -> usize {
        8 + self
            .entries
            .iter()
            .map(|(k, v)| 1 + k.len() + 4 + v.encoded_len())
            .sum::<usize>()
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(self.entries.len() as u32).to_le_bytes());
        for (key, value) in &self.entries {
            out.push(key.len() as u8);
            out.extend_from_slice(key.as_bytes());
            out.extend_from_slice(value.tag().bytes());
            value.encode_into(&mut out);
        }
        out
    }

    pub fn decode(data: &[u8]) -> Result<Self, VdicError> {
        Self::decode_with(data, Limits::default())
    }

    pub fn decode_with(data: &[u8], limits: Limits) -> Result<Self, VdicError> {
        let mut r = Reader { data, pos: 0 };
        // A short body that is not even the start of the magic is some
        // other format, which says more than "truncated".
        let magic = r.take(4, "the \"vdic\" magic").map_err(|e| {
            if MAGIC.starts_with(data) {
                e
            } else {
                VdicError::NotVdic {
                    found: escaped(data),
                }
            }
        })?;
        if magic != MAGIC {
            return Err(VdicError::NotVdic {
                found: escaped(magic),
            });
        }
        let count = r.u32("the entry count")?;
        if count > limits.max_entries {
            return Err(VdicError::TooManyEntries {
                count: u64::from(count),
                max: u64::from(limits.max_entries),
            });
        }
        let available = r.remaining();
        if (count as usize).saturating_mul(MIN_ENTRY_BYTES) > available {
            return Err(VdicError::CountBeyondBody { count, available });
        }
        let mut entries = Vec::with_capacity(count as usize);
        let mut seen: HashSet<&[u8]> = HashSet::with_capacity(count as usize);
        for index in 0..count {
            let key_len = r.u8("a key length")?;
            let key_at = r.pos;
            let raw_key = r.take(usize::from(key_len), "a key")?;
            let key = std::str::from_utf8(raw_key).map_err(|_| VdicError::KeyNotUtf8 {
                index,
                offset: key_at,
            })?;
            if !seen.insert(raw_key) {
                return Err(VdicError::DuplicateKey { key: key.into() });
            }
            let tag_at = r.pos;
            let raw_tag = r.take(4, "a type tag")?;
            let tag = Tag::from_bytes(raw_tag).ok_or_else(|| VdicError::UnknownTag {
                key: key.into(),
                tag: escaped(raw_tag),
                offset: tag_at,
            })?;
            let value = match tag {
                Tag::Dstr => {
                    let bytes = r.counted(key, limits)?;
                    let text = std::str::from_utf8(bytes)
                        .map_err(|_| VdicError::InvalidUtf8 { key: key.into() })?;
                    Value::Str(text.to_string())
                }
                Tag::Blob => Value::Blob(r.counted(key, limits)?.to_vec()),
                Tag::Si64 => Value::I64(i64::from_le_bytes(r.array("an si64 value")?)),
                Tag::Ui64 => Value::U64(u64::from_le_bytes(r.array("a ui64 value")?)),
            };
            entries.push((key.to_string(), value));
        }
        if r.remaining() > 0 {
            return Err(VdicError::TrailingBytes {
                offset: r.pos,
                count: r.remaining(),
            });
        }
        Ok(Self { entries })
    }
}

/// One line for logs: keys, tags and short values, never a whole blob.
impl fmt::Display for Dict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN_CHARS: usize = 64;
        f.write_str("{")?;
        for (i, (key, value)) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{key:?}: ")?;
            match value {
                Value::Str(s) if s.chars().count() > SHOWN_CHARS => {
                    let head: String = s.chars().take(SHOWN_CHARS).collect();
                    write!(f, "dstr {head:?}… ({} bytes)", s.len())?
                }
                Value::Str(s) => write!(f, "dstr {s:?}")?,
                Value::Blob(b) => write!(f, "blob {} bytes", b.len())?,
                Value::I64(v) => write!(f, "si64 {v}")?,
                Value::U64(v) => write!(f, "ui64 {v}")?,
            }
        }
        f.write_str("}")
    }
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], VdicError> {
        let slice = self
            .pos
            .checked_add(n)
            .and_then(|end| self.data.get(self.pos..end))
            .ok_or(VdicError::Truncated {
                offset: self.pos,
                what,
                needed: n,
                available: self.remaining(),
            })?;
        self.pos += n;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], VdicError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, VdicError> {
        Ok(self.array::<1>(what)?[0])
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, VdicError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    /// A u32 length and that many bytes, the length checked against the
    /// limit and the rest of the body before it is trusted.
    fn counted(&mut self, key: &str, limits: Limits) -> Result<&'a [u8], VdicError> {
        let len = self.u32("a value length")?;
        if len > limits.max_value_len {
            return Err(VdicError::ValueTooLong {
                key: key.into(),
                len: u64::from(len),
                max: u64::from(limits.max_value_len),
            });
        }
        let available = self.remaining();
        if len as usize > available {
            return Err(VdicError::LengthBeyondBody {
                key: key.into(),
                len,
                available,
            });
        }
        self.take(len as usize, "a value")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn entry(key: &str, tag: &[u8; 4], value: &[u8]) -> Vec<u8> {
        let mut out = vec![key.len() as u8];
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(tag);
        out.extend_from_slice(value);
        out
    }

    fn body(count: u32, entries: &[Vec<u8>]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&count.to_le_bytes());
        for e in entries {
            out.extend_from_slice(e);
        }
        out
    }

    fn counted(bytes: &[u8]) -> Vec<u8> {
        let mut out = (bytes.len() as u32).to_le_bytes().to_vec();
        out.extend_from_slice(bytes);
        out
    }

    #[test]
    fn every_tag_has_its_layout() {
        let mut d = Dict::new();
        d.insert("s", Value::Str("Łukasz".into())).unwrap();
        d.insert("b", Value::Blob(vec![1, 2, 3])).unwrap();
        d.insert("i", Value::I64(-2)).unwrap();
        d.insert("u", Value::U64(0x0102_0304_0506_0708)).unwrap();
        let expected = body(
            4,
            &[
                entry("s", b"dstr", &counted("Łukasz".as_bytes())),
                entry("b", b"blob", &counted(&[1, 2, 3])),
                entry("i", b"si64", &(-2i64).to_le_bytes()),
                entry("u", b"ui64", &[8, 7, 6, 5, 4, 3, 2, 1]),
            ],
        );
        assert_eq!(d.encode(), expected);
        assert_eq!(d.encoded_len(), expected.len());
        assert_eq!(Dict::decode(&expected), Ok(d.clone()));
        assert_eq!(d.str("s"), Some("Łukasz"));
        assert_eq!(d.blob("b"), Some(&[1u8, 2, 3][..]));
        assert_eq!(d.i64("i"), Some(-2));
        assert_eq!(d.u64("u"), Some(0x0102_0304_0506_0708));
        assert_eq!(d.str("b"), None, "wrong type is absent, not coerced");
        assert_eq!(d.keys().collect::<Vec<_>>(), ["s", "b", "i", "u"]);
        assert_eq!(
            d.to_string(),
            r#"{"s": dstr "Łukasz", "b": blob 3 bytes, "i": si64 -2, "u": ui64 72623859790382856}"#
        );
    }

    #[test]
    fn the_empty_answer_is_magic_and_zero() {
        assert_eq!(Dict::new().encode(), EMPTY);
        assert_eq!(Dict::decode(EMPTY), Ok(Dict::new()));
    }

    #[test]
    fn malformed_bodies_are_refused_with_their_reason() {
        use VdicError::*;
        let name = entry("Name", b"dstr", &counted(b"Heatray"));
        let cases: Vec<(&str, Vec<u8>, VdicError)> = vec![
            (
                "empty",
                vec![],
                Truncated {
                    offset: 0,
                    what: "the \"vdic\" magic",
                    needed: 4,
                    available: 0,
                },
            ),
            (
                "short magic",
                b"vd".to_vec(),
                Truncated {
                    offset: 0,
                    what: "the \"vdic\" magic",
                    needed: 4,
                    available: 2,
                },
            ),
            (
                "other magic",
                b"<Login/>".to_vec(),
                NotVdic {
                    found: "\"<Log\"".into(),
                },
            ),
            (
                "short non-magic",
                b"<L".to_vec(),
                NotVdic {
                    found: "\"<L\"".into(),
                },
            ),
            (
                "no count",
                b"vdic\x01".to_vec(),
                Truncated {
                    offset: 4,
                    what: "the entry count",
                    needed: 4,
                    available: 1,
                },
            ),
            (
                "count 1000, no data",
                body(1000, &[]),
                CountBeyondBody {
                    count: 1000,
                    available: 0,
                },
            ),
            (
                "count over the cap",
                body(u32::MAX, &[]),
                TooManyEntries {
                    count: u64::from(u32::MAX),
                    max: 1024,
                },
            ),
            (
                "count 2, one entry",
                body(2, &[name.clone(), vec![0, b'd', b's', b't', b'r']]),
                Truncated {
                    offset: 33,
                    what: "a value length",
                    needed: 4,
                    available: 0,
                },
            ),
            (
                "length 0xFFFFFFFF",
                body(
                    1,
                    &[entry("Name", b"dstr", &[0xFF, 0xFF, 0xFF, 0xFF, b'x'])],
                ),
                ValueTooLong {
                    key: "Name".into(),
                    len: u64::from(u32::MAX),
                    max: 1 << 20,
                },
            ),
            (
                "length beyond the body",
                body(1, &[entry("SteamTicket", b"blob", &[0x7E, 0, 0, 0, 1, 2])]),
                LengthBeyondBody {
                    key: "SteamTicket".into(),
                    len: 126,
                    available: 2,
                },
            ),
            (
                "unknown tag",
                body(1, &[entry("Flag", b"bool", &[1, 0, 0, 0])]),
                UnknownTag {
                    key: "Flag".into(),
                    tag: "\"bool\"".into(),
                    offset: 13,
                },
            ),
            (
                "binary tag",
                body(1, &[entry("F", b"\x00\xff\n\"", &[0; 8])]),
                UnknownTag {
                    key: "F".into(),
                    tag: "\"\\x00\\xff\\n\\\"\"".into(),
                    offset: 10,
                },
            ),
            (
                "dstr not UTF-8",
                body(1, &[entry("Name", b"dstr", &counted(&[0xC3, 0x28]))]),
                InvalidUtf8 { key: "Name".into() },
            ),
            (
                "key not UTF-8",
                body(
                    1,
                    &[{
                        let mut e = vec![1, 0xFF];
                        e.extend_from_slice(b"ui64");
                        e.extend_from_slice(&[0; 8]);
                        e
                    }],
                ),
                KeyNotUtf8 {
                    index: 0,
                    offset: 9,
                },
            ),
            (
                "duplicate key",
                body(2, &[name.clone(), name.clone()]),
                DuplicateKey { key: "Name".into() },
            ),
            (
                "trailing bytes",
                {
                    let mut b = body(1, std::slice::from_ref(&name));
                    b.extend_from_slice(b"xyz");
                    b
                },
                TrailingBytes {
                    offset: 28,
                    count: 3,
                },
            ),
            (
                "si64 cut short",
                body(1, &[entry("P", b"si64", &[1, 2, 3])]),
                Truncated {
                    offset: 14,
                    what: "an si64 value",
                    needed: 8,
                    available: 3,
                },
            ),
        ];
        for (label, bytes, expected) in cases {
            let got = Dict::decode(&bytes);
            assert_eq!(got, Err(expected), "{label}");
            // Every reason reads as a sentence an operator can act on.
            assert!(!got.unwrap_err().to_string().is_empty(), "{label}");
        }
    }

    #[test]
    fn tighter_limits_apply() {
        let limits = Limits {
            max_entries: 1,
            max_value_len: 3,
        };
        let mut d = Dict::new();
        d.insert("a", Value::Blob(vec![0; 4])).unwrap();
        assert!(matches!(
            Dict::decode_with(&d.encode(), limits),
            Err(VdicError::ValueTooLong { len: 4, max: 3, .. })
        ));
        d.insert("b", Value::U64(1)).unwrap();
        assert!(matches!(
            Dict::decode_with(&d.encode(), limits),
            Err(VdicError::TooManyEntries { count: 2, max: 1 })
        ));
    }

    #[test]
    fn insert_refuses_what_the_wire_cannot_carry() {
        let mut d = Dict::new();
        let long = "k".repeat(256);
        assert!(matches!(
            d.insert(long, Value::U64(0)),
            Err(VdicError::KeyTooLong { len: 256, .. })
        ));
        d.insert("k".repeat(255), Value::U64(0)).unwrap();
        d.insert("", Value::Str(String::new())).unwrap();
        assert_eq!(
            d.insert("", Value::U64(1)),
            Err(VdicError::DuplicateKey { key: String::new() })
        );
        assert_eq!(Dict::decode(&d.encode()), Ok(d));
    }

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            ".{0,40}".prop_map(Value::Str),
            proptest::collection::vec(any::<u8>(), 0..64).prop_map(Value::Blob),
            any::<i64>().prop_map(Value::I64),
            any::<u64>().prop_map(Value::U64),
        ]
    }

    fn dict() -> impl Strategy<Value = Dict> {
        proptest::collection::vec((".{0,24}", value()), 0..12).prop_map(|entries| {
            let mut d = Dict::new();
            for (k, v) in entries {
                let _ = d.insert(k, v); // duplicates are skipped
            }
            d
        })
    }

    proptest! {
        #[test]
        fn encode_then_decode_is_identity(d in dict()) {
            let bytes = d.encode();
            prop_assert_eq!(bytes.len(), d.encoded_len());
            prop_assert_eq!(Dict::decode(&bytes), Ok(d));
        }

        #[test]
        fn every_cut_of_a_valid_body_is_an_error(d in dict()) {
            let bytes = d.encode();
            for cut in 0..bytes.len() {
                prop_assert!(Dict::decode(&bytes[..cut]).is_err(), "cut at {}", cut);
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_what_decodes_re_encodes(
            bytes in proptest::collection::vec(any::<u8>(), 0..512)
        ) {
            if let Ok(d) = Dict::decode(&bytes) {
                prop_assert_eq!(d.encode(), bytes);
            }
        }

        #[test]
        fn arbitrary_bodies_after_the_magic_never_panic(
            count in prop_oneof![0u32..8, any::<u32>()],
            rest in proptest::collection::vec(any::<u8>(), 0..512)
        ) {
            let mut bytes = MAGIC.to_vec();
            bytes.extend_from_slice(&count.to_le_bytes());
            bytes.extend_from_slice(&rest);
            if let Ok(d) = Dict::decode(&bytes) {
                prop_assert_eq!(d.encode(), bytes);
            }
        }

        #[test]
        fn flipped_bytes_of_a_valid_body_never_panic(
            d in dict(),
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4)
        ) {
            let mut bytes = d.encode();
            for (at, b) in flips {
                let i = at % bytes.len();
                bytes[i] = b;
            }
            if let Ok(d) = Dict::decode(&bytes) {
                prop_assert_eq!(d.encode(), bytes);
            }
        }
    }
}
