//! Lobby server (TCP 7003) messages: the clear 0x100 login and its 0x120
//! answer, the 0x1101 DES wrapper, and the commands that travel inside it.
//!
//! Only 0x100 and the first two inner commands (0x030c, 0x0128) have been
//! seen from a client; the layouts of every reply and of join, leave and
//! chat are community knowledge or Pitlane's choice, and
//! `docs/mco-protocol.md` says which is which.

use bytes::{BufMut, Bytes, BytesMut};

use super::reader::Reader;
use super::text::{decode_latin1, encode_latin1};
use super::{EncodeError, NpsFrame, ParseError, SHORT_HEADER_LEN};
use crate::crypto::{CryptoError, LobbyCipher};

/// Message ids of the lobby (spec §10), client → server.
pub mod ids {
    /// 0x100 NPS_LOGIN: the first message on 7003, in clear.
    pub const LOGIN: u16 = 0x0100;
    /// 0x104 NPS_LOG_OFF_SERVER.
    pub const LOG_OFF_SERVER: u16 = 0x0104;
    /// 0x105 NPS_CLOSE_COMM_CHANNEL: leave a channel (body: u32 channel).
    pub const CLOSE_COMM_CHANNEL: u16 = 0x0105;
    /// 0x106 NPS_OPEN_COMM_CHANNEL: join a channel (body: u32 channel).
    pub const OPEN_COMM_CHANNEL: u16 = 0x0106;
    /// 0x128 NPS_GET_MINI_USER_LIST (body: u32 channel); seen second.
    pub const GET_MINI_USER_LIST: u16 = 0x0128;
    /// 0x30c NPS_SEND_MINI_RIFF_LIST: the channel list; seen first.
    pub const SEND_MINI_RIFF_LIST: u16 = 0x030c;
    /// 0x217 NPS_HEARTBEAT: no answer expected.
    pub const HEARTBEAT: u16 = 0x0217;
    /// Chat text into the sender's channel. No chat message id appears in
    /// any capture or id table, so this one is Pitlane's own, just past
    /// the client's table (0x100–0x12c); a real client will not send it.
    pub const CHAT: u16 = 0x0130;
    /// 0x1101: the DES-CBC wrapper around an inner command.
    pub const ENCRYPTED: u16 = 0x1101;

    /// 0x120 NPS_LOGIN_RESP.
    pub const LOGIN_RESP: u16 = 0x0120;
    /// 0x208 NPS_USER_LEFT_CHANNEL (u32 channel, u32 persona).
    pub const USER_LEFT_CHANNEL: u16 = 0x0208;
    /// 0x20c NPS_USER_JOINED_CHANNEL (u32 channel, u32 persona, name).
    pub const USER_JOINED_CHANNEL: u16 = 0x020c;
    /// 0x213 NPS_CHANNEL_DENIED (u32 channel).
    pub const CHANNEL_DENIED: u16 = 0x0213;
    /// 0x214 NPS_CHANNEL_GRANTED (u32 channel, u32 persona).
    pub const CHANNEL_GRANTED: u16 = 0x0214;
    /// 0x229 NPS_MINI_USER_LIST.
    pub const MINI_USER_LIST: u16 = 0x0229;
    /// 0x404: the riff (channel) list, the community's id.
    pub const RIFF_LIST: u16 = 0x0404;
    /// Chat relayed to a channel's members: Pitlane's own id, like
    /// [`CHAT`].
    pub const CHAT_RELAY: u16 = 0x0231;
}

/// Longest chat line relayed; longer ones are refused, not cut, so nobody
/// receives half a sentence.
pub const CHAT_MAX: usize = 255;

/// 0x100 lobby login, as captured (145 bytes with the captured strings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LobbyLogin {
    /// The persona chosen with 0x503 ("user id").
    pub persona_id: u32,
    /// Its name.
    pub persona_name: String,
    /// 64 bytes of user data (zero in the captures).
    pub user_data: [u8; 64],
    /// The customer the login server announced.
    pub customer_id: u32,
    /// 0 in the captures.
    pub flags: u32,
    /// `"4.5.0.0"` in the captures.
    pub dll_version: String,
    /// `"mco"` in the captures.
    pub host_name: String,
    /// The client's LAN address as text.
    pub local_ip: String,
    /// 16 unexplained bytes (perhaps a hash of the session key); kept,
    /// never checked, because nothing says how.
    pub hash: [u8; 16],
}

impl LobbyLogin {
    /// Parses the body after the 4-byte header.
    pub fn parse(body: &[u8]) -> Result<LobbyLogin, ParseError> {
        let mut r = Reader::new(body);
        let persona_id = r.u32("persona id")?;
        let persona_name = decode_latin1(r.str32("persona name")?);
        let user_data = r.array::<64>("user data")?;
        let customer_id = r.u32("customer id")?;
        let flags = r.u32("flags")?;
        let dll_version = decode_latin1(r.str32("dll version")?);
        let host_name = decode_latin1(r.str32("host name")?);
        let local_ip = decode_latin1(r.str32("local ip")?);
        let hash = r.array::<16>("hash")?;
        // The 143-byte variant in the community's flow log shows the tail
        // may differ; extra bytes are tolerated rather than refused.
        Ok(LobbyLogin {
            persona_id,
            persona_name,
            user_data,
            customer_id,
            flags,
            dll_version,
            host_name,
            local_ip,
            hash,
        })
    }

    /// The frame the client sends (simulator and tests).
    pub fn to_frame(&self) -> Result<NpsFrame, EncodeError> {
        let mut b = BytesMut::new();
        b.put_u32(self.persona_id);
        put_str32(&mut b, &self.persona_name)?;
        b.put_slice(&self.user_data);
        b.put_u32(self.customer_id);
        b.put_u32(self.flags);
        put_str32(&mut b, &self.dll_version)?;
        put_str32(&mut b, &self.host_name)?;
        put_str32(&mut b, &self.local_ip)?;
        b.put_slice(&self.hash);
        NpsFrame::short(ids::LOGIN, b.freeze())
    }
}

/// Total size of the 0x120 the client accepted twice. Its tail was a
/// serializer bug (the session key as text), so Pitlane keeps the size but
/// sends zeros there: the key must never travel in clear.
pub const LOGIN_RESP_LEN: usize = 84;

/// 0x120: the persona id after the 12-byte header, zero-filled to the
/// accepted length.
pub fn login_response(persona_id: u32) -> Result<NpsFrame, EncodeError> {
    let mut b = BytesMut::with_capacity(LOGIN_RESP_LEN);
    b.put_u32(persona_id);
    b.resize(LOGIN_RESP_LEN - super::LONG_HEADER_LEN, 0);
    NpsFrame::long(ids::LOGIN_RESP, 0, b.freeze())
}

/// The persona id of a 0x120.
pub fn parse_login_response(frame: &NpsFrame) -> Result<u32, ParseError> {
    if frame.id != ids::LOGIN_RESP {
        return Err(ParseError::WrongMessage {
            expected: ids::LOGIN_RESP,
            found: frame.id,
        });
    }
    Reader::new(&frame.body).u32("persona id")
}

/// A command inside 0x1101 (or a reply sent in clear): id and body, the
/// 4-byte inner header implied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inner {
    /// Inner message id.
    pub id: u16,
    /// Bytes after the inner header.
    pub body: Bytes,
}

impl Inner {
    /// An inner message.
    pub fn new(id: u16, body: impl Into<Bytes>) -> Inner {
        Inner {
            id,
            body: body.into(),
        }
    }

    /// Reads a decrypted plaintext: u16 id, u16 length counting the 4
    /// header bytes, payload; what follows the length is padding (0xCD from
    /// the client) and ignored.
    pub fn parse(plain: &[u8]) -> Result<Inner, ParseError> {
        let mut r = Reader::new(plain);
        let id = r.u16("inner id")?;
        let len = usize::from(r.u16("inner length")?);
        if len < SHORT_HEADER_LEN {
            return Err(ParseError::Invalid {
                field: "inner length",
                reason: "smaller than the inner header",
            });
        }
        let body = r.bytes(len - SHORT_HEADER_LEN, "inner body")?;
        Ok(Inner {
            id,
            body: Bytes::copy_from_slice(body),
        })
    }

    /// Header and body, padded with 0xCD to whole DES blocks as the client
    /// pads (the receiver ignores the padding whatever it is).
    pub fn to_padded(&self) -> Result<Vec<u8>, EncodeError> {
        let len = SHORT_HEADER_LEN + self.body.len();
        let len16 = u16::try_from(len).map_err(|_| EncodeError::TooLong {
            field: "inner message",
            len,
            max: usize::from(u16::MAX),
        })?;
        let mut out = Vec::with_capacity(len + 8);
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&len16.to_be_bytes());
        out.extend_from_slice(&self.body);
        while out.len() % 8 != 0 {
            out.push(0xCD);
        }
        Ok(out)
    }

    /// Encrypts into a 0x1101 frame, advancing `cipher`.
    pub fn seal(&self, cipher: &mut LobbyCipher) -> Result<NpsFrame, SealError> {
        let mut data = self.to_padded()?;
        cipher.encrypt(&mut data)?;
        Ok(NpsFrame::short(ids::ENCRYPTED, Bytes::from(data))?)
    }

    /// Decrypts a 0x1101 frame's body, advancing `cipher`.
    pub fn open(frame: &NpsFrame, cipher: &mut LobbyCipher) -> Result<Inner, SealError> {
        let mut data = frame.body.to_vec();
        cipher.decrypt(&mut data)?;
        Ok(Inner::parse(&data)?)
    }

    /// The same message sent in clear, with the 12-byte header every clear
    /// lobby reply the client accepted (0x120, 0x229) had.
    pub fn to_clear_frame(&self) -> Result<NpsFrame, EncodeError> {
        NpsFrame::long(self.id, 0, self.body.clone())
    }
}

/// Why a 0x1101 could not be opened or sealed.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// Not whole DES blocks.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The plaintext is not an inner message.
    #[error("inner message: {0}")]
    Parse(#[from] ParseError),
    /// Too long to encode.
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

fn put_str32(b: &mut BytesMut, text: &str) -> Result<(), EncodeError> {
    let bytes = encode_latin1(text);
    let len = bytes.len() + 1;
    let len32 = u32::try_from(len).map_err(|_| EncodeError::TooLong {
        field: "string",
        len,
        max: u32::MAX as usize,
    })?;
    b.put_u32(len32);
    b.put_slice(&bytes);
    b.put_u8(0);
    Ok(())
}

/// A channel ("riff") as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelEntry {
    /// Its id, which join, leave and the user list name.
    pub id: u32,
    /// Its name.
    pub name: String,
    /// Players in it now.
    pub population: u16,
}

/// 0x404 riff list [C]: u32 count, then per channel a u32-string name, u32
/// id and u16 population.
pub fn riff_list(channels: &[ChannelEntry]) -> Result<Inner, EncodeError> {
    let mut b = BytesMut::new();
    b.put_u32(count32(channels.len()));
    for c in channels {
        put_str32(&mut b, &c.name)?;
        b.put_u32(c.id);
        b.put_u16(c.population);
    }
    Ok(Inner::new(ids::RIFF_LIST, b.freeze()))
}

/// Reads a 0x404 body (simulator and tests).
pub fn parse_riff_list(body: &[u8]) -> Result<Vec<ChannelEntry>, ParseError> {
    let mut r = Reader::new(body);
    let n = r.u32("channel count")?;
    let mut out = Vec::new();
    for _ in 0..n {
        let name = decode_latin1(r.str32("channel name")?);
        let id = r.u32("channel id")?;
        let population = r.u16("population")?;
        out.push(ChannelEntry {
            id,
            name,
            population,
        });
    }
    r.finish()?;
    Ok(out)
}

/// A player in a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LobbyUser {
    /// Persona id.
    pub persona_id: u32,
    /// Persona name.
    pub name: String,
}

/// 0x229 mini user list [G]: u32 channel, u32 count, then per user u32
/// persona id and u32-string name (the community only ever sent a
/// zero-filled 387-byte stub).
pub fn mini_user_list(channel: u32, users: &[LobbyUser]) -> Result<Inner, EncodeError> {
    let mut b = BytesMut::new();
    b.put_u32(channel);
    b.put_u32(count32(users.len()));
    for u in users {
        b.put_u32(u.persona_id);
        put_str32(&mut b, &u.name)?;
    }
    Ok(Inner::new(ids::MINI_USER_LIST, b.freeze()))
}

/// Reads a 0x229 body.
pub fn parse_mini_user_list(body: &[u8]) -> Result<(u32, Vec<LobbyUser>), ParseError> {
    let mut r = Reader::new(body);
    let channel = r.u32("channel")?;
    let n = r.u32("user count")?;
    let mut users = Vec::new();
    for _ in 0..n {
        let persona_id = r.u32("persona id")?;
        let name = decode_latin1(r.str32("name")?);
        users.push(LobbyUser { persona_id, name });
    }
    r.finish()?;
    Ok((channel, users))
}

/// A body that is one u32 (channel ids in 0x105, 0x106, 0x128).
pub fn parse_u32(body: &[u8], field: &'static str) -> Result<u32, ParseError> {
    Reader::new(body).u32(field)
}

/// A body of u32 values.
pub fn u32s(values: &[u32]) -> Bytes {
    let mut b = BytesMut::with_capacity(values.len() * 4);
    for v in values {
        b.put_u32(*v);
    }
    b.freeze()
}

/// 0x20c: `u32 channel, u32 persona, u32-string name`.
pub fn user_joined(channel: u32, user: &LobbyUser) -> Result<Inner, EncodeError> {
    let mut b = BytesMut::new();
    b.put_u32(channel);
    b.put_u32(user.persona_id);
    put_str32(&mut b, &user.name)?;
    Ok(Inner::new(ids::USER_JOINED_CHANNEL, b.freeze()))
}

/// Chat text (client → server), Pitlane's layout: one u32-string.
pub fn chat(text: &str) -> Result<Inner, EncodeError> {
    let mut b = BytesMut::new();
    put_str32(&mut b, text)?;
    Ok(Inner::new(ids::CHAT, b.freeze()))
}

/// Reads the text of a chat command.
pub fn parse_chat(body: &[u8]) -> Result<String, ParseError> {
    let mut r = Reader::new(body);
    let text = decode_latin1(r.str32("chat text")?);
    Ok(text)
}

/// A chat line as relayed to a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatLine {
    /// The channel.
    pub channel: u32,
    /// Who said it.
    pub from: LobbyUser,
    /// What they said.
    pub text: String,
}

/// Relayed chat: `u32 channel, u32 persona, u32-string name, u32-string
/// text`.
pub fn chat_relay(line: &ChatLine) -> Result<Inner, EncodeError> {
    let mut b = BytesMut::new();
    b.put_u32(line.channel);
    b.put_u32(line.from.persona_id);
    put_str32(&mut b, &line.from.name)?;
    put_str32(&mut b, &line.text)?;
    Ok(Inner::new(ids::CHAT_RELAY, b.freeze()))
}

/// Reads relayed chat.
pub fn parse_chat_relay(body: &[u8]) -> Result<ChatLine, ParseError> {
    let mut r = Reader::new(body);
    let channel = r.u32("channel")?;
    let persona_id = r.u32("persona id")?;
    let name = decode_latin1(r.str32("name")?);
    let text = decode_latin1(r.str32("text")?);
    r.finish()?;
    Ok(ChatLine {
        channel,
        from: LobbyUser { persona_id, name },
        text,
    })
}

fn count32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inner_messages_round_trip_through_the_chain() {
        let key = [7u8; 8];
        let mut tx = LobbyCipher::from_des_key(key);
        let mut rx = LobbyCipher::from_des_key(key);
        for text in ["hi", "a longer line of chat text", ""] {
            let sent = chat(text).unwrap();
            let frame = sent.seal(&mut tx).unwrap();
            assert_eq!(frame.body.len() % 8, 0);
            let got = Inner::open(&frame, &mut rx).unwrap();
            assert_eq!(got, sent);
            assert_eq!(parse_chat(&got.body).unwrap(), text);
        }
    }

    #[test]
    fn login_response_has_the_accepted_size() {
        let frame = login_response(8675309).unwrap();
        assert_eq!(frame.total_len(), LOGIN_RESP_LEN);
        assert_eq!(parse_login_response(&frame).unwrap(), 8675309);
    }
}
