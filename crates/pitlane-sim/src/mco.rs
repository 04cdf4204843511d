//! A simulated Motor City Online client: the steps of the real login path
//! (spec §9), each on a fresh connection as the game does it, with the
//! bytes the game sends.
//!
//! - [`auth_login`]: `GET /AuthLogin?username=…&password=…&serviceID=2176&version=2.0`
//!   for the ticket; plain HTTP, or through any [`TlsConnect`] (the real
//!   client uses HTTPS; Pitlane's TLS stack plugs in there).
//! - [`login`] (TCP 8226): 0x501 with the ticket and a fresh session key
//!   RSA-encrypted to the server's `pub.key`; 0x601 names the customer.
//! - [`list_personas`], [`create_persona`], [`select_persona`],
//!   [`delete_persona`] (TCP 8228): 0x532, 0x507, 0x503 and 0x512.
//!
//! Every step gives up after [`STEP_TIMEOUT`], and every refusal comes
//! back as a [`McoSimError`] naming the step, so a test or `doctor` can
//! say which hop of the path broke.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use motorcity::crypto::{CryptoError, PublicLoginKey};
use motorcity::http::{AuthAnswerError, AuthLoginRequest, AuthLoginResponse};
use motorcity::wire::login::{UserLogin, UserValid, MCO_SERVICE_ID, USER_LOGIN_TRAILER};
use motorcity::wire::persona::{
    DeleteGamePersona, GetPersonaMaps, NewGameAccount, PersonaMaps, PersonaSelection,
    RegisterGameLogin, GAME_NAME,
};
use motorcity::wire::{
    ids, read_frame, write_frame, Direction, EncodeError, FrameError, NpsFrame, NpsMessage,
    ParseError, DEFAULT_MAX_FRAME_LEN,
};
use motorcity::{CustomerId, Persona, PersonaId, SessionKey, ShardId};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::http::{send, ClientError, HttpResponse};

/// How long one step (connect, request, answer) may take. The servers
/// answer from one database query or two, so seconds mean something is
/// wrong, not slow.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// What AuthLogin answered: a ticket, or the refusal lines.
pub type AuthOutcome = AuthLoginResponse;

/// Any stream AuthLogin can run over: a `TcpStream`, or a TLS stream
/// wrapped around one.
pub trait AsyncStream: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send + ?Sized> AsyncStream for T {}

/// A boxed [`AsyncStream`], what a [`TlsConnect`] hands back.
pub type BoxedStream = Box<dyn AsyncStream>;

/// The future a [`TlsConnect`] returns.
pub type ConnectFuture<'a> = Pin<Box<dyn Future<Output = io::Result<BoxedStream>> + Send + 'a>>;

/// Turns a connected TCP stream into a TLS client stream.
///
/// The simulator stays free of any TLS library: whoever has one (the
/// `pitlane-tls` crate, a test) implements this, and [`auth_login`] runs
/// the same HTTP exchange over whatever comes back.
pub trait TlsConnect: Send + Sync {
    /// Performs the handshake for `server_name` over `tcp`.
    fn connect<'a>(&'a self, server_name: &'a str, tcp: TcpStream) -> ConnectFuture<'a>;
}

/// How [`auth_login`] reaches AuthLogin.
#[derive(Clone)]
pub enum TlsMode {
    /// Plain HTTP: tests, and servers behind a TLS-terminating proxy.
    Plain,
    /// HTTPS as the game does it.
    Tls {
        /// The name in the client's `AuthLoginServer` registry value;
        /// sent as the TLS server name and the `Host` header.
        server_name: String,
        /// The TLS implementation.
        connector: Arc<dyn TlsConnect>,
    },
}

impl std::fmt::Debug for TlsMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TlsMode::Plain => f.write_str("Plain"),
            TlsMode::Tls { server_name, .. } => f
                .debug_struct("Tls")
                .field("server_name", server_name)
                .finish_non_exhaustive(),
        }
    }
}

/// Why a step of the simulated login failed.
#[derive(Debug, thiserror::Error)]
pub enum McoSimError {
    /// No TCP connection.
    #[error("{step}: cannot connect to {addr}: {source}")]
    Connect {
        step: &'static str,
        addr: SocketAddr,
        source: io::Error,
    },
    /// The step did not finish in time.
    #[error("{step}: no answer within {after:?}")]
    Timeout { step: &'static str, after: Duration },
    /// The HTTP exchange failed.
    #[error("AuthLogin: {0}")]
    Http(#[from] ClientError),
    /// The TLS handshake failed.
    #[error("AuthLogin: TLS handshake with {server_name} failed: {source}")]
    Tls {
        server_name: String,
        source: io::Error,
    },
    /// AuthLogin answered with a status other than 200 (the client
    /// expects 200 even for refusals).
    #[error("AuthLogin answered HTTP {status}: {body}")]
    Status { status: u16, body: String },
    /// The AuthLogin text is neither a ticket nor a refusal.
    #[error("AuthLogin answer is not what the game expects: {0}")]
    AuthAnswer(#[from] AuthAnswerError),
    /// Sending or reading an NPS message failed.
    #[error("{step}: {source}")]
    Frame {
        step: &'static str,
        source: FrameError,
    },
    /// The server closed without answering, the persona server's way of
    /// refusing (no session, not your persona, malformed request).
    #[error("{step}: the server closed the connection without answering")]
    Closed { step: &'static str },
    /// The server answered with its refusal message for this step (0x602
    /// for a login).
    #[error("{step}: refused with message {id:#06x}")]
    Refused { step: &'static str, id: u16 },
    /// The server answered with a message this step does not expect, or
    /// one that does not parse.
    #[error("{step}: unexpected answer {id:#06x}: {reason}")]
    Unexpected {
        step: &'static str,
        id: u16,
        reason: String,
    },
    /// The session key could not be encrypted to the given `pub.key`.
    #[error("login (0x501): cannot encrypt the session key: {0}")]
    Crypto(#[from] CryptoError),
    /// A request could not be encoded (a name or ticket too long).
    #[error("{step}: cannot build the request: {source}")]
    Encode {
        step: &'static str,
        source: EncodeError,
    },
}

type Result<T, E = McoSimError> = std::result::Result<T, E>;

const AUTH_STEP: &str = "AuthLogin";
const LOGIN_STEP: &str = "login (0x501)";
const LIST_STEP: &str = "persona list (0x532)";
const CREATE_STEP: &str = "persona create (0x507)";
const SELECT_STEP: &str = "persona select (0x503)";
const DELETE_STEP: &str = "persona delete (0x512)";

/// Asks AuthLogin at `addr` for a ticket.
///
/// A refusal (wrong password, banned, throttled) is an `Ok`: it is an
/// answer the game shows, not a broken server.
pub async fn auth_login(
    addr: SocketAddr,
    tls: TlsMode,
    username: &str,
    password: &str,
) -> Result<AuthOutcome> {
    match tls {
        TlsMode::Plain => {
            let request = auth_request(&addr.to_string(), username, password)?;
            let response = send(addr, request, STEP_TIMEOUT).await?;
            read_auth_answer(&response)
        }
        TlsMode::Tls {
            server_name,
            connector,
        } => {
            let handshake = async {
                let tcp =
                    TcpStream::connect(addr)
                        .await
                        .map_err(|source| McoSimError::Connect {
                            step: AUTH_STEP,
                            addr,
                            source,
                        })?;
                let _ = tcp.set_nodelay(true);
                connector
                    .connect(&server_name, tcp)
                    .await
                    .map_err(|source| McoSimError::Tls {
                        server_name: server_name.clone(),
                        source,
                    })
            };
            let stream = within(AUTH_STEP, handshake).await?;
            auth_login_on(stream, &server_name, username, password).await
        }
    }
}

/// AuthLogin over an already connected stream (TCP, or TLS over TCP):
/// one `GET` with `Host: host`, the whole answer read, the connection
/// closed.
pub async fn auth_login_on<S>(
    stream: S,
    host: &str,
    username: &str,
    password: &str,
) -> Result<AuthOutcome>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let request = auth_request(host, username, password)?;
    let exchange = async {
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(ClientError::Http)?;
        let driver = tokio::spawn(async move {
            let _ = connection.await;
        });
        let response = sender
            .send_request(request)
            .await
            .map_err(ClientError::Http)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(ClientError::Http)?
            .to_bytes();
        driver.abort();
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    };
    let response = within(AUTH_STEP, exchange).await?;
    read_auth_answer(&response)
}

fn auth_request(host: &str, username: &str, password: &str) -> Result<Request<Full<Bytes>>> {
    let path = AuthLoginRequest::with_client_fields(username, password).path_and_query();
    Request::builder()
        .method(Method::GET)
        .uri(path)
        .header(http::header::HOST, host)
        .body(Full::new(Bytes::new()))
        .map_err(|e| McoSimError::Http(ClientError::Request(e)))
}

fn read_auth_answer(response: &HttpResponse) -> Result<AuthOutcome> {
    if response.status != StatusCode::OK {
        return Err(McoSimError::Status {
            status: response.status.as_u16(),
            body: response.text(),
        });
    }
    Ok(AuthLoginResponse::parse(&response.text())?)
}

/// Logs in on the login server at `addr` with an AuthLogin ticket and a
/// fresh session key, as the game does on every login; returns the
/// customer id the server announced in 0x601.
pub async fn login(addr: SocketAddr, pub_key: &PublicLoginKey, ticket: &str) -> Result<CustomerId> {
    login_with_key(addr, pub_key, ticket, &SessionKey::generate()).await
}

/// [`login`] with a chosen session key, for callers that go on to the
/// lobby or MCOTS and need the key those connections are encrypted with.
///
/// The 0x501 has the layout of every captured one: ticket, reserved 0,
/// the RSA-OAEP ciphertext as 256 upper-case hex characters, service id
/// `2176` and the constant 4-byte trailer.
pub async fn login_with_key(
    addr: SocketAddr,
    pub_key: &PublicLoginKey,
    ticket: &str,
    session_key: &SessionKey,
) -> Result<CustomerId> {
    let request = user_login(pub_key, ticket, session_key)?;
    let reply = ask(addr, LOGIN_STEP, request.to_frame()).await?;
    match reply.id {
        ids::USER_VALID => {
            let valid = parse::<UserValid>(LOGIN_STEP, &reply)?;
            Ok(CustomerId(valid.customer_id))
        }
        ids::USER_INVALID => Err(McoSimError::Refused {
            step: LOGIN_STEP,
            id: reply.id,
        }),
        other => Err(unexpected(LOGIN_STEP, other)),
    }
}

fn user_login(
    pub_key: &PublicLoginKey,
    ticket: &str,
    session_key: &SessionKey,
) -> Result<UserLogin> {
    Ok(UserLogin {
        ticket: ticket.to_string(),
        reserved: 0,
        encrypted_session_key: pub_key.encrypt_session_key(session_key)?,
        service_id: MCO_SERVICE_ID.to_string(),
        trailer: Some(USER_LOGIN_TRAILER),
    })
}

/// The customer's personas, as the persona screen lists them.
pub async fn list_personas(addr: SocketAddr, customer: CustomerId) -> Result<Vec<Persona>> {
    let request = GetPersonaMaps {
        customer_id: customer.0,
    };
    let reply = ask(addr, LIST_STEP, request.to_frame()).await?;
    if reply.id != ids::PERSONA_MAPS {
        return Err(unexpected(LIST_STEP, reply.id));
    }
    let maps = parse::<PersonaMaps>(LIST_STEP, &reply)?;
    Ok(maps
        .entries
        .into_iter()
        .map(|entry| Persona {
            id: PersonaId(entry.persona_id),
            shard: ShardId(entry.shard_id),
            name: entry.name,
        })
        .collect())
}

/// What the persona server said to a creation request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonaCreation {
    /// 0x601: created; list the personas to learn its id.
    Created,
    /// 0x20a: the name is taken or not allowed.
    NameRefused,
    /// 0x640: the account already has `MaxPersonasPerUser` personas.
    LimitReached,
}

/// Creates a persona on `shard` (0x507, a layout no capture confirms; see
/// `docs/mco-protocol.md`).
pub async fn create_persona(
    addr: SocketAddr,
    customer: CustomerId,
    shard: ShardId,
    name: &str,
) -> Result<PersonaCreation> {
    let request = NewGameAccount {
        customer_id: customer.0,
        name: name.to_string(),
        game: GAME_NAME.to_string(),
        shard_id: shard.0,
    };
    let reply = ask(addr, CREATE_STEP, request.to_frame()).await?;
    match reply.id {
        ids::USER_VALID => Ok(PersonaCreation::Created),
        ids::DUP_USER => Ok(PersonaCreation::NameRefused),
        ids::SHARD_PERSONA_LIMIT_REACHED => Ok(PersonaCreation::LimitReached),
        other => Err(unexpected(CREATE_STEP, other)),
    }
}

/// Picks the persona to play (0x503 → 0x207). The server refuses a
/// persona that is not the customer's by closing, which comes back as
/// [`McoSimError::Closed`].
pub async fn select_persona(
    addr: SocketAddr,
    customer: CustomerId,
    persona: PersonaId,
    shard: ShardId,
) -> Result<()> {
    let request = RegisterGameLogin(PersonaSelection {
        customer_id: customer.0,
        persona_id: persona.0,
        shard_id: shard.0,
    });
    let reply = ask(addr, SELECT_STEP, request.to_frame()).await?;
    match reply.id {
        ids::ACK => Ok(()),
        other => Err(unexpected(SELECT_STEP, other)),
    }
}

/// Deletes a persona (0x512, a layout no capture confirms); `false` when
/// the server denied it (0x624: not this customer's persona).
pub async fn delete_persona(
    addr: SocketAddr,
    customer: CustomerId,
    persona: PersonaId,
) -> Result<bool> {
    let request = DeleteGamePersona {
        customer_id: customer.0,
        persona_id: persona.0,
    };
    let reply = ask(addr, DELETE_STEP, request.to_frame()).await?;
    match reply.id {
        ids::USER_DELETED => Ok(true),
        ids::PERSONA_DELETION_DENY => Ok(false),
        other => Err(unexpected(DELETE_STEP, other)),
    }
}

/// One request on a fresh connection, as the game does each NPS step,
/// within [`STEP_TIMEOUT`].
async fn ask(
    addr: SocketAddr,
    step: &'static str,
    request: Result<NpsFrame, EncodeError>,
) -> Result<NpsFrame> {
    let request = request.map_err(|source| McoSimError::Encode { step, source })?;
    ask_within(addr, step, request, STEP_TIMEOUT).await
}

async fn ask_within(
    addr: SocketAddr,
    step: &'static str,
    request: NpsFrame,
    timeout: Duration,
) -> Result<NpsFrame> {
    let exchange = async {
        let mut stream = TcpStream::connect(addr)
            .await
            .map_err(|source| McoSimError::Connect { step, addr, source })?;
        let _ = stream.set_nodelay(true);
        let frame_error = |source| McoSimError::Frame { step, source };
        write_frame(&mut stream, request, DEFAULT_MAX_FRAME_LEN)
            .await
            .map_err(frame_error)?;
        match read_frame(
            &mut stream,
            Direction::ServerToClient,
            DEFAULT_MAX_FRAME_LEN,
        )
        .await
        {
            Ok(Some(reply)) => Ok(reply),
            Ok(None) => Err(McoSimError::Closed { step }),
            // A reset instead of an orderly close is still a close.
            Err(FrameError::Io(e)) if e.kind() == io::ErrorKind::ConnectionReset => {
                Err(McoSimError::Closed { step })
            }
            Err(source) => Err(McoSimError::Frame { step, source }),
        }
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| McoSimError::Timeout {
            step,
            after: timeout,
        })?
}

async fn within<T>(step: &'static str, work: impl Future<Output = Result<T>>) -> Result<T> {
    tokio::time::timeout(STEP_TIMEOUT, work)
        .await
        .map_err(|_| McoSimError::Timeout {
            step,
            after: STEP_TIMEOUT,
        })?
}

fn parse<M: NpsMessage>(step: &'static str, frame: &NpsFrame) -> Result<M> {
    M::from_frame(frame).map_err(|error: ParseError| McoSimError::Unexpected {
        step,
        id: frame.id,
        reason: error.to_string(),
    })
}

fn unexpected(step: &'static str, id: u16) -> McoSimError {
    McoSimError::Unexpected {
        step,
        id,
        reason: "not an answer to this request".to_string(),
    }
}

/// A simulated lobby connection (TCP 7003): 0x100 login, then commands in
/// 0x1101 with the client's DES chain. Replies come in clear (the server's
/// default) or, for ids the operator switched over, inside 0x1101 with the
/// server's chain; [`recv`](LobbyClient::recv) opens those and counts them.
pub struct LobbyClient {
    stream: TcpStream,
    tx: motorcity::crypto::LobbyCipher,
    rx: motorcity::crypto::LobbyCipher,
    /// Replies that arrived encrypted so far.
    pub encrypted_replies: usize,
}

const LOBBY_STEP: &str = "lobby (7003)";
const MCOTS_STEP: &str = "MCOTS (43300)";

impl LobbyClient {
    /// Connects and logs in as `persona` of `customer`.
    pub async fn login(
        addr: SocketAddr,
        key: &SessionKey,
        customer: CustomerId,
        persona: PersonaId,
        name: &str,
    ) -> Result<LobbyClient> {
        let step = LOBBY_STEP;
        let mut stream = TcpStream::connect(addr)
            .await
            .map_err(|source| McoSimError::Connect { step, addr, source })?;
        let _ = stream.set_nodelay(true);
        let login = motorcity::wire::lobby::LobbyLogin {
            persona_id: persona.0,
            persona_name: name.to_string(),
            user_data: [0; 64],
            customer_id: customer.0,
            flags: 0,
            dll_version: "4.5.0.0".into(),
            host_name: "mco".into(),
            local_ip: "127.0.0.1".into(),
            hash: [0; 16],
        };
        let frame = login
            .to_frame()
            .map_err(|source| McoSimError::Encode { step, source })?;
        write_frame(&mut stream, frame, DEFAULT_MAX_FRAME_LEN)
            .await
            .map_err(|source| McoSimError::Frame { step, source })?;
        let mut client = LobbyClient {
            stream,
            tx: motorcity::crypto::LobbyCipher::new(key),
            rx: motorcity::crypto::LobbyCipher::new(key),
            encrypted_replies: 0,
        };
        let reply = client.recv().await?;
        if reply.id != motorcity::wire::lobby::ids::LOGIN_RESP {
            return Err(unexpected(step, reply.id));
        }
        Ok(client)
    }

    /// Sends one inner command through the DES chain.
    pub async fn send(&mut self, inner: motorcity::wire::lobby::Inner) -> Result<()> {
        let step = LOBBY_STEP;
        let frame = inner
            .seal(&mut self.tx)
            .map_err(|e| McoSimError::Unexpected {
                step,
                id: inner.id,
                reason: e.to_string(),
            })?;
        write_frame(&mut self.stream, frame, DEFAULT_MAX_FRAME_LEN)
            .await
            .map_err(|source| McoSimError::Frame { step, source })
    }

    /// The next message from the server, opened if it came in 0x1101 (the
    /// frame then carries the inner id and body).
    pub async fn recv(&mut self) -> Result<NpsFrame> {
        use motorcity::wire::lobby::{ids, Inner};
        let frame = self.recv_raw().await?;
        if frame.id != ids::ENCRYPTED {
            return Ok(frame);
        }
        let inner = Inner::open(&frame, &mut self.rx).map_err(|e| McoSimError::Unexpected {
            step: LOBBY_STEP,
            id: frame.id,
            reason: e.to_string(),
        })?;
        self.encrypted_replies += 1;
        Ok(NpsFrame {
            id: inner.id,
            long: None,
            body: inner.body,
        })
    }

    async fn recv_raw(&mut self) -> Result<NpsFrame> {
        let step = LOBBY_STEP;
        within(step, async {
            match read_frame(
                &mut self.stream,
                Direction::ServerToClient,
                DEFAULT_MAX_FRAME_LEN,
            )
            .await
            {
                Ok(Some(frame)) => Ok(frame),
                Ok(None) => Err(McoSimError::Closed { step }),
                Err(source) => Err(McoSimError::Frame { step, source }),
            }
        })
        .await
    }

    /// The channel list (0x030c → 0x404), as the client asks first.
    pub async fn channels(&mut self) -> Result<Vec<motorcity::wire::lobby::ChannelEntry>> {
        use motorcity::wire::lobby::{self, ids, Inner};
        self.send(Inner::new(ids::SEND_MINI_RIFF_LIST, Vec::new()))
            .await?;
        let reply = self.recv().await?;
        if reply.id != ids::RIFF_LIST {
            return Err(unexpected(LOBBY_STEP, reply.id));
        }
        lobby::parse_riff_list(&reply.body).map_err(|e| McoSimError::Unexpected {
            step: LOBBY_STEP,
            id: reply.id,
            reason: e.to_string(),
        })
    }

    /// Joins a channel; `true` when granted.
    pub async fn join(&mut self, channel: u32) -> Result<bool> {
        use motorcity::wire::lobby::{self, ids, Inner};
        self.send(Inner::new(ids::OPEN_COMM_CHANNEL, lobby::u32s(&[channel])))
            .await?;
        loop {
            let reply = self.recv().await?;
            match reply.id {
                ids::CHANNEL_GRANTED => return Ok(true),
                ids::CHANNEL_DENIED => return Ok(false),
                // Others arriving meanwhile.
                _ => continue,
            }
        }
    }

    /// Says something in the current channel.
    pub async fn chat(&mut self, text: &str) -> Result<()> {
        let inner = motorcity::wire::lobby::chat(text).map_err(|source| McoSimError::Encode {
            step: LOBBY_STEP,
            source,
        })?;
        self.send(inner).await
    }

    /// Waits for the next chat line, skipping other messages.
    pub async fn next_chat(&mut self) -> Result<motorcity::wire::lobby::ChatLine> {
        use motorcity::wire::lobby::{self, ids};
        loop {
            let frame = self.recv().await?;
            if frame.id == ids::CHAT_RELAY {
                return lobby::parse_chat_relay(&frame.body).map_err(|e| McoSimError::Unexpected {
                    step: LOBBY_STEP,
                    id: frame.id,
                    reason: e.to_string(),
                });
            }
        }
    }
}

/// A simulated MCOTS connection (TCP 43300): clear connect, then RC4 both
/// ways, odd sequence numbers rising by 2 as the client counts.
pub struct McotsClient {
    stream: TcpStream,
    tx: motorcity::crypto::McotsCipher,
    rx: motorcity::crypto::McotsCipher,
    sequence: u32,
}

impl McotsClient {
    /// Connects and sends MC_CLIENT_CONNECT; `Refused` when the server
    /// answers MC_FAILED (no session key).
    pub async fn connect(
        addr: SocketAddr,
        key: &SessionKey,
        customer: CustomerId,
        persona: PersonaId,
        name: &str,
    ) -> Result<McotsClient> {
        use motorcity::mcots::frame::{read_tomc, write_tomc, TomcFrame};
        use motorcity::mcots::messages::{no, ClientConnect, GenericReply};
        let step = MCOTS_STEP;
        let mut stream = TcpStream::connect(addr)
            .await
            .map_err(|source| McoSimError::Connect { step, addr, source })?;
        let _ = stream.set_nodelay(true);
        let hello = ClientConnect {
            customer_id: customer.0,
            persona_id: persona.0,
            customer_name: String::new(),
            persona_name: name.to_string(),
            mc_version: 6001,
        };
        let io = |e: motorcity::mcots::frame::TomcError| McoSimError::Unexpected {
            step,
            id: 0,
            reason: e.to_string(),
        };
        write_tomc(
            &mut stream,
            TomcFrame {
                sequence: 1,
                flags: 0,
                payload: hello.to_bytes(),
            },
        )
        .await
        .map_err(io)?;
        let reply = within(step, async {
            read_tomc(&mut stream, 1 << 16).await.map_err(io)
        })
        .await?
        .ok_or(McoSimError::Closed { step })?;
        let generic = GenericReply::parse(&reply.payload).map_err(|e| McoSimError::Unexpected {
            step,
            id: 0,
            reason: e.to_string(),
        })?;
        if generic.msg_no != no::MC_SUCCESS {
            return Err(McoSimError::Refused {
                step,
                id: generic.msg_no,
            });
        }
        Ok(McotsClient {
            stream,
            tx: motorcity::crypto::McotsCipher::new(key),
            rx: motorcity::crypto::McotsCipher::new(key),
            sequence: 1,
        })
    }

    /// Sends one encrypted payload and reads `replies` answers.
    pub async fn ask(&mut self, payload: Bytes, replies: usize) -> Result<Vec<Vec<u8>>> {
        use motorcity::mcots::frame::{read_tomc, write_tomc, TomcFrame, FLAG_ENCRYPTED};
        let step = MCOTS_STEP;
        let io = |e: motorcity::mcots::frame::TomcError| McoSimError::Unexpected {
            step,
            id: 0,
            reason: e.to_string(),
        };
        self.sequence += 2;
        let mut data = payload.to_vec();
        self.tx.apply(&mut data);
        write_tomc(
            &mut self.stream,
            TomcFrame {
                sequence: self.sequence,
                flags: FLAG_ENCRYPTED,
                payload: data.into(),
            },
        )
        .await
        .map_err(io)?;
        let mut out = Vec::new();
        for _ in 0..replies {
            let frame = within(step, async {
                read_tomc(&mut self.stream, 1 << 16).await.map_err(io)
            })
            .await?
            .ok_or(McoSimError::Closed { step })?;
            let mut data = frame.payload.to_vec();
            if frame.encrypted() {
                self.rx.apply(&mut data);
            }
            out.push(data);
        }
        Ok(out)
    }

    /// A GenericRequest and its single reply.
    pub async fn generic(&mut self, msg_no: u16, data: u32) -> Result<Vec<u8>> {
        let request = motorcity::mcots::messages::GenericRequest {
            msg_no,
            data,
            data2: 0,
        };
        let mut replies = self.ask(request.to_bytes(), 1).await?;
        Ok(replies.pop().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use hyper::body::Incoming;
    use hyper::Response;
    use motorcity::http::{AuthFailure, AUTH_LOGIN_PATH, CONTENT_TYPE};
    use motorcity::{
        serve_login, serve_persona, DirectorySettings, LoginKey, McoDirectory, ServerSettings,
        StoreDirectory,
    };
    use pitlane_core::SystemClock;
    use pitlane_store::testing::databases;
    use pitlane_store::Store;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;
    use tokio::sync::watch;

    use super::*;

    /// The login and persona servers and a plain-HTTP AuthLogin on
    /// loopback, all on one directory.
    struct Server {
        auth: SocketAddr,
        login: SocketAddr,
        persona: SocketAddr,
        pub_key: PublicLoginKey,
        dir: Arc<StoreDirectory>,
        stop: watch::Sender<bool>,
    }

    impl Server {
        async fn start(url: &str) -> Server {
            let store = Store::open(url).await.unwrap();
            let dir = Arc::new(StoreDirectory::new(
                store,
                Arc::new(SystemClock),
                DirectorySettings::default(),
            ));
            let key = LoginKey::generate().unwrap();
            // What a player installs, read back the way the client reads it.
            let pub_key =
                PublicLoginKey::from_pub_key_file(&key.public_key().to_pub_key_file().unwrap())
                    .unwrap();
            let (stop, shutdown) = watch::channel(false);
            let login = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let persona = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let server = Server {
                auth: auth_server(dir.clone()).await,
                login: login.local_addr().unwrap(),
                persona: persona.local_addr().unwrap(),
                pub_key,
                dir: dir.clone(),
                stop,
            };
            let directory: Arc<dyn McoDirectory> = dir;
            tokio::spawn(serve_login(
                login,
                directory.clone(),
                Arc::new(key),
                ServerSettings::default(),
                shutdown.clone(),
            ));
            tokio::spawn(serve_persona(
                persona,
                directory,
                ServerSettings::default(),
                shutdown,
            ));
            server
        }

        async fn stop(self) {
            let _ = self.stop.send(true);
            self.dir.store().close().await;
        }
    }

    /// AuthLogin as the binary will serve it, minus TLS: the query parsed
    /// by the crate, the answer from `StoreDirectory::auth_login`.
    async fn auth_server(dir: Arc<StoreDirectory>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((stream, peer)) = listener.accept().await {
                let dir = dir.clone();
                let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                    let dir = dir.clone();
                    async move {
                        let query = request.uri().query().unwrap_or("");
                        let parsed = AuthLoginRequest::from_query(query);
                        let answer = match parsed {
                            Ok(auth) if request.uri().path() == AUTH_LOGIN_PATH => {
                                dir.auth_login(&auth.username, &auth.password, peer.ip())
                                    .await
                            }
                            _ => AuthLoginResponse::Invalid(AuthFailure::new(
                                "INV-100",
                                "bad request",
                                "",
                            )),
                        };
                        let response = Response::builder()
                            .header(http::header::CONTENT_TYPE, CONTENT_TYPE)
                            .body(Full::new(Bytes::from(answer.body())));
                        Ok::<_, Infallible>(response.unwrap())
                    }
                });
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        addr
    }

    fn ticket_of(outcome: AuthOutcome) -> String {
        match outcome {
            AuthLoginResponse::Valid { ticket } => ticket,
            other => panic!("expected a ticket, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_new_player_logs_in_creates_and_picks_a_persona() {
        for db in databases().await {
            let server = Server::start(&db.url).await;
            let account = server
                .dir
                .create_account("racer", "pa55 w+rd&x")
                .await
                .unwrap();
            let expected = CustomerId(u32::try_from(account.customer_id).unwrap());

            let outcome = auth_login(server.auth, TlsMode::Plain, "racer", "pa55 w+rd&x")
                .await
                .unwrap();
            let ticket = ticket_of(outcome);
            let customer = login(server.login, &server.pub_key, &ticket).await.unwrap();
            assert_eq!(customer, expected, "{}", db.label);

            assert_eq!(list_personas(server.persona, customer).await.unwrap(), []);
            let created = create_persona(server.persona, customer, ShardId(44), "Speedy")
                .await
                .unwrap();
            assert_eq!(created, PersonaCreation::Created, "{}", db.label);
            let personas = list_personas(server.persona, customer).await.unwrap();
            assert_eq!(personas.len(), 1);
            assert_eq!(
                (personas[0].shard, personas[0].name.as_str()),
                (ShardId(44), "Speedy")
            );
            select_persona(server.persona, customer, personas[0].id, ShardId(44))
                .await
                .unwrap();
            let (owner, _key) = server
                .dir
                .session_for_persona(personas[0].id)
                .await
                .unwrap()
                .expect("the lobby can find the session");
            assert_eq!(owner, customer);

            // The other persona-screen answers, through the simulator.
            let again = create_persona(server.persona, customer, ShardId(44), "SPEEDY").await;
            assert_eq!(again.unwrap(), PersonaCreation::NameRefused);
            let second = create_persona(server.persona, customer, ShardId(44), "Slowy").await;
            assert_eq!(second.unwrap(), PersonaCreation::Created);
            let third = create_persona(server.persona, customer, ShardId(44), "Third").await;
            assert_eq!(third.unwrap(), PersonaCreation::LimitReached);
            let deleted = delete_persona(server.persona, customer, personas[0].id).await;
            assert!(deleted.unwrap());
            let deleted = delete_persona(server.persona, customer, personas[0].id).await;
            assert!(!deleted.unwrap());
            let refused =
                select_persona(server.persona, customer, personas[0].id, ShardId(44)).await;
            assert!(
                matches!(refused, Err(McoSimError::Closed { .. })),
                "{refused:?}"
            );
            server.stop().await;
        }
    }

    #[tokio::test]
    async fn wrong_passwords_and_reused_tickets_are_refused() {
        for db in databases().await {
            let server = Server::start(&db.url).await;
            server.dir.create_account("racer", "right").await.unwrap();

            let wrong = auth_login(server.auth, TlsMode::Plain, "racer", "wrong")
                .await
                .unwrap();
            match wrong {
                AuthLoginResponse::Invalid(failure) => {
                    assert_eq!(failure.code, "INV-100", "{}", db.label)
                }
                other => panic!("a wrong password got {other:?}"),
            }
            let unknown = auth_login(server.auth, TlsMode::Plain, "nobody", "right").await;
            assert!(matches!(unknown, Ok(AuthLoginResponse::Invalid(_))));

            let ticket = ticket_of(
                auth_login(server.auth, TlsMode::Plain, "racer", "right")
                    .await
                    .unwrap(),
            );
            let customer = login(server.login, &server.pub_key, &ticket).await.unwrap();
            let reused = login(server.login, &server.pub_key, &ticket).await;
            assert!(
                matches!(
                    reused,
                    Err(McoSimError::Refused {
                        id: ids::USER_INVALID,
                        ..
                    })
                ),
                "{reused:?}"
            );
            let made_up = login(server.login, &server.pub_key, &"0".repeat(34)).await;
            assert!(matches!(made_up, Err(McoSimError::Refused { .. })));

            // Another server's pub.key: the server cannot decrypt, refuses,
            // and the ticket survives for the right key.
            let ticket = ticket_of(
                auth_login(server.auth, TlsMode::Plain, "racer", "right")
                    .await
                    .unwrap(),
            );
            let stranger = LoginKey::generate().unwrap().public_key();
            let wrong_key = login(server.login, &stranger, &ticket).await;
            assert!(matches!(wrong_key, Err(McoSimError::Refused { .. })));
            assert_eq!(
                login(server.login, &server.pub_key, &ticket).await.unwrap(),
                customer
            );

            // A customer id without a login session gets nothing.
            let other = CustomerId(customer.0 + 1000);
            let listed = list_personas(server.persona, other).await;
            assert!(
                matches!(listed, Err(McoSimError::Closed { .. })),
                "{listed:?}"
            );
            server.stop().await;
        }
    }

    /// Writes `bytes`, ends the sending side (so a truncated message is
    /// seen as truncated, not as slow) and waits until the server closes.
    async fn garbage(addr: SocketAddr, bytes: &[u8]) {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let _ = stream.write_all(bytes).await;
        let _ = stream.shutdown().await;
        let mut sink = Vec::new();
        let read = tokio::time::timeout(STEP_TIMEOUT, stream.read_to_end(&mut sink)).await;
        assert!(read.is_ok(), "the server closes on garbage");
    }

    #[tokio::test]
    async fn garbage_does_not_harm_the_next_client() {
        for db in databases().await {
            let server = Server::start(&db.url).await;
            server.dir.create_account("racer", "pw").await.unwrap();
            for addr in [server.login, server.persona] {
                // An HTTP request on an NPS port, a length below the
                // header, one above the cap, a truncated 0x532, and random
                // bytes.
                garbage(addr, b"GET /ShardList/ HTTP/1.1\r\nHost: x\r\n\r\n").await;
                garbage(addr, &[0x05, 0x32, 0x00, 0x02]).await;
                garbage(addr, &[0x05, 0x01, 0xff, 0xff, 0x01, 0x01]).await;
                garbage(addr, &[0x05, 0x32, 0x00, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x10]).await;
                garbage(addr, &[0x5a; 200]).await;
            }
            let ticket = ticket_of(
                auth_login(server.auth, TlsMode::Plain, "racer", "pw")
                    .await
                    .unwrap(),
            );
            let customer = login(server.login, &server.pub_key, &ticket).await.unwrap();
            let created = create_persona(server.persona, customer, ShardId(44), "After").await;
            assert_eq!(created.unwrap(), PersonaCreation::Created, "{}", db.label);
            assert_eq!(
                list_personas(server.persona, customer).await.unwrap().len(),
                1
            );
            server.stop().await;
        }
    }

    /// A "TLS" that is no TLS at all: proves that AuthLogin runs over
    /// whatever stream a connector hands back, with its server name.
    struct PassThrough;

    impl TlsConnect for PassThrough {
        fn connect<'a>(&'a self, server_name: &'a str, tcp: TcpStream) -> ConnectFuture<'a> {
            Box::pin(async move {
                assert_eq!(server_name, "mco.example.org");
                Ok(Box::new(tcp) as BoxedStream)
            })
        }
    }

    struct Failing;

    impl TlsConnect for Failing {
        fn connect<'a>(&'a self, _server_name: &'a str, _tcp: TcpStream) -> ConnectFuture<'a> {
            Box::pin(async { Err(io::Error::other("handshake failure")) })
        }
    }

    #[tokio::test]
    async fn auth_login_runs_over_a_plugged_in_stream() {
        let db = pitlane_store::testing::TestDatabase::sqlite();
        let server = Server::start(&db.url).await;
        server.dir.create_account("racer", "pw").await.unwrap();
        let tls = TlsMode::Tls {
            server_name: "mco.example.org".into(),
            connector: Arc::new(PassThrough),
        };
        let outcome = auth_login(server.auth, tls, "racer", "pw").await.unwrap();
        assert!(login(server.login, &server.pub_key, &ticket_of(outcome))
            .await
            .is_ok());
        let tls = TlsMode::Tls {
            server_name: "mco.example.org".into(),
            connector: Arc::new(Failing),
        };
        let failed = auth_login(server.auth, tls, "racer", "pw").await;
        assert!(matches!(failed, Err(McoSimError::Tls { .. })), "{failed:?}");
        server.stop().await;
    }

    #[tokio::test]
    async fn silent_and_absent_servers_give_clear_errors() {
        // Accepts, never answers.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let silent = listener.local_addr().unwrap();
        let holder = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        let request = GetPersonaMaps { customer_id: 1 }.to_frame().unwrap();
        let timed_out = ask_within(
            silent,
            LIST_STEP,
            request.clone(),
            Duration::from_millis(200),
        )
        .await;
        assert!(
            matches!(
                timed_out,
                Err(McoSimError::Timeout {
                    step: LIST_STEP,
                    ..
                })
            ),
            "{timed_out:?}"
        );
        assert!(timed_out
            .unwrap_err()
            .to_string()
            .starts_with("persona list (0x532): no answer within"));
        holder.abort();

        // Nobody listening.
        let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let absent = closed.local_addr().unwrap();
        drop(closed);
        let refused = ask_within(absent, LIST_STEP, request, STEP_TIMEOUT).await;
        assert!(
            matches!(refused, Err(McoSimError::Connect { .. })),
            "{refused:?}"
        );
        let http = auth_login(absent, TlsMode::Plain, "a", "b").await;
        assert!(matches!(http, Err(McoSimError::Http(_))), "{http:?}");
    }

    #[tokio::test]
    async fn odd_auth_answers_are_errors() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let answers: [&[u8]; 2] = [
                b"HTTP/1.1 500 Oops\r\nContent-Length: 4\r\nConnection: close\r\n\r\nOops",
                b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\n<html>",
            ];
            for answer in answers {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf).await;
                let _ = stream.write_all(answer).await;
            }
        });
        let status = auth_login(addr, TlsMode::Plain, "a", "b").await;
        assert!(
            matches!(status, Err(McoSimError::Status { status: 500, .. })),
            "{status:?}"
        );
        let shape = auth_login(addr, TlsMode::Plain, "a", "b").await;
        assert!(
            matches!(
                shape,
                Err(McoSimError::AuthAnswer(AuthAnswerError::Unrecognised))
            ),
            "{shape:?}"
        );
    }

    #[tokio::test]
    async fn the_0x501_has_the_captured_layout() {
        let key = LoginKey::generate().unwrap();
        let session = SessionKey::generate();
        let ticket = "d316cd2dd6bf870893dfbaaf17f965884e";
        let frame = user_login(&key.public_key(), ticket, &session)
            .unwrap()
            .to_frame()
            .unwrap();
        let mut wire = Vec::new();
        write_frame(&mut wire, frame, DEFAULT_MAX_FRAME_LEN)
            .await
            .unwrap();
        // As every captured 0x501 with a 34-character ticket: 318 bytes,
        // header 0x0101 with the length repeated, the ticket, reserved 0,
        // 256 upper-case hex digits, "2176" and the constant trailer.
        assert_eq!(wire.len(), 318);
        assert_eq!(&wire[..12], &hex_bytes("0501013e010100000000013e"));
        assert_eq!(&wire[12..14], &[0x00, 0x22]);
        assert_eq!(&wire[14..48], ticket.as_bytes());
        assert_eq!(&wire[48..52], &[0x00, 0x00, 0x01, 0x00]);
        let cipher = std::str::from_utf8(&wire[52..308]).unwrap();
        assert!(cipher
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)));
        assert_eq!(&wire[308..314], b"\x00\x042176");
        assert_eq!(&wire[314..], &USER_LOGIN_TRAILER);
        // And the server's private key recovers the session key.
        let parsed = UserLogin::parse_body(&wire[12..]).unwrap();
        assert_eq!(
            key.decrypt_session_key(&parsed.encrypted_session_key)
                .unwrap(),
            session
        );
        // A fresh key every login.
        assert_ne!(SessionKey::generate(), session);
    }

    fn hex_bytes(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn the_request_line_is_the_clients() {
        let request = auth_request("10.0.0.2", "moo", "moo").unwrap();
        assert_eq!(
            request.uri().to_string(),
            "/AuthLogin?username=moo&password=moo&serviceID=2176&version=2.0"
        );
        assert_eq!(request.headers()[http::header::HOST], "10.0.0.2");
    }
}
