//! MCOTS: captured frames decode and decrypt with one RC4 state per
//! direction, the codec survives garbage, and the server on loopback with
//! the real store carries a persona from connect to owning a car.

mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use common::*;
use futures_util::{SinkExt, StreamExt};
use motorcity::crypto::McotsCipher;
use motorcity::mcots::frame::{TomcCodec, TomcFrame, FLAG_ENCRYPTED};
use motorcity::mcots::messages::{self, no, ClientConnect, GenericReply, GenericRequest, McLogin};
use motorcity::{
    serve_mcots, CustomerId, DirectorySettings, McoDirectory, Mcots, McotsSettings, SessionKey,
    ShardId, StoreDirectory,
};
use pitlane_core::ManualClock;
use pitlane_store::testing::databases;
use pitlane_store::Store;
use proptest::prelude::*;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_util::codec::{Decoder, Encoder, Framed};

#[test]
fn captured_client_frames_decode_and_decrypt_in_stream_order() {
    let mut states: std::collections::HashMap<String, McotsCipher> = Default::default();
    for r in records(MCOTS) {
        if r["direction"] != "client->server" {
            continue;
        }
        let id = r["id"].as_str().unwrap().to_string();
        let wire = bytes(&r);
        let mut buf = BytesMut::from(&wire[..]);
        let frame = TomcCodec::default().decode(&mut buf).unwrap().unwrap();
        assert!(buf.is_empty(), "{id}");
        let h = &r["decoded"]["header"];
        assert_eq!(u64::from(frame.sequence), int(&h["sequence_u32le"]), "{id}");
        let mut again = BytesMut::new();
        TomcCodec::default()
            .encode(frame.clone(), &mut again)
            .unwrap();
        assert_eq!(again.to_vec(), wire, "{id}: re-encodes");
        let Some(key) = r["decoded"]["rc4_key_hex"].as_str() else {
            continue;
        };
        let offset = int(&r["decoded"]["rc4_stream_offset_before"]);
        let key: [u8; 16] = hex::decode(key).unwrap().try_into().unwrap();
        let state_key = hex::encode(key);
        if offset == 0 {
            states.insert(state_key.clone(), McotsCipher::from_rc4_key(key));
        }
        let cipher = states.get_mut(&state_key).unwrap();
        let mut plain = frame.payload.to_vec();
        assert!(frame.encrypted());
        cipher.apply(&mut plain);
        assert_eq!(plain, hex_field(&r["decoded"]["plaintext_hex"]), "{id}");
    }
}

#[test]
fn captured_login_complete_reply_re_encrypts_to_the_recorded_bytes() {
    let r = record(MCOTS, "mcots-2019-out-d5");
    let key: [u8; 16] = hex_field(&r["decoded"]["session_key_hex"])[..16]
        .try_into()
        .unwrap();
    let mut tx = McotsCipher::from_rc4_key(key);
    let mut data = GenericReply::new(no::MC_LOGIN_COMPLETE, no::MC_LOGIN)
        .to_bytes()
        .to_vec();
    tx.apply(&mut data);
    let wire = bytes(&r);
    assert_eq!(&wire[11..27], &data[..], "the 16 encrypted bytes match");
}

proptest! {
    #[test]
    fn frames_round_trip(seq: u32, flags: u8, payload in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let frame = TomcFrame { sequence: seq, flags, payload: Bytes::from(payload) };
        let mut buf = BytesMut::new();
        TomcCodec::default().encode(frame.clone(), &mut buf).unwrap();
        let got = TomcCodec::default().decode(&mut buf).unwrap().unwrap();
        prop_assert_eq!(got, frame);
    }

    #[test]
    fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut buf = BytesMut::from(&data[..]);
        let mut codec = TomcCodec::new(512);
        while let Ok(Some(_)) = codec.decode(&mut buf) {}
        let _ = codec.decode_eof(&mut buf);
    }
}

struct Client {
    framed: Framed<TcpStream, TomcCodec>,
    tx: McotsCipher,
    rx: McotsCipher,
    seq: u32,
}

impl Client {
    async fn ask(&mut self, payload: Bytes) -> Vec<u8> {
        self.send(payload).await;
        self.recv().await
    }

    async fn send(&mut self, payload: Bytes) {
        self.seq += 2;
        let mut data = payload.to_vec();
        self.tx.apply(&mut data);
        self.framed
            .send(TomcFrame {
                sequence: self.seq,
                flags: FLAG_ENCRYPTED,
                payload: data.into(),
            })
            .await
            .unwrap();
    }

    async fn recv(&mut self) -> Vec<u8> {
        let frame = tokio::time::timeout(Duration::from_secs(5), self.framed.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(frame.sequence, self.seq, "sequence echoed");
        assert!(frame.encrypted());
        let mut data = frame.payload.to_vec();
        self.rx.apply(&mut data);
        data
    }
}

async fn connect(
    addr: std::net::SocketAddr,
    key: &SessionKey,
    customer: u32,
    persona: u32,
) -> Client {
    let mut framed = Framed::new(
        TcpStream::connect(addr).await.unwrap(),
        TomcCodec::default(),
    );
    let hello = ClientConnect {
        customer_id: customer,
        persona_id: persona,
        customer_name: String::new(),
        persona_name: "Racer".into(),
        mc_version: 6001,
    };
    framed
        .send(TomcFrame {
            sequence: 1,
            flags: 0,
            payload: hello.to_bytes(),
        })
        .await
        .unwrap();
    let reply = framed.next().await.unwrap().unwrap();
    assert_eq!(reply.flags, 0, "connect reply in clear");
    assert_eq!(reply.sequence, 1);
    let generic = GenericReply::parse(&reply.payload).unwrap();
    assert_eq!(
        (generic.msg_no, generic.reply_to),
        (no::MC_SUCCESS, no::MC_CLIENT_CONNECT)
    );
    Client {
        framed,
        tx: McotsCipher::new(key),
        rx: McotsCipher::new(key),
        seq: 1,
    }
}

#[tokio::test]
async fn from_connect_to_owning_a_car() {
    for db in databases().await {
        let store = Store::open(&db.url).await.unwrap();
        let clock = ManualClock::new(chrono::Utc::now());
        let dir = Arc::new(StoreDirectory::new(
            store,
            Arc::new(clock),
            DirectorySettings::default(),
        ));
        let account = dir.create_account("racer", "pw").await.unwrap();
        let customer = CustomerId(account.customer_id as u32);
        let key = SessionKey::generate();
        dir.store_session_key(customer, &key).await.unwrap();
        let persona = dir
            .create_persona(customer, ShardId(44), "Racer")
            .await
            .unwrap();
        dir.select_persona(customer, persona.id, ShardId(44))
            .await
            .unwrap();

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let settings = McotsSettings {
            starting_money: 20_000,
            ..McotsSettings::default()
        };
        let mcots = Arc::new(Mcots::new(dir.clone(), settings));
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(serve_mcots(listener, mcots, stop_rx));

        // Garbage and an encrypted frame before connect are refused.
        let mut junk = TcpStream::connect(addr).await.unwrap();
        junk.write_all(b"\x20\x00GARBAGEGARBAGEGARBAGEGARBAGE!!")
            .await
            .unwrap();
        drop(junk);

        let mut c = connect(addr, &key, customer.0, persona.id.0).await;
        let login = McLogin {
            customer_id: customer.0,
            persona_id: persona.id.0,
            lot_owner_id: 0,
            branded_part_id: 0,
            skin_id: 0,
            persona_name: "Racer".into(),
            mc_version: 6001,
        };
        let done = GenericReply::parse(&c.ask(login.to_bytes()).await).unwrap();
        assert_eq!(
            (done.msg_no, done.reply_to),
            (no::MC_LOGIN_COMPLETE, no::MC_LOGIN),
            "{}",
            db.label
        );

        let lobbies = c
            .ask(
                GenericRequest {
                    msg_no: no::MC_GET_LOBBIES,
                    data: 0,
                    data2: 0,
                }
                .to_bytes(),
            )
            .await;
        assert_eq!(messages::parse_lobby_count(&lobbies).unwrap(), 1);
        assert_eq!(lobbies.len(), 5 + messages::LOBBY_INFO_LEN);
        assert_eq!(
            messages::msg_no(&c.recv().await).unwrap(),
            no::MC_ENTRY_FEES
        );

        let stock = c
            .ask(
                GenericRequest {
                    msg_no: no::MC_STOCK_CAR_INFO,
                    data: 8,
                    data2: 0,
                }
                .to_bytes(),
            )
            .await;
        let stock = messages::StockCarInfo::parse(&stock).unwrap();
        assert_eq!(stock.cars.len(), 12);
        let (affordable, price, _) = *stock
            .cars
            .iter()
            .filter(|c| c.1 <= 20_000)
            .min_by_key(|c| c.1)
            .unwrap();
        let (dear, _, _) = *stock
            .cars
            .iter()
            .find(|c| c.1 > 20_000)
            .unwrap_or(&stock.cars[0]);

        // Too dear: refused, nothing stored.
        if stock.cars.iter().any(|c| c.1 > 20_000) {
            let no_money = c
                .ask(
                    messages::Purchase {
                        dealer_id: 8,
                        branded_part_id: dear,
                        skin_id: 0,
                        trade_in_car_id: 0,
                    }
                    .to_bytes(),
                )
                .await;
            assert_eq!(
                GenericReply::parse(&no_money).unwrap().msg_no,
                no::MC_FAILED
            );
        }
        let bought = c
            .ask(
                messages::Purchase {
                    dealer_id: 8,
                    branded_part_id: affordable,
                    skin_id: 0,
                    trade_in_car_id: 0,
                }
                .to_bytes(),
            )
            .await;
        let bought = GenericReply::parse(&bought).unwrap();
        assert_eq!(
            (bought.msg_no, bought.reply_to),
            (no::MC_PURCHASE_RESULT, no::MC_PURCHASE_STOCK_CAR)
        );
        let owned = c
            .ask(
                GenericRequest {
                    msg_no: no::MC_GET_OWNED_VEHICLES,
                    data: persona.id.0,
                    data2: 0,
                }
                .to_bytes(),
            )
            .await;
        assert_eq!(
            messages::parse_owned_vehicles(&owned).unwrap(),
            vec![(bought.data, affordable)]
        );
        let info = messages::PlayerInfo::parse(
            &c.ask(
                GenericRequest {
                    msg_no: no::MC_GET_PLAYER_INFO,
                    data: persona.id.0,
                    data2: 0,
                }
                .to_bytes(),
            )
            .await,
        )
        .unwrap();
        assert_eq!(info.bank, 20_000 - price);
        assert_eq!(info.vehicle_id, bought.data);
        let parts = c
            .ask(
                GenericRequest {
                    msg_no: no::MC_GET_OWNED_PARTS,
                    data: bought.data,
                    data2: 0,
                }
                .to_bytes(),
            )
            .await;
        assert_eq!(messages::msg_no(&parts).unwrap(), no::MC_PARTS_ASSEMBLY);

        // Unknown numbers: MC_FAILED naming them, connection kept.
        let unknown = GenericReply::parse(
            &c.ask(
                GenericRequest {
                    msg_no: 999,
                    data: 0,
                    data2: 0,
                }
                .to_bytes(),
            )
            .await,
        )
        .unwrap();
        assert_eq!((unknown.msg_no, unknown.reply_to), (no::MC_FAILED, 999));
        let tun = c
            .ask(
                GenericRequest {
                    msg_no: no::MC_GET_MCO_TUNABLES,
                    data: 0,
                    data2: 0,
                }
                .to_bytes(),
            )
            .await;
        assert_eq!(messages::msg_no(&tun).unwrap(), no::MC_TUNABLES);
        drop(c);

        // Reconnect: RC4 restarts and the car is still there.
        let mut c = connect(addr, &key, customer.0, persona.id.0).await;
        let owned = c
            .ask(
                GenericRequest {
                    msg_no: no::MC_GET_OWNED_VEHICLES,
                    data: 0,
                    data2: 0,
                }
                .to_bytes(),
            )
            .await;
        assert_eq!(messages::parse_owned_vehicles(&owned).unwrap().len(), 1);

        // A stranger without a session key is refused at connect.
        let mut framed = Framed::new(
            TcpStream::connect(addr).await.unwrap(),
            TomcCodec::default(),
        );
        let hello = ClientConnect {
            customer_id: 777,
            persona_id: 778,
            customer_name: String::new(),
            persona_name: "X".into(),
            mc_version: 6001,
        };
        framed
            .send(TomcFrame {
                sequence: 1,
                flags: 0,
                payload: hello.to_bytes(),
            })
            .await
            .unwrap();
        let reply = framed.next().await.unwrap().unwrap();
        assert_eq!(
            GenericReply::parse(&reply.payload).unwrap().msg_no,
            no::MC_FAILED
        );

        stop.send(true).unwrap();
        drop(c);
        task.await.unwrap();
    }
}
