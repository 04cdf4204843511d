//! The stylesheet and the refresh script, compiled into the binary. They
//! are served without a session because the login page needs the style,
//! and neither holds anything about the server.

use http::StatusCode;

use crate::respond::{self, Resp, WebError};

const STYLE: &str = include_str!("../assets/style.css");
const LIVE: &str = include_str!("../assets/live.js");
const FAVICON: &str = include_str!("../assets/favicon.svg");

pub fn serve(name: &str) -> Result<Resp, WebError> {
    let (content_type, body) = match name {
        "style.css" => ("text/css; charset=utf-8", STYLE),
        "live.js" => ("text/javascript; charset=utf-8", LIVE),
        // Browsers ask for /favicon.ico on their own; answering keeps that
        // request from landing on the login page.
        "favicon.svg" => ("image/svg+xml", FAVICON),
        _ => return Err(WebError::NotFound),
    };
    Ok(respond::with_type(StatusCode::OK, content_type, body))
}
