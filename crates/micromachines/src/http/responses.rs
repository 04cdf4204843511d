//! The response forms of the official service (spec section 2.2): XML
//! results, empty "void" answers without a Content-Type, the static status
//! file, the CDN text file, and our error documents.

use bytes::Bytes;
use http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use http::{Response, StatusCode};
use pitlane_core::body::Body;

use crate::contracts::error::{ErrorOnly, ServiceError};
use crate::xml::{XmlError, XmlWriter};

pub type HttpResponse = Response<Body>;

pub const XML_CONTENT_TYPE: &str = "application/xml; charset=utf-8";

pub fn xml(body: impl Into<Body>) -> HttpResponse {
    with_type(StatusCode::OK, XML_CONTENT_TYPE, body)
}

/// `200`, empty body, no Content-Type: what WCF sent for void operations.
pub fn void() -> HttpResponse {
    let mut response = Response::new(Body::default());
    *response.status_mut() = StatusCode::OK;
    response
}

pub fn status_file(body: Bytes) -> HttpResponse {
    with_type(StatusCode::OK, "text/xml", body)
}

pub fn cdn_text(body: Bytes) -> HttpResponse {
    let mut response = with_type(StatusCode::OK, "text/plain", body);
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("max-age=301"));
    headers.insert(
        http::header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

fn with_type(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Body>,
) -> HttpResponse {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Why a request was not served, in words a player or operator can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub status: StatusCode,
    pub message: String,
    /// The `[limits]` key that refused the request, if a limit did: carried
    /// into the response as a [`LimitHit`] extension for the metrics.
    pub limit: Option<&'static str>,
}

/// Response extension naming the `[limits]` key that refused a request
/// (the listener counts it per limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitHit(pub &'static str);

impl Failure {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            limit: None,
        }
    }

    /// The same failure, marked as the work of the limit `key`.
    pub fn by_limit(mut self, key: &'static str) -> Self {
        self.limit = Some(key);
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn unknown_session() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unknown or expired SessionToken: log in again",
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the server could not complete the request; try again",
        )
    }

    /// The error document: the operation's result element with a non-nil
    /// `Error` (see [`ServiceError`]).
    pub fn into_response(self, result_root: &str) -> HttpResponse {
        let error = ServiceError {
            code: self.status.as_u16(),
            message: self.message,
        };
        let body = XmlWriter::document(result_root, &ErrorOnly(&error));
        let mut response = with_type(self.status, XML_CONTENT_TYPE, Bytes::from(body));
        if let Some(key) = self.limit {
            response.extensions_mut().insert(LimitHit(key));
        }
        response
    }
}

impl From<XmlError> for Failure {
    fn from(e: XmlError) -> Self {
        let limit = match e {
            XmlError::TooDeep(_) => Some("max_xml_depth"),
            XmlError::TooManyElements(_) => Some("max_xml_elements"),
            _ => None,
        };
        Failure {
            limit,
            ..Failure::bad_request(e.to_string())
        }
    }
}

impl From<pitlane_store::StoreError> for Failure {
    fn from(e: pitlane_store::StoreError) -> Self {
        tracing::error!(error = %e, "database error while serving a request");
        Failure::internal()
    }
}
