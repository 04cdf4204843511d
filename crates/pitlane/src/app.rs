//! What the HTTP listeners serve: every HTTP request goes through here, is
//! timed and logged on one line, and is handed to the game it belongs to.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use micromachines::http::Failure;
use micromachines::MicroMachines;
use pitlane_core::body::Body;

use crate::mco::McoHttp;
use crate::net::limits::AddressLimits;
use pitlane_core::recording::{ConnectionLog, Recorder};

#[derive(Debug)]
pub struct App {
    pub micromachines: Arc<MicroMachines>,
    /// Motor City Online's HTTP side, when MCO is enabled.
    pub mco: Option<Arc<McoHttp>>,
    pub request_timeout: Duration,
    /// Request counts and times for the dashboard and `/metrics`.
    pub metrics: Arc<pitlane_web::Metrics>,
    /// Per-address connection and rate limits, and the held-poll cap.
    pub limits: Arc<AddressLimits>,
    /// `serve --record`: every request and answer into a transcript.
    pub recorder: Recorder,
}

impl App {
    /// Paths decide the game: the two games' paths never overlap, and the
    /// Host header cannot be relied on (players may use an IP address).
    async fn route<B>(
        &self,
        request: Box<Request<B>>,
        peer: &SocketAddr,
        secure: bool,
    ) -> Response<Body>
    where
        B: hyper::body::Body<Data = Bytes> + Send,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        if let Some(mco) = &self.mco {
            if McoHttp::owns_path(request.uri().path()) {
                let uri = request.uri().clone();
                return Box::pin(mco.handle(
                    request.method(),
                    uri.path(),
                    uri.query(),
                    *peer,
                    secure,
                ))
                .await;
            }
        }
        // Boxed, as each game's operations are: a held request keeps only
        // the state of the path it took.
        Box::pin(self.micromachines.handle(request, peer)).await
    }

    /// A limit's answer in the form of the game the path belongs to: the
    /// operation's XML error document for Micro Machines (the client shows
    /// its message), plain text for Motor City Online's HTTP side.
    pub fn refuse(&self, path: &str, status: StatusCode, message: &str) -> Response<Body> {
        let mut response = if self.mco.is_some() && McoHttp::owns_path(path) {
            let mut r = Response::new(Body::from(message.to_string()));
            *r.status_mut() = status;
            r.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("text/plain"),
            );
            r
        } else {
            let root =
                micromachines::http::route(path).map_or("ErrorResult", |op| op.result_root());
            Failure::new(status, message).into_response(root)
        };
        response.headers_mut().insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_static("1"),
        );
        response
    }

    /// Rate limit and held-poll cap first, so a refused request costs no
    /// more than the lookup.
    async fn limited<B>(
        &self,
        request: Box<Request<B>>,
        peer: &SocketAddr,
        secure: bool,
        path: &str,
    ) -> Response<Body>
    where
        B: hyper::body::Body<Data = Bytes> + Send,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        if !self.limits.allow_request(peer.ip()) {
            self.metrics.limit_hit("requests_per_second_per_address");
            tracing::debug!(%peer, %path, "request rate limit reached");
            return self.refuse(
                path,
                StatusCode::TOO_MANY_REQUESTS,
                "too many requests from your address; try again in a moment",
            );
        }
        let _slot = if micromachines::http::route(path)
            == Some(micromachines::http::Operation::EnterMatchmaking2)
        {
            match self.limits.hold_poll() {
                Some(slot) => Some(slot),
                None => {
                    self.metrics.limit_hit("max_held_polls");
                    tracing::warn!(%peer, held = self.limits.held_polls(), "held matchmaking poll cap reached");
                    return self.refuse(
                        path,
                        StatusCode::SERVICE_UNAVAILABLE,
                        "the server is searching for too many players right now; try again",
                    );
                }
            }
        } else {
            None
        };
        match tokio::time::timeout(self.request_timeout, self.route(request, peer, secure)).await {
            Ok(response) => response,
            Err(_) => Failure::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "the request took longer than {} s",
                    self.request_timeout.as_secs()
                ),
            )
            .by_limit("request_timeout_secs")
            .into_response("ErrorResult"),
        }
    }

    /// The game and operation a path belongs to, as metric labels: names
    /// from the route tables, never the path itself (a scanner's paths
    /// must not grow the label set).
    pub fn labels(&self, path: &str) -> (&'static str, &'static str) {
        if self.mco.is_some() && McoHttp::owns_path(path) {
            let lower = path.to_ascii_lowercase();
            let operation = if lower == "/authlogin" {
                "AuthLogin"
            } else if lower.starts_with("/shardlist") {
                "ShardList"
            } else {
                "Patch"
            };
            return ("mco", operation);
        }
        match micromachines::http::route(path) {
            Some(op) => ("mmws", op.name()),
            None => (pitlane_web::metrics::NO_GAME, "unknown"),
        }
    }

    /// Counts an answered request: per game, operation and status, its
    /// latency, and the limit that refused it, if one did.
    pub fn count(&self, path: &str, response: &Response<Body>, started: Instant) {
        let (game, operation) = self.labels(path);
        if let Some(hit) = response.extensions().get::<micromachines::http::LimitHit>() {
            self.metrics.limit_hit(hit.0);
        }
        self.metrics.record_request(
            game,
            operation,
            response.status().as_u16(),
            started.elapsed(),
        );
    }

    /// [`App::serve_http`], with request and answer written to the
    /// connection's transcript when recording.
    pub async fn serve_logged(
        &self,
        request: Box<Request<Full<Bytes>>>,
        peer: &SocketAddr,
        secure: bool,
        log: &ConnectionLog,
    ) -> Response<Body> {
        if log.is_on() {
            // Boxed: recording is rare, and its state would otherwise be
            // part of every request's future, held polls included.
            return Box::pin(self.serve_recorded(request, peer, secure, log)).await;
        }
        self.serve_http(request, peer, secure).await
    }

    /// The body is read whole first, which the transcript needs anyway.
    async fn serve_recorded(
        &self,
        request: Box<Request<Full<Bytes>>>,
        peer: &SocketAddr,
        secure: bool,
        log: &ConnectionLog,
    ) -> Response<Body> {
        use http_body_util::BodyExt;
        let (parts, body) = request.into_parts();
        let body = body
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        log.inbound(&pitlane_record::http_text::request(&parts, &body), &[]);
        let request = Box::new(Request::from_parts(parts, Full::new(body)));
        let (parts, body) = self.serve_http(request, peer, secure).await.into_parts();
        let body = body
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        log.outbound(&pitlane_record::http_text::response(&parts, &body), &[]);
        Response::from_parts(parts, Body::from(body))
    }

    /// `secure`: whether the request arrived over TLS.
    pub async fn serve_http<B>(
        &self,
        request: Box<Request<B>>,
        peer: &SocketAddr,
        secure: bool,
    ) -> Response<Body>
    where
        B: hyper::body::Body<Data = Bytes> + Send,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let started = Instant::now();
        let method = request.method().clone();
        // The path only: AuthLogin carries the password in its query string,
        // which is never logged.
        let path = request.uri().path().to_string();
        let host = request
            .headers()
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("-")
            .to_string();
        let response = self.limited(request, peer, secure, &path).await;
        self.count(&path, &response, started);
        tracing::info!(
            %method,
            %host,
            %path,
            status = response.status().as_u16(),
            ms = format_args!("{:.1}", started.elapsed().as_secs_f64() * 1000.0),
            %peer,
            tls = secure,
            "request"
        );
        response
    }
}
