//! Hostile clients against the HTTP listeners: headers trickled byte by
//! byte, a flood from one address, too many connections from one address,
//! oversized bodies, unknown paths and a crowd of held matchmaking polls.
//! Each is answered as documented (in the game's own error form) while a
//! well-behaved client on another loopback address keeps being served.
//!
//! Loopback has a whole /8: the abusers and the good client use different
//! 127.x addresses, which the per-address limits see as different players.

mod common;

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{capture_time, test_config, TestServer};
use http::Method;
use pitlane_core::ManualClock;
use pitlane_sim::http::{exchange, unity_request, HttpResponse};
use pitlane_sim::mmws::{login_body, Search, LOGIN_PATH, MMCOS_HOST, STATUS_PATH};
use pitlane_store::testing::TestDatabase;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const GOOD: &str = "127.0.0.2";

async fn server() -> (TestServer, TestDatabase) {
    let db = TestDatabase::sqlite();
    let data_dir = tempfile::tempdir().unwrap();
    let mut config = test_config(&db, data_dir.path());
    config.limits.header_read_timeout_secs = 1;
    config.limits.max_connections_per_address = 8;
    config.limits.requests_per_second_per_address = 20;
    config.limits.request_burst_per_address = 40;
    config.limits.max_held_polls = 3;
    config.micromachines.matchmaking.hold_secs = 3.0;
    let t = TestServer::start_with(config, data_dir, ManualClock::new(capture_time())).await;
    (t, db)
}

async fn connect_from(source: &str, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    let from: IpAddr = source.parse().unwrap();
    socket.bind(SocketAddr::new(from, 0)).unwrap();
    socket.connect(to).await.unwrap()
}

async fn request_from(
    source: &str,
    to: SocketAddr,
    method: Method,
    path: &str,
    body: impl Into<Bytes>,
) -> HttpResponse {
    let stream = connect_from(source, to).await;
    let ct = (method == Method::POST).then_some("application/xml");
    let request = unity_request(method, MMCOS_HOST, path, ct, &[], body.into()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), exchange(stream, request))
        .await
        .expect("answered in time")
        .unwrap()
}

/// The good player: status and login, each answered 200 in time.
async fn good_player_is_served(to: SocketAddr, n: u64) {
    let started = Instant::now();
    let status = request_from(GOOD, to, Method::GET, &format!("/MMCOS{STATUS_PATH}"), "").await;
    assert_eq!(status.status, 200);
    let login = request_from(
        GOOD,
        to,
        Method::POST,
        &format!("/MMCOS{LOGIN_PATH}"),
        login_body(76561198100000000 + n, "Good", 45),
    )
    .await;
    assert_eq!(login.status, 200, "{}", login.text());
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_clients_are_cut_off_and_others_served() {
    let (t, _db) = server().await;
    let to = t.server.listening.mmws_http;
    let mut slow = Vec::new();
    for i in 0..6 {
        let mut s = connect_from(&format!("127.0.0.{}", 10 + i), to).await;
        s.write_all(b"GET /MMCOS").await.unwrap();
        slow.push(s);
    }
    // Trickle a byte at a time for longer than the header deadline.
    let trickle = async {
        for _ in 0..8 {
            for s in &mut slow {
                let _ = s.write_all(b"/").await;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    };
    let (_, ()) = tokio::join!(trickle, good_player_is_served(to, 1));
    for mut s in slow {
        let mut buf = [0u8; 512];
        let read = tokio::time::timeout(Duration::from_secs(3), s.read(&mut buf))
            .await
            .expect("the server closed or answered the trickling client");
        // Closed (0 bytes or reset), or a 408 before closing.
        if let Ok(n) = read {
            let text = String::from_utf8_lossy(&buf[..n]);
            assert!(n == 0 || text.starts_with("HTTP/1.1 408"), "{text}");
        }
    }
    good_player_is_served(to, 2).await;
    t.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_from_one_address_is_rate_limited_in_the_services_form() {
    let (t, _db) = server().await;
    let to = t.server.listening.mmws_http;
    let flooder = "127.0.0.20";
    let mut limited = 0;
    let mut ok = 0;
    for _ in 0..120 {
        let r = request_from(
            flooder,
            to,
            Method::POST,
            &format!("/MMCOS{LOGIN_PATH}"),
            login_body(76561198100000077, "Flood", 45),
        )
        .await;
        match r.status.as_u16() {
            200 => ok += 1,
            429 => {
                limited += 1;
                assert_eq!(r.content_type(), Some("application/xml; charset=utf-8"));
                let text = r.text();
                assert!(text.starts_with("<LoginDetails"), "{text}");
                assert!(text.contains("too many requests"), "{text}");
                assert_eq!(r.headers["retry-after"], "1");
            }
            other => panic!("unexpected {other}: {}", r.text()),
        }
    }
    assert!(ok >= 40, "the burst is served: {ok}");
    assert!(limited > 0, "the flood is limited");
    good_player_is_served(to, 3).await;
    t.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_connections_from_one_address_get_an_answer_and_a_close() {
    let (t, _db) = server().await;
    let to = t.server.listening.mmws_http;
    let hog = "127.0.0.30";
    let mut idle = Vec::new();
    for _ in 0..8 {
        idle.push(connect_from(hog, to).await);
    }
    // Give the accept loop time to count them.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let refused = request_from(hog, to, Method::GET, &format!("/MMCOS{STATUS_PATH}"), "").await;
    assert_eq!(refused.status, 503, "{}", refused.text());
    assert!(refused.text().contains("too many connections"));
    good_player_is_served(to, 4).await;
    drop(idle);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let again = request_from(hog, to, Method::GET, &format!("/MMCOS{STATUS_PATH}"), "").await;
    assert_eq!(again.status, 200);
    t.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_and_unknown_paths_are_refused() {
    let (t, _db) = server().await;
    let to = t.server.listening.mmws_http;
    // The server refuses on the declared length alone, before any body is
    // read. Only the head is sent: a client still pushing 2 MiB would race
    // the server's close and could see a broken pipe (or a reset) instead of
    // the answer.
    let mut stream = connect_from("127.0.0.40", to).await;
    let answer =
        common::post_declaring_length(&mut stream, &format!("/MMCOS{LOGIN_PATH}"), 2 << 20).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    let body = answer.split_once("\r\n\r\n").unwrap().1;
    assert!(body.starts_with("<LoginDetails"), "{body}");
    for path in [
        "/",
        "/wp-login.php",
        "/MMCOS/../../etc/passwd",
        "/MMCOS-Account/AccountService.svc/Nope",
    ] {
        let r = request_from("127.0.0.41", to, Method::GET, path, "").await;
        assert_eq!(r.status, 404, "{path}");
    }
    good_player_is_served(to, 5).await;
    t.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_matchmaking_polls_are_capped() {
    let (t, _db) = server().await;
    let mut held = Vec::new();
    for i in 0..3u64 {
        let client = t.client.clone();
        let login = client.login(76561198100000100 + i, "Waiter").await.unwrap();
        // Different rule sets: nobody is matched, every poll is held.
        let rule = ["Race", "Elimination", "Battle"][i as usize];
        let search = Search::new(100 + i, &format!("Ranked{rule}"), rule, "Ranked");
        held.push(tokio::spawn(async move {
            client.enter_matchmaking(&login.token, &search).await
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let late = t.client.login(76561198100000200, "Late").await.unwrap();
    let started = Instant::now();
    let body = Search::new(200, "RankedRace", "Race", "Ranked").body(&late.token);
    let refused = t
        .client
        .post(pitlane_sim::mmws::ENTER_MATCHMAKING_PATH, body)
        .await
        .unwrap();
    assert_eq!(refused.status, 503, "{}", refused.text());
    assert!(
        refused.text().starts_with("<MatchmakingResult"),
        "{}",
        refused.text()
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "answered at once"
    );
    for h in held {
        let outcome = h.await.unwrap().unwrap();
        assert!(!outcome.is_match());
    }
    good_player_is_served(t.server.listening.mmws_http, 6).await;
    t.server.shutdown().await;
}
