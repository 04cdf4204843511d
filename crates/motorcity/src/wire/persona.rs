//! Persona server (TCP 8228) messages.

use bytes::{BufMut, BytesMut};

use super::ids;
use super::login::{put_str16, CLIENT_LOGIN_VERSION};
use super::reader::{ParseError, Reader};
use super::text::{decode_latin1, encode_latin1};
use super::{EncodeError, NpsMessage};

/// 0x532 NPS_GET_PERSONA_MAPS (verified): the customer id from the 0x601.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetPersonaMaps {
    /// The customer whose personas the client wants.
    pub customer_id: u32,
}

impl NpsMessage for GetPersonaMaps {
    const ID: u16 = ids::GET_PERSONA_MAPS;
    const VERSION: u16 = 0;

    fn parse_body(body: &[u8]) -> Result<GetPersonaMaps, ParseError> {
        let mut r = Reader::new(body);
        let customer_id = r.u32("customer id")?;
        r.finish()?;
        Ok(GetPersonaMaps { customer_id })
    }

    fn write_body(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        out.put_u32(self.customer_id);
        Ok(())
    }
}

/// Size of one record in the 0x607 reply.
pub const PERSONA_RECORD_LEN: usize = 38;
/// Width of the NUL-padded name field in a 0x607 record.
pub const PERSONA_NAME_FIELD_LEN: usize = 16;
/// Byte at record offset 5 in the accepted reply (2; perhaps "max
/// personas", unproven). Sent as accepted rather than derived from config.
const RECORD_BYTE_5: u8 = 2;
/// u16 at record offset 20 in the accepted reply (0x1e; meaning unknown).
const RECORD_U16_20: u16 = 0x1e;

/// One persona as the client sees it in 0x607.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonaMapEntry {
    /// Persona id; the client quotes it back in 0x503.
    pub persona_id: u32,
    /// Shard id; the client quotes it back in 0x503.
    pub shard_id: u32,
    /// Display name, at most 15 bytes on the wire (16 with the NUL).
    pub name: String,
}

/// 0x607 persona maps reply (accepted): 12-byte header, then one 38-byte record
/// per persona.
///
/// The client took persona id (record +8), shard id (+12) and name (+22)
/// from the accepted reply; the other fields are written exactly as in that
/// reply, including the persona count at +0 of every record. With no
/// personas one all-zero record (count 0) is sent, so that the count the
/// client reads at offset 12 exists; that case has never met a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonaMaps {
    /// The personas, in the order the client should list them.
    pub entries: Vec<PersonaMapEntry>,
}

impl NpsMessage for PersonaMaps {
    const ID: u16 = ids::PERSONA_MAPS;
    const VERSION: u16 = 0;

    fn parse_body(body: &[u8]) -> Result<PersonaMaps, ParseError> {
        if body.is_empty() || body.len() % PERSONA_RECORD_LEN != 0 {
            return Err(ParseError::Invalid {
                field: "persona records",
                reason: "body is not a whole, non-zero number of 38-byte records",
            });
        }
        let records = body.len() / PERSONA_RECORD_LEN;
        let count = usize::from(u16::from_be_bytes([body[0], body[1]]));
        if count > records {
            return Err(ParseError::Invalid {
                field: "persona count",
                reason: "more personas than records",
            });
        }
        let mut entries = Vec::with_capacity(count);
        for record in body.chunks_exact(PERSONA_RECORD_LEN).take(count) {
            let mut r = Reader::new(record);
            r.bytes(8, "record head")?;
            let persona_id = r.u32("persona id")?;
            let shard_id = r.u32("shard id")?;
            r.bytes(6, "record middle")?;
            let name_field = r.bytes(PERSONA_NAME_FIELD_LEN, "persona name")?;
            let end = name_field
                .iter()
                .position(|&b| b == 0)
                .unwrap_or(name_field.len());
            entries.push(PersonaMapEntry {
                persona_id,
                shard_id,
                name: decode_latin1(&name_field[..end]),
            });
        }
        Ok(PersonaMaps { entries })
    }

    fn write_body(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        let count = u16::try_from(self.entries.len()).map_err(|_| EncodeError::TooLong {
            field: "persona list",
            len: self.entries.len(),
            max: usize::from(u16::MAX),
        })?;
        if self.entries.is_empty() {
            out.put_bytes(0, PERSONA_RECORD_LEN);
            return Ok(());
        }
        for entry in &self.entries {
            out.put_u16(count);
            out.put_u16(0);
            out.put_u8(0);
            out.put_u8(RECORD_BYTE_5);
            out.put_u16(0);
            out.put_u32(entry.persona_id);
            out.put_u32(entry.shard_id);
            out.put_u32(0);
            out.put_u16(RECORD_U16_20);
            let mut name = encode_latin1(&entry.name);
            name.truncate(PERSONA_NAME_FIELD_LEN - 1);
            name.resize(PERSONA_NAME_FIELD_LEN, 0);
            out.put_slice(&name);
        }
        Ok(())
    }
}

/// The body shared by 0x503 (select persona (verified)) and 0x50f (log the
/// persona out (community)): three u32 BE ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersonaSelection {
    /// The customer id from 0x601.
    pub customer_id: u32,
    /// The persona id from 0x607.
    pub persona_id: u32,
    /// The shard id from 0x607 (and the shard list).
    pub shard_id: u32,
}

impl PersonaSelection {
    fn parse(body: &[u8]) -> Result<PersonaSelection, ParseError> {
        let mut r = Reader::new(body);
        let customer_id = r.u32("customer id")?;
        let persona_id = r.u32("persona id")?;
        let shard_id = r.u32("shard id")?;
        r.finish()?;
        Ok(PersonaSelection {
            customer_id,
            persona_id,
            shard_id,
        })
    }

    fn write(&self, out: &mut BytesMut) {
        out.put_u32(self.customer_id);
        out.put_u32(self.persona_id);
        out.put_u32(self.shard_id);
    }
}

/// 0x503 NPS_REGISTER_GAME_LOGIN (verified): the player picked a persona.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegisterGameLogin(pub PersonaSelection);

impl NpsMessage for RegisterGameLogin {
    const ID: u16 = ids::REGISTER_GAME_LOGIN;
    const VERSION: u16 = CLIENT_LOGIN_VERSION;

    fn parse_body(body: &[u8]) -> Result<RegisterGameLogin, ParseError> {
        PersonaSelection::parse(body).map(RegisterGameLogin)
    }

    fn write_body(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        self.0.write(out);
        Ok(())
    }
}

/// 0x50f NPS_REGISTER_GAME_LOGOUT (community): same body as 0x503.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegisterGameLogout(pub PersonaSelection);

impl NpsMessage for RegisterGameLogout {
    const ID: u16 = ids::REGISTER_GAME_LOGOUT;
    const VERSION: u16 = CLIENT_LOGIN_VERSION;

    fn parse_body(body: &[u8]) -> Result<RegisterGameLogout, ParseError> {
        PersonaSelection::parse(body).map(RegisterGameLogout)
    }

    fn write_body(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        self.0.write(out);
        Ok(())
    }
}

/// Body length of the 0x207 the client accepted (263 bytes in all).
pub const ACK_BODY_LEN: usize = 251;

/// 0x207 NPS_ACK (accepted): 12-byte header and 251 zero bytes, exactly as the
/// client accepted after 0x503. What the body means is unknown; the zeros
/// are what worked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NpsAck;

impl NpsMessage for NpsAck {
    const ID: u16 = ids::ACK;
    const VERSION: u16 = 0;

    fn parse_body(_body: &[u8]) -> Result<NpsAck, ParseError> {
        Ok(NpsAck)
    }

    fn write_body(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        out.put_bytes(0, ACK_BODY_LEN);
        Ok(())
    }
}

/// 0x533 NPS_VALIDATE_PERSONA_NAME (verified request): is this name free?
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatePersonaName {
    /// The asking customer.
    pub customer_id: u32,
    /// The wanted persona name.
    pub name: String,
    /// `"Motor City"` in the capture.
    pub game: String,
}

impl NpsMessage for ValidatePersonaName {
    const ID: u16 = ids::VALIDATE_PERSONA_NAME;
    const VERSION: u16 = 0;

    fn parse_body(body: &[u8]) -> Result<ValidatePersonaName, ParseError> {
        let mut r = Reader::new(body);
        let customer_id = r.u32("customer id")?;
        let name = decode_latin1(r.str16("persona name")?);
        let game = decode_latin1(r.str16("game name")?);
        r.finish()?;
        Ok(ValidatePersonaName {
            customer_id,
            name,
            game,
        })
    }

    fn write_body(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        out.put_u32(self.customer_id);
        put_str16(out, &encode_latin1(&self.name), "persona name")?;
        put_str16(out, &encode_latin1(&self.game), "game name")?;
        Ok(())
    }
}

/// 0x534 NPS_CHECK_TOKEN (verified request), used as a licence-plate text check:
/// u32 plate type, u16-string text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckPlateText {
    /// 2 in the capture.
    pub plate_type: u32,
    /// The wanted plate text.
    pub text: String,
}

impl NpsMessage for CheckPlateText {
    const ID: u16 = ids::CHECK_TOKEN;
    const VERSION: u16 = 0;

    fn parse_body(body: &[u8]) -> Result<CheckPlateText, ParseError> {
        let mut r = Reader::new(body);
        let plate_type = r.u32("plate type")?;
        let text = decode_latin1(r.str16("plate text")?);
        r.finish()?;
        Ok(CheckPlateText { plate_type, text })
    }

    fn write_body(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        out.put_u32(self.plate_type);
        put_str16(out, &encode_latin1(&self.text), "plate text")?;
        Ok(())
    }
}

/// 0x601 as the answer to 0x533 (community): the name is free. The community
/// server sends it header-only; no capture shows the client's reaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameAvailable;

impl NpsMessage for NameAvailable {
    const ID: u16 = ids::USER_VALID;
    const VERSION: u16 = 0;

    fn parse_body(_body: &[u8]) -> Result<NameAvailable, ParseError> {
        Ok(NameAvailable)
    }

    fn write_body(&self, _out: &mut BytesMut) -> Result<(), EncodeError> {
        Ok(())
    }
}

/// 0x20a NPS_DUP_USER as the answer to 0x533 (community): the name is taken (or
/// not allowed). Header-only, like the community's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameTaken;

impl NpsMessage for NameTaken {
    const ID: u16 = ids::DUP_USER;
    const VERSION: u16 = 0;

    fn parse_body(_body: &[u8]) -> Result<NameTaken, ParseError> {
        Ok(NameTaken)
    }

    fn write_body(&self, _out: &mut BytesMut) -> Result<(), EncodeError> {
        Ok(())
    }
}
