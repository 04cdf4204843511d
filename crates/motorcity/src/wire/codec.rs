use std::io;

use bytes::{Buf, BufMut, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::header::{Direction, HeaderForm, LongHeader, NpsFrame};

/// Default cap on one NPS message, header included.
///
/// The largest login/persona message seen is the 318-byte 0x501; the longest
/// reply the client accepted is the 263-byte 0x207. 4 KiB leaves room for the
/// uncaptured persona-creation request while keeping what a hostile peer can
/// make the server buffer small.
pub const DEFAULT_MAX_FRAME_LEN: usize = 4096;

/// Why a byte stream could not be cut into NPS messages.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The length field is smaller than the header it must include; no
    /// client sends that, so the stream is not NPS or is out of step.
    #[error("message {id:#06x} declares {length} bytes, less than its {header}-byte header")]
    LengthBelowHeader {
        /// Message id read from the header.
        id: u16,
        /// Declared total length.
        length: usize,
        /// Header size for this id.
        header: usize,
    },
    /// The declared or encoded length exceeds the configured cap.
    #[error("message {id:#06x} is {length} bytes, above the {max}-byte cap")]
    TooLong {
        /// Message id.
        id: u16,
        /// Declared or encoded total length.
        length: usize,
        /// The cap.
        max: usize,
    },
    /// The peer closed the connection part-way through a message.
    #[error("connection closed with {buffered} bytes of an unfinished message")]
    Truncated {
        /// Bytes received of the unfinished message.
        buffered: usize,
    },
    /// The socket failed.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
}

impl FrameError {
    /// Whether the client simply went away (closed or reset the
    /// connection): an everyday event, logged at debug, not a warning.
    pub fn is_disconnect(&self) -> bool {
        match self {
            FrameError::Io(e) => matches!(
                e.kind(),
                io::ErrorKind::BrokenPipe
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::UnexpectedEof
            ),
            _ => false,
        }
    }
}

/// Cuts a TCP stream into [`NpsFrame`]s by the length field and writes frames
/// back.
///
/// The client may coalesce or split messages across segments (the community
/// server assumed one message per `recv`), so framing is by the length field
/// only. Decoding needs to know which way the bytes travel because the
/// header form is fixed per id and direction; encoding writes whatever form
/// the frame carries.
#[derive(Debug, Clone)]
pub struct NpsCodec {
    incoming: Direction,
    max_frame_len: usize,
}

impl NpsCodec {
    /// A codec that decodes messages travelling `incoming` and refuses any
    /// message longer than `max_frame_len` bytes.
    pub fn new(incoming: Direction, max_frame_len: usize) -> NpsCodec {
        NpsCodec {
            incoming,
            max_frame_len,
        }
    }

    /// The server side: decodes what clients send.
    pub fn server(max_frame_len: usize) -> NpsCodec {
        NpsCodec::new(Direction::ClientToServer, max_frame_len)
    }

    /// The client side (tests, the simulator): decodes what servers send.
    pub fn client(max_frame_len: usize) -> NpsCodec {
        NpsCodec::new(Direction::ServerToClient, max_frame_len)
    }
}

impl Decoder for NpsCodec {
    type Item = NpsFrame;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<NpsFrame>, FrameError> {
        if src.len() < 4 {
            return Ok(None);
        }
        let id = u16::from_be_bytes([src[0], src[1]]);
        let length = usize::from(u16::from_be_bytes([src[2], src[3]]));
        let form = HeaderForm::for_message(self.incoming, id);
        if length < form.header_len() {
            return Err(FrameError::LengthBelowHeader {
                id,
                length,
                header: form.header_len(),
            });
        }
        if length > self.max_frame_len {
            return Err(FrameError::TooLong {
                id,
                length,
                max: self.max_frame_len,
            });
        }
        if src.len() < length {
            src.reserve(length - src.len());
            return Ok(None);
        }
        let mut frame = src.split_to(length);
        frame.advance(4);
        let long = match form {
            HeaderForm::Short => None,
            HeaderForm::Long => {
                let version = frame.get_u16();
                let reserved = frame.get_u16();
                let checksum = frame.get_u32();
                Some(LongHeader {
                    version,
                    reserved,
                    checksum,
                })
            }
        };
        Ok(Some(NpsFrame {
            id,
            long,
            body: frame.freeze(),
        }))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<NpsFrame>, FrameError> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None if src.is_empty() => Ok(None),
            None => Err(FrameError::Truncated {
                buffered: src.len(),
            }),
        }
    }
}

impl Encoder<NpsFrame> for NpsCodec {
    type Error = FrameError;

    fn encode(&mut self, frame: NpsFrame, dst: &mut BytesMut) -> Result<(), FrameError> {
        let total = frame.total_len();
        let max = self.max_frame_len.min(usize::from(u16::MAX));
        let length = match u16::try_from(total) {
            Ok(length) if total <= max => length,
            _ => {
                return Err(FrameError::TooLong {
                    id: frame.id,
                    length: total,
                    max,
                })
            }
        };
        dst.reserve(total);
        dst.put_u16(frame.id);
        dst.put_u16(length);
        if let Some(long) = frame.long {
            dst.put_u16(long.version);
            dst.put_u16(long.reserved);
            dst.put_u32(long.checksum);
        }
        dst.extend_from_slice(&frame.body);
        Ok(())
    }
}
