//! The legacy OpenSSL stack (MCO AuthLogin) and the shared port: OpenSSL
//! clients restricted to what the Windows XP client offers get through, and
//! on one listener the sniffer hands Micro Machines to rustls and MCO to
//! OpenSSL. Everything on 127.0.0.1.
#![cfg(feature = "legacy-tls")]

mod common;

use std::pin::Pin;
use std::sync::Arc;

use openssl::ssl::{Ssl, SslContext, SslVersion};
use pitlane_tls::legacy::{client_context, legacy_client_context, LegacyAcceptor, LegacyProfile};
use pitlane_tls::sniff::{version, HelloFormat};
use pitlane_tls::{acceptor, AcceptError, CertTable, PortAcceptor, Route, ServerTlsStream};
use pitlane_tls::{SniResolver, Sniffer};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_openssl::SslStream;

fn legacy_acceptor() -> LegacyAcceptor {
    LegacyAcceptor::from_status(&common::fixture().mco).unwrap()
}

/// Connect with an OpenSSL client context, ping, and report what was
/// negotiated as (version, cipher).
async fn openssl_ping(
    addr: std::net::SocketAddr,
    ctx: &SslContext,
) -> Result<(String, String), String> {
    let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let ssl = Ssl::new(ctx).map_err(|e| e.to_string())?;
    let mut tls = SslStream::new(ssl, tcp).map_err(|e| e.to_string())?;
    Pin::new(&mut tls)
        .connect()
        .await
        .map_err(|e| e.to_string())?;
    tls.write_all(b"ping").await.map_err(|e| e.to_string())?;
    let mut buf = [0u8; 4];
    tls.read_exact(&mut buf).await.map_err(|e| e.to_string())?;
    assert_eq!(&buf, b"pong");
    let ssl = tls.ssl();
    Ok((
        ssl.version_str().to_string(),
        ssl.current_cipher()
            .map(|c| c.name().to_string())
            .unwrap_or_default(),
    ))
}

async fn start_legacy_only() -> std::net::SocketAddr {
    let acceptor = legacy_acceptor();
    let (listener, addr) = common::loopback_listener().await;
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    common::answer_ping(&mut tls).await;
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn xp_era_profiles_handshake() {
    let addr = start_legacy_only().await;
    for profile in LegacyProfile::ALL {
        let ctx = legacy_client_context(profile).unwrap();
        let (v, cipher) = openssl_ping(addr, &ctx)
            .await
            .unwrap_or_else(|e| panic!("{profile}: {e}"));
        assert_eq!(cipher, profile.cipher(), "{profile}");
        let want = match profile.version() {
            SslVersion::SSL3 => "SSLv3",
            _ => "TLSv1",
        };
        assert_eq!(v, want, "{profile}");
    }
}

#[tokio::test]
async fn server_prefers_3des_to_rc4_and_modern_to_both() {
    let addr = start_legacy_only().await;
    let xp = client_context(
        SslVersion::TLS1,
        Some(SslVersion::TLS1),
        "RC4-MD5:RC4-SHA:DES-CBC3-SHA:@SECLEVEL=0",
    )
    .unwrap();
    let (_, cipher) = openssl_ping(addr, &xp).await.unwrap();
    assert_eq!(cipher, "DES-CBC3-SHA");

    let modern = client_context(SslVersion::TLS1, None, "DEFAULT:RC4-SHA:@SECLEVEL=0").unwrap();
    let (v, _) = openssl_ping(addr, &modern).await.unwrap();
    assert_eq!(v, "TLSv1.3");
}

#[test]
fn probe_reports_every_profile_working() {
    let results = legacy_acceptor().probe();
    assert_eq!(results.len(), LegacyProfile::ALL.len());
    for r in results {
        assert_eq!(r.outcome, Ok(()), "{}", r.profile);
    }
    assert!(pitlane_tls::legacy::openssl_version().starts_with("OpenSSL 3."));
}

/// The first message of Windows XP's SChannel: an SSLv2-format
/// CLIENT-HELLO offering TLS 1.0 with RC4-MD5, RC4-SHA and DES-CBC3-SHA
/// (as SSLv3 cipher specs) plus SSLv2's RC4-MD5.
fn xp_sslv2_hello() -> Vec<u8> {
    let ciphers: &[u8] = &[0, 0, 0x04, 0, 0, 0x05, 0, 0, 0x0a, 0x01, 0x00, 0x80];
    let challenge = [0x5au8; 16];
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

/// Read the server's first record and return (record version, handshake
/// type, chosen cipher suite) of its ServerHello.
async fn read_server_hello(tcp: &mut TcpStream) -> (u16, u8, u16) {
    let mut header = [0u8; 5];
    tcp.read_exact(&mut header).await.unwrap();
    assert_eq!(
        header[0], 0x16,
        "expected a handshake record, got {header:?}"
    );
    let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
    let mut body = vec![0u8; len];
    tcp.read_exact(&mut body).await.unwrap();
    // type(1) len(3) version(2) random(32) sid_len(1) sid cipher(2)
    let sid_len = usize::from(body[38]);
    let cipher = u16::from_be_bytes([body[39 + sid_len], body[40 + sid_len]]);
    (u16::from_be_bytes([header[1], header[2]]), body[0], cipher)
}

#[tokio::test]
async fn sslv2_format_hello_is_answered_with_a_tls10_server_hello() {
    let addr = start_legacy_only().await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(&xp_sslv2_hello()).await.unwrap();
    let (record_version, msg_type, cipher) = read_server_hello(&mut tcp).await;
    assert_eq!(record_version, version::TLS10);
    assert_eq!(msg_type, 2, "ServerHello");
    assert_eq!(cipher, 0x000a, "DES-CBC3-SHA preferred over RC4");
}

/// Peek, route, hand over, answer with the route's name: what the binary's
/// port-443 loop does per connection.
async fn serve_one(port: &PortAcceptor, listener: &TcpListener) -> Result<Route, AcceptError> {
    let (tcp, _) = listener.accept().await.map_err(AcceptError::Modern)?;
    let mut accepted = port.accept(tcp).await?;
    let stack = match &accepted.stream {
        ServerTlsStream::Modern(_) => "rustls",
        ServerTlsStream::Legacy(_) => "openssl",
    };
    let mut buf = [0u8; 4];
    accepted.stream.read_exact(&mut buf).await.ok();
    accepted.stream.write_all(stack.as_bytes()).await.ok();
    accepted.stream.flush().await.ok();
    accepted.stream.shutdown().await.ok();
    Ok(accepted.route)
}

async fn read_all<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> String {
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    String::from_utf8_lossy(&out).into_owned()
}

fn port_acceptor() -> PortAcceptor {
    let f = common::fixture();
    let table = CertTable::from_status(&f.server).unwrap();
    let modern = acceptor(Arc::new(SniResolver::new(table))).unwrap();
    PortAcceptor::new(
        Sniffer::new().with_legacy_names([common::MCO_HOST.to_string()]),
        modern,
    )
    .with_legacy(legacy_acceptor())
}

#[tokio::test]
async fn one_port_routes_each_game_to_its_stack() {
    let f = common::fixture();
    let port = port_acceptor();
    let (listener, addr) = common::loopback_listener().await;

    // Micro Machines: rustls client, SNI, trusting only our CA.
    let config = common::client_config(&[common::read_ca(&f.path)]);
    let client = tokio::spawn(async move {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut tls = tokio_rustls::TlsConnector::from(config)
            .connect(ServerName::try_from("mmcos.codemasters.com").unwrap(), tcp)
            .await
            .unwrap();
        tls.write_all(b"ping").await.unwrap();
        read_all(&mut tls).await
    });
    let route = serve_one(&port, &listener).await.unwrap();
    assert_eq!(
        route,
        Route::Modern {
            sni: "mmcos.codemasters.com".into()
        }
    );
    assert_eq!(client.await.unwrap(), "rustls");

    // MCO on XP: TLS 1.0 with 3DES, no SNI.
    for profile in LegacyProfile::ALL {
        let ctx = legacy_client_context(profile).unwrap();
        let client = tokio::spawn(async move {
            let tcp = TcpStream::connect(addr).await.unwrap();
            let mut tls = SslStream::new(Ssl::new(&ctx).unwrap(), tcp).unwrap();
            Pin::new(&mut tls).connect().await.unwrap();
            let cipher = tls.ssl().current_cipher().unwrap().name().to_string();
            tls.write_all(b"ping").await.unwrap();
            (read_all(&mut tls).await, cipher)
        });
        assert_eq!(serve_one(&port, &listener).await.unwrap(), Route::Legacy);
        assert_eq!(
            client.await.unwrap(),
            ("openssl".to_string(), profile.cipher().to_string())
        );
    }

    // MCO on a newer Windows that sends SNI for the AuthLogin host and
    // TLS 1.2: still OpenSSL, which holds that host's certificate.
    let ctx = client_context(SslVersion::TLS1_2, None, "DEFAULT").unwrap();
    let client = tokio::spawn(async move {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut ssl = Ssl::new(&ctx).unwrap();
        ssl.set_hostname(common::MCO_HOST).unwrap();
        let mut tls = SslStream::new(ssl, tcp).unwrap();
        Pin::new(&mut tls).connect().await.unwrap();
        tls.write_all(b"ping").await.unwrap();
        read_all(&mut tls).await
    });
    assert_eq!(serve_one(&port, &listener).await.unwrap(), Route::Legacy);
    assert_eq!(client.await.unwrap(), "openssl");

    // The SSLv2-format hello goes to OpenSSL too.
    let client = tokio::spawn(async move {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        tcp.write_all(&xp_sslv2_hello()).await.unwrap();
        read_server_hello(&mut tcp).await
    });
    let served = tokio::spawn({
        let port = port.clone();
        async move {
            let (tcp, _) = listener.accept().await.unwrap();
            // The handshake cannot finish (the client stops after the
            // ServerHello); the route and the ServerHello are the point.
            let sniffed = Sniffer::new().sniff(&tcp).await.unwrap();
            let _ = port.accept(tcp).await;
            (sniffed, listener)
        }
    });
    let (_, msg_type, cipher) = client.await.unwrap();
    assert_eq!((msg_type, cipher), (2, 0x000a));
    let ((hello, route), listener) = served.await.unwrap();
    assert_eq!(hello.format, HelloFormat::Sslv2Compatible);
    assert_eq!(route, Route::Legacy);

    // Plain HTTP on the TLS port is dropped without a handshake.
    let client = tokio::spawn(async move {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        read_all(&mut tcp).await
    });
    let err = serve_one(&port, &listener).await.unwrap_err();
    assert!(matches!(err, AcceptError::Sniff(_)), "{err}");
    drop(listener);
    client.await.unwrap();
}

#[tokio::test]
async fn silent_and_stalled_clients_time_out() {
    let f = common::fixture();
    let table = CertTable::from_status(&f.server).unwrap();
    let modern = acceptor(Arc::new(SniResolver::new(table))).unwrap();
    let port = PortAcceptor::new(
        Sniffer::new().with_timeout(std::time::Duration::from_millis(200)),
        modern,
    )
    .with_legacy(legacy_acceptor())
    .with_handshake_timeout(std::time::Duration::from_millis(300));
    let (listener, addr) = common::loopback_listener().await;

    // Connects and says nothing.
    let _silent = TcpStream::connect(addr).await.unwrap();
    let err = serve_one(&port, &listener).await.unwrap_err();
    assert!(matches!(err, AcceptError::Sniff(_)), "{err}");

    // Half a ClientHello.
    let mut half = TcpStream::connect(addr).await.unwrap();
    half.write_all(&xp_sslv2_hello()[..10]).await.unwrap();
    let err = serve_one(&port, &listener).await.unwrap_err();
    assert!(matches!(err, AcceptError::Sniff(_)), "{err}");

    // A full hello, then silence mid-handshake.
    let mut stalled = TcpStream::connect(addr).await.unwrap();
    stalled.write_all(&xp_sslv2_hello()).await.unwrap();
    let err = serve_one(&port, &listener).await.unwrap_err();
    assert!(matches!(err, AcceptError::HandshakeTimeout(_)), "{err}");
}
