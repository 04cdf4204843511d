//! rustls handshakes against the generated certificates, with a client that
//! trusts only the generated CA, as a player's Windows will after importing
//! `ca.cer`. Everything on 127.0.0.1.

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use pitlane_tls::certs::MMWS_HOST_NAMES;
use pitlane_tls::{acceptor, CertTable, SniResolver};
use rustls::pki_types::ServerName;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// Serve ping/pong on every connection until the test ends.
async fn serve(acceptor: TlsAcceptor, listener: TcpListener) {
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
}

async fn start_server() -> SocketAddr {
    let f = common::fixture();
    let table = CertTable::from_status(&f.server).unwrap();
    let acceptor = acceptor(Arc::new(SniResolver::new(table))).unwrap();
    let (listener, addr) = common::loopback_listener().await;
    tokio::spawn(serve(acceptor, listener));
    addr
}

fn name(s: &str) -> ServerName<'static> {
    ServerName::try_from(s.to_string()).unwrap()
}

#[tokio::test]
async fn each_game_host_name_and_localhost_verify_against_the_ca_only() {
    let f = common::fixture();
    let addr = start_server().await;
    let config = common::client_config(&[common::read_ca(&f.path)]);
    for host in MMWS_HOST_NAMES.iter().chain(["localhost"].iter()) {
        let chain = common::rustls_ping(addr, config.clone(), name(host))
            .await
            .unwrap_or_else(|e| panic!("{host}: {e}"));
        assert_eq!(chain.len(), 2, "{host}: leaf and CA expected");
    }
    // By address (no SNI): the certificate carries 127.0.0.1.
    common::rustls_ping(
        addr,
        config.clone(),
        ServerName::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST).into()),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_name_outside_the_certificate_fails() {
    let f = common::fixture();
    let addr = start_server().await;
    let config = common::client_config(&[common::read_ca(&f.path)]);
    let err = common::rustls_ping(addr, config, name("www.codemasters.com"))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("NotValidForName") || err.to_string().contains("not valid"),
        "{err}"
    );
}

#[tokio::test]
async fn another_ca_is_not_trusted() {
    let addr = start_server().await;
    let other = tempfile::tempdir().unwrap();
    pitlane_tls::CertStore::open(other.path())
        .ensure(&[], &[], chrono::Utc::now())
        .unwrap();
    let config = common::client_config(&[common::read_ca(other.path())]);
    let err = common::rustls_ping(addr, config, name("mmcos.codemasters.com"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("UnknownIssuer"), "{err}");
}

#[tokio::test]
async fn tls12_as_the_game_negotiates_it_and_alpn_is_http11() {
    let f = common::fixture();
    let addr = start_server().await;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(common::read_ca(&f.path)).unwrap();
    // Offer only the suite the real client negotiated (spec 1.3).
    let mut provider = rustls::crypto::ring::default_provider();
    provider
        .cipher_suites
        .retain(|s| s.suite() == rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256);
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name("prod.egonet.codemasters.com"), tcp)
        .await
        .unwrap();
    let conn = tls.get_ref().1;
    assert_eq!(
        conn.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );
    assert_eq!(conn.alpn_protocol(), Some(&b"http/1.1"[..]));
    assert_eq!(
        conn.negotiated_cipher_suite().map(|s| s.suite()),
        Some(rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)
    );
}

#[tokio::test]
async fn resolver_picks_by_sni_and_can_be_swapped() {
    // Two tables: the server certificate, and a second store's certificate
    // for one extra name; then replace the table while serving.
    let f = common::fixture();
    let other_dir = tempfile::tempdir().unwrap();
    let other = pitlane_tls::CertStore::open(other_dir.path())
        .ensure(&["other.test".into()], &[], chrono::Utc::now())
        .unwrap();
    let main_key = pitlane_tls::rustls_config::load_certified_key(
        &f.server.leaf.cert_path,
        &f.server.leaf.key_path,
    )
    .unwrap();
    let other_key =
        pitlane_tls::rustls_config::load_certified_key(&other.leaf.cert_path, &other.leaf.key_path)
            .unwrap();
    let table = CertTable::new(main_key.clone())
        .with_names(MMWS_HOST_NAMES, main_key.clone())
        .with_names(["Other.Test"], other_key.clone());
    let resolver = Arc::new(SniResolver::new(table));
    let (listener, addr) = common::loopback_listener().await;
    tokio::spawn(serve(acceptor(resolver.clone()).unwrap(), listener));

    let ours = common::client_config(&[common::read_ca(&f.path)]);
    let theirs = common::client_config(&[common::read_ca(other_dir.path())]);
    common::rustls_ping(addr, ours.clone(), name("mmcos.codemasters.com"))
        .await
        .unwrap();
    common::rustls_ping(addr, theirs.clone(), name("other.test"))
        .await
        .unwrap();
    // Unknown SNI gets the default (ours), which does not cover the name.
    assert!(
        common::rustls_ping(addr, ours.clone(), name("unknown.test"))
            .await
            .is_err()
    );

    resolver.replace(CertTable::new(other_key.clone()).with_names(MMWS_HOST_NAMES, other_key));
    assert!(
        common::rustls_ping(addr, theirs, name("mmcos.codemasters.com"))
            .await
            .is_ok(),
        "the swapped table must be used on the next handshake"
    );
}

#[test]
fn a_key_that_does_not_match_is_refused_at_load() {
    let f = common::fixture();
    let err = pitlane_tls::rustls_config::load_certified_key(
        &f.server.leaf.cert_path,
        &f.path.join("ca.key"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("ca.key"), "{err}");
}

#[tokio::test]
async fn without_a_legacy_stack_every_route_is_served_by_rustls() {
    let f = common::fixture();
    let table = CertTable::from_status(&f.server).unwrap();
    let port = pitlane_tls::PortAcceptor::new(
        pitlane_tls::Sniffer::new(),
        acceptor(Arc::new(SniResolver::new(table))).unwrap(),
    );
    let (listener, addr) = common::loopback_listener().await;
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let port = port.clone();
            tokio::spawn(async move {
                let mut accepted = port.accept(tcp).await.unwrap();
                let modern = matches!(accepted.stream, pitlane_tls::ServerTlsStream::Modern(_));
                assert!(modern, "served by {}", accepted.stream.describe());
                common::answer_ping(&mut accepted.stream).await;
            });
        }
    });
    let config = common::client_config(&[common::read_ca(&f.path)]);
    common::rustls_ping(addr, config.clone(), name("ecdn.codemasters.com"))
        .await
        .unwrap();
    // No SNI routes "legacy", which without OpenSSL still means rustls.
    common::rustls_ping(
        addr,
        config,
        ServerName::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST).into()),
    )
    .await
    .unwrap();
}
