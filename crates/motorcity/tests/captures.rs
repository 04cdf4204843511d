//! Every captured client packet decodes to the recorded fields, the session
//! keys and channel ciphers reproduce, and the replies this crate builds are
//! byte-identical to the ones the real client accepted.

mod common;

use bytes::BytesMut;
use common::*;
use motorcity::crypto::{LobbyCipher, McotsCipher};
use motorcity::wire::login::{UserLogin, UserValid, USER_LOGIN_TRAILER};
use motorcity::wire::persona::{
    CheckPlateText, GetPersonaMaps, NpsAck, PersonaMapEntry, PersonaMaps, RegisterGameLogin,
    RegisterGameLogout, ValidatePersonaName,
};
use motorcity::wire::{FrameError, NpsCodec, NpsFrame, NpsMessage, DEFAULT_MAX_FRAME_LEN};
use motorcity::{LoginKey, SessionKey};
use serde_json::Value;
use tokio_util::codec::{Decoder, Encoder};

fn decode_one(codec: &mut NpsCodec, wire: &[u8]) -> NpsFrame {
    let mut buf = BytesMut::from(wire);
    let frame = codec
        .decode(&mut buf)
        .expect("decodes")
        .expect("a whole frame");
    assert!(buf.is_empty(), "frame consumed every byte");
    frame
}

fn encode(frame: NpsFrame) -> Vec<u8> {
    let mut out = BytesMut::new();
    NpsCodec::server(DEFAULT_MAX_FRAME_LEN)
        .encode(frame, &mut out)
        .expect("encodes");
    out.to_vec()
}

fn client_nps_records() -> Vec<Value> {
    [LOGIN, PERSONA, LOBBY]
        .iter()
        .flat_map(|f| records(f))
        .filter(|r| r["direction"] == "client->server" && r["hex"].is_string())
        .filter(|r| {
            let id = r["id"].as_str().unwrap_or("");
            id.starts_with("nps-") && !id.contains("truncated")
        })
        .collect()
}

#[test]
fn every_client_packet_frames_as_recorded() {
    let all = client_nps_records();
    assert!(
        all.len() >= 16,
        "expected the login, persona and lobby captures"
    );
    for r in all {
        let id = r["id"].as_str().unwrap_or_default();
        let wire = bytes(&r);
        let frame = decode_one(&mut NpsCodec::server(DEFAULT_MAX_FRAME_LEN), &wire);
        let d = &r["decoded"];
        let h = if d["header"].is_object() {
            &d["header"]
        } else {
            d
        };
        let recorded_id = if h["msg_id"].is_null() {
            &d["outer_msg_id"]
        } else {
            &h["msg_id"]
        };
        assert_eq!(u64::from(frame.id), int(recorded_id), "{id}: id");
        assert_eq!(frame.total_len(), wire.len(), "{id}: total length");
        match &frame.long {
            Some(long) => {
                assert_eq!(u64::from(long.version), int(&h["version"]), "{id}: version");
                assert_eq!(
                    u64::from(long.reserved),
                    int(&h["reserved"]),
                    "{id}: reserved"
                );
                assert_eq!(
                    u64::from(long.checksum),
                    int(&h["length_repeat_u32"]),
                    "{id}: u32 length"
                );
            }
            None => assert!(
                h["version"].is_null(),
                "{id}: captured with a long header but decoded short"
            ),
        }
        assert_eq!(encode(frame), wire, "{id}: re-encodes to the same bytes");
    }
}

#[test]
fn every_0x501_decodes_to_its_fields_and_session_key() {
    let logins: Vec<Value> = records(LOGIN)
        .into_iter()
        .filter(|r| r["id"].as_str().unwrap_or("").starts_with("nps-0x501-"))
        .collect();
    assert_eq!(logins.len(), 7);
    for r in logins {
        let id = r["id"].as_str().unwrap_or_default();
        let d = &r["decoded"];
        let wire = bytes(&r);
        // The truncated capture is kept only as an RSA vector: parse its
        // body directly, since its header promises 4 bytes it lacks.
        let login = if id.ends_with("truncated") {
            UserLogin::parse_body(&wire[12..]).expect("body parses")
        } else {
            let frame = decode_one(&mut NpsCodec::server(DEFAULT_MAX_FRAME_LEN), &wire);
            UserLogin::from_frame(&frame).expect("0x501 parses")
        };
        assert_eq!(login.ticket, d["ticket"].as_str().unwrap(), "{id}");
        assert_eq!(login.ticket.len() as u64, int(&d["ticket_len"]), "{id}");
        assert_eq!(login.reserved, 0, "{id}");
        assert_eq!(
            hex::encode_upper(&login.encrypted_session_key),
            d["rsa_blob_ascii_hex"].as_str().unwrap(),
            "{id}"
        );
        assert_eq!(login.service_id, "2176", "{id}");
        if id.ends_with("truncated") {
            assert_eq!(login.trailer, None);
        } else {
            assert_eq!(login.trailer, Some(USER_LOGIN_TRAILER), "{id}");
            let rebuilt = encode(login.to_frame().expect("frame"));
            assert_eq!(rebuilt, wire, "{id}: typed message re-encodes exactly");
        }

        let session = key_for(&r)
            .decrypt_session_key(&login.encrypted_session_key)
            .expect("RSA-OAEP-SHA1 recovers the session key");
        assert_eq!(
            hex::encode(session.as_bytes()),
            d["session_key_hex"].as_str().unwrap(),
            "{id}"
        );
        assert_eq!(u64::from(session.expiry()), int(&d["expires_u32"]), "{id}");
        assert_eq!(
            hex::encode(session.to_blob()),
            d["decrypted_blob_hex"].as_str().unwrap()
        );
        assert_eq!(
            hex::encode(session.des_key()),
            d["des_key_hex(first 8 bytes)"].as_str().unwrap()
        );
        assert_eq!(
            hex::encode(session.rc4_key()),
            d["rc4_key_hex(first 16 bytes)"].as_str().unwrap()
        );
    }
}

#[test]
fn oxide_rsa_fixture_decrypts() {
    let r = record(LOGIN, "rsa-fixture-oxide");
    let session = key_for(&r)
        .decrypt_session_key(&bytes(&r))
        .expect("decrypts");
    assert_eq!(
        hex::encode(session.to_blob()),
        r["decoded"]["decrypted_blob_hex"].as_str().unwrap()
    );
}

#[test]
fn the_other_key_and_tampering_are_refused() {
    let r = record(LOGIN, "nps-0x501-D");
    let login = UserLogin::parse_body(&bytes(&r)[12..]).unwrap();
    let wrong = LoginKey::from_pem(KEY_CURRENT).unwrap();
    assert!(wrong
        .decrypt_session_key(&login.encrypted_session_key)
        .is_err());
    let right = LoginKey::from_pem(KEY_2019).unwrap();
    let mut tampered = login.encrypted_session_key.clone();
    tampered[5] ^= 1;
    assert!(right.decrypt_session_key(&tampered).is_err());
    assert!(right.decrypt_session_key(&tampered[..100]).is_err());
}

#[test]
fn pub_key_files_match_the_private_keys() {
    for (pem, file) in [(KEY_CURRENT, PUB_CURRENT), (KEY_2019, PUB_2019)] {
        let public = LoginKey::from_pem(pem).unwrap().public_key();
        assert_eq!(public.to_pub_key_file().unwrap(), file);
        assert_eq!(
            motorcity::crypto::PublicLoginKey::from_pub_key_file(file).unwrap(),
            public
        );
    }
}

#[test]
fn fresh_keys_round_trip_through_pub_key() {
    let key = LoginKey::generate().expect("generates");
    let pem = key.to_pkcs8_pem().unwrap();
    let reloaded = LoginKey::from_pem(&pem).unwrap();
    let public = motorcity::crypto::PublicLoginKey::from_pub_key_file(
        &reloaded.public_key().to_pub_key_file().unwrap(),
    )
    .unwrap();
    let session = SessionKey::new([7u8; 32], 0);
    let ciphertext = public.encrypt_session_key(&session).unwrap();
    assert_eq!(
        ciphertext.len(),
        128,
        "fits the client's 256 hex characters"
    );
    assert_eq!(key.decrypt_session_key(&ciphertext).unwrap(), session);
}

#[test]
fn user_valid_reproduces_the_accepted_0x601() {
    let accepted = bytes(&record(LOGIN, "nps-0x601-2023"));
    let built = encode(UserValid::new(5_551_212).to_frame().unwrap());
    assert_eq!(built, accepted);

    for id in ["nps-0x601-2019", "nps-0x601-2023"] {
        let wire = bytes(&record(LOGIN, id));
        let frame = decode_one(&mut NpsCodec::client(DEFAULT_MAX_FRAME_LEN), &wire);
        assert_eq!(frame.total_len(), 256);
        let valid = UserValid::from_frame(&frame).unwrap();
        assert_eq!(
            valid.customer_id, 5_551_212,
            "{id}: customer id at offset 12"
        );
    }
}

#[test]
fn persona_requests_decode_to_their_fields() {
    let maps = record(PERSONA, "nps-0x532-2019");
    let frame = decode_one(&mut NpsCodec::server(DEFAULT_MAX_FRAME_LEN), &bytes(&maps));
    let request = GetPersonaMaps::from_frame(&frame).unwrap();
    assert_eq!(
        request.customer_id as u64,
        int(&maps["decoded"]["customer_id_u32be"])
    );
    assert_eq!(encode(request.to_frame().unwrap()), bytes(&maps));

    for (id, logout) in [("nps-0x503-2019", false), ("nps-0x50f-test", true)] {
        let r = record(PERSONA, id);
        let frame = decode_one(&mut NpsCodec::server(DEFAULT_MAX_FRAME_LEN), &bytes(&r));
        let (selection, rebuilt) = if logout {
            let m = RegisterGameLogout::from_frame(&frame).unwrap();
            (m.0, m.to_frame().unwrap())
        } else {
            let m = RegisterGameLogin::from_frame(&frame).unwrap();
            (m.0, m.to_frame().unwrap())
        };
        let d = &r["decoded"];
        assert_eq!(selection.customer_id as u64, int(&d["customer_id"]), "{id}");
        assert_eq!(selection.persona_id as u64, int(&d["persona_id"]), "{id}");
        assert_eq!(selection.shard_id as u64, int(&d["shard_id"]), "{id}");
        assert_eq!(encode(rebuilt), bytes(&r), "{id}");
    }

    let r = record(PERSONA, "nps-0x533");
    let frame = decode_one(&mut NpsCodec::server(DEFAULT_MAX_FRAME_LEN), &bytes(&r));
    let check = ValidatePersonaName::from_frame(&frame).unwrap();
    assert_eq!(check.customer_id, 5_551_212);
    assert_eq!(check.name, "Dr Brown");
    assert_eq!(check.game, "Motor City");
    assert_eq!(encode(check.to_frame().unwrap()), bytes(&r));

    let r = record(PERSONA, "nps-0x534");
    let frame = decode_one(&mut NpsCodec::server(DEFAULT_MAX_FRAME_LEN), &bytes(&r));
    let plate = CheckPlateText::from_frame(&frame).unwrap();
    assert_eq!(plate.plate_type, 2);
    assert_eq!(plate.text, "Marty");
    assert_eq!(encode(plate.to_frame().unwrap()), bytes(&r));
}

#[test]
fn persona_replies_reproduce_the_accepted_bytes() {
    let accepted = bytes(&record(PERSONA, "nps-0x607-2019"));
    let maps = PersonaMaps {
        entries: vec![
            PersonaMapEntry {
                persona_id: 8_675_309,
                shard_id: 44,
                name: "Dr Brown".into(),
            },
            PersonaMapEntry {
                persona_id: 8_675_310,
                shard_id: 44,
                name: "Morty Dr".into(),
            },
        ],
    };
    assert_eq!(encode(maps.to_frame().unwrap()), accepted);
    let frame = decode_one(&mut NpsCodec::client(DEFAULT_MAX_FRAME_LEN), &accepted);
    assert_eq!(PersonaMaps::from_frame(&frame).unwrap(), maps);

    let ack = bytes(&record(PERSONA, "nps-0x207-2019"));
    assert_eq!(encode(NpsAck.to_frame().unwrap()), ack);
}

#[test]
fn truncated_capture_is_an_error_at_eof_not_a_panic() {
    let wire = bytes(&record(LOGIN, "nps-0x501-G-truncated"));
    let mut codec = NpsCodec::server(DEFAULT_MAX_FRAME_LEN);
    let mut buf = BytesMut::from(&wire[..]);
    assert!(
        codec.decode(&mut buf).unwrap().is_none(),
        "waits for the rest"
    );
    match codec.decode_eof(&mut buf) {
        Err(FrameError::Truncated { buffered }) => assert_eq!(buffered, wire.len()),
        other => panic!("expected Truncated, got {other:?}"),
    }
}

#[test]
fn lobby_des_cbc_chains_per_connection() {
    for tag in ["2019", "notes"] {
        let first = record(LOBBY, &format!("nps-0x1101-{tag}-0"));
        let second = record(LOBBY, &format!("nps-0x1101-{tag}-1"));
        let key: [u8; 8] = hex_field(&first["decoded"]["des_key_hex"])
            .try_into()
            .unwrap();
        let session = hex_field(&first["decoded"]["session_key_hex"]);
        let session = SessionKey::new(session.try_into().unwrap(), 0);
        assert_eq!(session.des_key(), key);

        let mut inbound = LobbyCipher::new(&session);
        for r in [&first, &second] {
            let mut data = bytes(r)[4..].to_vec();
            inbound.decrypt(&mut data).unwrap();
            assert_eq!(
                hex::encode(&data),
                r["decoded"]["plaintext_hex"].as_str().unwrap()
            );
        }

        // A chain restarted for the second message does not decrypt it.
        let mut reset = LobbyCipher::new(&session);
        let mut data = bytes(&second)[4..].to_vec();
        reset.decrypt(&mut data).unwrap();
        assert_ne!(
            hex::encode(&data),
            second["decoded"]["plaintext_hex"].as_str().unwrap()
        );

        // Encrypting the plaintexts on one chain gives the client's bytes.
        let mut outbound = LobbyCipher::new(&session);
        for r in [&first, &second] {
            let mut data = hex_field(&r["decoded"]["plaintext_hex"]);
            outbound.encrypt(&mut data).unwrap();
            assert_eq!(data, bytes(r)[4..].to_vec());
        }
        assert!(outbound.encrypt(&mut [0u8; 7]).is_err());
    }
}

#[test]
fn mcots_rc4_streams_reproduce() {
    // Client -> server: one stream per connection, restarted by a new
    // connect; the recorded offsets must match what the stream consumed.
    let mut stream: Option<(McotsCipher, u64)> = None;
    let mut checked = 0;
    for r in records(MCOTS) {
        let d = &r["decoded"];
        if r["direction"] != "client->server" || !d["rc4_key_hex"].is_string() {
            continue;
        }
        let key: [u8; 16] = hex_field(&d["rc4_key_hex"]).try_into().unwrap();
        let offset = int(&d["rc4_stream_offset_before"]);
        if offset == 0 {
            stream = Some((McotsCipher::from_rc4_key(key), 0));
        }
        let (cipher, consumed) = stream.as_mut().expect("stream started at offset 0");
        assert_eq!(*consumed, offset, "{}", r["id"]);
        let mut payload = bytes(&r)[11..].to_vec();
        cipher.apply(&mut payload);
        assert_eq!(
            hex::encode(&payload),
            d["plaintext_hex"].as_str().unwrap(),
            "{}",
            r["id"]
        );
        *consumed += payload.len() as u64;
        checked += 1;
    }
    assert_eq!(checked, 8);

    // Server -> client in 2019: its own stream, same key, re-encrypts the
    // accepted replies bit-exactly (the community left one trailing byte raw).
    let session = hex_field(&record(MCOTS, "mcots-2019-out-d5")["decoded"]["session_key_hex"]);
    let session = SessionKey::new(session.try_into().unwrap(), 0);
    let mut outbound = McotsCipher::new(&session);
    let mut position = 0;
    for id in ["mcots-2019-out-d5", "mcots-2019-out-145"] {
        let r = record(MCOTS, id);
        let d = &r["decoded"];
        assert_eq!(int(&d["rc4_stream_offset_before"]), position, "{id}");
        let n = int(&d["bytes_encrypted"]) as usize;
        let mut data = hex_field(&d["plaintext_hex"])[..n].to_vec();
        outbound.apply(&mut data);
        assert_eq!(data, bytes(&r)[11..11 + n].to_vec(), "{id}");
        position += n as u64;
    }
}
