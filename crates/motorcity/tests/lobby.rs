//! The lobby server on loopback with the real store: the captured 0x1101
//! commands open with the cipher-state objects, a client without a session
//! key is refused, and two players see each other and chat in a channel.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use futures_util::{SinkExt, StreamExt};
use motorcity::crypto::LobbyCipher;
use motorcity::wire::lobby::{self, ids, Inner, LobbyLogin};
use motorcity::wire::{NpsCodec, NpsFrame, DEFAULT_MAX_FRAME_LEN};
use motorcity::{
    serve_lobby, CustomerId, DirectorySettings, Lobby, LobbySettings, McoDirectory, SessionKey,
    ShardId, StoreDirectory,
};
use pitlane_core::ManualClock;
use pitlane_store::testing::databases;
use pitlane_store::Store;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_util::codec::Framed;

#[test]
fn captured_commands_open_in_order_with_one_chain_and_padding_ignored() {
    for tag in ["2019", "notes"] {
        let first = record(LOBBY, &format!("nps-0x1101-{tag}-0"));
        let key = hex_field(&first["decoded"]["des_key_hex"]);
        let mut rx = LobbyCipher::from_des_key(key.try_into().unwrap());
        let mut seen = Vec::new();
        for i in 0..2 {
            let r = record(LOBBY, &format!("nps-0x1101-{tag}-{i}"));
            let wire = bytes(&r);
            let frame = NpsFrame::short(ids::ENCRYPTED, wire[4..].to_vec().into()).unwrap();
            let inner = Inner::open(&frame, &mut rx).unwrap();
            assert_eq!(
                u64::from(inner.id),
                int(&r["decoded"]["inner_msg_id"]),
                "{tag}-{i}"
            );
            assert_eq!(
                inner.body.to_vec(),
                hex_field(&r["decoded"]["inner_payload_hex"]),
                "{tag}-{i}: padding dropped"
            );
            seen.push(inner.id);
        }
        assert_eq!(seen, [ids::SEND_MINI_RIFF_LIST, ids::GET_MINI_USER_LIST]);
    }
}

#[test]
fn captured_lobby_login_parses() {
    let r = record(LOBBY, "nps-0x100-2019");
    let wire = bytes(&r);
    let login = LobbyLogin::parse(&wire[4..]).unwrap();
    assert_eq!(login.persona_id, 8675309);
    assert_eq!(login.persona_name, "Dr Brown");
    assert_eq!(login.customer_id, 5551212);
    assert_eq!(login.dll_version, "4.5.0.0");
    assert_eq!(login.local_ip, "192.168.5.5");
    let again = login.to_frame().unwrap();
    assert_eq!(
        again.body.to_vec(),
        wire[4..].to_vec(),
        "re-encodes byte for byte"
    );
}

struct Player {
    framed: Framed<TcpStream, NpsCodec>,
    tx: LobbyCipher,
    persona: u32,
}

impl Player {
    async fn send(&mut self, inner: Inner) {
        let frame = inner.seal(&mut self.tx).unwrap();
        self.framed.send(frame).await.unwrap();
    }

    async fn recv(&mut self) -> NpsFrame {
        tokio::time::timeout(Duration::from_secs(5), self.framed.next())
            .await
            .expect("a reply in time")
            .expect("connection open")
            .expect("a frame")
    }
}

fn login_frame(persona: u32, name: &str, customer: u32) -> NpsFrame {
    LobbyLogin {
        persona_id: persona,
        persona_name: name.into(),
        user_data: [0; 64],
        customer_id: customer,
        flags: 0,
        dll_version: "4.5.0.0".into(),
        host_name: "mco".into(),
        local_ip: "127.0.0.1".into(),
        hash: [0; 16],
    }
    .to_frame()
    .unwrap()
}

async fn player(
    addr: std::net::SocketAddr,
    dir: &StoreDirectory,
    user: &str,
    name: &str,
) -> Player {
    let account = dir.create_account(user, "pw").await.unwrap();
    let customer = CustomerId(account.customer_id as u32);
    let key = SessionKey::generate();
    dir.store_session_key(customer, &key).await.unwrap();
    let persona = dir
        .create_persona(customer, ShardId(44), name)
        .await
        .unwrap();
    assert!(dir
        .select_persona(customer, persona.id, ShardId(44))
        .await
        .unwrap());
    let stream = TcpStream::connect(addr).await.unwrap();
    let mut framed = Framed::new(stream, NpsCodec::client(DEFAULT_MAX_FRAME_LEN));
    framed
        .send(login_frame(persona.id.0, name, customer.0))
        .await
        .unwrap();
    let mut p = Player {
        framed,
        tx: LobbyCipher::new(&key),
        persona: persona.id.0,
    };
    let reply = p.recv().await;
    assert_eq!(lobby::parse_login_response(&reply).unwrap(), persona.id.0);
    assert_eq!(reply.total_len(), lobby::LOGIN_RESP_LEN);
    p
}

#[tokio::test]
async fn two_players_list_join_and_chat() {
    for db in databases().await {
        let store = Store::open(&db.url).await.unwrap();
        let clock = ManualClock::new(chrono::Utc::now());
        let dir = Arc::new(StoreDirectory::new(
            store,
            Arc::new(clock),
            DirectorySettings::default(),
        ));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let lobby = Arc::new(Lobby::new(dir.clone(), LobbySettings::default()));
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(serve_lobby(listener, lobby.clone(), stop_rx));

        // No session key: refused by closing, nothing answered.
        let mut stranger = Framed::new(
            TcpStream::connect(addr).await.unwrap(),
            NpsCodec::client(DEFAULT_MAX_FRAME_LEN),
        );
        stranger
            .send(login_frame(999, "Nobody", 4242))
            .await
            .unwrap();
        let answer = tokio::time::timeout(Duration::from_secs(5), stranger.next())
            .await
            .unwrap();
        assert!(!matches!(answer, Some(Ok(_))), "{}: {answer:?}", db.label);

        let mut alice = player(addr, &dir, "alice", "Alice").await;
        let mut bob = player(addr, &dir, "bob", "Bobby").await;

        // The client's first two commands, as captured.
        alice
            .send(Inner::new(ids::SEND_MINI_RIFF_LIST, Vec::new()))
            .await;
        let list = alice.recv().await;
        assert_eq!(list.id, ids::RIFF_LIST);
        let channels = lobby::parse_riff_list(&list.body).unwrap();
        assert_eq!(channels.iter().map(|c| c.id).collect::<Vec<_>>(), [2, 191]);
        alice
            .send(Inner::new(ids::GET_MINI_USER_LIST, lobby::u32s(&[0])))
            .await;
        let users = alice.recv().await;
        assert_eq!(users.id, ids::MINI_USER_LIST);

        // Both join LOBBY; Alice hears Bob arrive.
        for p in [&mut alice, &mut bob] {
            p.send(Inner::new(ids::OPEN_COMM_CHANNEL, lobby::u32s(&[2])))
                .await;
        }
        let granted = alice.recv().await;
        assert_eq!(granted.id, ids::CHANNEL_GRANTED);
        let joined = alice.recv().await;
        assert_eq!(joined.id, ids::USER_JOINED_CHANNEL);
        assert_eq!(bob.recv().await.id, ids::CHANNEL_GRANTED);

        bob.send(Inner::new(ids::GET_MINI_USER_LIST, lobby::u32s(&[2])))
            .await;
        let (channel, users) = lobby::parse_mini_user_list(&bob.recv().await.body).unwrap();
        assert_eq!(channel, 2);
        let mut names: Vec<_> = users.iter().map(|u| u.name.as_str()).collect();
        names.sort();
        assert_eq!(names, ["Alice", "Bobby"]);

        // Chat reaches both, sender included.
        bob.send(lobby::chat("hello Alice").unwrap()).await;
        for p in [&mut alice, &mut bob] {
            let relayed = p.recv().await;
            assert_eq!(relayed.id, ids::CHAT_RELAY);
            let line = lobby::parse_chat_relay(&relayed.body).unwrap();
            assert_eq!(line.text, "hello Alice");
            assert_eq!(line.from.name, "Bobby");
        }

        // Garbage on another connection harms nobody.
        let mut junk = TcpStream::connect(addr).await.unwrap();
        junk.write_all(&[0x11, 0x01, 0x00, 0x02, 0xff])
            .await
            .unwrap();
        drop(junk);

        // Bob leaves by closing; Alice is told.
        let bob_persona = bob.persona;
        drop(bob);
        let gone = alice.recv().await;
        assert_eq!(gone.id, ids::USER_LEFT_CHANNEL);
        assert_eq!(gone.body.to_vec(), lobby::u32s(&[2, bob_persona]).to_vec());
        assert_eq!(lobby.hub().users_in(2).len(), 1);

        stop.send(true).unwrap();
        drop(alice);
        task.await.unwrap();
    }
}
