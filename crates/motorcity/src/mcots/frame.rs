//! `TOMC` frames of MCOTS (TCP 43300), spec §8: u16 LE length excluding
//! itself, the ASCII signature, u32 LE sequence, u8 flags, payload.

use std::io;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

/// The signature after the length.
pub const SIGNATURE: &[u8; 4] = b"TOMC";
/// Bytes the length field counts besides the payload: signature,
/// sequence, flags.
pub const HEAD_AFTER_LEN: usize = 9;
/// Flag bit: the payload is RC4-encrypted.
pub const FLAG_ENCRYPTED: u8 = 0x08;
/// Default cap on one frame. The biggest captured is the 584-byte lobby
/// list; a parts list of a whole car (255 × 34 bytes) fits too.
pub const DEFAULT_MAX_FRAME_LEN: usize = 16 * 1024;

/// One MCOTS message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TomcFrame {
    /// The client's sequence number; the server echoes it.
    pub sequence: u32,
    /// Flag byte (0x08 = encrypted; other bits unknown).
    pub flags: u8,
    /// Payload as on the wire (still encrypted if flagged).
    pub payload: Bytes,
}

impl TomcFrame {
    /// Whether the payload is encrypted.
    pub fn encrypted(&self) -> bool {
        self.flags & FLAG_ENCRYPTED != 0
    }

    /// Bytes on the wire.
    pub fn total_len(&self) -> usize {
        2 + HEAD_AFTER_LEN + self.payload.len()
    }
}

/// Why a stream could not be cut into `TOMC` frames.
#[derive(Debug, thiserror::Error)]
pub enum TomcError {
    /// The length cannot even hold signature, sequence and flags.
    #[error("MCOTS length {0} is below the 9 bytes of signature, sequence and flags")]
    LengthTooShort(usize),
    /// Above the cap.
    #[error("MCOTS frame of {length} bytes is above the {max}-byte cap")]
    TooLong {
        /// Total length.
        length: usize,
        /// The cap.
        max: usize,
    },
    /// Not `TOMC`: not MCOTS, or out of step.
    #[error("MCOTS frame without the TOMC signature (got {0:02x?})")]
    BadSignature([u8; 4]),
    /// The peer closed mid-frame.
    #[error("connection closed with {0} bytes of an unfinished MCOTS frame")]
    Truncated(usize),
    /// The socket failed.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
}

/// Codec for `TOMC` frames, both directions (the layout is symmetric).
#[derive(Debug, Clone)]
pub struct TomcCodec {
    max_frame_len: usize,
}

impl TomcCodec {
    /// A codec refusing frames above `max_frame_len` bytes in total.
    pub fn new(max_frame_len: usize) -> TomcCodec {
        TomcCodec {
            max_frame_len: max_frame_len.min(usize::from(u16::MAX) + 2),
        }
    }
}

impl Default for TomcCodec {
    fn default() -> TomcCodec {
        TomcCodec::new(DEFAULT_MAX_FRAME_LEN)
    }
}

impl Decoder for TomcCodec {
    type Item = TomcFrame;
    type Error = TomcError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<TomcFrame>, TomcError> {
        if src.len() < 2 {
            return Ok(None);
        }
        let length = usize::from(u16::from_le_bytes([src[0], src[1]]));
        if length < HEAD_AFTER_LEN {
            return Err(TomcError::LengthTooShort(length));
        }
        let total = length + 2;
        if total > self.max_frame_len {
            return Err(TomcError::TooLong {
                length: total,
                max: self.max_frame_len,
            });
        }
        // Refuse a wrong signature as soon as it is in, not after waiting
        // for a length's worth of garbage.
        if src.len() >= 6 && &src[2..6] != SIGNATURE {
            return Err(TomcError::BadSignature([src[2], src[3], src[4], src[5]]));
        }
        if src.len() < total {
            src.reserve(total - src.len());
            return Ok(None);
        }
        let mut frame = src.split_to(total);
        frame.advance(6);
        let sequence = frame.get_u32_le();
        let flags = frame.get_u8();
        Ok(Some(TomcFrame {
            sequence,
            flags,
            payload: frame.freeze(),
        }))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<TomcFrame>, TomcError> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None if src.is_empty() => Ok(None),
            None => Err(TomcError::Truncated(src.len())),
        }
    }
}

impl Encoder<TomcFrame> for TomcCodec {
    type Error = TomcError;

    fn encode(&mut self, frame: TomcFrame, dst: &mut BytesMut) -> Result<(), TomcError> {
        let total = frame.total_len();
        let length = u16::try_from(total - 2)
            .ok()
            .filter(|_| total <= self.max_frame_len)
            .ok_or(TomcError::TooLong {
                length: total,
                max: self.max_frame_len,
            })?;
        dst.reserve(total);
        dst.put_u16_le(length);
        dst.put_slice(SIGNATURE);
        dst.put_u32_le(frame.sequence);
        dst.put_u8(frame.flags);
        dst.put_slice(&frame.payload);
        Ok(())
    }
}

/// Writes one frame and flushes (simulator and tests, which have no
/// `Framed`).
pub async fn write_tomc<W>(writer: &mut W, frame: TomcFrame) -> Result<(), TomcError>
where
    W: tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::AsyncWriteExt;
    let mut out = BytesMut::new();
    TomcCodec::default().encode(frame, &mut out)?;
    writer.write_all(&out).await?;
    writer.flush().await?;
    Ok(())
}

/// Reads exactly one frame; `Ok(None)` when the peer closed first.
pub async fn read_tomc<R>(
    reader: &mut R,
    max_frame_len: usize,
) -> Result<Option<TomcFrame>, TomcError>
where
    R: tokio::io::AsyncRead + Unpin,
{
    use tokio::io::AsyncReadExt;
    let mut codec = TomcCodec::new(max_frame_len);
    let mut buf = BytesMut::new();
    loop {
        if let Some(frame) = codec.decode(&mut buf)? {
            return Ok(Some(frame));
        }
        let mut chunk = [0u8; 1];
        // One byte at a time is slow but never reads past the frame,
        // which keeps the next one in the stream for the next call.
        let n = reader.read(&mut chunk).await?;
        if n == 0 {
            return if buf.is_empty() {
                Ok(None)
            } else {
                Err(TomcError::Truncated(buf.len()))
            };
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}
