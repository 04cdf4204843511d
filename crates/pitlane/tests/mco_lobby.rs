//! Motor City Online past the persona screen, through the real binary's
//! listeners and store, started like a real client: AuthLogin → NPS login
//! (8226, the session key the login server stores) → persona (8228) →
//! lobby (7003) → MCOTS (43300). Lobby chat between two players; buying a
//! car with the money debited and the car and its parts stored; a car that
//! survives a reconnect and a restart; refusals that store nothing; and two
//! purchases racing for the money of one.

mod common;
mod mco_support;

use common::{capture_time, test_config, TestServer};
use mco_support::{ask, buy, lobby, log_in, mcots};
use motorcity::catalogue::{self, StockRules};
use motorcity::mcots::messages::{self, no, GenericReply};
use pitlane_core::ManualClock;
use pitlane_sim::mco::LobbyClient;
use pitlane_store::testing::databases;
use tokio::io::AsyncWriteExt;

#[tokio::test]
async fn from_auth_login_to_chatting_and_owning_a_car() {
    for db in databases().await {
        let t = TestServer::start(&db).await;
        let alice = log_in(&t, "alice", "Alice").await;
        let bob = log_in(&t, "bob", "Bobby").await;
        let lobby_addr = t.server.listening.mco_lobby.unwrap();

        // Lobby: channel list, both join, chat reaches both.
        let mut a = lobby(&t, &alice).await;
        let mut b = lobby(&t, &bob).await;
        let channels = a.channels().await.unwrap();
        assert!(channels.iter().any(|c| c.name == "LOBBY"), "{}", db.label);
        assert!(a.join(2).await.unwrap());
        assert!(b.join(2).await.unwrap());
        b.chat("race you to the dealer").await.unwrap();
        assert_eq!(a.next_chat().await.unwrap().text, "race you to the dealer");
        assert_eq!(b.next_chat().await.unwrap().from.name, "Bobby");

        // A lobby login with the wrong key's customer is refused.
        assert!(
            LobbyClient::login(lobby_addr, &alice.key, bob.customer, alice.persona, "Alice")
                .await
                .is_err()
        );

        // Garbage on MCOTS while the next client is served.
        let mcots_addr = t.server.listening.mco_mcots.unwrap();
        let mut junk = tokio::net::TcpStream::connect(mcots_addr).await.unwrap();
        junk.write_all(&[0x05, 0x00, b'N', b'O', b'P', b'E', 0])
            .await
            .unwrap();
        drop(junk);

        let mut c = mcots(&t, &alice).await;
        let lobbies = ask(&mut c, no::MC_GET_LOBBIES, 0, 2).await;
        assert_eq!(messages::msg_no(&lobbies[0]).unwrap(), no::MC_LOBBIES);
        assert_eq!(messages::msg_no(&lobbies[1]).unwrap(), no::MC_ENTRY_FEES);
        let stock =
            messages::StockCarInfo::parse(&c.generic(no::MC_STOCK_CAR_INFO, 8).await.unwrap())
                .unwrap();
        let start = t.config.motorcity.starting_money;
        let cheapest = *stock.cars.iter().min_by_key(|c| c.1).unwrap();
        assert!(cheapest.1 <= start);
        let dearest = *stock.cars.iter().max_by_key(|c| c.1).unwrap();
        let store = t.server.store();
        let persona = i64::from(alice.persona.0);
        if dearest.1 > start {
            let refused = c.ask(buy(8, dearest.0), 1).await.unwrap();
            assert_eq!(
                GenericReply::parse(&refused[0]).unwrap().msg_no,
                no::MC_FAILED
            );
            assert!(store
                .mco_garage()
                .vehicles(persona)
                .await
                .unwrap()
                .is_empty());
        }
        // A car the dealer does not offer is refused too.
        let not_offered = (101..400)
            .find(|id| !stock.cars.iter().any(|c| c.0 == *id))
            .unwrap();
        let refused = c.ask(buy(8, not_offered), 1).await.unwrap();
        assert_eq!(
            GenericReply::parse(&refused[0]).unwrap().msg_no,
            no::MC_FAILED
        );

        let bought = GenericReply::parse(&c.ask(buy(8, cheapest.0), 1).await.unwrap()[0]).unwrap();
        assert_eq!(bought.msg_no, no::MC_PURCHASE_RESULT);

        // Stored state: money debited once, the car and its stock parts.
        let player = store.mco_garage().player(persona).await.unwrap().unwrap();
        assert_eq!(player.bank, i64::from(start - cheapest.1), "{}", db.label);
        let cars = store.mco_garage().vehicles(persona).await.unwrap();
        assert_eq!(cars.len(), 1);
        assert_eq!(cars[0].vehicle_id, i64::from(bought.data));
        assert_eq!(cars[0].branded_part_id, i64::from(cheapest.0));
        assert_eq!(cars[0].price_paid, i64::from(cheapest.1));
        let parts = store
            .mco_garage()
            .parts(persona, cars[0].vehicle_id)
            .await
            .unwrap();
        let tree = store
            .mco_catalogue()
            .assembly(i64::from(cheapest.0))
            .await
            .unwrap();
        assert_eq!(
            parts.len(),
            1 + catalogue::part_tree(i64::from(cheapest.0), &tree).len()
        );

        // The client sees the same: player info, owned vehicles, parts.
        let info =
            messages::PlayerInfo::parse(&c.generic(no::MC_GET_PLAYER_INFO, 0).await.unwrap())
                .unwrap();
        assert_eq!(i64::from(info.bank), player.bank);
        assert_eq!(info.vehicle_id, bought.data);
        let owned =
            messages::parse_owned_vehicles(&c.generic(no::MC_GET_OWNED_VEHICLES, 0).await.unwrap())
                .unwrap();
        assert_eq!(owned, vec![(bought.data, cheapest.0)]);
        let assembly = c
            .generic(no::MC_GET_OWNED_PARTS, bought.data)
            .await
            .unwrap();
        assert_eq!(messages::msg_no(&assembly).unwrap(), no::MC_PARTS_ASSEMBLY);
        assert_eq!(usize::from(assembly[6]), parts.len());
        // The root record carries the car's catalogue price.
        let root_retail = u32::from_le_bytes(assembly[7 + 26..7 + 30].try_into().unwrap());
        let car = store
            .mco_catalogue()
            .stock_car(i64::from(cheapest.0))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(i64::from(root_retail), car.retail_price);
        drop((c, a, b));

        // Reconnect (new RC4 states), then restart: the car is still hers.
        let mut c = mcots(&t, &alice).await;
        let owned =
            messages::parse_owned_vehicles(&c.generic(no::MC_GET_OWNED_VEHICLES, 0).await.unwrap())
                .unwrap();
        assert_eq!(owned, vec![(bought.data, cheapest.0)]);
        drop(c);
        let t = t.restart().await;
        let mut c = mcots(&t, &alice).await;
        let owned =
            messages::parse_owned_vehicles(&c.generic(no::MC_GET_OWNED_VEHICLES, 0).await.unwrap())
                .unwrap();
        assert_eq!(owned, vec![(bought.data, cheapest.0)], "{}", db.label);
        drop(c);
        t.server.shutdown().await;
    }
}

/// Two connections of one persona buy at once with money for one car:
/// exactly one car, the money debited once, never below zero.
#[tokio::test]
async fn two_purchases_with_money_for_one_buy_exactly_one_car() {
    for db in databases().await {
        // Find the price of the cheapest car dealer 8 offers today, then
        // give players one and a half of it.
        let t = TestServer::start(&db).await;
        let rules = StockRules {
            refresh: std::time::Duration::from_secs(t.config.motorcity.dealer_refresh_hours * 3600),
            size: t.config.motorcity.dealer_stock_size,
            deal_percent_off: t.config.motorcity.deal_percent_off,
        };
        let stock = catalogue::dealer_stock(t.server.store(), 8, capture_time(), &rules)
            .await
            .unwrap();
        let car = *stock.iter().min_by_key(|o| o.price).unwrap();
        let TestServer {
            server, data_dir, ..
        } = t;
        server.shutdown().await;
        let mut config = test_config(&db, data_dir.path());
        config.motorcity.starting_money = u32::try_from(car.price + car.price / 2).unwrap();
        let t = TestServer::start_with(config, data_dir, ManualClock::new(capture_time())).await;

        for round in 0..3 {
            let p = log_in(&t, &format!("buyer{round}"), &format!("Buyer{round}")).await;
            let mut c1 = mcots(&t, &p).await;
            let mut c2 = mcots(&t, &p).await;
            let id = u32::try_from(car.branded_part_id).unwrap();
            let (r1, r2) = tokio::join!(c1.ask(buy(8, id), 1), c2.ask(buy(8, id), 1));
            let answers: Vec<u16> = [r1.unwrap(), r2.unwrap()]
                .iter()
                .map(|r| GenericReply::parse(&r[0]).unwrap().msg_no)
                .collect();
            assert_eq!(
                answers
                    .iter()
                    .filter(|&&n| n == no::MC_PURCHASE_RESULT)
                    .count(),
                1,
                "{}: {answers:?}",
                db.label
            );
            assert!(answers.contains(&no::MC_FAILED));
            let persona = i64::from(p.persona.0);
            let garage = t.server.store().mco_garage();
            let player = garage.player(persona).await.unwrap().unwrap();
            assert_eq!(
                player.bank,
                i64::from(t.config.motorcity.starting_money) - car.price
            );
            assert!(player.bank >= 0);
            assert_eq!(player.cars_owned, 1);
            assert_eq!(garage.vehicles(persona).await.unwrap().len(), 1);
        }
        t.server.shutdown().await;
    }
}

/// The whole path with AuthLogin over HTTPS, as the game does it (TLS with
/// only Pitlane's CA trusted), to a bought car in the store.
#[tokio::test]
async fn over_https_from_auth_login_to_a_bought_car() {
    for db in databases().await {
        let data_dir = tempfile::tempdir().unwrap();
        let mut config = test_config(&db, data_dir.path());
        config.tls.enabled = true;
        // Certificates are dated by the server's clock; TLS clients check
        // them against the real one.
        let t =
            TestServer::start_with(config, data_dir, ManualClock::new(chrono::Utc::now())).await;
        let directory = &t.server.mco().unwrap().directory;
        directory.create_account("carol", "s3cret").await.unwrap();
        let trusting = pitlane_sim::tls::TrustingClient::from_ca_pem_file(
            &t.data_dir.path().join("certs/ca.pem"),
        )
        .unwrap();
        let tls = pitlane_sim::mco::TlsMode::Tls {
            server_name: "localhost".into(),
            connector: std::sync::Arc::new(trusting),
        };
        let https = t.server.listening.https.unwrap();
        let answer = pitlane_sim::mco::auth_login(https, tls, "carol", "s3cret")
            .await
            .unwrap();
        let motorcity::http::AuthLoginResponse::Valid { ticket } = answer else {
            panic!("{}: {answer:?}", db.label);
        };
        let carol = mco_support::log_in_with(&t, &ticket, "Carol").await;
        let mut l = lobby(&t, &carol).await;
        assert!(!l.channels().await.unwrap().is_empty());
        let mut c = mcots(&t, &carol).await;
        let stock =
            messages::StockCarInfo::parse(&c.generic(no::MC_STOCK_CAR_INFO, 1).await.unwrap())
                .unwrap();
        let cheapest = *stock.cars.iter().min_by_key(|c| c.1).unwrap();
        let bought = GenericReply::parse(&c.ask(buy(1, cheapest.0), 1).await.unwrap()[0]).unwrap();
        assert_eq!(bought.msg_no, no::MC_PURCHASE_RESULT, "{}", db.label);
        let garage = t.server.store().mco_garage();
        let persona = i64::from(carol.persona.0);
        let cars = garage.vehicles(persona).await.unwrap();
        assert_eq!(cars.len(), 1);
        assert_eq!(cars[0].vehicle_id, i64::from(bought.data));
        let player = garage.player(persona).await.unwrap().unwrap();
        assert_eq!(
            player.bank,
            i64::from(t.config.motorcity.starting_money) - i64::from(cheapest.1)
        );
        drop((c, l));
        t.server.shutdown().await;
    }
}
