//! The per-request work of the Micro Machines services that does not touch
//! the database: reading XML requests, writing the Login answer (the big
//! one: the whole game configuration), the EgoNet dictionary codec and the
//! Steam ticket.
//!
//! `cargo bench -p micromachines --bench hot_paths`

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use micromachines::contracts::{GameInfo, LoginDetails, ScoreInfo, SeasonInfo};
use micromachines::egonet::vdic::{Dict, Value};
use micromachines::game_config::{GameConfig, GameConfiguration};
use micromachines::xml::{Element, ParseLimits, XmlWriter};
use pitlane_core::config::MicroMachinesSettings;

fn ticket_hex() -> String {
    let mut t = Vec::with_capacity(234);
    t.extend_from_slice(&20u32.to_le_bytes());
    t.extend_from_slice(&[0xAE, 0x00, 0x0F, 0x6C, 0x42, 0xA8, 0xB5, 0x4E]);
    t.extend_from_slice(&76_561_198_081_105_540u64.to_le_bytes());
    t.extend_from_slice(&0x6558_DAD0u32.to_le_bytes());
    t.extend_from_slice(&24u32.to_le_bytes());
    t.resize(52, 0);
    t.extend_from_slice(&178u32.to_le_bytes());
    t.resize(234, 0);
    let hex: String = t.iter().map(|b| format!("{b:02x}")).collect();
    format!("{hex}^^^^true")
}

fn login_body() -> String {
    format!(
        "<Login>\r\n  <ProtocolVersion>1</ProtocolVersion>\r\n  <PlatformType>Steam</PlatformType>\r\n  \
         <PlatformID>{}</PlatformID>\r\n  <DisplayName>Heatray</DisplayName>\r\n  \
         <DefaultTitle>lng_player_title_default</DefaultTitle>\r\n  <ExtraSeason>45</ExtraSeason>\r\n</Login>",
        ticket_hex()
    )
}

fn friends_body(n: usize) -> String {
    let mut body =
        String::from("<GetFriends>\r\n  <SessionToken>abc</SessionToken>\r\n  <PlatformIds>");
    for i in 0..n {
        body.push_str(&format!(
            "\r\n    <PlatformIdEntry>\r\n      <PlatformId>{}</PlatformId>\r\n    </PlatformIdEntry>",
            76_561_198_000_000_000u64 + i as u64
        ));
    }
    body.push_str("\r\n  </PlatformIds>\r\n  <MaxEntries>100</MaxEntries>\r\n</GetFriends>");
    body
}

fn xml(c: &mut Criterion) {
    let login = login_body();
    let friends = friends_body(155);
    let limits = ParseLimits::default();
    c.bench_function("xml/parse Login request", |b| {
        b.iter(|| Element::parse_root(black_box(login.as_bytes()), "Login", limits))
    });
    c.bench_function("xml/parse GetFriends with 155 friends", |b| {
        b.iter(|| Element::parse_root(black_box(friends.as_bytes()), "GetFriends", limits))
    });
    c.bench_function("steam ticket/steam id from PlatformID", |b| {
        let hex = ticket_hex();
        b.iter(|| micromachines::steam_ticket::steam_id_from_platform_id(black_box(&hex)))
    });
}

fn login_response(c: &mut Criterion) {
    let settings = MicroMachinesSettings::default();
    let configuration = GameConfiguration::new(
        GameConfig::builtin(),
        settings.seasons.clone(),
        settings.events.clone(),
    );
    let now = Utc.with_ymd_and_hms(2023, 11, 18, 19, 45, 21).unwrap();
    let game_info = GameInfo {
        score: ScoreInfo {
            current_season_id: 45,
            division: 3,
            player_season_id: 45,
            points: 1234,
            rank: 17,
            untrusted_level: 10,
            untrusted_prestige: 1,
        },
        season: SeasonInfo {
            bonus_points: 0,
            display_offset: 0,
            is_season_active: true,
            new_season_id: 45,
            old_season_id: 45,
        },
    };
    c.bench_function("login/game configuration at now (cached)", |b| {
        b.iter(|| configuration.at(black_box(now)))
    });
    let config = configuration.at(now);
    c.bench_function("login/write LoginDetails document", |b| {
        b.iter(|| {
            let details = LoginDetails {
                config: &config,
                game_info: game_info.clone(),
                platform_id: 76_561_198_081_105_540,
                session_token: "0123456789abcdef0123456789abcdef",
                user_facing_id: "HEATRAY#1234",
                user_id: 42,
            };
            XmlWriter::document("LoginDetails", black_box(&details))
        })
    });
}

fn vdic(c: &mut Criterion) {
    let mut dict = Dict::new();
    dict.insert("method", Value::Str("Login".into())).unwrap();
    dict.insert("name", Value::Str("Heatray".into())).unwrap();
    dict.insert("ticket", Value::Blob(vec![0xAB; 240])).unwrap();
    dict.insert("userId", Value::U64(76_561_198_081_105_540))
        .unwrap();
    dict.insert("version", Value::I64(1)).unwrap();
    let bytes = dict.encode();
    c.bench_function("vdic/encode login call", |b| {
        b.iter(|| black_box(&dict).encode())
    });
    c.bench_function("vdic/decode login call", |b| {
        b.iter(|| Dict::decode(black_box(&bytes)))
    });
}

criterion_group!(benches, xml, login_response, vdic);
criterion_main!(benches);
