//! The answer form of EgoNet (spec 2.2, 8.1): always `200`, the outcome in
//! `X-EgoNet-Result`, a `vdic` body, and `Content-Type: text/html` exactly
//! as the official server sent it (wrong, but copied because the client's
//! checks are unknown).
//!
//! Failures keep the `200`: EgoNet carries its outcome in the header, so a
//! client that reached the server reads a result it understands instead of
//! a transport error. Only the non-zero codes are ours; the official ones
//! were never seen (section 8.1 [I]).

use bytes::Bytes;
use http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use http::{Response, StatusCode};
use pitlane_core::body::Body;

use super::vdic::EMPTY;
use crate::http::responses::HttpResponse;

pub const CONTENT_TYPE_VALUE: &str = "text/html";
pub const FUNCTION_HEADER: &str = "x-egonet-function";
pub const RESULT_HEADER: &str = "x-egonet-result";
pub const SESSION_HEADER: &str = "x-egonet-sessionid";

/// `X-EgoNet-Result` values. Zero is observed; the others are chosen and
/// documented in `docs/mmws-protocol.md` so an operator can tell failures
/// apart in a client log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultCode {
    Ok = 0,
    /// Wrong method, body over the limit, not a readable `vdic`, a required
    /// field missing or of the wrong type.
    BadRequest = 1,
    /// No `X-EgoNet-Function`, or one we do not serve.
    UnknownFunction = 2,
    /// `LoginService.Login` without a matching MMCOS Login.
    NotLoggedIn = 3,
    /// The database failed; trying again may work.
    ServerError = 4,
}

impl ResultCode {
    pub fn value(self) -> u32 {
        self as u32
    }
}

/// A refused EgoNet call: the code the client sees and the reason the log
/// shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EgoNetFailure {
    pub code: ResultCode,
    pub reason: String,
}

impl EgoNetFailure {
    pub fn new(code: ResultCode, reason: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.into(),
        }
    }

    pub fn bad_request(reason: impl Into<String>) -> Self {
        Self::new(ResultCode::BadRequest, reason)
    }

    /// The empty dictionary, since the client's reading of an error body is
    /// unknown and an empty `vdic` is the one body every reader accepts.
    pub fn into_response(self) -> HttpResponse {
        answer(self.code, Bytes::from_static(EMPTY), None)
    }
}

impl From<pitlane_store::StoreError> for EgoNetFailure {
    fn from(e: pitlane_store::StoreError) -> Self {
        tracing::error!(error = %e, "database error while serving EgoNet");
        Self::new(
            ResultCode::ServerError,
            "the server could not complete the request; try again",
        )
    }
}

/// An answer in the official header order (Cache-Control, Content-Type,
/// X-EgoNet-SessionID, X-EgoNet-Result); the cosmetic IIS headers are left
/// out.
pub fn answer(code: ResultCode, body: Bytes, session_id: Option<&str>) -> HttpResponse {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("private"));
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_VALUE));
    if let Some(value) = session_id.and_then(|id| HeaderValue::from_str(id).ok()) {
        headers.insert(SESSION_HEADER, value);
    }
    headers.insert(RESULT_HEADER, HeaderValue::from(code.value()));
    response
}

/// An EgoNet session id as the official server wrote it: 32 upper-case hex
/// digits (a GUID without dashes). Anything else a client sends is not
/// echoed.
pub fn is_session_id(text: &str) -> bool {
    text.len() == 32
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_come_in_the_official_order() {
        let r = answer(
            ResultCode::Ok,
            Bytes::from_static(EMPTY),
            Some("90EA3B86433449A8A4F05CACEA5619D0"),
        );
        let names: Vec<&str> = r.headers().keys().map(|k| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "cache-control",
                "content-type",
                "x-egonet-sessionid",
                "x-egonet-result"
            ]
        );
        assert_eq!(r.headers()[RESULT_HEADER], "0");
        assert_eq!(r.headers()[CONTENT_TYPE], "text/html");
    }

    #[test]
    fn failures_carry_a_non_zero_result_and_an_empty_vdic() {
        let r = EgoNetFailure::bad_request("x").into_response();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[RESULT_HEADER], "1");
        assert!(r.headers().get(SESSION_HEADER).is_none());
    }

    #[test]
    fn session_ids_are_guid_hex() {
        assert!(is_session_id("90EA3B86433449A8A4F05CACEA5619D0"));
        assert!(!is_session_id("90ea3b86433449a8a4f05cacea5619d0"));
        assert!(!is_session_id("90EA3B86-4334-49A8-A4F0-5CACEA5619D0"));
        assert!(!is_session_id("90EA3B86433449A8A4F05CACEA5619D\n"));
    }
}
