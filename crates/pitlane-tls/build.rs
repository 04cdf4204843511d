//! Empty on purpose: it exists so that the `openssl-src` build-dependency in
//! Cargo.toml (which only selects OpenSSL build options) is legal.
fn main() {}
