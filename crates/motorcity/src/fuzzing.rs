//! Entry points for the fuzz targets in `fuzz/` and for the regression
//! tests that replay what they found.
//!
//! Each function feeds arbitrary bytes through the same decoders and
//! parsers the servers run on network input, in the same order, and checks
//! the invariants the codecs promise (a decoded frame re-encodes to the
//! bytes it came from, a parsed message survives being written and read
//! again). A panic here is a bug: either a codec panics on hostile input or
//! a round trip is broken. Living in the crate, not in `fuzz/`, lets plain
//! `cargo test` replay every crash input without the fuzzer.

use std::sync::OnceLock;

use bytes::BytesMut;
use tokio_util::codec::{Decoder, Encoder};

use crate::crypto::{LobbyCipher, LoginKey, McotsCipher, SessionKey};
use crate::mcots::frame::TomcCodec;
use crate::mcots::messages::{self, no};
use crate::persona::check_persona_name;
use crate::wire::lobby::{self, ids as lobby_ids, Inner, LobbyLogin};
use crate::wire::login::{UserLogin, UserValid};
use crate::wire::persona::{
    CheckPlateText, DeleteGamePersona, GetPersonaMaps, NewGameAccount, PersonaMaps,
    RegisterGameLogin, RegisterGameLogout, ValidatePersonaName,
};
use crate::wire::{ids, NpsCodec, NpsFrame, NpsMessage, DEFAULT_MAX_FRAME_LEN};

/// The session keys of the 2019 capture (a community test session; see
/// `tests/fixtures`), so that the captured lobby and MCOTS streams used as
/// seeds decrypt to real commands and the fuzzer starts from those.
const DES_KEY: [u8; 8] = [0x2f, 0x7c, 0xbc, 0xb4, 0x8a, 0xc7, 0x29, 0x48];
const RC4_KEY: [u8; 16] = [
    0x2f, 0x7c, 0xbc, 0xb4, 0x8a, 0xc7, 0x29, 0x48, 0xa8, 0xa8, 0x54, 0x4e, 0x06, 0x07, 0x0f, 0x29,
];

/// The community's published 2019 test key (never a real server's), so the
/// captured 0x501 seeds decrypt and the session-key blob parser runs.
fn login_key() -> &'static LoginKey {
    static KEY: OnceLock<LoginKey> = OnceLock::new();
    KEY.get_or_init(|| {
        LoginKey::from_pem(include_str!("../tests/fixtures/keys/test-key-2019.pem"))
            .expect("the test key parses")
    })
}

/// Feeds `data` to a decoder in chunks of `chunk` bytes (0 = all at once),
/// as TCP may deliver it, and returns every decoded item with the exact
/// bytes it was decoded from.
fn decode_stream<D: Decoder>(codec: &mut D, data: &[u8], chunk: usize) -> Vec<(D::Item, Vec<u8>)> {
    let step = if chunk == 0 { data.len().max(1) } else { chunk };
    let mut buf = BytesMut::new();
    let mut consumed = 0usize;
    let mut out = Vec::new();
    for piece in data.chunks(step) {
        buf.extend_from_slice(piece);
        loop {
            let before = buf.len();
            match codec.decode(&mut buf) {
                Ok(Some(item)) => {
                    let used = before - buf.len();
                    out.push((item, data[consumed..consumed + used].to_vec()));
                    consumed += used;
                }
                Ok(None) => break,
                // The servers close the connection on a framing error.
                Err(_) => return out,
            }
        }
    }
    let _ = codec.decode_eof(&mut buf);
    out
}

/// The chunk size a fuzz input asks for in its first byte (0 = whole).
fn split_chunk(data: &[u8]) -> (usize, &[u8]) {
    match data.split_first() {
        Some((&first, rest)) => (usize::from(first % 32), rest),
        None => (0, data),
    }
}

/// A parsed message written back and read again must be the same message.
fn assert_message_round_trip<M: NpsMessage + PartialEq + std::fmt::Debug>(message: &M) {
    let Ok(frame) = message.to_frame() else {
        return;
    };
    let again = M::from_frame(&frame).expect("a written message parses");
    assert_eq!(&again, message, "message {:#06x} round trip", M::ID);
}

fn check_nps_message<M: NpsMessage + PartialEq + std::fmt::Debug>(frame: &NpsFrame) {
    if let Ok(message) = M::from_frame(frame) {
        assert_message_round_trip(&message);
    }
}

/// Re-encoding a decoded NPS frame gives back the bytes it came from.
fn assert_nps_frame_round_trip(frame: &NpsFrame, wire: &[u8]) {
    let mut again = BytesMut::new();
    NpsCodec::server(usize::from(u16::MAX))
        .encode(frame.clone(), &mut again)
        .expect("a decoded frame re-encodes");
    assert_eq!(&again[..], wire, "NPS frame {:#06x} re-encodes", frame.id);
}

/// What the login (8226) and persona (8228) servers do with client bytes:
/// cut them into frames with the server codec, then parse each frame by
/// its id with the message's own parser.
pub fn nps(data: &[u8]) {
    let (chunk, data) = split_chunk(data);
    let mut codec = NpsCodec::server(DEFAULT_MAX_FRAME_LEN);
    for (frame, wire) in decode_stream(&mut codec, data, chunk) {
        assert_nps_frame_round_trip(&frame, &wire);
        match frame.id {
            ids::USER_LOGIN => {
                // The RSA step that follows has its own target
                // (`login_rsa`): at about a millisecond per decryption it
                // would starve this one.
                check_nps_message::<UserLogin>(&frame)
            }
            ids::GET_PERSONA_MAPS => check_nps_message::<GetPersonaMaps>(&frame),
            ids::REGISTER_GAME_LOGIN => check_nps_message::<RegisterGameLogin>(&frame),
            ids::REGISTER_GAME_LOGOUT => check_nps_message::<RegisterGameLogout>(&frame),
            ids::VALIDATE_PERSONA_NAME => {
                if let Ok(m) = ValidatePersonaName::from_frame(&frame) {
                    let _ = check_persona_name(&m.name);
                }
            }
            ids::CHECK_TOKEN => {
                if let Ok(m) = CheckPlateText::from_frame(&frame) {
                    assert_message_round_trip(&m);
                    let _ = crate::persona::check_plate_text(&m);
                }
            }
            ids::NEW_GAME_ACCOUNT => {
                if let Ok(m) = NewGameAccount::from_frame(&frame) {
                    assert_message_round_trip(&m);
                    let _ = check_persona_name(&m.name);
                }
            }
            ids::DELETE_GAME_PERSONA => check_nps_message::<DeleteGamePersona>(&frame),
            _ => {}
        }
        // The client side (simulator) reads these replies from a server.
        let _ = UserValid::parse_body(&frame.body);
        let _ = PersonaMaps::parse_body(&frame.body);
        let _ = lobby::parse_login_response(&frame);
    }
}

/// The login server's step after parsing a 0x501: the RSA-OAEP
/// decryption of the session key (any length, any bytes) and the parser of
/// the decrypted key blob.
pub fn login_rsa(data: &[u8]) {
    if let Ok(key) = login_key().decrypt_session_key(data) {
        let again = SessionKey::from_blob(&key.to_blob()).expect("a key's own blob parses");
        assert_eq!(again.as_bytes(), key.as_bytes());
        assert_eq!(again.expiry(), key.expiry());
    }
}

/// What the lobby server (7003) does with client bytes: the clear 0x100
/// login first, then 0x1101 frames opened with the connection's DES chain
/// and routed by their inner id.
///
/// The first byte after the chunk byte chooses the mode: odd feeds the rest
/// as the wire stream; even treats the rest as plaintext inner commands
/// (u16 id, u16 length, body), which are sealed, opened again (must give
/// the same command) and routed, so the fuzzer reaches the inner parsers it
/// could never reach through DES.
pub fn lobby(data: &[u8]) {
    let (chunk, data) = split_chunk(data);
    let Some((&mode, data)) = data.split_first() else {
        return;
    };
    if mode % 2 == 1 {
        lobby_wire(data, chunk);
    } else {
        lobby_plain(data);
    }
}

fn lobby_wire(data: &[u8], chunk: usize) {
    let mut codec = NpsCodec::server(DEFAULT_MAX_FRAME_LEN);
    let mut rx = LobbyCipher::from_des_key(DES_KEY);
    let mut logged_in = false;
    for (frame, wire) in decode_stream(&mut codec, data, chunk) {
        assert_nps_frame_round_trip(&frame, &wire);
        if !logged_in {
            if frame.id != lobby_ids::LOGIN {
                return;
            }
            let Ok(login) = LobbyLogin::parse(&frame.body) else {
                return;
            };
            let again = login.to_frame().expect("a parsed login re-encodes");
            assert_eq!(
                LobbyLogin::parse(&again.body).expect("a written login parses"),
                login
            );
            logged_in = true;
            continue;
        }
        if frame.id == lobby_ids::ENCRYPTED {
            match Inner::open(&frame, &mut rx) {
                Ok(inner) => route_inner(&inner),
                Err(_) => return,
            }
        }
    }
}

fn lobby_plain(mut data: &[u8]) {
    let mut tx = LobbyCipher::from_des_key(DES_KEY);
    let mut rx = LobbyCipher::from_des_key(DES_KEY);
    while !data.is_empty() {
        let Ok(inner) = Inner::parse(data) else {
            return;
        };
        let used = 4 + inner.body.len();
        data = &data[used..];
        let frame = inner.seal(&mut tx).expect("a parsed inner message seals");
        let opened = Inner::open(&frame, &mut rx).expect("a sealed message opens");
        assert_eq!(opened, inner, "seal/open round trip");
        route_inner(&opened);
    }
}

/// The parsers the lobby's routing table applies to an inner command, and
/// the simulator's readers of the replies.
fn route_inner(inner: &Inner) {
    match inner.id {
        lobby_ids::GET_MINI_USER_LIST
        | lobby_ids::OPEN_COMM_CHANNEL
        | lobby_ids::CLOSE_COMM_CHANNEL => {
            let _ = lobby::parse_u32(&inner.body, "channel");
        }
        lobby_ids::CHAT => {
            if let Ok(text) = lobby::parse_chat(&inner.body) {
                if let Ok(again) = lobby::chat(&text) {
                    assert_eq!(lobby::parse_chat(&again.body).as_ref(), Ok(&text));
                }
            }
        }
        lobby_ids::RIFF_LIST => {
            if let Ok(list) = lobby::parse_riff_list(&inner.body) {
                let again = lobby::riff_list(&list).expect("a parsed list re-encodes");
                assert_eq!(lobby::parse_riff_list(&again.body), Ok(list));
            }
        }
        lobby_ids::MINI_USER_LIST => {
            if let Ok((channel, users)) = lobby::parse_mini_user_list(&inner.body) {
                let again = lobby::mini_user_list(channel, &users).expect("re-encodes");
                assert_eq!(
                    lobby::parse_mini_user_list(&again.body),
                    Ok((channel, users))
                );
            }
        }
        lobby_ids::CHAT_RELAY => {
            if let Ok(line) = lobby::parse_chat_relay(&inner.body) {
                let again = lobby::chat_relay(&line).expect("re-encodes");
                assert_eq!(lobby::parse_chat_relay(&again.body), Ok(line));
            }
        }
        _ => {}
    }
}

/// What the MCOTS server (43300) does with client bytes: `TOMC` frames,
/// RC4 on flagged payloads, the message number, then the parser of that
/// message. Every reply parser the simulator uses runs too.
pub fn mcots(data: &[u8]) {
    let (chunk, data) = split_chunk(data);
    let mut codec = TomcCodec::default();
    let mut rx = McotsCipher::from_rc4_key(RC4_KEY);
    for (frame, wire) in decode_stream(&mut codec, data, chunk) {
        let mut again = BytesMut::new();
        TomcCodec::default()
            .encode(frame.clone(), &mut again)
            .expect("a decoded TOMC frame re-encodes");
        assert_eq!(&again[..], &wire[..], "TOMC frame re-encodes");
        let mut payload = frame.payload.to_vec();
        if frame.encrypted() {
            rx.apply(&mut payload);
        }
        mcots_payload(&payload);
    }
}

fn mcots_payload(payload: &[u8]) {
    let Ok(number) = messages::msg_no(payload) else {
        return;
    };
    match number {
        no::MC_CLIENT_CONNECT => {
            let _ = messages::ClientConnect::parse(payload);
        }
        no::MC_LOGIN => {
            let _ = messages::McLogin::parse(payload);
        }
        no::MC_SET_OPTIONS => {
            let _ = messages::SetOptions::parse(payload);
        }
        no::MC_UPDATE_PLAYER_PHYSICAL => {
            let _ = messages::parse_physical(payload);
        }
        no::MC_PURCHASE_STOCK_CAR => {
            if let Ok(p) = messages::Purchase::parse(payload) {
                assert_eq!(messages::Purchase::parse(&p.to_bytes()), Ok(p));
            }
        }
        _ => {}
    }
    if let Ok(request) = messages::GenericRequest::parse(payload) {
        assert_eq!(
            messages::GenericRequest::parse(&request.to_bytes()),
            Ok(request)
        );
    }
    if let Ok(reply) = messages::GenericReply::parse(payload) {
        assert_eq!(messages::GenericReply::parse(&reply.to_bytes()), Ok(reply));
    }
    if let Ok(info) = messages::StockCarInfo::parse(payload) {
        assert_eq!(messages::StockCarInfo::parse(&info.to_bytes()), Ok(info));
    }
    let _ = messages::PlayerInfo::parse(payload);
    let _ = messages::parse_owned_vehicles(payload);
    let _ = messages::parse_lobby_count(payload);
}
