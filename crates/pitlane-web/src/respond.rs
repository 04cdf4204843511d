//! Response forms: HTML pages with the security headers every dashboard
//! answer carries, redirects, JSON and text, and the error pages.

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::Full;
use pitlane_store::StoreError;

use crate::html;

pub type Resp = Response<Full<Bytes>>;

/// Scripts and styles only from our own files (no inline script can run
/// even if some value escaped escaping), no framing (clickjacking), forms
/// only to ourselves.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn with_type(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Resp {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

pub fn html(status: StatusCode, body: String) -> Resp {
    let mut response = with_type(status, "text/html; charset=utf-8", body);
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// 303: after a POST the browser fetches the target with GET, so reloading
/// the result never repeats the action.
pub fn redirect(location: &str) -> Resp {
    let mut response = with_type(StatusCode::SEE_OTHER, "text/plain; charset=utf-8", "");
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

pub fn add_cookie(response: &mut Resp, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("request body too large")]
    TooLarge,
    #[error(transparent)]
    Store(StoreError),
}

impl WebError {
    pub fn into_response(self, server_name: &str) -> Resp {
        let (status, title, text) = match &self {
            WebError::NotFound => (
                StatusCode::NOT_FOUND,
                "Not found",
                "There is nothing here.".to_string(),
            ),
            WebError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed",
                "This address does not take that kind of request.".to_string(),
            ),
            WebError::BadRequest(why) => (StatusCode::BAD_REQUEST, "Cannot do that", why.clone()),
            WebError::Forbidden(why) => (StatusCode::FORBIDDEN, "Refused", why.clone()),
            WebError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "Too large",
                "The form sent was too large.".to_string(),
            ),
            // The detail is in the server log, not in a page.
            WebError::Store(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Database error",
                "The database could not answer; the server log has the details.".to_string(),
            ),
        };
        html(
            status,
            html::bare_page(
                server_name,
                title,
                &format!(
                    "<p>{}</p><p><a href=\"/\">Back to the dashboard</a></p>",
                    html::esc(&text)
                ),
            ),
        )
    }
}
