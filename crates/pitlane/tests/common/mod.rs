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
