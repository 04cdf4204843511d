//! The NPS lobby server (TCP 7003): the connection the client keeps open
//! after choosing a persona.
//!
//! It opens with a clear 0x100 naming the persona and customer; the
//! session key comes from the login server's entry in the store (the lobby
//! login never carries it), and a client without one is refused. From then
//! on the client sends its commands inside 0x1101, DES-CBC with one chain
//! per direction for the life of the connection ([`LobbyCipher`]).
//!
//! Who is in which channel is live state, not stored: it is exactly the
//! set of open lobby connections of this instance, shared between them
//! through a [`LobbyHub`], which is also how chat reaches the other
//! members of a channel.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio_util::codec::Framed;
use tracing::{debug, error, info, warn};

use crate::crypto::LobbyCipher;
use crate::directory::PersonaId;
use crate::server::accept_loop;
use crate::store_directory::StoreDirectory;
use crate::wire::lobby::{
    self, ids, ChannelEntry, ChatLine, Inner, LobbyLogin, LobbyUser, SealError, CHAT_MAX,
};
use crate::wire::{NpsCodec, NpsFrame, DEFAULT_MAX_FRAME_LEN};
use pitlane_core::recording::{self, ConnectionLog, Recorder};

/// A channel the lobby offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    /// Its id.
    pub id: u32,
    /// Its name.
    pub name: String,
    /// Most players in it at once.
    pub capacity: u16,
}

/// How the lobby behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LobbySettings {
    /// The channels offered, in list order.
    pub channels: Vec<Channel>,
    /// Reply ids sent inside 0x1101 rather than in clear.
    ///
    /// Empty by default: the only reply a real client was ever sent after
    /// its encrypted commands was a clear 0x229, and a clear NPS message is
    /// one the client's message loop dispatches by id whether or not it
    /// also decrypts 0x1101; an encrypted reply to a client that does not
    /// expect one would be unreadable to it. An operator testing with a
    /// real client can switch single ids over.
    pub encrypted_replies: BTreeSet<u16>,
    /// Connections served at once.
    pub max_connections: usize,
    /// How long a lobby connection may stay silent. The client holds the
    /// connection for the whole session and sends heartbeats, so this is
    /// minutes, not the login server's seconds.
    pub idle_timeout: Duration,
    /// Largest NPS message accepted.
    pub max_frame_len: usize,
    /// Where `--record` writes each connection's commands (off by default).
    pub recorder: Recorder,
}

impl Default for LobbySettings {
    fn default() -> LobbySettings {
        LobbySettings {
            channels: default_channels(),
            encrypted_replies: BTreeSet::new(),
            max_connections: 1024,
            idle_timeout: Duration::from_secs(600),
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            recorder: Recorder::off(),
        }
    }
}

impl LobbySettings {
    /// The operator's `[motorcity]` settings: channels, encrypted reply
    /// ids, connection limit and the session idle timeout.
    pub fn from_config(mc: &pitlane_core::config::MotorCitySettings) -> LobbySettings {
        LobbySettings {
            channels: mc
                .channels
                .iter()
                .map(|c| Channel {
                    id: c.id,
                    name: c.name.clone(),
                    capacity: c.capacity,
                })
                .collect(),
            encrypted_replies: mc.encrypted_lobby_replies.iter().copied().collect(),
            max_connections: mc.max_connections,
            idle_timeout: Duration::from_secs(mc.session_idle_timeout_secs),
            ..LobbySettings::default()
        }
    }
}

/// The community's channel set (CTRL 0 is the NPS control channel and not
/// listed as a place to chat).
pub fn default_channels() -> Vec<Channel> {
    vec![
        Channel {
            id: 2,
            name: "LOBBY".into(),
            capacity: 100,
        },
        Channel {
            id: 191,
            name: "MCCHAT".into(),
            capacity: 100,
        },
    ]
}

/// One open lobby connection as the others see it.
#[derive(Debug)]
struct Member {
    user: LobbyUser,
    channel: Option<u32>,
    outbox: mpsc::UnboundedSender<Inner>,
}

/// The lobby's live state, shared by all its connections.
#[derive(Debug, Default)]
pub struct LobbyHub {
    members: Mutex<Members>,
}

#[derive(Debug, Default)]
struct Members {
    next: u64,
    by_conn: BTreeMap<u64, Member>,
}

impl LobbyHub {
    fn lock(&self) -> MutexGuard<'_, Members> {
        // A panic while holding the lock cannot leave the map half-changed
        // (every change is one insert or remove), so keep serving.
        self.members.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn enter(&self, user: LobbyUser) -> (u64, mpsc::UnboundedReceiver<Inner>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut m = self.lock();
        m.next += 1;
        let conn = m.next;
        m.by_conn.insert(
            conn,
            Member {
                user,
                channel: None,
                outbox: tx,
            },
        );
        (conn, rx)
    }

    /// Players in a channel now.
    pub fn users_in(&self, channel: u32) -> Vec<LobbyUser> {
        self.lock()
            .by_conn
            .values()
            .filter(|m| m.channel == Some(channel))
            .map(|m| m.user.clone())
            .collect()
    }

    /// Players connected to the lobby now.
    pub fn online(&self) -> usize {
        self.lock().by_conn.len()
    }

    fn population(&self, channel: u32) -> usize {
        self.lock()
            .by_conn
            .values()
            .filter(|m| m.channel == Some(channel))
            .count()
    }

    /// Moves a connection into `channel` (out of any other), telling the
    /// members of both. `false` when the channel is full.
    fn join(&self, conn: u64, channel: u32, capacity: u16) -> bool {
        let mut m = self.lock();
        let Some(user) = m.by_conn.get(&conn).map(|me| me.user.clone()) else {
            return false;
        };
        let current = m.by_conn.get(&conn).and_then(|me| me.channel);
        if current == Some(channel) {
            return true;
        }
        let inside = m
            .by_conn
            .values()
            .filter(|o| o.channel == Some(channel))
            .count();
        if inside >= usize::from(capacity) {
            return false;
        }
        if let Some(old) = current {
            broadcast(&m, old, Some(conn), &left(old, user.persona_id));
        }
        if let Some(me) = m.by_conn.get_mut(&conn) {
            me.channel = Some(channel);
        }
        if let Ok(joined) = lobby::user_joined(channel, &user) {
            broadcast(&m, channel, Some(conn), &joined);
        }
        true
    }

    /// Takes a connection out of its channel; returns the channel.
    fn leave_channel(&self, conn: u64) -> Option<u32> {
        let mut m = self.lock();
        let me = m.by_conn.get_mut(&conn)?;
        let channel = me.channel.take()?;
        let persona = me.user.persona_id;
        broadcast(&m, channel, Some(conn), &left(channel, persona));
        Some(channel)
    }

    fn exit(&self, conn: u64) {
        self.leave_channel(conn);
        self.lock().by_conn.remove(&conn);
    }

    /// Relays a chat line to everyone in the sender's channel, the sender
    /// included (its echo is the client's confirmation). `None` when the
    /// sender is in no channel.
    fn chat(&self, conn: u64, text: String) -> Option<ChatLine> {
        let m = self.lock();
        let me = m.by_conn.get(&conn)?;
        let channel = me.channel?;
        let line = ChatLine {
            channel,
            from: me.user.clone(),
            text,
        };
        if let Ok(relay) = lobby::chat_relay(&line) {
            broadcast(&m, channel, None, &relay);
        }
        Some(line)
    }
}

fn left(channel: u32, persona: u32) -> Inner {
    Inner::new(ids::USER_LEFT_CHANNEL, lobby::u32s(&[channel, persona]))
}

fn broadcast(m: &Members, channel: u32, except: Option<u64>, message: &Inner) {
    for (conn, member) in &m.by_conn {
        if member.channel == Some(channel) && Some(*conn) != except {
            // A closed outbox is a connection on its way out; it removes
            // itself.
            let _ = member.outbox.send(message.clone());
        }
    }
}

/// What a lobby connection needs besides its socket.
pub struct Lobby {
    directory: Arc<StoreDirectory>,
    settings: LobbySettings,
    hub: Arc<LobbyHub>,
}

impl Lobby {
    /// A lobby on the store behind `directory`.
    pub fn new(directory: Arc<StoreDirectory>, settings: LobbySettings) -> Lobby {
        Lobby {
            directory,
            settings,
            hub: Arc::new(LobbyHub::default()),
        }
    }

    /// The live state (for status pages and tests).
    pub fn hub(&self) -> &Arc<LobbyHub> {
        &self.hub
    }

    fn channel(&self, id: u32) -> Option<&Channel> {
        self.settings.channels.iter().find(|c| c.id == id)
    }
}

/// One channel as the operator's dashboard shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelSnapshot {
    pub id: u32,
    pub name: String,
    pub capacity: u16,
    /// Players in it now.
    pub users: Vec<LobbyUser>,
}

impl Lobby {
    /// A read-only copy of who is in which channel now, in list order, and
    /// how many lobby connections are in no channel: for the operator's
    /// dashboard.
    pub fn snapshot(&self) -> (Vec<ChannelSnapshot>, usize) {
        let channels = self
            .settings
            .channels
            .iter()
            .map(|c| ChannelSnapshot {
                id: c.id,
                name: c.name.clone(),
                capacity: c.capacity,
                users: self.hub.users_in(c.id),
            })
            .collect::<Vec<_>>();
        let inside: usize = channels.iter().map(|c| c.users.len()).sum();
        (channels, self.hub.online().saturating_sub(inside))
    }
}

/// Serves the lobby on `listener` until `shutdown` becomes `true`.
pub async fn serve_lobby(
    listener: TcpListener,
    lobby: Arc<Lobby>,
    shutdown: watch::Receiver<bool>,
) {
    let max = lobby.settings.max_connections;
    accept_loop(
        "lobby",
        listener,
        max,
        shutdown,
        move |stream, peer, shutdown| connection(stream, peer, lobby.clone(), shutdown),
    )
    .await;
}

/// One connection's keys and identity after a successful 0x100.
struct Session {
    conn: u64,
    rx: LobbyCipher,
    tx: LobbyCipher,
    log: ConnectionLog,
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    lobby: Arc<Lobby>,
    mut shutdown: watch::Receiver<bool>,
) {
    debug!(%peer, "connected");
    let settings = &lobby.settings;
    let log = (settings.recorder).connection_on(
        recording::Channel::McoLobby,
        stream.local_addr().ok(),
        peer,
    );
    let mut framed = Framed::new(stream, NpsCodec::server(settings.max_frame_len));
    let Some(first) = next_frame(&mut framed, settings.idle_timeout, &mut shutdown).await else {
        return;
    };
    crate::server::record_frame(&log, true, &first);
    let Some((mut session, mut outbox)) = login(&lobby, &mut framed, first, log).await else {
        return;
    };
    loop {
        let out = tokio::select! {
            pushed = outbox.recv() => match pushed {
                Some(message) => vec![message],
                None => break,
            },
            frame = next_frame(&mut framed, settings.idle_timeout, &mut shutdown) => {
                let Some(frame) = frame else { break };
                match handle(&lobby, &mut session, frame) {
                    Handled::Reply(out) => out,
                    Handled::Close(outcome) => {
                        info!(outcome, "closing");
                        break;
                    }
                }
            }
        };
        if !send_all(&lobby, &mut session, &mut framed, out).await {
            break;
        }
    }
    lobby.hub.exit(session.conn);
    debug!("lobby connection closed");
}

type LobbyFramed = Framed<TcpStream, NpsCodec>;

async fn next_frame(
    framed: &mut LobbyFramed,
    idle: Duration,
    shutdown: &mut watch::Receiver<bool>,
) -> Option<NpsFrame> {
    loop {
        let next = tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_ok() && !*shutdown.borrow_and_update() {
                    continue;
                }
                debug!("closing for shutdown");
                return None;
            }
            next = tokio::time::timeout(idle, framed.next()) => next,
        };
        return match next {
            Err(_) => {
                info!("idle timeout; closing");
                None
            }
            Ok(None) => None,
            Ok(Some(Err(error))) => {
                if matches!(error, crate::wire::FrameError::TooLong { .. }) {
                    crate::server::count_oversized_frame(framed.get_ref());
                }
                if error.is_disconnect() {
                    debug!(%error, "client gone; closing");
                } else {
                    warn!(%error, "bad input; closing");
                }
                None
            }
            Ok(Some(Ok(frame))) => Some(frame),
        };
    }
}

/// 0x100 → 0x120, or a logged refusal (the connection then closes: NPS
/// has no lobby error reply the client is known to understand).
async fn login(
    lobby: &Lobby,
    framed: &mut LobbyFramed,
    first: NpsFrame,
    log: ConnectionLog,
) -> Option<(Session, mpsc::UnboundedReceiver<Inner>)> {
    if first.id != ids::LOGIN {
        warn!(
            id = format_args!("{:#06x}", first.id),
            "lobby message before 0x100 login; closing"
        );
        return None;
    }
    let request = match LobbyLogin::parse(&first.body) {
        Ok(request) => request,
        Err(error) => {
            warn!(%error, "malformed lobby login; closing");
            return None;
        }
    };
    let persona = PersonaId(request.persona_id);
    let found = match lobby.directory.session_for_persona(persona).await {
        Ok(found) => found,
        Err(error) => {
            error!(%error, %persona, "session lookup failed; closing");
            return None;
        }
    };
    let key = match found {
        Some((customer, key)) if customer.0 == request.customer_id => key,
        Some((customer, _)) => {
            warn!(%persona, %customer, claimed = request.customer_id, "lobby login for another customer's persona; refused");
            return None;
        }
        None => {
            warn!(%persona, customer = request.customer_id, "lobby login without a session key (no 0x501 login, or persona not selected); refused");
            return None;
        }
    };
    let reply = match lobby::login_response(request.persona_id) {
        Ok(reply) => reply,
        Err(error) => {
            error!(%error, "cannot encode 0x120");
            return None;
        }
    };
    crate::server::record_frame(&log, false, &reply);
    log.secret("session-key", key.as_bytes());
    if let Err(error) = framed.send(reply).await {
        if error.is_disconnect() {
            debug!(%error, "client gone; closing");
        } else {
            warn!(%error, "send failed; closing");
        }
        return None;
    }
    info!(%persona, name = %request.persona_name, "lobby login");
    let user = LobbyUser {
        persona_id: request.persona_id,
        name: request.persona_name,
    };
    let (conn, outbox) = lobby.hub.enter(user);
    Some((
        Session {
            conn,
            rx: LobbyCipher::new(&key),
            tx: LobbyCipher::new(&key),
            log,
        },
        outbox,
    ))
}

enum Handled {
    Reply(Vec<Inner>),
    Close(&'static str),
}

fn handle(lobby: &Lobby, session: &mut Session, frame: NpsFrame) -> Handled {
    match frame.id {
        ids::ENCRYPTED => match Inner::open(&frame, &mut session.rx) {
            Ok(inner) => {
                record_inner(&session.log, true, &inner, &frame);
                route(lobby, session, inner)
            }
            // The chain is broken from here on: nothing later can decrypt.
            Err(error) => {
                // Kept as it came: a researcher may know the key.
                crate::server::record_frame(&session.log, true, &frame);
                warn!(%error, "undecryptable 0x1101");
                Handled::Close("bad ciphertext")
            }
        },
        ids::HEARTBEAT => {
            crate::server::record_frame(&session.log, true, &frame);
            Handled::Reply(Vec::new())
        }
        ids::LOGIN => {
            warn!("second 0x100 on one connection");
            Handled::Close("repeated login")
        }
        other => {
            crate::server::record_frame(&session.log, true, &frame);
            info!(
                id = format_args!("{other:#06x}"),
                "clear lobby message ignored"
            );
            Handled::Reply(Vec::new())
        }
    }
}

/// The lobby's routing table: inner command id → handler.
fn route(lobby: &Lobby, session: &Session, inner: Inner) -> Handled {
    let id = inner.id;
    let result = match id {
        ids::SEND_MINI_RIFF_LIST => channel_list(lobby),
        ids::GET_MINI_USER_LIST => user_list(lobby, &inner),
        ids::OPEN_COMM_CHANNEL => join_channel(lobby, session, &inner),
        ids::CLOSE_COMM_CHANNEL => leave_channel(lobby, session),
        ids::CHAT => chat(lobby, session, &inner),
        ids::HEARTBEAT => Ok(Vec::new()),
        ids::LOG_OFF_SERVER => return Handled::Close("log off"),
        other => {
            info!(
                id = format_args!("{other:#06x}"),
                len = inner.body.len(),
                "lobby command without a handler; ignored"
            );
            Ok(Vec::new())
        }
    };
    match result {
        Ok(out) => {
            debug!(
                id = format_args!("{id:#06x}"),
                replies = out.len(),
                "lobby command"
            );
            Handled::Reply(out)
        }
        Err(reason) => {
            warn!(
                id = format_args!("{id:#06x}"),
                reason, "lobby command refused"
            );
            Handled::Reply(Vec::new())
        }
    }
}

type Outcome = Result<Vec<Inner>, &'static str>;

fn channel_list(lobby: &Lobby) -> Outcome {
    let entries: Vec<ChannelEntry> = lobby
        .settings
        .channels
        .iter()
        .map(|c| ChannelEntry {
            id: c.id,
            name: c.name.clone(),
            population: u16::try_from(lobby.hub.population(c.id)).unwrap_or(u16::MAX),
        })
        .collect();
    Ok(vec![lobby::riff_list(&entries).map_err(|_| "encode")?])
}

fn user_list(lobby: &Lobby, inner: &Inner) -> Outcome {
    // The client asks with 0 before it joins anything: answer with an
    // empty list for any channel that is not offered.
    let channel = lobby::parse_u32(&inner.body, "channel").unwrap_or(0);
    let users = if lobby.channel(channel).is_some() {
        lobby.hub.users_in(channel)
    } else {
        Vec::new()
    };
    Ok(vec![
        lobby::mini_user_list(channel, &users).map_err(|_| "encode")?
    ])
}

fn join_channel(lobby: &Lobby, session: &Session, inner: &Inner) -> Outcome {
    let channel = lobby::parse_u32(&inner.body, "channel").map_err(|_| "malformed join")?;
    let granted = match lobby.channel(channel) {
        Some(c) => lobby.hub.join(session.conn, channel, c.capacity),
        None => false,
    };
    let persona = lobby
        .hub
        .lock()
        .by_conn
        .get(&session.conn)
        .map_or(0, |m| m.user.persona_id);
    Ok(vec![if granted {
        Inner::new(ids::CHANNEL_GRANTED, lobby::u32s(&[channel, persona]))
    } else {
        Inner::new(ids::CHANNEL_DENIED, lobby::u32s(&[channel]))
    }])
}

fn leave_channel(lobby: &Lobby, session: &Session) -> Outcome {
    let persona = lobby
        .hub
        .lock()
        .by_conn
        .get(&session.conn)
        .map_or(0, |m| m.user.persona_id);
    Ok(match lobby.hub.leave_channel(session.conn) {
        Some(channel) => vec![left(channel, persona)],
        None => Vec::new(),
    })
}

fn chat(lobby: &Lobby, session: &Session, inner: &Inner) -> Outcome {
    let text = lobby::parse_chat(&inner.body).map_err(|_| "malformed chat")?;
    if text.len() > CHAT_MAX {
        return Err("chat line too long");
    }
    match lobby.hub.chat(session.conn, text) {
        Some(line) => {
            info!(channel = line.channel, from = line.from.persona_id, "chat");
            Ok(Vec::new())
        }
        None => Err("chat outside any channel"),
    }
}

/// A command into the transcript: `plain` is the inner message (id,
/// length, body) as after DES, `raw` the frame on the wire.
fn record_inner(log: &ConnectionLog, inbound: bool, inner: &Inner, frame: &NpsFrame) {
    if !log.is_on() {
        return;
    }
    let mut plain = Vec::with_capacity(4 + inner.body.len());
    plain.extend_from_slice(&inner.id.to_be_bytes());
    let len = u16::try_from(4 + inner.body.len()).unwrap_or(u16::MAX);
    plain.extend_from_slice(&len.to_be_bytes());
    plain.extend_from_slice(&inner.body);
    let mut raw = bytes::BytesMut::new();
    let _ = tokio_util::codec::Encoder::encode(
        &mut NpsCodec::server(usize::from(u16::MAX)),
        frame.clone(),
        &mut raw,
    );
    if inbound {
        log.inbound(&plain, &raw);
    } else {
        log.outbound(&plain, &raw);
    }
}

/// Sends replies in the form [`LobbySettings::encrypted_replies`] asks
/// for; `false` when the connection is gone.
async fn send_all(
    lobby: &Lobby,
    session: &mut Session,
    framed: &mut LobbyFramed,
    out: Vec<Inner>,
) -> bool {
    for message in out {
        let frame = if lobby.settings.encrypted_replies.contains(&message.id) {
            message.seal(&mut session.tx)
        } else {
            message.to_clear_frame().map_err(SealError::from)
        };
        let frame = match frame {
            Ok(frame) => frame,
            Err(error) => {
                error!(%error, id = format_args!("{:#06x}", message.id), "cannot encode lobby reply");
                continue;
            }
        };
        record_inner(&session.log, false, &message, &frame);
        match tokio::time::timeout(lobby.settings.idle_timeout, framed.send(frame)).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                if error.is_disconnect() {
                    debug!(%error, "client gone; closing");
                } else {
                    warn!(%error, "send failed; closing");
                }
                return false;
            }
            Err(_) => {
                warn!("send timed out; closing");
                return false;
            }
        }
    }
    true
}
