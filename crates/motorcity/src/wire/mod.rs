//! NPS, the binary protocol of the login (8226), persona (8228) and lobby
//! (7003) servers.
//!
//! Every NPS message starts with a big-endian message id and a big-endian
//! total length. Whether the 8-byte extension (version, reserved, repeated
//! length) follows is fixed per message id and not signalled on the wire, so
//! the codec decides it from [`HeaderForm::for_message`]; the community's
//! "look at bytes 4–5" heuristic mis-parses 0x532.

mod codec;
mod header;
pub mod ids;
mod io;
pub mod lobby;
pub mod login;
pub mod persona;
mod reader;
mod text;

pub use codec::{FrameError, NpsCodec, DEFAULT_MAX_FRAME_LEN};
pub use header::{Direction, HeaderForm, LongHeader, NpsFrame, LONG_HEADER_LEN, SHORT_HEADER_LEN};
pub use io::{read_frame, write_frame};
pub use reader::ParseError;
pub use text::{decode_latin1, encode_latin1};

use bytes::BytesMut;

/// A typed NPS message that travels with the 12-byte header.
///
/// Every login and persona message seen in captures uses the long form, so
/// the trait builds and checks that form; the version value differs per
/// message (0x0101 on some client requests, 0 on most replies) and is part of
/// the accepted bytes, which is why it is a per-type constant.
pub trait NpsMessage: Sized {
    /// Message id, the first u16 of the frame.
    const ID: u16;
    /// Value written at offset 4 when this crate sends the message.
    const VERSION: u16;

    /// Parses the bytes after the 12-byte header.
    fn parse_body(body: &[u8]) -> Result<Self, ParseError>;

    /// Appends the bytes after the 12-byte header.
    fn write_body(&self, out: &mut BytesMut) -> Result<(), EncodeError>;

    /// Checks the id and header form of a decoded frame, then parses it.
    fn from_frame(frame: &NpsFrame) -> Result<Self, ParseError> {
        if frame.id != Self::ID {
            return Err(ParseError::WrongMessage {
                expected: Self::ID,
                found: frame.id,
            });
        }
        if frame.long.is_none() {
            return Err(ParseError::MissingLongHeader { id: frame.id });
        }
        Self::parse_body(&frame.body)
    }

    /// Builds the frame with the long header this message uses.
    fn to_frame(&self) -> Result<NpsFrame, EncodeError> {
        let mut body = BytesMut::new();
        self.write_body(&mut body)?;
        NpsFrame::long(Self::ID, Self::VERSION, body.freeze())
    }
}

/// Why a message could not be turned into bytes.
///
/// Only lengths can fail: NPS counts with u16 fields, and a value that does
/// not fit must be refused rather than silently truncated into a frame the
/// client would misread.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A field or the whole frame is longer than its length field can say.
    #[error("{field} is {len} bytes, more than its length field allows ({max})")]
    TooLong {
        /// Which field overflowed.
        field: &'static str,
        /// Its length.
        len: usize,
        /// The largest length the wire format can carry there.
        max: usize,
    },
}
