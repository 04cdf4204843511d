use bytes::Bytes;

use super::EncodeError;

/// Size of the id + length header every NPS message has.
pub const SHORT_HEADER_LEN: usize = 4;
/// Size of the header with the version/reserved/length extension.
pub const LONG_HEADER_LEN: usize = 12;

/// Which way a message travels; the header layout table depends on it
/// because the same id range means different things each way (0x120 is the
/// lobby's long-form login reply, 0x128 a short-form client command).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Sent by the game client.
    ClientToServer,
    /// Sent by a server.
    ServerToClient,
}

/// The two NPS header layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderForm {
    /// `u16 id, u16 total length`.
    Short,
    /// Short header plus `u16 version, u16 reserved, u32 length again`.
    Long,
}

impl HeaderForm {
    /// Bytes taken by the header.
    pub fn header_len(self) -> usize {
        match self {
            HeaderForm::Short => SHORT_HEADER_LEN,
            HeaderForm::Long => LONG_HEADER_LEN,
        }
    }

    /// The layout a message id uses, from the captures (spec §5).
    ///
    /// Client → server: the login-table ids 0x501–0x5ff carry the long
    /// header (0x501, 0x503, 0x50f, 0x532, 0x533 and 0x534 were seen), while
    /// the lobby login 0x100, the encrypted wrapper 0x1101, the heartbeat
    /// 0x217 and the commands inside 0x1101 carry the short one. Ids not in
    /// the login table default to short because only the 4-byte part is
    /// common to every message.
    ///
    /// Server → client: every reply seen (0x601, 0x607, 0x207, 0x120, 0x229)
    /// used the long header, so that is the default; the 4-byte lobby
    /// greeting 0x230 of the newest community code and the encrypted
    /// wrapper 0x1101 (whose inner message carries its own 4-byte header)
    /// are the short exceptions.
    pub fn for_message(direction: Direction, id: u16) -> HeaderForm {
        match direction {
            Direction::ClientToServer => match id {
                0x0501..=0x05ff => HeaderForm::Long,
                _ => HeaderForm::Short,
            },
            Direction::ServerToClient => match id {
                0x0230 | 0x1101 => HeaderForm::Short,
                _ => HeaderForm::Long,
            },
        }
    }
}

/// The 8 bytes that follow id and length in the long header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongHeader {
    /// `0x0101` on some client requests, `0` on most replies.
    pub version: u16,
    /// Always 0 in client captures.
    pub reserved: u16,
    /// Named "checksum" by the community, but equal to the total length in
    /// every capture. Kept as read, not checked, because its meaning is not
    /// proven and a real client must not be refused over it.
    pub checksum: u32,
}

/// One NPS message: id, optional header extension, and the bytes after the
/// header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpsFrame {
    /// Message id.
    pub id: u16,
    /// `Some` for the 12-byte header form.
    pub long: Option<LongHeader>,
    /// Everything after the header.
    pub body: Bytes,
}

impl NpsFrame {
    /// A frame with the 4-byte header.
    pub fn short(id: u16, body: Bytes) -> Result<NpsFrame, EncodeError> {
        check_total(SHORT_HEADER_LEN + body.len())?;
        Ok(NpsFrame {
            id,
            long: None,
            body,
        })
    }

    /// A frame with the 12-byte header, reserved 0 and the total length
    /// repeated at offset 8, as in every reply the client accepted.
    pub fn long(id: u16, version: u16, body: Bytes) -> Result<NpsFrame, EncodeError> {
        let total = check_total(LONG_HEADER_LEN + body.len())?;
        Ok(NpsFrame {
            id,
            long: Some(LongHeader {
                version,
                reserved: 0,
                checksum: u32::from(total),
            }),
            body,
        })
    }

    /// The header layout of this frame.
    pub fn form(&self) -> HeaderForm {
        if self.long.is_some() {
            HeaderForm::Long
        } else {
            HeaderForm::Short
        }
    }

    /// Total bytes on the wire, header included.
    pub fn total_len(&self) -> usize {
        self.form().header_len() + self.body.len()
    }
}

fn check_total(total: usize) -> Result<u16, EncodeError> {
    u16::try_from(total).map_err(|_| EncodeError::TooLong {
        field: "NPS message",
        len: total,
        max: usize::from(u16::MAX),
    })
}
