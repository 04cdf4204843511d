//! Form and query-string fields (`application/x-www-form-urlencoded`).

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};

use crate::respond::WebError;

/// Forms here are a handful of short fields; anything bigger is not ours.
const MAX_FORM_BYTES: usize = 16 * 1024;

#[derive(Debug, Default)]
pub struct Form {
    fields: Vec<(String, String)>,
}

impl Form {
    pub async fn read<B>(body: B) -> Result<Self, WebError>
    where
        B: http_body::Body<Data = Bytes>,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let bytes = match Limited::new(body, MAX_FORM_BYTES).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => return Err(WebError::TooLarge),
            Err(e) => {
                return Err(WebError::BadRequest(format!(
                    "could not read the form: {e}"
                )))
            }
        };
        Ok(Self::parse(&bytes))
    }

    pub fn query(query: &str) -> Self {
        Self::parse(query.as_bytes())
    }

    fn parse(bytes: &[u8]) -> Self {
        Self {
            fields: form_urlencoded::parse(bytes).into_owned().collect(),
        }
    }

    /// The first value of a field, trimmed; `None` when missing or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// A field as typed (no trimming): passwords.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn checked(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// A required line of text: control characters removed, at most `max`
    /// characters.
    pub fn text(&self, name: &str, label: &str, max: usize) -> Result<String, WebError> {
        let value = self
            .get(name)
            .map(|v| clean(v, max))
            .filter(|v| !v.is_empty())
            .ok_or_else(|| WebError::BadRequest(format!("{label} is required")))?;
        Ok(value)
    }

    pub fn number(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(|v| v.parse().ok())
    }
}

pub fn clean(text: &str, max: usize) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect::<String>()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fields_and_limits() {
        let form = Form::read(http_body_util::Full::new(Bytes::from_static(
            b"reason=cheat+ing%21&days=&csrf=abc&password=+x+",
        )))
        .await
        .unwrap();
        assert_eq!(form.get("reason"), Some("cheat ing!"));
        assert_eq!(form.get("days"), None);
        assert_eq!(form.raw("password"), Some(" x "));
        assert!(form.text("missing", "Reason", 10).is_err());
        assert_eq!(form.text("reason", "Reason", 5).unwrap(), "cheat");
        let big = Bytes::from(vec![b'a'; MAX_FORM_BYTES + 1]);
        assert!(matches!(
            Form::read(http_body_util::Full::new(big)).await,
            Err(WebError::TooLarge)
        ));
        assert_eq!(clean("a\u{0}b\nc", 10), "abc");
        assert_eq!(Form::query("season=45&page=2").number("page"), Some(2));
    }
}
