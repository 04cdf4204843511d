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

#[derive(Debug)]
pub struct App {
    pub micromachines: Arc<MicroMachines>,
    pub request_timeout: Duration,
}

impl App {
    pub async fn serve_http(
        &self,
        request: Request<Incoming>,
        peer: SocketAddr,
    ) -> Response<Full<Bytes>> {
        let started = Instant::now();
        let method = request.method().clone();
        let path = request.uri().path().to_string();
        let host = request
            .headers()
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("-")
            .to_string();
        let response = match tokio::time::timeout(
            self.request_timeout,
            self.micromachines.handle(request, peer),
        )
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
        tracing::info!(
            %method,
            %host,
            %path,
            status = response.status().as_u16(),
            ms = format_args!("{:.1}", started.elapsed().as_secs_f64() * 1000.0),
            %peer,
            "request"
        );
        response
    }
}
