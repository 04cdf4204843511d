//! Issue #10's Motor City settings, each shown changing what a client gets
//! (and the default shown beside it): lobby channels and encrypted lobby
//! replies, MCOTS tunables, game URLs and race lobbies, starting money and
//! the deal of the day, dealer stock refresh, shard description, population
//! cap, personas per account, and how long AuthLogin remembers a verified
//! password.

mod common;
mod mco_support;

use chrono::TimeDelta;
use common::{capture_time, metric_value, scrape, test_config, TestServer};
use mco_support::{ask, lobby, log_in, mcots, ticket};
use motorcity::catalogue::{self, StockRules};
use motorcity::http::AuthLoginResponse;
use motorcity::mcots::messages::{self, no};
use motorcity::wire::lobby::ids;
use motorcity::ShardId;
use pitlane_core::config::{McoChannel, McoGameUrl, McoLobby, MotorCitySettings};
use pitlane_core::{Clock, ManualClock};
use pitlane_sim::mco::{self as sim, PersonaCreation};
use pitlane_store::testing::{databases, TestDatabase};

/// A server on a fresh database of `db`'s kind (so a test can compare a
/// default server with a configured one on each backend), with its
/// `[motorcity]` settings changed by `change`. Keep the database alive as
/// long as the server.
async fn start(
    db: &TestDatabase,
    change: impl FnOnce(&mut MotorCitySettings),
) -> (TestServer, TestDatabase) {
    start_on(db, false, capture_time(), change).await
}

/// [`start`] with HTTPS on or off, its clock starting at `now`.
async fn start_on(
    db: &TestDatabase,
    https: bool,
    now: chrono::DateTime<chrono::Utc>,
    change: impl FnOnce(&mut MotorCitySettings),
) -> (TestServer, TestDatabase) {
    let fresh = if db.url.starts_with("sqlite") {
        TestDatabase::sqlite()
    } else {
        TestDatabase::postgres().await.unwrap()
    };
    let data_dir = tempfile::tempdir().unwrap();
    let mut config = test_config(&fresh, data_dir.path());
    config.tls.enabled = https;
    change(&mut config.motorcity);
    let t = TestServer::start_with(config, data_dir, ManualClock::new(now)).await;
    (t, fresh)
}

async fn shard_list(t: &TestServer) -> String {
    let request = http::Request::builder()
        .uri("/ShardList/")
        .header("Host", "mco.example")
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    pitlane_sim::http::send(
        t.server.listening.mmws_http,
        request,
        std::time::Duration::from_secs(5),
    )
    .await
    .unwrap()
    .text()
}

/// Like [`start`], with HTTPS on, as AuthLogin needs. Certificates are dated
/// by the server's clock and TLS clients check them against the real one.
async fn start_tls(
    db: &TestDatabase,
    change: impl FnOnce(&mut MotorCitySettings),
) -> (TestServer, TestDatabase) {
    start_on(db, true, chrono::Utc::now(), change).await
}

/// AuthLogin over HTTPS, as the game sends it, trusting only the server's CA.
async fn auth_login_https(t: &TestServer, user: &str, password: &str) -> AuthLoginResponse {
    let connector =
        pitlane_sim::tls::TrustingClient::from_ca_pem_file(&t.data_dir.path().join("certs/ca.pem"))
            .unwrap();
    let tls = sim::TlsMode::Tls {
        server_name: "localhost".into(),
        connector: std::sync::Arc::new(connector),
    };
    sim::auth_login(t.server.listening.https.unwrap(), tls, user, password)
        .await
        .unwrap()
}

/// `pitlane_mco_password_checks_total` from `/metrics` on the admin
/// listener: (cache, argon2).
async fn password_checks_metric(t: &TestServer) -> (f64, f64) {
    let text = scrape(t.server.listening.web.expect("the admin listener")).await;
    let value = |via: &str| -> f64 {
        let series = format!("pitlane_mco_password_checks_total{{via=\"{via}\"}}");
        metric_value(&text, &series).unwrap_or_else(|| panic!("no {series} in\n{text}"))
    };
    (value("cache"), value("argon2"))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

#[tokio::test]
async fn lobby_channels_and_encrypted_replies_come_from_the_config() {
    for db in databases().await {
        // Defaults: the community's two channels, replies in clear.
        let (t, _db) = start(&db, |_| {}).await;
        let alice = log_in(&t, "alice", "Alice").await;
        let mut a = lobby(&t, &alice).await;
        let names: Vec<String> = a
            .channels()
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(names, ["LOBBY", "MCCHAT"], "{}", db.label);
        assert!(a.join(2).await.unwrap());
        assert_eq!(a.encrypted_replies, 0);
        drop(a);
        t.server.shutdown().await;

        // One small channel of the operator's, its list reply encrypted.
        let (t, _db) = start(&db, |mc| {
            mc.channels = vec![McoChannel {
                id: 7,
                name: "DRAGSTRIP".into(),
                capacity: 1,
            }];
            mc.encrypted_lobby_replies = vec![ids::RIFF_LIST];
        })
        .await;
        let alice = log_in(&t, "alice", "Alice").await;
        let bob = log_in(&t, "bob", "Bobby").await;
        let mut a = lobby(&t, &alice).await;
        let mut b = lobby(&t, &bob).await;
        let channels = a.channels().await.unwrap();
        assert_eq!(channels.len(), 1);
        assert_eq!(
            (channels[0].id, channels[0].name.as_str()),
            (7, "DRAGSTRIP")
        );
        assert_eq!(a.encrypted_replies, 1, "the list came inside 0x1101");
        assert!(!a.join(2).await.unwrap(), "LOBBY is not offered");
        assert_eq!(a.encrypted_replies, 1, "other replies stay clear");
        assert!(a.join(7).await.unwrap());
        assert!(!b.join(7).await.unwrap(), "capacity 1 is full");
        drop((a, b));
        t.server.shutdown().await;
    }
}

#[tokio::test]
async fn mcots_tunables_game_urls_and_race_lobbies_come_from_the_config() {
    for db in databases().await {
        let (t, _db) = start(&db, |_| {}).await;
        let p = log_in(&t, "alice", "Alice").await;
        let mut c = mcots(&t, &p).await;
        let tunables = ask(&mut c, no::MC_GET_MCO_TUNABLES, 0, 1).await.remove(0);
        assert_eq!(u32_at(&tunables, 2), 10_000, "default club creation cost");
        let urls = ask(&mut c, no::MC_GET_GAME_URLS, 0, 1).await.remove(0);
        assert_eq!(messages::msg_no(&urls).unwrap(), no::MC_GAME_URLS);
        assert_eq!(&urls[2..4], &[0, 0], "no URLs by default");
        let lobbies = ask(&mut c, no::MC_GET_LOBBIES, 0, 2).await;
        assert_eq!(messages::parse_lobby_count(&lobbies[0]).unwrap(), 1);
        drop(c);
        t.server.shutdown().await;

        let (t, _db) = start(&db, |mc| {
            mc.tunables.club_creation_cost = 77_777;
            mc.tunables.trade_in_mod = 0.5;
            mc.game_urls = vec![McoGameUrl {
                id: 3,
                url: "http://news.example/mco".into(),
            }];
            mc.lobbies = vec![
                McoLobby {
                    id: 1,
                    name: "Sunday cruise".into(),
                },
                McoLobby {
                    id: 2,
                    name: "Drag night".into(),
                },
            ];
        })
        .await;
        let p = log_in(&t, "alice", "Alice").await;
        let mut c = mcots(&t, &p).await;
        let tunables = ask(&mut c, no::MC_GET_MCO_TUNABLES, 0, 1).await.remove(0);
        assert_eq!(u32_at(&tunables, 2), 77_777, "{}", db.label);
        // 7 u32, 2 f64, 7 u32, then the trade-in modifier.
        let at = 2 + 7 * 4 + 2 * 8 + 7 * 4;
        assert_eq!(
            f64::from_le_bytes(tunables[at..at + 8].try_into().unwrap()),
            0.5
        );
        let urls = ask(&mut c, no::MC_GET_GAME_URLS, 0, 1).await.remove(0);
        assert_eq!(&urls[2..4], &[1, 0]);
        assert_eq!(u32_at(&urls, 5), 3);
        assert_eq!(&urls[11..], b"http://news.example/mco");
        let lobbies = ask(&mut c, no::MC_GET_LOBBIES, 0, 2).await;
        assert_eq!(messages::parse_lobby_count(&lobbies[0]).unwrap(), 2);
        let first = &lobbies[0][5..5 + messages::LOBBY_INFO_LEN];
        assert_eq!(&first[12..12 + 13], b"Sunday cruise");
        drop(c);
        t.server.shutdown().await;
    }
}

#[tokio::test]
async fn starting_money_and_the_deal_of_the_day_come_from_the_config() {
    for db in databases().await {
        for (money, percent) in [(None, None), (Some(5_000), Some(50))] {
            let (t, _db) = start(&db, |mc| {
                if let Some(m) = money {
                    mc.starting_money = m;
                }
                if let Some(p) = percent {
                    mc.deal_percent_off = p;
                }
            })
            .await;
            let p = log_in(&t, "alice", "Alice").await;
            let mut c = mcots(&t, &p).await;
            let info =
                messages::PlayerInfo::parse(&c.generic(no::MC_GET_PLAYER_INFO, 0).await.unwrap())
                    .unwrap();
            assert_eq!(info.bank, money.unwrap_or(25_000), "{}", db.label);
            let garage = t.server.store().mco_garage();
            let stored = garage.player(i64::from(p.persona.0)).await.unwrap();
            assert_eq!(stored.unwrap().bank, i64::from(money.unwrap_or(25_000)));
            let stock =
                messages::StockCarInfo::parse(&c.generic(no::MC_STOCK_CAR_INFO, 8).await.unwrap())
                    .unwrap();
            assert_eq!(stock.starter_cash, money.unwrap_or(25_000));
            let deals: Vec<_> = stock.cars.iter().filter(|c| c.2).collect();
            assert_eq!(deals.len(), 1);
            let list = t
                .server
                .store()
                .mco_catalogue()
                .stock_car(i64::from(deals[0].0))
                .await
                .unwrap()
                .unwrap()
                .retail_price;
            let off = i64::from(percent.unwrap_or(10));
            assert_eq!(i64::from(deals[0].1), list - list * off / 100);
            drop(c);
            t.server.shutdown().await;
        }
    }
}

#[tokio::test]
async fn dealer_stock_is_stored_and_refreshes_as_configured() {
    for db in databases().await {
        for hours in [24, 1] {
            let (t, _db) = start(&db, |mc| mc.dealer_refresh_hours = hours).await;
            let p = log_in(&t, "alice", "Alice").await;
            let mut c = mcots(&t, &p).await;
            let cars = |reply: Vec<u8>| messages::StockCarInfo::parse(&reply).unwrap().cars;
            let before = cars(c.generic(no::MC_STOCK_CAR_INFO, 8).await.unwrap());
            assert_eq!(before.len(), t.config.motorcity.dealer_stock_size);
            // The stock the client saw is the stored one.
            let rules = StockRules {
                refresh: std::time::Duration::from_secs(hours * 3600),
                size: 12,
                deal_percent_off: 10,
            };
            let period = catalogue::period(t.clock.now(), rules.refresh);
            let stored = t
                .server
                .store()
                .mco_catalogue()
                .dealer_stock(8, period)
                .await
                .unwrap();
            let stored: Vec<(u32, u32, bool)> = stored
                .iter()
                .map(|o| (o.branded_part_id as u32, o.price as u32, o.deal_of_the_day))
                .collect();
            assert_eq!(stored, before, "{}", db.label);

            t.clock.advance(TimeDelta::hours(2));
            let after = cars(c.generic(no::MC_STOCK_CAR_INFO, 8).await.unwrap());
            let catalogue = t.server.store().mco_catalogue();
            if hours == 24 {
                // 19:45 + 2 h is the same UTC day.
                assert_eq!(after, before, "daily stock holds within the day");
            } else {
                assert_ne!(after, before, "hourly stock changed after two hours");
                // The stock two periods back is gone, the new one stored.
                assert!(catalogue.dealer_stock(8, period).await.unwrap().is_empty());
                assert_eq!(
                    catalogue.dealer_stock(8, period + 2).await.unwrap().len(),
                    after.len()
                );
            }
            drop(c);
            t.server.shutdown().await;
        }
    }
}

#[tokio::test]
async fn shard_description_and_population_cap() {
    for db in databases().await {
        // Defaults: the name as description, no cap.
        let (t, _db) = start(&db, |_| {}).await;
        let list = shard_list(&t).await;
        assert!(list.contains("\tDescription=Pitlane\n"), "{list}");
        log_in(&t, "alice", "Alice").await;
        log_in(&t, "bob", "Bobby").await;
        let list = shard_list(&t).await;
        assert!(list.contains("Population=2"), "{list}");
        assert!(list.contains("Status_Reason=\n"), "{list}");
        t.server.shutdown().await;

        let (t, _db) = start(&db, |mc| {
            mc.shard_description = "Welcome back, racers".into();
            mc.population_cap = 1;
        })
        .await;
        let list = shard_list(&t).await;
        assert!(
            list.contains("\tDescription=Welcome back, racers\n"),
            "{list}"
        );
        assert!(list.contains("Status_Reason=\n"), "{list}");
        log_in(&t, "alice", "Alice").await;
        let list = shard_list(&t).await;
        assert!(list.contains("Population=1"), "{list}");
        assert!(list.contains("Status_Reason=Full\n"), "{list}");
        let directory = &t.server.mco().unwrap().directory;
        directory.create_account("bob", "pw").await.unwrap();
        let refused = directory
            .auth_login("bob", "pw", "127.0.0.1".parse().unwrap())
            .await;
        match refused {
            AuthLoginResponse::Invalid(f) => assert!(f.text.contains("full"), "{f:?}"),
            other => panic!("a full shard let a new player in: {other:?}"),
        }
        // A player already logged in may come back (after a crash).
        assert!(matches!(
            directory
                .auth_login("alice", "pw", "127.0.0.1".parse().unwrap())
                .await,
            AuthLoginResponse::Valid { .. }
        ));
        t.server.shutdown().await;
    }
}

#[tokio::test]
async fn personas_per_account_follow_the_config() {
    for db in databases().await {
        for (max, third) in [(None, false), (Some(3), true)] {
            let (t, _db) = start(&db, |mc| {
                if let Some(m) = max {
                    mc.max_personas_per_user = m;
                }
            })
            .await;
            let list = shard_list(&t).await;
            assert!(
                list.contains(&format!("MaxPersonasPerUser={}\n", max.unwrap_or(2))),
                "{list}"
            );
            let ticket = ticket(&t, "alice").await;
            let l = t.server.listening;
            let key = motorcity::SessionKey::generate();
            let customer = sim::login_with_key(
                l.mco_login.unwrap(),
                &mco_support::pub_key(&t),
                &ticket,
                &key,
            )
            .await
            .unwrap();
            let persona = l.mco_persona.unwrap();
            for name in ["One", "Two"] {
                let made = sim::create_persona(persona, customer, ShardId(44), name).await;
                assert!(matches!(made.unwrap(), PersonaCreation::Created));
            }
            let made = sim::create_persona(persona, customer, ShardId(44), "Three")
                .await
                .unwrap();
            if third {
                assert!(matches!(made, PersonaCreation::Created), "{}", db.label);
            } else {
                assert!(
                    matches!(made, PersonaCreation::LimitReached),
                    "{}",
                    db.label
                );
            }
            let stored = t
                .server
                .store()
                .mco_personas()
                .list(i64::from(customer.0))
                .await
                .unwrap();
            assert_eq!(stored.len(), if third { 3 } else { 2 });
            t.server.shutdown().await;
        }
    }
}

#[tokio::test]
async fn verified_passwords_are_remembered_for_password_cache_secs() {
    for db in databases().await {
        // The default (600 s) and 0, which turns the cache off.
        for secs in [None, Some(0)] {
            let (t, _db) = start_tls(&db, |mc| {
                if let Some(s) = secs {
                    mc.password_cache_secs = s;
                }
            })
            .await;
            let cached = secs.is_none();
            let label = format!("{} password_cache_secs={secs:?}", db.label);
            let directory = t.server.mco().unwrap().directory.clone();
            let alice = directory.create_account("alice", "s3cret").await.unwrap();
            let valid = |r: &AuthLoginResponse| matches!(r, AuthLoginResponse::Valid { .. });
            let metric_before = password_checks_metric(&t).await;

            // Two launches of the game: argon2 once, then the cache (or
            // argon2 twice with the cache off).
            for _ in 0..2 {
                let answer = auth_login_https(&t, "alice", "s3cret").await;
                assert!(valid(&answer), "{label}: {answer:?}");
            }
            let checks = directory.password_checks();
            let hits = if cached { 1 } else { 0 };
            assert_eq!((checks.cache, checks.argon2), (hits, 2 - hits), "{label}");
            // `/metrics` counts the whole process, and the other tests of
            // this file log in beside this one: at least these checks.
            let metric = password_checks_metric(&t).await;
            assert!(
                metric.0 - metric_before.0 >= hits as f64
                    && metric.1 - metric_before.1 >= (2 - hits) as f64,
                "{label}: {metric_before:?} -> {metric:?}"
            );

            // A wrong password is refused and never remembered.
            for _ in 0..2 {
                let wrong = auth_login_https(&t, "alice", "s3cret!").await;
                assert!(!valid(&wrong), "{label}: {wrong:?}");
            }
            let checks = directory.password_checks();
            assert_eq!((checks.cache, checks.argon2), (hits, 4 - hits), "{label}");

            // A password reset (what the dashboard's "reset-password" does)
            // stores a new hash: the old password is refused at once, the
            // new one accepted (argon2, then remembered).
            let accounts = t.server.store().mco_accounts();
            assert!(accounts
                .set_password(alice.customer_id, "n3w-pass")
                .await
                .unwrap());
            let old = auth_login_https(&t, "alice", "s3cret").await;
            assert!(
                !valid(&old),
                "{label}: the old password after a reset: {old:?}"
            );
            for _ in 0..2 {
                let new = auth_login_https(&t, "alice", "n3w-pass").await;
                assert!(valid(&new), "{label}: {new:?}");
            }
            let checks = directory.password_checks();
            let hits = if cached { 2 } else { 0 };
            assert_eq!((checks.cache, checks.argon2), (hits, 7 - hits), "{label}");

            // Bans are read with the account every time, never cached.
            assert!(accounts
                .ban(alice.customer_id, "testing", None, t.clock.now())
                .await
                .unwrap());
            match auth_login_https(&t, "alice", "n3w-pass").await {
                AuthLoginResponse::Invalid(f) => {
                    assert!(f.text.to_lowercase().contains("disabled"), "{label}: {f:?}")
                }
                other => panic!("{label}: a banned account got {other:?}"),
            }
            let checks = directory.password_checks();
            let hits = if cached { 3 } else { 0 };
            assert_eq!((checks.cache, checks.argon2), (hits, 8 - hits), "{label}");
            t.server.shutdown().await;
        }
    }
}
