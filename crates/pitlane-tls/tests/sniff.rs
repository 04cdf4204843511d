//! The ClientHello parser on real hellos (what rustls and OpenSSL clients
//! actually send) and on anything at all (property tests: it never panics,
//! and generated hellos parse to what was put in).

use std::sync::Arc;

use pitlane_tls::sniff::{parse_client_hello, route, version, HelloFormat, Parsed};
use pitlane_tls::Route;
use proptest::prelude::*;
use rustls::pki_types::ServerName;

/// The bytes a rustls client sends first.
fn rustls_hello(name: ServerName<'static>, tls12_only: bool) -> Vec<u8> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider);
    let builder = if tls12_only {
        builder.with_protocol_versions(&[&rustls::version::TLS12])
    } else {
        builder.with_safe_default_protocol_versions()
    }
    .unwrap();
    let mut config = builder
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut out = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut out).unwrap();
    }
    out
}

fn complete(buf: &[u8]) -> pitlane_tls::ClientHelloInfo {
    match parse_client_hello(buf) {
        Parsed::Complete(info) => info,
        other => panic!("expected a complete hello, got {other:?}"),
    }
}

#[test]
fn rustls_tls13_hello_with_sni_is_modern() {
    let bytes = rustls_hello(
        ServerName::try_from("mmcos.codemasters.com").unwrap(),
        false,
    );
    let info = complete(&bytes);
    assert_eq!(info.format, HelloFormat::Tls);
    assert_eq!(info.client_version, version::TLS12);
    assert_eq!(info.max_version, version::TLS13);
    assert_eq!(info.sni.as_deref(), Some("mmcos.codemasters.com"));
    assert_eq!(
        route(&info, &[]),
        Route::Modern {
            sni: "mmcos.codemasters.com".into()
        }
    );
    for cut in 0..bytes.len() {
        assert_eq!(parse_client_hello(&bytes[..cut]), Parsed::Incomplete);
    }
}

#[test]
fn rustls_tls12_hello_is_modern() {
    let bytes = rustls_hello(
        ServerName::try_from("prod.egonet.codemasters.com").unwrap(),
        true,
    );
    let info = complete(&bytes);
    assert_eq!(info.max_version, version::TLS12);
    assert!(matches!(route(&info, &[]), Route::Modern { .. }));
}

#[test]
fn rustls_hello_to_an_address_has_no_sni_and_is_legacy() {
    let bytes = rustls_hello(
        ServerName::IpAddress(std::net::IpAddr::from([127, 0, 0, 1]).into()),
        false,
    );
    let info = complete(&bytes);
    assert_eq!(info.sni, None);
    assert_eq!(route(&info, &[]), Route::Legacy);
}

#[cfg(feature = "legacy-tls")]
mod openssl_hellos {
    use super::*;
    use openssl::ssl::{Ssl, SslVersion};
    use pitlane_tls::legacy::{client_context, legacy_client_context, LegacyProfile};
    use std::io::{self, Read, Write};

    /// Collects what the client writes; reads would block, which stops the
    /// handshake right after the ClientHello.
    #[derive(Debug)]
    struct Capture(Vec<u8>);
    impl Read for Capture {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::ErrorKind::WouldBlock.into())
        }
    }
    impl Write for Capture {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn openssl_hello(ctx: &openssl::ssl::SslContext, sni: Option<&str>) -> Vec<u8> {
        let mut ssl = Ssl::new(ctx).unwrap();
        if let Some(name) = sni {
            ssl.set_hostname(name).unwrap();
        }
        match ssl.connect(Capture(Vec::new())) {
            Err(openssl::ssl::HandshakeError::WouldBlock(mid)) => mid.get_ref().0.clone(),
            Err(e) => panic!("unexpected handshake result: {e}"),
            Ok(_) => panic!("handshake cannot complete without a server"),
        }
    }

    #[test]
    fn tls10_3des_hello_is_legacy() {
        let ctx = legacy_client_context(LegacyProfile::Tls10Des3Sha).unwrap();
        let info = complete(&openssl_hello(&ctx, None));
        assert_eq!(info.client_version, version::TLS10);
        assert_eq!(info.max_version, version::TLS10);
        assert_eq!(route(&info, &[]), Route::Legacy);
        // Even with SNI, TLS 1.0 is legacy.
        let info = complete(&openssl_hello(&ctx, Some("mmcos.codemasters.com")));
        assert_eq!(info.sni.as_deref(), Some("mmcos.codemasters.com"));
        assert_eq!(route(&info, &[]), Route::Legacy);
    }

    #[test]
    fn sslv3_hello_is_legacy() {
        let ctx = legacy_client_context(LegacyProfile::Ssl3Rc4Md5).unwrap();
        let info = complete(&openssl_hello(&ctx, None));
        assert_eq!(info.record_version, version::SSL3);
        assert_eq!(info.client_version, version::SSL3);
        assert_eq!(info.sni, None);
        assert_eq!(route(&info, &[]), Route::Legacy);
    }

    #[test]
    fn modern_openssl_hello_with_sni_is_modern() {
        let ctx = client_context(SslVersion::TLS1_2, None, "DEFAULT").unwrap();
        let info = complete(&openssl_hello(&ctx, Some("ecdn.codemasters.com")));
        assert_eq!(info.max_version, version::TLS13);
        assert_eq!(
            route(&info, &[]),
            Route::Modern {
                sni: "ecdn.codemasters.com".into()
            }
        );
    }
}

/// A TLS ClientHello from parts, split over records of at most `chunk`
/// bytes.
fn build_hello(
    client_version: u16,
    session_id: &[u8],
    suites: &[u16],
    sni: Option<&str>,
    versions: &[u16],
    other_exts: &[(u16, Vec<u8>)],
    chunk: usize,
) -> Vec<u8> {
    let mut body = client_version.to_be_bytes().to_vec();
    body.extend_from_slice(&[0x42; 32]);
    body.push(session_id.len() as u8);
    body.extend_from_slice(session_id);
    body.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]);
    let mut exts = Vec::new();
    let mut push = |t: u16, data: &[u8]| {
        exts.extend_from_slice(&t.to_be_bytes());
        exts.extend_from_slice(&(data.len() as u16).to_be_bytes());
        exts.extend_from_slice(data);
    };
    for (t, data) in other_exts {
        push(*t, data);
    }
    if let Some(name) = sni {
        let mut entry = vec![0u8];
        entry.extend_from_slice(&(name.len() as u16).to_be_bytes());
        entry.extend_from_slice(name.as_bytes());
        let mut data = (entry.len() as u16).to_be_bytes().to_vec();
        data.extend_from_slice(&entry);
        push(0, &data);
    }
    if !versions.is_empty() {
        let mut data = vec![(versions.len() * 2) as u8];
        for v in versions {
            data.extend_from_slice(&v.to_be_bytes());
        }
        push(43, &data);
    }
    body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    body.extend_from_slice(&exts);
    let mut msg = vec![1u8];
    msg.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    msg.extend_from_slice(&body);
    let mut out = Vec::new();
    for part in msg.chunks(chunk.max(1)) {
        out.extend_from_slice(&[0x16, 3, 1]);
        out.extend_from_slice(&(part.len() as u16).to_be_bytes());
        out.extend_from_slice(part);
    }
    out
}

fn other_ext() -> impl Strategy<Value = (u16, Vec<u8>)> {
    (
        any::<u16>().prop_filter("not SNI or versions", |t| *t != 0 && *t != 43),
        proptest::collection::vec(any::<u8>(), 0..40),
    )
}

proptest! {
    #[test]
    fn never_panics_on_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_client_hello(&bytes);
    }

    #[test]
    fn never_panics_behind_a_plausible_header(
        lead in prop_oneof![Just(vec![0x16u8, 3, 1]), Just(vec![0x80u8]), Just(vec![0x16u8, 3, 3, 0])],
        rest in proptest::collection::vec(any::<u8>(), 0..2048),
    ) {
        let mut bytes = lead;
        bytes.extend_from_slice(&rest);
        let _ = parse_client_hello(&bytes);
    }

    #[test]
    fn generated_hellos_parse_to_their_parts(
        client_version in prop_oneof![Just(version::SSL3), Just(version::TLS10), Just(version::TLS12)],
        session_id in proptest::collection::vec(any::<u8>(), 0..=32),
        suites in proptest::collection::vec(any::<u16>(), 1..50),
        sni in proptest::option::of("[a-z0-9]{1,20}(\\.[a-z0-9]{1,20}){0,3}"),
        versions in proptest::collection::vec(any::<u16>(), 0..6),
        others in proptest::collection::vec(other_ext(), 0..5),
        chunk in 1usize..600,
    ) {
        let bytes = build_hello(client_version, &session_id, &suites, sni.as_deref(), &versions, &others, chunk);
        let info = match parse_client_hello(&bytes) {
            Parsed::Complete(info) => info,
            other => return Err(TestCaseError::fail(format!("{other:?}"))),
        };
        prop_assert_eq!(info.client_version, client_version);
        prop_assert_eq!(info.sni.as_deref(), sni.as_deref());
        let offered = versions.iter().copied().filter(|v| (version::SSL3..=version::TLS13).contains(v)).max();
        prop_assert_eq!(info.max_version, offered.unwrap_or(client_version));
        let modern = sni.is_some() && info.max_version >= version::TLS12;
        prop_assert_eq!(matches!(route(&info, &[]), Route::Modern { .. }), modern);
        // Every strict prefix just asks for more.
        for cut in [0, 1, 4, 5, bytes.len() / 2, bytes.len() - 1] {
            prop_assert_eq!(parse_client_hello(&bytes[..cut]), Parsed::Incomplete);
        }
    }

    #[test]
    fn damaged_hellos_never_panic(
        sni in "[a-z]{1,30}",
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = build_hello(version::TLS12, &[1; 32], &[0x1301, 0xc02f], Some(&sni), &[version::TLS13], &[], 16384);
        let i = at.index(bytes.len());
        bytes[i] = byte;
        let _ = parse_client_hello(&bytes);
        let _ = parse_client_hello(&bytes[..cut.index(bytes.len())]);
    }
}
