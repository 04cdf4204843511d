//! `pitlane replay`: plays the client side of transcripts against a server
//! and compares every answer with the recorded one by structure.
//!
//! Transcripts are played one connection after another in the order given
//! (a directory in file-name order, which is the order they were opened).
//! Secrets are never replayed: a session token, an AuthLogin ticket or an
//! EgoNet session id is taken from the fresh server's own answer where the
//! recording had one; a password comes from [`ReplayOptions::password`];
//! the 0x501 is built anew with a fresh session key encrypted to the
//! server's `pub.key`, and the lobby's DES and MCOTS's RC4 run on that key.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use motorcity::crypto::{LobbyCipher, McotsCipher, PublicLoginKey};
use motorcity::mcots::frame::{read_tomc, TomcCodec, TomcFrame, FLAG_ENCRYPTED};
use motorcity::wire::login::{UserLogin, MCO_SERVICE_ID, USER_LOGIN_TRAILER};
use motorcity::wire::{self, read_frame, NpsCodec, NpsFrame, NpsMessage, DEFAULT_MAX_FRAME_LEN};
use motorcity::SessionKey;
use pitlane_core::recording::Channel;
use rand::Rng;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_util::codec::Encoder;

use crate::compare::compare;
use crate::decode::{decode, kind};
use crate::http_text::{self, Parsed};
use crate::secrets::Segment;
use crate::transcript::{Direction, Message, Transcript};

/// Where each channel's server listens.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    pub http: Option<SocketAddr>,
    pub https: Option<SocketAddr>,
    pub mco_login: Option<SocketAddr>,
    pub mco_persona: Option<SocketAddr>,
    pub mco_lobby: Option<SocketAddr>,
    pub mco_mcots: Option<SocketAddr>,
}

impl Targets {
    /// The games' standard ports on `host`.
    pub fn standard(host: IpAddr) -> Targets {
        Targets {
            http: Some(SocketAddr::new(host, 80)),
            https: Some(SocketAddr::new(host, 443)),
            mco_login: Some(SocketAddr::new(host, 8226)),
            mco_persona: Some(SocketAddr::new(host, 8228)),
            mco_lobby: Some(SocketAddr::new(host, 7003)),
            mco_mcots: Some(SocketAddr::new(host, 43300)),
        }
    }

    pub fn get(&self, channel: Channel) -> Option<SocketAddr> {
        match channel {
            Channel::Http => self.http,
            Channel::Https => self.https,
            Channel::McoLogin => self.mco_login,
            Channel::McoPersona => self.mco_persona,
            Channel::McoLobby => self.mco_lobby,
            Channel::McoMcots => self.mco_mcots,
        }
    }

    pub fn set(&mut self, channel: Channel, addr: SocketAddr) {
        let slot = match channel {
            Channel::Http => &mut self.http,
            Channel::Https => &mut self.https,
            Channel::McoLogin => &mut self.mco_login,
            Channel::McoPersona => &mut self.mco_persona,
            Channel::McoLobby => &mut self.mco_lobby,
            Channel::McoMcots => &mut self.mco_mcots,
        };
        *slot = Some(addr);
    }
}

#[derive(Debug, Clone)]
pub struct ReplayOptions {
    pub targets: Targets,
    /// The MCO password, when a transcript's AuthLogin has it redacted.
    pub password: Option<String>,
    /// The server's `pub.key`, for the 0x501 (MCO transcripts only).
    pub mco_pub_key: Option<PublicLoginKey>,
    /// Trusts the server's certificate, for HTTPS transcripts.
    pub tls: Option<pitlane_sim::tls::TrustingClient>,
    /// How long to wait for each answer.
    pub timeout: Duration,
}

impl ReplayOptions {
    pub fn new(targets: Targets) -> ReplayOptions {
        ReplayOptions {
            targets,
            password: None,
            mco_pub_key: None,
            tls: None,
            timeout: Duration::from_secs(10),
        }
    }
}

/// What replaying one transcript found.
#[derive(Debug, Clone, Default)]
pub struct FileReport {
    pub path: PathBuf,
    pub sent: usize,
    pub compared: usize,
    pub differences: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ReplayReport {
    pub files: Vec<FileReport>,
}

impl ReplayReport {
    pub fn differences(&self) -> usize {
        self.files.iter().map(|f| f.differences.len()).sum()
    }

    pub fn is_clean(&self) -> bool {
        self.differences() == 0
    }
}

impl fmt::Display for ReplayReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for file in &self.files {
            let name = file.path.display();
            if file.differences.is_empty() {
                writeln!(
                    f,
                    "{name}: {} sent, {} answers compared, no differences",
                    file.sent, file.compared
                )?;
            } else {
                writeln!(
                    f,
                    "{name}: {} sent, {} answers compared, {} differences:",
                    file.sent,
                    file.compared,
                    file.differences.len()
                )?;
                for d in &file.differences {
                    writeln!(f, "  {d}")?;
                }
            }
        }
        write!(
            f,
            "{} transcripts, {} differences",
            self.files.len(),
            self.differences()
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("{0}: {1}")]
    Parse(PathBuf, crate::transcript::ParseError),
    #[error("no transcripts in {0}")]
    Empty(PathBuf),
}

/// The transcript files named by `paths`: files as given, directories'
/// `.txt` files in name order.
pub fn transcript_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ReplayError> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| ReplayError::Read(path.clone(), e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "txt"))
                .collect();
            files.sort();
            if files.is_empty() {
                return Err(ReplayError::Empty(path.clone()));
            }
            out.extend(files);
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

/// Replays every transcript of `paths` (see [`transcript_files`]).
pub async fn replay(
    paths: &[PathBuf],
    options: &ReplayOptions,
) -> Result<ReplayReport, ReplayError> {
    let mut ctx = Context::default();
    let mut report = ReplayReport::default();
    for path in transcript_files(paths)? {
        let text =
            std::fs::read_to_string(&path).map_err(|e| ReplayError::Read(path.clone(), e))?;
        let transcript =
            Transcript::parse(&text).map_err(|e| ReplayError::Parse(path.clone(), e))?;
        report
            .files
            .push(replay_one(&path, &transcript, options, &mut ctx).await);
    }
    Ok(report)
}

/// Replays one parsed transcript, sharing `ctx` (fresh secrets) with the
/// transcripts before it.
pub async fn replay_transcript(
    path: &Path,
    transcript: &Transcript,
    options: &ReplayOptions,
    ctx: &mut Context,
) -> FileReport {
    replay_one(path, transcript, options, ctx).await
}

/// Fresh values learnt so far: secrets by label (redacted transcripts) or
/// by recorded value (transcripts with secrets), the session key of the
/// last 0x501 and the last AuthLogin ticket.
#[derive(Default)]
pub struct Context {
    by_label: HashMap<String, Vec<u8>>,
    by_value: Vec<(Vec<u8>, Vec<u8>)>,
    session_key: Option<SessionKey>,
    ticket: Option<String>,
}

impl Context {
    /// The client bytes to send: secrets filled in with fresh values.
    fn fill(&self, segments: &[Segment], options: &ReplayOptions) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        for s in segments {
            match s {
                Segment::Bytes(b) => out.extend_from_slice(&self.replace_values(b)),
                Segment::Secret { label, len } => match self.by_label.get(label) {
                    Some(v) => out.extend_from_slice(v),
                    None => out.extend(self.generate(label, *len, options)?),
                },
            }
        }
        Ok(out)
    }

    fn replace_values(&self, bytes: &[u8]) -> Vec<u8> {
        let mut out = bytes.to_vec();
        for (old, new) in &self.by_value {
            if old.len() < 4 || old == new {
                continue;
            }
            let mut next = Vec::with_capacity(out.len());
            let mut i = 0;
            while i < out.len() {
                if out[i..].starts_with(old) {
                    next.extend_from_slice(new);
                    i += old.len();
                } else {
                    next.push(out[i]);
                    i += 1;
                }
            }
            out = next;
        }
        out
    }

    /// A value for a secret the client made up itself.
    fn generate(
        &self,
        label: &str,
        len: usize,
        options: &ReplayOptions,
    ) -> Result<Vec<u8>, String> {
        let mut rng = rand::thread_rng();
        match Segment::kind_of(label) {
            // It sits in AuthLogin's query string, percent-encoded.
            kind::PASSWORD => options
                .password
                .as_deref()
                .map(percent_encode)
                .ok_or_else(|| {
                    format!("the transcript's password is redacted ({label}); pass --password")
                }),
            kind::TICKET => self.ticket.clone().map(String::into_bytes).ok_or_else(|| {
                "no AuthLogin ticket: replay the session's AuthLogin transcript first".into()
            }),
            kind::STEAM_TICKET => {
                let steam_id = 76_561_198_000_000_000u64 + rng.gen_range(0..1_000_000_000u64);
                Ok(pitlane_sim::mmws::steam_ticket_hex(steam_id).into_bytes())
            }
            _ => Ok((0..len).map(|_| rng.gen_range(b'A'..=b'Z')).collect()),
        }
    }

    /// Pairs the secrets of a recorded answer with the fresh answer's, kind
    /// by kind in order of appearance.
    fn learn(&mut self, channel: Channel, recorded: &Message, fresh: (&[u8], &[u8])) {
        let fresh_secrets = decode(channel, Direction::ToClient, fresh.0, fresh.1).secrets;
        let recorded_keys: Vec<(String, Key)> = if recorded.has_secret() {
            recorded
                .plain
                .iter()
                .filter_map(|s| match s {
                    Segment::Secret { label, .. } => Some((
                        Segment::kind_of(label).to_string(),
                        Key::Label(label.clone()),
                    )),
                    Segment::Bytes(_) => None,
                })
                .collect()
        } else {
            let raw = recorded.raw_lossy();
            decode(channel, Direction::ToClient, &recorded.plain_lossy(), &raw)
                .secrets
                .into_iter()
                .map(|(k, v)| (k.to_string(), Key::Value(v)))
                .collect()
        };
        let mut used = vec![false; fresh_secrets.len()];
        for (kind_name, key) in recorded_keys {
            let Some(i) = fresh_secrets
                .iter()
                .enumerate()
                .position(|(i, (k, _))| !used[i] && *k == kind_name)
            else {
                continue;
            };
            used[i] = true;
            let value = fresh_secrets[i].1.clone();
            match key {
                Key::Label(label) => {
                    self.by_label.insert(label, value.clone());
                }
                Key::Value(old) => self.by_value.push((old, value.clone())),
            }
        }
        for (k, v) in fresh_secrets {
            if k == kind::TICKET {
                self.ticket = Some(String::from_utf8_lossy(&v).into_owned());
            }
        }
    }
}

fn percent_encode(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b);
        } else {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        }
    }
    out
}

enum Key {
    Label(String),
    Value(Vec<u8>),
}

/// The answers recorded after message `i`, up to the next client message.
fn answers_after(messages: &[Message], i: usize) -> Vec<&Message> {
    messages[i + 1..]
        .iter()
        .take_while(|m| m.direction == Direction::ToClient)
        .collect()
}

async fn replay_one(
    path: &Path,
    transcript: &Transcript,
    options: &ReplayOptions,
    ctx: &mut Context,
) -> FileReport {
    let mut report = FileReport {
        path: path.to_path_buf(),
        ..FileReport::default()
    };
    let channel = transcript.header.channel;
    let Some(addr) = options.targets.get(channel) else {
        report
            .differences
            .push(format!("no server address for {channel}"));
        return report;
    };
    let result = match channel {
        Channel::Http | Channel::Https => http(addr, transcript, options, ctx, &mut report).await,
        _ => tcp(addr, transcript, options, ctx, &mut report).await,
    };
    if let Err(e) = result {
        report.differences.push(e);
    }
    report
}

async fn http(
    addr: SocketAddr,
    t: &Transcript,
    options: &ReplayOptions,
    ctx: &mut Context,
    report: &mut FileReport,
) -> Result<(), String> {
    let mut sender: Option<hyper::client::conn::http1::SendRequest<Full<Bytes>>> = None;
    for (i, m) in t.messages.iter().enumerate() {
        if m.direction != Direction::ToServer {
            continue;
        }
        let bytes = ctx.fill(&m.plain, options)?;
        let parsed = Parsed::parse(&bytes).ok_or("recorded request unreadable")?;
        let (method, target) = parsed
            .method_and_target()
            .ok_or("recorded request line unreadable")?;
        let mut builder = http::Request::builder().method(method).uri(target);
        for (name, value) in &parsed.headers {
            if name != "content-length" {
                builder = builder.header(name, value);
            }
        }
        if !parsed.body.is_empty() || method == "POST" {
            builder = builder.header("content-length", parsed.body.len().to_string());
        }
        let request = builder
            .body(Full::new(Bytes::from(parsed.body.clone())))
            .map_err(|e| format!("request {}: {e}", i + 1))?;
        if sender.as_ref().is_none_or(|s| s.is_closed()) {
            let stream = TcpStream::connect(addr)
                .await
                .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
            let stream: Box<dyn pitlane_sim::mco::AsyncStream> =
                if t.header.channel == Channel::Https {
                    let tls = options
                        .tls
                        .as_ref()
                        .ok_or("an HTTPS transcript needs the server's CA certificate (--ca)")?;
                    let host = parsed.header("host").unwrap_or("localhost");
                    let host = host.split(':').next().unwrap_or(host);
                    Box::new(
                        tls.connect(host, stream)
                            .await
                            .map_err(|e| format!("TLS handshake with {addr} as {host}: {e}"))?,
                    )
                } else {
                    Box::new(stream)
                };
            let (s, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| format!("HTTP handshake: {e}"))?;
            tokio::spawn(async move {
                let _ = connection.await;
            });
            sender = Some(s);
        }
        let Some(s) = sender.as_mut() else {
            continue;
        };
        report.sent += 1;
        let exchange = async {
            s.ready().await?;
            let response = s.send_request(request).await?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await?.to_bytes();
            Ok::<_, hyper::Error>(http_text::response(&parts, &body))
        };
        let fresh = match tokio::time::timeout(options.timeout, exchange).await {
            Ok(Ok(fresh)) => fresh,
            Ok(Err(e)) => return Err(format!("request {} ({}): {e}", i + 1, m.summary)),
            Err(_) => return Err(format!("request {} ({}): no answer", i + 1, m.summary)),
        };
        if let Some(recorded) = answers_after(&t.messages, i).first() {
            report.compared += 1;
            let diffs = compare(
                t.header.channel,
                (&recorded.plain_lossy(), &[]),
                (&fresh, &[]),
            );
            for d in diffs {
                report
                    .differences
                    .push(format!("answer to {} ({}): {d}", i + 1, m.summary));
            }
            ctx.learn(t.header.channel, recorded, (&fresh, &[]));
        }
    }
    Ok(())
}

/// One connection's ciphers, made from the session key of the replay's
/// own 0x501 when the connection logs in.
struct Ciphers {
    lobby_tx: Option<LobbyCipher>,
    lobby_rx: Option<LobbyCipher>,
    mcots_tx: Option<McotsCipher>,
    mcots_rx: Option<McotsCipher>,
}

async fn tcp(
    addr: SocketAddr,
    t: &Transcript,
    options: &ReplayOptions,
    ctx: &mut Context,
    report: &mut FileReport,
) -> Result<(), String> {
    let channel = t.header.channel;
    let mut stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    let _ = stream.set_nodelay(true);
    let key = ctx.session_key.clone();
    let needs_key = matches!(channel, Channel::McoLobby | Channel::McoMcots);
    if needs_key && key.is_none() {
        return Err(
            "no session key: replay the session's AuthLogin and mco-login transcripts first".into(),
        );
    }
    let mut ciphers = Ciphers {
        lobby_tx: key.as_ref().map(LobbyCipher::new),
        lobby_rx: key.as_ref().map(LobbyCipher::new),
        mcots_tx: key.as_ref().map(McotsCipher::new),
        mcots_rx: key.as_ref().map(McotsCipher::new),
    };
    for (i, m) in t.messages.iter().enumerate() {
        if m.direction != Direction::ToServer {
            continue;
        }
        let plain = ctx.fill(&m.plain, options)?;
        let wire_bytes = match channel {
            Channel::McoLogin => user_login(&plain, options, ctx)?,
            Channel::McoPersona => plain,
            Channel::McoLobby if m.raw.is_some() => {
                let inner = wire::lobby::Inner::parse(&plain)
                    .map_err(|e| format!("message {}: {e}", i + 1))?;
                let tx = ciphers.lobby_tx.as_mut().ok_or("no session key")?;
                let frame = inner.seal(tx).map_err(|e| e.to_string())?;
                nps_bytes(frame)
            }
            Channel::McoLobby => plain,
            Channel::McoMcots => {
                let raw = m.raw_lossy();
                let sequence = raw
                    .get(6..10)
                    .map_or(1, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]));
                let flags = raw.get(10).copied().unwrap_or(0);
                let mut payload = plain;
                if flags & FLAG_ENCRYPTED != 0 {
                    ciphers
                        .mcots_tx
                        .as_mut()
                        .ok_or("no session key")?
                        .apply(&mut payload);
                }
                let mut out = BytesMut::new();
                TomcCodec::new(usize::from(u16::MAX))
                    .encode(
                        TomcFrame {
                            sequence,
                            flags,
                            payload: payload.into(),
                        },
                        &mut out,
                    )
                    .map_err(|e| e.to_string())?;
                out.to_vec()
            }
            Channel::Http | Channel::Https => unreachable!("HTTP has its own replayer"),
        };
        stream
            .write_all(&wire_bytes)
            .await
            .map_err(|e| format!("message {} ({}): send failed: {e}", i + 1, m.summary))?;
        report.sent += 1;
        for (k, recorded) in answers_after(&t.messages, i).into_iter().enumerate() {
            let fresh = tokio::time::timeout(
                options.timeout,
                read_answer(channel, &mut stream, recorded, &mut ciphers),
            )
            .await;
            let fresh = match fresh {
                Ok(Ok(Some(fresh))) => fresh,
                Ok(Ok(None)) | Err(_) => {
                    report.differences.push(format!(
                        "answer {} to message {} missing (recorded: {})",
                        k + 1,
                        i + 1,
                        recorded.summary
                    ));
                    return Ok(());
                }
                Ok(Err(e)) => {
                    report.differences.push(format!(
                        "answer {} to message {} unreadable: {e} (recorded: {})",
                        k + 1,
                        i + 1,
                        recorded.summary
                    ));
                    return Ok(());
                }
            };
            report.compared += 1;
            let recorded_pair = (
                recorded.plain_lossy(),
                recorded
                    .raw
                    .as_ref()
                    .map(|_| recorded.raw_lossy())
                    .unwrap_or_default(),
            );
            for d in compare(
                channel,
                (&recorded_pair.0, &recorded_pair.1),
                (&fresh.0, &fresh.1),
            ) {
                report.differences.push(format!(
                    "answer {} to message {} ({}): {d}",
                    k + 1,
                    i + 1,
                    m.summary
                ));
            }
            ctx.learn(channel, recorded, (&fresh.0, &fresh.1));
        }
    }
    Ok(())
}

/// The 0x501 anew: the fresh ticket, a fresh session key for the server's
/// `pub.key`; the recorded one's other fields are the client's constants.
fn user_login(
    recorded: &[u8],
    options: &ReplayOptions,
    ctx: &mut Context,
) -> Result<Vec<u8>, String> {
    if recorded.get(..2) != Some(&wire::ids::USER_LOGIN.to_be_bytes()[..]) {
        return Ok(recorded.to_vec());
    }
    let pub_key = options
        .mco_pub_key
        .as_ref()
        .ok_or("the 0x501 needs the server's pub.key (--mco-pub-key)")?;
    let ticket = ctx
        .ticket
        .clone()
        .ok_or("no AuthLogin ticket: replay the session's AuthLogin transcript first")?;
    let key = SessionKey::generate();
    let login = UserLogin {
        ticket,
        reserved: 0,
        encrypted_session_key: pub_key
            .encrypt_session_key(&key)
            .map_err(|e| e.to_string())?,
        service_id: MCO_SERVICE_ID.to_string(),
        trailer: Some(USER_LOGIN_TRAILER),
    };
    ctx.session_key = Some(key);
    Ok(nps_bytes(login.to_frame().map_err(|e| e.to_string())?))
}

fn nps_bytes(frame: NpsFrame) -> Vec<u8> {
    let mut out = BytesMut::new();
    let _ = NpsCodec::server(usize::from(u16::MAX)).encode(frame, &mut out);
    out.to_vec()
}

/// The next answer as (plain, raw) in the form the recorder wrote it.
async fn read_answer(
    channel: Channel,
    stream: &mut TcpStream,
    recorded: &Message,
    ciphers: &mut Ciphers,
) -> Result<Option<(Vec<u8>, Vec<u8>)>, String> {
    match channel {
        Channel::McoMcots => {
            let Some(frame) = read_tomc(stream, 1 << 16)
                .await
                .map_err(|e| e.to_string())?
            else {
                return Ok(None);
            };
            let mut raw = BytesMut::new();
            TomcCodec::new(usize::from(u16::MAX))
                .encode(frame.clone(), &mut raw)
                .map_err(|e| e.to_string())?;
            let mut plain = frame.payload.to_vec();
            if frame.encrypted() {
                if let Some(rx) = ciphers.mcots_rx.as_mut() {
                    rx.apply(&mut plain);
                }
            }
            Ok(Some((plain, raw.to_vec())))
        }
        _ => {
            let frame = match read_frame(
                stream,
                wire::Direction::ServerToClient,
                DEFAULT_MAX_FRAME_LEN,
            )
            .await
            {
                Ok(Some(frame)) => frame,
                Ok(None) => return Ok(None),
                Err(wire::FrameError::Io(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                    return Ok(None)
                }
                Err(e) => return Err(e.to_string()),
            };
            let raw = nps_bytes(frame.clone());
            if channel != Channel::McoLobby || recorded.raw.is_none() {
                return Ok(Some((raw, Vec::new())));
            }
            let inner = if frame.id == wire::lobby::ids::ENCRYPTED {
                let rx = ciphers.lobby_rx.as_mut().ok_or("no session key")?;
                wire::lobby::Inner::open(&frame, rx).map_err(|e| e.to_string())?
            } else {
                wire::lobby::Inner::new(frame.id, frame.body.clone())
            };
            let mut plain = inner.id.to_be_bytes().to_vec();
            let len = u16::try_from(4 + inner.body.len()).unwrap_or(u16::MAX);
            plain.extend_from_slice(&len.to_be_bytes());
            plain.extend_from_slice(&inner.body);
            Ok(Some((plain, raw)))
        }
    }
}

/// `pitlane replay FILE... --server HOST [--port CHANNEL=PORT]...`.
pub async fn run_cli(
    files: &[PathBuf],
    server: &str,
    ports: &[String],
    password: Option<String>,
    pub_key: &Path,
    ca: &Path,
) -> Result<ReplayReport, Box<dyn std::error::Error + Send + Sync>> {
    let host: IpAddr = match server.parse() {
        Ok(ip) => ip,
        Err(_) => tokio::net::lookup_host((server, 0))
            .await?
            .next()
            .map(|a| a.ip())
            .ok_or_else(|| format!("{server}: no address"))?,
    };
    let mut targets = Targets::standard(host);
    for p in ports {
        let (name, port) = p
            .split_once('=')
            .ok_or_else(|| format!("--port {p}: expected CHANNEL=PORT"))?;
        let channel = Channel::from_name(name).ok_or_else(|| {
            format!("--port {p}: channels are http, https, mco-login, mco-persona, mco-lobby, mco-mcots")
        })?;
        let port: u16 = port.parse().map_err(|_| format!("--port {p}: bad port"))?;
        targets.set(channel, SocketAddr::new(host, port));
    }
    let mut options = ReplayOptions::new(targets);
    options.password = password;
    // Only MCO logins need it; its absence is reported when one does.
    if let Ok(text) = std::fs::read_to_string(pub_key) {
        options.mco_pub_key = Some(PublicLoginKey::from_pub_key_file(&text)?);
    }
    if ca.exists() {
        options.tls = Some(pitlane_sim::tls::TrustingClient::from_ca_pem_file(ca)?);
    }
    Ok(replay(files, &options).await?)
}
