//! HTTPS on one port for both games, with the certificates Pitlane makes,
//! through clients that trust only Pitlane's CA — as a player's PC would
//! after importing it. Includes Motor City Online from AuthLogin to a
//! selected persona.

mod common;

use std::pin::Pin;
use std::sync::Arc;

use common::{test_config, TestServer};
use motorcity::crypto::PublicLoginKey;
use pitlane_core::ManualClock;
use pitlane_sim::mco::{self, BoxedStream, ConnectFuture, PersonaCreation, TlsConnect, TlsMode};
use pitlane_sim::mmws::MmwsClient;
use pitlane_sim::tls::TrustingClient;
use pitlane_store::testing::{databases, TestDatabase};

async fn tls_server(db: &TestDatabase) -> TestServer {
    let data_dir = tempfile::tempdir().unwrap();
    let mut config = test_config(db, data_dir.path());
    config.tls.enabled = true;
    // Certificates are dated by the server's clock, and TLS clients check
    // them against the real one.
    TestServer::start_with(config, data_dir, ManualClock::new(chrono::Utc::now())).await
}

fn trusting(t: &TestServer) -> TrustingClient {
    TrustingClient::from_ca_pem_file(&t.data_dir.path().join("certs/ca.pem")).unwrap()
}

#[tokio::test]
async fn micro_machines_over_https_with_only_our_ca_trusted() {
    let db = TestDatabase::sqlite();
    let t = tls_server(&db).await;
    let certs = t.data_dir.path().join("certs");
    for file in ["ca.pem", "ca.cer", "ca.crt", "server.pem", "mco.pem"] {
        assert!(certs.join(file).exists(), "{file} is written");
    }
    let https = t.server.listening.https.unwrap();
    let mut client = MmwsClient::new(https);
    client.tls = Some(trusting(&t));

    let cdn = client.cdn().await.unwrap();
    assert_eq!(cdn.body.as_ref(), b"Live", "ecdn.codemasters.com over TLS");
    assert_eq!(client.server_status().await.unwrap().status, 200);
    let login = client.login(76561198081105540, "Heatray").await.unwrap();
    assert!(login.user_id > 0, "mmcos.codemasters.com over TLS");

    let mut egonet = pitlane_sim::egonet::EgoNetClient::new(https);
    egonet.tls = Some(trusting(&t));
    let answer = egonet
        .post(Some("Analytics.DataEvent"), &[], b"vdic\0\0\0\0".to_vec())
        .await
        .unwrap();
    assert_eq!(answer.status, 200, "prod.egonet.codemasters.com over TLS");

    // A name the certificate does not cover fails the handshake.
    let tcp = tokio::net::TcpStream::connect(https).await.unwrap();
    assert!(trusting(&t)
        .connect("www.codemasters.com", tcp)
        .await
        .is_err());

    // So does a client trusting another CA.
    let other = tempfile::tempdir().unwrap();
    pitlane_tls::CertStore::open(other.path())
        .ensure(&[], &[], chrono::Utc::now())
        .unwrap();
    let stranger = TrustingClient::from_ca_pem_file(&other.path().join("ca.pem")).unwrap();
    let tcp = tokio::net::TcpStream::connect(https).await.unwrap();
    assert!(stranger
        .connect("mmcos.codemasters.com", tcp)
        .await
        .is_err());

    // Certificates are kept across restarts (players import the CA once).
    let ca_before = std::fs::read(certs.join("ca.pem")).unwrap();
    let t = t.restart().await;
    assert_eq!(std::fs::read(certs.join("ca.pem")).unwrap(), ca_before);
    t.server.shutdown().await;
}

/// The Windows-XP client: TLS 1.0, no SNI, 3DES; served by the legacy
/// OpenSSL stack on the same port.
struct XpClient;

impl TlsConnect for XpClient {
    fn connect<'a>(
        &'a self,
        _server_name: &'a str,
        tcp: tokio::net::TcpStream,
    ) -> ConnectFuture<'a> {
        Box::pin(async move {
            let ctx = pitlane_tls::legacy::legacy_client_context(
                pitlane_tls::legacy::LegacyProfile::Tls10Des3Sha,
            )
            .map_err(std::io::Error::other)?;
            let ssl = openssl::ssl::Ssl::new(&ctx).map_err(std::io::Error::other)?;
            let mut stream =
                tokio_openssl::SslStream::new(ssl, tcp).map_err(std::io::Error::other)?;
            Pin::new(&mut stream)
                .connect()
                .await
                .map_err(std::io::Error::other)?;
            Ok(Box::new(stream) as BoxedStream)
        })
    }
}

#[tokio::test]
async fn motor_city_from_auth_login_over_tls_to_a_selected_persona() {
    for db in databases().await {
        let t = tls_server(&db).await;
        let l = t.server.listening;
        let https = l.https.unwrap();
        let mco_http = t.server.mco().unwrap().clone();
        mco_http
            .directory
            .create_account("alice", "s3cret")
            .await
            .unwrap();
        let pub_key = PublicLoginKey::from_pub_key_file(
            &std::fs::read_to_string(t.data_dir.path().join("mco/pub.key")).unwrap(),
        )
        .unwrap();

        // A modern TLS client (rustls, SNI) and the XP profile both work.
        let modern = TlsMode::Tls {
            server_name: "localhost".into(),
            connector: Arc::new(trusting(&t)),
        };
        let xp = TlsMode::Tls {
            server_name: "localhost".into(),
            connector: Arc::new(XpClient),
        };
        for (label, mode) in [("modern", modern.clone()), ("xp", xp.clone())] {
            let answer = mco::auth_login(https, mode, "alice", "s3cret")
                .await
                .unwrap();
            assert!(
                matches!(answer, motorcity::http::AuthLoginResponse::Valid { .. }),
                "{} {label}: {answer:?}",
                db.label
            );
        }

        let wrong = mco::auth_login(https, xp.clone(), "alice", "nope")
            .await
            .unwrap();
        assert!(matches!(
            wrong,
            motorcity::http::AuthLoginResponse::Invalid(_)
        ));

        let motorcity::http::AuthLoginResponse::Valid { ticket } =
            mco::auth_login(https, xp.clone(), "alice", "s3cret")
                .await
                .unwrap()
        else {
            panic!("no ticket");
        };
        let login_addr = l.mco_login.unwrap();
        let persona_addr = l.mco_persona.unwrap();
        let customer = mco::login(login_addr, &pub_key, &ticket).await.unwrap();
        assert!(
            mco::login(login_addr, &pub_key, &ticket).await.is_err(),
            "a ticket works once"
        );
        assert!(mco::list_personas(persona_addr, customer)
            .await
            .unwrap()
            .is_empty());
        let shard = motorcity::ShardId(44);
        let created = mco::create_persona(persona_addr, customer, shard, "Speedy")
            .await
            .unwrap();
        assert!(matches!(created, PersonaCreation::Created), "{created:?}");
        let personas = mco::list_personas(persona_addr, customer).await.unwrap();
        assert_eq!(personas.len(), 1);
        assert_eq!(personas[0].name, "Speedy");
        mco::select_persona(persona_addr, customer, personas[0].id, shard)
            .await
            .unwrap();

        // Garbage on the NPS ports harms nobody.
        use tokio::io::AsyncWriteExt;
        let mut junk = tokio::net::TcpStream::connect(login_addr).await.unwrap();
        junk.write_all(&[0xFF; 64]).await.unwrap();
        drop(junk);
        assert_eq!(
            mco::list_personas(persona_addr, customer)
                .await
                .unwrap()
                .len(),
            1
        );

        // The shard list counts her as online.
        let shards = pitlane_sim::http::send(
            l.mmws_http,
            http::Request::get("/ShardList/")
                .header("Host", "x")
                .body(http_body_util::Full::new(bytes::Bytes::new()))
                .unwrap(),
            std::time::Duration::from_secs(5),
        )
        .await
        .unwrap();
        assert!(shards.text().contains("Population=1"), "{}", shards.text());
        t.server.shutdown().await;
    }
}
