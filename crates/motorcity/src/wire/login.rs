//! Login server (TCP 8226) messages: 0x501 in, 0x601 or 0x602 out.

use bytes::{BufMut, BytesMut};

use super::ids;
use super::reader::{ParseError, Reader};
use super::text::{decode_latin1, encode_latin1};
use super::{EncodeError, NpsMessage};

/// Header version the client puts on 0x501 (and 0x503, 0x50f).
pub const CLIENT_LOGIN_VERSION: u16 = 0x0101;

/// The service id every captured 0x501 ends with; it is the same number the
/// client sends as `serviceID` to AuthLogin and names the game.
pub const MCO_SERVICE_ID: &str = "2176";

/// 0x501 NPS_USER_LOGIN (verified): the AuthLogin ticket and the session key,
/// RSA-encrypted to the key in the client's `pub.key`.
///
/// Body layout after the 12-byte header: u16-string ticket, u16 reserved,
/// u16-string of upper-case hex (256 characters = 128 ciphertext bytes),
/// u16-string service id, then 4 trailer bytes (`fe a3 1c 19` in every
/// capture; meaning unknown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserLogin {
    /// The ticket AuthLogin handed out, echoed byte for byte.
    pub ticket: String,
    /// 0 in every capture.
    pub reserved: u16,
    /// The RSA ciphertext, already hex-decoded.
    pub encrypted_session_key: Vec<u8>,
    /// `"2176"` for Motor City Online.
    pub service_id: String,
    /// The trailing 4 bytes. Optional because nothing depends on them and a
    /// body that simply ends after the service id is still unambiguous.
    pub trailer: Option<[u8; 4]>,
}

/// The trailer of every captured 0x501.
pub const USER_LOGIN_TRAILER: [u8; 4] = [0xfe, 0xa3, 0x1c, 0x19];

impl NpsMessage for UserLogin {
    const ID: u16 = ids::USER_LOGIN;
    const VERSION: u16 = CLIENT_LOGIN_VERSION;

    fn parse_body(body: &[u8]) -> Result<UserLogin, ParseError> {
        let mut r = Reader::new(body);
        let ticket = decode_latin1(r.str16("ticket")?);
        let reserved = r.u16("reserved")?;
        let hex_text = r.str16("encrypted session key")?;
        let encrypted_session_key = hex::decode(hex_text).map_err(|_| ParseError::Invalid {
            field: "encrypted session key",
            reason: "not an even number of hex digits",
        })?;
        let service_id = decode_latin1(r.str16("service id")?);
        let trailer = if r.remaining() == 0 {
            None
        } else {
            Some(r.array::<4>("trailer")?)
        };
        r.finish()?;
        Ok(UserLogin {
            ticket,
            reserved,
            encrypted_session_key,
            service_id,
            trailer,
        })
    }

    fn write_body(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        put_str16(out, &encode_latin1(&self.ticket), "ticket")?;
        out.put_u16(self.reserved);
        let hex_text = hex::encode_upper(&self.encrypted_session_key);
        put_str16(out, hex_text.as_bytes(), "encrypted session key")?;
        put_str16(out, &encode_latin1(&self.service_id), "service id")?;
        if let Some(trailer) = self.trailer {
            out.put_slice(&trailer);
        }
        Ok(())
    }
}

/// Total size of the 0x601 the client accepted in 2019 and 2023.
pub const USER_VALID_LEN: usize = 256;

/// Header version the accepted 0x601 carried at offset 4.
///
/// Bytes 4–11 of the 2023 reply were `21f9 0000 00000100`, which reads as
/// the long header with version 0x21f9 and the length repeated; the meaning
/// of 0x21f9 is unknown, so the accepted value is reproduced as is.
pub const USER_VALID_VERSION: u16 = 0x21f9;

/// Bytes 16..256 of the 0x601 the client accepted. The community server
/// copied them from a reply said to come from the live EA server; their
/// meaning is unknown, and a shorter or zeroed reply has never been tried
/// against a client, so they are sent unchanged.
pub const USER_VALID_ACCEPTED_TAIL: [u8; 240] = [
    0xec, 0xf7, 0xba, 0x7f, 0x45, 0x62, 0x53, 0x62, 0xfe, 0x53, 0x7b, 0x03, 0x11, 0x27, 0x72, 0xbd,
    0xa3, 0x3d, 0xa3, 0x06, 0x52, 0x3a, 0xfb, 0x7c, 0xd6, 0xd5, 0xdb, 0x85, 0x3d, 0x73, 0x66, 0x8f,
    0x26, 0x69, 0x65, 0x07, 0x37, 0x7a, 0xe8, 0xc9, 0x45, 0x99, 0x6a, 0xaf, 0xe5, 0xdf, 0x1c, 0xbd,
    0x1f, 0x30, 0xdc, 0x5a, 0x1a, 0x29, 0x4d, 0xab, 0x3d, 0x0b, 0x15, 0xdf, 0x33, 0x32, 0xdc, 0x1e,
    0xe8, 0x75, 0x8b, 0x54, 0x34, 0x26, 0x0d, 0x3a, 0xa2, 0xcf, 0x2d, 0x26, 0x3d, 0x7d, 0xf7, 0xec,
    0x3c, 0x52, 0xb2, 0x34, 0x57, 0xc1, 0x07, 0xd7, 0x6a, 0xd4, 0xdc, 0x1e, 0xd0, 0x07, 0x31, 0xdd,
    0xe7, 0x92, 0x4b, 0xf2, 0x56, 0xc8, 0xb1, 0x00, 0x4d, 0xd6, 0xe8, 0x79, 0x14, 0xf0, 0x72, 0x71,
    0x41, 0x6d, 0xce, 0x11, 0xe2, 0xae, 0x9d, 0xec, 0x55, 0x6e, 0xdd, 0xdf, 0xfa, 0xdb, 0x09, 0x74,
    0x61, 0x8c, 0x67, 0xf6, 0xf7, 0x65, 0xf3, 0x98, 0xfd, 0x6d, 0x97, 0x4b, 0x3f, 0x54, 0x85, 0x4f,
    0x2a, 0x69, 0x02, 0xbe, 0xb6, 0xd4, 0xa3, 0x2f, 0x5b, 0x86, 0x58, 0x19, 0xbd, 0xa9, 0x9e, 0x21,
    0x63, 0x50, 0x9c, 0x43, 0x83, 0x42, 0xfa, 0xa5, 0x81, 0x5c, 0x1f, 0xad, 0x06, 0x64, 0x64, 0x7f,
    0xe1, 0x2b, 0xdb, 0xd0, 0xee, 0xa6, 0x04, 0x11, 0x9a, 0x00, 0x00, 0x00, 0x00, 0xb4, 0x43, 0xf5,
    0x00, 0x00, 0x27, 0x1f, 0x07, 0xa3, 0xbf, 0x17, 0x3d, 0x9b, 0x2e, 0xde, 0xae, 0xdf, 0x46, 0x2f,
    0x30, 0x11, 0x70, 0xbe, 0x5f, 0x90, 0x46, 0x0c, 0x28, 0x33, 0xf0, 0x08, 0x88, 0x03, 0x05, 0xbf,
    0xe5, 0x53, 0xcd, 0xfa, 0x45, 0x77, 0x2e, 0x90, 0xf3, 0x4d, 0xd1, 0x44, 0x89, 0x00, 0x00, 0x00,
];

/// 0x601 NPS_USER_VALID (accepted): login accepted.
///
/// The client reads the customer id as u32 BE at offset 12 and sends it back
/// in its next request (0x532); nothing else in the reply is understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserValid {
    /// The customer (account) id the client will quote from now on.
    pub customer_id: u32,
    /// Opaque bytes after the customer id.
    pub tail: Vec<u8>,
}

impl UserValid {
    /// The reply the client accepted, with this customer's id.
    pub fn new(customer_id: u32) -> UserValid {
        UserValid {
            customer_id,
            tail: USER_VALID_ACCEPTED_TAIL.to_vec(),
        }
    }
}

impl NpsMessage for UserValid {
    const ID: u16 = ids::USER_VALID;
    const VERSION: u16 = USER_VALID_VERSION;

    fn parse_body(body: &[u8]) -> Result<UserValid, ParseError> {
        let mut r = Reader::new(body);
        let customer_id = r.u32("customer id")?;
        let tail = r.bytes(r.remaining(), "tail")?.to_vec();
        Ok(UserValid { customer_id, tail })
    }

    fn write_body(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        out.put_u32(self.customer_id);
        out.put_slice(&self.tail);
        Ok(())
    }
}

/// 0x602 (community): login refused.
///
/// Only its id comes from the community code; no capture shows a client
/// receiving it. It is sent header-only so that the client sees a definite
/// "no" before the connection closes, rather than a silent hang-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserInvalid;

impl NpsMessage for UserInvalid {
    const ID: u16 = ids::USER_INVALID;
    const VERSION: u16 = 0;

    fn parse_body(_body: &[u8]) -> Result<UserInvalid, ParseError> {
        Ok(UserInvalid)
    }

    fn write_body(&self, _out: &mut BytesMut) -> Result<(), EncodeError> {
        Ok(())
    }
}

/// Appends a u16-length-prefixed string.
pub(crate) fn put_str16(
    out: &mut BytesMut,
    bytes: &[u8],
    field: &'static str,
) -> Result<(), EncodeError> {
    let len = u16::try_from(bytes.len()).map_err(|_| EncodeError::TooLong {
        field,
        len: bytes.len(),
        max: usize::from(u16::MAX),
    })?;
    out.put_u16(len);
    out.put_slice(bytes);
    Ok(())
}
