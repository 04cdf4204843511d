//! Telling the two games apart on one port 443.
//!
//! Micro Machines (2017) sends a TLS 1.2 ClientHello with SNI for one of the
//! Codemasters names; Motor City Online on Windows XP sends an SSLv3/TLS 1.0
//! hello, often in the old SSLv2-compatible record format, and never SNI.
//! Neither TLS stack can serve both (rustls refuses anything before TLS 1.2,
//! and we do not want rustls' modern clients to meet OpenSSL's weak cipher
//! list), so the listener peeks at the ClientHello — without consuming it —
//! and hands the untouched connection to one stack or the other.
//!
//! The parser only reads what routing needs and is written to survive any
//! input: every length is checked before it is used.

use std::time::Duration;

use tokio::net::TcpStream;

/// TLS protocol version numbers as they appear on the wire.
pub mod version {
    pub const SSL2: u16 = 0x0002;
    pub const SSL3: u16 = 0x0300;
    pub const TLS10: u16 = 0x0301;
    pub const TLS11: u16 = 0x0302;
    pub const TLS12: u16 = 0x0303;
    pub const TLS13: u16 = 0x0304;

    /// A name for logs; unknown values are shown in hex.
    pub fn name(v: u16) -> String {
        match v {
            SSL2 => "SSLv2".into(),
            SSL3 => "SSLv3".into(),
            TLS10 => "TLSv1.0".into(),
            TLS11 => "TLSv1.1".into(),
            TLS12 => "TLSv1.2".into(),
            TLS13 => "TLSv1.3".into(),
            other => format!("0x{other:04x}"),
        }
    }
}

/// How the hello was framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelloFormat {
    /// The SSLv2 record layout that SSLv3/TLS 1.0 clients of the XP era used
    /// for their first message, so that SSLv2-only servers could answer.
    /// It has no room for extensions, hence no SNI.
    Sslv2Compatible,
    /// An ordinary TLS record (SSLv3 and later).
    Tls,
}

/// What the ClientHello says, as far as routing is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHelloInfo {
    pub format: HelloFormat,
    /// Version in the record header (for SSLv2-compatible hellos, the one
    /// in the message, as there is no TLS record header).
    pub record_version: u16,
    /// `client_version`, which TLS 1.3 clients freeze at TLS 1.2.
    pub client_version: u16,
    /// The highest version offered, from `supported_versions` when present.
    pub max_version: u16,
    /// The `server_name` extension's host name, lower-cased.
    pub sni: Option<String>,
}

/// Which TLS stack gets the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// rustls: a client that sent SNI and offers TLS 1.2 or later.
    Modern { sni: String },
    /// OpenSSL with the legacy ciphers: everything else that is TLS.
    Legacy,
}

/// Result of parsing a buffer that may hold only the start of a hello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Complete(ClientHelloInfo),
    /// Could still become a valid hello with more bytes.
    Incomplete,
    /// Not a TLS ClientHello (or a broken one); the reason is for the log.
    NotTls(&'static str),
}

/// Largest handshake message we accept as a ClientHello. Real ones are
/// under 2 KiB even with post-quantum key shares; this bounds the work
/// garbage can cause.
const MAX_HELLO_LEN: usize = 64 * 1024;
/// RFC 8446 5.1: a record carries at most 2^14 bytes of plaintext.
const MAX_RECORD_LEN: usize = 1 << 14;

const EXT_SERVER_NAME: u16 = 0;
const EXT_SUPPORTED_VERSIONS: u16 = 43;

/// Parse the start of a connection. Never panics, whatever `buf` holds.
pub fn parse_client_hello(buf: &[u8]) -> Parsed {
    let Some(&first) = buf.first() else {
        return Parsed::Incomplete;
    };
    if first == 0x16 {
        parse_tls(buf)
    } else if first & 0x80 != 0 {
        parse_sslv2(buf)
    } else {
        Parsed::NotTls("first byte is neither a TLS handshake record nor an SSLv2 header")
    }
}

/// The routing rule: SNI and TLS 1.2+ go to rustls, unless the SNI is one
/// of `legacy_names` (the MCO AuthLogin host, whose 1024-bit certificate
/// only OpenSSL serves, even to a modern Windows that sends SNI).
pub fn route(hello: &ClientHelloInfo, legacy_names: &[String]) -> Route {
    if hello.format == HelloFormat::Sslv2Compatible || hello.max_version < version::TLS12 {
        return Route::Legacy;
    }
    match &hello.sni {
        Some(sni) if !legacy_names.iter().any(|n| n.eq_ignore_ascii_case(sni)) => {
            Route::Modern { sni: sni.clone() }
        }
        _ => Route::Legacy,
    }
}

fn parse_sslv2(buf: &[u8]) -> Parsed {
    // 2-byte header: high bit set, 15-bit length; then msg_type 1
    // (CLIENT-HELLO), version, cipher_spec_length, session_id_length,
    // challenge_length, and the three fields.
    if buf.len() < 11 {
        return Parsed::Incomplete;
    }
    let len = usize::from(u16::from_be_bytes([buf[0] & 0x7f, buf[1]]));
    if buf[2] != 1 {
        return Parsed::NotTls("SSLv2 record is not a CLIENT-HELLO");
    }
    let ver = u16::from_be_bytes([buf[3], buf[4]]);
    if ver != version::SSL2 && buf[3] != 3 {
        return Parsed::NotTls("SSLv2 CLIENT-HELLO with an unknown version");
    }
    let cipher_len = usize::from(u16::from_be_bytes([buf[5], buf[6]]));
    let session_len = usize::from(u16::from_be_bytes([buf[7], buf[8]]));
    let challenge_len = usize::from(u16::from_be_bytes([buf[9], buf[10]]));
    if cipher_len == 0 || cipher_len % 3 != 0 {
        return Parsed::NotTls("SSLv2 CLIENT-HELLO with a bad cipher list length");
    }
    if 9 + cipher_len + session_len + challenge_len != len {
        return Parsed::NotTls("SSLv2 CLIENT-HELLO lengths do not add up");
    }
    // Nothing after the header matters for routing, but a hello is only
    // complete once all of it is here; a stack handed half of one would
    // just wait.
    if buf.len() < 2 + len {
        return Parsed::Incomplete;
    }
    Parsed::Complete(ClientHelloInfo {
        format: HelloFormat::Sslv2Compatible,
        record_version: ver,
        client_version: ver,
        max_version: ver,
        sni: None,
    })
}

fn parse_tls(buf: &[u8]) -> Parsed {
    // Gather the handshake message from as many records as it spans.
    let mut msg: Vec<u8> = Vec::new();
    let mut pos = 0usize;
    let mut record_version = None;
    loop {
        let Some(header) = buf.get(pos..pos + 5) else {
            return Parsed::Incomplete;
        };
        if header[0] != 0x16 {
            return Parsed::NotTls("ClientHello interrupted by a non-handshake record");
        }
        if header[1] != 3 || header[2] > 4 {
            return Parsed::NotTls("record version is not SSLv3..TLSv1.3");
        }
        let rec_len = usize::from(u16::from_be_bytes([header[3], header[4]]));
        if rec_len == 0 || rec_len > MAX_RECORD_LEN {
            return Parsed::NotTls("record length out of range");
        }
        record_version.get_or_insert(u16::from_be_bytes([header[1], header[2]]));
        let Some(body) = buf.get(pos + 5..pos + 5 + rec_len) else {
            // Use what is here to fail early on garbage.
            msg.extend_from_slice(buf.get(pos + 5..).unwrap_or_default());
            return match check_handshake_header(&msg) {
                Err(reason) => Parsed::NotTls(reason),
                Ok(_) => Parsed::Incomplete,
            };
        };
        msg.extend_from_slice(body);
        pos += 5 + rec_len;
        match check_handshake_header(&msg) {
            Err(reason) => return Parsed::NotTls(reason),
            Ok(Some(total)) if msg.len() >= total => {
                let record_version = record_version.unwrap_or(version::SSL3);
                return match parse_hello_body(&msg[4..total], record_version) {
                    Ok(info) => Parsed::Complete(info),
                    Err(reason) => Parsed::NotTls(reason),
                };
            }
            Ok(_) => {}
        }
    }
}

/// `Ok(Some(total))` once the 4-byte handshake header is there.
fn check_handshake_header(msg: &[u8]) -> Result<Option<usize>, &'static str> {
    if let Some(&t) = msg.first() {
        if t != 1 {
            return Err("first handshake message is not a ClientHello");
        }
    }
    let Some(h) = msg.get(..4) else {
        return Ok(None);
    };
    let len = (usize::from(h[1]) << 16) | (usize::from(h[2]) << 8) | usize::from(h[3]);
    if len > MAX_HELLO_LEN {
        return Err("ClientHello too large");
    }
    Ok(Some(4 + len))
}

/// A bounds-checked reader; each failure names the field for the log.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], &'static str> {
        if self.buf.len() < n {
            return Err(what);
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }
    fn u8(&mut self, what: &'static str) -> Result<u8, &'static str> {
        Ok(self.take(1, what)?[0])
    }
    fn u16(&mut self, what: &'static str) -> Result<u16, &'static str> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn vec8(&mut self, what: &'static str) -> Result<&'a [u8], &'static str> {
        let n = self.u8(what)?;
        self.take(usize::from(n), what)
    }
    fn vec16(&mut self, what: &'static str) -> Result<&'a [u8], &'static str> {
        let n = self.u16(what)?;
        self.take(usize::from(n), what)
    }
}

fn parse_hello_body(body: &[u8], record_version: u16) -> Result<ClientHelloInfo, &'static str> {
    let mut r = Reader { buf: body };
    let client_version = r.u16("truncated client_version")?;
    if client_version >> 8 != 3 {
        return Err("client_version is not SSLv3 or later");
    }
    r.take(32, "truncated random")?;
    let session_id = r.vec8("truncated session_id")?;
    if session_id.len() > 32 {
        return Err("session_id longer than 32 bytes");
    }
    let suites = r.vec16("truncated cipher_suites")?;
    if suites.is_empty() || suites.len() % 2 != 0 {
        return Err("bad cipher_suites length");
    }
    let compression = r.vec8("truncated compression_methods")?;
    if compression.is_empty() {
        return Err("no compression methods");
    }
    let mut info = ClientHelloInfo {
        format: HelloFormat::Tls,
        record_version,
        client_version,
        max_version: client_version,
        sni: None,
    };
    // SSLv3 and early TLS clients may end the hello here.
    if r.buf.is_empty() {
        return Ok(info);
    }
    let mut exts = Reader {
        buf: r.vec16("truncated extensions")?,
    };
    if !r.buf.is_empty() {
        return Err("bytes after the extensions");
    }
    let mut seen_sni = false;
    let mut seen_versions = false;
    while !exts.buf.is_empty() {
        let ext_type = exts.u16("truncated extension type")?;
        let data = exts.vec16("truncated extension")?;
        match ext_type {
            EXT_SERVER_NAME => {
                if seen_sni {
                    return Err("duplicate server_name extension");
                }
                seen_sni = true;
                info.sni = parse_sni(data)?;
            }
            EXT_SUPPORTED_VERSIONS => {
                if seen_versions {
                    return Err("duplicate supported_versions extension");
                }
                seen_versions = true;
                if let Some(max) = parse_supported_versions(data)? {
                    info.max_version = max;
                }
            }
            _ => {}
        }
    }
    Ok(info)
}

fn parse_sni(data: &[u8]) -> Result<Option<String>, &'static str> {
    let mut outer = Reader { buf: data };
    let mut list = Reader {
        buf: outer.vec16("truncated server_name list")?,
    };
    if !outer.buf.is_empty() {
        return Err("bytes after the server_name list");
    }
    let mut host = None;
    while !list.buf.is_empty() {
        let name_type = list.u8("truncated server_name entry")?;
        let name = list.vec16("truncated server_name entry")?;
        if name_type != 0 || host.is_some() {
            // Other name types were never defined; keep the first host name.
            continue;
        }
        if name.is_empty()
            || !name
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        {
            return Err("server_name is not a host name");
        }
        // Checked ASCII just above, so this cannot fail.
        host = std::str::from_utf8(name)
            .ok()
            .map(|s| s.trim_end_matches('.').to_ascii_lowercase());
    }
    Ok(host)
}

fn parse_supported_versions(data: &[u8]) -> Result<Option<u16>, &'static str> {
    let mut outer = Reader { buf: data };
    let list = outer.vec8("truncated supported_versions")?;
    if list.len() % 2 != 0 {
        return Err("odd supported_versions length");
    }
    Ok(list
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        // Only real versions count: GREASE (0x?a?a) and drafts are noise.
        .filter(|v| (version::SSL3..=version::TLS13).contains(v))
        .max())
}

/// Why a connection could not be routed.
#[derive(Debug, thiserror::Error)]
pub enum SniffError {
    #[error("no complete ClientHello within {0:?}")]
    Timeout(Duration),
    #[error("connection closed before a ClientHello")]
    Closed,
    #[error("ClientHello larger than {0} bytes")]
    TooLarge(usize),
    #[error("not TLS: {0}")]
    NotTls(&'static str),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Peeks at connections and routes them.
#[derive(Debug, Clone)]
pub struct Sniffer {
    timeout: Duration,
    max_bytes: usize,
    legacy_names: Vec<String>,
}

impl Default for Sniffer {
    fn default() -> Self {
        Self::new()
    }
}

impl Sniffer {
    /// Defaults: 10 s to send the hello (an XP machine on a bad line is
    /// slow, a silent connection is not a client), at most 32 KiB peeked.
    pub fn new() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            max_bytes: 32 * 1024,
            legacy_names: Vec::new(),
        }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Below 16 KiB + 5 a legitimate one-record hello may be refused.
    pub fn with_max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes.max(16);
        self
    }

    /// SNI names that go to the legacy stack whatever the version (the MCO
    /// AuthLogin host names), see [`route`].
    pub fn with_legacy_names(mut self, names: impl IntoIterator<Item = String>) -> Self {
        self.legacy_names = names.into_iter().collect();
        self
    }

    pub fn route(&self, hello: &ClientHelloInfo) -> Route {
        route(hello, &self.legacy_names)
    }

    /// Wait for the ClientHello without consuming it and decide its route.
    /// The stream is untouched afterwards, so either TLS stack can read the
    /// hello itself.
    pub async fn sniff(&self, stream: &TcpStream) -> Result<(ClientHelloInfo, Route), SniffError> {
        match tokio::time::timeout(self.timeout, self.sniff_inner(stream)).await {
            Ok(result) => result,
            Err(_) => Err(SniffError::Timeout(self.timeout)),
        }
    }

    async fn sniff_inner(
        &self,
        stream: &TcpStream,
    ) -> Result<(ClientHelloInfo, Route), SniffError> {
        let mut buf = vec![0u8; self.max_bytes];
        let mut seen = 0usize;
        let mut pause = Duration::from_millis(1);
        loop {
            let n = stream.peek(&mut buf).await?;
            if n == 0 {
                return Err(SniffError::Closed);
            }
            if n != seen {
                match parse_client_hello(&buf[..n]) {
                    Parsed::Complete(hello) => {
                        let route = self.route(&hello);
                        return Ok((hello, route));
                    }
                    Parsed::NotTls(reason) => return Err(SniffError::NotTls(reason)),
                    Parsed::Incomplete if n >= self.max_bytes => {
                        return Err(SniffError::TooLarge(self.max_bytes))
                    }
                    Parsed::Incomplete => {}
                }
                seen = n;
                pause = Duration::from_millis(1);
            } else {
                // peek keeps reporting the same bytes without waiting (the
                // socket stays readable), so back off until more arrive.
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(50));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TLS ClientHello with the given versions, SNI and trailing extras.
    fn hello(
        record_version: u16,
        client_version: u16,
        sni: Option<&str>,
        versions: &[u16],
    ) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&client_version.to_be_bytes());
        body.extend_from_slice(&[7u8; 32]);
        body.push(0); // session id
        body.extend_from_slice(&[0, 2, 0x00, 0x0a]); // DES-CBC3-SHA
        body.extend_from_slice(&[1, 0]); // null compression
        let mut exts = Vec::new();
        if let Some(name) = sni {
            let n = name.as_bytes();
            let mut list = vec![0u8];
            list.extend_from_slice(&(n.len() as u16).to_be_bytes());
            list.extend_from_slice(n);
            let mut data = (list.len() as u16).to_be_bytes().to_vec();
            data.extend_from_slice(&list);
            exts.extend_from_slice(&0u16.to_be_bytes());
            exts.extend_from_slice(&(data.len() as u16).to_be_bytes());
            exts.extend_from_slice(&data);
        }
        if !versions.is_empty() {
            let mut data = vec![(versions.len() * 2) as u8];
            for v in versions {
                data.extend_from_slice(&v.to_be_bytes());
            }
            exts.extend_from_slice(&43u16.to_be_bytes());
            exts.extend_from_slice(&(data.len() as u16).to_be_bytes());
            exts.extend_from_slice(&data);
        }
        if !exts.is_empty() {
            body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
            body.extend_from_slice(&exts);
        }
        let mut msg = vec![1u8, 0, 0, 0];
        msg[1..4].copy_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        msg.extend_from_slice(&body);
        let mut rec = vec![0x16];
        rec.extend_from_slice(&record_version.to_be_bytes());
        rec.extend_from_slice(&(msg.len() as u16).to_be_bytes());
        rec.extend_from_slice(&msg);
        rec
    }

    fn complete(buf: &[u8]) -> ClientHelloInfo {
        match parse_client_hello(buf) {
            Parsed::Complete(info) => info,
            other => panic!("expected a complete hello, got {other:?}"),
        }
    }

    #[test]
    fn sslv3_hello_without_extensions_is_legacy() {
        let info = complete(&hello(version::SSL3, version::SSL3, None, &[]));
        assert_eq!(info.max_version, version::SSL3);
        assert_eq!(info.sni, None);
        assert_eq!(route(&info, &[]), Route::Legacy);
    }

    #[test]
    fn tls10_with_sni_is_still_legacy() {
        let info = complete(&hello(
            version::TLS10,
            version::TLS10,
            Some("auth.example.org"),
            &[],
        ));
        assert_eq!(info.sni.as_deref(), Some("auth.example.org"));
        assert_eq!(route(&info, &[]), Route::Legacy);
    }

    #[test]
    fn tls12_with_sni_is_modern_unless_named_legacy() {
        let info = complete(&hello(
            version::TLS10,
            version::TLS12,
            Some("MMCOS.codemasters.com."),
            &[],
        ));
        assert_eq!(
            route(&info, &[]),
            Route::Modern {
                sni: "mmcos.codemasters.com".into()
            }
        );
        assert_eq!(
            route(&info, &["mmcos.codemasters.com".into()]),
            Route::Legacy
        );
    }

    #[test]
    fn tls12_without_sni_is_legacy() {
        let info = complete(&hello(version::TLS12, version::TLS12, None, &[]));
        assert_eq!(route(&info, &[]), Route::Legacy);
    }

    #[test]
    fn supported_versions_wins_and_grease_is_ignored() {
        let info = complete(&hello(
            version::TLS10,
            version::TLS12,
            Some("localhost"),
            &[0x0a0a, version::TLS13, version::TLS12, 0x7f1c],
        ));
        assert_eq!(info.client_version, version::TLS12);
        assert_eq!(info.max_version, version::TLS13);
    }

    #[test]
    fn every_prefix_is_incomplete_and_split_records_join() {
        let full = hello(version::TLS10, version::TLS12, Some("localhost"), &[]);
        for cut in 0..full.len() {
            assert_eq!(
                parse_client_hello(&full[..cut]),
                Parsed::Incomplete,
                "cut {cut}"
            );
        }
        // The same handshake message in two records.
        let msg = &full[5..];
        let (a, b) = msg.split_at(10);
        let mut split = vec![0x16, 3, 1];
        split.extend_from_slice(&(a.len() as u16).to_be_bytes());
        split.extend_from_slice(a);
        split.extend_from_slice(&[0x16, 3, 1]);
        split.extend_from_slice(&(b.len() as u16).to_be_bytes());
        split.extend_from_slice(b);
        assert_eq!(complete(&split), complete(&full));
    }

    #[test]
    fn garbage_is_refused_early() {
        assert!(matches!(
            parse_client_hello(b"GET / HTTP/1.1\r\n"),
            Parsed::NotTls(_)
        ));
        // Handshake record holding a ServerHello.
        assert!(matches!(
            parse_client_hello(&[0x16, 3, 1, 0, 4, 2, 0, 0, 0]),
            Parsed::NotTls(_)
        ));
        // Alert record.
        assert!(matches!(
            parse_client_hello(&[0x15, 3, 1, 0, 2, 2, 40]),
            Parsed::NotTls(_)
        ));
    }

    /// An SSLv2-compatible CLIENT-HELLO as Windows XP's SChannel sends it
    /// (offering TLS 1.0; RC4-MD5, RC4-SHA, DES-CBC3-SHA as SSLv3 suites).
    fn sslv2_hello() -> Vec<u8> {
        let ciphers: &[u8] = &[0, 0, 0x04, 0, 0, 0x05, 0, 0, 0x0a];
        let challenge = [9u8; 16];
        let mut body = vec![1, 3, 1];
        body.extend_from_slice(&(ciphers.len() as u16).to_be_bytes());
        body.extend_from_slice(&0u16.to_be_bytes());
        body.extend_from_slice(&(challenge.len() as u16).to_be_bytes());
        body.extend_from_slice(ciphers);
        body.extend_from_slice(&challenge);
        let mut out = ((body.len() as u16) | 0x8000).to_be_bytes().to_vec();
        out.extend_from_slice(&body);
        out
    }

    #[test]
    fn sslv2_compatible_hello_is_legacy() {
        let buf = sslv2_hello();
        let info = complete(&buf);
        assert_eq!(info.format, HelloFormat::Sslv2Compatible);
        assert_eq!(info.max_version, version::TLS10);
        assert_eq!(route(&info, &[]), Route::Legacy);
        for cut in 0..buf.len() {
            assert_eq!(parse_client_hello(&buf[..cut]), Parsed::Incomplete);
        }
    }
}
