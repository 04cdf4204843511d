//! A short, bounded burst of the load generator against a test server on
//! loopback: every operation must succeed. The figures are printed for the
//! curious, never asserted (speed is measured in docs/performance.md).

mod common;

use std::time::Duration;

use common::{test_config, TestServer};
use pitlane_core::ManualClock;
use pitlane_sim::load::{self, Endpoint, LoadPlan, McoTarget, Workload};
use pitlane_store::testing::databases;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bounded_burst_of_both_games_finishes_without_errors() {
    let db = databases().await.remove(0);
    let data_dir = tempfile::tempdir().unwrap();
    let mut config = test_config(&db, data_dir.path());
    let mm = &mut config.micromachines.matchmaking;
    mm.hold_secs = 2.0;
    mm.gather_secs = 0.3;
    mm.leave_after_secs = 1.0;
    mm.late_join_secs = 0.5;
    // AuthLogin is served over HTTPS only; certificates are checked
    // against the real clock.
    config.tls.enabled = true;
    let t = TestServer::start_with(config, data_dir, ManualClock::new(chrono::Utc::now())).await;
    let l = t.server.listening;

    const MCO_PLAYERS: usize = 3;
    let directory = t.server.mco().unwrap().directory.clone();
    for i in 0..MCO_PLAYERS {
        directory
            .create_account(&format!("load{i}"), "loadpass")
            .await
            .unwrap();
    }
    let pub_key = std::fs::read_to_string(t.data_dir.path().join("mco/pub.key")).unwrap();
    let trusting =
        pitlane_sim::tls::TrustingClient::from_ca_pem_file(&t.data_dir.path().join("certs/ca.pem"))
            .unwrap();
    let mco = McoTarget {
        auth: l.https.unwrap(),
        tls: load::TlsMode::Tls {
            server_name: "localhost".into(),
            connector: std::sync::Arc::new(trusting),
        },
        login: l.mco_login.unwrap(),
        persona: l.mco_persona.unwrap(),
        pub_key: motorcity::crypto::PublicLoginKey::from_pub_key_file(pub_key.trim()).unwrap(),
        user_prefix: "load".into(),
        password: "loadpass".into(),
        shard: motorcity::ShardId(44),
        accounts: None,
    };

    let mut players = LoadPlan::new(
        l.mmws_http,
        Workload::Players {
            mmws: 14,
            mco: MCO_PLAYERS,
            max_polls: 5,
        },
    );
    players.mco = Some(mco);
    players.concurrency = 32;
    players.duration = Duration::from_secs(20);
    players.timeout = Duration::from_secs(10);
    players.server_pid = Some(std::process::id());
    let report = load::run(players).await.unwrap();
    println!("{}", report.table());
    assert_eq!(report.total_errors(), 0, "{}", report.table());
    let ok = |name: &str| {
        report
            .operations
            .iter()
            .find(|o| o.operation == name)
            .map_or(0, |o| o.ok)
    };
    assert_eq!(ok("Login"), 14);
    assert!(ok("AddPoints") > 0, "{}", report.table());
    assert_eq!(ok("MCO persona select (0x503)"), MCO_PLAYERS as u64);

    for endpoint in [
        Endpoint::ServerStatus,
        Endpoint::Login,
        Endpoint::EnterMatchmaking2,
    ] {
        let mut plan = LoadPlan::new(l.mmws_http, Workload::Endpoint(endpoint));
        plan.concurrency = 8;
        plan.max_requests = Some(80);
        plan.duration = Duration::from_secs(10);
        plan.timeout = Duration::from_secs(10);
        plan.first_player = 1_000;
        let report = load::run(plan).await.unwrap();
        println!("{}", report.table());
        assert_eq!(report.total_errors(), 0, "{}", report.table());
    }
    t.server.shutdown().await;
}

#[tokio::test]
async fn targets_off_this_machine_are_refused() {
    let plan = LoadPlan::new(
        "192.0.2.1:80".parse().unwrap(),
        Workload::Endpoint(Endpoint::ServerStatus),
    );
    assert!(load::run(plan).await.is_err());
}
