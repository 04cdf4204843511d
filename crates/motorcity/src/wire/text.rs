//! The client's text is 8-bit (ASCII in every capture, Latin-1 at most), so
//! strings map byte-for-byte to the first 256 Unicode code points. That
//! mapping is lossless both ways, which keeps tickets and names exactly as
//! the client sent them.

/// Bytes from the wire to a `String`, one char per byte.
pub fn decode_latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// A `String` to wire bytes; characters outside Latin-1 become `?` because
/// the client has no way to show them.
pub fn encode_latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}
