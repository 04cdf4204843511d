/// Why a message body did not match its layout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The body ended before a field did.
    #[error("{field}: needs {needed} bytes, {available} left")]
    Truncated {
        /// The field being read.
        field: &'static str,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// Bytes were left after the last field of a fixed layout.
    #[error("{count} unexpected bytes after the last field")]
    TrailingBytes {
        /// How many.
        count: usize,
    },
    /// A frame of another message id was handed to a parser.
    #[error("expected message {expected:#06x}, got {found:#06x}")]
    WrongMessage {
        /// The id the parser handles.
        expected: u16,
        /// The id of the frame.
        found: u16,
    },
    /// The message needs the 12-byte header but arrived with the short one.
    #[error("message {id:#06x} arrived without its 12-byte header")]
    MissingLongHeader {
        /// The id of the frame.
        id: u16,
    },
    /// A field has the right size but an impossible value.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Big-endian reads over a message body that fail instead of panicking.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn bytes(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], ParseError> {
        if self.buf.len() < n {
            return Err(ParseError::Truncated {
                field,
                needed: n,
                available: self.buf.len(),
            });
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    pub(crate) fn array<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<[u8; N], ParseError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N, field)?);
        Ok(out)
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, ParseError> {
        Ok(u16::from_be_bytes(self.array(field)?))
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, ParseError> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }

    /// A string with a u16 big-endian byte count and no NUL.
    pub(crate) fn str16(&mut self, field: &'static str) -> Result<&'a [u8], ParseError> {
        let len = usize::from(self.u16(field)?);
        self.bytes(len, field)
    }

    /// A string with a u32 big-endian count that includes a trailing NUL
    /// (the lobby's form); the NUL and anything after a first NUL are
    /// dropped. The count is checked against what is left before anything
    /// is allocated.
    pub(crate) fn str32(&mut self, field: &'static str) -> Result<&'a [u8], ParseError> {
        let len = self.u32(field)?;
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        let raw = self.bytes(len, field)?;
        let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
        Ok(&raw[..end])
    }

    pub(crate) fn finish(self) -> Result<(), ParseError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(ParseError::TrailingBytes {
                count: self.buf.len(),
            })
        }
    }
}
