//! An answer's body: whole bytes, or a shared block followed by bytes of
//! its own.
//!
//! The Micro Machines Login answer is 58 KB, of which 55 KB (the game
//! configuration) is the same for every player until the configuration
//! changes. As one buffer it was copied into a fresh 58 KB allocation per
//! Login; as two parts the shared block is only referenced, and the HTTP
//! writer sends head and both parts in one vectored write.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};

/// At most two parts, sent in order; either may be empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Body {
    first: Bytes,
    second: Bytes,
}

impl Body {
    /// A shared block followed by the rest.
    pub fn parts(first: Bytes, second: Bytes) -> Self {
        Self { first, second }
    }

    pub fn len(&self) -> usize {
        self.first.len() + self.second.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The parts as they go on the wire.
    pub fn into_parts(self) -> (Bytes, Bytes) {
        (self.first, self.second)
    }

    /// The whole body in one buffer (copied only if it has two parts).
    pub fn to_bytes(&self) -> Bytes {
        match (self.first.is_empty(), self.second.is_empty()) {
            (_, true) => self.first.clone(),
            (true, false) => self.second.clone(),
            (false, false) => {
                let mut all = Vec::with_capacity(self.len());
                all.extend_from_slice(&self.first);
                all.extend_from_slice(&self.second);
                Bytes::from(all)
            }
        }
    }
}

impl From<Bytes> for Body {
    fn from(first: Bytes) -> Self {
        Self {
            first,
            second: Bytes::new(),
        }
    }
}

impl From<String> for Body {
    fn from(text: String) -> Self {
        Bytes::from(text).into()
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Self {
        Bytes::from(bytes).into()
    }
}

impl From<&'static str> for Body {
    fn from(text: &'static str) -> Self {
        Bytes::from_static(text.as_bytes()).into()
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        let next = if !this.first.is_empty() {
            std::mem::take(&mut this.first)
        } else if !this.second.is_empty() {
            std::mem::take(&mut this.second)
        } else {
            return Poll::Ready(None);
        };
        Poll::Ready(Some(Ok(Frame::data(next))))
    }

    fn is_end_stream(&self) -> bool {
        self.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(mut body: Body) -> Vec<Bytes> {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut out = Vec::new();
        while let Poll::Ready(Some(Ok(frame))) =
            http_body::Body::poll_frame(Pin::new(&mut body), &mut cx)
        {
            out.push(frame.into_data().unwrap());
        }
        out
    }

    #[test]
    fn parts_come_in_order_and_add_up() {
        let body = Body::parts(Bytes::from_static(b"<a>"), Bytes::from_static(b"</a>"));
        assert_eq!(body.len(), 7);
        assert_eq!(http_body::Body::size_hint(&body).exact(), Some(7));
        assert_eq!(body.to_bytes(), Bytes::from_static(b"<a></a>"));
        assert_eq!(
            frames(body),
            [Bytes::from_static(b"<a>"), Bytes::from_static(b"</a>")]
        );
    }

    #[test]
    fn empty_parts_are_skipped() {
        assert!(frames(Body::default()).is_empty());
        assert!(http_body::Body::is_end_stream(&Body::default()));
        let one = Body::parts(Bytes::new(), Bytes::from_static(b"x"));
        assert_eq!(one.to_bytes(), Bytes::from_static(b"x"));
        assert_eq!(frames(one), [Bytes::from_static(b"x")]);
        assert_eq!(Body::from("abc").into_parts().0, Bytes::from_static(b"abc"));
    }
}
