//! The plain-text HTTP steps before NPS: AuthLogin (HTTPS, 443) and the
//! ShardList (HTTP, 80).
//!
//! Only the documents live here, as pure functions from typed inputs; the
//! binary's web server routes the requests, checks passwords against the
//! store and serves the text. Both answers are `text/plain` with status 200,
//! failure included, because the client is believed to expect 200 always.

mod auth;
mod shard;

pub use auth::{
    new_ticket, AuthAnswerError, AuthFailure, AuthLoginRequest, AuthLoginResponse, QueryError,
    AUTH_LOGIN_PATH, TICKET_LEN,
};
pub use shard::{render_shard_list, ShardEntry, SHARD_LIST_PATH};

/// Content type of both documents.
pub const CONTENT_TYPE: &str = "text/plain";
