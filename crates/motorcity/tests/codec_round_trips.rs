//! Round trips of the codecs `codec_props.rs` and `mcots.rs` do not
//! cover: the MCOTS messages, the lobby messages and the 0x1101 DES
//! wrapper, and both stream ciphers. Whatever the server writes, its own
//! reader (the simulator's) reads back unchanged.

use bytes::Bytes;
use motorcity::crypto::{LobbyCipher, McotsCipher};
use motorcity::mcots::messages::{
    self, ClientConnect, GenericReply, GenericRequest, McLogin, PlayerInfo, Purchase, StockCarInfo,
};
use motorcity::wire::lobby::{self, ChannelEntry, ChatLine, Inner, LobbyLogin, LobbyUser};
use proptest::prelude::*;

/// Latin-1 text without NUL: the wire's strings end at the first NUL.
fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(1u8..=255, 0..max)
        .prop_map(|b| b.into_iter().map(char::from).collect())
}

fn user() -> impl Strategy<Value = LobbyUser> {
    (any::<u32>(), text(40)).prop_map(|(persona_id, name)| LobbyUser { persona_id, name })
}

proptest! {
    #[test]
    fn generic_request_and_reply_round_trip(
        msg_no: u16, reply_to: u16, result: u32, data: u32, data2: u32,
    ) {
        let request = GenericRequest { msg_no, data, data2 };
        prop_assert_eq!(GenericRequest::parse(&request.to_bytes()), Ok(request));
        let reply = GenericReply { msg_no, reply_to, result, data, data2 };
        prop_assert_eq!(GenericReply::parse(&reply.to_bytes()), Ok(reply));
    }

    #[test]
    fn connect_and_login_round_trip(
        customer_id: u32, persona_id: u32, lot_owner_id: u32, branded_part_id: u32,
        skin_id: u32, mc_version: u32, customer_name in text(12), persona_name in text(12),
    ) {
        let connect = ClientConnect {
            customer_id,
            persona_id,
            customer_name,
            persona_name: persona_name.clone(),
            mc_version,
        };
        let bytes = connect.to_bytes();
        prop_assert_eq!(bytes.len(), 40);
        prop_assert_eq!(messages::msg_no(&bytes), Ok(messages::no::MC_CLIENT_CONNECT));
        prop_assert_eq!(ClientConnect::parse(&bytes), Ok(connect));
        let login = McLogin {
            customer_id,
            persona_id,
            lot_owner_id,
            branded_part_id,
            skin_id,
            persona_name,
            mc_version,
        };
        let bytes = login.to_bytes();
        prop_assert_eq!(bytes.len(), 39);
        prop_assert_eq!(McLogin::parse(&bytes), Ok(login));
    }

    #[test]
    fn purchase_and_stock_round_trip(
        dealer_id: u32, branded_part_id: u32, skin_id: u32, trade_in_car_id: u32,
        starter_cash: u32, brand_id: u32,
        cars in proptest::collection::vec((any::<u32>(), any::<u32>(), any::<bool>()), 0..40),
    ) {
        let purchase = Purchase { dealer_id, branded_part_id, skin_id, trade_in_car_id };
        prop_assert_eq!(Purchase::parse(&purchase.to_bytes()), Ok(purchase));
        let stock = StockCarInfo { starter_cash, dealer_id, brand_id, cars };
        prop_assert_eq!(StockCarInfo::parse(&stock.to_bytes()), Ok(stock));
    }

    #[test]
    fn player_info_and_lists_round_trip(
        player_id: u32, bank: u32, vehicles: u16, plate_code: u16,
        car_info_settings: u32, vehicle_id: u32,
        name in text(12), plate_text in text(7),
        numbers in proptest::array::uniform6(text(2)),
        cars in proptest::collection::vec((any::<u32>(), any::<u32>()), 0..255),
        looks: [u32; 5],
    ) {
        let info = PlayerInfo {
            player_id, name, bank, vehicles, car_numbers: numbers, plate_code, plate_text,
            car_info_settings, vehicle_id,
        };
        prop_assert_eq!(PlayerInfo::parse(&info.to_bytes()), Ok(info));
        prop_assert_eq!(messages::parse_owned_vehicles(&messages::owned_vehicles(&cars)), Ok(cars));
        let physical = messages::physical_info(player_id, looks);
        prop_assert_eq!(messages::parse_physical(&physical), Ok((player_id, looks)));
    }

    #[test]
    fn lobby_list_counts_round_trip(lobbies in proptest::collection::vec((any::<u32>(), text(31)), 0..20)) {
        let bytes = messages::lobbies(&lobbies);
        prop_assert_eq!(bytes.len(), 5 + lobbies.len() * messages::LOBBY_INFO_LEN);
        prop_assert_eq!(messages::parse_lobby_count(&bytes), Ok(lobbies.len() as u16));
    }

    #[test]
    fn rc4_applied_twice_is_identity(key: [u8; 16], chunks in proptest::collection::vec(
        proptest::collection::vec(any::<u8>(), 0..100), 0..8,
    )) {
        // One state per direction, carried across messages.
        let mut tx = McotsCipher::from_rc4_key(key);
        let mut rx = McotsCipher::from_rc4_key(key);
        for chunk in chunks {
            let mut data = chunk.clone();
            tx.apply(&mut data);
            rx.apply(&mut data);
            prop_assert_eq!(data, chunk);
        }
    }

    #[test]
    fn lobby_login_round_trips(
        persona_id: u32, customer_id: u32, flags: u32, hash: [u8; 16],
        user_data in proptest::collection::vec(any::<u8>(), 64),
        persona_name in text(40), dll_version in text(12), host_name in text(12),
        local_ip in text(16),
    ) {
        let login = LobbyLogin {
            persona_id,
            persona_name,
            user_data: user_data.try_into().unwrap(),
            customer_id,
            flags,
            dll_version,
            host_name,
            local_ip,
            hash,
        };
        let frame = login.to_frame().unwrap();
        prop_assert_eq!(frame.id, lobby::ids::LOGIN);
        prop_assert_eq!(LobbyLogin::parse(&frame.body), Ok(login));
    }

    #[test]
    fn sealed_commands_open_in_order_across_one_chain(
        key: [u8; 8],
        commands in proptest::collection::vec(
            (any::<u16>(), proptest::collection::vec(any::<u8>(), 0..200)),
            1..8,
        ),
    ) {
        let mut tx = LobbyCipher::from_des_key(key);
        let mut rx = LobbyCipher::from_des_key(key);
        for (id, body) in commands {
            let inner = Inner::new(id, Bytes::from(body));
            let padded = inner.to_padded().unwrap();
            prop_assert_eq!(padded.len() % 8, 0);
            prop_assert_eq!(Inner::parse(&padded), Ok(inner.clone()));
            let frame = inner.seal(&mut tx).unwrap();
            prop_assert_eq!(frame.id, lobby::ids::ENCRYPTED);
            prop_assert_eq!(Inner::open(&frame, &mut rx).unwrap(), inner);
        }
    }

    #[test]
    fn des_chain_round_trips_whole_blocks(key: [u8; 8], blocks in proptest::collection::vec(any::<[u8; 8]>(), 0..20)) {
        let plain: Vec<u8> = blocks.concat();
        let mut data = plain.clone();
        LobbyCipher::from_des_key(key).encrypt(&mut data).unwrap();
        LobbyCipher::from_des_key(key).decrypt(&mut data).unwrap();
        prop_assert_eq!(data, plain);
    }

    #[test]
    fn partial_blocks_are_refused_untouched(key: [u8; 8], data in proptest::collection::vec(any::<u8>(), 0..64)) {
        prop_assume!(data.len() % 8 != 0);
        let mut copy = data.clone();
        prop_assert!(LobbyCipher::from_des_key(key).decrypt(&mut copy).is_err());
        prop_assert_eq!(copy, data);
    }

    #[test]
    fn lobby_replies_round_trip(
        channel: u32,
        channels in proptest::collection::vec((any::<u32>(), text(30), any::<u16>()), 0..10),
        users in proptest::collection::vec(user(), 0..10),
        from in user(),
        said in text(255),
        persona_id: u32,
    ) {
        let channels: Vec<ChannelEntry> = channels
            .into_iter()
            .map(|(id, name, population)| ChannelEntry { id, name, population })
            .collect();
        let list = lobby::riff_list(&channels).unwrap();
        prop_assert_eq!(lobby::parse_riff_list(&list.body), Ok(channels));
        let mini = lobby::mini_user_list(channel, &users).unwrap();
        prop_assert_eq!(lobby::parse_mini_user_list(&mini.body), Ok((channel, users)));
        let chat = lobby::chat(&said).unwrap();
        prop_assert_eq!(chat.id, lobby::ids::CHAT);
        prop_assert_eq!(lobby::parse_chat(&chat.body), Ok(said.clone()));
        let line = ChatLine { channel, from, text: said };
        let relay = lobby::chat_relay(&line).unwrap();
        prop_assert_eq!(lobby::parse_chat_relay(&relay.body), Ok(line));
        let response = lobby::login_response(persona_id).unwrap();
        prop_assert_eq!(response.total_len(), lobby::LOGIN_RESP_LEN);
        prop_assert_eq!(lobby::parse_login_response(&response), Ok(persona_id));
        prop_assert_eq!(lobby::parse_u32(&lobby::u32s(&[channel]), "channel"), Ok(channel));
    }
}
