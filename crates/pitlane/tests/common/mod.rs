//! Start a real Pitlane server on 127.0.0.1:0 against a throw-away database
//! with a clock the test controls.

#![allow(dead_code)]

use std::sync::Arc;

use chrono::{DateTime, Utc};
use pitlane::Server;
use pitlane_core::{Config, ManualClock};
use pitlane_sim::mmws::MmwsClient;
use pitlane_store::testing::TestDatabase;

/// The instant of the captured session (flow 02).
pub fn capture_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2023-11-18T19:45:21Z")
        .unwrap()
        .to_utc()
}

pub struct TestServer {
    pub server: Server,
    pub clock: ManualClock,
    pub client: MmwsClient,
    pub config: Config,
    pub data_dir: tempfile::TempDir,
}

pub fn test_config(db: &TestDatabase, data_dir: &std::path::Path) -> Config {
    let mut config = Config::default();
    config.server.data_dir = data_dir.to_path_buf();
    config.server.database_url = Some(db.url.clone());
    config.listen.mmws_http = Some("127.0.0.1:0".parse().unwrap());
    config.listen.mco_login = Some("127.0.0.1:0".parse().unwrap());
    config.listen.mco_persona = Some("127.0.0.1:0".parse().unwrap());
    config.listen.mco_lobby = Some("127.0.0.1:0".parse().unwrap());
    config.listen.mco_mcots = Some("127.0.0.1:0".parse().unwrap());
    config.listen.https = Some("127.0.0.1:0".parse().unwrap());
    // Certificates take RSA key generation; only the TLS tests turn it on.
    config.tls.enabled = false;
    config.web.listen = "127.0.0.1:0".parse().unwrap();
    config
}

impl TestServer {
    pub async fn start(db: &TestDatabase) -> Self {
        let data_dir = tempfile::tempdir().unwrap();
        let config = test_config(db, data_dir.path());
        Self::start_with(config, data_dir, ManualClock::new(capture_time())).await
    }

    pub async fn start_with(
        config: Config,
        data_dir: tempfile::TempDir,
        clock: ManualClock,
    ) -> Self {
        let server = Server::start(&config, Arc::new(clock.clone()))
            .await
            .unwrap_or_else(|e| panic!("server start: {e}"));
        let client = MmwsClient::new(server.listening.mmws_http);
        Self {
            server,
            clock,
            client,
            config,
            data_dir,
        }
    }

    /// Stops the server and starts a new one on the same database.
    pub async fn restart(self) -> Self {
        let TestServer {
            server,
            clock,
            config,
            data_dir,
            ..
        } = self;
        server.shutdown().await;
        Self::start_with(config, data_dir, clock).await
    }
}

pub fn fixture(path: &str) -> Vec<u8> {
    let full = format!(
        "{}/../micromachines/tests/fixtures/session3/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// Sends only the head of a POST that declares `declared` body bytes and
/// returns the raw answer (head and `Content-Length` body) as text.
///
/// Bodies over the limit are refused on the declared length alone. A client
/// that went on pushing megabytes would race the server's close and could
/// see a broken pipe or a reset instead of the answer.
pub async fn post_declaring_length(
    stream: &mut tokio::net::TcpStream,
    path: &str,
    declared: usize,
) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/xml\r\n\
         Content-Length: {declared}\r\n\r\n",
        pitlane_sim::mmws::MMCOS_HOST
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .expect("answered in time")
            .unwrap();
        got.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if body.len() >= length || n == 0 {
                return text;
            }
        }
        assert!(n > 0, "closed before a full answer: {text}");
    }
}

/// What a `pitlane serve` child prints on standard output up to its
/// "Ctrl+C" line (where it listens), waiting at most 30 s.
pub fn startup_banner(child: &mut std::process::Child) -> String {
    use std::io::{BufRead, BufReader};
    let stdout = child.stdout.take().expect("stdout piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(std::time::Duration::from_millis(200)) {
            let done = line.contains("Ctrl+C");
            seen.push(line);
            if done {
                break;
            }
        }
    }
    seen.join("\n")
}

/// `/metrics` from the admin listener at `web`, over a plain connection:
/// the body of a 200 answer.
pub async fn scrape(web: std::net::SocketAddr) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(web).await.unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    body.to_string()
}

/// The value of one series (name and labels, as printed) in a scrape,
/// `None` when absent.
pub fn metric_value(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}
