//! `LoginService.Login` (spec 8.3): who the caller is, and the answer.
//!
//! The request carries a persona name and a Steam *encrypted* app ticket
//! that only the game's publisher could decrypt, so the call proves
//! nothing by itself. The game sends it right after its MMCOS Login (about
//! 1–2 s later in the capture), from the same machine. We therefore link
//! it to the most recent MMCOS Login that is still live, came from the same
//! client address, and belongs to an account whose current display name is
//! the EgoNet `Name`.
//!
//! Limits of the rule: two players behind one NAT address with the same
//! Steam name are indistinguishable, and the later MMCOS Login wins both
//! EgoNet logins; anyone who can send from a player's address and knows
//! their name gets that player's EgoNet ids. The ids are not secrets (they
//! only label the player), and MMCOS, which holds everything that matters,
//! keeps authenticating by its own token.

use std::net::SocketAddr;

use super::vdic::{Dict, Value, VdicError};

/// Must match how the MMCOS Login cleans `DisplayName` before storing it
/// (`services::account`), or the names would never compare equal.
const MAX_NAME_CHARS: usize = 64;

/// What the login request says, already checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRequest {
    /// The name exactly as sent; the answer echoes it.
    pub name: String,
    /// The name as the MMCOS Login would have stored it.
    pub link_name: String,
    pub ticket_len: Option<usize>,
}

impl LoginRequest {
    pub fn parse(dict: &Dict) -> Result<Self, String> {
        let name = match dict.get("Name") {
            Some(Value::Str(s)) => s.clone(),
            Some(other) => {
                return Err(format!(
                    "Name is a {} value, expected dstr",
                    other.tag().name()
                ))
            }
            None => return Err("the request has no Name".into()),
        };
        let link_name = link_name(&name).ok_or("Name is empty")?;
        let ticket_len = match dict.get("SteamTicket") {
            Some(Value::Blob(b)) => Some(b.len()),
            Some(other) => {
                return Err(format!(
                    "SteamTicket is a {} value, expected blob",
                    other.tag().name()
                ))
            }
            None => None,
        };
        Ok(Self {
            name,
            link_name,
            ticket_len,
        })
    }
}

/// Control characters removed, length capped, trimmed: the same steps, in
/// the same order, as the MMCOS Login's `DisplayName`.
pub fn link_name(name: &str) -> Option<String> {
    let cleaned: String = name
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect();
    let cleaned = cleaned.trim().to_string();
    (!cleaned.is_empty()).then_some(cleaned)
}

/// The client address as both logins record it. An IPv4 client reaching a
/// dual-stack listener shows up as `::ffff:a.b.c.d`; the canonical form
/// keeps it equal to the same client on an IPv4-only listener (the MMCOS
/// and EgoNet hosts may be served by different listeners).
pub fn link_addr(peer: SocketAddr) -> String {
    peer.ip().to_canonical().to_string()
}

/// A player's EgoNet ids. Both are pure functions of the account's
/// `UserID`, so they are the same on every login and on every Pitlane
/// instance sharing a database, and differ between accounts, without a
/// stored column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    /// `PrincipalId` = `UserID`: the official value (37096) was a small
    /// sequential-looking number like the MMCOS `UserID`.
    pub principal_id: i64,
    /// `SteamId` and `AccountRef` (equal in the capture). Not the SteamID64,
    /// which the official server did not send either (spec 8.3).
    pub account_ref: u64,
}

impl Identity {
    pub fn of_user(user_id: i64) -> Self {
        Self {
            principal_id: user_id,
            account_ref: account_ref(user_id),
        }
    }
}

const LOW_63: u64 = (1 << 63) - 1;

/// `UserID` scrambled by a fixed permutation of the 63-bit integers
/// (xor-shifts and multiplications by odd constants, all modulo 2^63, are
/// each invertible). A permutation guarantees distinct accounts get
/// distinct references; 63 bits keep it positive as the `si64` of
/// `AccountRef`; it maps only 0 to 0, so a real account never gets 0; and
/// scrambling keeps it from looking like, or being confused with, the
/// small `PrincipalId`.
///
/// Changing these constants changes every player's EgoNet ids: don't.
pub fn account_ref(user_id: i64) -> u64 {
    let mut x = (user_id as u64) & LOW_63;
    x ^= x >> 31;
    x = x.wrapping_mul(0x7FB5_D329_728E_A185) & LOW_63;
    x ^= x >> 27;
    x = x.wrapping_mul(0x81DA_DEF4_BC2D_D44D) & LOW_63;
    x ^ (x >> 33)
}

/// The answer dictionary in the official key order (spec 8.3).
pub fn answer(identity: Identity, name: &str) -> Result<Dict, VdicError> {
    let mut d = Dict::new();
    d.insert("PrincipalId", Value::I64(identity.principal_id))?;
    d.insert("Name", Value::Str(name.to_string()))?;
    d.insert("XUID", Value::U64(0))?;
    d.insert("SteamId", Value::U64(identity.account_ref))?;
    d.insert("SubjectId", Value::U64(0))?;
    d.insert("OculusId", Value::U64(0))?;
    // The permutation stays below 2^63, so this never wraps.
    d.insert("AccountRef", Value::I64(identity.account_ref as i64))?;
    d.insert("Flags", Value::U64(0))?;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The inverse of [`account_ref`], which exists only because each step
    /// is invertible: proof that distinct accounts never share a reference.
    fn inverse(y: u64) -> u64 {
        fn unshift(y: u64, s: u32) -> u64 {
            let mut x = y;
            for _ in 0..(63 / s + 1) {
                x = y ^ (x >> s);
            }
            x
        }
        fn inv_odd(a: u64) -> u64 {
            // Newton's iteration doubles the correct low bits each time.
            let mut x = a;
            for _ in 0..6 {
                x = x.wrapping_mul(2u64.wrapping_sub(a.wrapping_mul(x)));
            }
            x
        }
        let mut x = unshift(y, 33);
        x = x.wrapping_mul(inv_odd(0x81DA_DEF4_BC2D_D44D)) & LOW_63;
        x = unshift(x, 27);
        x = x.wrapping_mul(inv_odd(0x7FB5_D329_728E_A185)) & LOW_63;
        unshift(x, 31)
    }

    #[test]
    fn references_are_pinned() {
        // Players' ids must not change between releases.
        assert_eq!(account_ref(0), 0);
        assert_eq!(account_ref(1), 5_538_902_807_167_685_135);
        assert_eq!(account_ref(2), 6_672_516_412_413_264_887);
        assert_eq!(account_ref(37096), 3_332_236_955_762_684_120);
    }

    #[test]
    fn small_user_ids_give_distinct_positive_references() {
        let mut seen = std::collections::HashSet::new();
        for id in 1..=100_000i64 {
            let r = account_ref(id);
            assert!(r > 0 && r <= LOW_63, "{id}");
            assert!(seen.insert(r), "{id}");
        }
    }

    proptest! {
        #[test]
        fn the_reference_is_a_permutation(id in 1i64..) {
            let r = account_ref(id);
            prop_assert!(r <= LOW_63);
            prop_assert_eq!(inverse(r), id as u64);
        }

        #[test]
        fn link_name_never_panics(name in ".{0,200}") {
            if let Some(n) = link_name(&name) {
                prop_assert!(n.chars().count() <= MAX_NAME_CHARS);
                prop_assert!(!n.is_empty());
            }
        }
    }

    #[test]
    fn names_are_cleaned_like_the_mmcos_login() {
        assert_eq!(link_name("  Heatray \r\n"), Some("Heatray".into()));
        assert_eq!(link_name("\u{0}\u{7}"), None);
        assert_eq!(link_name(&"x".repeat(100)).map(|n| n.len()), Some(64));
        assert_eq!(link_name("Łukasz™"), Some("Łukasz™".into()));
    }

    #[test]
    fn mapped_ipv4_addresses_compare_equal() {
        let v4: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:6000".parse().unwrap();
        let v6: SocketAddr = "[::1]:6000".parse().unwrap();
        assert_eq!(link_addr(v4), "127.0.0.1");
        assert_eq!(link_addr(mapped), "127.0.0.1");
        assert_eq!(link_addr(v6), "::1");
    }

    #[test]
    fn requests_need_a_named_dstr() {
        let mut d = Dict::new();
        assert!(LoginRequest::parse(&d).is_err());
        d.insert("Name", Value::Blob(b"Heatray".to_vec())).unwrap();
        assert!(LoginRequest::parse(&d).unwrap_err().contains("blob"));
        let mut d = Dict::new();
        d.insert("Name", Value::Str(" \r".into())).unwrap();
        assert!(LoginRequest::parse(&d).is_err());
        let mut d = Dict::new();
        d.insert("Name", Value::Str("Vlad Noob".into())).unwrap();
        d.insert("SteamTicket", Value::Blob(vec![0; 126])).unwrap();
        assert_eq!(
            LoginRequest::parse(&d),
            Ok(LoginRequest {
                name: "Vlad Noob".into(),
                link_name: "Vlad Noob".into(),
                ticket_len: Some(126),
            })
        );
    }
}
