//! Identifiers handed to clients. Anything a client could use to act as
//! someone else comes from the operating system's CSPRNG.

use base64::Engine;
use rand::{rngs::OsRng, Rng, RngCore};
use sha2::{Digest, Sha256};

/// A bearer token with 256 random bits, base64 (standard alphabet, so it
/// never contains `<` or `&` and travels through XML untouched).
pub fn session_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Tokens are stored hashed: a copy of the database does not let anyone
/// replay live sessions.
pub fn token_digest(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Crockford's base-32 alphabet: no I, L, O or U, so ids read aloud or typed
/// by players are not ambiguous.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A random player-facing id of `len` Crockford characters, shaped like the
/// official `UserFacingID` (13 characters of `[0-9A-Z]`).
pub fn user_facing_id(len: usize) -> String {
    let mut rng = OsRng;
    (0..len)
        .map(|_| CROCKFORD[rng.gen_range(0..CROCKFORD.len())] as char)
        .collect()
}

/// 32 random bits from the operating system.
pub fn random_u32() -> u32 {
    OsRng.next_u32()
}

/// `n` random bytes as upper-case hex: GUID-like session ids and race keys.
pub fn upper_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_distinct_and_xml_safe() {
        let a = session_token();
        let b = session_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 44);
        assert!(!a.contains('<') && !a.contains('&'));
    }

    #[test]
    fn digest_is_stable_hex() {
        assert_eq!(
            token_digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn user_facing_ids_use_crockford_letters() {
        let id = user_facing_id(13);
        assert_eq!(id.len(), 13);
        assert!(id.bytes().all(|c| CROCKFORD.contains(&c)));
    }

    #[test]
    fn upper_hex_has_two_digits_per_byte() {
        let key = upper_hex(8);
        assert_eq!(key.len(), 16);
        assert!(key
            .bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()));
    }
}
