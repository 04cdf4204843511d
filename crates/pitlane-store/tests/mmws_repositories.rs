//! The Micro Machines repositories against real databases: SQLite always,
//! PostgreSQL when PITLANE_TEST_DATABASE_URL is set.

use chrono::{DateTime, Duration, Utc};
use pitlane_store::mmws::{MmSession, SeasonScore};
use pitlane_store::testing::databases;
use pitlane_store::Store;

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_336_721, 0).unwrap()
}

#[tokio::test]
async fn the_same_steam_account_keeps_its_user_id_and_follows_its_name() {
    for db in databases().await {
        let store = Store::open(&db.url).await.unwrap();
        let accounts = store.mm_accounts();
        let (first, created) = accounts
            .login(
                76561198081105540,
                "Heatray",
                "lng_player_title_default",
                t0(),
            )
            .await
            .unwrap();
        assert!(created, "{}", db.label);
        assert_eq!(first.display_name, "Heatray");
        assert_eq!(first.title, "lng_player_title_default");
        assert_eq!(first.user_facing_id.len(), 13);

        let later = t0() + Duration::hours(1);
        let (again, created) = accounts
            .login(
                76561198081105540,
                "Łukasz",
                "lng_player_title_default",
                later,
            )
            .await
            .unwrap();
        assert!(!created);
        assert_eq!(again.user_id, first.user_id, "{}", db.label);
        assert_eq!(again.user_facing_id, first.user_facing_id);
        assert_eq!(again.display_name, "Łukasz");
        assert_eq!(again.last_seen_at, later);
        assert_eq!(again.created_at, t0());
        assert_eq!(
            accounts.names(first.user_id).await.unwrap(),
            vec!["Łukasz".to_string(), "Heatray".to_string()]
        );

        let (other, created) = accounts
            .login(
                76561197960287930,
                "Heatray",
                "lng_player_title_default",
                later,
            )
            .await
            .unwrap();
        assert!(created);
        assert_ne!(other.user_id, first.user_id);
        assert_eq!(other.user_id, first.user_id + 1, "sequential user ids");
        assert_eq!(accounts.count().await.unwrap(), 2);
        store.close().await;
    }
}

#[tokio::test]
async fn concurrent_first_logins_create_one_account() {
    for db in databases().await {
        let store = Store::open(&db.url).await.unwrap();
        let mut tasks = Vec::new();
        for i in 0..8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .mm_accounts()
                    .login(76561198000000001, &format!("p{i}"), "t", t0())
                    .await
                    .unwrap()
            }));
        }
        let mut ids = Vec::new();
        let mut created = 0;
        for t in tasks {
            let (account, was_created) = t.await.unwrap();
            ids.push(account.user_id);
            created += usize::from(was_created);
        }
        ids.dedup();
        assert_eq!(ids.len(), 1, "{}: {ids:?}", db.label);
        assert_eq!(created, 1, "{}", db.label);
        store.close().await;
    }
}

#[tokio::test]
async fn sessions_expire_and_a_new_login_replaces_the_old_one() {
    for db in databases().await {
        let store = Store::open(&db.url).await.unwrap();
        let (account, _) = store
            .mm_accounts()
            .login(76561198081105540, "Heatray", "t", t0())
            .await
            .unwrap();
        let session = MmSession {
            user_id: account.user_id,
            steam_id: account.steam_id,
            issued_at: t0(),
            expires_at: t0() + Duration::hours(6),
            config_hash: -1647532852,
        };
        let sessions = store.mm_sessions();
        sessions
            .start("digest-a", &session, "127.0.0.1")
            .await
            .unwrap();
        assert_eq!(
            sessions.find("digest-a", t0()).await.unwrap(),
            Some(session.clone())
        );
        assert_eq!(
            sessions
                .find("digest-a", t0() + Duration::hours(6))
                .await
                .unwrap(),
            None
        );
        assert_eq!(sessions.find("nope", t0()).await.unwrap(), None);

        sessions
            .start("digest-b", &session, "127.0.0.1")
            .await
            .unwrap();
        assert_eq!(sessions.find("digest-a", t0()).await.unwrap(), None);
        assert!(sessions.find("digest-b", t0()).await.unwrap().is_some());
        assert_eq!(
            sessions
                .purge_expired(t0() + Duration::hours(7))
                .await
                .unwrap(),
            1
        );
        store.close().await;
    }
}

#[tokio::test]
async fn ranks_follow_points_then_who_got_there_first() {
    for db in databases().await {
        let store = Store::open(&db.url).await.unwrap();
        let mut users = Vec::new();
        for i in 0..4u64 {
            let (a, _) = store
                .mm_accounts()
                .login(76561198000000000 + i, &format!("p{i}"), "t", t0())
                .await
                .unwrap();
            users.push(a.user_id);
        }
        let scores = store.mm_scores();
        scores
            .set(45, users[0], 100, 0, t0() + Duration::seconds(5))
            .await
            .unwrap();
        scores.set(45, users[1], 300, 0, t0()).await.unwrap();
        scores.set(45, users[2], 100, 0, t0()).await.unwrap();
        scores.set(44, users[3], 999, 1, t0()).await.unwrap();

        let rank = |s: Option<SeasonScore>| {
            let s = s.unwrap();
            let scores = store.mm_scores();
            async move { scores.rank_of(&s).await.unwrap() }
        };
        assert_eq!(rank(scores.get(45, users[1]).await.unwrap()).await, 0);
        assert_eq!(
            rank(scores.get(45, users[2]).await.unwrap()).await,
            1,
            "{}",
            db.label
        );
        assert_eq!(rank(scores.get(45, users[0]).await.unwrap()).await, 2);
        assert_eq!(rank(scores.get(44, users[3]).await.unwrap()).await, 0);
        assert_eq!(scores.ranked_players(45).await.unwrap(), 3);
        assert_eq!(scores.get(45, users[3]).await.unwrap(), None);
        store.close().await;
    }
}

#[tokio::test]
async fn data_survives_reopening() {
    for db in databases().await {
        let store = Store::open(&db.url).await.unwrap();
        let (a, _) = store
            .mm_accounts()
            .login(76561198081105540, "Heatray", "t", t0())
            .await
            .unwrap();
        assert!(store
            .mm_accounts()
            .set_title(a.user_id, "lng_player_title_elite")
            .await
            .unwrap());
        store.close().await;

        let store = Store::open(&db.url).await.unwrap();
        let again = store
            .mm_accounts()
            .by_steam_id(76561198081105540)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again.user_id, a.user_id);
        assert_eq!(again.title, "lng_player_title_elite");
        store.close().await;
    }
}

#[tokio::test]
async fn unsupported_urls_are_refused_clearly() {
    let err = Store::open("mysql://x").await.unwrap_err();
    assert!(err.to_string().contains("sqlite://"), "{err}");
}

#[tokio::test]
async fn an_online_backup_holds_everything_and_opens_as_a_store() {
    let db = pitlane_store::testing::TestDatabase::sqlite();
    let store = Store::open(&db.url).await.unwrap();
    let (a, _) = store
        .mm_accounts()
        .login(76561198081105540, "Heatray", "t", t0())
        .await
        .unwrap();
    store
        .mm_scores()
        .set(45, a.user_id, 3460, 6, t0())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("backup.db");
    store.backup_to(&copy).await.unwrap();
    // The server keeps writing after the backup; the copy does not change.
    store
        .mm_scores()
        .set(45, a.user_id, 9999, 6, t0())
        .await
        .unwrap();
    store.close().await;

    let restored = Store::open(&format!("sqlite://{}", copy.display()))
        .await
        .unwrap();
    let score = restored
        .mm_scores()
        .get(45, a.user_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(score.points, 3460);
    assert_eq!(restored.mm_accounts().count().await.unwrap(), 1);
    restored.close().await;
}
