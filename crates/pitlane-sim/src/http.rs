//! A minimal HTTP/1.1 client: one TCP connection per request, as the Unity
//! client did in every captured flow.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot connect to {0}: {1}")]
    Connect(SocketAddr, std::io::Error),
    #[error("HTTP error: {0}")]
    Http(#[from] hyper::Error),
    #[error("invalid request: {0}")]
    Request(#[from] http::Error),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("TLS handshake failed: {0}")]
    Tls(std::io::Error),
}

#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl HttpResponse {
    pub fn content_type(&self) -> Option<&str> {
        self.headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Headers in the Unity client's order and spelling (spec 2.1).
pub fn unity_request(
    method: Method,
    host: &str,
    path: &str,
    content_type: Option<&str>,
    extra: &[(&str, &str)],
    body: Bytes,
) -> Result<Request<Full<Bytes>>, http::Error> {
    let mut builder = Request::builder()
        .method(method.clone())
        .uri(path)
        .header("Host", host)
        .header("User-Agent", "UnityPlayer/5.4.5p1 (http://unity3d.com)")
        .header("Accept", "*/*")
        .header("Accept-Encoding", "identity");
    if method == Method::POST {
        builder = builder.header("Content-Length", body.len().to_string());
    }
    for (name, value) in extra {
        builder = builder.header(*name, *value);
    }
    builder = builder.header("X-Unity-Version", "5.4.5p1");
    if let Some(ct) = content_type {
        builder = builder.header("content-type", ct);
    }
    builder.body(Full::new(body))
}

/// Sends one request on a fresh connection and reads the whole answer.
pub async fn send(
    addr: SocketAddr,
    request: Request<Full<Bytes>>,
    timeout: Duration,
) -> Result<HttpResponse, ClientError> {
    send_via(addr, None, request, timeout).await
}

/// Like [`send`], over TLS when `tls` is given: the SNI name is the
/// request's `Host` header, as the game sends it.
pub async fn send_via(
    addr: SocketAddr,
    tls: Option<&crate::tls::TrustingClient>,
    request: Request<Full<Bytes>>,
    timeout: Duration,
) -> Result<HttpResponse, ClientError> {
    let exchange = async {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| ClientError::Connect(addr, e))?;
        let _ = stream.set_nodelay(true);
        match tls {
            None => exchange(stream, request).await,
            Some(tls) => {
                let host = request
                    .headers()
                    .get(http::header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or("localhost")
                    .to_string();
                let stream = tls.connect(&host, stream).await.map_err(ClientError::Tls)?;
                exchange(stream, request).await
            }
        }
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| ClientError::Timeout(timeout))?
}

/// One request/response over an established stream.
pub async fn exchange<S>(
    stream: S,
    request: Request<Full<Bytes>>,
) -> Result<HttpResponse, ClientError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    {
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let response = sender.send_request(request).await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await?.to_bytes();
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}
