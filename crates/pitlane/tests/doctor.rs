//! `doctor` against a running server, a stopped one and a stranger's CA;
//! the player-setup commands as an operator runs them.

mod common;

use std::process::Command;

use common::{test_config, TestServer};
use pitlane_core::ManualClock;
use pitlane_sim::doctor::{run, DoctorOptions};
use pitlane_store::testing::TestDatabase;

async fn tls_server(db: &TestDatabase) -> TestServer {
    let data_dir = tempfile::tempdir().unwrap();
    let mut config = test_config(db, data_dir.path());
    config.tls.enabled = true;
    TestServer::start_with(config, data_dir, ManualClock::new(chrono::Utc::now())).await
}

fn options(t: &TestServer, ca: std::path::PathBuf) -> DoctorOptions {
    let l = t.server.listening;
    DoctorOptions {
        server: Some("127.0.0.1".parse().unwrap()),
        http_port: l.mmws_http.port(),
        https_port: l.https.unwrap().port(),
        ca_pem: Some(ca),
        check_dns: false,
        timeout: std::time::Duration::from_secs(5),
    }
}

#[tokio::test]
async fn doctor_passes_against_a_working_server_and_names_each_failure() {
    let db = TestDatabase::sqlite();
    let t = tls_server(&db).await;
    let ca = t.data_dir.path().join("certs/ca.pem");
    let report = run(&options(&t, ca.clone())).await;
    let failures: Vec<String> = report
        .iter()
        .filter(|c| !c.ok)
        .map(|c| c.to_string())
        .collect();
    assert!(failures.is_empty(), "{failures:?}");
    let names: Vec<&str> = report.iter().map(|c| c.name.as_str()).collect();
    for expected in [
        "TLS for mmcos.codemasters.com",
        "CDN file",
        "login",
        "leaderboards",
        "matchmaking",
        "EgoNet login",
    ] {
        assert!(names.contains(&expected), "{expected} checked: {names:?}");
    }

    // A certificate from another CA: the TLS checks fail with the fix.
    let other = tempfile::tempdir().unwrap();
    pitlane_tls::CertStore::open(other.path())
        .ensure(&[], &[], chrono::Utc::now())
        .unwrap();
    let report = run(&options(&t, other.path().join("ca.pem"))).await;
    let tls = report
        .iter()
        .find(|c| c.name == "TLS for mmcos.codemasters.com")
        .unwrap();
    assert!(!tls.ok);
    assert!(tls.fix.as_deref().unwrap().contains("certutil"), "{tls}");

    // A stopped server.
    let stopped = options(&t, ca);
    t.server.shutdown().await;
    let report = run(&stopped).await;
    assert!(report.iter().all(|c| !c.ok), "{report:?}");
    assert!(report
        .iter()
        .any(|c| c.fix.as_deref().unwrap_or("").contains("start the server")));
}

fn pitlane(data: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pitlane"));
    c.current_dir(data.parent().unwrap());
    c
}

#[test]
fn certs_and_player_setup_commands_write_what_players_need() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = pitlane(&data)
        .args(["certs", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("certutil -addstore -f Root ca.cer"), "{text}");
    assert!(
        text.contains("certutil -delstore Root \"Pitlane Root CA"),
        "{text}"
    );
    assert!(data.join("certs/ca.cer").exists());

    let mco = dir.path().join("mco-files");
    let out = pitlane(&data)
        .args(["mco", "client-setup", "--host", "192.168.1.20", "--out"])
        .arg(&mco)
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut files: Vec<String> = std::fs::read_dir(&mco)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert!(
        files.contains(&"pub.key".to_string()) && files.contains(&"ca.cer".to_string()),
        "{files:?}"
    );
    assert_eq!(
        files.iter().filter(|f| f.ends_with(".reg")).count(),
        4,
        "{files:?}"
    );
    assert_eq!(
        std::fs::read(mco.join("ca.cer")).unwrap(),
        std::fs::read(data.join("certs/ca.cer")).unwrap()
    );
    assert_eq!(
        std::fs::read_to_string(mco.join("pub.key")).unwrap(),
        std::fs::read_to_string(data.join("mco/pub.key")).unwrap()
    );

    let boot = dir.path().join("boot");
    let out = pitlane(&data)
        .args(["client-config", "--address", "192.168.1.20", "--out"])
        .arg(&boot)
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(std::fs::read_to_string(boot.join("BootConfig_User.xml"))
        .unwrap()
        .contains("Localhost"));
}
