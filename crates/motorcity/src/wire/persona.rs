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

/// The game name the client sends in 0x533 (verified), reused in 0x507.
pub const GAME_NAME: &str = "Motor City";

/// 0x507 NPS_NEW_GAME_ACCOUNT: create a persona. **Unverified**: no capture
/// of this message exists and the community handler never reads its body,
/// so the layout is Pitlane's choice, built from verified neighbours: the
/// body of 0x533 (u32 customer id, u16-string name, u16-string game name),
/// which the client sends just before to check the same name, followed by
/// the u32 shard id that 0x503 carries, because a persona lives on one
/// shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGameAccount {
    /// The customer creating the persona.
    pub customer_id: u32,
    /// The wanted persona name.
    pub name: String,
    /// `"Motor City"`, as in 0x533.
    pub game: String,
    /// The shard (from the ShardList) the persona will live on.
    pub shard_id: u32,
}

impl NpsMessage for NewGameAccount {
    const ID: u16 = ids::NEW_GAME_ACCOUNT;
    /// The version the client puts on the login-table requests that change
    /// state (0x501, 0x503, 0x50f); a choice, the server does not check it.
    const VERSION: u16 = CLIENT_LOGIN_VERSION;

    fn parse_body(body: &[u8]) -> Result<NewGameAccount, ParseError> {
        let mut r = Reader::new(body);
        let customer_id = r.u32("customer id")?;
        let name = decode_latin1(r.str16("persona name")?);
        let game = decode_latin1(r.str16("game name")?);
        let shard_id = r.u32("shard id")?;
        r.finish()?;
        Ok(NewGameAccount {
            customer_id,
            name,
            game,
            shard_id,
        })
    }

    fn write_body(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        out.put_u32(self.customer_id);
        put_str16(out, &encode_latin1(&self.name), "persona name")?;
        put_str16(out, &encode_latin1(&self.game), "game name")?;
        out.put_u32(self.shard_id);
        Ok(())
    }
}

/// 0x512 NPS_DELETE_GAME_PERSONA: delete a persona. **Unverified**: no
/// capture and no community handler; the body (u32 customer id, u32
/// persona id) is Pitlane's choice, the two ids every persona request
/// carries, in the order of 0x503.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeleteGamePersona {
    /// The customer owning the persona.
    pub customer_id: u32,
    /// The persona to delete, as listed in 0x607.
    pub persona_id: u32,
}

impl NpsMessage for DeleteGamePersona {
    const ID: u16 = ids::DELETE_GAME_PERSONA;
    /// As for [`NewGameAccount`]: a choice, not checked.
    const VERSION: u16 = CLIENT_LOGIN_VERSION;

    fn parse_body(body: &[u8]) -> Result<DeleteGamePersona, ParseError> {
        let mut r = Reader::new(body);
        let customer_id = r.u32("customer id")?;
        let persona_id = r.u32("persona id")?;
        r.finish()?;
        Ok(DeleteGamePersona {
            customer_id,
            persona_id,
        })
    }

    fn write_body(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        out.put_u32(self.customer_id);
        out.put_u32(self.persona_id);
        Ok(())
    }
}

/// Defines a reply that is the 12-byte header alone (version 0), the form
/// of every community reply without a body.
macro_rules! header_only_reply {
    ($(#[$doc:meta])* $name:ident = $id:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name;

        impl NpsMessage for $name {
            const ID: u16 = $id;
            const VERSION: u16 = 0;

            fn parse_body(_body: &[u8]) -> Result<$name, ParseError> {
                Ok($name)
            }

            fn write_body(&self, _out: &mut BytesMut) -> Result<(), EncodeError> {
                Ok(())
            }
        }
    };
}

header_only_reply!(
    /// 0x601 as the answer to 0x507 (community): persona created. The
    /// community server answers 0x507 with exactly this, header-only; the
    /// client learns the new persona's id from the next 0x532.
    PersonaCreated = ids::USER_VALID
);

header_only_reply!(
    /// 0x640 NPS_SHARD_PERSONA_LIMIT_REACHED as the answer to 0x507
    /// (unverified): the account has `MaxPersonasPerUser` personas. The id
    /// comes from the NPS opcode list; no server is known to have sent it.
    PersonaLimitReached = ids::SHARD_PERSONA_LIMIT_REACHED
);

header_only_reply!(
    /// 0x60c NPS_USER_DELETED as the answer to 0x512 (unverified): the
    /// persona is gone. The id is named in community code; no capture.
    PersonaDeleted = ids::USER_DELETED
);

header_only_reply!(
    /// 0x624 NPS_PERSONA_DELETION_DENY as the answer to 0x512
    /// (unverified): no such persona on this account. The id comes from
    /// the NPS opcode list; no server is known to have sent it.
    PersonaDeletionDenied = ids::PERSONA_DELETION_DENY
);

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(frame: &crate::wire::NpsFrame) -> Vec<u8> {
        use tokio_util::codec::Encoder;
        let mut out = BytesMut::new();
        crate::wire::NpsCodec::server(4096)
            .encode(frame.clone(), &mut out)
            .unwrap();
        out.to_vec()
    }

    #[test]
    fn new_game_account_layout() {
        let request = NewGameAccount {
            customer_id: 5_551_212,
            name: "Dr Brown".into(),
            game: GAME_NAME.into(),
            shard_id: 44,
        };
        let frame = request.to_frame().unwrap();
        let bytes = wire(&frame);
        let mut expected = hex::decode("0507002a01010000 0000002a".replace(' ', "")).unwrap();
        expected.extend_from_slice(&5_551_212u32.to_be_bytes());
        expected.extend_from_slice(b"\x00\x08Dr Brown\x00\x0aMotor City");
        expected.extend_from_slice(&44u32.to_be_bytes());
        assert_eq!(bytes, expected);
        assert_eq!(NewGameAccount::from_frame(&frame), Ok(request));
    }

    #[test]
    fn new_game_account_refuses_short_or_long_bodies() {
        let mut body = BytesMut::new();
        NewGameAccount {
            customer_id: 1,
            name: "abc".into(),
            game: GAME_NAME.into(),
            shard_id: 44,
        }
        .write_body(&mut body)
        .unwrap();
        assert!(NewGameAccount::parse_body(&body[..body.len() - 1]).is_err());
        let mut longer = body.to_vec();
        longer.push(0);
        assert_eq!(
            NewGameAccount::parse_body(&longer),
            Err(ParseError::TrailingBytes { count: 1 })
        );
        // A name length running past the end is an error, not a panic.
        assert!(NewGameAccount::parse_body(&[0, 0, 0, 1, 0xff, 0xff, b'a']).is_err());
    }

    #[test]
    fn delete_game_persona_layout() {
        let request = DeleteGamePersona {
            customer_id: 5_551_212,
            persona_id: 8_675_309,
        };
        let frame = request.to_frame().unwrap();
        assert_eq!(
            hex::encode(wire(&frame)),
            "0512001401010000000000140054b46c00845fed"
        );
        assert_eq!(DeleteGamePersona::from_frame(&frame), Ok(request));
        assert!(DeleteGamePersona::parse_body(&[0; 7]).is_err());
        assert!(DeleteGamePersona::parse_body(&[0; 9]).is_err());
    }

    #[test]
    fn header_only_replies() {
        for (frame, expected) in [
            (PersonaCreated.to_frame(), "0601000c000000000000000c"),
            (PersonaLimitReached.to_frame(), "0640000c000000000000000c"),
            (PersonaDeleted.to_frame(), "060c000c000000000000000c"),
            (PersonaDeletionDenied.to_frame(), "0624000c000000000000000c"),
        ] {
            assert_eq!(hex::encode(wire(&frame.unwrap())), expected);
        }
    }
}
