//! The recorded EgoNet bodies of session3 against the codec: each decodes to
//! the fields the capture notes list, re-encodes byte for byte, and our
//! login answer built from the recorded values is the recorded answer.

use serde_json::Value as Json;

use super::login::{answer, Identity};
use super::vdic::{Dict, Value};

const FLOWS: &[&str] = &[
    "03-EgoNet-LoginService.Login",
    "16-EgoNet-LoginService.Login",
    "20-EgoNet-LoginService.Login",
    "28-EgoNet-LoginService.Login",
];

fn fixture(flow: &str, file: &str) -> Option<Vec<u8>> {
    let path = format!(
        "{}/tests/fixtures/session3/{flow}/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(path).ok()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks one decoded body against the capture's `derived` list of
/// `{key, type, value, value_bytes_hex}`.
fn assert_matches_record(dict: &Dict, record: &Json, label: &str) {
    let record = record.as_array().expect("derived list");
    assert_eq!(dict.len(), record.len(), "{label}: entry count");
    for ((key, value), field) in dict.iter().zip(record) {
        assert_eq!(key, field["key"].as_str().unwrap(), "{label}: key order");
        assert_eq!(
            value.tag().name(),
            field["type"].as_str().unwrap(),
            "{label}: {key}"
        );
        let mut bytes = Vec::new();
        value.encode_into(&mut bytes);
        assert_eq!(
            hex(&bytes),
            field["value_bytes_hex"].as_str().unwrap(),
            "{label}: {key}"
        );
        let recorded = &field["value"];
        match value {
            Value::Str(s) => assert_eq!(Some(s.as_str()), recorded.as_str(), "{label}: {key}"),
            Value::Blob(b) => {
                assert_eq!(Some(hex(b).as_str()), recorded.as_str(), "{label}: {key}")
            }
            Value::I64(v) => assert_eq!(Some(*v), recorded.as_i64(), "{label}: {key}"),
            Value::U64(v) => assert_eq!(Some(*v), recorded.as_u64(), "{label}: {key}"),
        }
    }
}

#[test]
fn captured_bodies_decode_to_the_recorded_fields_and_re_encode_exactly() {
    let mut responses = 0;
    for flow in FLOWS {
        let meta: Json =
            serde_json::from_slice(&fixture(flow, "meta.json").expect("meta.json")).unwrap();
        let derived = &meta["derived"];
        let request = fixture(flow, "request.bin").expect("request.bin");
        let dict = Dict::decode(&request).unwrap_or_else(|e| panic!("{flow} request: {e}"));
        assert_matches_record(&dict, &derived["egonet_request_decoded"], flow);
        assert_eq!(dict.encode(), request, "{flow}: request re-encodes");
        assert_eq!(dict.keys().collect::<Vec<_>>(), ["Name", "SteamTicket"]);
        assert_eq!(dict.str("Name"), Some("Heatray"));
        assert_eq!(dict.blob("SteamTicket").map(<[u8]>::len), Some(126));

        if let Some(response) = fixture(flow, "response.bin") {
            responses += 1;
            let dict = Dict::decode(&response).unwrap_or_else(|e| panic!("{flow} response: {e}"));
            assert_matches_record(&dict, &derived["egonet_response_decoded"], flow);
            assert_eq!(dict.encode(), response, "{flow}: response re-encodes");
        }
    }
    assert_eq!(responses, 2, "flows 16 and 28 have answers");
}

#[test]
fn our_login_answer_from_the_recorded_values_is_the_recorded_answer() {
    let recorded = fixture("16-EgoNet-LoginService.Login", "response.bin").unwrap();
    let identity = Identity {
        principal_id: 37096,
        account_ref: 230_373_945_491_008_152,
    };
    let ours = answer(identity, "Heatray").unwrap().encode();
    assert_eq!(ours, recorded);
}
