//! The dashboard's repositories on every configured backend.

use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::mmws::{MmSession, RaceInfo};
use crate::testing::databases;
use crate::Store;

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_336_721, 0).unwrap()
}

#[tokio::test]
async fn operators_passwords_and_sessions() {
    for db in databases().await {
        let store = Store::open(&db.url).await.unwrap();
        let accounts = store.admin_accounts();
        let alice = accounts
            .create("Alice", "correct horse", t0())
            .await
            .unwrap();
        assert!(matches!(
            accounts.create("alice", "correct horse", t0()).await,
            Err(AdminError::NameTaken(_))
        ));
        assert!(matches!(
            accounts.create("bob", "short", t0()).await,
            Err(AdminError::WeakPassword)
        ));
        assert!(matches!(
            accounts.create("b b", "long enough pw", t0()).await,
            Err(AdminError::InvalidName(_))
        ));
        let ok = accounts
            .check_password("ALICE", "correct horse")
            .await
            .unwrap();
        assert_eq!(ok.map(|a| a.admin_id), Some(alice.admin_id), "{}", db.label);
        assert!(accounts
            .check_password("alice", "wrong horse")
            .await
            .unwrap()
            .is_none());
        assert!(accounts
            .check_password("nobody", "correct horse")
            .await
            .unwrap()
            .is_none());

        let sessions = store.admin_sessions();
        sessions
            .start(
                "d1",
                alice.admin_id,
                "csrf1",
                "127.0.0.1",
                t0(),
                Duration::hours(8),
            )
            .await
            .unwrap();
        let idle = Duration::minutes(30);
        let s = sessions
            .use_session("d1", t0() + Duration::minutes(20), idle)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (s.admin_name.as_str(), s.csrf_token.as_str()),
            ("Alice", "csrf1")
        );
        // Used at +20 min, so still alive at +45 min...
        assert!(sessions
            .use_session("d1", t0() + Duration::minutes(45), idle)
            .await
            .unwrap()
            .is_some());
        // ...but not after 30 idle minutes.
        assert!(sessions
            .use_session("d1", t0() + Duration::minutes(76), idle)
            .await
            .unwrap()
            .is_none());
        assert!(sessions
            .use_session("nope", t0(), idle)
            .await
            .unwrap()
            .is_none());
        // Absolute expiry, however busy the session.
        sessions
            .start(
                "d2",
                alice.admin_id,
                "csrf2",
                "127.0.0.1",
                t0(),
                Duration::hours(1),
            )
            .await
            .unwrap();
        for m in [25, 50] {
            assert!(sessions
                .use_session("d2", t0() + Duration::minutes(m), idle)
                .await
                .unwrap()
                .is_some());
        }
        assert!(sessions
            .use_session("d2", t0() + Duration::minutes(61), idle)
            .await
            .unwrap()
            .is_none());
        // A new password ends every session of the operator.
        sessions
            .start(
                "d3",
                alice.admin_id,
                "csrf3",
                "127.0.0.1",
                t0(),
                Duration::hours(1),
            )
            .await
            .unwrap();
        assert!(accounts
            .set_password("alice", "another horse", t0())
            .await
            .unwrap());
        assert!(sessions
            .use_session("d3", t0(), idle)
            .await
            .unwrap()
            .is_none());
        assert!(!accounts
            .set_password("nobody", "another horse", t0())
            .await
            .unwrap());
        assert!(accounts
            .check_password("alice", "another horse")
            .await
            .unwrap()
            .is_some());
        sessions
            .start(
                "d4",
                alice.admin_id,
                "csrf4",
                "127.0.0.1",
                t0(),
                Duration::hours(1),
            )
            .await
            .unwrap();
        assert!(sessions.end("d4").await.unwrap());
        assert!(!sessions.end("d4").await.unwrap());
        store.close().await;
    }
}

#[tokio::test]
async fn failed_logins_block_until_the_window_passes() {
    for db in databases().await {
        let store = Store::open(&db.url).await.unwrap();
        let f = store.admin_login_failures();
        let window = Duration::minutes(15);
        for i in 0..4 {
            f.record(FailureScope::Name, "Alice", t0() + Duration::minutes(i))
                .await
                .unwrap();
        }
        let now = t0() + Duration::minutes(4);
        assert_eq!(
            f.blocked_until(FailureScope::Name, "alice", 5, window, now)
                .await
                .unwrap(),
            None,
            "{}",
            db.label
        );
        f.record(FailureScope::Name, "alice", now).await.unwrap();
        assert_eq!(
            f.blocked_until(FailureScope::Name, "ALICE", 5, window, now)
                .await
                .unwrap(),
            Some(t0() + window)
        );
        assert_eq!(
            f.blocked_until(FailureScope::Address, "alice", 5, window, now)
                .await
                .unwrap(),
            None,
            "scopes are apart"
        );
        // The first failure leaves the window: 4 left, free again.
        assert_eq!(
            f.blocked_until(FailureScope::Name, "alice", 5, window, t0() + window)
                .await
                .unwrap(),
            None
        );
        f.clear(FailureScope::Name, "alice").await.unwrap();
        assert_eq!(f.purge_before(t0() + window * 2).await.unwrap(), 0);
        store.close().await;
    }
}

#[tokio::test]
async fn audit_log_pages_newest_first() {
    for db in databases().await {
        let store = Store::open(&db.url).await.unwrap();
        let log = store.audit_log();
        for i in 0..5 {
            log.record(&NewAuditEntry {
                at: t0() + Duration::seconds(i),
                admin_name: "alice",
                action: "mmws.ban",
                target: if i % 2 == 0 { "mmws:1" } else { "mmws:2" },
                reason: "cheating",
                detail: &format!("n={i}"),
            })
            .await
            .unwrap();
        }
        let first = log.page(None, 3).await.unwrap();
        assert_eq!(
            first.iter().map(|e| e.detail.as_str()).collect::<Vec<_>>(),
            ["n=4", "n=3", "n=2"],
            "{}",
            db.label
        );
        let next = log.page(Some(first[2].audit_id), 3).await.unwrap();
        assert_eq!(
            next.iter().map(|e| e.detail.as_str()).collect::<Vec<_>>(),
            ["n=1", "n=0"]
        );
        assert_eq!(log.for_target("mmws:2", 10).await.unwrap().len(), 2);
        assert_eq!(first[0].at, t0() + Duration::seconds(4));
        store.close().await;
    }
}

#[tokio::test]
async fn bans_views_and_corrections() {
    for db in databases().await {
        let store = Store::open(&db.url).await.unwrap();
        let me = 76561198081105540u64;
        let other = 76561197960287930u64;
        let (a, _) = store
            .mm_accounts()
            .login(me, "Heatray", "t", t0())
            .await
            .unwrap();
        let (b, _) = store
            .mm_accounts()
            .login(other, "Other_50%", "t", t0())
            .await
            .unwrap();
        store
            .mm_accounts()
            .login(me, "Heatray2", "t", t0() + Duration::minutes(1))
            .await
            .unwrap();
        for (user, steam_id, digest) in
            [(a.user_id, a.steam_id, "da"), (b.user_id, b.steam_id, "db")]
        {
            store
                .mm_sessions()
                .start(
                    digest,
                    &MmSession {
                        user_id: user,
                        steam_id,
                        issued_at: t0(),
                        expires_at: t0() + Duration::hours(6),
                        config_hash: 1,
                    },
                    "10.0.0.1",
                )
                .await
                .unwrap();
        }
        let views = store.admin_views();
        let soon = t0() + Duration::minutes(5);
        assert_eq!(
            views
                .mm_online(soon - Duration::minutes(15), soon)
                .await
                .unwrap(),
            2,
            "{}",
            db.label
        );
        let later = t0() + Duration::hours(1);
        assert_eq!(
            views
                .mm_online(later - Duration::minutes(15), later)
                .await
                .unwrap(),
            0
        );

        // Searches: old name, id, Steam id, escaped wildcard.
        assert_eq!(views.mm_search("heatray", 10).await.unwrap(), [a.user_id]);
        assert_eq!(views.mm_search("RAY2", 10).await.unwrap(), [a.user_id]);
        assert_eq!(
            views.mm_search(&other.to_string(), 10).await.unwrap(),
            [b.user_id]
        );
        assert_eq!(
            views
                .mm_search(&a.user_facing_id.to_lowercase(), 10)
                .await
                .unwrap(),
            [a.user_id]
        );
        assert_eq!(views.mm_search("_50%", 10).await.unwrap(), [b.user_id]);
        assert!(
            views.mm_search("h%t", 10).await.unwrap().is_empty(),
            "literal %"
        );

        // A race, points, and what the pages show of them.
        let race = RaceInfo {
            race_key: "00000000000000AA".into(),
            session_id: 1,
            game_type: "Standard".into(),
            rule_set: "Race".into(),
            ranking: "Ranked".into(),
            network_version: 79,
            season_id: 45,
            created_at: soon,
        };
        store.mm_races().create(&race, &[me, other]).await.unwrap();
        assert_eq!(views.mm_races_since(t0()).await.unwrap(), 1);
        assert_eq!(
            views
                .mm_online(later - Duration::minutes(60), later)
                .await
                .unwrap(),
            2
        );
        let recent = views.mm_recent_races(10).await.unwrap();
        assert_eq!(recent.len(), 1);
        assert_eq!(recent[0].players.len(), 2);
        assert!(recent[0]
            .players
            .iter()
            .any(|p| p.name.as_deref() == Some("Heatray2") && p.user_id == Some(a.user_id)));
        assert_eq!(views.mm_race_count(me).await.unwrap(), 1);
        assert_eq!(
            views.mm_races_of(me, 10).await.unwrap()[0].race_key,
            race.race_key
        );

        store
            .mm_scores()
            .set(44, a.user_id, 900, 2, t0())
            .await
            .unwrap();
        store
            .mm_scores()
            .set(45, a.user_id, 300, 0, t0())
            .await
            .unwrap();
        store
            .mm_scores()
            .set(45, b.user_id, 100, 0, t0())
            .await
            .unwrap();
        let seasons = views.mm_seasons_of(a.user_id).await.unwrap();
        assert_eq!(
            seasons
                .iter()
                .map(|s| (s.season_id, s.points))
                .collect::<Vec<_>>(),
            [(45, 300), (44, 900)]
        );
        assert_eq!(
            views.mm_seasons().await.unwrap(),
            [
                SeasonBoard {
                    season_id: 45,
                    players: 2
                },
                SeasonBoard {
                    season_id: 44,
                    players: 1
                }
            ]
        );
        assert!(views.mm_delete_score(45, a.user_id).await.unwrap());
        assert!(!views.mm_delete_score(45, a.user_id).await.unwrap());
        assert!(views.mm_rename(b.user_id, "Renamed").await.unwrap());
        let shown = |store: Store, user_id: i64| async move {
            store
                .mm_accounts()
                .by_user_id(user_id)
                .await
                .unwrap()
                .unwrap()
                .display_name
        };
        assert_eq!(shown(store.clone(), b.user_id).await, "Renamed");
        // The operator's name wins over the Steam name of later logins...
        let (again, _) = store
            .mm_accounts()
            .login(other, "Other_51", "t", t0() + Duration::minutes(2))
            .await
            .unwrap();
        assert_eq!(again.display_name, "Renamed", "{}", db.label);
        assert_eq!(
            views.mm_name_override(b.user_id).await.unwrap().as_deref(),
            Some("Renamed")
        );
        // ...until cleared: then the last Steam name shows at once.
        assert!(views.mm_clear_rename(b.user_id).await.unwrap());
        assert!(!views.mm_clear_rename(b.user_id).await.unwrap());
        assert_eq!(shown(store.clone(), b.user_id).await, "Other_51");
        assert_eq!(views.mm_name_override(b.user_id).await.unwrap(), None);
        store
            .mm_accounts()
            .login(other, "Other_52", "t", t0() + Duration::minutes(3))
            .await
            .unwrap();
        assert_eq!(shown(store.clone(), b.user_id).await, "Other_52");

        // Seasons started early: one row per season, first press wins.
        let starts = store.mm_season_starts();
        let start = crate::mmws::SeasonStart {
            season_id: 46,
            starts_at: t0(),
            started_by: "alice".into(),
            reason: "broken season".into(),
        };
        assert!(starts.record(&start, t0()).await.unwrap());
        let second = crate::mmws::SeasonStart {
            started_by: "bob".into(),
            ..start.clone()
        };
        assert!(!starts.record(&second, t0()).await.unwrap());
        assert_eq!(starts.all().await.unwrap(), vec![start]);

        // Bans end the live session, lapse by themselves, lift by hand.
        let bans = store.mm_bans();
        bans.ban(
            me,
            "cheating",
            Some(soon + Duration::days(1)),
            "alice",
            soon,
        )
        .await
        .unwrap();
        assert!(store
            .mm_sessions()
            .find("da", soon)
            .await
            .unwrap()
            .is_none());
        assert!(store
            .mm_sessions()
            .find("db", soon)
            .await
            .unwrap()
            .is_some());
        let ban = bans.in_force(me, soon).await.unwrap().unwrap();
        assert_eq!(
            (ban.reason.as_str(), ban.banned_by.as_str()),
            ("cheating", "alice")
        );
        assert!(bans
            .in_force(me, soon + Duration::days(2))
            .await
            .unwrap()
            .is_none());
        assert_eq!(bans.list_in_force(soon, 10).await.unwrap().len(), 1);
        bans.ban(me, "again", None, "bob", soon).await.unwrap();
        assert!(bans
            .in_force(me, soon + Duration::days(400))
            .await
            .unwrap()
            .is_some());
        assert!(bans.unban(me).await.unwrap());
        assert!(!bans.unban(me).await.unwrap());
        assert!(bans.in_force(me, soon).await.unwrap().is_none());

        // Motor City search by name and persona.
        let acc = store
            .mco_accounts()
            .create("Driver", "pw", t0())
            .await
            .unwrap();
        assert_eq!(
            views.mco_search("driv", 10).await.unwrap(),
            [acc.customer_id]
        );
        assert_eq!(
            views
                .mco_search(&acc.customer_id.to_string(), 10)
                .await
                .unwrap(),
            [acc.customer_id]
        );
        assert!(views.mco_search("zzz", 10).await.unwrap().is_empty());
        store.close().await;
    }
}
