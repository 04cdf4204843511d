//! The dashboard over HTTP against the whole server, on every configured
//! backend: access control, throttling, pages with real data, actions and
//! their audit entries, the ban reaching the game, status and metrics.

mod common;
mod web_support;

use std::net::SocketAddr;

use chrono::Duration;
use common::TestServer;
use pitlane_core::ids::token_digest;
use pitlane_core::Clock;
use pitlane_sim::mmws::SimError;
use pitlane_store::testing::databases;
use web_support::{location, sample, Browser, ADMIN, PASSWORD};

const ME: u64 = 76561198081105540;
const OTHER: u64 = 76561197960287930;

fn dashboard(t: &TestServer) -> SocketAddr {
    t.server.listening.web.expect("the dashboard listens")
}

async fn with_admin(t: &TestServer) {
    t.server
        .store()
        .admin_accounts()
        .create(ADMIN, PASSWORD, t.clock.now())
        .await
        .unwrap();
}

#[tokio::test]
async fn nothing_but_status_and_metrics_without_a_session() {
    for db in databases().await {
        let t = TestServer::start(&db).await;
        with_admin(&t).await;
        let me = t.client.login(ME, "Heatray").await.unwrap();
        let mut b = Browser::new(dashboard(&t));
        for path in [
            "/",
            "/players",
            "/players?q=Heat",
            &format!("/players/mmws/{}", me.user_id),
            "/players/mco/1",
            "/mmws",
            "/mmws/leaderboard",
            "/mmws/config",
            "/mco",
            "/settings",
            "/audit",
        ] {
            let r = b.get(path).await;
            assert_eq!(r.status, 303, "{} {path}", db.label);
            assert!(
                location(&r).starts_with("/login"),
                "{path}: {}",
                location(&r)
            );
            assert!(!r.text().contains("Heatray"), "{path}");
        }
        assert_eq!(location(&b.get("/audit").await), "/login?next=%2Faudit");

        // An action without a session does nothing, however well formed.
        let r = b
            .post(
                &format!("/players/mmws/{}/ban", me.user_id),
                &[("csrf", "x"), ("reason", "no session")],
            )
            .await;
        assert_eq!((r.status.as_u16(), location(&r).as_str()), (303, "/login"));
        assert!(t.server.store().mm_bans().get(ME).await.unwrap().is_none());
        // A made-up cookie is no session either.
        b.cookies.insert("pitlane_session".into(), "00".repeat(32));
        assert_eq!(b.get("/").await.status, 303);

        // Open by design: counts only.
        assert_eq!(b.get("/api/status").await.status, 200);
        assert_eq!(b.get("/metrics").await.status, 200);
        let login = b.get("/login").await;
        assert_eq!(login.status, 200);
        let csp = login.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(b.get("/static/style.css").await.status, 200);
        assert_eq!(b.get("/static/../Cargo.toml").await.status, 303);
        t.server.shutdown().await;
    }
}

#[tokio::test]
async fn wrong_passwords_are_throttled_and_sessions_end() {
    for db in databases().await {
        let t = TestServer::start(&db).await;
        with_admin(&t).await;
        let mut b = Browser::new(dashboard(&t));
        for i in 0..5 {
            let r = b.log_in(ADMIN, "not the password").await;
            assert_eq!(r.status, 401, "{} attempt {i}", db.label);
            assert!(r.text().contains("Wrong name or password."));
            assert!(!b.cookies.contains_key("pitlane_session"));
        }
        // Blocked now, even with the right password.
        let r = b.log_in(ADMIN, PASSWORD).await;
        assert_eq!(r.status, 429, "{}", r.text());
        assert!(r.text().contains("Too many failed logins"));
        assert!(!b.cookies.contains_key("pitlane_session"));
        // An unknown name is refused the same way as a wrong password.
        assert_eq!(b.log_in("nobody", PASSWORD).await.status, 401);

        // The login form's own token is checked.
        let r = b
            .post(
                "/login",
                &[("csrf", "forged"), ("name", ADMIN), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(r.status, 403);

        t.clock.advance(Duration::minutes(16));
        let r = b.log_in(ADMIN, PASSWORD).await;
        assert_eq!((r.status.as_u16(), location(&r).as_str()), (303, "/"));
        let cookie = r
            .headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|c| c.starts_with("pitlane_session="))
            .unwrap();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        assert!(
            !cookie.contains("Secure"),
            "plain HTTP on loopback: {cookie}"
        );
        assert_eq!(b.get("/").await.status, 200);
        // Only a digest of the cookie is stored.
        let token = b.cookies["pitlane_session"].clone();
        let sessions = t.server.store().admin_sessions();
        let idle = Duration::minutes(60);
        assert!(sessions
            .use_session(&token, t.clock.now(), idle)
            .await
            .unwrap()
            .is_none());
        assert!(sessions
            .use_session(&token_digest(&token), t.clock.now(), idle)
            .await
            .unwrap()
            .is_some());

        // Idle for longer than the idle timeout: back to the login page.
        t.clock.advance(Duration::minutes(61));
        assert_eq!(b.get("/").await.status, 303);

        // Logout ends the session for good.
        assert_eq!(b.log_in(ADMIN, PASSWORD).await.status, 303);
        let csrf = b.csrf("/").await;
        let stolen = b.cookies["pitlane_session"].clone();
        let r = b.post("/logout", &[("csrf", &csrf)]).await;
        assert_eq!(location(&r), "/login");
        assert!(!b.cookies.contains_key("pitlane_session"));
        b.cookies.insert("pitlane_session".into(), stolen);
        assert_eq!(b.get("/").await.status, 303, "logged-out cookie replayed");
        t.server.shutdown().await;
    }
}

#[tokio::test]
async fn pages_show_real_players_and_actions_reach_the_game_and_the_audit_log() {
    for db in databases().await {
        let t = TestServer::start(&db).await;
        with_admin(&t).await;
        let c = &t.client;
        let me = c.login(ME, "Heatray").await.unwrap();
        let other = c.login(OTHER, "Rival").await.unwrap();
        c.register_game(&me.token, "00000000000000A1", &[ME, OTHER], 12)
            .await
            .unwrap();
        assert_eq!(
            c.add_points(&me.token, "00000000000000A1", 120)
                .await
                .unwrap()
                .points,
            120
        );
        c.add_points(&other.token, "00000000000000A1", 40)
            .await
            .unwrap();

        let mut b = Browser::new(dashboard(&t));
        assert_eq!(b.log_in(ADMIN, PASSWORD).await.status, 303);

        let overview = b.get("/").await.text();
        assert!(overview.contains("Micro Machines online"), "{overview}");
        assert!(
            overview.contains("data-live=\"micromachines.online\">2<"),
            "{} {overview}",
            db.label
        );
        assert!(overview.contains("data-live=\"micromachines.races_last_hour\">1<"));
        assert!(overview.contains(t.server.store().backend().name()));

        let search = b.get("/players?q=heat").await.text();
        assert!(
            search.contains(&format!("href=\"/players/mmws/{}\">Heatray<", me.user_id)),
            "{search}"
        );
        assert!(!search.contains("Rival"));
        let by_steam = b.get(&format!("/players?q={OTHER}")).await.text();
        assert!(by_steam.contains(">Rival<"), "{by_steam}");

        let page_path = format!("/players/mmws/{}", me.user_id);
        let page = b.get(&page_path).await.text();
        assert!(page.contains(&ME.to_string()), "{page}");
        assert!(page.contains(&me.user_facing_id));
        assert!(page.contains("120 points · division 0 · rank #1"), "{page}");
        assert!(page.contains("Races played</td><td>1<"), "{page}");
        assert!(page.contains("Not banned"));

        let mmws = b.get("/mmws").await.text();
        assert!(
            mmws.contains(">Heatray</a> <span class=\"pts\">+120</span>"),
            "{mmws}"
        );
        assert!(mmws.contains("Season calendar") && mmws.contains("Nobody is searching."));
        let board = b.get("/mmws/leaderboard").await.text();
        let (first, second) = (
            board.find(">Heatray<").unwrap(),
            board.find(">Rival<").unwrap(),
        );
        assert!(first < second, "leaderboard order");
        assert!(b
            .get("/mmws/config")
            .await
            .text()
            .contains("Division bands"));
        assert_eq!(
            b.get("/mmws/leaderboard?season=x&page=-3").await.status,
            200
        );
        assert_eq!(b.get("/players/mmws/999999").await.status, 404);
        assert_eq!(b.get("/players/mmws/abc").await.status, 404);

        // CSRF: missing or wrong token refused, nothing done.
        let ban_path = format!("{page_path}/ban");
        let r = b.post(&ban_path, &[("reason", "cheating")]).await;
        assert_eq!(r.status, 403, "{}", r.text());
        let r = b
            .post(
                &ban_path,
                &[("csrf", &"0".repeat(64)), ("reason", "cheating")],
            )
            .await;
        assert_eq!(r.status, 403);
        assert!(t.server.store().mm_bans().get(ME).await.unwrap().is_none());

        // A reason is required.
        let csrf = b.csrf(&page_path).await;
        assert_eq!(
            b.post(&ban_path, &[("csrf", &csrf), ("reason", " ")])
                .await
                .status,
            400
        );
        assert_eq!(
            b.post(
                &ban_path,
                &[("csrf", &csrf), ("reason", "x"), ("days", "0")]
            )
            .await
            .status,
            400
        );

        // Ban: the next Login gets the game's error document.
        let r = b
            .post(
                &ban_path,
                &[
                    ("csrf", &csrf),
                    ("reason", "wall riding <script>"),
                    ("days", "7"),
                ],
            )
            .await;
        assert_eq!(location(&r), format!("{page_path}?done=ban"));
        let refused = c.login(ME, "Heatray").await.unwrap_err();
        match refused {
            SimError::Status { status, body, .. } => {
                assert_eq!(status, 403, "{}", db.label);
                assert!(body.starts_with("<LoginDetails xmlns:i="), "{body}");
                assert!(body.contains("<ErrorCode>403</ErrorCode>"), "{body}");
                assert!(body.contains("wall riding &lt;script&gt;"), "{body}");
            }
            other => panic!("{other}"),
        }
        // The live session ended with the ban.
        let r = c.get_elite(&me.token, 0, 10).await;
        assert!(r.is_err(), "the banned session still works");
        // Others play on.
        assert!(c.login(OTHER, "Rival").await.is_ok());

        let page = b.get(&format!("{page_path}?done=ban")).await.text();
        assert!(page.contains("The ban is in force."), "{page}");
        assert!(
            page.contains("wall riding &lt;script&gt;"),
            "escaped: {page}"
        );
        assert!(!page.contains("wall riding <script>"));
        let audit = b.get("/audit").await.text();
        assert!(audit.contains("<code>mmws.ban</code>"), "{audit}");
        assert!(audit.contains(&format!("mmws:{ME}")));
        assert!(audit.contains("Heatray banned until"), "{audit}");
        assert!(audit.contains(&format!("<td>{ADMIN}</td>")));

        // Unban: the player is back.
        let csrf = b.csrf(&page_path).await;
        let r = b
            .post(
                &format!("{page_path}/unban"),
                &[("csrf", &csrf), ("reason", "appeal")],
            )
            .await;
        assert_eq!(r.status, 303);
        let back = c.login(ME, "Heatray").await.unwrap();
        assert_eq!(back.points, 120);

        // Rename, reset, delete: each lands and is audited.
        let csrf = b.csrf(&page_path).await;
        b.post(
            &format!("{page_path}/rename"),
            &[
                ("csrf", &csrf),
                ("name", "Renamed"),
                ("reason", "offensive"),
            ],
        )
        .await;
        assert!(b
            .get("/mmws/leaderboard")
            .await
            .text()
            .contains(">Renamed<"));
        b.post(
            &format!("{page_path}/reset-points"),
            &[("csrf", &csrf), ("reason", "boosting")],
        )
        .await;
        assert_eq!(c.login(ME, "Heatray").await.unwrap().points, 0);
        b.post(
            &format!("{page_path}/delete-score"),
            &[
                ("csrf", &csrf),
                ("season", &me.season_id.to_string()),
                ("reason", "cleanup"),
            ],
        )
        .await;
        assert!(t
            .server
            .store()
            .mm_scores()
            .get(me.season_id, me.user_id)
            .await
            .unwrap()
            .is_none());
        let audit = b.get("/audit").await.text();
        for action in [
            "mmws.unban",
            "mmws.rename",
            "mmws.reset-points",
            "mmws.delete-score",
        ] {
            assert!(
                audit.contains(&format!("<code>{action}</code>")),
                "{action}: {audit}"
            );
        }
        assert!(
            audit.contains("Renamed: season 45 points 120 -&gt; 0"),
            "{audit}"
        );

        // The status message is replaced for every game at once.
        let csrf = b.csrf("/mmws").await;
        let r = b
            .post(
                "/mmws/status",
                &[
                    ("csrf", &csrf),
                    ("message", "Maintenance at 20:00 UTC"),
                    ("display_message", "1"),
                    ("accessible", "1"),
                    ("reason", "planned"),
                ],
            )
            .await;
        assert_eq!(location(&r), "/mmws?done=status");
        let status = c.server_status().await.unwrap().text();
        assert!(
            status.contains(
                "<Message display=\"true\" localize=\"false\">\r\n    Maintenance at 20:00 UTC"
            ),
            "{status}"
        );
        assert!(status.contains("<Egonet enabled=\"false\"/>"), "{status}");
        assert!(b
            .get("/audit")
            .await
            .text()
            .contains("<code>mmws.status</code>"));
        t.server.shutdown().await;
    }
}

#[tokio::test]
async fn motor_city_accounts_are_found_and_banned() {
    for db in databases().await {
        let t = TestServer::start(&db).await;
        with_admin(&t).await;
        let now = t.clock.now();
        let account = t
            .server
            .store()
            .mco_accounts()
            .create("Driver", "secret", now)
            .await
            .unwrap();
        let mut b = Browser::new(dashboard(&t));
        b.log_in(ADMIN, PASSWORD).await;
        let search = b.get("/players?q=driv").await.text();
        let path = format!("/players/mco/{}", account.customer_id);
        assert!(
            search.contains(&format!("href=\"{path}\">Driver<")),
            "{} {search}",
            db.label
        );
        assert!(b.get("/mco").await.text().contains(">Driver<"));
        let csrf = b.csrf(&path).await;
        let r = b
            .post(
                &format!("{path}/ban"),
                &[("csrf", &csrf), ("reason", "griefing")],
            )
            .await;
        assert_eq!(r.status, 303);
        let stored = t
            .server
            .store()
            .mco_accounts()
            .by_id(account.customer_id)
            .await
            .unwrap()
            .unwrap();
        assert!(stored.is_banned(now));
        assert!(b.get(&path).await.text().contains("griefing"));
        b.post(
            &format!("{path}/unban"),
            &[("csrf", &csrf), ("reason", "ok")],
        )
        .await;
        let stored = t
            .server
            .store()
            .mco_accounts()
            .by_id(account.customer_id)
            .await
            .unwrap()
            .unwrap();
        assert!(!stored.is_banned(now));
        let audit = b.get("/audit").await.text();
        assert!(audit.contains("<code>mco.ban</code>") && audit.contains("<code>mco.unban</code>"));
        t.server.shutdown().await;
    }
}

#[tokio::test]
async fn status_and_metrics_carry_the_numbers() {
    for db in databases().await {
        let t = TestServer::start(&db).await;
        let mut b = Browser::new(dashboard(&t));
        let before = b.get("/metrics").await;
        assert_eq!(
            before.headers["content-type"],
            "text/plain; version=0.0.4; charset=utf-8"
        );
        let before = before.text();
        let ok_before = sample(&before, "pitlane_http_requests_total{class=\"2xx\"}");
        let count_before = sample(&before, "pitlane_http_request_duration_seconds_count");

        let me = t.client.login(ME, "Heatray").await.unwrap();
        for _ in 0..5 {
            assert_eq!(t.client.server_status().await.unwrap().status, 200);
        }
        let missing = t
            .client
            .get("mmcos.codemasters.com", "/Nope.svc/X")
            .await
            .unwrap();
        assert_eq!(missing.status, 404);
        t.client
            .register_game(&me.token, "00000000000000B2", &[ME], 3)
            .await
            .unwrap();

        let after = b.get("/metrics").await.text();
        assert_eq!(
            sample(&after, "pitlane_http_requests_total{class=\"2xx\"}") - ok_before,
            7.0,
            "{} {after}",
            db.label
        );
        assert_eq!(
            sample(&after, "pitlane_http_requests_total{class=\"4xx\"}"),
            1.0
        );
        assert_eq!(
            sample(&after, "pitlane_http_request_duration_seconds_count") - count_before,
            8.0
        );
        assert_eq!(
            sample(
                &after,
                "pitlane_http_request_duration_seconds_bucket{le=\"+Inf\"}"
            ),
            sample(&after, "pitlane_http_request_duration_seconds_count")
        );
        assert_eq!(sample(&after, "pitlane_players_online{game=\"mmws\"}"), 1.0);
        assert_eq!(sample(&after, "pitlane_players_online{game=\"mco\"}"), 0.0);
        assert_eq!(sample(&after, "pitlane_races_last_hour"), 1.0);
        assert_eq!(sample(&after, "pitlane_matchmaking_searching_players"), 0.0);
        for line in after
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "not a sample: {line}");
        }

        let status: serde_json::Value =
            serde_json::from_slice(&b.get("/api/status").await.body).unwrap();
        assert_eq!(status["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(status["database"], t.server.store().backend().name());
        assert_eq!(status["micromachines"]["online"], 1);
        assert_eq!(status["micromachines"]["races_last_hour"], 1);
        assert_eq!(status["micromachines"]["accounts"], 1);
        assert_eq!(status["micromachines"]["season_id"], 45);
        assert_eq!(status["motorcity"]["online"], 0);
        assert!(status["uptime_secs"].is_u64());
        assert!(status["requests"]["per_second"].is_f64());
        // Nothing in it names a player.
        assert!(!status.to_string().contains("Heatray"));

        // "Online" means recent activity: an hour later the player is not.
        t.clock.advance(Duration::minutes(20));
        let status: serde_json::Value =
            serde_json::from_slice(&b.get("/api/status").await.body).unwrap();
        assert_eq!(status["micromachines"]["online"], 0);
        t.server.shutdown().await;
    }
}

#[tokio::test]
async fn starting_the_next_season_moves_every_service_and_keeps_the_old_board() {
    for db in databases().await {
        let t = TestServer::start(&db).await;
        with_admin(&t).await;
        let c = &t.client;
        let me = c.login(ME, "Heatray").await.unwrap();
        let other = c.login(OTHER, "Rival").await.unwrap();
        assert_eq!(me.season_id, 45);
        c.register_game(&me.token, "00000000000000B1", &[ME, OTHER], 12)
            .await
            .unwrap();
        c.add_points(&me.token, "00000000000000B1", 120)
            .await
            .unwrap();
        c.add_points(&other.token, "00000000000000B1", 40)
            .await
            .unwrap();

        let mut b = Browser::new(dashboard(&t));
        b.log_in(ADMIN, PASSWORD).await;
        let page = b.get("/mmws").await.text();
        assert!(page.contains("Start season 46 now"), "{page}");

        // Without the form's token nothing happens.
        let r = b
            .post("/mmws/next-season", &[("season", "46"), ("reason", "x")])
            .await;
        assert_eq!(r.status, 403);
        let csrf = b.csrf("/mmws").await;
        let r = b
            .post("/mmws/next-season", &[("csrf", &csrf), ("season", "46")])
            .await;
        assert_eq!(r.status, 400, "a reason is required");
        assert!(t
            .server
            .store()
            .mm_season_starts()
            .all()
            .await
            .unwrap()
            .is_empty());
        assert_eq!(c.login(ME, "Heatray").await.unwrap().season_id, 45);

        let r = b
            .post(
                "/mmws/next-season",
                &[
                    ("csrf", &csrf),
                    ("season", "46"),
                    ("reason", "season 45 was broken"),
                ],
            )
            .await;
        assert_eq!(location(&r), "/mmws?done=next-season", "{}", r.text());
        // Pressed again (a second tab, a double click): one season only.
        let r = b
            .post(
                "/mmws/next-season",
                &[("csrf", &csrf), ("season", "46"), ("reason", "again")],
            )
            .await;
        assert_eq!(r.status, 400, "{}", r.text());
        let starts = t.server.store().mm_season_starts().all().await.unwrap();
        assert_eq!(starts.len(), 1);
        assert_eq!(
            (starts[0].season_id, starts[0].started_by.as_str()),
            (46, ADMIN)
        );
        assert_eq!(starts[0].starts_at, t.clock.now());

        // The game: the next Login is in season 46 ...
        let again = c.login(ME, "Heatray").await.unwrap();
        assert_eq!(again.season_id, 46, "{}", db.label);
        // ... its leaderboard is season 46's, where Rival (not back yet)
        // has no entry ...
        let board = c.get_elite(&again.token, 0, 10).await.unwrap();
        assert!(
            board.entries.iter().all(|e| e.name != "Rival"),
            "{:?}",
            board.entries
        );
        assert_eq!(board.player_score, again.points);
        // ... and new points go to season 46.
        c.register_game(&again.token, "00000000000000B2", &[ME], 12)
            .await
            .unwrap();
        let after = c
            .add_points(&again.token, "00000000000000B2", 10)
            .await
            .unwrap();
        assert_eq!(after.points, again.points + 10);
        let scores = t.server.store().mm_scores();
        assert_eq!(
            scores.get(46, me.user_id).await.unwrap().unwrap().points,
            again.points + 10
        );
        // Season 45 stays as it was: a past season.
        assert_eq!(
            scores.get(45, me.user_id).await.unwrap().unwrap().points,
            120
        );
        assert_eq!(
            scores.get(45, other.user_id).await.unwrap().unwrap().points,
            40
        );
        let old = b.get("/mmws/leaderboard?season=45").await.text();
        assert!(
            old.contains(">Heatray<") && old.contains(">Rival<"),
            "{old}"
        );
        let now_board = b.get("/mmws/leaderboard").await.text();
        assert!(now_board.contains("Leaderboard, season 46"), "{now_board}");
        assert!(!now_board.contains(">Rival<"));

        let page = b.get("/mmws?done=next-season").await.text();
        assert!(page.contains("The next season has started."), "{page}");
        assert!(
            page.contains("started early by ops: season 45 was broken"),
            "{page}"
        );
        assert!(page.contains("Start season 47 now"));
        let audit = b.get("/audit").await.text();
        assert!(audit.contains("<code>mmws.next-season</code>"), "{audit}");
        assert!(audit.contains("season 46 started at"), "{audit}");

        // Kept across a restart.
        let t = t.restart().await;
        assert_eq!(t.client.login(OTHER, "Rival").await.unwrap().season_id, 46);
        t.server.shutdown().await;
    }
}

#[tokio::test]
async fn an_operator_name_survives_the_players_next_logins() {
    for db in databases().await {
        let t = TestServer::start(&db).await;
        with_admin(&t).await;
        let c = &t.client;
        let me = c.login(ME, "Heatray").await.unwrap();
        c.register_game(&me.token, "00000000000000C1", &[ME], 12)
            .await
            .unwrap();
        c.add_points(&me.token, "00000000000000C1", 30)
            .await
            .unwrap();
        let mut b = Browser::new(dashboard(&t));
        b.log_in(ADMIN, PASSWORD).await;
        let page_path = format!("/players/mmws/{}", me.user_id);
        let csrf = b.csrf(&page_path).await;
        let r = b
            .post(
                &format!("{page_path}/rename"),
                &[
                    ("csrf", &csrf),
                    ("name", "Clean Name"),
                    ("reason", "offensive"),
                ],
            )
            .await;
        assert_eq!(r.status, 303);

        // The game logs in twice more with the old Steam name.
        c.login(ME, "Heatray").await.unwrap();
        let again = c.login(ME, "Heatray").await.unwrap();
        let stored = t
            .server
            .store()
            .mm_accounts()
            .by_user_id(me.user_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.display_name, "Clean Name", "{}", db.label);
        let board = c.get_elite(&again.token, 0, 10).await.unwrap();
        assert_eq!(board.entries[0].name, "Clean Name", "{:?}", board.entries);
        assert!(b
            .get("/mmws/leaderboard")
            .await
            .text()
            .contains(">Clean Name<"));
        let page = b.get(&page_path).await.text();
        assert!(page.contains("set by an operator"), "{page}");
        // The Steam name is still recorded among the names used.
        assert!(page.contains("Heatray"), "{page}");

        // Going back to the Steam name: at once, and logins follow it again.
        let csrf = b.csrf(&page_path).await;
        let r = b
            .post(
                &format!("{page_path}/clear-name"),
                &[("csrf", &csrf), ("reason", "appeal")],
            )
            .await;
        assert_eq!(location(&r), format!("{page_path}?done=clear-name"));
        let store = t.server.store().clone();
        let user_id = me.user_id;
        let name = || {
            let store = store.clone();
            async move {
                store
                    .mm_accounts()
                    .by_user_id(user_id)
                    .await
                    .unwrap()
                    .unwrap()
                    .display_name
            }
        };
        assert_eq!(name().await, "Heatray");
        c.login(ME, "Heatray2").await.unwrap();
        assert_eq!(name().await, "Heatray2");
        let r = b
            .post(
                &format!("{page_path}/clear-name"),
                &[("csrf", &csrf), ("reason", "twice")],
            )
            .await;
        assert_eq!(r.status, 400, "nothing to clear");
        let audit = b.get("/audit").await.text();
        assert!(audit.contains("<code>mmws.clear-name</code>"), "{audit}");
        t.server.shutdown().await;
    }
}

#[tokio::test]
async fn the_overview_shows_when_each_certificate_expires() {
    let db = pitlane_store::testing::TestDatabase::sqlite();
    let data_dir = tempfile::tempdir().unwrap();
    let mut config = common::test_config(&db, data_dir.path());
    config.tls.enabled = true;
    // Certificates are dated by the real clock.
    let t = TestServer::start_with(
        config,
        data_dir,
        pitlane_core::ManualClock::new(chrono::Utc::now()),
    )
    .await;
    with_admin(&t).await;
    let mut b = Browser::new(dashboard(&t));
    b.log_in(ADMIN, PASSWORD).await;
    let overview = b.get("/").await.text();
    let certs = pitlane::tls::cert_store(&t.config);
    let ca = certs.ca_info().unwrap().expect("HTTPS made a CA");
    for (label, file) in [
        ("Private CA", "ca.pem"),
        ("Micro Machines HTTPS", "server.pem"),
        ("Motor City AuthLogin", "mco.pem"),
    ] {
        assert!(overview.contains(label), "{label}: {overview}");
        assert!(overview.contains(file), "{file}");
    }
    let ca_expiry = format!("<time datetime=\"{}\">", ca.not_after.to_rfc3339());
    assert!(overview.contains(&ca_expiry), "{ca_expiry} in {overview}");
    assert!(overview.contains("days left"));
    t.server.shutdown().await;
}

#[tokio::test]
async fn the_settings_page_shows_the_config_in_effect() {
    let db = pitlane_store::testing::TestDatabase::sqlite();
    let data_dir = tempfile::tempdir().unwrap();
    let mut config = common::test_config(&db, data_dir.path());
    let mm = &mut config.micromachines.matchmaking;
    mm.hold_secs = 17.0;
    mm.skill_band_widen_per_sec = 41;
    mm.forced_rule_set = Some("Elimination".into());
    mm.modes[0].max_players = 4;
    mm.modes[0].ai_fill = false;
    config.motorcity.starting_money = 4321;
    config.motorcity.shard_name = "Test Shard".into();
    let t = TestServer::start_with(
        config,
        data_dir,
        pitlane_core::ManualClock::new(common::capture_time()),
    )
    .await;
    with_admin(&t).await;
    let mut b = Browser::new(dashboard(&t));
    b.log_in(ADMIN, PASSWORD).await;
    let page = b.get("/settings").await.text();
    let race = &t.config.micromachines.matchmaking.modes[0].rule_set;
    assert!(
        page.contains(&format!(
            "<td>{race}</td><td>4</td><td>every party for itself</td><td>no: start-now searches wait for humans</td>"
        )),
        "{page}"
    );
    assert!(page.contains("<strong>Elimination</strong>: every search is matched in this pool"));
    assert!(page.contains("17 s while no race forms"));
    assert!(page.contains("widening by 41 per second"));
    assert!(
        page.contains("<td><code>starting_money</code></td><td>4321</td>"),
        "{page}"
    );
    assert!(page.contains("<td><code>shard_name</code></td><td>Test Shard</td>"));
    assert!(
        page.contains("<td><code>matchmaking.hold_secs</code></td><td>17.0</td>"),
        "{page}"
    );
    assert!(b.get("/mco").await.text().contains("Test Shard"));
    t.server.shutdown().await;
}

async fn create_mco_account(
    b: &mut Browser,
    csrf: &str,
    name: &str,
    password: &str,
) -> pitlane_sim::http::HttpResponse {
    let mut fields = vec![
        ("username", name),
        ("password", password),
        ("reason", "new player"),
    ];
    if !csrf.is_empty() {
        fields.push(("csrf", csrf));
    }
    b.post("/mco/accounts", &fields).await
}

#[tokio::test]
async fn motor_city_page_creates_accounts_resets_passwords_and_shows_lobby_and_garage() {
    use motorcity::crypto::PublicLoginKey;
    use motorcity::http::AuthLoginResponse;
    use motorcity::{SessionKey, ShardId};
    use pitlane_sim::mco::{self, LobbyClient, PersonaCreation};

    for db in databases().await {
        let t = TestServer::start(&db).await;
        with_admin(&t).await;
        let mut b = Browser::new(dashboard(&t));
        b.log_in(ADMIN, PASSWORD).await;
        let page = b.get("/mco").await.text();
        assert!(page.contains(&t.config.motorcity.shard_name), "{page}");
        assert!(page.contains(">LOBBY<"), "{page}");

        // Create: bad names and missing tokens refused, nothing stored.
        let csrf = b.csrf("/mco").await;
        let r = create_mco_account(&mut b, &csrf, "bad name", "pw12").await;
        assert_eq!(r.status, 400);
        let r = create_mco_account(&mut b, "", "Racer", "pw12").await;
        assert_eq!(r.status, 403);
        let accounts = t.server.store().mco_accounts();
        assert!(accounts.by_name("Racer").await.unwrap().is_none());
        let r = create_mco_account(&mut b, &csrf, "Racer", "first-pw").await;
        assert_eq!(r.status, 303, "{}", r.text());
        let account = accounts.by_name("Racer").await.unwrap().unwrap();
        assert_eq!(
            location(&r),
            format!("/players/mco/{}?done=create-account", account.customer_id)
        );
        let r = create_mco_account(&mut b, &csrf, "racer", "other-pw").await;
        assert_eq!(r.status, 400, "names are unique regardless of case");

        // Reset the password: the old one stops working in AuthLogin.
        let http = t.server.mco().unwrap().clone();
        let ip = "127.0.0.1".parse().unwrap();
        let path = format!("/players/mco/{}", account.customer_id);
        let csrf = b.csrf(&path).await;
        let r = b
            .post(
                &format!("{path}/reset-password"),
                &[
                    ("csrf", &csrf),
                    ("password", "second-pw"),
                    ("reason", "forgot"),
                ],
            )
            .await;
        assert_eq!(location(&r), format!("{path}?done=reset-password"));
        assert!(matches!(
            http.directory.auth_login("Racer", "first-pw", ip).await,
            AuthLoginResponse::Invalid(_)
        ));
        let AuthLoginResponse::Valid { ticket } =
            http.directory.auth_login("Racer", "second-pw", ip).await
        else {
            panic!("the new password works");
        };
        let audit = b.get("/audit").await.text();
        assert!(audit.contains("<code>mco.create-account</code>"), "{audit}");
        assert!(audit.contains("<code>mco.reset-password</code>"));
        assert!(
            !audit.contains("second-pw"),
            "passwords stay out of the log"
        );

        // In the game: persona, lobby channel, money.
        let l = t.server.listening;
        let pub_key = PublicLoginKey::from_pub_key_file(
            &std::fs::read_to_string(t.data_dir.path().join("mco/pub.key")).unwrap(),
        )
        .unwrap();
        let key = SessionKey::generate();
        let customer = mco::login_with_key(l.mco_login.unwrap(), &pub_key, &ticket, &key)
            .await
            .unwrap();
        let persona_addr = l.mco_persona.unwrap();
        assert!(matches!(
            mco::create_persona(persona_addr, customer, ShardId(44), "Speedy")
                .await
                .unwrap(),
            PersonaCreation::Created
        ));
        let persona = mco::list_personas(persona_addr, customer).await.unwrap()[0].id;
        mco::select_persona(persona_addr, customer, persona, ShardId(44))
            .await
            .unwrap();
        let mut lobby = LobbyClient::login(l.mco_lobby.unwrap(), &key, customer, persona, "Speedy")
            .await
            .unwrap();
        assert!(lobby.join(2).await.unwrap());
        let page = b.get("/mco").await.text();
        assert!(
            page.contains(&format!("Speedy (persona {})", persona.0)),
            "{} {page}",
            db.label
        );
        assert!(
            page.contains("<span data-channel=\"2\">1</span> / "),
            "{page}"
        );
        t.server
            .store()
            .mco_garage()
            .ensure_player(i64::from(persona.0), 12345, t.clock.now())
            .await
            .unwrap();
        let page = b.get(&path).await.text();
        assert!(
            page.contains(">Speedy<") && page.contains("$12345"),
            "{page}"
        );
        assert!(page.contains("No cars."), "{page}");

        // A ban refuses AuthLogin in the game's own form.
        let csrf = b.csrf(&path).await;
        b.post(
            &format!("{path}/ban"),
            &[("csrf", &csrf), ("reason", "griefing")],
        )
        .await;
        let refused = http.directory.auth_login("Racer", "second-pw", ip).await;
        assert!(
            matches!(refused, AuthLoginResponse::Invalid(_)),
            "{refused:?}"
        );
        let body = refused.body();
        assert!(
            body.starts_with("reasoncode=") && body.contains("disabled"),
            "{body}"
        );
        drop(lobby);
        t.server.shutdown().await;
    }
}

#[test]
fn admin_accounts_come_from_the_command_line() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], stdin: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pitlane"))
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .env_remove("PITLANE_CONFIG")
            .env_remove("PITLANE_DATABASE_URL")
            .current_dir(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (ok, text) = run(&["admin", "add", "ops"], "long enough password\n");
    assert!(ok, "{text}");
    assert!(text.contains("created operator ops"), "{text}");
    let (ok, text) = run(&["admin", "add", "OPS"], "long enough password\n");
    assert!(!ok && text.contains("already exists"), "{text}");
    let (ok, text) = run(&["admin", "add", "bad name"], "long enough password\n");
    assert!(!ok && text.contains("not a valid operator name"), "{text}");
    let (ok, text) = run(&["admin", "add", "short"], "short\n");
    assert!(!ok && text.contains("at least 10 characters"), "{text}");
    let (ok, text) = run(&["admin", "passwd", "ops"], "another long password\n");
    assert!(ok && text.contains("new password set"), "{text}");
    let (ok, text) = run(&["admin", "passwd", "nobody"], "another long password\n");
    assert!(!ok && text.contains("no operator named"), "{text}");
}
