//! The connection loop shared by the NPS servers: accept under a connection
//! cap, one task per connection, frames through [`NpsCodec`], an idle
//! timeout, and a clean stop when the shutdown signal flips.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio_util::codec::Framed;
use tracing::{debug, info, warn, Instrument};

use crate::wire::{NpsCodec, NpsFrame, DEFAULT_MAX_FRAME_LEN};
use pitlane_core::recording::{Channel, ConnectionLog, Recorder};

/// Connections open now on each MCO TCP listener, by its bound address
/// (one entry per listener, so two servers in one process, as in tests,
/// keep apart): read by the server's `/metrics`.
static OPEN: std::sync::Mutex<Vec<(SocketAddr, Arc<std::sync::atomic::AtomicUsize>)>> =
    std::sync::Mutex::new(Vec::new());

/// Frames refused for being above their listener's `max_frame_len`, by
/// bound address like [`OPEN`]: the limit hits `/metrics` reports.
static OVERSIZED: std::sync::Mutex<Vec<(SocketAddr, Arc<std::sync::atomic::AtomicUsize>)>> =
    std::sync::Mutex::new(Vec::new());

type Registry = std::sync::Mutex<Vec<(SocketAddr, Arc<std::sync::atomic::AtomicUsize>)>>;

fn counter_in(registry: &Registry, addr: SocketAddr) -> Arc<std::sync::atomic::AtomicUsize> {
    let mut counters = registry.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, n)) = counters.iter().find(|(a, _)| *a == addr) {
        return n.clone();
    }
    let n = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    counters.push((addr, n.clone()));
    n
}

fn read_in(registry: &Registry, addr: SocketAddr) -> usize {
    let counters = registry.lock().unwrap_or_else(|e| e.into_inner());
    counters
        .iter()
        .find(|(a, _)| *a == addr)
        .map_or(0, |(_, n)| n.load(std::sync::atomic::Ordering::Relaxed))
}

fn open_counter(addr: SocketAddr) -> Arc<std::sync::atomic::AtomicUsize> {
    counter_in(&OPEN, addr)
}

/// Connections open now on the MCO listener bound to `addr`.
pub fn open_connections(addr: SocketAddr) -> usize {
    read_in(&OPEN, addr)
}

/// Counts a frame refused by the frame-size cap on the listener `stream`
/// was accepted on.
pub(crate) fn count_oversized_frame(stream: &TcpStream) {
    if let Ok(addr) = stream.local_addr() {
        counter_in(&OVERSIZED, addr).fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Frames refused since start by the frame-size cap of the MCO listener
/// bound to `addr`.
pub fn oversized_frames(addr: SocketAddr) -> usize {
    read_in(&OVERSIZED, addr)
}

/// Limits of one NPS server.
///
/// The login and persona exchanges are one request and one reply on a fresh
/// connection each, so a client that stays silent is either gone or
/// hostile; the idle timeout frees its slot, and the connection cap bounds
/// what many such peers can hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    /// Connections served at once; further clients wait in the listen
    /// backlog until a slot frees.
    pub max_connections: usize,
    /// How long a connection may stay silent (or a reply stay unsent)
    /// before it is closed.
    pub idle_timeout: Duration,
    /// Largest NPS message accepted, header included.
    pub max_frame_len: usize,
    /// Where `--record` writes each connection's messages (off by default).
    pub recorder: Recorder,
}

impl Default for ServerSettings {
    fn default() -> ServerSettings {
        ServerSettings {
            max_connections: 256,
            idle_timeout: Duration::from_secs(30),
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            recorder: Recorder::off(),
        }
    }
}

/// What a handler wants done with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Frames to send, in order.
    pub frames: Vec<NpsFrame>,
    /// Close the connection after sending.
    pub close: bool,
    /// One word or phrase for the per-message log line.
    pub outcome: &'static str,
}

impl Reply {
    /// Send `frame` and keep the connection for the client to close.
    pub fn send(frame: NpsFrame, outcome: &'static str) -> Reply {
        Reply {
            frames: vec![frame],
            close: false,
            outcome,
        }
    }

    /// Send `frame`, then close.
    pub fn send_and_close(frame: NpsFrame, outcome: &'static str) -> Reply {
        Reply {
            frames: vec![frame],
            close: true,
            outcome,
        }
    }

    /// Close without answering.
    pub fn close(outcome: &'static str) -> Reply {
        Reply {
            frames: Vec::new(),
            close: true,
            outcome,
        }
    }
}

/// Runs an NPS server until `shutdown` becomes `true` (or its sender is
/// dropped), then waits for the open connections to finish; each of them
/// stops at its next message boundary.
pub(crate) async fn run<H, Fut>(
    server: &'static str,
    listener: TcpListener,
    settings: ServerSettings,
    shutdown: watch::Receiver<bool>,
    handler: H,
) where
    H: Fn(NpsFrame) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Reply> + Send + 'static,
{
    let max = settings.max_connections;
    accept_loop(
        server,
        listener,
        max,
        shutdown,
        move |stream, peer, shutdown| {
            let channel = match server {
                "login" => Channel::McoLogin,
                _ => Channel::McoPersona,
            };
            let log = (settings.recorder).connection_on(channel, stream.local_addr().ok(), peer);
            connection(
                stream,
                peer,
                settings.clone(),
                shutdown,
                handler.clone(),
                log,
            )
        },
    )
    .await;
}

/// The accept side every MCO TCP server shares: a connection cap, one task
/// per connection in its own log span, and a clean stop on shutdown. The
/// lobby and MCOTS servers keep state per connection (ciphers, identity),
/// so they hand in a whole connection task rather than a per-message
/// handler.
pub(crate) async fn accept_loop<C, Fut>(
    server: &'static str,
    listener: TcpListener,
    max_connections: usize,
    mut shutdown: watch::Receiver<bool>,
    serve_connection: C,
) where
    C: Fn(TcpStream, SocketAddr, watch::Receiver<bool>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(max_connections.max(1)));
    let mut connections = JoinSet::new();
    let local = listener.local_addr().ok();
    let open = local.map(open_counter);
    info!(server, addr = ?local, "listening");
    loop {
        if *shutdown.borrow() {
            break;
        }
        let permit = tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_err() {
                    break;
                }
                continue;
            }
            permit = slots.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let accepted = tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_err() {
                    break;
                }
                continue;
            }
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and similar: back off instead of
                // spinning, and keep serving the connections we have.
                warn!(server, %error, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let span = tracing::info_span!("mco", server, %peer);
        let task = serve_connection(stream, peer, shutdown.clone());
        let open = open.clone();
        if let Some(n) = &open {
            n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        connections.spawn(
            async move {
                task.await;
                if let Some(n) = open {
                    n.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                }
                drop(permit);
            }
            .instrument(span),
        );
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    info!(server, open = connections.len(), "stopping");
    while connections.join_next().await.is_some() {}
}

/// A frame into the connection's transcript, as the bytes on the wire.
pub(crate) fn record_frame(log: &ConnectionLog, inbound: bool, frame: &NpsFrame) {
    if !log.is_on() {
        return;
    }
    let mut bytes = bytes::BytesMut::new();
    let encoded = tokio_util::codec::Encoder::encode(
        &mut NpsCodec::server(usize::from(u16::MAX)),
        frame.clone(),
        &mut bytes,
    );
    if encoded.is_ok() {
        if inbound {
            log.inbound(&bytes, &[]);
        } else {
            log.outbound(&bytes, &[]);
        }
    }
}

async fn connection<H, Fut>(
    stream: TcpStream,
    peer: SocketAddr,
    settings: ServerSettings,
    mut shutdown: watch::Receiver<bool>,
    handler: H,
    log: ConnectionLog,
) where
    H: Fn(NpsFrame) -> Fut,
    Fut: Future<Output = Reply>,
{
    debug!(%peer, "connected");
    let mut framed = Framed::new(stream, NpsCodec::server(settings.max_frame_len));
    loop {
        let next = tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_ok() && !*shutdown.borrow_and_update() {
                    continue;
                }
                debug!("closing for shutdown");
                break;
            }
            next = tokio::time::timeout(settings.idle_timeout, framed.next()) => next,
        };
        let frame = match next {
            Err(_) => {
                info!("idle timeout; closing");
                break;
            }
            Ok(None) => {
                debug!("peer closed");
                break;
            }
            Ok(Some(Err(error))) => {
                if matches!(error, crate::wire::FrameError::TooLong { .. }) {
                    count_oversized_frame(framed.get_ref());
                }
                if error.is_disconnect() {
                    debug!(%error, "client gone; closing");
                } else {
                    warn!(%error, "bad input; closing");
                }
                break;
            }
            Ok(Some(Ok(frame))) => frame,
        };
        let id = frame.id;
        let len = frame.total_len();
        record_frame(&log, true, &frame);
        let reply = handler(frame).await;
        info!(
            id = format_args!("{id:#06x}"),
            len,
            outcome = reply.outcome,
            "message"
        );
        for out in reply.frames {
            record_frame(&log, false, &out);
            match tokio::time::timeout(settings.idle_timeout, framed.send(out)).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    if error.is_disconnect() {
                        debug!(%error, "client gone; closing");
                    } else {
                        warn!(%error, "send failed; closing");
                    }
                    return;
                }
                Err(_) => {
                    warn!("send timed out; closing");
                    return;
                }
            }
        }
        if reply.close {
            break;
        }
    }
}
