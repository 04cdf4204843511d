//! The HTTP accept loop: one task per connection (HTTP/1.1, keep-alive),
//! a cap on open connections, a deadline for request headers, and graceful
//! shutdown that stops accepting and lets in-flight requests finish. The
//! same loop serves HTTPS: the TLS handshake runs in the connection's task,
//! so a slow handshake never holds up accepting.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes};
use http_body_util::Full;
use pitlane_core::body::Body;
use pitlane_tls::PortAcceptor;
use pitlane_web::metrics::NO_GAME;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch, Semaphore};

use crate::app::App;
use pitlane_core::http1;
use pitlane_core::recording::{Channel, ConnectionLog};

#[derive(Debug, Clone, Copy)]
pub struct HttpSettings {
    /// Also the deadline for the body once the head is in.
    pub header_read_timeout: Duration,
    /// A request head larger than this is answered 431 and the connection
    /// closed.
    pub max_head_bytes: usize,
    /// A body declared larger than this is not read (the app answers 413
    /// on the declared length).
    pub max_body_bytes: usize,
    /// How long in-flight requests get to finish after shutdown begins.
    pub shutdown_grace: Duration,
}

/// Serves HTTP on `listener`, or HTTPS when `tls` is given.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    settings: HttpSettings,
    tls: Option<Arc<PortAcceptor>>,
    connections: Arc<Semaphore>,
    mut shutdown: watch::Receiver<bool>,
) {
    // Every connection task holds a sender; when the last is gone, every
    // connection has ended.
    let (running, mut all_ended) = mpsc::channel::<()>(1);
    let local = listener.local_addr().ok();
    let open = app
        .metrics
        .connections(if tls.is_some() { "https" } else { "http" });
    loop {
        if *shutdown.borrow() {
            break;
        }
        // Waiting for a permit before accepting leaves excess clients in
        // the kernel's backlog instead of in our memory.
        let waiting = connections.available_permits() == 0;
        if waiting {
            app.metrics.limit_hit("max_connections");
        }
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = shutdown.changed() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Typically EMFILE: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        // Over its address's share, a client still gets one answer in the
        // game's form (then the connection closes), so a player behind a
        // crowded NAT sees why.
        let guard = app.limits.connect(peer.ip());
        let app = app.clone();
        let running = running.clone();
        let connection_shutdown = shutdown.clone();
        let tls = tls.clone();
        let channel = if tls.is_some() {
            Channel::Https
        } else {
            Channel::Http
        };
        let log = app.recorder.connection_on(channel, local, peer);
        let over_limit = guard.is_none();
        if over_limit {
            tracing::debug!(%peer, "connection limit per address reached");
        }
        let mut conn = Box::new(Connection {
            peer,
            app,
            settings,
            secure: false,
            over_limit,
            shutdown: connection_shutdown,
            log,
            _slots: (guard, permit, open.open(), running),
        });
        tokio::spawn(async move {
            match tls {
                None => serve_connection(stream, conn).await,
                // A TLS handshake costs more than the refusal is worth.
                Some(_) if over_limit => {}
                // Boxed: a TLS stream and its handshake are far larger than
                // a TCP stream, and every plain connection's task would
                // otherwise be sized for them.
                Some(tls) => {
                    Box::pin(async move {
                        match tls.accept(stream).await {
                            Ok(accepted) => {
                                tracing::debug!(%peer, tls = %accepted.stream.describe(), route = ?accepted.route, "TLS connection");
                                conn.secure = true;
                                serve_connection(accepted.stream, conn).await
                            }
                            Err(e) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        }
                    })
                    .await
                }
            }
        });
    }
    drop(listener);
    drop(running);
    tokio::select! {
        _ = all_ended.recv() => {
            tracing::debug!(?local, "HTTP listener drained");
        }
        _ = tokio::time::sleep(settings.shutdown_grace) => {
            tracing::warn!(?local, "requests still running after the shutdown grace period; closing them");
        }
    }
}

/// What a connection's task knows besides its stream. Boxed: an async
/// fn keeps each argument twice for as long as it runs, and a held poll's
/// connection runs for up to `hold_secs`.
struct Connection {
    peer: std::net::SocketAddr,
    app: Arc<App>,
    settings: HttpSettings,
    secure: bool,
    /// The client's address is over its connection share: it gets one
    /// answer in the game's form, then the connection closes.
    over_limit: bool,
    shutdown: watch::Receiver<bool>,
    log: ConnectionLog,
    /// Released when the connection ends: the address's share, the
    /// listener's connection permit, the open-connections gauge, and the
    /// drain signal.
    _slots: (
        Option<super::limits::ConnectionGuard>,
        tokio::sync::OwnedSemaphorePermit,
        pitlane_web::metrics::OpenConnection,
        mpsc::Sender<()>,
    ),
}

/// One HTTP/1.1 connection: requests one after the other (keep-alive),
/// each read whole before it is handed to the app. Between requests and
/// while one is held, the connection keeps no read buffer, and it watches
/// the socket: a client that leaves cancels its request (a held poll ends).
async fn serve_connection<IO>(mut io: IO, mut conn: Box<Connection>)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let Connection {
        peer,
        ref app,
        ref settings,
        secure,
        over_limit,
        ref mut shutdown,
        ref log,
        ..
    } = *conn;
    let mut buf: Vec<u8> = Vec::new();
    let mut served = 0u64;
    loop {
        // Everything about the request head lives in this block, so none of
        // it stays in the connection's future while the handler runs (a
        // held poll keeps only what it needs).
        let next = Box::pin(next_request(
            &mut io, &mut buf, settings, shutdown, app, peer, served,
        ))
        .await;
        let (request, answer) = match next {
            Next::Request(request, answer) => (request, answer),
            Next::Close => return,
        };
        let handler = async {
            if over_limit {
                let started = Instant::now();
                let path = request.uri().path();
                let response = app.refuse(
                    path,
                    http::StatusCode::SERVICE_UNAVAILABLE,
                    "too many connections from your address; try again in a moment",
                );
                app.metrics.limit_hit("max_connections_per_address");
                app.count(path, &response, started);
                response
            } else {
                app.serve_logged(request, &peer, secure, log).await
            }
        };
        let Some(response) = run_watching(&mut io, &mut buf, settings, Box::pin(handler)).await
        else {
            tracing::debug!(%peer, "client left before its answer");
            return;
        };
        served += 1;
        let keep_alive = answer.keep_alive && !over_limit && !*shutdown.borrow();
        // Boxed, as reading is: only the held state stays in the task.
        let sent = Box::pin(write_response(
            &mut io,
            response,
            answer.head_only,
            keep_alive,
            answer.http10,
        ))
        .await;
        if sent.is_err() || !keep_alive {
            let _ = io.shutdown().await;
            return;
        }
    }
}

/// How the answer to a request is framed, from its head.
#[derive(Debug, Clone, Copy)]
struct AnswerShape {
    head_only: bool,
    http10: bool,
    /// The client wants the connection kept and its whole body was read.
    keep_alive: bool,
}

enum Next {
    Request(Box<http::Request<Full<Bytes>>>, AnswerShape),
    /// The client left, went quiet, or sent a head that was answered with
    /// an error and the connection closes.
    Close,
}

/// Reads the next request, head and body, answering unreadable heads.
async fn next_request<IO: AsyncRead + AsyncWrite + Unpin>(
    io: &mut IO,
    buf: &mut Vec<u8>,
    settings: &HttpSettings,
    shutdown: &mut watch::Receiver<bool>,
    app: &App,
    peer: std::net::SocketAddr,
    served: u64,
) -> Next {
    let head = match read_head(io, buf, settings, shutdown).await {
        Ok(Some(head)) => head,
        Ok(None) => return Next::Close,
        Err(ReadError::Timeout) => {
            // A kept-alive connection going quiet is normal; one that
            // never finishes a head is what the deadline is for.
            if served == 0 || !buf.is_empty() {
                app.metrics.limit_hit("header_read_timeout_secs");
                tracing::debug!(%peer, "request head not received in time; closing");
            }
            return Next::Close;
        }
        Err(ReadError::Io) => return Next::Close,
        Err(ReadError::Head(error, path)) => {
            let started = Instant::now();
            let answer = match &path {
                Some(path) => {
                    let response = app.refuse(
                        path,
                        error.status(),
                        "send the request body with a Content-Length",
                    );
                    app.count(path, &response, started);
                    write_response(io, response, false, false, false).await
                }
                None => {
                    app.metrics.record_request(
                        NO_GAME,
                        "unknown",
                        error.status().as_u16(),
                        started.elapsed(),
                    );
                    write_all(io, &http1::bare_response(error.status())).await
                }
            };
            tracing::debug!(%peer, status = error.status().as_u16(), sent = answer.is_ok(), "unreadable request head");
            return Next::Close;
        }
    };
    // A body over the limit is not read: the app refuses the request on
    // its declared length, and the connection closes after the answer.
    let body_fits = head.body_len <= settings.max_body_bytes as u64;
    let body = if body_fits {
        match read_body(io, buf, &head, settings).await {
            Ok(body) => body,
            Err(ReadError::Timeout) => {
                app.metrics.limit_hit("header_read_timeout_secs");
                return Next::Close;
            }
            Err(_) => return Next::Close,
        }
    } else {
        *buf = Vec::new();
        Bytes::new()
    };
    if buf.is_empty() {
        // Nothing pipelined: give the buffer back while the request runs.
        *buf = Vec::new();
    }
    let shape = AnswerShape {
        head_only: head.parts.method == http::Method::HEAD,
        http10: head.parts.version == http::Version::HTTP_10,
        keep_alive: head.keep_alive && body_fits,
    };
    let request = http::Request::from_parts(head.parts, Full::new(body));
    Next::Request(Box::new(request), shape)
}

enum ReadError {
    Timeout,
    Io,
    Head(http1::HeadError, Option<String>),
}

/// First read of a request head, on the stack (see [`read_more`]).
const HEAD_READ: usize = 512;
/// Reads while a request runs, on the stack (see [`read_more`]).
const HELD_READ: usize = 32;

/// Reads more bytes into `buf`, growing it in small steps: most requests
/// are under 2 KiB. An empty `buf` gets no memory until bytes arrive:
/// the wait happens with a small buffer on the stack, so an idle or held
/// connection owns no read buffer.
///
/// `FIRST` is the stack buffer's size, and part of the size of every
/// future that waits here: 512 bytes for a request head (one read takes a
/// whole typical head), a few bytes while a request is held (the game does
/// not pipeline, so what arrives then is almost always the close).
async fn read_more<const FIRST: usize, IO: AsyncRead + Unpin>(
    io: &mut IO,
    buf: &mut Vec<u8>,
) -> std::io::Result<usize> {
    if buf.capacity() == 0 {
        let mut first = [0u8; FIRST];
        let n = io.read(&mut first).await?;
        buf.extend_from_slice(&first[..n]);
        return Ok(n);
    }
    if buf.capacity() - buf.len() < 512 {
        buf.reserve(2048);
    }
    io.read_buf(buf).await
}

/// Waits for the next request head. An idle connection closes at shutdown;
/// one that started a head gets the deadline to finish it.
async fn read_head<IO: AsyncRead + Unpin>(
    io: &mut IO,
    buf: &mut Vec<u8>,
    settings: &HttpSettings,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<Option<http1::Head>, ReadError> {
    let deadline = tokio::time::Instant::now() + settings.header_read_timeout;
    loop {
        if !buf.is_empty() {
            match http1::parse_head(buf, settings.max_head_bytes) {
                Ok(Some(head)) => return Ok(Some(head)),
                Ok(None) => {}
                Err((error, path)) => return Err(ReadError::Head(error, path)),
            }
        } else if *shutdown.borrow() {
            return Ok(None);
        }
        let idle = buf.is_empty();
        let read = tokio::select! {
            read = tokio::time::timeout_at(deadline, read_more::<HEAD_READ, _>(io, buf)) => read,
            _ = shutdown.changed(), if idle => return Ok(None),
        };
        match read {
            Err(_) => return Err(ReadError::Timeout),
            Ok(Ok(0)) => return Ok(None),
            Ok(Ok(_)) => {}
            Ok(Err(_)) => return Err(ReadError::Io),
        }
    }
}

/// Reads the rest of the body after `head` and takes head and body off
/// the front of `buf`.
async fn read_body<IO: AsyncRead + AsyncWrite + Unpin>(
    io: &mut IO,
    buf: &mut Vec<u8>,
    head: &http1::Head,
    settings: &HttpSettings,
) -> Result<Bytes, ReadError> {
    let end = head.len + head.body_len as usize;
    if buf.len() < end && head.expect_continue {
        write_all(io, b"HTTP/1.1 100 Continue\r\n\r\n")
            .await
            .map_err(|_| ReadError::Io)?;
    }
    let deadline = tokio::time::Instant::now() + settings.header_read_timeout;
    while buf.len() < end {
        buf.reserve(end - buf.len());
        match tokio::time::timeout_at(deadline, io.read_buf(buf)).await {
            Err(_) => return Err(ReadError::Timeout),
            Ok(Ok(0)) | Ok(Err(_)) => return Err(ReadError::Io),
            Ok(Ok(_)) => {}
        }
    }
    let body = Bytes::copy_from_slice(&buf[head.len..end]);
    buf.drain(..end);
    Ok(body)
}

/// Runs a request's handler while watching the socket: `None` when the
/// client closed first (the handler is dropped, which cancels it). Bytes a
/// client sends meanwhile are kept for the next request, up to one
/// largest head and body's worth.
async fn run_watching<IO, F>(
    io: &mut IO,
    buf: &mut Vec<u8>,
    settings: &HttpSettings,
    mut handler: std::pin::Pin<Box<F>>,
) -> Option<F::Output>
where
    IO: AsyncRead + Unpin,
    F: std::future::Future,
{
    loop {
        let room = buf.len() < settings.max_head_bytes + settings.max_body_bytes;
        tokio::select! {
            output = &mut handler => return Some(output),
            read = read_more::<HELD_READ, _>(io, buf), if room => match read {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            },
        }
    }
}

async fn write_all<IO: AsyncWrite + Unpin>(io: &mut IO, bytes: &[u8]) -> std::io::Result<()> {
    io.write_all(bytes).await?;
    io.flush().await
}

/// Writes a handler's answer: small bodies copied behind the head in one
/// buffer, large ones sent from where they are (a shared block and the
/// rest, for a Login) with the head in one vectored write.
async fn write_response<IO: AsyncWrite + Unpin>(
    io: &mut IO,
    response: http::Response<Body>,
    head_only: bool,
    keep_alive: bool,
    http10: bool,
) -> std::io::Result<()> {
    let (parts, body) = response.into_parts();
    let len = body.len();
    if head_only || len <= http1::COPY_BODY_UP_TO {
        let answer =
            http1::encode_response(&parts, &body.to_bytes(), head_only, keep_alive, http10);
        drop(parts);
        return write_all(io, &answer).await;
    }
    let head = http1::encode_head(&parts, len, None, keep_alive, http10);
    drop(parts);
    let (first, second) = body.into_parts();
    io.write_all_buf(&mut Bytes::from(head).chain(first).chain(second))
        .await?;
    io.flush().await
}
