//! The committed seeds of a fuzz target, for the crates' plain-`cargo test`
//! replays (`crates/*/tests/fuzz_regressions.rs` include this file), so
//! every crate reads `fuzz/seeds/<target>` the same way.

use std::path::PathBuf;

/// The seeds of `target` (`fuzz/seeds/<target>`), by file name, in name
/// order; a target without seeds is a mistake, not an empty pass.
pub fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/seeds")
        .join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no seeds for {target}");
    out
}
