//! `/metrics` after a scripted sequence of simulated clients: every answer
//! is counted under its game, operation and status, every refusal under
//! the limit that made it, and the gauges (held polls, queue sizes, open
//! connections) show what is open at the moment of the scrape.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{metric_value, scrape, test_config, TestServer};
use pitlane_core::ManualClock;
use pitlane_sim::mmws::{Search, ENTER_MATCHMAKING_PATH, UPDATE_TITLE_PATH};
use pitlane_store::testing::databases;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const A: u64 = 76561198081105540;
const B: u64 = 76561197960287930;

fn sample(metrics: &str, series: &str) -> f64 {
    metric_value(metrics, series).unwrap_or_else(|| panic!("no {series} in\n{metrics}"))
}

fn requests(game: &str, operation: &str, status: u16) -> String {
    format!(
        "pitlane_requests_total{{game=\"{game}\",operation=\"{operation}\",status=\"{status}\"}}"
    )
}

/// Scrapes until `series` has `wanted` (the server accepts a connection or
/// starts holding a poll a moment after the client's call returns); the
/// number of tries bounds the wait, the assertion is on the value.
async fn until(web: SocketAddr, series: &str, wanted: f64) -> String {
    let mut last = String::new();
    for _ in 0..600 {
        last = scrape(web).await;
        if metric_value(&last, series) == Some(wanted) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{series} never reached {wanted}:\n{last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_every_answer_refusal_and_open_thing() {
    for db in databases().await {
        let data_dir = tempfile::tempdir().unwrap();
        let mut config = test_config(&db, data_dir.path());
        config.limits.max_body_bytes = 4096;
        config.limits.max_held_polls = 1;
        let t = TestServer::start_with(config, data_dir, ManualClock::new(common::capture_time()))
            .await;
        let web = t.server.listening.web.expect("the admin listener");
        let label = &db.label;

        for _ in 0..3 {
            assert_eq!(t.client.server_status().await.unwrap().status, 200);
        }
        let a = t.client.login(A, "Heatray").await.unwrap();
        let b = t.client.login(B, "Oddball").await.unwrap();
        // Over max_body_bytes: refused before the body is read.
        let huge = t
            .client
            .post(pitlane_sim::mmws::LOGIN_PATH, vec![b'x'; 5000])
            .await
            .unwrap();
        assert_eq!(huge.status, 413);
        assert_eq!(
            t.client
                .update_title(&a.token, "lng_t")
                .await
                .unwrap()
                .status,
            200
        );
        assert_eq!(
            t.client.update_title("nope", "lng_t").await.unwrap().status,
            401
        );
        // Deeper than max_xml_depth.
        let deep = format!(
            "<UpdateAccountTitle>{}{}</UpdateAccountTitle>",
            "<a>".repeat(40),
            "</a>".repeat(40)
        );
        assert_eq!(
            t.client.post(UPDATE_TITLE_PATH, deep).await.unwrap().status,
            400
        );
        let missing = t
            .client
            .get("mmcos.codemasters.com", "/Nope.svc/X")
            .await
            .unwrap();
        assert_eq!(missing.status, 404);
        let mut bare = t.client.clone();
        bare.prefix = "";
        let shards = bare.get("localhost", "/ShardList/").await.unwrap();
        assert_eq!(shards.status, 200, "{label}");

        // One poll held (the cap is 1), the next refused at once.
        let held = {
            let client = t.client.clone();
            let token = a.token.clone();
            tokio::spawn(async move {
                client
                    .enter_matchmaking(&token, &Search::new(1, "RankedRace", "Race", "Ranked"))
                    .await
            })
        };
        until(web, "pitlane_matchmaking_held_polls", 1.0).await;
        // With PostgreSQL the pool is shared between instances, and the
        // searches are read from the database every few seconds.
        until(
            web,
            "pitlane_matchmaking_queue_parties{game_type=\"RankedRace\",rule_set=\"Race\",ranking=\"Ranked\"}",
            1.0,
        )
        .await;
        let refused = t
            .client
            .post(
                ENTER_MATCHMAKING_PATH,
                Search::new(2, "RankedRace", "Race", "Ranked").body(&b.token),
            )
            .await
            .unwrap();
        assert_eq!(refused.status, 503, "{label}");

        // Connections open now: a lobby client that has not spoken yet, and
        // a raw HTTP connection.
        let lobby = t.server.listening.mco_lobby.expect("MCO lobby");
        let _lobby_conn = tokio::net::TcpStream::connect(lobby).await.unwrap();
        let _http_conn = tokio::net::TcpStream::connect(t.server.listening.mmws_http)
            .await
            .unwrap();
        let m = until(
            web,
            "pitlane_mco_open_connections{listener=\"mco_lobby\"}",
            1.0,
        )
        .await;

        let expected: &[(&str, &str, u16, f64)] = &[
            ("mmws", "ServerStatus", 200, 3.0),
            ("mmws", "Login", 200, 2.0),
            ("mmws", "Login", 413, 1.0),
            ("mmws", "UpdateAccountTitle", 200, 1.0),
            ("mmws", "UpdateAccountTitle", 401, 1.0),
            ("mmws", "UpdateAccountTitle", 400, 1.0),
            ("mmws", "EnterMatchmaking2", 503, 1.0),
            ("none", "unknown", 404, 1.0),
            ("mco", "ShardList", 200, 1.0),
        ];
        for (game, operation, status, n) in expected {
            assert_eq!(
                sample(&m, &requests(game, operation, *status)),
                *n,
                "{label}: {game} {operation} {status}"
            );
        }
        // Nothing else was answered: the per-operation counts add up to
        // the class totals.
        let total: f64 = m
            .lines()
            .filter(|l| l.starts_with("pitlane_requests_total{"))
            .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
            .sum();
        assert_eq!(total, 12.0, "{label}:\n{m}");
        assert_eq!(
            sample(
                &m,
                "pitlane_request_duration_seconds_count{game=\"mmws\",operation=\"Login\"}"
            ),
            3.0
        );
        assert_eq!(
            sample(
                &m,
                "pitlane_request_duration_seconds_bucket{game=\"mmws\",operation=\"Login\",le=\"+Inf\"}"
            ),
            3.0
        );
        for (limit, n) in [
            ("max_body_bytes", 1.0),
            ("max_xml_depth", 1.0),
            ("max_held_polls", 1.0),
        ] {
            assert_eq!(
                sample(
                    &m,
                    &format!("pitlane_limit_hits_total{{limit=\"{limit}\"}}")
                ),
                n,
                "{label}: {limit}"
            );
        }
        assert!(metric_value(
            &m,
            "pitlane_limit_hits_total{limit=\"requests_per_second_per_address\"}"
        )
        .is_none());
        assert!(sample(&m, "pitlane_open_connections{listener=\"http\"}") >= 1.0);
        assert_eq!(sample(&m, "pitlane_matchmaking_held_polls"), 1.0);
        assert!(sample(&m, "pitlane_database_errors") >= 0.0);
        assert!(sample(&m, "pitlane_database_connections{state=\"open\"}") >= 1.0);
        // The title change and the held poll found their sessions in the
        // cache that Login filled; the unknown token had to ask the
        // database (the refused calls never got as far as a lookup).
        assert_eq!(
            sample(&m, "pitlane_mm_session_lookups{via=\"cache\"}"),
            2.0,
            "{label}"
        );
        assert_eq!(
            sample(&m, "pitlane_mm_session_lookups{via=\"database\"}"),
            1.0,
            "{label}"
        );
        // SQLite: every Login above was one lane job, answered after a
        // group commit; nothing waits once the calls have returned.
        let lane_done = metric_value(&m, "pitlane_sqlite_lane_jobs{state=\"done\"}");
        if *label == "sqlite" {
            let done = lane_done.expect("the SQLite lane's jobs");
            let commits = sample(&m, "pitlane_sqlite_lane_commits");
            assert!(done >= 3.0, "{done}");
            assert!(
                commits >= 1.0 && commits <= done,
                "{commits} commits, {done} jobs"
            );
            assert_eq!(
                sample(&m, "pitlane_sqlite_lane_jobs{state=\"waiting\"}"),
                0.0
            );
        } else {
            assert_eq!(lane_done, None, "{label}: no lane on PostgreSQL");
        }

        // Shutting down answers the held poll.
        t.server.shutdown().await;
        let answered = held.await.unwrap();
        assert!(answered.is_ok(), "{label}: {answered:?}");
    }
}

/// Sends `head` and waits for the server to close the connection, with
/// nothing sent back: an oversized frame ends the connection unanswered.
async fn refused_unanswered(addr: SocketAddr, head: &[u8]) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(head).await.unwrap();
    let mut rest = Vec::new();
    // A reset instead of a clean close is as good: nothing was answered.
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut rest))
        .await
        .expect("the server closes the connection");
    assert!(rest.is_empty(), "answered {rest:02x?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_mco_frames_are_counted_per_listener() {
    let db = databases().await.remove(0);
    let data_dir = tempfile::tempdir().unwrap();
    let config = test_config(&db, data_dir.path());
    let t =
        TestServer::start_with(config, data_dir, ManualClock::new(common::capture_time())).await;
    let web = t.server.listening.web.expect("the admin listener");
    let l = t.server.listening;

    // NPS: id and a big-endian length above the 4,096-byte default cap.
    refused_unanswered(l.mco_login.unwrap(), &[0x05, 0x01, 0xff, 0xff]).await;
    refused_unanswered(l.mco_lobby.unwrap(), &[0x01, 0x00, 0xf0, 0x00]).await;
    refused_unanswered(l.mco_lobby.unwrap(), &[0x01, 0x00, 0xf0, 0x00]).await;
    // MCOTS: a little-endian length above the 16 KiB default cap.
    refused_unanswered(l.mco_mcots.unwrap(), &[0xff, 0xff, b'T', b'O', b'M', b'C']).await;
    // Not too long, only wrong: not a frame-size refusal.
    refused_unanswered(l.mco_mcots.unwrap(), &[0x20, 0x00, b'X', b'X', b'X', b'X']).await;

    let m = until(
        web,
        "pitlane_mco_oversized_frames{listener=\"mco_lobby\"}",
        2.0,
    )
    .await;
    for (listener, n) in [
        ("mco_login", 1.0),
        ("mco_persona", 0.0),
        ("mco_lobby", 2.0),
        ("mco_mcots", 1.0),
    ] {
        assert_eq!(
            sample(
                &m,
                &format!("pitlane_mco_oversized_frames{{listener=\"{listener}\"}}")
            ),
            n,
            "{listener}"
        );
    }
    t.server.shutdown().await;
}
