//! Accounts, sessions and titles through the network, as the game does it,
//! on every configured database backend.

mod common;

use chrono::Duration;
use common::{capture_time, TestServer};
use pitlane_sim::mmws::{request_xml, UPDATE_TITLE_PATH};
use pitlane_store::testing::databases;

const HEATRAY: u64 = 76561198081105540;
const OTHER: u64 = 76561197960287930;

#[tokio::test]
async fn a_steam_account_keeps_its_user_id_across_names_and_restarts() {
    for db in databases().await {
        let t = TestServer::start(&db).await;
        let first = t.client.login(HEATRAY, "Heatray").await.unwrap();
        assert_eq!(first.platform_id, HEATRAY.to_string(), "{}", db.label);
        assert_eq!(first.user_facing_id.len(), 13);
        assert!(first
            .user_facing_id
            .bytes()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));

        let renamed = t.client.login(HEATRAY, "Heatray the Second").await.unwrap();
        assert_eq!(renamed.user_id, first.user_id, "{}", db.label);
        assert_eq!(renamed.user_facing_id, first.user_facing_id);
        assert_ne!(renamed.token, first.token, "every login issues a new token");

        let other = t.client.login(OTHER, "Heatray").await.unwrap();
        assert_ne!(
            other.user_id, first.user_id,
            "same name, different Steam account"
        );

        let stored = t
            .server
            .store()
            .mm_accounts()
            .by_steam_id(HEATRAY)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.display_name, "Heatray the Second");
        assert_eq!(stored.user_id, first.user_id);

        let t = t.restart().await;
        let after = t.client.login(HEATRAY, "Heatray").await.unwrap();
        assert_eq!(
            after.user_id, first.user_id,
            "{}: survives a restart",
            db.label
        );
        assert_eq!(after.user_facing_id, first.user_facing_id);
        let other_after = t.client.login(OTHER, "x").await.unwrap();
        assert_eq!(other_after.user_id, other.user_id);
        t.server.shutdown().await;
    }
}

#[tokio::test]
async fn login_reports_the_stored_season_score_and_rank() {
    for db in databases().await {
        let t = TestServer::start(&db).await;
        let me = t.client.login(HEATRAY, "Heatray").await.unwrap();
        assert_eq!((me.points, me.division, me.season_id), (0, 0, 45));
        assert_eq!(me.rank, 0, "nobody has scored yet");

        let rival = t.client.login(OTHER, "Rival").await.unwrap();
        let scores = t.server.store().mm_scores();
        scores
            .set(45, rival.user_id, 4000, 6, capture_time())
            .await
            .unwrap();
        scores
            .set(45, me.user_id, 3460, 6, capture_time())
            .await
            .unwrap();
        scores
            .set(44, me.user_id, 9999, 6, capture_time())
            .await
            .unwrap();

        let again = t.client.login(HEATRAY, "Heatray").await.unwrap();
        assert_eq!(
            (again.points, again.division, again.rank),
            (3460, 6, 1),
            "{}",
            db.label
        );
        let rival = t.client.login(OTHER, "Rival").await.unwrap();
        assert_eq!((rival.points, rival.rank), (4000, 0));
        t.server.shutdown().await;
    }
}

#[tokio::test]
async fn seasons_and_dates_follow_the_clock() {
    for db in databases().await {
        let t = TestServer::start(&db).await;
        t.clock.set(
            chrono::DateTime::parse_from_rfc3339("2026-11-21T22:00:00Z")
                .unwrap()
                .to_utc(),
        );
        let me = t.client.login(HEATRAY, "Heatray").await.unwrap();
        assert_eq!(me.season_id, 63);
        let doc = pitlane_sim::xml_shape::parse(&me.response.body).unwrap();
        let config = doc.child("GameConfigurationData").unwrap();
        assert_eq!(
            config.required("NextActiveSeasonDate").unwrap(),
            "2027-01-01T00:00:00Z"
        );
        assert_eq!(
            config.required("NextInactiveSeasonDate").unwrap(),
            "2026-12-15T00:00:00Z"
        );
        // 2026-11-21 is a Saturday: inside the weekend window.
        assert_eq!(
            config
                .child("CurrentEvent")
                .unwrap()
                .required("NextEvent")
                .unwrap(),
            "2026-11-21T00:00:00Z"
        );
        let season = doc.child("GameInfo").unwrap().child("SeasonInfo").unwrap();
        assert_eq!(season.required("IsSeasonActive").unwrap(), "true");

        t.clock.set(
            chrono::DateTime::parse_from_rfc3339("2026-12-20T10:00:00Z")
                .unwrap()
                .to_utc(),
        );
        let inactive = t.client.login(HEATRAY, "Heatray").await.unwrap();
        let doc = pitlane_sim::xml_shape::parse(&inactive.response.body).unwrap();
        let season = doc.child("GameInfo").unwrap().child("SeasonInfo").unwrap();
        assert_eq!(season.required("IsSeasonActive").unwrap(), "false");
        assert_ne!(
            inactive.config_hash, me.config_hash,
            "dates changed, so does Hash"
        );
        t.server.shutdown().await;
    }
}

#[tokio::test]
async fn update_title_is_stored_and_needs_a_live_session() {
    for db in databases().await {
        let t = TestServer::start(&db).await;
        let me = t.client.login(HEATRAY, "Heatray").await.unwrap();
        let answer = t
            .client
            .update_title(&me.token, "lng_player_title_elite")
            .await
            .unwrap();
        assert_eq!(answer.status, 200);
        assert!(answer.body.is_empty());
        assert_eq!(
            answer.content_type(),
            None,
            "void answers carry no Content-Type"
        );
        let stored = t
            .server
            .store()
            .mm_accounts()
            .by_user_id(me.user_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.title, "lng_player_title_elite");

        // A new login ends the old session.
        let newer = t.client.login(HEATRAY, "Heatray").await.unwrap();
        let stale = t
            .client
            .update_title(&me.token, "lng_player_title_box_004")
            .await
            .unwrap();
        assert_eq!(stale.status, 401, "{}", db.label);
        assert!(
            stale.text().contains("<ErrorResult xmlns:i="),
            "{}",
            stale.text()
        );
        assert!(stale.text().contains("<ErrorCode>401</ErrorCode>"));

        // Sessions expire after the configured 6 hours.
        t.clock.advance(Duration::hours(6) + Duration::seconds(1));
        let expired = t
            .client
            .update_title(&newer.token, "lng_player_title_box_004")
            .await
            .unwrap();
        assert_eq!(expired.status, 401);
        let unknown = t
            .client
            .post(
                UPDATE_TITLE_PATH,
                request_xml(
                    "UpdateAccountTitle",
                    &[("SessionToken", "AAAA".into()), ("Title", "x".into())],
                ),
            )
            .await
            .unwrap();
        assert_eq!(unknown.status, 401);
        let stored = t
            .server
            .store()
            .mm_accounts()
            .by_user_id(me.user_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            stored.title, "lng_player_title_elite",
            "refused updates stored nothing"
        );
        t.server.shutdown().await;
    }
}

#[tokio::test]
async fn localhost_mode_paths_without_the_prefix_work() {
    let db = pitlane_store::testing::TestDatabase::sqlite();
    let mut t = TestServer::start(&db).await;
    t.client.prefix = "";
    let me = t.client.login(HEATRAY, "Heatray").await.unwrap();
    assert!(me.user_id > 0);
    let status = t.client.server_status().await.unwrap();
    assert_eq!(status.status, 200);
    t.server.shutdown().await;
}
