//! What the HTTP listeners serve: every HTTP request goes through here, is
//! timed and logged on one line, and is handed to the game it belongs to.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use micromachines::http::Failure;
use micromachines::MicroMachines;

use crate::mco::McoHttp;

#[derive(Debug)]
pub struct App {
    pub micromachines: Arc<MicroMachines>,
    /// Motor City Online's HTTP side, when MCO is enabled.
    pub mco: Option<Arc<McoHttp>>,
    pub request_timeout: Duration,
    /// Request counts and times for the dashboard and `/metrics`.
    pub metrics: Arc<pitlane_web::Metrics>,
}

impl App {
    /// Paths decide the game: the two games' paths never overlap, and the
    /// Host header cannot be relied on (players may use an IP address).
    async fn route(
        &self,
        request: Request<Incoming>,
        peer: SocketAddr,
        secure: bool,
    ) -> Response<Full<Bytes>> {
        if let Some(mco) = &self.mco {
            if McoHttp::owns_path(request.uri().path()) {
                let uri = request.uri().clone();
                return mco
                    .handle(request.method(), uri.path(), uri.query(), peer, secure)
                    .await;
            }
        }
        self.micromachines.handle(request, peer).await
    }

    /// `secure`: whether the request arrived over TLS.
    pub async fn serve_http(
        &self,
        request: Request<Incoming>,
        peer: SocketAddr,
        secure: bool,
    ) -> Response<Full<Bytes>> {
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
        let response =
            match tokio::time::timeout(self.request_timeout, self.route(request, peer, secure))
                .await
            {
                Ok(response) => response,
                Err(_) => Failure::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!(
                        "the request took longer than {} s",
                        self.request_timeout.as_secs()
                    ),
                )
                .into_response("ErrorResult"),
            };
        self.metrics
            .record(response.status().as_u16(), started.elapsed());
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
