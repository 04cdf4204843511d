//! The Motor City Online repositories against real databases: SQLite
//! always, PostgreSQL when PITLANE_TEST_DATABASE_URL is set.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use pitlane_store::mco::{AccountError, FailureScope, PasswordCheck, PersonaError, ThrottleRule};
use pitlane_store::testing::databases;
use pitlane_store::Store;
use sqlx::Row;

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_336_721, 0).unwrap()
}

#[tokio::test]
async fn accounts_get_sequential_ids_and_names_unique_regardless_of_case() {
    for db in databases().await {
        let store = Store::open(&db.url).await.unwrap();
        let accounts = store.mco_accounts();
        let moo = accounts.create("Moo", "moo", t0()).await.unwrap();
        assert_eq!(moo.customer_id, 1, "{}", db.label);
        assert_eq!(moo.username, "Moo");
        assert_eq!(moo.created_at, t0());
        assert_eq!(moo.ban, None);
        assert_eq!(moo.last_login_at, None);

        let err = accounts.create("mOO", "x", t0()).await.unwrap_err();
        assert!(
            matches!(&err, AccountError::NameTaken(n) if n == "mOO"),
            "{}: {err}",
            db.label
        );
        assert!(err.to_string().contains("already exists"), "{err}");

        let other = accounts.create("other", "x", t0()).await.unwrap();
        assert_eq!(other.customer_id, 2, "the failed create used no id");
        assert_eq!(
            accounts.by_name("MOO").await.unwrap().unwrap().customer_id,
            1
        );
        assert_eq!(accounts.by_id(2).await.unwrap().unwrap().username, "other");
        assert_eq!(accounts.by_name("nobody").await.unwrap(), None);

        // Imported ids move the counter on both backends.
        let imported = accounts
            .create_with_id(5_551_212, "imported", "x", t0())
            .await
            .unwrap();
        assert_eq!(imported.customer_id, 5_551_212);
        let next = accounts.create("after", "x", t0()).await.unwrap();
        assert_eq!(next.customer_id, 5_551_213, "{}", db.label);
        assert!(matches!(
            accounts.create_with_id(5_551_212, "again", "x", t0()).await,
            Err(AccountError::IdTaken(5_551_212))
        ));
        assert!(matches!(
            accounts.create_with_id(0, "zero", "x", t0()).await,
            Err(AccountError::IdOutOfRange(0))
        ));
        assert!(matches!(
            accounts.create_with_id(1 << 32, "big", "x", t0()).await,
            Err(AccountError::IdOutOfRange(_))
        ));

        assert_eq!(accounts.count().await.unwrap(), 4);
        let page = accounts.list(1, 2).await.unwrap();
        assert_eq!(
            page.iter().map(|a| a.customer_id).collect::<Vec<_>>(),
            vec![2, 5_551_212]
        );
        store.close().await;
    }
}

#[tokio::test]
async fn concurrent_creations_get_distinct_ids_and_one_wins_a_name() {
    for db in databases().await {
        let store = Store::open(&db.url).await.unwrap();
        let mut tasks = Vec::new();
        for i in 0..6 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                // Three racers per name, two names.
                let name = if i % 2 == 0 { "Even" } else { "ODD" };
                store.mco_accounts().create(name, "pw", t0()).await
            }));
        }
        let mut ids = Vec::new();
        let mut taken = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(account) => ids.push(account.customer_id),
                Err(AccountError::NameTaken(_)) => taken += 1,
                Err(other) => panic!("{}: {other}", db.label),
            }
        }
        ids.sort();
        assert_eq!(ids.len(), 2, "{}", db.label);
        assert_ne!(ids[0], ids[1]);
        assert_eq!(taken, 4);
        assert_eq!(store.mco_accounts().count().await.unwrap(), 2);
        store.close().await;
    }
}

#[tokio::test]
async fn passwords_are_hashed_with_argon2_and_verified() {
    for db in databases().await {
        let store = Store::open(&db.url).await.unwrap();
        let accounts = store.mco_accounts();
        let account = accounts.create("Moo", "S3cret+pw", t0()).await.unwrap();

        let row = sqlx::query("SELECT password_hash FROM mco_accounts WHERE customer_id = $1")
            .bind(account.customer_id)
            .fetch_one(store.pool())
            .await
            .unwrap();
        let hash: String = row.try_get("password_hash").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains("S3cret"));

        assert_eq!(
            accounts.check_password("moo", "S3cret+pw").await.unwrap(),
            PasswordCheck::Correct(account.clone()),
            "{}: names match case-insensitively",
            db.label
        );
        assert_eq!(
            accounts.check_password("Moo", "s3cret+pw").await.unwrap(),
            PasswordCheck::WrongPassword(account.clone()),
            "passwords are case-sensitive"
        );
        assert_eq!(
            accounts
                .check_password("nobody", "S3cret+pw")
                .await
                .unwrap(),
            PasswordCheck::UnknownAccount
        );

        assert!(accounts
            .set_password(account.customer_id, "new one")
            .await
            .unwrap());
        assert!(matches!(
            accounts.check_password("Moo", "new one").await.unwrap(),
            PasswordCheck::Correct(_)
        ));
        assert!(matches!(
            accounts.check_password("Moo", "S3cret+pw").await.unwrap(),
            PasswordCheck::WrongPassword(_)
        ));
        assert!(!accounts.set_password(999, "x").await.unwrap());

        accounts
            .record_login(account.customer_id, t0() + Duration::minutes(1))
            .await
            .unwrap();
        assert_eq!(
            accounts
                .by_id(account.customer_id)
                .await
                .unwrap()
                .unwrap()
                .last_login_at,
            Some(t0() + Duration::minutes(1))
        );
        store.close().await;
    }
}

#[tokio::test]
async fn bans_lapse_on_time_and_end_the_session_and_tickets() {
    for db in databases().await {
        let store = Store::open(&db.url).await.unwrap();
        let accounts = store.mco_accounts();
        let a = accounts.create("Moo", "pw", t0()).await.unwrap();
        store
            .mco_tickets()
            .issue(
                "ticket-1",
                a.customer_id,
                "10.0.0.1",
                t0(),
                t0() + Duration::minutes(5),
            )
            .await
            .unwrap();
        store
            .mco_sessions()
            .start(a.customer_id, &[7; 32], 0, t0(), t0() + Duration::hours(6))
            .await
            .unwrap();

        let until = t0() + Duration::days(1);
        assert!(accounts
            .ban(a.customer_id, "griefing", Some(until), t0())
            .await
            .unwrap());
        let banned = accounts.by_id(a.customer_id).await.unwrap().unwrap();
        let ban = banned.ban.clone().unwrap();
        assert_eq!(ban.reason, "griefing");
        assert_eq!(ban.since, t0());
        assert_eq!(ban.until, Some(until), "{}", db.label);
        assert!(banned.is_banned(t0()));
        assert!(!banned.is_banned(until), "timed bans lapse");
        assert_eq!(
            store.mco_tickets().redeem("ticket-1", t0()).await.unwrap(),
            None
        );
        assert_eq!(
            store
                .mco_sessions()
                .live(a.customer_id, t0())
                .await
                .unwrap(),
            None
        );

        assert!(accounts
            .ban(a.customer_id, "for good", None, t0())
            .await
            .unwrap());
        assert!(accounts
            .by_id(a.customer_id)
            .await
            .unwrap()
            .unwrap()
            .is_banned(t0() + Duration::days(10_000)));
        assert!(accounts.unban(a.customer_id).await.unwrap());
        let lifted = accounts.by_id(a.customer_id).await.unwrap().unwrap();
        assert_eq!(lifted.ban, None);
        assert!(!accounts.ban(999, "x", None, t0()).await.unwrap());
        store.close().await;
    }
}

#[tokio::test]
async fn a_ticket_works_once_even_with_concurrent_redeemers() {
    for db in databases().await {
        let store = Store::open(&db.url).await.unwrap();
        let a = store
            .mco_accounts()
            .create("Moo", "pw", t0())
            .await
            .unwrap();
        let ticket = "d316cd2dd6bf870893dfbaaf17f965884e";
        store
            .mco_tickets()
            .issue(
                ticket,
                a.customer_id,
                "10.0.0.1",
                t0(),
                t0() + Duration::minutes(5),
            )
            .await
            .unwrap();

        // Only a digest is stored.
        let row = sqlx::query("SELECT ticket_digest FROM mco_tickets")
            .fetch_one(store.pool())
            .await
            .unwrap();
        let digest: String = row.try_get("ticket_digest").unwrap();
        assert_ne!(digest, ticket);
        assert_eq!(digest.len(), 64);

        let mut tasks = Vec::new();
        for _ in 0..8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store.mco_tickets().redeem(ticket, t0()).await.unwrap()
            }));
        }
        let mut winners = Vec::new();
        for t in tasks {
            if let Some(customer) = t.await.unwrap() {
                winners.push(customer);
            }
        }
        assert_eq!(winners, vec![a.customer_id], "{}", db.label);
        assert_eq!(
            store.mco_tickets().redeem(ticket, t0()).await.unwrap(),
            None
        );
        assert_eq!(
            store
                .mco_tickets()
                .redeem("never issued", t0())
                .await
                .unwrap(),
            None
        );
        store.close().await;
    }
}

#[tokio::test]
async fn tickets_expire_and_are_purged() {
    for db in databases().await {
        let store = Store::open(&db.url).await.unwrap();
        let a = store
            .mco_accounts()
            .create("Moo", "pw", t0())
            .await
            .unwrap();
        let tickets = store.mco_tickets();
        let expiry = t0() + Duration::minutes(5);
        tickets
            .issue("a", a.customer_id, "::1", t0(), expiry)
            .await
            .unwrap();
        tickets
            .issue("b", a.customer_id, "::1", t0(), expiry)
            .await
            .unwrap();
        tickets
            .issue("c", a.customer_id, "::1", t0(), expiry)
            .await
            .unwrap();
        assert_eq!(
            tickets
                .redeem("a", expiry - Duration::milliseconds(1))
                .await
                .unwrap(),
            Some(a.customer_id)
        );
        assert_eq!(
            tickets.redeem("b", expiry).await.unwrap(),
            None,
            "{}",
            db.label
        );
        // A new ticket clears the account's expired ones.
        tickets
            .issue(
                "d",
                a.customer_id,
                "::1",
                expiry,
                expiry + Duration::minutes(5),
            )
            .await
            .unwrap();
        assert_eq!(tickets.redeem("c", t0()).await.unwrap(), None);
        assert_eq!(
            tickets
                .purge_expired(expiry + Duration::minutes(5))
                .await
                .unwrap(),
            1
        );
        store.close().await;
    }
}

#[tokio::test]
async fn sessions_keep_the_key_and_the_chosen_persona() {
    for db in databases().await {
        let store = Store::open(&db.url).await.unwrap();
        let a = store
            .mco_accounts()
            .create("Moo", "pw", t0())
            .await
            .unwrap();
        let b = store
            .mco_accounts()
            .create("Other", "pw", t0())
            .await
            .unwrap();
        let personas = store.mco_personas();
        let mine = personas
            .create(a.customer_id, 44, "Dr Brown", 2, t0())
            .await
            .unwrap();
        let theirs = personas
            .create(b.customer_id, 44, "Morty Dr", 2, t0())
            .await
            .unwrap();

        let sessions = store.mco_sessions();
        let key: Vec<u8> = (0u8..32).collect();
        let expires = t0() + Duration::hours(6);
        // No session yet: nothing can be selected.
        assert!(!sessions
            .select_persona(a.customer_id, mine.persona_id, 44, t0())
            .await
            .unwrap());
        assert_eq!(
            personas
                .by_id(mine.persona_id)
                .await
                .unwrap()
                .unwrap()
                .last_selected_at,
            None,
            "a refused selection changes nothing"
        );
        sessions
            .start(a.customer_id, &key, 0, t0(), expires)
            .await
            .unwrap();
        let live = sessions.live(a.customer_id, t0()).await.unwrap().unwrap();
        assert_eq!(live.session_key, key, "{}", db.label);
        assert_eq!(live.key_expiry, 0);
        assert_eq!(live.started_at, t0());
        assert_eq!(live.expires_at, expires);
        assert_eq!(live.persona_id, None);
        assert!(!format!("{live:?}").contains("session_key: ["));

        // Only the customer's own persona, on its own shard.
        assert!(!sessions
            .select_persona(a.customer_id, theirs.persona_id, 44, t0())
            .await
            .unwrap());
        assert!(!sessions
            .select_persona(a.customer_id, mine.persona_id, 45, t0())
            .await
            .unwrap());
        assert!(sessions
            .select_persona(a.customer_id, mine.persona_id, 44, t0())
            .await
            .unwrap());
        let live = sessions.live(a.customer_id, t0()).await.unwrap().unwrap();
        assert_eq!(
            (live.persona_id, live.shard_id),
            (Some(mine.persona_id), Some(44))
        );
        assert_eq!(
            personas
                .by_id(mine.persona_id)
                .await
                .unwrap()
                .unwrap()
                .last_selected_at,
            Some(t0())
        );
        let found = sessions
            .by_persona(mine.persona_id, t0())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.customer_id, a.customer_id);
        assert_eq!(found.session_key, key);
        assert_eq!(sessions.count_live(None, t0()).await.unwrap(), 1);
        assert_eq!(sessions.count_live(Some(44), t0()).await.unwrap(), 1);
        assert_eq!(sessions.count_live(Some(45), t0()).await.unwrap(), 0);

        // A new login replaces the key and forgets the choice.
        sessions
            .start(a.customer_id, &[9; 32], 7, t0(), expires)
            .await
            .unwrap();
        let live = sessions.live(a.customer_id, t0()).await.unwrap().unwrap();
        assert_eq!(live.session_key, vec![9; 32]);
        assert_eq!(live.key_expiry, 7);
        assert_eq!(live.persona_id, None);
        assert_eq!(
            sessions.by_persona(mine.persona_id, t0()).await.unwrap(),
            None
        );

        // Expiry.
        assert_eq!(sessions.live(a.customer_id, expires).await.unwrap(), None);
        assert!(!sessions
            .select_persona(a.customer_id, mine.persona_id, 44, expires)
            .await
            .unwrap());
        assert_eq!(sessions.count_live(None, expires).await.unwrap(), 0);
        assert_eq!(sessions.purge_expired(expires).await.unwrap(), 1);
        assert!(!sessions.end(a.customer_id).await.unwrap());
        store.close().await;
    }
}

#[tokio::test]
async fn persona_names_are_unique_across_accounts_regardless_of_case() {
    for db in databases().await {
        let store = Store::open(&db.url).await.unwrap();
        let a = store
            .mco_accounts()
            .create("Moo", "pw", t0())
            .await
            .unwrap();
        let b = store
            .mco_accounts()
            .create("Other", "pw", t0())
            .await
            .unwrap();
        let personas = store.mco_personas();
        let first = personas
            .create(a.customer_id, 44, "Dr Brown", 3, t0())
            .await
            .unwrap();
        assert_eq!(first.persona_id, 1);
        assert_eq!(first.name, "Dr Brown");
        assert_eq!(first.shard_id, 44);
        assert!(
            personas.name_taken("DR BROWN").await.unwrap(),
            "{}",
            db.label
        );
        assert!(!personas.name_taken("Dr Green").await.unwrap());
        let err = personas
            .create(b.customer_id, 44, "dr brown", 3, t0())
            .await
            .unwrap_err();
        assert!(
            matches!(err, PersonaError::NameTaken(_)),
            "{}: {err}",
            db.label
        );

        let imported = personas
            .create_with_id(8_675_309, a.customer_id, 44, "Jenny", 3, t0())
            .await
            .unwrap();
        assert_eq!(imported.persona_id, 8_675_309);
        let next = personas
            .create(b.customer_id, 44, "Morty Dr", 3, t0())
            .await
            .unwrap();
        assert_eq!(next.persona_id, 8_675_310, "{}", db.label);
        assert!(matches!(
            personas
                .create_with_id(8_675_309, b.customer_id, 44, "Dup", 3, t0())
                .await,
            Err(PersonaError::IdTaken(8_675_309))
        ));
        assert!(matches!(
            personas.create(999, 44, "Ghost", 3, t0()).await,
            Err(PersonaError::NoSuchAccount(999))
        ));

        let listed = personas.list(a.customer_id).await.unwrap();
        assert_eq!(
            listed.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            vec!["Dr Brown", "Jenny"]
        );
        assert!(!personas
            .delete(b.customer_id, first.persona_id)
            .await
            .unwrap());
        assert!(personas
            .delete(a.customer_id, first.persona_id)
            .await
            .unwrap());
        assert!(!personas.name_taken("Dr Brown").await.unwrap());
        store.close().await;
    }
}

#[tokio::test]
async fn the_persona_limit_holds_under_concurrent_creation() {
    for db in databases().await {
        let store = Store::open(&db.url).await.unwrap();
        let a = store
            .mco_accounts()
            .create("Moo", "pw", t0())
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for i in 0..6 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .mco_personas()
                    .create(a.customer_id, 44, &format!("Driver {i}"), 2, t0())
                    .await
            }));
        }
        let (mut made, mut refused) = (0, 0);
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => made += 1,
                Err(PersonaError::TooMany { max: 2 }) => refused += 1,
                Err(other) => panic!("{}: {other}", db.label),
            }
        }
        assert_eq!((made, refused), (2, 4), "{}", db.label);
        assert_eq!(
            store
                .mco_personas()
                .list(a.customer_id)
                .await
                .unwrap()
                .len(),
            2
        );
        store.close().await;
    }
}

#[tokio::test]
async fn failures_block_after_the_limit_until_the_lockout_ends() {
    for db in databases().await {
        let store = Store::open(&db.url).await.unwrap();
        let failures = store.mco_login_failures();
        let rule = ThrottleRule {
            max_failures: 3,
            window: StdDuration::from_secs(300),
            lockout: StdDuration::from_secs(900),
        };
        let scope = FailureScope::Account;
        for i in 0..2 {
            failures
                .record(scope, "moo", t0() + Duration::seconds(i))
                .await
                .unwrap();
        }
        assert_eq!(
            failures
                .blocked_until(scope, "moo", &rule, t0())
                .await
                .unwrap(),
            None
        );
        failures
            .record(scope, "moo", t0() + Duration::seconds(2))
            .await
            .unwrap();
        let until = t0() + Duration::seconds(2) + Duration::seconds(900);
        assert_eq!(
            failures
                .blocked_until(scope, "moo", &rule, t0() + Duration::seconds(3))
                .await
                .unwrap(),
            Some(until),
            "{}",
            db.label
        );
        // Other subjects and scopes are unaffected.
        assert_eq!(
            failures
                .blocked_until(scope, "other", &rule, t0())
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            failures
                .blocked_until(FailureScope::Address, "moo", &rule, t0())
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            failures
                .blocked_until(scope, "moo", &rule, until)
                .await
                .unwrap(),
            None,
            "lockout over"
        );
        // Failures spread wider than the window do not block.
        failures.record(scope, "slow", t0()).await.unwrap();
        failures
            .record(scope, "slow", t0() + Duration::seconds(200))
            .await
            .unwrap();
        failures
            .record(scope, "slow", t0() + Duration::seconds(400))
            .await
            .unwrap();
        assert_eq!(
            failures
                .blocked_until(scope, "slow", &rule, t0() + Duration::seconds(401))
                .await
                .unwrap(),
            None
        );
        let off = ThrottleRule {
            max_failures: 0,
            ..rule
        };
        assert_eq!(
            failures
                .blocked_until(scope, "moo", &off, t0())
                .await
                .unwrap(),
            None
        );

        assert_eq!(failures.clear(scope, "moo").await.unwrap(), 3);
        assert_eq!(
            failures
                .purge_before(t0() + Duration::seconds(300))
                .await
                .unwrap(),
            2
        );
        store.close().await;
    }
}

#[tokio::test]
async fn deleting_an_account_takes_its_personas_sessions_and_tickets() {
    for db in databases().await {
        let store = Store::open(&db.url).await.unwrap();
        let a = store
            .mco_accounts()
            .create("Moo", "pw", t0())
            .await
            .unwrap();
        store
            .mco_personas()
            .create(a.customer_id, 44, "Dr Brown", 2, t0())
            .await
            .unwrap();
        store
            .mco_sessions()
            .start(a.customer_id, &[1; 32], 0, t0(), t0() + Duration::hours(1))
            .await
            .unwrap();
        store
            .mco_tickets()
            .issue("t", a.customer_id, "::1", t0(), t0() + Duration::minutes(5))
            .await
            .unwrap();
        assert!(store.mco_accounts().delete(a.customer_id).await.unwrap());
        assert!(!store.mco_personas().name_taken("Dr Brown").await.unwrap());
        assert_eq!(
            store.mco_sessions().count_live(None, t0()).await.unwrap(),
            0
        );
        assert_eq!(store.mco_tickets().redeem("t", t0()).await.unwrap(), None);
        assert!(!store.mco_accounts().delete(a.customer_id).await.unwrap());
        store.close().await;
    }
}

#[tokio::test]
async fn mco_data_survives_reopening() {
    for db in databases().await {
        let store = Store::open(&db.url).await.unwrap();
        let a = store
            .mco_accounts()
            .create("Moo", "pw", t0())
            .await
            .unwrap();
        let p = store
            .mco_personas()
            .create(a.customer_id, 44, "Dr Brown", 2, t0())
            .await
            .unwrap();
        store
            .mco_sessions()
            .start(a.customer_id, &[5; 32], 0, t0(), t0() + Duration::hours(6))
            .await
            .unwrap();
        store
            .mco_tickets()
            .issue(
                "keep",
                a.customer_id,
                "::1",
                t0(),
                t0() + Duration::minutes(5),
            )
            .await
            .unwrap();
        store.close().await;

        let store = Store::open(&db.url).await.unwrap();
        assert!(matches!(
            store
                .mco_accounts()
                .check_password("MOO", "pw")
                .await
                .unwrap(),
            PasswordCheck::Correct(_)
        ));
        assert_eq!(
            store.mco_personas().list(a.customer_id).await.unwrap(),
            vec![p]
        );
        assert_eq!(
            store
                .mco_sessions()
                .live(a.customer_id, t0())
                .await
                .unwrap()
                .unwrap()
                .session_key,
            vec![5; 32],
            "{}",
            db.label
        );
        assert_eq!(
            store.mco_tickets().redeem("keep", t0()).await.unwrap(),
            Some(a.customer_id)
        );
        let next = store
            .mco_accounts()
            .create("Next", "pw", t0())
            .await
            .unwrap();
        assert_eq!(next.customer_id, a.customer_id + 1);
        store.close().await;
    }
}
