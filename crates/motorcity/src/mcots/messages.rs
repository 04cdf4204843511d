//! MCOTS payloads (little-endian, spec §8.1–8.3). Requests marked [V] in
//! the spec are parsed as captured; every reply except the generic reply
//! and MC_LOGIN_COMPLETE is a community layout no client has confirmed.

use bytes::{BufMut, Bytes, BytesMut};

use crate::wire::{decode_latin1, encode_latin1, ParseError};

/// Message numbers (spec §8.2).
pub mod no {
    pub const MC_SUCCESS: u16 = 101;
    pub const MC_FAILED: u16 = 102;
    pub const MC_PURCHASE_RESULT: u16 = 103;
    pub const MC_LOGIN: u16 = 105;
    pub const MC_LOGOUT: u16 = 106;
    pub const MC_GET_PLAYER_INFO: u16 = 108;
    pub const MC_SET_OPTIONS: u16 = 109;
    pub const MC_PLAYER_INFO: u16 = 122;
    pub const MC_STOCK_CAR_INFO: u16 = 141;
    pub const MC_PURCHASE_STOCK_CAR: u16 = 142;
    pub const MC_GET_COMPLETE_VEHICLE_INFO: u16 = 145;
    pub const MC_GET_OWNED_VEHICLES: u16 = 172;
    pub const MC_OWNED_VEHICLES_LIST: u16 = 173;
    pub const MC_GET_OWNED_PARTS: u16 = 174;
    pub const MC_PARTS_ASSEMBLY: u16 = 175;
    pub const MC_LOGIN_COMPLETE: u16 = 213;
    pub const MC_GET_PLAYER_PHYSICAL: u16 = 264;
    pub const MC_PLAYER_PHYSICAL_INFO: u16 = 265;
    pub const MC_UPDATE_PLAYER_PHYSICAL: u16 = 266;
    pub const MC_GET_ARCADE_CARS: u16 = 322;
    pub const MC_ARCADE_CARS: u16 = 323;
    pub const MC_GET_LOBBIES: u16 = 324;
    pub const MC_LOBBIES: u16 = 325;
    pub const MC_GET_PLAYER_RACING_HISTORY: u16 = 361;
    pub const MC_PLAYER_RACING_HISTORY: u16 = 362;
    pub const MC_GET_GAME_URLS: u16 = 363;
    pub const MC_GAME_URLS: u16 = 364;
    pub const MC_GET_MCO_TUNABLES: u16 = 389;
    pub const MC_TUNABLES: u16 = 390;
    pub const MC_ENTRY_FEES: u16 = 408;
    pub const MC_CLIENT_CONNECT: u16 = 438;
    pub const MC_TRACKING_MSG: u16 = 440;
}

/// Little-endian reads that fail instead of panicking.
pub struct Le<'a>(&'a [u8]);

impl<'a> Le<'a> {
    /// Reads over `buf`.
    pub fn new(buf: &'a [u8]) -> Le<'a> {
        Le(buf)
    }

    /// `n` raw bytes.
    pub fn bytes(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], ParseError> {
        if self.0.len() < n {
            return Err(ParseError::Truncated {
                field,
                needed: n,
                available: self.0.len(),
            });
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    /// u8.
    pub fn u8(&mut self, field: &'static str) -> Result<u8, ParseError> {
        Ok(self.bytes(1, field)?[0])
    }

    /// u16 LE.
    pub fn u16(&mut self, field: &'static str) -> Result<u16, ParseError> {
        let b = self.bytes(2, field)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    /// u32 LE.
    pub fn u32(&mut self, field: &'static str) -> Result<u32, ParseError> {
        let b = self.bytes(4, field)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A fixed-width NUL-padded string.
    pub fn fixed(&mut self, n: usize, field: &'static str) -> Result<String, ParseError> {
        let raw = self.bytes(n, field)?;
        let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
        Ok(decode_latin1(&raw[..end]))
    }
}

/// Writes a fixed-width NUL-padded string (cut to leave room for a NUL).
pub fn put_fixed(b: &mut BytesMut, text: &str, n: usize) {
    let mut bytes = encode_latin1(text);
    bytes.truncate(n.saturating_sub(1));
    bytes.resize(n, 0);
    b.put_slice(&bytes);
}

/// The message number at the start of a plaintext payload.
pub fn msg_no(payload: &[u8]) -> Result<u16, ParseError> {
    Le::new(payload).u16("message number")
}

/// GenericRequest: `u16 msgNo, u32 data, u32 data2` [V].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenericRequest {
    pub msg_no: u16,
    pub data: u32,
    pub data2: u32,
}

impl GenericRequest {
    /// Parses; a request shorter than 10 bytes reads missing fields as 0
    /// because the community code sent some of them shorter.
    pub fn parse(payload: &[u8]) -> Result<GenericRequest, ParseError> {
        let mut r = Le::new(payload);
        let msg_no = r.u16("message number")?;
        let data = r.u32("data").unwrap_or(0);
        let data2 = r.u32("data2").unwrap_or(0);
        Ok(GenericRequest {
            msg_no,
            data,
            data2,
        })
    }

    /// The 10 payload bytes.
    pub fn to_bytes(&self) -> Bytes {
        let mut b = BytesMut::with_capacity(10);
        b.put_u16_le(self.msg_no);
        b.put_u32_le(self.data);
        b.put_u32_le(self.data2);
        b.freeze()
    }
}

/// GenericReply: `u16 msgNo, u16 msgReply, u32 result, u32 data, u32
/// data2` [A].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenericReply {
    pub msg_no: u16,
    pub reply_to: u16,
    pub result: u32,
    pub data: u32,
    pub data2: u32,
}

impl GenericReply {
    /// MC_SUCCESS for `reply_to`.
    pub fn success(reply_to: u16) -> GenericReply {
        GenericReply::new(no::MC_SUCCESS, reply_to)
    }

    /// MC_FAILED for `reply_to`.
    pub fn failed(reply_to: u16) -> GenericReply {
        GenericReply::new(no::MC_FAILED, reply_to)
    }

    /// Any generic reply with zero result and data.
    pub fn new(msg_no: u16, reply_to: u16) -> GenericReply {
        GenericReply {
            msg_no,
            reply_to,
            result: 0,
            data: 0,
            data2: 0,
        }
    }

    /// The 16 payload bytes (without the community's stray 17th byte).
    pub fn to_bytes(&self) -> Bytes {
        let mut b = BytesMut::with_capacity(16);
        b.put_u16_le(self.msg_no);
        b.put_u16_le(self.reply_to);
        b.put_u32_le(self.result);
        b.put_u32_le(self.data);
        b.put_u32_le(self.data2);
        b.freeze()
    }

    /// Parses 16 bytes (or more: the community's 17th byte is tolerated).
    pub fn parse(payload: &[u8]) -> Result<GenericReply, ParseError> {
        let mut r = Le::new(payload);
        Ok(GenericReply {
            msg_no: r.u16("message number")?,
            reply_to: r.u16("reply to")?,
            result: r.u32("result")?,
            data: r.u32("data")?,
            data2: r.u32("data2")?,
        })
    }
}

/// MC_CLIENT_CONNECT_MSG and MC_LOGIN share the ids the server needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConnect {
    pub customer_id: u32,
    pub persona_id: u32,
    pub customer_name: String,
    pub persona_name: String,
    pub mc_version: u32,
}

impl ClientConnect {
    /// 40 bytes [V].
    pub fn parse(payload: &[u8]) -> Result<ClientConnect, ParseError> {
        let mut r = Le::new(payload);
        r.u16("message number")?;
        Ok(ClientConnect {
            customer_id: r.u32("customer id")?,
            persona_id: r.u32("persona id")?,
            customer_name: r.fixed(13, "customer name")?,
            persona_name: r.fixed(13, "persona name")?,
            mc_version: r.u32("mc version")?,
        })
    }

    /// The payload the client sends.
    pub fn to_bytes(&self) -> Bytes {
        let mut b = BytesMut::with_capacity(40);
        b.put_u16_le(no::MC_CLIENT_CONNECT);
        b.put_u32_le(self.customer_id);
        b.put_u32_le(self.persona_id);
        put_fixed(&mut b, &self.customer_name, 13);
        put_fixed(&mut b, &self.persona_name, 13);
        b.put_u32_le(self.mc_version);
        b.freeze()
    }
}

/// MC_LOGIN, 39 bytes [V].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McLogin {
    pub customer_id: u32,
    pub persona_id: u32,
    pub lot_owner_id: u32,
    pub branded_part_id: u32,
    pub skin_id: u32,
    pub persona_name: String,
    pub mc_version: u32,
}

impl McLogin {
    pub fn parse(payload: &[u8]) -> Result<McLogin, ParseError> {
        let mut r = Le::new(payload);
        r.u16("message number")?;
        Ok(McLogin {
            customer_id: r.u32("customer id")?,
            persona_id: r.u32("persona id")?,
            lot_owner_id: r.u32("lot owner id")?,
            branded_part_id: r.u32("branded part id")?,
            skin_id: r.u32("skin id")?,
            persona_name: r.fixed(13, "persona name")?,
            mc_version: r.u32("mc version")?,
        })
    }

    pub fn to_bytes(&self) -> Bytes {
        let mut b = BytesMut::with_capacity(39);
        b.put_u16_le(no::MC_LOGIN);
        b.put_u32_le(self.customer_id);
        b.put_u32_le(self.persona_id);
        b.put_u32_le(self.lot_owner_id);
        b.put_u32_le(self.branded_part_id);
        b.put_u32_le(self.skin_id);
        put_fixed(&mut b, &self.persona_name, 13);
        b.put_u32_le(self.mc_version);
        b.freeze()
    }
}

/// MC_PURCHASE_STOCK_CAR [C]: dealer, car, skin, trade-in car.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purchase {
    pub dealer_id: u32,
    pub branded_part_id: u32,
    pub skin_id: u32,
    pub trade_in_car_id: u32,
}

impl Purchase {
    pub fn parse(payload: &[u8]) -> Result<Purchase, ParseError> {
        let mut r = Le::new(payload);
        r.u16("message number")?;
        Ok(Purchase {
            dealer_id: r.u32("dealer id")?,
            branded_part_id: r.u32("branded part id")?,
            skin_id: r.u32("skin id")?,
            trade_in_car_id: r.u32("trade-in car id")?,
        })
    }

    pub fn to_bytes(&self) -> Bytes {
        let mut b = BytesMut::with_capacity(18);
        b.put_u16_le(no::MC_PURCHASE_STOCK_CAR);
        b.put_u32_le(self.dealer_id);
        b.put_u32_le(self.branded_part_id);
        b.put_u32_le(self.skin_id);
        b.put_u32_le(self.trade_in_car_id);
        b.freeze()
    }
}

/// Dealer stock (MC_STOCK_CAR_INFO reply) [C].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockCarInfo {
    pub starter_cash: u32,
    pub dealer_id: u32,
    pub brand_id: u32,
    /// `(branded part id, retail price, deal of the day)`.
    pub cars: Vec<(u32, u32, bool)>,
}

impl StockCarInfo {
    pub fn to_bytes(&self) -> Bytes {
        let mut b = BytesMut::new();
        b.put_u16_le(no::MC_STOCK_CAR_INFO);
        b.put_u32_le(self.starter_cash);
        b.put_u32_le(self.dealer_id);
        b.put_u32_le(self.brand_id);
        b.put_u16_le(u16::try_from(self.cars.len()).unwrap_or(u16::MAX));
        b.put_u8(0);
        for (id, price, deal) in &self.cars {
            b.put_u32_le(*id);
            b.put_u32_le(*price);
            b.put_u16_le(u16::from(*deal));
        }
        b.freeze()
    }

    pub fn parse(payload: &[u8]) -> Result<StockCarInfo, ParseError> {
        let mut r = Le::new(payload);
        r.u16("message number")?;
        let starter_cash = r.u32("starter cash")?;
        let dealer_id = r.u32("dealer id")?;
        let brand_id = r.u32("brand id")?;
        let n = r.u16("car count")?;
        r.u8("more to come")?;
        let mut cars = Vec::new();
        for _ in 0..n {
            cars.push((r.u32("car")?, r.u32("price")?, r.u16("deal")? != 0));
        }
        Ok(StockCarInfo {
            starter_cash,
            dealer_id,
            brand_id,
            cars,
        })
    }
}

/// MC_OWNED_VEHICLES_LIST [C]: u8 count, `{u32 vehicle, u32 car}`.
pub fn owned_vehicles(cars: &[(u32, u32)]) -> Bytes {
    let mut b = BytesMut::new();
    b.put_u16_le(no::MC_OWNED_VEHICLES_LIST);
    let n = cars.len().min(usize::from(u8::MAX));
    b.put_u8(u8::try_from(n).unwrap_or(u8::MAX));
    for (vehicle, car) in &cars[..n] {
        b.put_u32_le(*vehicle);
        b.put_u32_le(*car);
    }
    b.freeze()
}

/// Reads MC_OWNED_VEHICLES_LIST.
pub fn parse_owned_vehicles(payload: &[u8]) -> Result<Vec<(u32, u32)>, ParseError> {
    let mut r = Le::new(payload);
    r.u16("message number")?;
    let n = r.u8("count")?;
    (0..n)
        .map(|_| Ok((r.u32("vehicle id")?, r.u32("branded part id")?)))
        .collect()
}

/// One record of the parts assembly reply (34 bytes) [C].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartRecord {
    pub part_id: u32,
    pub parent_part_id: u32,
    pub branded_part_id: u32,
    pub repair_price: u32,
    pub junk_price: u32,
    pub wear: u32,
    pub attachment_point: u8,
    pub damage: u8,
    pub retail_price: u32,
    pub max_wear: u32,
}

/// Parts assembly reply [C]: u32 owner, u8 count, records.
pub fn parts_assembly(owner: u32, parts: &[PartRecord]) -> Bytes {
    let mut b = BytesMut::new();
    b.put_u16_le(no::MC_PARTS_ASSEMBLY);
    b.put_u32_le(owner);
    let n = parts.len().min(usize::from(u8::MAX));
    b.put_u8(u8::try_from(n).unwrap_or(u8::MAX));
    for p in &parts[..n] {
        b.put_u32_le(p.part_id);
        b.put_u32_le(p.parent_part_id);
        b.put_u32_le(p.branded_part_id);
        b.put_u32_le(p.repair_price);
        b.put_u32_le(p.junk_price);
        b.put_u32_le(p.wear);
        b.put_u8(p.attachment_point);
        b.put_u8(p.damage);
        b.put_u32_le(p.retail_price);
        b.put_u32_le(p.max_wear);
    }
    b.freeze()
}

/// The head of MC_PLAYER_INFO that the spec lists in order [C]; the
/// counters after the current vehicle are not sent because their layout
/// is not known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayerInfo {
    pub player_id: u32,
    pub name: String,
    pub bank: u32,
    pub vehicles: u16,
    pub car_numbers: [String; 6],
    pub plate_code: u16,
    pub plate_text: String,
    pub car_info_settings: u32,
    pub vehicle_id: u32,
}

impl PlayerInfo {
    pub fn to_bytes(&self) -> Bytes {
        let mut b = BytesMut::new();
        b.put_u16_le(no::MC_PLAYER_INFO);
        b.put_u32_le(self.player_id);
        put_fixed(&mut b, &self.name, 13);
        put_fixed(&mut b, "", 12);
        b.put_u8(0);
        b.put_u32_le(self.bank);
        b.put_u16_le(self.vehicles);
        b.put_u8(1);
        for n in &self.car_numbers {
            put_fixed(&mut b, n, 3);
        }
        b.put_u16_le(self.plate_code);
        put_fixed(&mut b, &self.plate_text, 8);
        b.put_u32_le(self.car_info_settings);
        b.put_u32_le(self.vehicle_id);
        b.freeze()
    }

    pub fn parse(payload: &[u8]) -> Result<PlayerInfo, ParseError> {
        let mut r = Le::new(payload);
        r.u16("message number")?;
        let player_id = r.u32("player id")?;
        let name = r.fixed(13, "name")?;
        r.bytes(12, "licence")?;
        r.u8("driver class")?;
        let bank = r.u32("bank")?;
        let vehicles = r.u16("vehicles")?;
        r.u8("logged on")?;
        let mut car_numbers: [String; 6] = Default::default();
        for n in &mut car_numbers {
            *n = r.fixed(3, "car number")?;
        }
        Ok(PlayerInfo {
            player_id,
            name,
            bank,
            vehicles,
            car_numbers,
            plate_code: r.u16("plate code")?,
            plate_text: r.fixed(8, "plate text")?,
            car_info_settings: r.u32("car info settings")?,
            vehicle_id: r.u32("vehicle id")?,
        })
    }
}

/// MC_SET_OPTIONS, 34 bytes [V].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetOptions {
    pub plate_code: u16,
    pub plate_text: String,
    pub car_info_settings: u32,
    pub car_numbers: [String; 6],
}

impl SetOptions {
    pub fn parse(payload: &[u8]) -> Result<SetOptions, ParseError> {
        let mut r = Le::new(payload);
        r.u16("message number")?;
        let plate_code = r.u16("plate code")?;
        let plate_text = r.fixed(8, "plate text")?;
        let car_info_settings = r.u32("car info settings")?;
        let mut car_numbers: [String; 6] = Default::default();
        for n in &mut car_numbers {
            *n = r.fixed(3, "car number")?;
        }
        Ok(SetOptions {
            plate_code,
            plate_text,
            car_info_settings,
            car_numbers,
        })
    }
}

/// MC_UPDATE_PLAYER_PHYSICAL, 26 bytes [V]: player id, then body type,
/// hair, skin, shirt and pants colours.
pub fn parse_physical(payload: &[u8]) -> Result<(u32, [u32; 5]), ParseError> {
    let mut r = Le::new(payload);
    r.u16("message number")?;
    let player = r.u32("player id")?;
    let mut looks = [0u32; 5];
    for v in &mut looks {
        *v = r.u32("appearance")?;
    }
    Ok((player, looks))
}

/// MC_PLAYER_PHYSICAL_INFO: same layout as the update [C].
pub fn physical_info(player: u32, looks: [u32; 5]) -> Bytes {
    let mut b = BytesMut::new();
    b.put_u16_le(no::MC_PLAYER_PHYSICAL_INFO);
    b.put_u32_le(player);
    for v in looks {
        b.put_u32_le(v);
    }
    b.freeze()
}

/// Size of one LobbyInfo record (spec §8.3).
pub const LOBBY_INFO_LEN: usize = 563;

/// MC_LOBBIES [C]: u16 count, u8 more, LobbyInfo records. Only id, name,
/// player limits and laps are filled in; everything else is zero.
pub fn lobbies(list: &[(u32, String)]) -> Bytes {
    let mut b = BytesMut::new();
    b.put_u16_le(no::MC_LOBBIES);
    b.put_u16_le(u16::try_from(list.len()).unwrap_or(u16::MAX));
    b.put_u8(0);
    for (id, name) in list {
        let start = b.len();
        b.put_u32_le(*id);
        b.put_u32_le(0); // raceTypeId
        b.put_u32_le(0); // turfId
        put_fixed(&mut b, name, 32);
        put_fixed(&mut b, name, 256);
        put_fixed(&mut b, "", 11);
        b.put_bytes(0, 8 * 4);
        // linear, min/max/default players, playersEnabled, min/max/default laps
        for v in [0u16, 1, 8, 4, 1, 1, 10, 3] {
            b.put_u16_le(v);
        }
        b.resize(start + LOBBY_INFO_LEN, 0);
    }
    b.freeze()
}

/// The entry fee / purse list after MC_LOBBIES [C]: one zero pair per
/// lobby (racing for money is not served).
pub fn entry_fees(n: usize) -> Bytes {
    let mut b = BytesMut::new();
    b.put_u16_le(no::MC_ENTRY_FEES);
    b.put_u16_le(u16::try_from(n).unwrap_or(u16::MAX));
    b.put_u8(0);
    b.put_bytes(0, n * 8);
    b.freeze()
}

/// Count of MC_LOBBIES.
pub fn parse_lobby_count(payload: &[u8]) -> Result<u16, ParseError> {
    let mut r = Le::new(payload);
    r.u16("message number")?;
    r.u16("count")
}

/// A list reply with `u16 count, u8 more` and nothing else (arcade cars).
pub fn empty_list(msg_no: u16) -> Bytes {
    let mut b = BytesMut::new();
    b.put_u16_le(msg_no);
    b.put_u16_le(0);
    b.put_u8(0);
    b.freeze()
}

/// MC_PLAYER_RACING_HISTORY [C] with no races (racing is not served).
pub fn racing_history(player: u32) -> Bytes {
    let mut b = BytesMut::new();
    b.put_u16_le(no::MC_PLAYER_RACING_HISTORY);
    b.put_u32_le(player);
    b.put_u16_le(0);
    b.put_u8(0);
    b.freeze()
}

/// Game URLs [C]: u16 count, u8 more, `{u32 id, u16-length string}`.
pub fn game_urls(urls: &[(u32, String)]) -> Bytes {
    let mut b = BytesMut::new();
    b.put_u16_le(no::MC_GAME_URLS);
    b.put_u16_le(u16::try_from(urls.len()).unwrap_or(u16::MAX));
    b.put_u8(0);
    for (id, url) in urls {
        let bytes = encode_latin1(url);
        let n = bytes.len().min(usize::from(u16::MAX));
        b.put_u32_le(*id);
        b.put_u16_le(u16::try_from(n).unwrap_or(u16::MAX));
        b.put_slice(&bytes[..n]);
    }
    b.freeze()
}

/// The tunables record (spec §8.2, 118 known bytes of 124) [C]: the
/// operator's `[motorcity.tunables]` as they are, so the fields and their
/// defaults are written once, in the config.
pub use pitlane_core::config::McoTunables as Tunables;

/// The MC_TUNABLES answer.
pub fn tunables(t: &Tunables) -> Bytes {
    let mut b = BytesMut::new();
    b.put_u16_le(no::MC_TUNABLES);
    for v in [
        t.club_creation_cost,
        t.club_creation_level,
        t.club_officer_level,
        t.inventory_per_level,
        t.cars_per_level,
        t.max_ez_street_level,
        t.club_switch_cooldown,
    ] {
        b.put_u32_le(v);
    }
    b.put_f64_le(t.repair_cost_mod);
    b.put_f64_le(t.scrap_value_mod);
    for v in t.add_cost {
        b.put_u32_le(v);
    }
    b.put_f64_le(t.trade_in_mod);
    for v in [
        t.sim_street_max_wager,
        t.salary_per_level,
        t.club_max_members,
        t.club_reg_cost,
        t.club_re_reg_cost,
        t.classified_ad_rate,
        t.ad_max_duration,
        t.ad_max_size,
        t.ad_max_per_player,
    ] {
        b.put_u32_le(v);
    }
    b.freeze()
}
