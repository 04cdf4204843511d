//! HTTP/1.1 on the wire, as the games speak it: a request head with a
//! `Content-Length` body (the Unity client and Motor City Online's WinInet
//! never send chunked bodies), one answer per request, keep-alive.
//!
//! Written here rather than taken from a general server so that a
//! connection holds no buffer it does not need: a matchmaking poll is held
//! for up to 25 s, and a busy server holds ten thousand of them.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{header, request, HeaderValue, Method, StatusCode, Version};

/// Headers beyond this many make the head malformed (the games send 7).
const MAX_HEADERS: usize = 48;

/// A request head, parsed.
#[derive(Debug)]
pub struct Head {
    pub parts: request::Parts,
    /// Bytes of the head, blank line included.
    pub len: usize,
    /// The declared body length (0 without `Content-Length`).
    pub body_len: u64,
    /// Whether the client wants the connection kept after the answer.
    pub keep_alive: bool,
    /// `Expect: 100-continue`: the client waits for a go-ahead before the
    /// body.
    pub expect_continue: bool,
}

/// Why a head cannot be served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadError {
    /// Not HTTP/1.x, or a header that is not one.
    Malformed,
    /// The head is larger than allowed, or has too many headers.
    TooLarge,
    /// A body without `Content-Length` (chunked): a path the games never
    /// take, refused rather than half supported.
    LengthRequired,
}

impl HeadError {
    pub fn status(self) -> StatusCode {
        match self {
            HeadError::Malformed => StatusCode::BAD_REQUEST,
            HeadError::TooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            HeadError::LengthRequired => StatusCode::LENGTH_REQUIRED,
        }
    }
}

/// Parses the head at the start of `buf`: `Ok(None)` while it is
/// incomplete and still within `max_len` bytes.
pub fn parse_head(buf: &[u8], max_len: usize) -> Result<Option<Head>, (HeadError, Option<String>)> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    let len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(len)) if len <= max_len => len,
        Ok(httparse::Status::Complete(_)) => return Err((HeadError::TooLarge, None)),
        Ok(httparse::Status::Partial) if buf.len() < max_len => return Ok(None),
        Ok(httparse::Status::Partial) | Err(httparse::Error::TooManyHeaders) => {
            return Err((HeadError::TooLarge, None))
        }
        Err(_) => return Err((HeadError::Malformed, None)),
    };
    let malformed = || (HeadError::Malformed, None);
    let method =
        Method::from_bytes(parsed.method.unwrap_or("").as_bytes()).map_err(|_| malformed())?;
    let version = match parsed.version {
        Some(0) => Version::HTTP_10,
        _ => Version::HTTP_11,
    };
    let mut builder = http::Request::builder()
        .method(method)
        .uri(parsed.path.unwrap_or("/"))
        .version(version);
    for h in parsed.headers.iter() {
        builder = builder.header(h.name, h.value);
    }
    let (parts, ()) = builder.body(()).map_err(|_| malformed())?.into_parts();

    let mut body_len = None;
    for value in parts.headers.get_all(header::CONTENT_LENGTH) {
        let n = std::str::from_utf8(value.as_bytes())
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .ok_or_else(malformed)?;
        if body_len.is_some_and(|b| b != n) {
            return Err(malformed());
        }
        body_len = Some(n);
    }
    if parts.headers.contains_key(header::TRANSFER_ENCODING) {
        return Err((
            HeadError::LengthRequired,
            Some(parts.uri.path().to_string()),
        ));
    }
    let has_token = |name: header::HeaderName, token: &str| {
        parts.headers.get_all(name).iter().any(|v| {
            v.to_str()
                .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        })
    };
    let keep_alive = match version {
        Version::HTTP_10 => has_token(header::CONNECTION, "keep-alive"),
        _ => !has_token(header::CONNECTION, "close"),
    };
    let expect_continue = has_token(header::EXPECT, "100-continue");
    Ok(Some(Head {
        parts,
        len,
        body_len: body_len.unwrap_or(0),
        keep_alive,
        expect_continue,
    }))
}

/// Bodies up to this size are copied behind the head and sent in one
/// write; larger ones (a Login answer is 58 KB) are sent from where they
/// are, head and body in one vectored write, instead of being copied.
pub const COPY_BODY_UP_TO: usize = 4096;

/// The head of an answer: status line, the handler's headers, the length,
/// the date. Any length or connection header the handler set is replaced
/// by the true one. With `body` given, it follows the head in the same
/// buffer.
pub fn encode_head(
    parts: &http::response::Parts,
    body_len: usize,
    body: Option<&[u8]>,
    keep_alive: bool,
    http10: bool,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(192 + parts.headers.len() * 48 + body.map_or(0, <[u8]>::len));
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(parts.status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(parts.status.canonical_reason().unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in &parts.headers {
        if name == header::CONTENT_LENGTH || name == header::CONNECTION || name == header::DATE {
            continue;
        }
        push_header(&mut out, name.as_str(), value.as_bytes());
    }
    push_header(&mut out, "content-length", body_len.to_string().as_bytes());
    with_date(|date| push_header(&mut out, "date", date));
    if !keep_alive {
        push_header(&mut out, "connection", b"close");
    } else if http10 {
        push_header(&mut out, "connection", b"keep-alive");
    }
    out.extend_from_slice(b"\r\n");
    if let Some(body) = body {
        out.extend_from_slice(body);
    }
    out
}

/// A whole answer in one buffer (no body after a HEAD request).
pub fn encode_response(
    parts: &http::response::Parts,
    body: &Bytes,
    head_only: bool,
    keep_alive: bool,
    http10: bool,
) -> Vec<u8> {
    let shown = (!head_only).then_some(&body[..]);
    encode_head(parts, body.len(), shown, keep_alive, http10)
}

/// An answer without a handler: the head could not be read far enough to
/// know which game it is for.
pub fn bare_response(status: StatusCode) -> Vec<u8> {
    let (parts, ()) = http::Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"))
        .body(())
        .map(|r| r.into_parts())
        .unwrap_or_else(|_| http::Response::new(()).into_parts());
    let text = Bytes::from(format!("{status}\n"));
    encode_response(&parts, &text, false, false, false)
}

fn push_header(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// The `Date` header's text, formatted once per second per thread.
fn with_date<R>(f: impl FnOnce(&[u8]) -> R) -> R {
    thread_local! {
        static CACHE: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
    }
    let now = SystemTime::now();
    let second = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.0 != second {
            *cache = (second, httpdate::fmt_http_date(now));
        }
        f(cache.1.as_bytes())
    })
}

/// The fuzz target's entry point (`fuzz/fuzz_targets/http_head.rs`, and
/// replayed by `cargo test`): the first byte picks the head size limit
/// (64 to 16,384 bytes), the rest is what a client sent. Whatever the
/// bytes, the parser answers; a parsed head lies within the input and the
/// limit, and its answer can be written.
pub fn fuzz(data: &[u8]) {
    let Some((&pick, input)) = data.split_first() else {
        return;
    };
    let max = 64 * (usize::from(pick) + 1);
    match parse_head(input, max) {
        Ok(Some(head)) => {
            assert!(
                head.len <= input.len() && head.len <= max,
                "head beyond its input"
            );
            let (parts, ()) = http::Response::new(()).into_parts();
            let body = Bytes::copy_from_slice(&input[head.len..]);
            let answer = encode_response(&parts, &body, false, head.keep_alive, false);
            assert!(answer.ends_with(&body), "answer without its body");
        }
        Ok(None) => assert!(input.len() < max, "an over-long head was left waiting"),
        Err((error, _)) => {
            let _ = bare_response(error.status());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 16 * 1024;

    fn head(text: &str) -> Head {
        parse_head(text.as_bytes(), MAX).unwrap().unwrap()
    }

    #[test]
    fn a_game_request_head_parses_with_its_length() {
        let text = "POST /MMCOS/MMCOS-Matchmaking/MatchmakingService.svc/EnterMatchmaking2 HTTP/1.1\r\n\
                    Host: mmcos.codemasters.com\r\nUser-Agent: UnityPlayer/5.4.5p1 (http://unity3d.com)\r\n\
                    Accept: */*\r\nAccept-Encoding: identity\r\nContent-Length: 826\r\n\
                    X-Unity-Version: 5.4.5p1\r\ncontent-type: application/xml\r\n\r\n<Enter";
        let h = head(text);
        assert_eq!(h.parts.method, Method::POST);
        assert_eq!(
            h.parts.uri.path(),
            "/MMCOS/MMCOS-Matchmaking/MatchmakingService.svc/EnterMatchmaking2"
        );
        assert_eq!(h.len, text.len() - "<Enter".len());
        assert_eq!(h.body_len, 826);
        assert!(h.keep_alive && !h.expect_continue);
        assert_eq!(h.parts.headers["host"], "mmcos.codemasters.com");
    }

    #[test]
    fn incomplete_heads_wait_and_oversized_ones_are_refused() {
        assert!(parse_head(b"GET / HTTP/1.1\r\nHost: a\r\n", MAX)
            .unwrap()
            .is_none());
        let long = format!("GET / HTTP/1.1\r\nX-Pad: {}\r\n", "a".repeat(MAX));
        assert_eq!(
            parse_head(long.as_bytes(), MAX).unwrap_err().0,
            HeadError::TooLarge
        );
        let complete_but_long = format!("{long}\r\n");
        assert_eq!(
            parse_head(complete_but_long.as_bytes(), MAX).unwrap_err().0,
            HeadError::TooLarge
        );
        let many: String = (0..MAX_HEADERS + 1)
            .map(|i| format!("X-{i}: 1\r\n"))
            .collect();
        let many = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert_eq!(
            parse_head(many.as_bytes(), MAX).unwrap_err().0,
            HeadError::TooLarge
        );
    }

    #[test]
    fn bad_heads_are_malformed_and_chunked_bodies_need_a_length() {
        for bad in [
            "NOT HTTP\r\n\r\n",
            "GET / HTTP/2.0\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: ten\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            "GET / HTTP/1.1\r\nBad Header: x\r\n\r\n",
        ] {
            assert_eq!(
                parse_head(bad.as_bytes(), MAX).unwrap_err().0,
                HeadError::Malformed,
                "{bad:?}"
            );
        }
        let (error, path) = parse_head(
            b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            MAX,
        )
        .unwrap_err();
        assert_eq!(error, HeadError::LengthRequired);
        assert_eq!(
            path.as_deref(),
            Some("/x"),
            "the path picks the game's error form"
        );
    }

    #[test]
    fn keep_alive_follows_the_version_and_connection_header() {
        assert!(head("GET / HTTP/1.1\r\n\r\n").keep_alive);
        assert!(!head("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").keep_alive);
        assert!(!head("GET / HTTP/1.0\r\n\r\n").keep_alive);
        assert!(head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
        assert!(
            head("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
                .expect_continue
        );
    }

    #[test]
    fn answers_carry_the_true_length_and_no_body_for_head() {
        let (mut parts, ()) = http::Response::new(()).into_parts();
        parts.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml"),
        );
        parts
            .headers
            .insert(header::CONTENT_LENGTH, HeaderValue::from_static("999"));
        let body = Bytes::from_static(b"<Ok/>");
        let text = String::from_utf8(encode_response(&parts, &body, false, true, false)).unwrap();
        assert!(
            text.starts_with(
                "HTTP/1.1 200 OK\r\ncontent-type: application/xml\r\ncontent-length: 5\r\ndate: "
            ),
            "{text}"
        );
        assert!(text.ends_with("GMT\r\n\r\n<Ok/>"), "{text}");
        assert!(!text.contains("999") && !text.contains("connection"));
        let head = String::from_utf8(encode_response(&parts, &body, true, false, false)).unwrap();
        assert!(head.contains("content-length: 5\r\n") && head.contains("connection: close\r\n"));
        assert!(head.ends_with("\r\n\r\n"), "{head}");
        let alone = String::from_utf8(encode_head(&parts, 60_000, None, true, false)).unwrap();
        assert!(
            alone.contains("content-length: 60000\r\n") && alone.ends_with("GMT\r\n\r\n"),
            "{alone}"
        );
        let bare = String::from_utf8(bare_response(StatusCode::BAD_REQUEST)).unwrap();
        assert!(
            bare.starts_with("HTTP/1.1 400 Bad Request\r\n") && bare.contains("connection: close")
        );
    }

    proptest::proptest! {
        /// Any bytes: an answer, never a panic; a parsed head never claims
        /// more bytes than it was given, and encoding the answer for it
        /// works.
        #[test]
        fn any_bytes_parse_or_are_refused(input in proptest::collection::vec(proptest::num::u8::ANY, 0..600), max in 16usize..1024) {
            if let Ok(Some(head)) = parse_head(&input, max) {
                proptest::prop_assert!(head.len <= input.len() && head.len <= max);
                let (parts, ()) = http::Response::new(()).into_parts();
                let body = Bytes::from(input.clone());
                let answer = encode_response(&parts, &body, false, head.keep_alive, false);
                proptest::prop_assert!(answer.ends_with(&input));
            }
        }

        /// Every well-formed game-like head parses to what was written.
        #[test]
        fn written_heads_parse_back(path in "/[A-Za-z0-9/._-]{0,80}", length in 0u64..1_000_000, close in proptest::bool::ANY, value in "[ -~]{0,40}") {
            let connection = if close { "Connection: close\r\n" } else { "" };
            let text = format!("POST {path} HTTP/1.1\r\nHost: x\r\nX-Any: {}\r\n{connection}Content-Length: {length}\r\n\r\n", value.trim());
            let head = parse_head(text.as_bytes(), 16 * 1024).unwrap().unwrap();
            proptest::prop_assert_eq!(head.parts.uri.path(), if path.is_empty() { "/" } else { path.as_str() });
            proptest::prop_assert_eq!(head.body_len, length);
            proptest::prop_assert_eq!(head.len, text.len());
            proptest::prop_assert_eq!(head.keep_alive, !close);
        }
    }

    #[test]
    fn no_input_panics_the_parser() {
        // A cheap sweep here; the fuzz target covers the rest.
        let seed = b"POST /a?b=c HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\nConnection: keep-alive, close\r\n\r\nabc";
        for cut in 0..seed.len() {
            for byte in [0u8, b'\r', b'\n', b' ', b':', 0xff] {
                let mut input = seed[..cut].to_vec();
                input.push(byte);
                input.extend_from_slice(&seed[cut..]);
                let _ = parse_head(&input, 64);
                let _ = parse_head(&input, MAX);
            }
        }
    }
}
