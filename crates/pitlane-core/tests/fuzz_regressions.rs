//! What the `http_head` fuzz target (`fuzz/`, docs/fuzzing.md) runs,
//! replayed by plain `cargo test`: every committed seed through the same
//! entry point (`pitlane_core::http1::fuzz`).

use pitlane_core::http1;

#[path = "../../../fuzz/seed_files.rs"]
mod seed_files;

use seed_files::seeds;

#[test]
fn http_head_seeds_replay() {
    let all = seeds("http_head");
    assert!(all.len() >= 5, "the committed seeds are missing");
    for (name, data) in all {
        eprintln!("http_head/{name}");
        http1::fuzz(&data);
    }
}

/// Edges: nothing at all, a limit byte alone, a head cut at every byte.
#[test]
fn http_head_edges() {
    http1::fuzz(&[]);
    http1::fuzz(&[0]);
    let head = b"\x00POST /a HTTP/1.1\r\nContent-Length: 2\r\n\r\nok";
    for end in 0..=head.len() {
        http1::fuzz(&head[..end]);
    }
}
