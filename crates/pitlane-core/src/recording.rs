//! The hook through which `pitlane serve --record DIR` sees every message
//! of every connection, after the protocol layer has decoded (and, for the
//! lobby and MCOTS, decrypted) it.
//!
//! It lives here because both game crates depend on this crate and nothing
//! heavier; the transcript writer itself is in `pitlane-record`. When
//! nothing records, [`Recorder`] and [`ConnectionLog`] hold `None` and
//! every call is a branch on it, so a server that does not record behaves
//! and performs as before.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

/// Which listener a connection arrived on: decides how its bytes are
/// decoded in the transcript and how the replayer talks to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    /// HTTP, both games.
    Http,
    /// HTTPS, both games (requests after TLS).
    Https,
    /// Motor City Online NPS login server (8226).
    McoLogin,
    /// Motor City Online NPS persona server (8228).
    McoPersona,
    /// Motor City Online lobby (7003), commands after DES.
    McoLobby,
    /// Motor City Online MCOTS (43300), payloads after RC4.
    McoMcots,
}

impl Channel {
    pub const ALL: [Channel; 6] = [
        Channel::Http,
        Channel::Https,
        Channel::McoLogin,
        Channel::McoPersona,
        Channel::McoLobby,
        Channel::McoMcots,
    ];

    /// The name in transcripts and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Channel::Http => "http",
            Channel::Https => "https",
            Channel::McoLogin => "mco-login",
            Channel::McoPersona => "mco-persona",
            Channel::McoLobby => "mco-lobby",
            Channel::McoMcots => "mco-mcots",
        }
    }

    pub fn from_name(name: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.name() == name)
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Opens one transcript per connection.
pub trait SessionRecorder: Send + Sync {
    fn open(
        &self,
        channel: Channel,
        local: SocketAddr,
        peer: SocketAddr,
    ) -> Arc<dyn ConnectionRecorder>;
}

/// One connection's transcript.
///
/// `plain` is the message as the protocol layer understood it (an HTTP
/// request or response in full, an NPS frame, a lobby command after DES,
/// an MCOTS payload after RC4); `raw` is what crossed the wire, empty when
/// it is the same as `plain`.
pub trait ConnectionRecorder: Send + Sync {
    /// Client to server.
    fn inbound(&self, plain: &[u8], raw: &[u8]);
    /// Server to client.
    fn outbound(&self, plain: &[u8], raw: &[u8]);
    /// A secret the connection learned that its messages do not show in a
    /// form the decoder can find (the session key), or one that it must
    /// redact wherever it appears later.
    fn secret(&self, kind: &'static str, value: &[u8]);
}

/// The server-wide switch: off by default.
#[derive(Clone, Default)]
pub struct Recorder(Option<Arc<dyn SessionRecorder>>);

impl Recorder {
    pub fn off() -> Recorder {
        Recorder(None)
    }

    pub fn new(recorder: Arc<dyn SessionRecorder>) -> Recorder {
        Recorder(Some(recorder))
    }

    pub fn is_on(&self) -> bool {
        self.0.is_some()
    }

    /// The log of a new connection (a no-op one when not recording).
    pub fn connection(
        &self,
        channel: Channel,
        local: SocketAddr,
        peer: SocketAddr,
    ) -> ConnectionLog {
        ConnectionLog(self.0.as_ref().map(|r| r.open(channel, local, peer)))
    }

    /// Like [`Recorder::connection`] for a socket, when its local address
    /// is known.
    pub fn connection_on(
        &self,
        channel: Channel,
        local: Option<SocketAddr>,
        peer: SocketAddr,
    ) -> ConnectionLog {
        match (&self.0, local) {
            (Some(_), Some(local)) => self.connection(channel, local, peer),
            (Some(_), None) => self.connection(channel, SocketAddr::from(([0, 0, 0, 0], 0)), peer),
            (None, _) => ConnectionLog::default(),
        }
    }
}

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_on() {
            "Recorder(on)"
        } else {
            "Recorder(off)"
        })
    }
}

/// Two settings are equal when both record nowhere or into the same place.
impl PartialEq for Recorder {
    fn eq(&self, other: &Recorder) -> bool {
        match (&self.0, &other.0) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for Recorder {}

/// One connection's handle; every call is a no-op when not recording.
#[derive(Clone, Default)]
pub struct ConnectionLog(Option<Arc<dyn ConnectionRecorder>>);

impl ConnectionLog {
    /// Whether anything is recorded: callers that must build `raw` bytes
    /// first ask this.
    pub fn is_on(&self) -> bool {
        self.0.is_some()
    }

    pub fn inbound(&self, plain: &[u8], raw: &[u8]) {
        if let Some(r) = &self.0 {
            r.inbound(plain, raw);
        }
    }

    pub fn outbound(&self, plain: &[u8], raw: &[u8]) {
        if let Some(r) = &self.0 {
            r.outbound(plain, raw);
        }
    }

    pub fn secret(&self, kind: &'static str, value: &[u8]) {
        if let Some(r) = &self.0 {
            r.secret(kind, value);
        }
    }
}

impl fmt::Debug for ConnectionLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_on() {
            "ConnectionLog(on)"
        } else {
            "ConnectionLog(off)"
        })
    }
}
