//! Points, divisions, seasons and leaderboards through the network, on
//! every configured backend.

mod common;

use chrono::Duration;
use common::{capture_time, TestServer};
use pitlane_sim::mmws::{MmwsClient, PointsOutcome};
use pitlane_store::testing::databases;

const ME: u64 = 76561198081105540;

/// A race the player is registered in (as the game does after a match).
async fn race(client: &MmwsClient, token: &str, steam_ids: &[u64], key: &str) {
    let r = client
        .register_game(token, key, steam_ids, 79)
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    assert_eq!(r.content_type(), None);
}

async fn points(client: &MmwsClient, token: &str, n: u32, delta: i64) -> PointsOutcome {
    let key = format!("{n:016X}");
    race(client, token, &[ME], &key).await;
    client.add_points(token, &key, delta).await.unwrap()
}

#[tokio::test]
async fn points_move_divisions_with_hysteresis_and_never_go_below_zero() {
    for db in databases().await {
        let t = TestServer::start(&db).await;
        let me = t.client.login(ME, "Heatray").await.unwrap();
        let c = &t.client;
        // (delta, expected total, expected old division, expected new division)
        let steps = [
            (490, 490, 0, 0),
            (10, 500, 0, 1), // promotion at 500
            (-600, 0, 1, 1), // clamped at 0, division 1 never relegates
            (1000, 1000, 1, 2),
            (-240, 760, 2, 2),  // 750 keeps division 2
            (-20, 740, 2, 1),   // below 750: relegated
            (2300, 3040, 1, 6), // straight to Elite
            (-3000, 40, 6, 6),  // Elite never relegates
        ];
        for (n, (delta, total, old, new)) in steps.into_iter().enumerate() {
            let o = points(c, &me.token, n as u32, delta).await;
            assert_eq!(
                (o.points, o.old_division, o.new_division),
                (total, old, new),
                "{} step {n}: {delta:+}",
                db.label
            );
            assert_eq!((o.old_season, o.new_season, o.bonus_points), (45, 45, 0));
            assert_eq!(o.rank, 0);
        }
        let score = t
            .server
            .store()
            .mm_scores()
            .get(45, me.user_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((score.points, score.division), (40, 6));
        let again = c.login(ME, "Heatray").await.unwrap();
        assert_eq!((again.points, again.division), (40, 6));
        t.server.shutdown().await;
    }
}

#[tokio::test]
async fn points_count_once_and_only_for_races_the_player_was_in() {
    for db in databases().await {
        let t = TestServer::start(&db).await;
        let me = t.client.login(ME, "Heatray").await.unwrap();
        let other = t.client.login(ME + 1, "Other").await.unwrap();
        race(&t.client, &other.token, &[ME + 1], "00000000000000AA").await;

        let refused = t
            .client
            .add_points_raw(&me.token, "00000000000000AA", 40, 26, 10)
            .await
            .unwrap();
        assert_eq!(refused.status, 403, "{}", db.label);
        assert!(refused.text().starts_with("<AddPointsResult xmlns:i="));
        let unknown = t
            .client
            .add_points_raw(&me.token, "FFFFFFFFFFFFFFFF", 40, 26, 10)
            .await
            .unwrap();
        assert_eq!(unknown.status, 403);
        assert_eq!(
            t.server
                .store()
                .mm_scores()
                .get(45, me.user_id)
                .await
                .unwrap(),
            None,
            "nothing stored"
        );

        race(&t.client, &me.token, &[ME], "00000000000000BB").await;
        let first = t
            .client
            .add_points(&me.token, "00000000000000BB", 40)
            .await
            .unwrap();
        assert_eq!(first.points, 40);
        let repeat = t
            .client
            .add_points(&me.token, "00000000000000BB", 40)
            .await
            .unwrap();
        assert_eq!(
            repeat.points, 40,
            "{}: a repeated claim changes nothing",
            db.label
        );

        let huge = t
            .client
            .add_points_raw(&me.token, "00000000000000BB", 1_000_000, 26, 10)
            .await
            .unwrap();
        assert_eq!(huge.status, 400);
        let account = t
            .server
            .store()
            .mm_accounts()
            .by_user_id(me.user_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (account.level, account.prestige),
            (10, 1),
            "level and prestige as reported"
        );
        t.server.shutdown().await;
    }
}

#[tokio::test]
async fn concurrent_points_for_one_player_are_all_counted() {
    for db in databases().await {
        let t = TestServer::start(&db).await;
        let me = t.client.login(ME, "Heatray").await.unwrap();
        for n in 0..20u32 {
            race(&t.client, &me.token, &[ME], &format!("{n:016X}")).await;
        }
        let tasks: Vec<_> = (0..20u32)
            .map(|n| {
                let client = t.client.clone();
                let token = me.token.clone();
                tokio::spawn(async move {
                    client
                        .add_points(&token, &format!("{n:016X}"), 10)
                        .await
                        .unwrap()
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let score = t
            .server
            .store()
            .mm_scores()
            .get(45, me.user_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(score.points, 200, "{}: no update lost", db.label);
        t.server.shutdown().await;
    }
}

#[tokio::test]
async fn a_new_season_starts_from_the_head_start_and_keeps_the_old_one() {
    for db in databases().await {
        let t = TestServer::start(&db).await;
        let me = t.client.login(ME, "Heatray").await.unwrap();
        points(&t.client, &me.token, 1, 2600).await; // division 5
                                                     // The next season (46) starts 2024-01-01.
        t.clock.set(
            chrono::DateTime::parse_from_rfc3339("2024-01-02T12:00:00Z")
                .unwrap()
                .to_utc(),
        );
        let login = t.client.login(ME, "Heatray").await.unwrap();
        assert_eq!(login.season_id, 46);
        // Division 5's band bonus (750), rank 0 earns no rank bonus.
        assert_eq!((login.points, login.division), (750, 1), "{}", db.label);
        let doc = pitlane_sim::xml_shape::parse(&login.response.body).unwrap();
        let season = doc.child("GameInfo").unwrap().child("SeasonInfo").unwrap();
        assert_eq!(season.required("OldSeasonID").unwrap(), "45");
        assert_eq!(season.required("NewSeasonID").unwrap(), "46");
        assert_eq!(season.required("BonusPoints").unwrap(), "750");
        // Only once.
        let again = t.client.login(ME, "Heatray").await.unwrap();
        let doc = pitlane_sim::xml_shape::parse(&again.response.body).unwrap();
        assert_eq!(
            doc.child("GameInfo")
                .unwrap()
                .child("SeasonInfo")
                .unwrap()
                .required("BonusPoints")
                .unwrap(),
            "0"
        );

        let o = points(&t.client, &again.token, 2, 40).await;
        assert_eq!((o.points, o.new_season, o.old_season), (790, 46, 46));
        let old = t
            .server
            .store()
            .mm_scores()
            .get(45, me.user_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(old.points, 2600, "past seasons stay queryable");
        t.server.shutdown().await;
    }
}

#[tokio::test]
async fn game_config_changed_reports_a_new_hash_since_login() {
    let db = pitlane_store::testing::TestDatabase::sqlite();
    let data_dir = tempfile::tempdir().unwrap();
    let mut config = common::test_config(&db, data_dir.path());
    config.micromachines.events.rotation = vec![pitlane_core::config::EventDefinition {
        event_id: 2,
        playlist_id: 13,
        dev_name: "chaos".into(),
        title_loc: "lng_event_chaos_title".into(),
        description_loc: "lng_event_chaos_desc".into(),
        prize_code: Some("Boxes:1:".into()),
        button_image_url: None,
        background_image_url: None,
    }];
    let t = TestServer::start_with(
        config,
        data_dir,
        pitlane_core::ManualClock::new(capture_time()),
    )
    .await;
    // Friday night, between event windows.
    t.clock.set(
        chrono::DateTime::parse_from_rfc3339("2023-11-24T23:00:00Z")
            .unwrap()
            .to_utc(),
    );
    let me = t.client.login(ME, "Heatray").await.unwrap();
    assert!(!points(&t.client, &me.token, 1, 10).await.config_changed);
    t.clock.advance(Duration::hours(2)); // Saturday: the weekend event began
    assert!(points(&t.client, &me.token, 2, 10).await.config_changed);
    let fresh = t.client.login(ME, "Heatray").await.unwrap();
    let doc = pitlane_sim::xml_shape::parse(&fresh.response.body).unwrap();
    let event = doc
        .child("GameConfigurationData")
        .unwrap()
        .child("CurrentEvent")
        .unwrap()
        .child("CurrentEvent")
        .unwrap();
    assert_eq!(event.required("EventID").unwrap(), "2");
    assert_eq!(
        event.required("TitleLocString").unwrap(),
        "lng_event_chaos_title"
    );
    assert!(
        !points(&t.client, &fresh.token, 3, 10).await.config_changed,
        "not after a fresh login"
    );
    t.server.shutdown().await;
}

#[tokio::test]
async fn leaderboards_order_page_and_break_ties_on_thousands_of_players() {
    for db in databases().await {
        let t = TestServer::start(&db).await;
        let store = t.server.store();
        let n = 2000u64;
        let mut expected: Vec<(i64, i64, i64)> = Vec::new(); // (points, reached offset, user id)
        for i in 0..n {
            let (account, _) = store
                .mm_accounts()
                .login(
                    76561198200000000 + i,
                    &format!("Player {i}"),
                    "lng_player_title_default",
                    capture_time(),
                )
                .await
                .unwrap();
            // Many ties: 50 distinct totals; who got there first wins a tie.
            let pts = ((i * 7919) % 50) as i64 * 100;
            let reached = (i % 3) as i64;
            store
                .mm_scores()
                .set(
                    45,
                    account.user_id,
                    pts,
                    0,
                    capture_time() + Duration::seconds(reached),
                )
                .await
                .unwrap();
            expected.push((pts, reached, account.user_id));
        }
        expected.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));

        let me = t
            .client
            .login(76561198200000000 + 1234, "Player 1234")
            .await
            .unwrap();
        let mut seen = Vec::new();
        let mut start = 0;
        loop {
            let page = t.client.get_elite(&me.token, start, 100).await.unwrap();
            if page.entries.is_empty() {
                break;
            }
            assert!(page.entries.len() <= 100);
            seen.extend(page.entries.iter().map(|e| e.user_id));
            start += page.entries.len() as i64;
            assert_eq!(page.player_score, me.points);
        }
        let order: Vec<i64> = expected.iter().map(|e| e.2).collect();
        assert_eq!(
            seen, order,
            "{}: pages concatenate to the full, deterministic order",
            db.label
        );
        let my_rank = order.iter().position(|&u| u == me.user_id).unwrap() as i64;
        assert_eq!(me.rank, my_rank, "Login rank agrees with the board");
        assert_eq!(
            t.client
                .get_elite(&me.token, 0, 5000)
                .await
                .unwrap()
                .entries
                .len(),
            100,
            "page size capped"
        );

        let around = t.client.get_elite_rank(&me.token, 10).await.unwrap();
        assert_eq!(around.player_rank, my_rank);
        let start = (my_rank - 5).max(0) as usize;
        assert_eq!(
            around.entries.iter().map(|e| e.user_id).collect::<Vec<_>>(),
            order[start..start + 10].to_vec()
        );

        // Friends: 300 ids, some never played; the caller among them.
        let mut friends: Vec<u64> = (0..250).map(|i| 76561198200000000 + i * 5).collect();
        friends.extend((0..50).map(|i| 76561199900000000 + i));
        friends.push(76561198200000000 + 1234);
        let board = t
            .client
            .get_friends(&me.token, &friends, 100)
            .await
            .unwrap();
        assert_eq!(board.entries.len(), 100);
        // Exactly the first 100 friends in board order.
        let friend_set: std::collections::HashSet<u64> = friends.iter().copied().collect();
        let expected_friends: Vec<i64> = expected
            .iter()
            .filter(|e| {
                let steam = store_steam(&order, e.2);
                friend_set.contains(&steam)
            })
            .map(|e| e.2)
            .take(100)
            .collect();
        assert_eq!(
            board.entries.iter().map(|e| e.user_id).collect::<Vec<_>>(),
            expected_friends
        );
        let all_friends = t
            .client
            .get_friends(&me.token, &friends, 1000)
            .await
            .unwrap();
        assert_eq!(
            all_friends.entries.len(),
            100,
            "MaxEntries is capped at the page size"
        );
        t.server.shutdown().await;
    }
}

/// The generated players' Steam ids follow their creation order, which is
/// also their user-id order.
fn store_steam(order: &[i64], user_id: i64) -> u64 {
    let first = *order.iter().min().unwrap();
    76561198200000000 + (user_id - first) as u64
}

#[tokio::test]
async fn get_friends_ranks_the_caller_within_the_list() {
    let db = pitlane_store::testing::TestDatabase::sqlite();
    let t = TestServer::start(&db).await;
    let me = t.client.login(ME, "Heatray").await.unwrap();
    let friend = t.client.login(ME + 7, "Friend").await.unwrap();
    let stranger = t.client.login(ME + 8, "Stranger").await.unwrap();
    let scores = t.server.store().mm_scores();
    scores
        .set(45, me.user_id, 3460, 6, capture_time())
        .await
        .unwrap();
    scores
        .set(45, friend.user_id, 4000, 6, capture_time())
        .await
        .unwrap();
    scores
        .set(45, stranger.user_id, 9000, 6, capture_time())
        .await
        .unwrap();
    let board = t
        .client
        .get_friends(&me.token, &[ME + 7, ME + 99, ME], 100)
        .await
        .unwrap();
    let names: Vec<&str> = board.entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, vec!["Friend", "Heatray"]);
    assert_eq!((board.player_rank, board.player_score), (1, 3460));
    assert_eq!(board.entries[1].title, "lng_player_title_default");
    t.server.shutdown().await;
}
