//! Sessions, cookies and CSRF.
//!
//! The session cookie holds 256 random bits; the database keeps only their
//! SHA-256 digest. Each session has its own CSRF token, embedded in every
//! form and compared on every POST; `SameSite=Strict` and an `Origin`
//! check stop cross-site requests a second time over. The login form,
//! which has no session yet, uses a double-submit token: a cookie and a
//! hidden field that must match.

use http::header::{self, HeaderMap};
use http::Uri;
use pitlane_core::ids::token_digest;
use pitlane_store::admin::AdminSession;
use rand::RngCore;

use crate::form::Form;
use crate::respond::{self, Resp, WebError};
use crate::Dashboard;

pub const SESSION_COOKIE: &str = "pitlane_session";
pub const LOGIN_COOKIE: &str = "pitlane_login";

/// 256 bits from the operating system's CSPRNG, hex (cookie- and
/// HTML-safe).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares secrets in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value. HttpOnly: scripts never see the token.
/// SameSite=Strict: other sites cannot make the browser send it.
pub fn set_cookie(name: &str, value: &str, path: &str, max_age_secs: i64, secure: bool) -> String {
    format!(
        "{name}={value}; Path={path}; Max-Age={max_age_secs}; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The operator behind the request's session cookie, if the session lives.
pub async fn session(d: &Dashboard, headers: &HeaderMap) -> Result<Option<AdminSession>, WebError> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    Ok(d.store
        .admin_sessions()
        .use_session(&token_digest(token), d.clock.now(), d.idle_timeout())
        .await?)
}

/// Without a session: a page asks to log in and comes back afterwards; an
/// action is dropped (it would lack its CSRF token anyway).
pub fn to_login(uri: &Uri, is_get: bool) -> Resp {
    let next = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    if is_get && next != "/" {
        respond::redirect(&format!("/login?next={}", crate::html::url(next)))
    } else {
        respond::redirect("/login")
    }
}

/// Where to go after logging in: only paths on this server, so that a
/// crafted login link cannot send the operator elsewhere.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n,
        _ => "/",
    }
}

/// Browsers say where a POST comes from; a form posted from another site
/// is refused even before its CSRF token is looked at.
pub fn check_origin(headers: &HeaderMap) -> Result<(), WebError> {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let matches = origin
        .split_once("://")
        .is_some_and(|(scheme, rest)| matches!(scheme, "http" | "https") && rest == host);
    if matches {
        Ok(())
    } else {
        Err(WebError::Forbidden(
            "this form was sent from another site".into(),
        ))
    }
}

pub fn check_csrf(session: &AdminSession, form: &Form) -> Result<(), WebError> {
    match form.get("csrf") {
        Some(token) if same_secret(token, &session.csrf_token) => Ok(()),
        _ => Err(WebError::Forbidden(
            "the form's security token is missing or out of date: reload the page and try again"
                .into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; pitlane_session=abc"),
        );
        h.append(
            header::COOKIE,
            HeaderValue::from_static("pitlane_login=def"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, LOGIN_COOKIE), Some("def"));
        assert_eq!(cookie(&h, "x"), None);
    }

    #[test]
    fn tokens_and_secrets() {
        let t = random_token();
        assert_eq!(t.len(), 64);
        assert_ne!(t, random_token());
        assert!(same_secret(&t, &t.clone()));
        assert!(!same_secret(&t, &t[1..]));
        assert!(!same_secret("abc", "abd"));
        let c = set_cookie("s", "v", "/", 60, true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.ends_with("Secure"));
        assert!(!set_cookie("s", "v", "/", 60, false).contains("Secure"));
    }

    #[test]
    fn next_stays_on_this_server() {
        assert_eq!(safe_next(Some("/players?q=x")), "/players?q=x");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn origin_must_be_this_host() {
        let mut h = HeaderMap::new();
        assert!(check_origin(&h).is_ok(), "no Origin: not a browser");
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8080"),
        );
        assert!(check_origin(&h).is_ok());
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://evil.example"),
        );
        assert!(check_origin(&h).is_err());
        h.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(check_origin(&h).is_err());
    }
}
