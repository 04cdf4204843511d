//! Motor City Online past the persona screen, through the real binary's
//! listeners and store: lobby chat between two players, and MCOTS from
//! connect to owning a car that survives a restart, with refusals that
//! store nothing.

mod common;

use common::TestServer;
use motorcity::crypto::PublicLoginKey;
use motorcity::http::AuthLoginResponse;
use motorcity::mcots::messages::{self, no, GenericReply, McLogin, Purchase};
use motorcity::{CustomerId, PersonaId, SessionKey, ShardId};
use pitlane_sim::mco::{self, LobbyClient, McotsClient, PersonaCreation};
use pitlane_store::testing::databases;
use tokio::io::AsyncWriteExt;

struct Player {
    key: SessionKey,
    customer: CustomerId,
    persona: PersonaId,
    name: String,
}

async fn log_in(t: &TestServer, user: &str, name: &str) -> Player {
    let l = t.server.listening;
    let http = t.server.mco().unwrap().clone();
    http.directory.create_account(user, "pw").await.unwrap();
    let AuthLoginResponse::Valid { ticket } = http
        .directory
        .auth_login(user, "pw", "127.0.0.1".parse().unwrap())
        .await
    else {
        panic!("no ticket");
    };
    let pub_key = PublicLoginKey::from_pub_key_file(
        &std::fs::read_to_string(t.data_dir.path().join("mco/pub.key")).unwrap(),
    )
    .unwrap();
    let key = SessionKey::generate();
    let customer = mco::login_with_key(l.mco_login.unwrap(), &pub_key, &ticket, &key)
        .await
        .unwrap();
    let persona_addr = l.mco_persona.unwrap();
    let created = mco::create_persona(persona_addr, customer, ShardId(44), name)
        .await
        .unwrap();
    assert!(matches!(created, PersonaCreation::Created));
    let persona = mco::list_personas(persona_addr, customer).await.unwrap()[0].id;
    mco::select_persona(persona_addr, customer, persona, ShardId(44))
        .await
        .unwrap();
    Player {
        key,
        customer,
        persona,
        name: name.into(),
    }
}

async fn mcots(t: &TestServer, p: &Player) -> McotsClient {
    let addr = t.server.listening.mco_mcots.unwrap();
    let mut c = McotsClient::connect(addr, &p.key, p.customer, p.persona, &p.name)
        .await
        .unwrap();
    let login = McLogin {
        customer_id: p.customer.0,
        persona_id: p.persona.0,
        lot_owner_id: 0,
        branded_part_id: 0,
        skin_id: 0,
        persona_name: p.name.clone(),
        mc_version: 6001,
    };
    let done = c.ask(login.to_bytes(), 1).await.unwrap();
    assert_eq!(messages::msg_no(&done[0]).unwrap(), no::MC_LOGIN_COMPLETE);
    c
}

#[tokio::test]
async fn from_auth_login_to_chatting_and_owning_a_car() {
    for db in databases().await {
        let t = TestServer::start(&db).await;
        let alice = log_in(&t, "alice", "Alice").await;
        let bob = log_in(&t, "bob", "Bobby").await;
        let lobby_addr = t.server.listening.mco_lobby.unwrap();

        // Lobby: channel list, both join, chat reaches both.
        let mut a = LobbyClient::login(
            lobby_addr,
            &alice.key,
            alice.customer,
            alice.persona,
            "Alice",
        )
        .await
        .unwrap();
        let mut b = LobbyClient::login(lobby_addr, &bob.key, bob.customer, bob.persona, "Bobby")
            .await
            .unwrap();
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
        let lobbies = c
            .ask(
                messages::GenericRequest {
                    msg_no: no::MC_GET_LOBBIES,
                    data: 0,
                    data2: 0,
                }
                .to_bytes(),
                2,
            )
            .await
            .unwrap();
        assert_eq!(messages::msg_no(&lobbies[0]).unwrap(), no::MC_LOBBIES);
        let stock =
            messages::StockCarInfo::parse(&c.generic(no::MC_STOCK_CAR_INFO, 8).await.unwrap())
                .unwrap();
        let start = t.config.motorcity.starting_money;
        let cheapest = *stock.cars.iter().min_by_key(|c| c.1).unwrap();
        assert!(cheapest.1 <= start);
        let dearest = *stock.cars.iter().max_by_key(|c| c.1).unwrap();
        let buy = |car: u32| {
            Purchase {
                dealer_id: 8,
                branded_part_id: car,
                skin_id: 0,
                trade_in_car_id: 0,
            }
            .to_bytes()
        };
        if dearest.1 > start {
            let refused = c.ask(buy(dearest.0), 1).await.unwrap();
            assert_eq!(
                GenericReply::parse(&refused[0]).unwrap().msg_no,
                no::MC_FAILED
            );
        }
        let bought = GenericReply::parse(&c.ask(buy(cheapest.0), 1).await.unwrap()[0]).unwrap();
        assert_eq!(bought.msg_no, no::MC_PURCHASE_RESULT);

        // Concurrent purchases from two connections never overspend.
        let mut c2 = mcots(&t, &alice).await;
        let (r1, r2) = tokio::join!(c.ask(buy(cheapest.0), 1), c2.ask(buy(cheapest.0), 1));
        let successes = [r1.unwrap(), r2.unwrap()]
            .iter()
            .filter(|r| GenericReply::parse(&r[0]).unwrap().msg_no == no::MC_PURCHASE_RESULT)
            .count();
        let info =
            messages::PlayerInfo::parse(&c.generic(no::MC_GET_PLAYER_INFO, 0).await.unwrap())
                .unwrap();
        let spent = u64::from(cheapest.1) * (1 + successes as u64);
        assert_eq!(
            u64::from(info.bank),
            u64::from(start) - spent,
            "{}",
            db.label
        );
        let cars = 1 + successes;
        drop((c, c2, a, b));

        // After a restart the cars are still hers.
        let t = t.restart().await;
        let mut c = mcots(&t, &alice).await;
        let owned =
            messages::parse_owned_vehicles(&c.generic(no::MC_GET_OWNED_VEHICLES, 0).await.unwrap())
                .unwrap();
        assert_eq!(owned.len(), cars);
        assert_eq!(owned[0], (bought.data, cheapest.0));
        drop(c);
        t.server.shutdown().await;
    }
}
