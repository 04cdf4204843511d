use rand::rngs::OsRng;
use rand::RngCore;

use crate::wire::decode_latin1;

/// Path of AuthLogin (registry `AuthLoginBaseService`).
pub const AUTH_LOGIN_PATH: &str = "/AuthLogin";

/// Length of the tickets [`new_ticket`] makes: the 34 characters of the
/// ticket the client is known to have echoed.
pub const TICKET_LEN: usize = 34;

/// `GET /AuthLogin?username=&password=&serviceID=2176&version=2.0` (verified).
#[derive(Clone, PartialEq, Eq)]
pub struct AuthLoginRequest {
    /// Account name as typed in the client.
    pub username: String,
    /// Password as typed; in the clear inside TLS. Never log it.
    pub password: String,
    /// `"2176"` from the real client.
    pub service_id: Option<String>,
    /// `"2.0"` from the real client.
    pub version: Option<String>,
}

/// Debug without the password, so a stray `{:?}` cannot log it.
impl std::fmt::Debug for AuthLoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthLoginRequest")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("service_id", &self.service_id)
            .field("version", &self.version)
            .finish()
    }
}

/// Why an AuthLogin query string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// `username` or `password` is absent.
    #[error("missing query parameter {0}")]
    Missing(&'static str),
    /// A `%` not followed by two hex digits.
    #[error("bad percent-escape in query parameter {0}")]
    BadEscape(String),
}

impl AuthLoginRequest {
    /// Parses the query string (the part after `?`).
    ///
    /// `%XX` escapes are decoded; `+` is kept as a plus sign, because the
    /// client builds the URL itself rather than submitting a form, and
    /// turning `+` into a space would break passwords that contain one.
    /// Bytes map to text as Latin-1 so that nothing the client sent is
    /// lost. Unknown parameters are ignored; of repeated ones the first
    /// wins.
    pub fn from_query(query: &str) -> Result<AuthLoginRequest, QueryError> {
        let mut username = None;
        let mut password = None;
        let mut service_id = None;
        let mut version = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match name {
                "username" => &mut username,
                "password" => &mut password,
                "serviceID" => &mut service_id,
                "version" => &mut version,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(
                    percent_decode(value).ok_or_else(|| QueryError::BadEscape(name.to_string()))?,
                );
            }
        }
        Ok(AuthLoginRequest {
            username: username.ok_or(QueryError::Missing("username"))?,
            password: password.ok_or(QueryError::Missing("password"))?,
            service_id,
            version,
        })
    }
}

impl AuthLoginRequest {
    /// The request the real client sends for this account, including the
    /// `serviceID=2176` and `version=2.0` it was seen to add, so that a
    /// simulated login looks like a real one in the server's logs.
    pub fn with_client_fields(username: &str, password: &str) -> AuthLoginRequest {
        AuthLoginRequest {
            username: username.to_string(),
            password: password.to_string(),
            service_id: Some(crate::wire::login::MCO_SERVICE_ID.to_string()),
            version: Some("2.0".to_string()),
        }
    }

    /// Path and query for the request line, the inverse of
    /// [`from_query`](Self::from_query): everything but ASCII letters,
    /// digits and `-._~` is `%XX`-escaped (text as Latin-1 bytes), so no
    /// password can end its parameter early or smuggle in another one.
    pub fn path_and_query(&self) -> String {
        let mut out = format!(
            "{AUTH_LOGIN_PATH}?username={}&password={}",
            percent_encode(&self.username),
            percent_encode(&self.password)
        );
        if let Some(service_id) = &self.service_id {
            out.push_str("&serviceID=");
            out.push_str(&percent_encode(service_id));
        }
        if let Some(version) = &self.version {
            out.push_str("&version=");
            out.push_str(&percent_encode(version));
        }
        out
    }
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in crate::wire::encode_latin1(text) {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(decode_latin1(&out))
}

/// A refusal in the community's format (community): `reasoncode`, `reasontext`,
/// `reasonurl` lines. How the client shows it has not been observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthFailure {
    /// Machine-readable code (`INV-100` …).
    pub code: String,
    /// Text for the player.
    pub text: String,
    /// Where the player can read more (the server's own help page).
    pub url: String,
}

impl AuthFailure {
    /// Wrong user name or password. `INV-100` is the code of the only
    /// failure example the community recorded.
    pub fn invalid_credentials(url: &str) -> AuthFailure {
        AuthFailure::new("INV-100", "Invalid username or password.", url)
    }

    /// The account exists but may not play. The community also used
    /// `INV-200`; which meaning it had is not recorded, so it is used here
    /// for every refusal that is not about the password.
    pub fn account_disabled(url: &str) -> AuthFailure {
        AuthFailure::new("INV-200", "This account is disabled.", url)
    }

    /// Too many failures from this account or address.
    pub fn throttled(url: &str) -> AuthFailure {
        AuthFailure::new("INV-200", "Too many failed attempts. Try again later.", url)
    }

    /// The shard is at its population cap. `INV-200`, as for every refusal
    /// that is not about the password; the text is Pitlane's, shown if the
    /// client shows `reasontext` at all (unknown).
    pub fn shard_full(url: &str) -> AuthFailure {
        AuthFailure::new(
            "INV-200",
            "The server is full. Try again in a few minutes.",
            url,
        )
    }

    /// A failure with any code and text.
    pub fn new(code: &str, text: &str, url: &str) -> AuthFailure {
        AuthFailure {
            code: code.to_string(),
            text: text.to_string(),
            url: url.to_string(),
        }
    }
}

/// The AuthLogin answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthLoginResponse {
    /// `Valid=TRUE\nTicket=<ticket>` (accepted).
    Valid {
        /// The ticket the client will echo in 0x501.
        ticket: String,
    },
    /// The failure lines.
    Invalid(AuthFailure),
}

impl AuthLoginResponse {
    /// The response body. Lines are joined with `\n` and there is no
    /// trailing newline, as in the accepted answer. Line breaks inside
    /// values are replaced by spaces so that a value can never add a line
    /// the client would parse as another key.
    pub fn body(&self) -> String {
        match self {
            AuthLoginResponse::Valid { ticket } => {
                format!("Valid=TRUE\nTicket={}", one_line(ticket))
            }
            AuthLoginResponse::Invalid(failure) => format!(
                "reasoncode={}\nreasontext={}\nreasonurl={}",
                one_line(&failure.code),
                one_line(&failure.text),
                one_line(&failure.url)
            ),
        }
    }
}

/// Why an AuthLogin answer could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthAnswerError {
    /// Neither `Valid=TRUE` nor a `reasoncode` line.
    #[error("the answer has neither Valid=TRUE nor a reasoncode line")]
    Unrecognised,
    /// `Valid=TRUE` but no ticket to put into 0x501.
    #[error("Valid=TRUE without a non-empty Ticket line")]
    MissingTicket,
}

impl AuthLoginResponse {
    /// Reads an answer as a client would: `key=value` lines split at `\n`
    /// (a `\r` before it is dropped, for servers that write CRLF), keys
    /// and `TRUE` compared without regard to ASCII case, the first of a
    /// repeated key winning, unknown keys ignored. Used by the simulator
    /// and `doctor`, which may meet servers other than Pitlane.
    pub fn parse(text: &str) -> Result<AuthLoginResponse, AuthAnswerError> {
        let mut valid = None;
        let mut ticket = None;
        let mut code = None;
        let mut reason = None;
        let mut url = None;
        for line in text.split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let slot = match key.trim().to_ascii_lowercase().as_str() {
                "valid" => &mut valid,
                "ticket" => &mut ticket,
                "reasoncode" => &mut code,
                "reasontext" => &mut reason,
                "reasonurl" => &mut url,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(value.to_string());
            }
        }
        if valid.is_some_and(|v| v.trim().eq_ignore_ascii_case("TRUE")) {
            return match ticket {
                Some(ticket) if !ticket.is_empty() => Ok(AuthLoginResponse::Valid { ticket }),
                _ => Err(AuthAnswerError::MissingTicket),
            };
        }
        match code {
            Some(code) => Ok(AuthLoginResponse::Invalid(AuthFailure {
                code,
                text: reason.unwrap_or_default(),
                url: url.unwrap_or_default(),
            })),
            None => Err(AuthAnswerError::Unrecognised),
        }
    }
}

pub(crate) fn one_line(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A fresh ticket: [`TICKET_LEN`] lower-case hex characters (136 random
/// bits from the OS), the same shape as the ticket the client is known to
/// have accepted and echoed.
pub fn new_ticket() -> String {
    let mut bytes = [0u8; TICKET_LEN / 2];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_captured_request() {
        let request =
            AuthLoginRequest::from_query("username=moo&password=moo&serviceID=2176&version=2.0");
        assert_eq!(
            request,
            Ok(AuthLoginRequest {
                username: "moo".into(),
                password: "moo".into(),
                service_id: Some("2176".into()),
                version: Some("2.0".into()),
            })
        );
    }

    #[test]
    fn escapes_plus_and_errors() {
        let request = AuthLoginRequest::from_query("username=a%20b&password=p+q%25").unwrap();
        assert_eq!(request.username, "a b");
        assert_eq!(request.password, "p+q%");
        assert_eq!(
            AuthLoginRequest::from_query("username=a"),
            Err(QueryError::Missing("password"))
        );
        assert_eq!(
            AuthLoginRequest::from_query("username=a&password=%4"),
            Err(QueryError::BadEscape("password".into()))
        );
        assert!(!format!("{request:?}").contains("p+q"));
    }

    #[test]
    fn accepted_success_body() {
        let body = AuthLoginResponse::Valid {
            ticket: "d316cd2dd6bf870893dfbaaf17f965884e".into(),
        }
        .body();
        assert_eq!(
            body,
            "Valid=TRUE\nTicket=d316cd2dd6bf870893dfbaaf17f965884e"
        );
    }

    #[test]
    fn failure_body_matches_community_format() {
        let body =
            AuthLoginResponse::Invalid(AuthFailure::new("INV-100", "Opps!", "https://winehq.com"))
                .body();
        assert_eq!(
            body,
            "reasoncode=INV-100\nreasontext=Opps!\nreasonurl=https://winehq.com"
        );
        let injected =
            AuthLoginResponse::Invalid(AuthFailure::new("X", "a\nValid=TRUE", "u")).body();
        assert_eq!(injected.lines().count(), 3);
    }

    #[test]
    fn request_lines_parse_back() {
        let request = AuthLoginRequest::with_client_fields("moo", "moo");
        assert_eq!(
            request.path_and_query(),
            "/AuthLogin?username=moo&password=moo&serviceID=2176&version=2.0"
        );
        let tricky = AuthLoginRequest::with_client_fields("a.b", "p+q &x=y%\u{e9}");
        let line = tricky.path_and_query();
        assert_eq!(
            line,
            "/AuthLogin?username=a.b&password=p%2Bq%20%26x%3Dy%25%E9&serviceID=2176&version=2.0"
        );
        let query = line.split_once('?').unwrap().1;
        assert_eq!(AuthLoginRequest::from_query(query), Ok(tricky));
    }

    #[test]
    fn answers_parse_back() {
        for answer in [
            AuthLoginResponse::Valid {
                ticket: "d316cd2dd6bf870893dfbaaf17f965884e".into(),
            },
            AuthLoginResponse::Invalid(AuthFailure::invalid_credentials("http://h/help")),
            AuthLoginResponse::Invalid(AuthFailure::new("INV-200", "a=b", "")),
        ] {
            assert_eq!(AuthLoginResponse::parse(&answer.body()), Ok(answer));
        }
        assert_eq!(
            AuthLoginResponse::parse("valid=true\r\nticket=T1\r\nTicket=T2\r\n"),
            Ok(AuthLoginResponse::Valid {
                ticket: "T1".into()
            })
        );
        assert_eq!(
            AuthLoginResponse::parse("Valid=TRUE\nTicket="),
            Err(AuthAnswerError::MissingTicket)
        );
        assert_eq!(
            AuthLoginResponse::parse("<html>502 Bad Gateway</html>"),
            Err(AuthAnswerError::Unrecognised)
        );
        assert_eq!(
            AuthLoginResponse::parse("Valid=FALSE\nreasoncode=X"),
            Ok(AuthLoginResponse::Invalid(AuthFailure::new("X", "", "")))
        );
    }

    #[test]
    fn tickets_look_like_the_accepted_one() {
        let a = new_ticket();
        assert_eq!(a.len(), TICKET_LEN);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, new_ticket());
    }
}
