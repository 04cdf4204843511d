//! What the fuzz targets (`fuzz/`, docs/fuzzing.md) run, replayed by plain
//! `cargo test`: every committed seed, and every input that ever crashed a
//! target, through the same entry points (`motorcity::fuzzing`). A crash
//! input is pasted here as bytes when it is fixed, so it can never come
//! back unnoticed, with or without the fuzzer.

use motorcity::fuzzing;

#[path = "../../../fuzz/seed_files.rs"]
mod seed_files;

use seed_files::seeds;

#[test]
fn nps_seeds_replay() {
    for (name, data) in seeds("nps") {
        eprintln!("nps/{name}");
        fuzzing::nps(&data);
    }
}

#[test]
fn lobby_seeds_replay() {
    for (name, data) in seeds("lobby") {
        eprintln!("lobby/{name}");
        fuzzing::lobby(&data);
    }
}

#[test]
fn mcots_seeds_replay() {
    for (name, data) in seeds("mcots") {
        eprintln!("mcots/{name}");
        fuzzing::mcots(&data);
    }
}

#[test]
fn login_rsa_seeds_replay() {
    for (name, data) in seeds("login_rsa") {
        eprintln!("login_rsa/{name}");
        fuzzing::login_rsa(&data);
    }
}

/// Inputs at the edges the fuzzers kept returning to; none of them ever
/// crashed, but they pin the behaviour down without the fuzzer.
#[test]
fn hostile_edges_are_refused_cleanly() {
    // NPS: length below the long header of 0x501, a maximal length, and a
    // 0x501 whose hex claims more than is there.
    fuzzing::nps(&[0, 0x05, 0x01, 0x00, 0x08, 1, 1, 0, 0]);
    fuzzing::nps(&[0, 0x05, 0x01, 0xff, 0xff]);
    fuzzing::nps(&[
        1, 0x05, 0x01, 0x00, 0x12, 1, 1, 0, 0, 0, 0, 0, 0x12, 0, 0, 0, 0, 0xff, 0xff,
    ]);
    // Lobby: an inner length below its header, and ciphertext that is not
    // whole DES blocks after a valid login.
    fuzzing::lobby(&[0, 0, 0x01, 0x28, 0x00, 0x02]);
    fuzzing::lobby(&[0, 1, 0x11, 0x01, 0x00, 0x07, 1, 2, 3]);
    // MCOTS: length below the fixed head, wrong signature, a lone byte.
    fuzzing::mcots(&[0, 0x08, 0x00, b'T', b'O', b'M', b'C']);
    fuzzing::mcots(&[0, 0x0a, 0x00, b'X', b'O', b'M', b'C', 0, 0, 0, 0, 0, 1]);
    fuzzing::mcots(&[0, 0x0a]);
    // RSA: empty, one byte short of the modulus, all ones at full size.
    fuzzing::login_rsa(&[]);
    fuzzing::login_rsa(&[0x55; 127]);
    fuzzing::login_rsa(&[0xff; 128]);
}
