//! What one message says, per channel: a one-line summary, readable lines,
//! and the secrets in it (by kind and value, in order of appearance).
//! The same code runs on the recording side (to redact) and on the replay
//! side (to learn which fresh value replaces which recorded one).

use bytes::BytesMut;
use micromachines::egonet::vdic::{Dict, Value};
use motorcity::wire::{self, ids, NpsCodec, NpsFrame, NpsMessage};
use pitlane_core::recording::Channel;
use tokio_util::codec::Decoder;

use crate::http_text::Parsed;
use crate::transcript::Direction;

/// Secret kinds and where they come from.
pub mod kind {
    /// `password=` of MCO's AuthLogin.
    pub const PASSWORD: &str = "password";
    /// MCO AuthLogin ticket, in the AuthLogin answer and the 0x501.
    pub const TICKET: &str = "ticket";
    /// The RSA-encrypted session key of the 0x501 (hex text).
    pub const SESSION_KEY_RSA: &str = "session-key-rsa";
    /// The MCO session key (lobby DES, MCOTS RC4), from the servers' hooks.
    pub const SESSION_KEY: &str = "session-key";
    /// MMWS `SessionToken`.
    pub const SESSION_TOKEN: &str = "session-token";
    /// MMWS Login `PlatformID` (the Steam session ticket).
    pub const STEAM_TICKET: &str = "steam-ticket";
    /// EgoNet login `SteamTicket` blob.
    pub const EGONET_TICKET: &str = "egonet-ticket";
    /// EgoNet session id header.
    pub const EGONET_SESSION: &str = "egonet-session";
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decoded {
    pub summary: String,
    pub lines: Vec<String>,
    pub secrets: Vec<(&'static str, Vec<u8>)>,
}

/// Decodes one message of `channel`. Never fails: what cannot be read is
/// said so in the summary.
pub fn decode(channel: Channel, direction: Direction, plain: &[u8], raw: &[u8]) -> Decoded {
    match channel {
        Channel::Http | Channel::Https => http(direction, plain),
        Channel::McoLogin | Channel::McoPersona => nps(direction, plain),
        Channel::McoLobby => lobby(direction, plain, raw),
        Channel::McoMcots => mcots(plain, raw),
    }
}

fn http(direction: Direction, bytes: &[u8]) -> Decoded {
    let Some(p) = Parsed::parse(bytes) else {
        return Decoded {
            summary: format!("HTTP unreadable ({} bytes)", bytes.len()),
            ..Decoded::default()
        };
    };
    let mut d = Decoded::default();
    let content_type = p.header("content-type").unwrap_or("-").to_string();
    d.summary = match direction {
        Direction::ToServer => {
            let (method, target) = p.method_and_target().unwrap_or(("?", "?"));
            let path = target.split('?').next().unwrap_or(target);
            format!("HTTP {method} {path}")
        }
        Direction::ToClient => format!(
            "HTTP {} ({content_type}, {} bytes)",
            p.first_line.split_once(' ').map_or("?", |(_, s)| s),
            p.body.len()
        ),
    };
    // Secrets first, so the lines below can show where they were.
    if let Some((_, target)) = p.method_and_target() {
        if let Some(query) = target.split_once('?').map(|(_, q)| q) {
            for pair in query.split('&') {
                if let Some(v) = pair.strip_prefix("password=") {
                    d.secrets.push((kind::PASSWORD, v.as_bytes().to_vec()));
                }
            }
        }
    }
    if let Some(session) = p.header("x-egonet-sessionid") {
        d.secrets
            .push((kind::EGONET_SESSION, session.as_bytes().to_vec()));
    }
    for (tag, k) in [
        ("SessionToken", kind::SESSION_TOKEN),
        ("PlatformID", kind::STEAM_TICKET),
    ] {
        for value in element_texts(&p.body, tag) {
            d.secrets.push((k, value.into_bytes()));
        }
    }
    if content_type.contains("x-www-form-urlencoded") || content_type.starts_with("text/plain") {
        for line in String::from_utf8_lossy(&p.body).lines() {
            if let Some(t) = line.trim().strip_prefix("Ticket=") {
                d.secrets.push((kind::TICKET, t.as_bytes().to_vec()));
            }
        }
    } else if let Some(t) = String::from_utf8_lossy(&p.body)
        .lines()
        .find_map(|l| l.trim().strip_prefix("Ticket=").map(str::to_string))
    {
        d.secrets.push((kind::TICKET, t.into_bytes()));
    }
    d.lines.push(p.first_line.clone());
    for (name, value) in &p.headers {
        d.lines.push(format!("{name}: {value}"));
    }
    d.lines.push(String::new());
    if p.body.starts_with(micromachines::egonet::vdic::MAGIC) {
        match Dict::decode(&p.body) {
            Ok(dict) => {
                for (key, value) in dict.iter() {
                    let shown = match value {
                        Value::Str(s) => format!("dstr {s:?}"),
                        Value::Blob(b) => {
                            if key == "SteamTicket" {
                                d.secrets.push((kind::EGONET_TICKET, b.clone()));
                            }
                            format!("blob {} bytes", b.len())
                        }
                        Value::I64(v) => format!("si64 {v}"),
                        Value::U64(v) => format!("ui64 {v}"),
                    };
                    d.lines.push(format!("vdic {key:?}: {shown}"));
                }
            }
            Err(e) => d.lines.push(format!("(vdic body unreadable: {e})")),
        }
    } else if let Ok(text) = std::str::from_utf8(&p.body) {
        d.lines.extend(
            text.split('\n')
                .map(|l| l.trim_end_matches('\r').to_string()),
        );
    } else {
        d.lines
            .push(format!("({} bytes of binary body)", p.body.len()));
    }
    d
}

/// The texts of every `<tag>…</tag>` (any namespace prefix) in `xml`.
pub fn element_texts(xml: &[u8], tag: &str) -> Vec<String> {
    let text = String::from_utf8_lossy(xml);
    let mut out = Vec::new();
    let mut rest: &str = &text;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        let Some(end) = rest.find('>') else { break };
        let name = &rest[..end];
        let local = name.rsplit(':').next().unwrap_or(name);
        if local == tag && !name.starts_with('/') {
            let after = &rest[end + 1..];
            if let Some(close) = after.find("</") {
                let value = &after[..close];
                if !value.is_empty() && !value.contains('<') {
                    out.push(value.to_string());
                }
            }
        }
        rest = &rest[end + 1..];
    }
    out
}

fn nps_frame(direction: Direction, bytes: &[u8]) -> Option<NpsFrame> {
    let incoming = match direction {
        Direction::ToServer => wire::Direction::ClientToServer,
        Direction::ToClient => wire::Direction::ServerToClient,
    };
    let mut buf = BytesMut::from(bytes);
    NpsCodec::new(incoming, usize::from(u16::MAX))
        .decode(&mut buf)
        .ok()
        .flatten()
}

fn nps_name(id: u16) -> &'static str {
    match id {
        ids::USER_LOGIN => "UserLogin",
        ids::REGISTER_GAME_LOGIN => "RegisterGameLogin",
        ids::NEW_GAME_ACCOUNT => "NewGameAccount",
        ids::REGISTER_GAME_LOGOUT => "RegisterGameLogout",
        ids::DELETE_GAME_PERSONA => "DeleteGamePersona",
        ids::GET_PERSONA_MAPS => "GetPersonaMaps",
        ids::VALIDATE_PERSONA_NAME => "ValidatePersonaName",
        ids::CHECK_TOKEN => "CheckToken",
        ids::USER_VALID => "UserValid",
        ids::USER_INVALID => "UserInvalid",
        ids::PERSONA_MAPS => "PersonaMaps",
        ids::ACK => "Ack",
        ids::DUP_USER => "DupUser",
        0x0100 => "LobbyLogin",
        0x0120 => "LobbyLoginResponse",
        0x1101 => "Encrypted",
        _ => "",
    }
}

fn nps(direction: Direction, bytes: &[u8]) -> Decoded {
    let mut d = Decoded::default();
    let Some(frame) = nps_frame(direction, bytes) else {
        d.summary = format!("NPS unreadable ({} bytes)", bytes.len());
        return d;
    };
    d.summary = format!(
        "NPS {:#06x} {} (len {})",
        frame.id,
        nps_name(frame.id),
        bytes.len()
    );
    if let Some(long) = frame.long {
        d.lines.push(format!(
            "header long: version {:#06x}, reserved {}, checksum {}",
            long.version, long.reserved, long.checksum
        ));
    }
    use motorcity::wire::login::{UserLogin, UserValid};
    use motorcity::wire::persona as p;
    let fields = match frame.id {
        ids::USER_LOGIN => match UserLogin::from_frame(&frame) {
            Ok(login) => {
                d.secrets
                    .push((kind::TICKET, login.ticket.as_bytes().to_vec()));
                let hex_key: String = login
                    .encrypted_session_key
                    .iter()
                    .map(|b| format!("{b:02X}"))
                    .collect();
                d.secrets
                    .push((kind::SESSION_KEY_RSA, hex_key.clone().into_bytes()));
                Some(format!(
                    "ticket = {}\nreserved = {}\nencrypted_session_key = {hex_key}\nservice_id = {}\ntrailer = {:02x?}",
                    login.ticket, login.reserved, login.service_id, login.trailer
                ))
            }
            Err(e) => Some(format!("(unreadable: {e})")),
        },
        ids::USER_VALID => UserValid::from_frame(&frame).ok().map(|m| format!("{m:?}")),
        ids::GET_PERSONA_MAPS => p::GetPersonaMaps::from_frame(&frame)
            .ok()
            .map(|m| format!("{m:?}")),
        ids::PERSONA_MAPS => p::PersonaMaps::from_frame(&frame)
            .ok()
            .map(|m| format!("{m:?}")),
        ids::REGISTER_GAME_LOGIN => p::RegisterGameLogin::from_frame(&frame)
            .ok()
            .map(|m| format!("{m:?}")),
        ids::NEW_GAME_ACCOUNT => p::NewGameAccount::from_frame(&frame)
            .ok()
            .map(|m| format!("{m:?}")),
        ids::VALIDATE_PERSONA_NAME => p::ValidatePersonaName::from_frame(&frame)
            .ok()
            .map(|m| format!("{m:?}")),
        0x0100 => wire::lobby::LobbyLogin::parse(&frame.body)
            .ok()
            .map(|m| format!("{m:?}")),
        _ => None,
    };
    match fields {
        Some(text) => d.lines.extend(text.lines().map(str::to_string)),
        None => d.lines.push(format!("body {} bytes", frame.body.len())),
    }
    d
}

fn lobby(direction: Direction, plain: &[u8], raw: &[u8]) -> Decoded {
    if raw.is_empty() {
        return nps(direction, plain);
    }
    let mut d = Decoded::default();
    let Ok(inner) = wire::lobby::Inner::parse(plain) else {
        d.summary = format!("lobby unreadable ({} bytes)", plain.len());
        return d;
    };
    let outer = nps_frame(direction, raw).map_or(0, |f| f.id);
    d.summary = format!(
        "lobby {:#06x} (len {}) in NPS {:#06x}{}",
        inner.id,
        plain.len(),
        outer,
        if outer == wire::lobby::ids::ENCRYPTED {
            " (DES)"
        } else {
            ""
        }
    );
    use wire::lobby::ids as l;
    let text = match inner.id {
        l::CHAT => wire::lobby::parse_chat(&inner.body)
            .ok()
            .map(|t| format!("chat {t:?}")),
        l::CHAT_RELAY => wire::lobby::parse_chat_relay(&inner.body)
            .ok()
            .map(|c| format!("{c:?}")),
        l::RIFF_LIST => wire::lobby::parse_riff_list(&inner.body)
            .ok()
            .map(|c| format!("{c:?}")),
        _ => None,
    };
    match text {
        Some(text) => d.lines.extend(text.lines().map(str::to_string)),
        None => d
            .lines
            .push(format!("body {}", crate::transcript::hex(&inner.body))),
    }
    d
}

fn mcots(plain: &[u8], raw: &[u8]) -> Decoded {
    let mut d = Decoded::default();
    let number = motorcity::mcots::messages::msg_no(plain).ok();
    let (sequence, flags) = if raw.len() >= 11 {
        (
            u32::from_le_bytes([raw[6], raw[7], raw[8], raw[9]]),
            raw[10],
        )
    } else {
        (0, 0)
    };
    d.summary = format!(
        "MCOTS msg {} (len {}, seq {sequence}, flags {flags:#04x}{})",
        number.map_or_else(|| "?".to_string(), |n| n.to_string()),
        plain.len(),
        if flags & motorcity::mcots::frame::FLAG_ENCRYPTED != 0 {
            ", RC4"
        } else {
            ""
        }
    );
    for chunk in plain.chunks(32) {
        d.lines.push(crate::transcript::hex(chunk));
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Whatever a peer sends is recorded: decoding never panics.
    #[test]
    fn any_bytes_decode_without_panicking() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..2000 {
            let len = rng.gen_range(0..300);
            let plain: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            let raw: Vec<u8> = (0..rng.gen_range(0..40)).map(|_| rng.gen()).collect();
            for channel in Channel::ALL {
                for direction in [Direction::ToServer, Direction::ToClient] {
                    let d = decode(channel, direction, &plain, &raw);
                    assert!(!d.summary.is_empty());
                }
            }
        }
        let http = b"GET /AuthLogin?username=a&password=hunter22 HTTP/1.1\r\n\r\n";
        let d = decode(Channel::Https, Direction::ToServer, http, &[]);
        assert_eq!(d.secrets, vec![(kind::PASSWORD, b"hunter22".to_vec())]);
        let answer =
            b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nValid=TRUE\nTicket=T-1234\n";
        let d = decode(Channel::Https, Direction::ToClient, answer, &[]);
        assert_eq!(d.secrets, vec![(kind::TICKET, b"T-1234".to_vec())]);
        assert_eq!(
            element_texts(
                b"<a:SessionToken>abc</a:SessionToken><X>1</X>",
                "SessionToken"
            ),
            vec!["abc".to_string()]
        );
    }
}
