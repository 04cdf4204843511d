//! One NPS message at a time on any async stream.
//!
//! Clients of the login and persona servers (the simulator, `doctor`)
//! send one request and read one reply per connection, so a `Framed`
//! stream buys them nothing; these two functions do the same checks as
//! [`NpsCodec`] and never read past the end of the message they return,
//! so bytes that follow stay in the stream for the next call.

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::codec::{Decoder, Encoder};

use super::codec::{FrameError, NpsCodec};
use super::header::{Direction, NpsFrame, SHORT_HEADER_LEN};

/// Writes `frame` and flushes. Refuses frames above `max_frame_len`, as
/// the servers would.
pub async fn write_frame<W>(
    writer: &mut W,
    frame: NpsFrame,
    max_frame_len: usize,
) -> Result<(), FrameError>
where
    W: AsyncWrite + Unpin,
{
    let mut out = BytesMut::new();
    NpsCodec::client(max_frame_len).encode(frame, &mut out)?;
    writer.write_all(&out).await?;
    writer.flush().await?;
    Ok(())
}

/// Reads exactly one message travelling `incoming`.
///
/// `Ok(None)` when the peer closed before sending a byte: for the persona
/// server that is an answer in itself (it refuses by closing). A length
/// field below the header size or above `max_frame_len` is refused as
/// soon as the 4-byte header is in, before anything else is buffered.
pub async fn read_frame<R>(
    reader: &mut R,
    incoming: Direction,
    max_frame_len: usize,
) -> Result<Option<NpsFrame>, FrameError>
where
    R: AsyncRead + Unpin,
{
    let mut codec = NpsCodec::new(incoming, max_frame_len);
    let mut head = [0u8; SHORT_HEADER_LEN];
    let got = fill(reader, &mut head).await?;
    if got == 0 {
        return Ok(None);
    }
    if got < head.len() {
        return Err(FrameError::Truncated { buffered: got });
    }
    let mut buf = BytesMut::from(&head[..]);
    if let Some(frame) = codec.decode(&mut buf)? {
        return Ok(Some(frame));
    }
    // The codec accepted the length field, so it is at least the header
    // size and at most the cap.
    let length = usize::from(u16::from_be_bytes([head[2], head[3]]));
    let mut rest = vec![0u8; length.saturating_sub(head.len())];
    let got = fill(reader, &mut rest).await?;
    if got < rest.len() {
        return Err(FrameError::Truncated {
            buffered: head.len() + got,
        });
    }
    buf.extend_from_slice(&rest);
    match codec.decode(&mut buf)? {
        Some(frame) => Ok(Some(frame)),
        None => Err(FrameError::Truncated {
            buffered: buf.len(),
        }),
    }
}

/// Reads until `buf` is full or the peer closes; returns the bytes read.
async fn fill<R>(reader: &mut R, buf: &mut [u8]) -> std::io::Result<usize>
where
    R: AsyncRead + Unpin,
{
    let mut got = 0;
    while got < buf.len() {
        let n = reader.read(&mut buf[got..]).await?;
        if n == 0 {
            break;
        }
        got += n;
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::persona::{GetPersonaMaps, NpsAck};
    use crate::wire::NpsMessage;

    #[tokio::test]
    async fn round_trip_leaves_the_next_message_in_the_stream() {
        let (mut a, mut b) = tokio::io::duplex(1024);
        let first = GetPersonaMaps { customer_id: 7 }.to_frame().unwrap();
        let second = NpsAck.to_frame().unwrap();
        write_frame(&mut a, first.clone(), 4096).await.unwrap();
        write_frame(&mut a, second.clone(), 4096).await.unwrap();
        drop(a);
        let got = read_frame(&mut b, Direction::ClientToServer, 4096).await;
        assert_eq!(got.unwrap(), Some(first));
        // 0x207 sent "client to server" is not in the login table, so read
        // it as a server reply, as a client would.
        let got = read_frame(&mut b, Direction::ServerToClient, 4096).await;
        assert_eq!(got.unwrap(), Some(second));
        assert_eq!(
            read_frame(&mut b, Direction::ServerToClient, 4096)
                .await
                .unwrap(),
            None
        );
    }

    #[tokio::test]
    async fn short_reads_and_bad_lengths_are_errors() {
        let (mut a, mut b) = tokio::io::duplex(64);
        a.write_all(&[0x06, 0x07]).await.unwrap();
        drop(a);
        assert!(matches!(
            read_frame(&mut b, Direction::ServerToClient, 4096).await,
            Err(FrameError::Truncated { buffered: 2 })
        ));

        let (mut a, mut b) = tokio::io::duplex(64);
        a.write_all(&[0x06, 0x07, 0x00, 0x20, 0, 0]).await.unwrap();
        drop(a);
        assert!(matches!(
            read_frame(&mut b, Direction::ServerToClient, 4096).await,
            Err(FrameError::Truncated { buffered: 6 })
        ));

        let (mut a, mut b) = tokio::io::duplex(64);
        a.write_all(&[0x06, 0x07, 0xff, 0xff]).await.unwrap();
        assert!(matches!(
            read_frame(&mut b, Direction::ServerToClient, 1024).await,
            Err(FrameError::TooLong { .. })
        ));
    }
}
