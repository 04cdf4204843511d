//! The certificate store: what a first run creates, what later runs keep,
//! when the server certificate is renewed (and that the CA never is), the
//! MCO certificate, and operator-supplied certificates.

mod common;

use std::fs;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use chrono::Duration;
use common::{t0, MCO_HOST};
use pitlane_tls::certs::{CertAction, CertStore, OperatorCert, MMWS_HOST_NAMES};
use x509_parser::extensions::{GeneralName, ParsedExtension};

const CA_FILES: [&str; 4] = ["ca.key", "ca.pem", "ca.crt", "ca.cer"];

fn snapshot(dir: &Path, files: &[&str]) -> Vec<Vec<u8>> {
    files
        .iter()
        .map(|f| fs::read(dir.join(f)).unwrap())
        .collect()
}

fn lan_ip() -> IpAddr {
    // A documentation address: only written into a certificate, never used.
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10))
}

#[test]
fn first_run_creates_everything_and_second_run_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    let store = CertStore::open(&certs);
    let status = store
        .ensure(&["pitlane.lan".into()], &[lan_ip()], t0())
        .unwrap();
    assert_eq!(status.ca_action, CertAction::Created);
    assert_eq!(status.leaf_action, CertAction::Created);
    assert!(status.warnings.is_empty(), "{:?}", status.warnings);

    for f in CA_FILES.iter().chain(["server.key", "server.pem"].iter()) {
        assert!(certs.join(f).is_file(), "{f} missing");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in ["ca.key", "server.key"] {
            let mode = fs::metadata(certs.join(f)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{f}");
        }
        let mode = fs::metadata(&certs).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "certs directory open to others");
    }

    // ca.cer is the DER of ca.pem, ca.crt a PEM copy.
    let ca_pem = common::pem_certs(&certs.join("ca.pem"));
    assert_eq!(ca_pem.len(), 1);
    assert_eq!(fs::read(certs.join("ca.cer")).unwrap(), ca_pem[0].to_vec());
    assert_eq!(common::pem_certs(&certs.join("ca.crt")), ca_pem);

    // server.pem is leaf + CA.
    let chain = common::pem_certs(&certs.join("server.pem"));
    assert_eq!(chain.len(), 2);
    assert_eq!(chain[1], ca_pem[0]);

    let (_, leaf) = x509_parser::parse_x509_certificate(&chain[0]).unwrap();
    let (_, ca) = x509_parser::parse_x509_certificate(&ca_pem[0]).unwrap();
    leaf.verify_signature(Some(ca.public_key())).unwrap();
    assert!(ca.is_ca());
    assert!(!leaf.is_ca());
    let ca_days = (ca.validity().not_after.timestamp() - t0().timestamp()) / 86_400;
    assert!((3640..=3660).contains(&ca_days), "CA lasts {ca_days} days");
    let leaf_days = (leaf.validity().not_after.timestamp() - t0().timestamp()) / 86_400;
    assert!(
        (360..=370).contains(&leaf_days),
        "leaf lasts {leaf_days} days"
    );
    assert!(leaf.validity().not_before.timestamp() < t0().timestamp());
    assert_eq!(status.leaf.rsa_bits, Some(2048));
    assert_eq!(status.ca.as_ref().unwrap().rsa_bits, Some(2048));

    let mut dns = Vec::new();
    let mut ips = Vec::new();
    let mut server_auth = false;
    let mut key_encipherment = false;
    for ext in leaf.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectAlternativeName(san) => {
                for n in &san.general_names {
                    match n {
                        GeneralName::DNSName(d) => dns.push(d.to_string()),
                        GeneralName::IPAddress(b) => ips.push(b.to_vec()),
                        _ => {}
                    }
                }
            }
            ParsedExtension::ExtendedKeyUsage(eku) => server_auth = eku.server_auth,
            ParsedExtension::KeyUsage(ku) => key_encipherment = ku.key_encipherment(),
            _ => {}
        }
    }
    for name in MMWS_HOST_NAMES
        .iter()
        .chain(["localhost", "pitlane.lan"].iter())
    {
        assert!(dns.iter().any(|d| d == name), "{name} not in {dns:?}");
    }
    assert_eq!(ips, vec![vec![192, 0, 2, 10]]);
    assert!(server_auth && key_encipherment);
    assert_eq!(status.leaf.dns_names, dns);

    // The CA's name is unique per server, so one server's removal command
    // never removes another's CA.
    let cn = &status.ca.as_ref().unwrap().common_name;
    assert!(cn.starts_with("Pitlane Root CA "), "{cn}");

    // Nothing to do the second time, and nothing is rewritten.
    let before = snapshot(&certs, &["ca.key", "ca.pem", "server.key", "server.pem"]);
    let again = store
        .ensure(
            &["pitlane.lan".into()],
            &[lan_ip()],
            t0() + Duration::days(100),
        )
        .unwrap();
    assert_eq!(again.ca_action, CertAction::Kept);
    assert_eq!(again.leaf_action, CertAction::Kept);
    assert_eq!(
        snapshot(&certs, &["ca.key", "ca.pem", "server.key", "server.pem"]),
        before
    );
}

#[test]
fn renewal_replaces_the_server_certificate_and_keeps_the_ca() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    let store = CertStore::open(&certs);
    let first = store.ensure(&[], &[], t0()).unwrap();
    let ca_before = snapshot(&certs, &CA_FILES);
    let leaf_before = snapshot(&certs, &["server.key", "server.pem"]);

    // 340 days on, the 365-day certificate is inside the 30-day window.
    let later = t0() + Duration::days(340);
    let renewed = store.ensure(&[], &[], later).unwrap();
    assert_eq!(renewed.ca_action, CertAction::Kept);
    match &renewed.leaf_action {
        CertAction::Renewed { reason } => assert!(reason.contains("expires in"), "{reason}"),
        other => panic!("expected renewal, got {other:?}"),
    }
    assert_eq!(snapshot(&certs, &CA_FILES), ca_before, "CA files changed");
    let leaf_after = snapshot(&certs, &["server.key", "server.pem"]);
    assert_ne!(leaf_after[0], leaf_before[0], "key not replaced");
    assert_ne!(leaf_after[1], leaf_before[1], "certificate not replaced");
    assert!(renewed.leaf.not_after > first.leaf.not_after + Duration::days(300));

    // The renewed leaf still chains to the unchanged CA.
    let chain = common::pem_certs(&certs.join("server.pem"));
    let ca = common::read_ca(&certs);
    let (_, leaf) = x509_parser::parse_x509_certificate(&chain[0]).unwrap();
    let (_, ca) = x509_parser::parse_x509_certificate(&ca).unwrap();
    leaf.verify_signature(Some(ca.public_key())).unwrap();

    // An expired certificate is renewed too.
    let store_b = CertStore::open(dir.path().join("b"));
    store_b.ensure(&[], &[], t0()).unwrap();
    let expired = store_b
        .ensure(&[], &[], t0() + Duration::days(400))
        .unwrap();
    assert!(matches!(expired.leaf_action, CertAction::Renewed { .. }));
    assert_eq!(expired.ca_action, CertAction::Kept);
}

#[test]
fn new_names_reissue_the_leaf_but_not_the_ca() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    let store = CertStore::open(&certs);
    store.ensure(&[], &[lan_ip()], t0()).unwrap();
    let ca_before = snapshot(&certs, &CA_FILES);

    let status = store
        .ensure(&["race.example.org".into()], &[lan_ip()], t0())
        .unwrap();
    match &status.leaf_action {
        CertAction::Renewed { reason } => {
            assert!(reason.contains("race.example.org"), "{reason}")
        }
        other => panic!("expected renewal, got {other:?}"),
    }
    assert!(status.leaf.dns_names.contains(&"race.example.org".into()));
    // A changed address, too.
    let moved = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7));
    let status = store
        .ensure(&["race.example.org".into()], &[moved], t0())
        .unwrap();
    assert!(matches!(status.leaf_action, CertAction::Renewed { .. }));
    assert_eq!(status.leaf.ip_addresses, vec![moved]);
    assert_eq!(snapshot(&certs, &CA_FILES), ca_before);
}

#[test]
fn shorter_renewal_window_is_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let store = CertStore::open(dir.path()).with_renew_before(Duration::days(5));
    store.ensure(&[], &[], t0()).unwrap();
    let kept = store.ensure(&[], &[], t0() + Duration::days(340)).unwrap();
    assert_eq!(kept.leaf_action, CertAction::Kept);
    let renewed = store.ensure(&[], &[], t0() + Duration::days(362)).unwrap();
    assert!(matches!(renewed.leaf_action, CertAction::Renewed { .. }));
}

#[test]
fn damaged_or_foreign_leaf_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    let store = CertStore::open(&certs);
    store.ensure(&[], &[], t0()).unwrap();
    let ca_before = snapshot(&certs, &CA_FILES);

    fs::write(certs.join("server.pem"), "garbage").unwrap();
    let status = store.ensure(&[], &[], t0()).unwrap();
    assert!(
        matches!(&status.leaf_action, CertAction::Renewed { reason } if reason.contains("unreadable")),
        "{:?}",
        status.leaf_action
    );

    // A leaf from another CA (another server's certificate copied over).
    let other = CertStore::open(dir.path().join("other"));
    other.ensure(&[], &[], t0()).unwrap();
    for f in ["server.pem", "server.key"] {
        fs::copy(dir.path().join("other").join(f), certs.join(f)).unwrap();
    }
    let status = store.ensure(&[], &[], t0()).unwrap();
    assert!(
        matches!(&status.leaf_action, CertAction::Renewed { reason } if reason.contains("CA")),
        "{:?}",
        status.leaf_action
    );

    // A key that does not belong to the certificate.
    fs::copy(
        dir.path().join("other").join("server.key"),
        certs.join("server.key"),
    )
    .unwrap();
    let status = store.ensure(&[], &[], t0()).unwrap();
    assert!(
        matches!(&status.leaf_action, CertAction::Renewed { reason } if reason.contains("key")),
        "{:?}",
        status.leaf_action
    );
    assert_eq!(snapshot(&certs, &CA_FILES), ca_before);

    // Deleted Windows exports come back, without a new CA.
    fs::remove_file(certs.join("ca.cer")).unwrap();
    let status = store.ensure(&[], &[], t0()).unwrap();
    assert_eq!(status.ca_action, CertAction::Kept);
    assert_eq!(snapshot(&certs, &CA_FILES), ca_before);
}

#[test]
fn unusable_ca_is_replaced_loudly() {
    let dir = tempfile::tempdir().unwrap();
    let store = CertStore::open(dir.path());
    let first = store.ensure(&[], &[], t0()).unwrap();
    fs::remove_file(dir.path().join("ca.key")).unwrap();
    let status = store.ensure(&[], &[], t0()).unwrap();
    assert!(matches!(status.ca_action, CertAction::Renewed { .. }));
    assert!(matches!(status.leaf_action, CertAction::Renewed { .. }));
    assert_ne!(
        status.ca.as_ref().unwrap().common_name,
        first.ca.as_ref().unwrap().common_name
    );
    assert!(
        status.warnings.iter().any(|w| w.contains("must import")),
        "{:?}",
        status.warnings
    );
}

#[test]
fn ca_nearing_its_end_is_warned_about_and_limits_the_leaf() {
    let dir = tempfile::tempdir().unwrap();
    let store = CertStore::open(dir.path()).with_ca_common_name("Pitlane Test CA");
    let first = store.ensure(&[], &[], t0()).unwrap();
    assert_eq!(first.ca.as_ref().unwrap().common_name, "Pitlane Test CA");
    let late = t0() + Duration::days(3600);
    let status = store.ensure(&[], &[], late).unwrap();
    assert_eq!(status.ca_action, CertAction::Kept);
    assert!(
        status
            .warnings
            .iter()
            .any(|w| w.contains("CA certificate") && w.contains("expires in")),
        "{:?}",
        status.warnings
    );
    assert!(status.leaf.not_after <= status.ca.as_ref().unwrap().not_after);
}

#[test]
fn mco_certificate_is_small_and_signed_by_the_same_ca() {
    let f = common::fixture();
    assert_eq!(f.mco.leaf.rsa_bits, Some(1024));
    assert_eq!(f.mco.ca, f.server.ca, "MCO and MMWS must share one CA");
    assert!(f.mco.leaf.dns_names.contains(&MCO_HOST.to_string()));
    assert!(f.mco.leaf.dns_names.contains(&"localhost".to_string()));
    let chain = common::pem_certs(&f.path.join("mco.pem"));
    assert_eq!(chain.len(), 2);
    let (_, leaf) = x509_parser::parse_x509_certificate(&chain[0]).unwrap();
    let (_, ca) = x509_parser::parse_x509_certificate(&chain[1]).unwrap();
    leaf.verify_signature(Some(ca.public_key())).unwrap();

    // Asking for another size re-issues it; bad sizes are refused.
    let dir = tempfile::tempdir().unwrap();
    let store = CertStore::open(dir.path());
    store.ensure_mco(&[], &[], 1024, t0()).unwrap();
    let bigger = store.ensure_mco(&[], &[], 2048, t0()).unwrap();
    assert!(matches!(bigger.leaf_action, CertAction::Renewed { .. }));
    assert_eq!(bigger.leaf.rsa_bits, Some(2048));
    assert!(store.ensure_mco(&[], &[], 512, t0()).is_err());
}

#[test]
fn operator_certificates_are_used_as_is_and_only_checked() {
    // The operator's own certificate: a self-signed one for another name,
    // expiring in 10 days, made with rcgen directly.
    let dir = tempfile::tempdir().unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["play.example.org".to_string()]).unwrap();
    let now = chrono::Utc::now();
    params.not_before = time::OffsetDateTime::from_unix_timestamp(now.timestamp() - 3600).unwrap();
    params.not_after =
        time::OffsetDateTime::from_unix_timestamp(now.timestamp() + 10 * 86_400).unwrap();
    let cert = params.self_signed(&key).unwrap();
    let cert_path = dir.path().join("op.pem");
    let key_path = dir.path().join("op.key");
    fs::write(&cert_path, cert.pem()).unwrap();
    fs::write(&key_path, key.serialize_pem()).unwrap();
    let cert_bytes = fs::read(&cert_path).unwrap();

    let certs = dir.path().join("certs");
    let store = CertStore::open(&certs).with_operator_server_cert(OperatorCert {
        chain: cert_path.clone(),
        key: key_path.clone(),
    });
    let status = store.ensure(&[], &[], now).unwrap();
    assert_eq!(status.leaf_action, CertAction::OperatorSupplied);
    assert!(status.ca.is_none());
    assert_eq!(status.leaf.cert_path, cert_path);
    assert_eq!(status.leaf.key_path, key_path);
    assert!(!certs.exists(), "nothing may be generated");
    assert_eq!(fs::read(&cert_path).unwrap(), cert_bytes);
    let joined = status.warnings.join("\n");
    assert!(joined.contains("expires in"), "{joined}");
    assert!(joined.contains("mmcos.codemasters.com"), "{joined}");

    // A missing key file is an error, not a warning.
    let broken = CertStore::open(&certs).with_operator_server_cert(OperatorCert {
        chain: cert_path.clone(),
        key: dir.path().join("nope.key"),
    });
    assert!(broken.ensure(&[], &[], now).is_err());

    // And the TLS config serves exactly that certificate.
    let table = pitlane_tls::CertTable::from_status(&status).unwrap();
    let resolver = std::sync::Arc::new(pitlane_tls::SniResolver::new(table));
    let acceptor = pitlane_tls::acceptor(resolver).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (listener, addr) = common::loopback_listener().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            if let Ok(mut tls) = acceptor.accept(tcp).await {
                common::answer_ping(&mut tls).await;
            }
        });
        let config = common::client_config(&[cert.der().clone()]);
        let name = rustls::pki_types::ServerName::try_from("play.example.org").unwrap();
        let presented = common::rustls_ping(addr, config, name).await.unwrap();
        assert_eq!(presented, vec![cert.der().clone()]);
        server.await.unwrap();
    });
}
