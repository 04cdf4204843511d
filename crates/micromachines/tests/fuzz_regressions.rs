//! What the fuzz targets (`fuzz/`, docs/fuzzing.md) run, replayed by plain
//! `cargo test`: every committed seed, and every input that ever crashed a
//! target, through the same entry points (`micromachines::fuzzing`). A
//! crash input is pasted here as bytes when it is fixed, so it can never
//! come back unnoticed, with or without the fuzzer.

use micromachines::fuzzing;

#[path = "../../../fuzz/seed_files.rs"]
mod seed_files;

use seed_files::seeds;

#[test]
fn xml_request_seeds_replay() {
    for (name, data) in seeds("xml_request") {
        eprintln!("xml_request/{name}");
        fuzzing::xml_request(&data);
    }
}

#[test]
fn vdic_seeds_replay() {
    for (name, data) in seeds("vdic") {
        eprintln!("vdic/{name}");
        fuzzing::vdic(&data);
    }
}

#[test]
fn steam_ticket_seeds_replay() {
    for (name, data) in seeds("steam_ticket") {
        eprintln!("steam_ticket/{name}");
        fuzzing::steam_ticket(&data);
    }
}

/// Inputs at the edges the fuzzers kept returning to; none of them ever
/// crashed, but they pin the behaviour down without the fuzzer.
#[test]
fn hostile_edges_are_refused_cleanly() {
    // XML: a DTD with an entity, an undefined entity, deep nesting, a
    // character reference beyond Unicode, an empty body.
    fuzzing::xml_request(b"\0<!DOCTYPE Login [<!ENTITY a \"b\">]><Login>&a;</Login>");
    fuzzing::xml_request(b"\0<Login>&nope;</Login>");
    fuzzing::xml_request(format!("\x02{}", "<GetElite>".repeat(64)).as_bytes());
    fuzzing::xml_request(b"\x08<AddPoints><Points>&#x110000;</Points></AddPoints>");
    fuzzing::xml_request(b"\x05");
    fuzzing::xml_request(b"");
    // vdic: a count far beyond the body, a value length beyond the body.
    fuzzing::vdic(b"vdic\xff\xff\xff\xff");
    fuzzing::vdic(b"vdic\x01\0\0\0\x04Namedstr\xff\xff\xff\x7f");
    // Steam ticket: odd hex, multi-byte UTF-8 where hex should be.
    fuzzing::steam_ticket(b"abc^^^^true");
    fuzzing::steam_ticket("é".repeat(40).as_bytes());
}
