//! Capture vectors copied from the shared captures into `fixtures/`, so the
//! tests need nothing outside the repository.

#![allow(dead_code)]

use motorcity::LoginKey;
use serde_json::Value;

pub const LOGIN: &str = include_str!("../fixtures/login.json");
pub const PERSONA: &str = include_str!("../fixtures/persona.json");
pub const LOBBY: &str = include_str!("../fixtures/lobby.json");
pub const MCOTS: &str = include_str!("../fixtures/mcots.json");

pub const KEY_CURRENT: &str = include_str!("../fixtures/keys/test-key-current.pem");
pub const KEY_2019: &str = include_str!("../fixtures/keys/test-key-2019.pem");
pub const PUB_CURRENT: &str = include_str!("../fixtures/keys/test-pub-current.key");
pub const PUB_2019: &str = include_str!("../fixtures/keys/test-pub-2019.key");

pub fn records(file: &str) -> Vec<Value> {
    let doc: Value = serde_json::from_str(file).expect("fixture is JSON");
    doc["records"].as_array().expect("records array").clone()
}

pub fn record(file: &str, id: &str) -> Value {
    records(file)
        .into_iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no record {id}"))
}

pub fn bytes(record: &Value) -> Vec<u8> {
    hex::decode(record["hex"].as_str().expect("hex field")).expect("valid hex")
}

pub fn hex_field(value: &Value) -> Vec<u8> {
    hex::decode(value.as_str().expect("hex string")).expect("valid hex")
}

pub fn int(value: &Value) -> u64 {
    match value {
        Value::Number(n) => n.as_u64().expect("unsigned"),
        Value::String(s) => {
            let s = s.trim_start_matches("0x");
            u64::from_str_radix(s, 16).expect("hex number")
        }
        other => panic!("not a number: {other}"),
    }
}

/// The private key a record names (`keys/test-key-*.pem`).
pub fn key_for(record: &Value) -> LoginKey {
    let file = record["decoded"]["rsa_private_key_file"]
        .as_str()
        .expect("key file named");
    let pem = match file {
        "keys/test-key-current.pem" => KEY_CURRENT,
        "keys/test-key-2019.pem" => KEY_2019,
        other => panic!("unknown key {other}"),
    };
    LoginKey::from_pem(pem).expect("test key parses")
}
