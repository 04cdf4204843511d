//! The `pitlane` program as an operator runs it.

mod common;

use std::process::{Command, Stdio};

fn pitlane() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pitlane"))
}

#[test]
fn a_taken_port_gives_one_line_naming_it_and_a_non_zero_exit() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pitlane.toml");
    std::fs::write(
        &config,
        format!("[listen]\nmmws_http = \"127.0.0.1:{port}\"\nmco_login = \"127.0.0.1:0\"\nmco_persona = \"127.0.0.1:0\"\nhttps = \"127.0.0.1:0\"\n"),
    )
    .unwrap();
    let out = pitlane()
        .args(["serve", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("port {port} is already in use")),
        "{stderr}"
    );
    assert!(stderr.contains("mmws_http"), "{stderr}");
}

#[test]
fn init_writes_the_commented_defaults_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pitlane.toml");
    let out = pitlane()
        .arg("init")
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text, pitlane_core::config::EXAMPLE);
    let again = pitlane()
        .arg("init")
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
}

#[test]
fn hosts_prints_the_three_names_for_the_given_address() {
    let out = pitlane()
        .args(["hosts", "--address", "192.168.1.20"])
        .current_dir(tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("192.168.1.20 mmcos.codemasters.com\n192.168.1.20 prod.egonet.codemasters.com\n192.168.1.20 ecdn.codemasters.com\n"),
        "{text}"
    );
    assert!(
        text.contains("Add-Content") && text.contains("Set-Content"),
        "commands to add and remove them: {text}"
    );
}

#[cfg(unix)]
#[test]
fn serve_prints_where_it_listens_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pitlane.toml");
    std::fs::write(&config, "[listen]\nmmws_http = \"127.0.0.1:0\"\nmco_login = \"127.0.0.1:0\"\nmco_persona = \"127.0.0.1:0\"\nhttps = \"127.0.0.1:0\"\n[web]\nlisten = \"127.0.0.1:0\"\n").unwrap();
    let mut child = pitlane()
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let text = common::startup_banner(&mut child);
    assert!(text.contains("HTTP (both games) on 127.0.0.1:"), "{text}");
    assert!(text.contains(" mmcos.codemasters.com"), "{text}");
    assert!(text.contains(" prod.egonet.codemasters.com"), "{text}");
    assert!(
        dir.path().join("data/pitlane.db").exists(),
        "SQLite created in the data dir"
    );

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let logs: Vec<_> = std::fs::read_dir(dir.path().join("data/logs"))
        .unwrap()
        .collect();
    assert!(!logs.is_empty(), "a log file in the data dir");
}
