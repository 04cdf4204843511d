//! Entry points for the fuzz targets in `fuzz/` and for the regression
//! tests that replay what they found.
//!
//! Each function runs arbitrary bytes through the parsers the service runs
//! on a request body, in the same order, and checks the invariants the
//! codecs promise. A panic here is a bug. Living in the crate, not in
//! `fuzz/`, lets plain `cargo test` replay every crash input without the
//! fuzzer. The store-backed part of each operation is left out: what
//! reaches it has already been parsed and checked here.

use pitlane_core::ids;

use crate::egonet::login::LoginRequest as EgoNetLogin;
use crate::egonet::vdic::Dict;
use crate::http::Operation;
use crate::services::account::LoginRequest;
use crate::services::matchmaking::{parse_platform_ids, parse_search};
use crate::steam_ticket::steam_id_from_platform_id;
use crate::xml::{Element, ParseLimits};

/// The XML operations, in the order a fuzz input's first byte picks them.
const XML_OPERATIONS: &[Operation] = &[
    Operation::Login,
    Operation::UpdateAccountTitle,
    Operation::GetElite,
    Operation::GetFriends,
    Operation::GetEliteRank,
    Operation::EnterMatchmaking2,
    Operation::CancelMatchmaking,
    Operation::RegisterActiveGameWithPlayers,
    Operation::AddPoints,
];

/// An XML request body as `MicroMachines::handle` reads it: the first byte
/// picks the operation, the rest is the body, parsed against the
/// operation's root element with the default limits and then read field by
/// field as that operation's handler reads it.
pub fn xml_request(data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let op = XML_OPERATIONS[usize::from(pick) % XML_OPERATIONS.len()];
    let Ok(e) = Element::parse_root(body, op.request_root(), ParseLimits::default()) else {
        return;
    };
    read_fields(op, &e);
}

/// The field reads of each operation's handler, up to its first store call.
fn read_fields(op: Operation, e: &Element) {
    if op == Operation::Login {
        let _ = LoginRequest::parse(e);
        return;
    }
    if let Ok(token) = e.required("SessionToken") {
        let _ = ids::token_digest(token);
    }
    match op {
        Operation::UpdateAccountTitle => {
            let _ = e.required("Title");
        }
        Operation::GetElite => {
            let _ = e.required_i64("StartRank");
            let _ = e.required_i64("NumResults");
        }
        Operation::GetEliteRank => {
            let _ = e.required_i64("NumResults");
        }
        Operation::GetFriends => {
            if let Some(list) = e.child("PlatformIds") {
                for item in list.children_named("PlatformIdEntry") {
                    let _ = item.required_u64("PlatformId");
                }
            }
            let _ = e.required_i64("MaxEntries");
        }
        Operation::EnterMatchmaking2 => {
            let _ = parse_search(e);
        }
        Operation::CancelMatchmaking => {
            let _ = e.required_u64("GroupLobbyId");
        }
        Operation::RegisterActiveGameWithPlayers => {
            let _ = e.required("RaceKey");
            let ids = parse_platform_ids(e.optional("PlatformIDs").unwrap_or_default());
            assert!(ids.len() <= 16, "PlatformIDs are capped");
            let _ = e
                .optional("SecondsItTookToMatchmake")
                .and_then(|v| v.parse::<i64>().ok());
            let _ = e
                .optional("NetworkVersion")
                .and_then(|v| v.parse::<i64>().ok());
        }
        Operation::AddPoints => {
            let _ = e.required("RaceKey");
            let _ = e.required_i64("Points");
            let _ = e.optional("Level").and_then(|v| v.parse::<i64>().ok());
            let _ = e.optional("Prestige").and_then(|v| v.parse::<i64>().ok());
        }
        _ => {}
    }
    // Every accessor on every element must fail cleanly, whatever it holds.
    visit(e, &mut |el| {
        for child in &el.children {
            let _ = el.required_i64(&child.name);
            let _ = el.required_u64(&child.name);
            let _ = el.required_bool(&child.name);
        }
    });
}

fn visit(e: &Element, f: &mut dyn FnMut(&Element)) {
    f(e);
    for child in &e.children {
        visit(child, f);
    }
}

/// An EgoNet body: the `vdic` decoder, the invariant that whatever decodes
/// re-encodes to the same bytes, the log form, and the login request.
pub fn vdic(data: &[u8]) {
    let Ok(dict) = Dict::decode(data) else {
        return;
    };
    assert_eq!(
        dict.encode(),
        data,
        "a decoded vdic re-encodes to its bytes"
    );
    assert_eq!(dict.encoded_len(), data.len());
    let _ = dict.to_string();
    let _ = EgoNetLogin::parse(&dict);
}

/// A Login's `PlatformID` text (a hex Steam ticket and `^^^^true`).
pub fn steam_ticket(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(id) = steam_id_from_platform_id(&text) {
        assert_eq!(id >> 56, 1, "only public-universe ids are accepted");
    }
}
