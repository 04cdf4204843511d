//! What the MCO tests share: a player taken through the real login path
//! (AuthLogin → NPS login on 8226 → persona on 8228) with the session key
//! the login server stored, and an MCOTS connection logged in as them.

#![allow(dead_code)]

use bytes::Bytes;
use motorcity::crypto::PublicLoginKey;
use motorcity::http::AuthLoginResponse;
use motorcity::mcots::messages::{self, no, McLogin};
use motorcity::{CustomerId, PersonaId, SessionKey, ShardId};
use pitlane_sim::mco::{self, LobbyClient, McotsClient, PersonaCreation};

use crate::common::TestServer;

pub struct Player {
    pub key: SessionKey,
    pub customer: CustomerId,
    pub persona: PersonaId,
    pub name: String,
}

/// A ticket from AuthLogin (the directory the HTTPS handler calls).
pub async fn ticket(t: &TestServer, user: &str) -> String {
    let http = t.server.mco().unwrap().clone();
    http.directory.create_account(user, "pw").await.unwrap();
    match http
        .directory
        .auth_login(user, "pw", "127.0.0.1".parse().unwrap())
        .await
    {
        AuthLoginResponse::Valid { ticket } => ticket,
        other => panic!("no ticket: {other:?}"),
    }
}

/// The player's `pub.key`, as a player installs it.
pub fn pub_key(t: &TestServer) -> PublicLoginKey {
    PublicLoginKey::from_pub_key_file(
        &std::fs::read_to_string(t.data_dir.path().join("mco/pub.key")).unwrap(),
    )
    .unwrap()
}

/// NPS login with `ticket`, a new persona `name`, and its selection.
pub async fn log_in_with(t: &TestServer, ticket: &str, name: &str) -> Player {
    let l = t.server.listening;
    let key = SessionKey::generate();
    let customer = mco::login_with_key(l.mco_login.unwrap(), &pub_key(t), ticket, &key)
        .await
        .unwrap();
    let persona_addr = l.mco_persona.unwrap();
    let created = mco::create_persona(persona_addr, customer, ShardId(44), name)
        .await
        .unwrap();
    assert!(matches!(created, PersonaCreation::Created));
    let persona = mco::list_personas(persona_addr, customer)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.name == name)
        .unwrap()
        .id;
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

/// AuthLogin, NPS login, a new persona and its selection.
pub async fn log_in(t: &TestServer, user: &str, name: &str) -> Player {
    let ticket = ticket(t, user).await;
    log_in_with(t, &ticket, name).await
}

/// The lobby connection a client opens after choosing its persona.
pub async fn lobby(t: &TestServer, p: &Player) -> LobbyClient {
    LobbyClient::login(
        t.server.listening.mco_lobby.unwrap(),
        &p.key,
        p.customer,
        p.persona,
        &p.name,
    )
    .await
    .unwrap()
}

/// MC_CLIENT_CONNECT and MC_LOGIN.
pub async fn mcots(t: &TestServer, p: &Player) -> McotsClient {
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

/// A GenericRequest whose answer has `replies` messages.
pub async fn ask(c: &mut McotsClient, msg_no: u16, data: u32, replies: usize) -> Vec<Vec<u8>> {
    let request = messages::GenericRequest {
        msg_no,
        data,
        data2: 0,
    };
    c.ask(request.to_bytes(), replies).await.unwrap()
}

pub fn buy(dealer: u32, car: u32) -> Bytes {
    messages::Purchase {
        dealer_id: dealer,
        branded_part_id: car,
        skin_id: 0,
        trade_in_car_id: 0,
    }
    .to_bytes()
}
