//! EgoNet, Codemasters' binary RPC on `prod.egonet.codemasters.com`
//! (spec section 8): `POST /MicroMachines/STEAM/1.0/`, the function named by
//! the `X-EgoNet-Function` header, `vdic` bodies both ways.
//!
//! The game does not need EgoNet to play online (spec 9: it carried on after
//! an unanswered EgoNet login), but it waits about 15 s for the answer, so
//! every call gets a fast answer in EgoNet's own form — including failures,
//! which never turn into an HTML or XML page.
//!
//! Layers: `vdic` (the codec), `functions` (header → function, call
//! counts), `login` (who the caller is), `response` (the answer form).

pub mod functions;
pub mod login;
pub mod response;
pub mod vdic;

#[cfg(test)]
mod capture_tests;

use std::collections::BTreeMap;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{Method, Request};
use pitlane_core::ids;

use self::functions::{Called, Function};
use self::response::{answer, is_session_id, EgoNetFailure, ResultCode};
use self::vdic::{Dict, EMPTY, MAGIC};
use crate::http::responses::HttpResponse;
use crate::MicroMachines;

impl MicroMachines {
    /// Calls per EgoNet function since start-up, for the dashboard.
    pub fn egonet_calls(&self) -> BTreeMap<&'static str, u64> {
        self.egonet_calls.snapshot()
    }

    /// Serves one EgoNet request. Never fails: every problem becomes a
    /// non-zero `X-EgoNet-Result` and a log line.
    pub(crate) async fn egonet<B>(
        &self,
        request: Box<Request<B>>,
        peer: &SocketAddr,
    ) -> HttpResponse
    where
        B: ::http_body::Body<Data = Bytes>,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let header = request
            .headers()
            .get(response::FUNCTION_HEADER)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let called = match header.as_deref() {
            None => Called::Missing,
            Some(name) => Function::from_header(name).map_or(Called::Unknown, Called::Function),
        };
        self.egonet_calls.record(called);
        let shown = header
            .as_deref()
            .map(|h| h.chars().take(80).collect::<String>());
        match self.egonet_call(called, request, peer).await {
            Ok(response) => response,
            Err(failure) => {
                tracing::warn!(
                    function = shown.as_deref().unwrap_or("-"),
                    %peer,
                    result = failure.code.value(),
                    reason = %failure.reason,
                    "EgoNet call refused"
                );
                failure.into_response()
            }
        }
    }

    async fn egonet_call<B>(
        &self,
        called: Called,
        request: Box<Request<B>>,
        peer: &SocketAddr,
    ) -> Result<HttpResponse, EgoNetFailure>
    where
        B: ::http_body::Body<Data = Bytes>,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let function = match called {
            Called::Function(f) => f,
            Called::Unknown => {
                return Err(EgoNetFailure::new(
                    ResultCode::UnknownFunction,
                    "this server does not serve that EgoNet function",
                ))
            }
            Called::Missing => {
                return Err(EgoNetFailure::new(
                    ResultCode::UnknownFunction,
                    "no X-EgoNet-Function header",
                ))
            }
        };
        if request.method() != Method::POST {
            return Err(EgoNetFailure::bad_request(format!(
                "{} expects POST, got {}",
                function.name(),
                request.method()
            )));
        }
        // Later calls probably send back the session id of the login (spec
        // 8.1 [I]); echoing a well-formed one costs nothing.
        let session_id = request
            .headers()
            .get(response::SESSION_HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|v| is_session_id(v))
            .map(str::to_string);
        let body = self
            .read_body(request)
            .await
            .map_err(|f| EgoNetFailure::bad_request(f.message))?;
        match function {
            Function::Login => self.egonet_login(&body, peer).await,
            Function::DataEvent => {
                log_unread_body(function, &body, *peer);
                Ok(answer(
                    ResultCode::Ok,
                    Bytes::from_static(EMPTY),
                    session_id.as_deref(),
                ))
            }
        }
    }

    async fn egonet_login(
        &self,
        body: &[u8],
        peer: &SocketAddr,
    ) -> Result<HttpResponse, EgoNetFailure> {
        let dict = Dict::decode(body)
            .map_err(|e| EgoNetFailure::bad_request(format!("unreadable vdic: {e}")))?;
        tracing::debug!(%peer, body = %dict, "EgoNet login request");
        let request = login::LoginRequest::parse(&dict).map_err(EgoNetFailure::bad_request)?;
        let addr = login::link_addr(*peer);
        let now = self.clock.now();
        let session = self
            .store
            .mm_sessions()
            .latest_login_from(&addr, &request.link_name, now)
            .await?
            .ok_or_else(|| {
                EgoNetFailure::new(
                    ResultCode::NotLoggedIn,
                    format!(
                        "no live MMCOS Login by {:?} from {addr}; the game logs in to MMCOS first, \
                         from the same address and under the same name",
                        request.link_name
                    ),
                )
            })?;
        let identity = login::Identity::of_user(session.user_id);
        let reply = login::answer(identity, &request.name).map_err(|e| {
            EgoNetFailure::new(
                ResultCode::ServerError,
                format!("cannot encode the answer: {e}"),
            )
        })?;
        let session_id = ids::upper_hex(16);
        tracing::info!(
            user_id = session.user_id,
            name = %request.link_name,
            %peer,
            ticket_bytes = request.ticket_len.unwrap_or(0),
            egonet_session = %session_id,
            "EgoNet login"
        );
        Ok(answer(
            ResultCode::Ok,
            Bytes::from(reply.encode()),
            Some(&session_id),
        ))
    }
}

/// What a fire-and-forget call sent, so its never-captured shape can be
/// learnt from an operator's log: a summary at debug, and at info when the
/// body claims to be a `vdic` we cannot read (a tag we have not met yet).
fn log_unread_body(function: Function, body: &[u8], peer: SocketAddr) {
    if !body.starts_with(MAGIC) {
        tracing::debug!(function = function.name(), %peer, bytes = body.len(), "EgoNet call accepted (body is not a vdic)");
        return;
    }
    match Dict::decode(body) {
        Ok(dict) => {
            tracing::debug!(function = function.name(), %peer, body = %dict, "EgoNet call accepted")
        }
        Err(e) => {
            let head: String = body.iter().take(64).map(|b| format!("{b:02x}")).collect();
            tracing::info!(function = function.name(), %peer, error = %e, head = %head, bytes = body.len(), "EgoNet call accepted; its vdic body is not one we can read");
        }
    }
}
