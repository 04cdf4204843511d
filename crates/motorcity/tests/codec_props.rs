//! Round trips and hostile input for the NPS codec and message layouts.

use bytes::{Bytes, BytesMut};
use motorcity::wire::login::{UserLogin, UserValid};
use motorcity::wire::persona::{
    CheckPlateText, DeleteGamePersona, GetPersonaMaps, NewGameAccount, PersonaMapEntry,
    PersonaMaps, PersonaSelection, RegisterGameLogin, ValidatePersonaName,
};
use motorcity::wire::{
    Direction, FrameError, HeaderForm, NpsCodec, NpsFrame, NpsMessage, DEFAULT_MAX_FRAME_LEN,
};
use proptest::prelude::*;
use tokio_util::codec::{Decoder, Encoder};

fn latin1(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<u8>(), 0..max)
        .prop_map(|b| b.into_iter().map(char::from).collect())
}

/// Frames whose header form is the one the decoder expects for their id.
fn client_frame() -> impl Strategy<Value = NpsFrame> {
    (
        any::<u16>(),
        any::<u16>(),
        proptest::collection::vec(any::<u8>(), 0..600),
    )
        .prop_map(|(id, version, body)| {
            let body = Bytes::from(body);
            match HeaderForm::for_message(Direction::ClientToServer, id) {
                HeaderForm::Long => NpsFrame::long(id, version, body).unwrap(),
                HeaderForm::Short => NpsFrame::short(id, body).unwrap(),
            }
        })
}

fn encode_all(frames: &[NpsFrame]) -> BytesMut {
    let mut codec = NpsCodec::server(DEFAULT_MAX_FRAME_LEN);
    let mut out = BytesMut::new();
    for f in frames {
        codec.encode(f.clone(), &mut out).unwrap();
    }
    out
}

fn round_trip<M: NpsMessage + PartialEq + std::fmt::Debug>(message: &M) {
    let frame = message.to_frame().unwrap();
    let mut wire = BytesMut::new();
    NpsCodec::server(usize::from(u16::MAX))
        .encode(frame, &mut wire)
        .unwrap();
    // Replies are decoded as a client would, requests as the server does.
    let direction = if M::ID >= 0x0501 && M::ID <= 0x05ff {
        Direction::ClientToServer
    } else {
        Direction::ServerToClient
    };
    let decoded = NpsCodec::new(direction, usize::from(u16::MAX))
        .decode(&mut wire)
        .unwrap()
        .unwrap();
    assert!(wire.is_empty());
    assert_eq!(&M::from_frame(&decoded).unwrap(), message);
}

proptest! {
    #[test]
    fn frames_survive_any_segmentation(
        frames in proptest::collection::vec(client_frame(), 1..6),
        cuts in proptest::collection::vec(1usize..64, 1..40),
    ) {
        let wire = encode_all(&frames);
        let mut codec = NpsCodec::server(DEFAULT_MAX_FRAME_LEN);
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        let mut rest = &wire[..];
        let mut cut = cuts.iter().cycle();
        while !rest.is_empty() {
            let n = (*cut.next().unwrap()).min(rest.len());
            buf.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
            while let Some(frame) = codec.decode(&mut buf).unwrap() {
                out.push(frame);
            }
        }
        prop_assert!(codec.decode_eof(&mut buf).unwrap().is_none());
        prop_assert_eq!(out, frames);
    }

    #[test]
    fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut codec = NpsCodec::server(DEFAULT_MAX_FRAME_LEN);
        let mut buf = BytesMut::from(&data[..]);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(frame)) => {
                    // Typed parsers must fail cleanly on whatever arrives.
                    let _ = UserLogin::from_frame(&frame);
                    let _ = GetPersonaMaps::from_frame(&frame);
                    let _ = RegisterGameLogin::from_frame(&frame);
                    let _ = ValidatePersonaName::from_frame(&frame);
                    let _ = CheckPlateText::from_frame(&frame);
                    let _ = NewGameAccount::from_frame(&frame);
                    let _ = DeleteGamePersona::from_frame(&frame);
                    let _ = PersonaMaps::parse_body(&frame.body);
                    let _ = UserValid::parse_body(&frame.body);
                }
                Ok(None) => {
                    let _ = codec.decode_eof(&mut buf);
                    break;
                }
                Err(_) => break,
            }
        }
    }

    #[test]
    fn bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = UserLogin::parse_body(&body);
        let _ = PersonaMaps::parse_body(&body);
        let _ = ValidatePersonaName::parse_body(&body);
        let _ = CheckPlateText::parse_body(&body);
        let _ = RegisterGameLogin::parse_body(&body);
        let _ = NewGameAccount::parse_body(&body);
        let _ = DeleteGamePersona::parse_body(&body);
    }

    #[test]
    fn user_login_round_trips(
        ticket in latin1(80),
        reserved in any::<u16>(),
        key in proptest::collection::vec(any::<u8>(), 0..200),
        service in latin1(8),
        trailer in proptest::option::of(any::<[u8; 4]>()),
    ) {
        round_trip(&UserLogin {
            ticket,
            reserved,
            encrypted_session_key: key,
            service_id: service,
            trailer,
        });
    }

    #[test]
    fn persona_messages_round_trip(
        customer in any::<u32>(),
        persona in any::<u32>(),
        shard in any::<u32>(),
        name in latin1(30),
        game in latin1(12),
        entries in proptest::collection::vec(
            (any::<u32>(), any::<u32>(), "[A-Za-z0-9 ]{0,15}"),
            0..6,
        ),
    ) {
        round_trip(&GetPersonaMaps { customer_id: customer });
        round_trip(&RegisterGameLogin(PersonaSelection {
            customer_id: customer,
            persona_id: persona,
            shard_id: shard,
        }));
        round_trip(&ValidatePersonaName {
            customer_id: customer,
            name: name.clone(),
            game: game.clone(),
        });
        round_trip(&NewGameAccount {
            customer_id: customer,
            name: name.clone(),
            game,
            shard_id: shard,
        });
        round_trip(&DeleteGamePersona { customer_id: customer, persona_id: persona });
        round_trip(&CheckPlateText { plate_type: persona, text: name });
        round_trip(&UserValid::new(customer));
        round_trip(&PersonaMaps {
            entries: entries
                .into_iter()
                .map(|(persona_id, shard_id, name)| PersonaMapEntry { persona_id, shard_id, name })
                .collect(),
        });
    }
}

#[test]
fn length_below_header_is_refused() {
    let mut codec = NpsCodec::server(DEFAULT_MAX_FRAME_LEN);
    // 0x501 needs 12 bytes of header but declares 8.
    let mut buf = BytesMut::from(&[0x05, 0x01, 0x00, 0x08, 1, 1, 0, 0][..]);
    assert!(matches!(
        codec.decode(&mut buf),
        Err(FrameError::LengthBelowHeader {
            id: 0x0501,
            length: 8,
            header: 12
        })
    ));
    let mut buf = BytesMut::from(&[0x01, 0x00, 0x00, 0x02][..]);
    assert!(matches!(
        codec.decode(&mut buf),
        Err(FrameError::LengthBelowHeader { id: 0x0100, .. })
    ));
}

#[test]
fn oversized_frames_are_refused_before_buffering() {
    let mut codec = NpsCodec::server(512);
    let mut buf = BytesMut::from(&[0x05, 0x01, 0x02, 0x01][..]);
    assert!(matches!(
        codec.decode(&mut buf),
        Err(FrameError::TooLong {
            id: 0x0501,
            length: 513,
            max: 512
        })
    ));
    let frame = NpsFrame::long(0x0607, 0, Bytes::from(vec![0; 600])).unwrap();
    assert!(matches!(
        codec.encode(frame, &mut BytesMut::new()),
        Err(FrameError::TooLong { .. })
    ));
    assert!(NpsFrame::short(1, Bytes::from(vec![0; 70_000])).is_err());
}

#[test]
fn partial_header_waits_and_eof_reports() {
    let mut codec = NpsCodec::server(DEFAULT_MAX_FRAME_LEN);
    let mut buf = BytesMut::from(&[0x05, 0x32, 0x00][..]);
    assert!(codec.decode(&mut buf).unwrap().is_none());
    assert!(matches!(
        codec.decode_eof(&mut buf),
        Err(FrameError::Truncated { buffered: 3 })
    ));
}

#[test]
fn malformed_bodies_are_errors() {
    // Ticket length runs past the end.
    assert!(UserLogin::parse_body(&[0x00, 0x40, b'a']).is_err());
    // Odd number of hex digits.
    assert!(UserLogin::parse_body(&[0, 1, b'a', 0, 0, 0, 3, b'A', b'B', b'C', 0, 0]).is_err());
    // Non-hex characters.
    assert!(UserLogin::parse_body(&[0, 0, 0, 0, 0, 2, b'Z', b'Z', 0, 0]).is_err());
    // Trailing bytes after a fixed layout.
    assert!(GetPersonaMaps::parse_body(&[0, 0, 0, 1, 9]).is_err());
    // Count larger than the records present.
    let mut maps = vec![0u8; 38];
    maps[1] = 2;
    assert!(PersonaMaps::parse_body(&maps).is_err());
    // Wrong id for the parser.
    let frame = NpsFrame::long(0x0532, 0, Bytes::from_static(&[0, 0, 0, 1])).unwrap();
    assert!(UserLogin::from_frame(&frame).is_err());
    let short = NpsFrame::short(0x0532, Bytes::from_static(&[0, 0, 0, 1])).unwrap();
    assert!(GetPersonaMaps::from_frame(&short).is_err());
}

#[test]
fn empty_persona_list_is_one_zero_record() {
    let frame = PersonaMaps { entries: vec![] }.to_frame().unwrap();
    assert_eq!(frame.total_len(), 12 + 38);
    assert!(frame.body.iter().all(|&b| b == 0));
    assert_eq!(PersonaMaps::from_frame(&frame).unwrap().entries, vec![]);
}

#[test]
fn long_names_are_cut_to_keep_a_nul() {
    let frame = PersonaMaps {
        entries: vec![PersonaMapEntry {
            persona_id: 1,
            shard_id: 2,
            name: "ABCDEFGHIJKLMNOPQRS".into(),
        }],
    }
    .to_frame()
    .unwrap();
    assert_eq!(frame.body[22 + 15], 0);
    assert_eq!(
        PersonaMaps::from_frame(&frame).unwrap().entries[0].name,
        "ABCDEFGHIJKLMNO"
    );
}
